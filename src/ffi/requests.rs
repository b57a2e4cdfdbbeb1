//! What requests on both halves carry: conference creation options, lists of
//! invitees, and conference and external IDs read from C text.

use super::{
    arg_out, arg_ref, arg_str, confkit_error, confkit_status, free_raw, guard, guard_or, into_raw,
    write_out, FfiError, FfiResult,
};
use crate::error::ErrorCode;
use crate::identity::{ConferenceId, ExternalId};
use crate::permissions::PermissionSet;

/// Creation options; zero in a numeric field means "the default / no limit".
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct confkit_conference_options {
    /// Joining and listening need a conference access token.
    pub is_protected: bool,
    /// Audio only.
    pub audio_only: bool,
    /// Most participants in the conference at once (0: no limit).
    pub participant_limit: u32,
    /// Seconds an empty conference lives (0: the platform's default).
    pub empty_ttl_secs: u64,
    /// Lifetime of the conference's tokens (0: the platform's default).
    pub token_ttl_secs: u64,
}

pub(crate) unsafe fn conf_id(p: *const u8, len: usize) -> FfiResult<ConferenceId> {
    // SAFETY: forwarded from the caller.
    let text = unsafe { arg_str(p, len, "conference_id") }?;
    Ok(ConferenceId::parse(text)?)
}

pub(crate) unsafe fn ext_id(p: *const u8, len: usize, name: &str) -> FfiResult<ExternalId> {
    // SAFETY: forwarded from the caller.
    let text = unsafe { arg_str(p, len, name) }?;
    Ok(ExternalId::new(text)?)
}

/// A list of invitees being built for `confkit_conference_invite` or
/// `confkit_client_invite`.
/// Thread-safe like every confkit object: adds from several threads are serialized.
pub struct confkit_invite_list {
    invitees: parking_lot::Mutex<Vec<(ExternalId, Option<PermissionSet>)>>,
}

impl confkit_invite_list {
    /// A copy of the invitees added so far: each external ID, and the set to
    /// grant (`None`: the default invitee set).
    pub(crate) fn invitees(&self) -> Vec<(ExternalId, Option<PermissionSet>)> {
        self.invitees.lock().clone()
    }
}

/// Creates an empty invitee list. Free with `confkit_invite_list_free`.
#[no_mangle]
pub unsafe extern "C" fn confkit_invite_list_new(
    list_out: *mut *mut confkit_invite_list,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        let out = arg_out(list_out, "list_out")?;
        write_out(
            out,
            into_raw(confkit_invite_list {
                invitees: parking_lot::Mutex::new(Vec::new()),
            }),
        );
        Ok(())
    })
}

/// Adds an invitee. `has_permissions` false gives the default invitee set
/// (`CONFKIT_PERMISSIONS_DEFAULT`); otherwise `permissions` are the bits to
/// grant. Bits above bit 11 fail with `CONFKIT_STATUS_UNKNOWN_PERMISSION`.
#[no_mangle]
pub unsafe extern "C" fn confkit_invite_list_add(
    list: *mut confkit_invite_list,
    external_id: *const u8,
    external_id_len: usize,
    has_permissions: bool,
    permissions: u32,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live list.
        let list = unsafe { arg_ref(list, "list") }?;
        // SAFETY: forwarded from the caller.
        let ext = unsafe { ext_id(external_id, external_id_len, "external_id") }?;
        let perms = if has_permissions {
            Some(
                PermissionSet::from_bits(permissions)
                    .map_err(|e| FfiError::new(ErrorCode::UnknownPermission, e.to_string()))?,
            )
        } else {
            None
        };
        list.invitees.lock().push((ext, perms));
        Ok(())
    })
}

/// Frees an invitee list. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn confkit_invite_list_free(list: *mut confkit_invite_list) {
    // SAFETY: the caller passes NULL or a list from confkit, once.
    guard_or((), || unsafe { free_raw(list) })
}
