//! Sessions: a user's connection to the platform, its event queue and listener.

use std::ffi::{c_char, c_void, CString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::platform::confkit_platform;
use super::{
    arg_bytes, arg_opt_str, arg_out, arg_ref, arg_str, buffer_from, c_string, confkit_buffer,
    confkit_error, confkit_status, free_raw, guard, guard_or, into_raw, names::static_c_str,
    owned_c_string, write_out, FfiError,
};
use crate::error::ErrorCode;
use crate::event::{Event, EventKind};
use crate::identity::{ExternalId, ParticipantInfo};
use crate::platform::{Listener, Platform, SessionId};
use crate::wire::MAX_MESSAGE_BYTES;

/// A user's session on a platform. Open with `confkit_session_open`; close
/// with `confkit_session_close` (optional) and free with `confkit_session_free`.
/// After close, every call on it fails with `CONFKIT_STATUS_SESSION_NOT_FOUND`.
pub struct confkit_session {
    pub(crate) platform: Arc<Platform>,
    pub(crate) id: SessionId,
}

/// `confkit_event_kind`: the conference the user created exists.
pub const CONFKIT_EVENT_CONFERENCE_CREATED: i32 = 1;
/// `confkit_event_kind`: the conference was destroyed.
pub const CONFKIT_EVENT_CONFERENCE_ENDED: i32 = 2;
/// `confkit_event_kind`: the user was invited.
pub const CONFKIT_EVENT_INVITATION_RECEIVED: i32 = 3;
/// `confkit_event_kind`: a participant was added.
pub const CONFKIT_EVENT_PARTICIPANT_ADDED: i32 = 4;
/// `confkit_event_kind`: a participant's status changed.
pub const CONFKIT_EVENT_PARTICIPANT_UPDATED: i32 = 5;
/// `confkit_event_kind`: the user's permissions were replaced.
pub const CONFKIT_EVENT_PERMISSIONS_UPDATED: i32 = 6;
/// `confkit_event_kind`: this session was replaced by another of the same user.
pub const CONFKIT_EVENT_SWITCHED: i32 = 7;
/// `confkit_event_kind`: a participant is no longer visible to this session
/// (they became a listener, seen from another listener).
pub const CONFKIT_EVENT_PARTICIPANT_REMOVED: i32 = 8;
/// `confkit_event_kind`: a fresh token for the user, before theirs expires.
pub const CONFKIT_EVENT_TOKEN_REFRESHED: i32 = 9;
/// `confkit_event_kind`: the session's queue overflowed and events were
/// dropped (`confkit_event_first_available_sequence`): resynchronise.
pub const CONFKIT_EVENT_EVENTS_MISSED: i32 = 10;

/// The JSON `type` names, in `CONFKIT_EVENT_*` order starting at 1.
pub(crate) const EVENT_TYPE_NAMES: [&str; 10] = [
    "conferenceCreated",
    "conferenceEnded",
    "invitationReceived",
    "participantAdded",
    "participantUpdated",
    "permissionsUpdated",
    "switched",
    "participantRemoved",
    "tokenRefreshed",
    "eventsMissed",
];

/// One event taken from a session's queue. Read it with the `confkit_event_*`
/// getters (strings stay valid until the event is freed) or as JSON; free it
/// with `confkit_event_free`.
pub struct confkit_event {
    kind: i32,
    type_name: &'static str,
    sequence: u64,
    conference_id: Option<CString>,
    json: CString,
    external_id: Option<CString>,
    alias: Option<CString>,
    token: Option<CString>,
    old_status: i32,
    new_status: i32,
    permissions: u32,
    /// `exp` of a refreshed token; first available sequence after a loss.
    number: u64,
}

impl confkit_event {
    fn from_event(e: &Event) -> Self {
        let mut out = confkit_event {
            kind: 0,
            type_name: "UNKNOWN",
            sequence: e.sequence,
            conference_id: e.conference_id.map(|c| owned_c_string(c.to_string())),
            json: owned_c_string(e.to_json()),
            external_id: None,
            alias: None,
            token: None,
            old_status: -1,
            new_status: -1,
            permissions: 0,
            number: 0,
        };
        out.kind = match &*e.kind {
            EventKind::ConferenceCreated {
                conference_alias, ..
            } => {
                out.alias = Some(c_string(conference_alias));
                CONFKIT_EVENT_CONFERENCE_CREATED
            }
            EventKind::ConferenceEnded { .. } => CONFKIT_EVENT_CONFERENCE_ENDED,
            EventKind::InvitationReceived {
                conference_alias,
                inviter,
                token,
                permissions,
            } => {
                out.alias = Some(c_string(conference_alias));
                out.external_id = Some(c_string(inviter.external_id().as_str()));
                out.token = token.as_deref().map(c_string);
                out.permissions = permissions.map_or(0, |p| p.bits());
                CONFKIT_EVENT_INVITATION_RECEIVED
            }
            EventKind::ParticipantAdded { participant } => {
                out.external_id = Some(c_string(participant.external_id.as_str()));
                out.new_status = participant.status as i32;
                out.permissions = participant.permissions.bits();
                CONFKIT_EVENT_PARTICIPANT_ADDED
            }
            EventKind::ParticipantUpdated {
                participant,
                old_status,
                new_status,
            } => {
                out.external_id = Some(c_string(participant.external_id.as_str()));
                out.old_status = *old_status as i32;
                out.new_status = *new_status as i32;
                out.permissions = participant.permissions.bits();
                CONFKIT_EVENT_PARTICIPANT_UPDATED
            }
            EventKind::PermissionsUpdated { permissions, token } => {
                out.token = token.as_deref().map(c_string);
                out.permissions = permissions.bits();
                CONFKIT_EVENT_PERMISSIONS_UPDATED
            }
            EventKind::Switched { external_id } => {
                out.external_id = Some(c_string(external_id.as_str()));
                CONFKIT_EVENT_SWITCHED
            }
            EventKind::ParticipantRemoved { external_id } => {
                out.external_id = Some(c_string(external_id.as_str()));
                CONFKIT_EVENT_PARTICIPANT_REMOVED
            }
            EventKind::TokenRefreshed {
                token,
                permissions,
                expires_at,
            } => {
                out.token = Some(c_string(token));
                out.permissions = permissions.bits();
                out.number = *expires_at;
                CONFKIT_EVENT_TOKEN_REFRESHED
            }
            EventKind::EventsMissed {
                first_available_sequence,
                ..
            } => {
                out.number = *first_available_sequence;
                CONFKIT_EVENT_EVENTS_MISSED
            }
        };
        out.type_name = e.kind.type_name();
        out
    }
}

/// Opens a session for a user: external ID (required), display name (may be
/// empty) and avatar URL (NULL for none). A user may have several sessions;
/// each receives every notification addressed to the user.
#[no_mangle]
pub unsafe extern "C" fn confkit_session_open(
    platform: *const confkit_platform,
    external_id: *const u8,
    external_id_len: usize,
    name: *const u8,
    name_len: usize,
    avatar_url: *const u8,
    avatar_url_len: usize,
    session_out: *mut *mut confkit_session,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live platform and readable byte ranges.
        let (platform, ext, name, avatar) = unsafe {
            (
                arg_ref(platform, "platform")?,
                arg_str(external_id, external_id_len, "external_id")?,
                arg_str(name, name_len, "name")?,
                arg_opt_str(avatar_url, avatar_url_len, "avatar_url")?,
            )
        };
        let out = arg_out(session_out, "session_out")?;
        let info = ParticipantInfo::new(ExternalId::new(ext)?, name, avatar.map(str::to_owned))?;
        let id = platform.inner.open_session(info);
        write_out(
            out,
            into_raw(confkit_session {
                platform: Arc::clone(&platform.inner),
                id,
            }),
        );
        Ok(())
    })
}

