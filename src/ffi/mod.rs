//! The C ABI. Conventions (DESIGN section 5):
//!
//! - Every symbol starts with `confkit_`; functions are `confkit_<noun>_<verb>`,
//!   object first, inputs next, out-parameters (`*_out`) last.
//! - Objects are opaque pointers, each with a `_free` that accepts NULL.
//! - Fallible functions return a `confkit_status` (0 = OK) and write their
//!   outputs only on success; `error_out`, when not NULL, receives a
//!   `confkit_error` (code + message) on failure and is left untouched on success.
//! - Strings in are pointer + length, UTF-8 checked; a NULL pointer with length
//!   0 is the empty string. Strings out are either `confkit_buffer`s (free with
//!   `confkit_buffer_free`) or `const char *` borrowed from the object they came
//!   from (valid until that object is freed).
//! - No panic crosses the boundary: every entry point runs inside `guard` (or
//!   one of its siblings), which turns a panic into `CONFKIT_STATUS_PANIC`.
//! - Thread safety: every object may be used from several threads at once,
//!   except that an object must not be freed while another thread uses it.
//!
//! The core never knows about this module: it only converts and calls.

#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]

pub mod client;
pub mod clock;
#[cfg(feature = "authority")]
pub mod conference;
pub mod names;
#[cfg(feature = "authority")]
pub mod platform;
pub mod requests;
#[cfg(feature = "authority")]
pub mod session;
pub mod token;

use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicI64, Ordering};

use crate::error::ErrorCode;

/// A status code: 0 is OK; the `CONFKIT_STATUS_*` constants name the others.
/// Values are stable and never reused.
pub type confkit_status = i32;

/// Success.
pub const CONFKIT_STATUS_OK: confkit_status = 0;
/// A required pointer argument was NULL.
pub const CONFKIT_STATUS_NULL_ARGUMENT: confkit_status = 1;
/// A string argument was not valid UTF-8.
pub const CONFKIT_STATUS_INVALID_UTF8: confkit_status = 2;
/// An argument was invalid (ID, alias, JSON, option...).
pub const CONFKIT_STATUS_INVALID_ARGUMENT: confkit_status = 3;
/// A permission name is unknown.
pub const CONFKIT_STATUS_UNKNOWN_PERMISSION: confkit_status = 4;
/// A token is malformed, badly signed, for another user, or missing.
pub const CONFKIT_STATUS_TOKEN_INVALID: confkit_status = 5;
/// A token expired or is not yet valid (beyond the leeway).
pub const CONFKIT_STATUS_TOKEN_EXPIRED: confkit_status = 6;
/// A token was revoked.
pub const CONFKIT_STATUS_TOKEN_REVOKED: confkit_status = 7;
/// A token is for another conference.
pub const CONFKIT_STATUS_TOKEN_WRONG_CONFERENCE: confkit_status = 8;
/// The caller lacks a permission or would grant one it does not hold.
pub const CONFKIT_STATUS_NOT_ALLOWED: confkit_status = 9;
/// The caller must join the conference first.
pub const CONFKIT_STATUS_NOT_IN_CONFERENCE: confkit_status = 10;
/// The conference is unknown or destroyed.
pub const CONFKIT_STATUS_CONFERENCE_NOT_FOUND: confkit_status = 11;
/// The conference is full.
pub const CONFKIT_STATUS_AT_MAX_CAPACITY: confkit_status = 12;
/// The participant's status does not allow this.
pub const CONFKIT_STATUS_INVALID_TRANSITION: confkit_status = 13;
/// The session is unknown or closed.
pub const CONFKIT_STATUS_SESSION_NOT_FOUND: confkit_status = 14;
/// No such participant.
pub const CONFKIT_STATUS_PARTICIPANT_NOT_FOUND: confkit_status = 15;
/// A key, key id or JWK set is invalid.
pub const CONFKIT_STATUS_KEY_INVALID: confkit_status = 16;
/// An input is larger than its cap.
pub const CONFKIT_STATUS_TOO_LARGE: confkit_status = 17;
/// The object was closed (used by wrappers for use after close).
pub const CONFKIT_STATUS_CLOSED: confkit_status = 18;
/// The alias names a live conference this request may not take over.
pub const CONFKIT_STATUS_ALIAS_TAKEN: confkit_status = 19;
/// The platform's store could not make the operation durable: nothing
/// changed and nothing was sent; try again.
pub const CONFKIT_STATUS_STORE_UNAVAILABLE: confkit_status = 20;
/// A panic was caught at the boundary: a bug in confkit, please report it.
pub const CONFKIT_STATUS_PANIC: confkit_status = 99;

