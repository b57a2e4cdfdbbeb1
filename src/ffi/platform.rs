//! The platform (the authority an app server embeds).

use std::sync::Arc;

use super::clock::confkit_clock;
use super::{
    arg_bytes, arg_out, arg_ref, arg_str, buffer_from, confkit_buffer, confkit_error,
    confkit_status, free_raw, guard, guard_or, into_raw, write_out, FfiError,
};
use crate::clock::{Clock, SystemClock};
use crate::error::ErrorCode;
use crate::platform::{Platform, PlatformConfig};
use crate::token::{KeyId, SigningKey};

/// The conference authority. Create with `confkit_platform_new`, free with
/// `confkit_platform_free`. Thread-safe: share one between threads freely.
/// Sessions keep the platform alive until they are freed too.
pub struct confkit_platform {
    pub(crate) inner: Arc<Platform>,
}

/// Platform settings; zero in any field means "the default".
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct confkit_platform_options {
    /// Token lifetime in seconds (default 3 hours).
    pub token_ttl_secs: u64,
    /// Clock leeway for token checks in seconds (default 60).
    pub leeway_secs: u64,
    /// Lifetime of an empty conference in seconds (default 1 hour).
    pub empty_ttl_secs: u64,
    /// Most events a session's queue holds (default
    /// `CONFKIT_DEFAULT_MAX_QUEUED_EVENTS`; at least 2). On overflow the oldest
    /// are dropped and one `CONFKIT_EVENT_EVENTS_MISSED` stands for them.
    pub max_queued_events: u64,
    /// Seconds before a connected participant's token expires when the
    /// platform sends a fresh one (default
    /// `CONFKIT_DEFAULT_TOKEN_REFRESH_LEAD_SECS`; at most half the lifetime).
    pub token_refresh_lead_secs: u64,
}

/// Most invitees (or participants) one request may list; more is refused
/// with `CONFKIT_STATUS_INVALID_ARGUMENT`.
pub const CONFKIT_MAX_INVITEES_PER_REQUEST: usize = 10000;
/// Default cap of a session's event queue.
pub const CONFKIT_DEFAULT_MAX_QUEUED_EVENTS: u64 = 1024;
/// Default lead time of a token refresh, in seconds.
pub const CONFKIT_DEFAULT_TOKEN_REFRESH_LEAD_SECS: u64 = 300;
const _: () = assert!(
    CONFKIT_MAX_INVITEES_PER_REQUEST == crate::platform::MAX_INVITEES_PER_REQUEST
        && CONFKIT_DEFAULT_MAX_QUEUED_EVENTS as usize == crate::platform::DEFAULT_MAX_QUEUED_EVENTS
        && CONFKIT_DEFAULT_TOKEN_REFRESH_LEAD_SECS
            == crate::platform::DEFAULT_TOKEN_REFRESH_LEAD_SECS
);

/// The manual clock given, or the system clock for NULL.
fn clock_or_system(clock: Option<&confkit_clock>) -> Arc<dyn Clock> {
    match clock {
        Some(c) => Arc::new(c.shared()),
        None => Arc::new(SystemClock),
    }
}

unsafe fn new_platform(
    signing_seed: *const u8,
    key_id: *const u8,
    key_id_len: usize,
    clock: Arc<dyn Clock>,
    options: Option<&confkit_platform_options>,
) -> Result<confkit_platform, FfiError> {
    // SAFETY: forwarded from the caller.
    let (key, config) = unsafe { key_and_config(signing_seed, key_id, key_id_len, options) }?;
    Ok(confkit_platform {
        inner: Arc::new(Platform::with_config(key, clock, config)),
    })
}