/// The session's numeric id (what a listener receives). 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn confkit_session_id(session: *const confkit_session) -> u64 {
    // SAFETY: the caller passes NULL or a live session.
    guard_or(0, || unsafe { session.as_ref() }.map_or(0, |s| s.id.0))
}

/// Closes the session: it leaves every conference it is connected to, its
/// queue is dropped and its listener released. Closing twice fails with
/// `CONFKIT_STATUS_SESSION_NOT_FOUND`. The object still needs `_free`.
#[no_mangle]
pub unsafe extern "C" fn confkit_session_close(
    session: *const confkit_session,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live session.
        let s = unsafe { arg_ref(session, "session") }?;
        s.platform.close_session(s.id)?;
        Ok(())
    })
}

/// Closes the session if it is still open, then frees it. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn confkit_session_free(session: *mut confkit_session) {
    guard_or((), || {
        // SAFETY: the caller passes NULL or a session from confkit, once.
        if let Some(s) = unsafe { session.as_ref() } {
            let _ = s.platform.close_session(s.id);
        }
        // SAFETY: as above.
        unsafe { free_raw(session) }
    })
}

/// Takes the next event from the session's queue. On OK, `*event_out` is the
/// event (free it with `confkit_event_free`) or NULL when the queue is empty.
#[no_mangle]
pub unsafe extern "C" fn confkit_session_next_event(
    session: *const confkit_session,
    event_out: *mut *mut confkit_event,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live session.
        let s = unsafe { arg_ref(session, "session") }?;
        let out = arg_out(event_out, "event_out")?;
        let event = s.platform.poll_event(s.id)?;
        let ptr = event.map_or(std::ptr::null_mut(), |e| {
            into_raw(confkit_event::from_event(&e))
        });
        write_out(out, ptr);
        Ok(())
    })
}

