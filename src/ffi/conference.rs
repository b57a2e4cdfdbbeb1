//! Conferences seen from a session: create, fetch, join / listen, media
//! reports, leave, invite, decline, kick, permissions, terminate.
//!
//! Conference IDs cross the ABI as UTF-8 text (the 36-character UUID form).

use std::ffi::{c_char, CString};

use super::requests::{conf_id, confkit_conference_options, confkit_invite_list, ext_id};
use super::session::confkit_session;
use super::{
    arg_opt_str, arg_out, arg_ref, arg_str, buffer_from, c_string, confkit_buffer, confkit_error,
    confkit_status, free_raw, guard, guard_or, into_raw, owned_c_string, write_out, FfiError,
    FfiResult,
};
use crate::error::ErrorCode;
use crate::identity::ConferenceId;
use crate::lifecycle::LifecycleEvent;
use crate::permissions::PermissionSet;
use crate::platform::{
    ConferenceInfo, ConferenceOptions, Delivery, InviteResult, Invitee, Platform, PlatformError,
    SessionId,
};

/// A conference's description, as created or fetched. Read with the
/// `confkit_conference_info_*` getters; free with `confkit_conference_info_free`.
pub struct confkit_conference_info {
    info: ConferenceInfo,
    id: CString,
    alias: CString,
    owner: CString,
    is_new: bool,
}

impl confkit_conference_info {
    fn new(info: ConferenceInfo, is_new: bool) -> Self {
        confkit_conference_info {
            id: owned_c_string(info.id.to_string()),
            alias: c_string(&info.alias),
            owner: c_string(info.owner.as_str()),
            info,
            is_new,
        }
    }
}

unsafe fn session<'a>(p: *const confkit_session) -> FfiResult<&'a confkit_session> {
    // SAFETY: forwarded from the caller.
    unsafe { arg_ref(p, "session") }
}

/// Runs a platform operation that takes only the session and the conference.
unsafe fn session_op(
    session: *const confkit_session,
    conference_id: *const u8,
    conference_id_len: usize,
    op: fn(&Platform, SessionId, ConferenceId) -> Result<(), PlatformError>,
) -> FfiResult {
    // SAFETY: forwarded from the caller.
    let (s, id) = unsafe {
        (
            self::session(session)?,
            conf_id(conference_id, conference_id_len)?,
        )
    };
    op(&s.platform, s.id, id)?;
    Ok(())
}

/// Creates a conference owned by the session's user (`options` NULL: an
/// unprotected conference with defaults). An alias that already names a live
/// conference (ignoring case) returns that conference with
/// `confkit_conference_info_is_new` false, no token and no notification.
/// `owner_token_out` (may be NULL) receives the owner's token, with every
/// permission, for a new protected conference, and an empty buffer otherwise.
#[no_mangle]
pub unsafe extern "C" fn confkit_conference_create(
    session: *const confkit_session,
    alias: *const u8,
    alias_len: usize,
    options: *const confkit_conference_options,
    info_out: *mut *mut confkit_conference_info,
    owner_token_out: *mut confkit_buffer,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or live objects and readable byte ranges.
        let (s, alias, options) = unsafe {
            (
                self::session(session)?,
                arg_str(alias, alias_len, "alias")?,
                options.as_ref().copied().unwrap_or_default(),
            )
        };
        let out = arg_out(info_out, "info_out")?;
        let opts = ConferenceOptions {
            protected: options.is_protected,
            empty_ttl_secs: (options.empty_ttl_secs != 0).then_some(options.empty_ttl_secs),
            audio_only: options.audio_only,
            participant_limit: (options.participant_limit != 0)
                .then_some(options.participant_limit),
            token_ttl_secs: (options.token_ttl_secs != 0).then_some(options.token_ttl_secs),
        };
        let created = s.platform.create_conference(s.id, alias, opts)?;
        if !owner_token_out.is_null() {
            let token = created.owner_token.unwrap_or_default();
            write_out(owner_token_out, buffer_from(token.into_bytes()));
        }
        write_out(
            out,
            into_raw(confkit_conference_info::new(
                created.conference,
                created.is_new,
            )),
        );
        Ok(())
    })
}