/// The library's major version.
pub const CONFKIT_VERSION_MAJOR: u32 = 0;
/// The library's minor version.
pub const CONFKIT_VERSION_MINOR: u32 = 1;
/// The library's patch version.
pub const CONFKIT_VERSION_PATCH: u32 = 0;
/// The C ABI's version: bumped on every change of this header a wrapper must
/// know about (3: the device half, `confkit_client_*`, and the session's wire
/// messages; 4: `confkit_verifier_verify_batch`). Wrappers compare it with
/// `confkit_abi_version()` when they load.
pub const CONFKIT_ABI_VERSION: u32 = 4;

/// Bytes owned by confkit, handed to the caller: free with `confkit_buffer_free`.
/// Text buffers hold UTF-8 without a terminating NUL.
#[repr(C)]
pub struct confkit_buffer {
    /// The bytes (NULL when `len` is 0).
    pub data: *mut u8,
    /// How many bytes.
    pub len: usize,
}

/// An error: a stable code and a message. Free with `confkit_error_free`.
pub struct confkit_error {
    code: confkit_status,
    message: CString,
}

static LIVE_OBJECTS: AtomicI64 = AtomicI64::new(0);

/// Moves a value to the heap for the caller, counting it as live.
pub(crate) fn into_raw<T>(value: T) -> *mut T {
    LIVE_OBJECTS.fetch_add(1, Ordering::Relaxed);
    Box::into_raw(Box::new(value))
}

/// Takes back and drops a value made by [`into_raw`]; NULL is ignored.
///
/// # Safety
/// `p` is NULL or came from `into_raw::<T>` and was not freed before.
pub(crate) unsafe fn free_raw<T>(p: *mut T) {
    if !p.is_null() {
        LIVE_OBJECTS.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: the caller guarantees `p` came from `Box::into_raw` and is freed once.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// A failure inside an entry point, before it becomes a status and an error object.
#[derive(Debug)]
pub(crate) struct FfiError {
    pub code: ErrorCode,
    pub message: String,
}

impl FfiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        FfiError {
            code,
            message: message.into(),
        }
    }

    pub fn null(name: &str) -> Self {
        Self::new(ErrorCode::NullArgument, format!("{name} must not be NULL"))
    }
}

macro_rules! from_error {
    ($($t:ty => |$e:ident| $code:expr),* $(,)?) => {$(
        impl From<$t> for FfiError {
            fn from($e: $t) -> Self {
                FfiError::new($code, $e.to_string())
            }
        }
    )*};
}

#[cfg(feature = "authority")]
from_error! {
    crate::platform::PlatformError => |e| e.code(),
    crate::store::StoreError => |_e| ErrorCode::StoreUnavailable,
}

from_error! {
    crate::token::TokenError => |e| e.code(),
    crate::token::KeyError => |_e| ErrorCode::KeyInvalid,
    crate::identity::IdentityError => |_e| ErrorCode::InvalidArgument,
    crate::permissions::UnknownPermission => |_e| ErrorCode::UnknownPermission,
    crate::lifecycle::UnknownStatus => |_e| ErrorCode::InvalidArgument,
}

pub(crate) type FfiResult<T = ()> = Result<T, FfiError>;

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

/// Writes an error object to `error_out` when it is not NULL.
fn report(error_out: *mut *mut confkit_error, code: ErrorCode, message: String) {
    if error_out.is_null() {
        return;
    }
    let message = CString::new(message.replace('\0', "\u{fffd}")).unwrap_or_default();
    let err = into_raw(confkit_error {
        code: code.value(),
        message,
    });
    // SAFETY: checked non-NULL; the caller provides a writable pointer slot.
    unsafe { error_out.write(err) };
}