/// How many events wait in the session's queue.
#[no_mangle]
pub unsafe extern "C" fn confkit_session_pending_events(
    session: *const confkit_session,
    count_out: *mut usize,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live session.
        let s = unsafe { arg_ref(session, "session") }?;
        let out = arg_out(count_out, "count_out")?;
        write_out(out, s.platform.pending_events(s.id)?);
        Ok(())
    })
}

/// A listener: called with `user_data` and the session's id when events were
/// queued for the session. Never called while confkit holds a lock, so it may
/// call back into confkit (e.g. drain the queue); it may run on any thread
/// that calls into the platform.
pub type confkit_listener_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, session_id: u64)>;
/// Releases a listener's `user_data` once confkit no longer needs it.
pub type confkit_release_fn = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

struct HostListener {
    callback: unsafe extern "C" fn(*mut c_void, u64),
    user_data: *mut c_void,
    release: confkit_release_fn,
    /// Cleared when setting the listener failed: `user_data` stays the caller's.
    armed: AtomicBool,
}

// SAFETY: the host promises (in the header) that the callback and user data
// may be used from any thread; confkit only passes the pointer back.
unsafe impl Send for HostListener {}
// SAFETY: as above; confkit never dereferences `user_data`.
unsafe impl Sync for HostListener {}

impl Drop for HostListener {
    fn drop(&mut self) {
        if !self.armed.load(Ordering::Acquire) {
            return;
        }
        if let Some(release) = self.release {
            // SAFETY: the host gave this function for this user data.
            unsafe { release(self.user_data) };
        }
    }
}

/// Sets the session's listener, replacing (and releasing) any earlier one; a
/// NULL `callback` just clears it. `release` (may be NULL) is called with
/// `user_data` when the listener is replaced, cleared, or the session closed.
/// On failure `release` is not called: `user_data` stays the caller's. With
/// a NULL `callback`, `user_data` and `release` are ignored (nothing is kept,
/// so nothing is released).
#[no_mangle]
pub unsafe extern "C" fn confkit_session_set_listener(
    session: *const confkit_session,
    callback: confkit_listener_fn,
    user_data: *mut c_void,
    release: confkit_release_fn,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live session.
        let s = unsafe { arg_ref(session, "session") }?;
        let host = callback.map(|callback| {
            Arc::new(HostListener {
                callback,
                user_data,
                release,
                armed: AtomicBool::new(true),
            })
        });
        let listener = host.clone().map(|host| {
            let l: Listener = Arc::new(move |sid: SessionId| {
                // SAFETY: the host gave this callback for this user data.
                unsafe { (host.callback)(host.user_data, sid.0) }
            });
            l
        });
        if let Err(e) = s.platform.set_listener(s.id, listener) {
            if let Some(h) = host {
                h.armed.store(false, Ordering::Release);
            }
            return Err(e.into());
        }
        Ok(())
    })
}