/// Fetches a live conference by ID (`conference_id`) or, when that is NULL,
/// by alias (ignoring case). Unknown or destroyed conferences fail with
/// `CONFKIT_STATUS_CONFERENCE_NOT_FOUND`.
#[no_mangle]
pub unsafe extern "C" fn confkit_conference_fetch(
    session: *const confkit_session,
    conference_id: *const u8,
    conference_id_len: usize,
    alias: *const u8,
    alias_len: usize,
    info_out: *mut *mut confkit_conference_info,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or live objects and readable byte ranges.
        let (s, id, alias) = unsafe {
            (
                self::session(session)?,
                arg_opt_str(conference_id, conference_id_len, "conference_id")?,
                arg_opt_str(alias, alias_len, "alias")?,
            )
        };
        let out = arg_out(info_out, "info_out")?;
        // A closed session fetches nothing, like every other session call.
        s.platform.session_info(s.id)?;
        let info = match (id, alias) {
            (Some(id), _) => s
                .platform
                .conference_seen_by(s.id, ConferenceId::parse(id)?)?,
            (None, Some(alias)) => s.platform.conference_by_alias_seen_by(s.id, alias)?,
            (None, None) => return Err(FfiError::null("conference_id and alias")),
        };
        write_out(out, into_raw(confkit_conference_info::new(info, false)));
        Ok(())
    })
}

/// The conference ID (UUID text); valid until the info is freed. NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn confkit_conference_info_id(
    info: *const confkit_conference_info,
) -> *const c_char {
    guard_or(std::ptr::null(), || {
        // SAFETY: the caller passes NULL or a live object.
        unsafe { info.as_ref() }.map_or(std::ptr::null(), |i| i.id.as_ptr())
    })
}

/// The alias as its creator spelled it; valid until the info is freed.
#[no_mangle]
pub unsafe extern "C" fn confkit_conference_info_alias(
    info: *const confkit_conference_info,
) -> *const c_char {
    guard_or(std::ptr::null(), || {
        // SAFETY: the caller passes NULL or a live object.
        unsafe { info.as_ref() }.map_or(std::ptr::null(), |i| i.alias.as_ptr())
    })
}

/// The owner's external ID; valid until the info is freed.
#[no_mangle]
pub unsafe extern "C" fn confkit_conference_info_owner(
    info: *const confkit_conference_info,
) -> *const c_char {
    guard_or(std::ptr::null(), || {
        // SAFETY: the caller passes NULL or a live object.
        unsafe { info.as_ref() }.map_or(std::ptr::null(), |i| i.owner.as_ptr())
    })
}

/// Whether a create made it (false: the alias named a live conference).
#[no_mangle]
pub unsafe extern "C" fn confkit_conference_info_is_new(
    info: *const confkit_conference_info,
) -> bool {
    guard_or(false, || {
        // SAFETY: the caller passes NULL or a live object.
        unsafe { info.as_ref() }.is_some_and(|i| i.is_new)
    })
}

/// Whether joining needs a token.
#[no_mangle]
pub unsafe extern "C" fn confkit_conference_info_is_protected(
    info: *const confkit_conference_info,
) -> bool {
    guard_or(false, || {
        // SAFETY: the caller passes NULL or a live object.
        unsafe { info.as_ref() }.is_some_and(|i| i.info.is_protected)
    })
}

/// Participants of any status.
#[no_mangle]
pub unsafe extern "C" fn confkit_conference_info_participant_count(
    info: *const confkit_conference_info,
) -> usize {
    guard_or(0, || {
        // SAFETY: the caller passes NULL or a live object.
        unsafe { info.as_ref() }.map_or(0, |i| i.info.participant_count)
    })
}

/// Participants in the conference now.
#[no_mangle]
pub unsafe extern "C" fn confkit_conference_info_present_count(
    info: *const confkit_conference_info,
) -> usize {
    guard_or(0, || {
        // SAFETY: the caller passes NULL or a live object.
        unsafe { info.as_ref() }.map_or(0, |i| i.info.present_count)
    })
}