/// The signing key and settings a platform is made with.
unsafe fn key_and_config(
    signing_seed: *const u8,
    key_id: *const u8,
    key_id_len: usize,
    options: Option<&confkit_platform_options>,
) -> Result<(SigningKey, PlatformConfig), FfiError> {
    // SAFETY: the caller passes `key_id_len` readable bytes or NULL.
    let kid = unsafe { arg_str(key_id, key_id_len, "key_id") }?;
    let kid = KeyId::new(kid)?;
    let key = if signing_seed.is_null() {
        SigningKey::generate(kid)
    } else {
        // SAFETY: the caller passes 32 readable bytes when not NULL.
        let seed = unsafe { arg_bytes(signing_seed, 32, "signing_seed") }?;
        let seed: &[u8; 32] = seed
            .try_into()
            .map_err(|_| FfiError::new(ErrorCode::KeyInvalid, "seed must be 32 bytes"))?;
        SigningKey::from_seed(seed, kid)
    };
    let mut config = PlatformConfig::default();
    if let Some(o) = options {
        if o.token_ttl_secs != 0 {
            config.token_ttl_secs = o.token_ttl_secs;
        }
        if o.leeway_secs != 0 {
            config.leeway_secs = o.leeway_secs;
        }
        if o.empty_ttl_secs != 0 {
            config.empty_ttl_secs = o.empty_ttl_secs;
        }
        if o.max_queued_events != 0 {
            config.max_queued_events = usize::try_from(o.max_queued_events).unwrap_or(usize::MAX);
        }
        if o.token_refresh_lead_secs != 0 {
            config.token_refresh_lead_secs = o.token_refresh_lead_secs;
        }
    }
    Ok((key, config))
}

/// Creates a platform on the system clock with default settings.
///
/// `signing_seed`: 32 bytes (so a server keeps its key across restarts), or
/// NULL to generate a key. `key_id`: the `kid` of the key (1..=128 bytes of
/// UTF-8). Free the platform with `confkit_platform_free`.
#[no_mangle]
pub unsafe extern "C" fn confkit_platform_new(
    signing_seed: *const u8,
    key_id: *const u8,
    key_id_len: usize,
    platform_out: *mut *mut confkit_platform,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        let out = arg_out(platform_out, "platform_out")?;
        // SAFETY: forwarded from the caller.
        let p = unsafe {
            new_platform(
                signing_seed,
                key_id,
                key_id_len,
                Arc::new(SystemClock),
                None,
            )
        }?;
        write_out(out, into_raw(p));
        Ok(())
    })
}

/// Creates a platform with a manual clock (NULL: the system clock) and
/// options (NULL: defaults). Otherwise as `confkit_platform_new`.
#[no_mangle]
pub unsafe extern "C" fn confkit_platform_new_with(
    signing_seed: *const u8,
    key_id: *const u8,
    key_id_len: usize,
    clock: *const confkit_clock,
    options: *const confkit_platform_options,
    platform_out: *mut *mut confkit_platform,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        let out = arg_out(platform_out, "platform_out")?;
        // SAFETY: the caller passes NULL or a live clock / options.
        let (clock, options) = unsafe { (clock.as_ref(), options.as_ref()) };
        let clock = clock_or_system(clock);
        // SAFETY: forwarded from the caller.
        let p = unsafe { new_platform(signing_seed, key_id, key_id_len, clock, options) }?;
        write_out(out, into_raw(p));
        Ok(())
    })
}

/// Opens a platform that keeps what it must not lose (conferences,
/// participants, revocations, trusted keys) in the SQLite file at `path`
/// (UTF-8, created if missing): a platform opened again on the same file
/// finds them, with every participant who was connected having left. Every
/// operation is on disk before it answers; one whose commit fails is refused
/// with `CONFKIT_STATUS_STORE_UNAVAILABLE` and changes nothing.
///
/// `signing_seed` (32 bytes) is required: tokens issued before a restart
/// must still verify after it. `clock` and `options` as for
/// `confkit_platform_new_with`. Fails with `CONFKIT_STATUS_STORE_UNAVAILABLE`
/// when the file cannot be opened or read, or when the library was built
/// without the `sqlite` feature (phone builds).
#[no_mangle]
pub unsafe extern "C" fn confkit_platform_open(
    path: *const u8,
    path_len: usize,
    signing_seed: *const u8,
    key_id: *const u8,
    key_id_len: usize,
    clock: *const confkit_clock,
    options: *const confkit_platform_options,
    platform_out: *mut *mut confkit_platform,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        let out = arg_out(platform_out, "platform_out")?;
        // SAFETY: the caller passes readable bytes and NULL or live objects.
        let (path, clock, options) = unsafe {
            (
                arg_str(path, path_len, "path")?,
                clock.as_ref(),
                options.as_ref(),
            )
        };
        if signing_seed.is_null() {
            return Err(FfiError::null("signing_seed"));
        }
        let clock = clock_or_system(clock);
        // SAFETY: forwarded from the caller.
        let (key, config) = unsafe { key_and_config(signing_seed, key_id, key_id_len, options) }?;
        let platform = open_platform(path, key, clock, config)?;
        write_out(
            out,
            into_raw(confkit_platform {
                inner: Arc::new(platform),
            }),
        );
        Ok(())
    })
}