/// The event's kind, a `CONFKIT_EVENT_*` value; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn confkit_event_kind(event: *const confkit_event) -> i32 {
    // SAFETY: the caller passes NULL or a live event.
    guard_or(0, || unsafe { event.as_ref() }.map_or(0, |e| e.kind))
}

/// The event's JSON `type` name, e.g. "participantUpdated". Static.
#[no_mangle]
pub unsafe extern "C" fn confkit_event_type(event: *const confkit_event) -> *const c_char {
    guard_or(std::ptr::null(), || {
        // SAFETY: the caller passes NULL or a live event.
        static_c_str(unsafe { event.as_ref() }.map_or("UNKNOWN", |e| e.type_name))
    })
}

/// The event's sequence number within its session (1, 2, ...); 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn confkit_event_sequence(event: *const confkit_event) -> u64 {
    // SAFETY: the caller passes NULL or a live event.
    guard_or(0, || unsafe { event.as_ref() }.map_or(0, |e| e.sequence))
}

fn opt_ptr(s: Option<&CString>) -> *const c_char {
    s.map_or(std::ptr::null(), |c| c.as_ptr())
}

/// The conference ID (36-character UUID text); NULL for events missed, which
/// are about the session's queue. Valid until the event is freed.
#[no_mangle]
pub unsafe extern "C" fn confkit_event_conference_id(event: *const confkit_event) -> *const c_char {
    // SAFETY: the caller passes NULL or a live event.
    guard_or(std::ptr::null(), || {
        opt_ptr(unsafe { event.as_ref() }.and_then(|e| e.conference_id.as_ref()))
    })
}

/// The whole event as JSON (the wire format). Valid until the event is freed.
#[no_mangle]
pub unsafe extern "C" fn confkit_event_json(event: *const confkit_event) -> *const c_char {
    // SAFETY: the caller passes NULL or a live event.
    guard_or(std::ptr::null(), || {
        opt_ptr(unsafe { event.as_ref() }.map(|e| &e.json))
    })
}

/// The external ID the event is about: the participant (added / updated /
/// removed), the inviter (invitation received) or the switched user; NULL
/// otherwise.
#[no_mangle]
pub unsafe extern "C" fn confkit_event_external_id(event: *const confkit_event) -> *const c_char {
    // SAFETY: the caller passes NULL or a live event.
    guard_or(std::ptr::null(), || {
        opt_ptr(unsafe { event.as_ref() }.and_then(|e| e.external_id.as_ref()))
    })
}

/// The conference alias (conference created, invitation received); NULL otherwise.
#[no_mangle]
pub unsafe extern "C" fn confkit_event_conference_alias(
    event: *const confkit_event,
) -> *const c_char {
    // SAFETY: the caller passes NULL or a live event.
    guard_or(std::ptr::null(), || {
        opt_ptr(unsafe { event.as_ref() }.and_then(|e| e.alias.as_ref()))
    })
}

/// The token carried (invitation received and permissions updated in
/// protected conferences, token refreshed); NULL otherwise.
#[no_mangle]
pub unsafe extern "C" fn confkit_event_token(event: *const confkit_event) -> *const c_char {
    // SAFETY: the caller passes NULL or a live event.
    guard_or(std::ptr::null(), || {
        opt_ptr(unsafe { event.as_ref() }.and_then(|e| e.token.as_ref()))
    })
}

/// The participant status before the change (participant updated); -1 otherwise.
#[no_mangle]
pub unsafe extern "C" fn confkit_event_old_status(event: *const confkit_event) -> i32 {
    // SAFETY: the caller passes NULL or a live event.
    guard_or(-1, || {
        unsafe { event.as_ref() }.map_or(-1, |e| e.old_status)
    })
}