/// Frees a conference info. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn confkit_conference_info_free(info: *mut confkit_conference_info) {
    // SAFETY: the caller passes NULL or an info from confkit, once.
    guard_or((), || unsafe { free_raw(info) })
}

unsafe fn enter(
    session: *const confkit_session,
    conference_id: *const u8,
    conference_id_len: usize,
    token: *const u8,
    token_len: usize,
    permissions_out: *mut u32,
    listen: bool,
) -> FfiResult {
    // SAFETY: forwarded from the caller.
    let (s, id, token) = unsafe {
        (
            self::session(session)?,
            conf_id(conference_id, conference_id_len)?,
            arg_opt_str(token, token_len, "token")?,
        )
    };
    let joined = if listen {
        s.platform.listen(s.id, id, token)?
    } else {
        s.platform.join(s.id, id, token)?
    };
    if !permissions_out.is_null() {
        write_out(permissions_out, joined.permissions.bits());
    }
    Ok(())
}

/// Joins as a USER (status CONNECTING until `confkit_conference_report`
/// says CONNECTED). `token` (NULL for none) is required for protected
/// conferences. `permissions_out` (may be NULL) receives the granted bits.
#[no_mangle]
pub unsafe extern "C" fn confkit_conference_join(
    session: *const confkit_session,
    conference_id: *const u8,
    conference_id_len: usize,
    token: *const u8,
    token_len: usize,
    permissions_out: *mut u32,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: forwarded from the caller.
        unsafe {
            enter(
                session,
                conference_id,
                conference_id_len,
                token,
                token_len,
                permissions_out,
                false,
            )
        }
    })
}

/// Joins as a LISTENER (receives only; not told about other listeners).
/// Otherwise as `confkit_conference_join`.
#[no_mangle]
pub unsafe extern "C" fn confkit_conference_listen(
    session: *const confkit_session,
    conference_id: *const u8,
    conference_id_len: usize,
    token: *const u8,
    token_len: usize,
    permissions_out: *mut u32,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: forwarded from the caller.
        unsafe {
            enter(
                session,
                conference_id,
                conference_id_len,
                token,
                token_len,
                permissions_out,
                true,
            )
        }
    })
}

/// `confkit_conference_report`: the media connection is up (→ ON_AIR).
pub const CONFKIT_REPORT_CONNECTED: i32 = 2;
/// `confkit_conference_report`: media trouble (ON_AIR → WARNING).
pub const CONFKIT_REPORT_MEDIA_TROUBLE: i32 = 3;
/// `confkit_conference_report`: trouble over (WARNING → ON_AIR).
pub const CONFKIT_REPORT_RECOVERED: i32 = 4;
/// `confkit_conference_report`: the connection failed (→ ERROR).
pub const CONFKIT_REPORT_FAILURE: i32 = 5;
/// `confkit_conference_report`: idle (ON_AIR → INACTIVE).
pub const CONFKIT_REPORT_IDLE: i32 = 6;

/// Reports what the media layer saw for this session's participant (one of
/// the `CONFKIT_REPORT_*` values). `status_out` (may be NULL) receives the
/// new participant status. A move the lifecycle table does not allow fails
/// with `CONFKIT_STATUS_INVALID_TRANSITION`.
#[no_mangle]
pub unsafe extern "C" fn confkit_conference_report(
    session: *const confkit_session,
    conference_id: *const u8,
    conference_id_len: usize,
    report: i32,
    status_out: *mut i32,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: forwarded from the caller.
        let (s, id) = unsafe {
            (
                self::session(session)?,
                conf_id(conference_id, conference_id_len)?,
            )
        };
        let event = match report {
            CONFKIT_REPORT_CONNECTED => LifecycleEvent::Connected,
            CONFKIT_REPORT_MEDIA_TROUBLE => LifecycleEvent::MediaTrouble,
            CONFKIT_REPORT_RECOVERED => LifecycleEvent::Recovered,
            CONFKIT_REPORT_FAILURE => LifecycleEvent::Failure,
            CONFKIT_REPORT_IDLE => LifecycleEvent::Idle,
            other => {
                return Err(FfiError::new(
                    ErrorCode::InvalidArgument,
                    format!("{other} is not a CONFKIT_REPORT_* value"),
                ))
            }
        };
        let status = s.platform.report(s.id, id, event)?;
        if !status_out.is_null() {
            write_out(status_out, status as i32);
        }
        Ok(())
    })
}