#[cfg(feature = "sqlite")]
fn open_platform(
    path: &str,
    key: SigningKey,
    clock: Arc<dyn Clock>,
    config: PlatformConfig,
) -> Result<Platform, FfiError> {
    Ok(Platform::open(path, key, clock, config)?)
}

#[cfg(not(feature = "sqlite"))]
fn open_platform(
    _path: &str,
    _key: SigningKey,
    _clock: Arc<dyn Clock>,
    _config: PlatformConfig,
) -> Result<Platform, FfiError> {
    Err(FfiError::new(
        ErrorCode::StoreUnavailable,
        "this libconfkit was built without the sqlite feature: no store",
    ))
}

/// Frees a platform. Sessions still open keep its state alive until they are
/// freed. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn confkit_platform_free(platform: *mut confkit_platform) {
    // SAFETY: the caller passes NULL or a platform from confkit, once.
    guard_or((), || unsafe { free_raw(platform) })
}

/// Answers one REST-style request (DESIGN "REST-style interface"): method
/// ("GET", "POST", "DELETE"), path (e.g. "/v2/conferences/create") and JSON
/// body (NULL with length 0 for none).
///
/// Returns OK whenever an HTTP response was produced, 4xx included: the
/// status goes to `http_status_out` and the JSON body to `response_out` (free
/// it with `confkit_buffer_free`; empty for 204). Fails only when it could not
/// answer: NULL arguments, or method / path that are not UTF-8.
#[no_mangle]
pub unsafe extern "C" fn confkit_platform_handle_rest(
    platform: *const confkit_platform,
    method: *const u8,
    method_len: usize,
    path: *const u8,
    path_len: usize,
    body: *const u8,
    body_len: usize,
    http_status_out: *mut u16,
    response_out: *mut confkit_buffer,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or live objects and readable byte ranges.
        let (platform, method, path, body) = unsafe {
            (
                arg_ref(platform, "platform")?,
                arg_str(method, method_len, "method")?,
                arg_str(path, path_len, "path")?,
                arg_bytes(body, body_len, "body")?,
            )
        };
        let status_out = arg_out(http_status_out, "http_status_out")?;
        let response = arg_out(response_out, "response_out")?;
        let answer = platform.inner.handle_rest(method, path, body);
        write_out(status_out, answer.status);
        write_out(response, buffer_from(answer.body.into_bytes()));
        Ok(())
    })
}

/// The platform's public keys as a JWK set (JSON), for devices that verify
/// tokens offline. Free the buffer with `confkit_buffer_free`.
#[no_mangle]
pub unsafe extern "C" fn confkit_platform_jwks(
    platform: *const confkit_platform,
    jwks_out: *mut confkit_buffer,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live platform.
        let platform = unsafe { arg_ref(platform, "platform") }?;
        let out = arg_out(jwks_out, "jwks_out")?;
        write_out(
            out,
            buffer_from(platform.inner.jwks().to_json().into_bytes()),
        );
        Ok(())
    })
}

/// Destroys every empty conference past its time to live (each operation
/// also does this first). Writes how many were destroyed to `count_out`
/// when it is not NULL. With a store, fails with
/// `CONFKIT_STATUS_STORE_UNAVAILABLE` (nothing done) when it cannot commit.
#[no_mangle]
pub unsafe extern "C" fn confkit_platform_expire_conferences(
    platform: *const confkit_platform,
    count_out: *mut usize,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live platform.
        let platform = unsafe { arg_ref(platform, "platform") }?;
        let n = platform.inner.try_expire_conferences()?;
        if !count_out.is_null() {
            write_out(count_out, n);
        }
        Ok(())
    })
}