/// The participant status now (participant added / updated); -1 otherwise.
#[no_mangle]
pub unsafe extern "C" fn confkit_event_new_status(event: *const confkit_event) -> i32 {
    // SAFETY: the caller passes NULL or a live event.
    guard_or(-1, || {
        unsafe { event.as_ref() }.map_or(-1, |e| e.new_status)
    })
}

/// The permission bits carried (the participant's, the invitee's or the new
/// set); 0 when the event has none.
#[no_mangle]
pub unsafe extern "C" fn confkit_event_permissions(event: *const confkit_event) -> u32 {
    // SAFETY: the caller passes NULL or a live event.
    guard_or(0, || unsafe { event.as_ref() }.map_or(0, |e| e.permissions))
}

/// The `exp` of the token carried by token refreshed (seconds since the Unix
/// epoch); 0 otherwise.
#[no_mangle]
pub unsafe extern "C" fn confkit_event_token_expires_at(event: *const confkit_event) -> u64 {
    // SAFETY: the caller passes NULL or a live event.
    guard_or(0, || {
        unsafe { event.as_ref() }
            .filter(|e| e.kind == CONFKIT_EVENT_TOKEN_REFRESHED)
            .map_or(0, |e| e.number)
    })
}

/// For events missed: the first sequence number the session can still
/// receive (everything before it and after the last event taken was dropped);
/// 0 otherwise.
#[no_mangle]
pub unsafe extern "C" fn confkit_event_first_available_sequence(
    event: *const confkit_event,
) -> u64 {
    // SAFETY: the caller passes NULL or a live event.
    guard_or(0, || {
        unsafe { event.as_ref() }
            .filter(|e| e.kind == CONFKIT_EVENT_EVENTS_MISSED)
            .map_or(0, |e| e.number)
    })
}

/// Frees an event. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn confkit_event_free(event: *mut confkit_event) {
    // SAFETY: the caller passes NULL or an event from confkit, once.
    guard_or((), || unsafe { free_raw(event) })
}

// ---------------------------------------------------------------------------
// The server side of the wire
// ---------------------------------------------------------------------------

/// Answers one wire request from the session's device: `reply_out` receives
/// the reply's bytes (free with `confkit_buffer_free`). Every problem with
/// the request is an error reply, not a status: the status is OK unless an
/// argument is unusable (NULL, over `CONFKIT_MAX_MESSAGE_BYTES`).
#[no_mangle]
pub unsafe extern "C" fn confkit_session_handle_message(
    session: *const confkit_session,
    message: *const u8,
    message_len: usize,
    reply_out: *mut confkit_buffer,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live session and a readable byte range.
        let (s, bytes) = unsafe {
            (
                arg_ref(session, "session")?,
                arg_bytes(message, message_len, "message")?,
            )
        };
        let out = arg_out(reply_out, "reply_out")?;
        if message_len > MAX_MESSAGE_BYTES {
            return Err(FfiError::new(
                ErrorCode::TooLarge,
                format!("message is {message_len} bytes, more than {MAX_MESSAGE_BYTES}"),
            ));
        }
        write_out(out, buffer_from(s.platform.handle_message(s.id, bytes)));
        Ok(())
    })
}

/// Takes the session's next event as a wire message for its device. On OK,
/// `message_out` holds it, or is empty (NULL data, length 0) when the queue
/// is empty. Events handed out this way stay available to the device's
/// resync for the platform's retention window.
#[no_mangle]
pub unsafe extern "C" fn confkit_session_next_message(
    session: *const confkit_session,
    message_out: *mut confkit_buffer,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live session.
        let s = unsafe { arg_ref(session, "session") }?;
        let out = arg_out(message_out, "message_out")?;
        let bytes = s
            .platform
            .poll_event(s.id)?
            .map(|e| crate::wire::message::event_message(&e))
            .unwrap_or_default();
        write_out(out, buffer_from(bytes));
        Ok(())
    })
}