/// The panic boundary of every fallible entry point: runs `f`, returns its
/// status, and turns an error or a panic into a status plus an optional
/// error object.
pub(crate) fn guard(
    error_out: *mut *mut confkit_error,
    f: impl FnOnce() -> FfiResult,
) -> confkit_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => CONFKIT_STATUS_OK,
        Ok(Err(e)) => {
            let code = e.code.value();
            // Building the error object allocates; never let that unwind either.
            let _ = catch_unwind(AssertUnwindSafe(|| report(error_out, e.code, e.message)));
            code
        }
        Err(payload) => {
            let msg = format!("panic in confkit: {}", panic_message(payload.as_ref()));
            let _ = catch_unwind(AssertUnwindSafe(|| {
                report(error_out, ErrorCode::Panic, msg)
            }));
            CONFKIT_STATUS_PANIC
        }
    }
}

/// The panic boundary of infallible entry points (getters, `_free`): a panic
/// yields `fallback`.
pub(crate) fn guard_or<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// A pointer argument that must not be NULL (an array's start), or a
/// NULL_ARGUMENT error.
pub(crate) fn arg_ptr<T>(p: *const T, name: &str) -> FfiResult<*const T> {
    if p.is_null() {
        Err(FfiError::null(name))
    } else {
        Ok(p)
    }
}

/// A shared reference from a pointer argument, or a NULL_ARGUMENT error.
///
/// # Safety
/// `p` is NULL or points to a live `T` for `'a`.
pub(crate) unsafe fn arg_ref<'a, T>(p: *const T, name: &str) -> FfiResult<&'a T> {
    // SAFETY: the caller guarantees `p` is NULL or valid.
    unsafe { p.as_ref() }.ok_or_else(|| FfiError::null(name))
}

/// Checks that an out-parameter is not NULL.
pub(crate) fn arg_out<T>(p: *mut T, name: &str) -> FfiResult<*mut T> {
    if p.is_null() {
        Err(FfiError::null(name))
    } else {
        Ok(p)
    }
}

/// A byte slice from pointer + length; NULL with length 0 is empty.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes for `'a`.
pub(crate) unsafe fn arg_bytes<'a>(p: *const u8, len: usize, name: &str) -> FfiResult<&'a [u8]> {
    if p.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(FfiError::null(name))
        };
    }
    if len > isize::MAX as usize {
        return Err(FfiError::new(
            ErrorCode::TooLarge,
            format!("{name} is too long"),
        ));
    }
    // SAFETY: the caller guarantees `len` readable bytes at `p`.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A UTF-8 string from pointer + length; NULL with length 0 is empty.
///
/// # Safety
/// As [`arg_bytes`].
pub(crate) unsafe fn arg_str<'a>(p: *const u8, len: usize, name: &str) -> FfiResult<&'a str> {
    // SAFETY: forwarded from the caller.
    let bytes = unsafe { arg_bytes(p, len, name) }?;
    utf8(bytes, name)
}

/// `bytes` as text, or the INVALID_UTF8 error naming the argument `name`.
pub(crate) fn utf8<'a>(bytes: &'a [u8], name: &str) -> FfiResult<&'a str> {
    // Most arguments (tokens, IDs, names) are ASCII, which `is_ascii` checks
    // a word at a time, faster than `from_utf8`'s general walk (about 15 of
    // the 95 ns the C ABI added to a cached verify, in benches/ffi.rs).
    if bytes.is_ascii() {
        // SAFETY: ASCII bytes are valid UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes)
        .map_err(|e| FfiError::new(ErrorCode::InvalidUtf8, format!("{name} is not UTF-8: {e}")))
}

/// An optional UTF-8 string: NULL (whatever the length) is `None`.
///
/// # Safety
/// As [`arg_bytes`].
pub(crate) unsafe fn arg_opt_str<'a>(
    p: *const u8,
    len: usize,
    name: &str,
) -> FfiResult<Option<&'a str>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded from the caller.
    unsafe { arg_str(p, len, name) }.map(Some)
}

/// Hands bytes to the caller as a buffer.
pub(crate) fn buffer_from(bytes: Vec<u8>) -> confkit_buffer {
    if bytes.is_empty() {
        return confkit_buffer {
            data: std::ptr::null_mut(),
            len: 0,
        };
    }
    let boxed = bytes.into_boxed_slice();
    let len = boxed.len();
    LIVE_OBJECTS.fetch_add(1, Ordering::Relaxed);
    confkit_buffer {
        data: Box::into_raw(boxed).cast::<u8>(),
        len,
    }
}