/// Leaves the conference this session is connected to (→ LEFT).
#[no_mangle]
pub unsafe extern "C" fn confkit_conference_leave(
    session: *const confkit_session,
    conference_id: *const u8,
    conference_id_len: usize,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: forwarded from the caller.
        unsafe { session_op(session, conference_id, conference_id_len, Platform::leave) }
    })
}

/// Declines the session user's invitation (RESERVED → DECLINE).
#[no_mangle]
pub unsafe extern "C" fn confkit_conference_decline(
    session: *const confkit_session,
    conference_id: *const u8,
    conference_id_len: usize,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: forwarded from the caller.
        unsafe { session_op(session, conference_id, conference_id_len, Platform::decline) }
    })
}

/// Ends the conference (owner only): everyone is told, it is destroyed.
#[no_mangle]
pub unsafe extern "C" fn confkit_conference_terminate(
    session: *const confkit_session,
    conference_id: *const u8,
    conference_id_len: usize,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: forwarded from the caller.
        unsafe {
            session_op(
                session,
                conference_id,
                conference_id_len,
                Platform::terminate,
            )
        }
    })
}

/// Removes a participant (the caller must be in the conference and be the
/// owner or hold KICK). Their earlier tokens stop admitting them.
#[no_mangle]
pub unsafe extern "C" fn confkit_conference_kick(
    session: *const confkit_session,
    conference_id: *const u8,
    conference_id_len: usize,
    external_id: *const u8,
    external_id_len: usize,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: forwarded from the caller.
        let (s, id, target) = unsafe {
            (
                self::session(session)?,
                conf_id(conference_id, conference_id_len)?,
                ext_id(external_id, external_id_len, "external_id")?,
            )
        };
        s.platform.kick(s.id, id, &target)?;
        Ok(())
    })
}

/// Replaces a participant's permissions (`permissions`: bits, see
/// `confkit_permission_name`). The caller must be in the conference and be
/// the owner or hold UPDATE_PERMISSIONS, and not be the target. The new token
/// reaches the target only (in their `permissions updated` event); the caller
/// never sees it.
#[no_mangle]
pub unsafe extern "C" fn confkit_conference_update_permissions(
    session: *const confkit_session,
    conference_id: *const u8,
    conference_id_len: usize,
    external_id: *const u8,
    external_id_len: usize,
    permissions: u32,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: forwarded from the caller.
        let (s, id, target) = unsafe {
            (
                self::session(session)?,
                conf_id(conference_id, conference_id_len)?,
                ext_id(external_id, external_id_len, "external_id")?,
            )
        };
        let perms = PermissionSet::from_bits(permissions)
            .map_err(|e| FfiError::new(ErrorCode::UnknownPermission, e.to_string()))?;
        s.platform.update_permissions(s.id, id, &target, perms)?;
        Ok(())
    })
}

/// `confkit_invite_results_delivery`: delivered to at least one open session.
pub const CONFKIT_DELIVERY_DELIVERED: i32 = 0;
/// `confkit_invite_results_delivery`: no open session; invite again later.
pub const CONFKIT_DELIVERY_NO_OPEN_SESSION: i32 = 1;
/// `confkit_invite_results_delivery`: not notified, as asked.
pub const CONFKIT_DELIVERY_NOT_REQUESTED: i32 = 2;
/// `confkit_invite_results_delivery`: already in the conference; no token, nothing sent.
pub const CONFKIT_DELIVERY_ALREADY_IN_CONFERENCE: i32 = 3;

struct ResultRow {
    external_id: CString,
    delivery: i32,
    sessions: usize,
    permissions: u32,
}

/// The per-invitee results of `confkit_conference_invite`, in the list's
/// order. Free with `confkit_invite_results_free`.
pub struct confkit_invite_results {
    rows: Vec<ResultRow>,
}

