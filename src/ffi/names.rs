//! Permission bits and names, participant status codes and names.

use std::ffi::{c_char, CString};
use std::sync::OnceLock;

use super::{arg_out, arg_str, confkit_error, confkit_status, guard, guard_or, write_out};
use crate::error::ErrorCode;
use crate::lifecycle::ParticipantStatus;
use crate::permissions::Permission;

/// Every permission: `CONFKIT_PERMISSIONS_ALL` (the owner's set).
pub const CONFKIT_PERMISSIONS_ALL: u32 = 0xFFF;
/// The default invitee set: `CONFKIT_PERMISSIONS_DEFAULT`.
pub const CONFKIT_PERMISSIONS_DEFAULT: u32 = 0x3FE;

/// Interned NUL-terminated copies of every static name confkit hands out.
/// A plain vector (looked up linearly: about fifty short names) so every
/// string stays reachable from the start of an allocation, as leak checkers expect.
fn table() -> &'static [(&'static str, CString)] {
    static TABLE: OnceLock<Vec<(&'static str, CString)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let names = ErrorCode::ALL
            .iter()
            .map(|c| c.name())
            .chain(Permission::ALL.iter().map(|p| p.name()))
            .chain(ParticipantStatus::ALL.iter().map(|s| s.name()))
            .chain(["UNKNOWN", "USER", "LISTENER"]);
        #[cfg(feature = "authority")]
        let names = names.chain(super::session::EVENT_TYPE_NAMES.iter().copied());
        names.map(|n| (n, super::c_string(n))).collect()
    })
}

/// A static C string for one of confkit's static names ("UNKNOWN" otherwise).
pub(crate) fn static_c_str(name: &str) -> *const c_char {
    table()
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(c"UNKNOWN".as_ptr(), |(_, c)| c.as_ptr())
}

/// The stable name of the permission with this bit index (0..=11), e.g.
/// "SEND_AUDIO"; NULL for any other index. Static.
#[no_mangle]
pub extern "C" fn confkit_permission_name(bit: u32) -> *const c_char {
    guard_or(std::ptr::null(), || {
        Permission::from_bit(bit).map_or(std::ptr::null(), |p| static_c_str(p.name()))
    })
}

/// The bit index of a permission name (case-sensitive, e.g. "JOIN" → 1).
/// Unknown names fail with `CONFKIT_STATUS_UNKNOWN_PERMISSION`.
#[no_mangle]
pub unsafe extern "C" fn confkit_permission_from_name(
    name: *const u8,
    name_len: usize,
    bit_out: *mut u32,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes `name_len` readable bytes or NULL.
        let name = unsafe { arg_str(name, name_len, "name") }?;
        let out = arg_out(bit_out, "bit_out")?;
        let p = Permission::from_name(name)?;
        write_out(out, p.bit());
        Ok(())
    })
}

/// The stable name of a participant status code (`CONFKIT_PARTICIPANT_STATUS_*`,
/// 0..=8), e.g. "ON_AIR"; NULL for any other value. Static.
#[no_mangle]
pub extern "C" fn confkit_participant_status_name(status: i32) -> *const c_char {
    guard_or(std::ptr::null(), || {
        u32::try_from(status)
            .ok()
            .and_then(ParticipantStatus::from_code)
            .map_or(std::ptr::null(), |s| static_c_str(s.name()))
    })
}

/// The code of a participant status name; "CONNECTED" is accepted for ON_AIR.
#[no_mangle]
pub unsafe extern "C" fn confkit_participant_status_from_name(
    name: *const u8,
    name_len: usize,
    status_out: *mut i32,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes `name_len` readable bytes or NULL.
        let name = unsafe { arg_str(name, name_len, "name") }?;
        let out = arg_out(status_out, "status_out")?;
        let s = ParticipantStatus::from_name(name)?;
        write_out(out, s as i32);
        Ok(())
    })
}

/// Participant status code: invited, not yet joined.
pub const CONFKIT_PARTICIPANT_STATUS_RESERVED: i32 = 0;
/// Participant status code: joined, media connecting.
pub const CONFKIT_PARTICIPANT_STATUS_CONNECTING: i32 = 1;
/// Participant status code: connected and taking part.
pub const CONFKIT_PARTICIPANT_STATUS_ON_AIR: i32 = 2;
/// Participant status code: connected but idle.
pub const CONFKIT_PARTICIPANT_STATUS_INACTIVE: i32 = 3;
/// Participant status code: declined the invitation.
pub const CONFKIT_PARTICIPANT_STATUS_DECLINE: i32 = 4;
/// Participant status code: left.
pub const CONFKIT_PARTICIPANT_STATUS_LEFT: i32 = 5;
/// Participant status code: kicked.
pub const CONFKIT_PARTICIPANT_STATUS_KICKED: i32 = 6;
/// Participant status code: connected with media trouble.
pub const CONFKIT_PARTICIPANT_STATUS_WARNING: i32 = 7;
/// Participant status code: the connection failed.
pub const CONFKIT_PARTICIPANT_STATUS_ERROR: i32 = 8;