/// Writes `value` through an out-pointer already checked by [`arg_out`].
pub(crate) fn write_out<T>(out: *mut T, value: T) {
    // SAFETY: `out` was checked non-NULL by `arg_out`; the caller owns the slot.
    unsafe { out.write(value) };
}

/// A NUL-terminated copy of `s` (NULs replaced) for `const char *` getters.
pub(crate) fn c_string(s: &str) -> CString {
    owned_c_string(s.to_owned())
}

/// As [`c_string`], reusing the string's buffer.
pub(crate) fn owned_c_string(s: String) -> CString {
    CString::new(s).unwrap_or_else(|e| {
        let text = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\u{fffd}");
        CString::new(text).unwrap_or_default()
    })
}

/// The library's name and version, e.g. "confkit 0.1.0". Static; never NULL.
#[no_mangle]
pub extern "C" fn confkit_version() -> *const c_char {
    guard_or(c"confkit".as_ptr(), || {
        concat!("confkit ", env!("CARGO_PKG_VERSION"), "\0")
            .as_ptr()
            .cast()
    })
}

/// The C ABI version (`CONFKIT_ABI_VERSION` of the library actually loaded).
/// Wrappers refuse to run when it differs from the header they were built with.
#[no_mangle]
pub extern "C" fn confkit_abi_version() -> u32 {
    guard_or(0, || CONFKIT_ABI_VERSION)
}

/// The stable name of a status, e.g. "CONFERENCE_NOT_FOUND". Any value is
/// accepted: unknown values give "UNKNOWN". Static; never NULL.
#[no_mangle]
pub extern "C" fn confkit_status_name(status: confkit_status) -> *const c_char {
    guard_or(c"UNKNOWN".as_ptr(), || {
        names::static_c_str(ErrorCode::from_value(status).map_or("UNKNOWN", ErrorCode::name))
    })
}

/// The error's status code. NULL gives `CONFKIT_STATUS_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn confkit_error_code(error: *const confkit_error) -> confkit_status {
    guard_or(CONFKIT_STATUS_PANIC, || {
        // SAFETY: the caller passes NULL or a live error.
        unsafe { error.as_ref() }.map_or(CONFKIT_STATUS_NULL_ARGUMENT, |e| e.code)
    })
}

/// The error's message (UTF-8, NUL-terminated), valid until the error is
/// freed. NULL gives an empty string.
#[no_mangle]
pub unsafe extern "C" fn confkit_error_message(error: *const confkit_error) -> *const c_char {
    guard_or(c"".as_ptr(), || {
        // SAFETY: the caller passes NULL or a live error.
        unsafe { error.as_ref() }.map_or(c"".as_ptr(), |e| e.message.as_ptr())
    })
}

/// Frees an error. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn confkit_error_free(error: *mut confkit_error) {
    guard_or((), || {
        // SAFETY: the caller passes NULL or an error from confkit, once.
        unsafe { free_raw(error) }
    })
}

/// Frees a buffer's bytes. An empty buffer (NULL data) is accepted.
#[no_mangle]
pub unsafe extern "C" fn confkit_buffer_free(buffer: confkit_buffer) {
    guard_or((), || {
        if buffer.data.is_null() {
            return;
        }
        LIVE_OBJECTS.fetch_sub(1, Ordering::Relaxed);
        let slice = std::ptr::slice_from_raw_parts_mut(buffer.data, buffer.len);
        // SAFETY: the caller passes a buffer confkit made, once; it was a boxed slice.
        drop(unsafe { Box::from_raw(slice) });
    })
}

/// How many confkit objects and buffers are currently allocated and not yet
/// freed. For leak tests in wrappers; counts across all threads.
#[no_mangle]
pub extern "C" fn confkit_live_objects() -> i64 {
    guard_or(-1, || LIVE_OBJECTS.load(Ordering::Relaxed))
}

/// Test support: panics inside the panic guard, to prove that no panic
/// crosses the boundary. Always returns `CONFKIT_STATUS_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn confkit_test_panic(error_out: *mut *mut confkit_error) -> confkit_status {
    guard(error_out, || panic!("confkit_test_panic called"))
}

#[cfg(test)]
mod tests {
    use super::names::*;
    use super::session::*;
    use super::*;
    use crate::lifecycle::ParticipantStatus;
    use crate::permissions::PermissionSet;