impl ResultRow {
    fn new(r: &InviteResult) -> Self {
        let (delivery, sessions) = match r.delivery {
            Delivery::Delivered(n) => (CONFKIT_DELIVERY_DELIVERED, n),
            Delivery::NoOpenSession => (CONFKIT_DELIVERY_NO_OPEN_SESSION, 0),
            Delivery::NotRequested => (CONFKIT_DELIVERY_NOT_REQUESTED, 0),
            Delivery::AlreadyInConference => (CONFKIT_DELIVERY_ALREADY_IN_CONFERENCE, 0),
        };
        ResultRow {
            external_id: c_string(r.external_id.as_str()),
            delivery,
            sessions,
            permissions: r.permissions.bits(),
        }
    }
}

/// Invites everyone in `list` on behalf of the session's user, who must be in
/// the conference as a user (and, when it is protected, hold INVITE) and grant
/// nothing they lack unless they are the owner or hold UPDATE_PERMISSIONS. All
/// or nothing: on failure nobody is invited. The results carry delivery and
/// permissions only: each invitee's token reaches the invitee, in their
/// invitation. The list may be freed afterwards.
#[no_mangle]
pub unsafe extern "C" fn confkit_conference_invite(
    session: *const confkit_session,
    conference_id: *const u8,
    conference_id_len: usize,
    list: *const confkit_invite_list,
    results_out: *mut *mut confkit_invite_results,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: forwarded from the caller.
        let (s, id, list) = unsafe {
            (
                self::session(session)?,
                conf_id(conference_id, conference_id_len)?,
                arg_ref(list, "list")?,
            )
        };
        let out = arg_out(results_out, "results_out")?;
        let invitees: Vec<Invitee> = list
            .invitees()
            .into_iter()
            .map(|(external_id, permissions)| Invitee::new(external_id, permissions))
            .collect();
        let results = s.platform.invite(s.id, id, &invitees)?;
        let rows = results.iter().map(ResultRow::new).collect();
        write_out(out, into_raw(confkit_invite_results { rows }));
        Ok(())
    })
}

fn row<'a>(results: *const confkit_invite_results, index: usize) -> Option<&'a ResultRow> {
    // SAFETY: the caller passes NULL or live results.
    unsafe { results.as_ref() }.and_then(|r| r.rows.get(index))
}

/// How many invitees the results describe; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn confkit_invite_results_len(
    results: *const confkit_invite_results,
) -> usize {
    // SAFETY: the caller passes NULL or live results.
    guard_or(0, || {
        unsafe { results.as_ref() }.map_or(0, |r| r.rows.len())
    })
}

/// The external ID of invitee `index`; NULL when out of range. Valid until
/// the results are freed.
#[no_mangle]
pub unsafe extern "C" fn confkit_invite_results_external_id(
    results: *const confkit_invite_results,
    index: usize,
) -> *const c_char {
    guard_or(std::ptr::null(), || {
        row(results, index).map_or(std::ptr::null(), |r| r.external_id.as_ptr())
    })
}

/// The delivery of invitee `index` (`CONFKIT_DELIVERY_*`); -1 when out of range.
#[no_mangle]
pub unsafe extern "C" fn confkit_invite_results_delivery(
    results: *const confkit_invite_results,
    index: usize,
) -> i32 {
    guard_or(-1, || row(results, index).map_or(-1, |r| r.delivery))
}

/// How many open sessions received invitee `index`'s invitation.
#[no_mangle]
pub unsafe extern "C" fn confkit_invite_results_sessions(
    results: *const confkit_invite_results,
    index: usize,
) -> usize {
    guard_or(0, || row(results, index).map_or(0, |r| r.sessions))
}

/// The permission bits of invitee `index` after the invitation.
#[no_mangle]
pub unsafe extern "C" fn confkit_invite_results_permissions(
    results: *const confkit_invite_results,
    index: usize,
) -> u32 {
    guard_or(0, || row(results, index).map_or(0, |r| r.permissions))
}

/// Frees invite results. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn confkit_invite_results_free(results: *mut confkit_invite_results) {
    // SAFETY: the caller passes NULL or results from confkit, once.
    guard_or((), || unsafe { free_raw(results) })
}