    #[test]
    fn string_arguments_take_ascii_and_utf8_and_refuse_the_rest() {
        let read = |b: &[u8]| unsafe { arg_str(b.as_ptr(), b.len(), "name") }.map(str::to_owned);
        assert_eq!(read(b"eyJhbGciOi.x-_y").unwrap(), "eyJhbGciOi.x-_y");
        assert_eq!(
            read("caf\u{e9} \u{1f600}".as_bytes()).unwrap(),
            "caf\u{e9} \u{1f600}"
        );
        assert_eq!(read(b"").unwrap(), "");
        for bad in [&b"ok\xff"[..], b"\xc3", b"\xed\xa0\x80", b"abc\x80def"] {
            let e = read(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidUtf8, "{bad:?}");
            assert!(e.message.contains("name is not UTF-8"), "{}", e.message);
        }
        // NULL with length 0 is the empty string; NULL with a length is refused.
        assert_eq!(unsafe { arg_str(std::ptr::null(), 0, "name") }.unwrap(), "");
        assert_eq!(
            unsafe { arg_str(std::ptr::null(), 3, "name") }
                .unwrap_err()
                .code,
            ErrorCode::NullArgument
        );
    }

    #[test]
    fn header_constants_match_the_core() {
        let statuses = [
            CONFKIT_STATUS_OK,
            CONFKIT_STATUS_NULL_ARGUMENT,
            CONFKIT_STATUS_INVALID_UTF8,
            CONFKIT_STATUS_INVALID_ARGUMENT,
            CONFKIT_STATUS_UNKNOWN_PERMISSION,
            CONFKIT_STATUS_TOKEN_INVALID,
            CONFKIT_STATUS_TOKEN_EXPIRED,
            CONFKIT_STATUS_TOKEN_REVOKED,
            CONFKIT_STATUS_TOKEN_WRONG_CONFERENCE,
            CONFKIT_STATUS_NOT_ALLOWED,
            CONFKIT_STATUS_NOT_IN_CONFERENCE,
            CONFKIT_STATUS_CONFERENCE_NOT_FOUND,
            CONFKIT_STATUS_AT_MAX_CAPACITY,
            CONFKIT_STATUS_INVALID_TRANSITION,
            CONFKIT_STATUS_SESSION_NOT_FOUND,
            CONFKIT_STATUS_PARTICIPANT_NOT_FOUND,
            CONFKIT_STATUS_KEY_INVALID,
            CONFKIT_STATUS_TOO_LARGE,
            CONFKIT_STATUS_CLOSED,
            CONFKIT_STATUS_ALIAS_TAKEN,
            CONFKIT_STATUS_STORE_UNAVAILABLE,
            CONFKIT_STATUS_PANIC,
        ];
        let core: Vec<i32> = ErrorCode::ALL.iter().map(|c| c.value()).collect();
        assert_eq!(statuses.to_vec(), core);
        let codes = [
            CONFKIT_PARTICIPANT_STATUS_RESERVED,
            CONFKIT_PARTICIPANT_STATUS_CONNECTING,
            CONFKIT_PARTICIPANT_STATUS_ON_AIR,
            CONFKIT_PARTICIPANT_STATUS_INACTIVE,
            CONFKIT_PARTICIPANT_STATUS_DECLINE,
            CONFKIT_PARTICIPANT_STATUS_LEFT,
            CONFKIT_PARTICIPANT_STATUS_KICKED,
            CONFKIT_PARTICIPANT_STATUS_WARNING,
            CONFKIT_PARTICIPANT_STATUS_ERROR,
        ];
        for (code, status) in codes.iter().zip(ParticipantStatus::ALL) {
            assert_eq!(*code, status as i32);
        }
        assert_eq!(CONFKIT_PERMISSIONS_ALL, PermissionSet::ALL.bits());
        assert_eq!(
            CONFKIT_PERMISSIONS_DEFAULT,
            PermissionSet::DEFAULT_INVITEE.bits()
        );
        assert_eq!(
            EVENT_TYPE_NAMES[(CONFKIT_EVENT_SWITCHED - 1) as usize],
            "switched"
        );
        assert_eq!(
            EVENT_TYPE_NAMES[(CONFKIT_EVENT_PARTICIPANT_UPDATED - 1) as usize],
            "participantUpdated"
        );
    }
}
