//! The device half through the C ABI: a `confkit_client` builds the user's
//! requests as bytes, reads the bytes the server sends into a list of
//! updates, and answers what the view holds. No callback: the host polls in
//! and out from whatever thread or run loop it likes.
//!
//! Views, updates and invitations are copies: they stay valid (and
//! unchanged) until freed, whatever the client receives meanwhile.

use std::ffi::{c_char, CString};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use super::clock::confkit_clock;
use super::requests::{conf_id, ext_id};
use super::token::confkit_verifier;
use super::{
    arg_bytes, arg_opt_str, arg_out, arg_ref, arg_str, buffer_from, c_string, confkit_buffer,
    confkit_error, confkit_status, free_raw, guard, guard_or, into_raw, owned_c_string, write_out,
    FfiError, FfiResult,
};
use crate::client::{Client, ClientError, ConferenceView, Invitation, Update};
use crate::clock::{Clock, SystemClock};
use crate::error::ErrorCode;
use crate::event::ParticipantView;
use crate::identity::ConferenceId;
use crate::permissions::{Permission, PermissionSet};
use crate::wire::message::{MediaState, Op, WireInvitee};
use crate::wire::MAX_MESSAGE_BYTES;

/// A device's replica of one session. Thread-safe (calls are serialized).
/// Free with `confkit_client_free`.
pub struct confkit_client {
    inner: Mutex<Client>,
}

impl From<ClientError> for FfiError {
    fn from(e: ClientError) -> Self {
        let code = match &e {
            ClientError::Wire(w) => w.code(),
            ClientError::Token(t) => t.code(),
            ClientError::TokenSubject(_) => ErrorCode::TokenInvalid,
            ClientError::Reply(_) => ErrorCode::InvalidArgument,
        };
        FfiError::new(code, e.to_string())
    }
}

/// Creates a client for the user `external_id`, verifying the server's tokens
/// with `verifier` (copied: the verifier may be freed afterwards) on `clock`
/// (NULL: the system clock; a `confkit_clock` is shared: setting it moves
/// the client's time too, and it may be freed before the client).
#[no_mangle]
pub unsafe extern "C" fn confkit_client_new(
    external_id: *const u8,
    external_id_len: usize,
    verifier: *const confkit_verifier,
    clock: *const confkit_clock,
    client_out: *mut *mut confkit_client,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes readable byte ranges and NULL or live objects.
        let (me, v) = unsafe {
            (
                ext_id(external_id, external_id_len, "external_id")?,
                arg_ref(verifier, "verifier")?,
            )
        };
        let out = arg_out(client_out, "client_out")?;
        // SAFETY: the caller passes NULL or a live clock.
        let clock: Arc<dyn Clock> = match unsafe { clock.as_ref() } {
            Some(c) => Arc::new(c.shared()),
            None => Arc::new(SystemClock),
        };
        let client = Client::new(me, v.ring().clone(), clock);
        write_out(
            out,
            into_raw(confkit_client {
                inner: Mutex::new(client),
            }),
        );
        Ok(())
    })
}

/// Frees a client. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn confkit_client_free(client: *mut confkit_client) {
    // SAFETY: the caller passes NULL or a client from confkit, once.
    guard_or((), || unsafe { free_raw(client) })
}

/// Builds a request: writes its bytes to `message_out` (free with
/// `confkit_buffer_free`) and its number to `request_out` (may be NULL; the
/// request id on the wire is "c" followed by it, and updates about its reply
/// carry it).
fn request(
    client: &confkit_client,
    op: Op,
    message_out: *mut confkit_buffer,
    request_out: *mut u64,
) -> FfiResult {
    let out = arg_out(message_out, "message_out")?;
    let outgoing = client.inner.lock().request(op);
    write_out(out, buffer_from(outgoing.bytes));
    if !request_out.is_null() {
        write_out(request_out, request_number(outgoing.id.as_str()));
    }
    Ok(())
}

/// The number of a client's request id ("c7" → 7), 0 for any other id
/// ("c07", "c+7" are not the client's).
fn request_number(id: &str) -> u64 {
    id.strip_prefix('c')
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|n| id.len() == 1 + n.to_string().len())
        .unwrap_or(0)
}

// The objects are shared between threads by the host: they must be.
const _: () = {
    const fn shared<T: Send + Sync>() {}
    shared::<confkit_client>();
    shared::<confkit_updates>();
    shared::<confkit_view>();
    shared::<confkit_invitation>();
};

/// A request about one conference.
unsafe fn conference_request(
    client: *const confkit_client,
    conference_id: *const u8,
    conference_id_len: usize,
    message_out: *mut confkit_buffer,
    request_out: *mut u64,
    op: impl FnOnce(String) -> Op,
) -> FfiResult {
    // SAFETY: forwarded from the caller.
    let (c, conf) = unsafe {
        (
            arg_ref(client, "client")?,
            conf_id(conference_id, conference_id_len)?,
        )
    };
    request(c, op(conf.to_string()), message_out, request_out)
}

/// Request: create a conference (`options` NULL: unprotected, defaults).
#[no_mangle]
pub unsafe extern "C" fn confkit_client_create(
    client: *const confkit_client,
    alias: *const u8,
    alias_len: usize,
    options: *const super::requests::confkit_conference_options,
    message_out: *mut confkit_buffer,
    request_out: *mut u64,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or live objects and readable byte ranges.
        let (c, alias, options) = unsafe {
            (
                arg_ref(client, "client")?,
                arg_str(alias, alias_len, "alias")?,
                options.as_ref(),
            )
        };
        let nonzero = |n: u64| (n != 0).then_some(n);
        let op = Op::Create {
            alias: alias.to_owned(),
            protected: options.is_some_and(|o| o.is_protected),
            audio_only: options.is_some_and(|o| o.audio_only),
            participant_limit: options
                .and_then(|o| (o.participant_limit != 0).then_some(o.participant_limit)),
            empty_ttl_secs: options.and_then(|o| nonzero(o.empty_ttl_secs)),
            token_ttl_secs: options.and_then(|o| nonzero(o.token_ttl_secs)),
        };
        request(c, op, message_out, request_out)
    })
}

/// Request: look a live conference up by alias.
#[no_mangle]
pub unsafe extern "C" fn confkit_client_fetch(
    client: *const confkit_client,
    alias: *const u8,
    alias_len: usize,
    message_out: *mut confkit_buffer,
    request_out: *mut u64,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live client and a readable byte range.
        let (c, alias) = unsafe {
            (
                arg_ref(client, "client")?,
                arg_str(alias, alias_len, "alias")?,
            )
        };
        let op = Op::Fetch {
            conference_id: None,
            alias: Some(alias.to_owned()),
        };
        request(c, op, message_out, request_out)
    })
}

/// Request: join a conference as a user (`token` NULL: unprotected).
#[no_mangle]
pub unsafe extern "C" fn confkit_client_join(
    client: *const confkit_client,
    conference_id: *const u8,
    conference_id_len: usize,
    token: *const u8,
    token_len: usize,
    message_out: *mut confkit_buffer,
    request_out: *mut u64,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: forwarded from the caller.
        let token = unsafe { arg_opt_str(token, token_len, "token") }?.map(str::to_owned);
        // SAFETY: forwarded from the caller.
        unsafe {
            conference_request(
                client,
                conference_id,
                conference_id_len,
                message_out,
                request_out,
                |conference_id| Op::Join {
                    conference_id,
                    token,
                },
            )
        }
    })
}

/// Request: join a conference as a listener (`token` NULL: unprotected).
#[no_mangle]
pub unsafe extern "C" fn confkit_client_listen(
    client: *const confkit_client,
    conference_id: *const u8,
    conference_id_len: usize,
    token: *const u8,
    token_len: usize,
    message_out: *mut confkit_buffer,
    request_out: *mut u64,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: forwarded from the caller.
        let token = unsafe { arg_opt_str(token, token_len, "token") }?.map(str::to_owned);
        // SAFETY: forwarded from the caller.
        unsafe {
            conference_request(
                client,
                conference_id,
                conference_id_len,
                message_out,
                request_out,
                |conference_id| Op::Listen {
                    conference_id,
                    token,
                },
            )
        }
    })
}

/// `confkit_client_media_state`: the media connection is up.
pub const CONFKIT_MEDIA_CONNECTED: i32 = 0;
/// `confkit_client_media_state`: it failed.
pub const CONFKIT_MEDIA_FAILURE: i32 = 1;
/// `confkit_client_media_state`: trouble.
pub const CONFKIT_MEDIA_WARNING: i32 = 2;
/// `confkit_client_media_state`: the trouble is over.
pub const CONFKIT_MEDIA_RECOVERED: i32 = 3;

/// Request: report what the media layer saw (`CONFKIT_MEDIA_*`).
#[no_mangle]
pub unsafe extern "C" fn confkit_client_media_state(
    client: *const confkit_client,
    conference_id: *const u8,
    conference_id_len: usize,
    state: i32,
    message_out: *mut confkit_buffer,
    request_out: *mut u64,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        let state = match state {
            CONFKIT_MEDIA_CONNECTED => MediaState::Connected,
            CONFKIT_MEDIA_FAILURE => MediaState::Failure,
            CONFKIT_MEDIA_WARNING => MediaState::Warning,
            CONFKIT_MEDIA_RECOVERED => MediaState::Recovered,
            other => {
                return Err(FfiError::new(
                    ErrorCode::InvalidArgument,
                    format!("{other} is not a CONFKIT_MEDIA_* value"),
                ))
            }
        };
        // SAFETY: forwarded from the caller.
        unsafe {
            conference_request(
                client,
                conference_id,
                conference_id_len,
                message_out,
                request_out,
                |conference_id| Op::MediaState {
                    conference_id,
                    state,
                },
            )
        }
    })
}

/// Request: leave the conference.
#[no_mangle]
pub unsafe extern "C" fn confkit_client_leave(
    client: *const confkit_client,
    conference_id: *const u8,
    conference_id_len: usize,
    message_out: *mut confkit_buffer,
    request_out: *mut u64,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: forwarded from the caller.
        unsafe {
            conference_request(
                client,
                conference_id,
                conference_id_len,
                message_out,
                request_out,
                |conference_id| Op::Leave { conference_id },
            )
        }
    })
}

/// Request: decline the invitation to the conference.
#[no_mangle]
pub unsafe extern "C" fn confkit_client_decline(
    client: *const confkit_client,
    conference_id: *const u8,
    conference_id_len: usize,
    message_out: *mut confkit_buffer,
    request_out: *mut u64,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: forwarded from the caller.
        unsafe {
            conference_request(
                client,
                conference_id,
                conference_id_len,
                message_out,
                request_out,
                |conference_id| Op::Decline { conference_id },
            )
        }
    })
}

/// Request: end the conference (its owner).
#[no_mangle]
pub unsafe extern "C" fn confkit_client_terminate(
    client: *const confkit_client,
    conference_id: *const u8,
    conference_id_len: usize,
    message_out: *mut confkit_buffer,
    request_out: *mut u64,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: forwarded from the caller.
        unsafe {
            conference_request(
                client,
                conference_id,
                conference_id_len,
                message_out,
                request_out,
                |conference_id| Op::Terminate { conference_id },
            )
        }
    })
}

/// Request: invite the users of `invitees` (built with
/// `confkit_invite_list_new` / `_add`; not consumed).
#[no_mangle]
pub unsafe extern "C" fn confkit_client_invite(
    client: *const confkit_client,
    conference_id: *const u8,
    conference_id_len: usize,
    invitees: *const super::requests::confkit_invite_list,
    message_out: *mut confkit_buffer,
    request_out: *mut u64,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live list.
        let list = unsafe { arg_ref(invitees, "invitees") }?;
        let invitees = list
            .invitees()
            .into_iter()
            .map(|(external_id, permissions)| WireInvitee {
                external_id,
                permissions,
            })
            .collect();
        // SAFETY: forwarded from the caller.
        unsafe {
            conference_request(
                client,
                conference_id,
                conference_id_len,
                message_out,
                request_out,
                |conference_id| Op::Invite {
                    conference_id,
                    invitees,
                },
            )
        }
    })
}

/// Request: remove a participant.
#[no_mangle]
pub unsafe extern "C" fn confkit_client_kick(
    client: *const confkit_client,
    conference_id: *const u8,
    conference_id_len: usize,
    external_id: *const u8,
    external_id_len: usize,
    message_out: *mut confkit_buffer,
    request_out: *mut u64,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: forwarded from the caller.
        let external_id = unsafe { ext_id(external_id, external_id_len, "external_id") }?;
        // SAFETY: forwarded from the caller.
        unsafe {
            conference_request(
                client,
                conference_id,
                conference_id_len,
                message_out,
                request_out,
                |conference_id| Op::Kick {
                    conference_id,
                    external_id,
                },
            )
        }
    })
}

/// Request: replace a participant's permissions with `permissions` (bits;
/// above bit 11 fails with `CONFKIT_STATUS_UNKNOWN_PERMISSION`).
#[no_mangle]
pub unsafe extern "C" fn confkit_client_update_permissions(
    client: *const confkit_client,
    conference_id: *const u8,
    conference_id_len: usize,
    external_id: *const u8,
    external_id_len: usize,
    permissions: u32,
    message_out: *mut confkit_buffer,
    request_out: *mut u64,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: forwarded from the caller.
        let external_id = unsafe { ext_id(external_id, external_id_len, "external_id") }?;
        let permissions = PermissionSet::from_bits(permissions)
            .map_err(|e| FfiError::new(ErrorCode::UnknownPermission, e.to_string()))?;
        // SAFETY: forwarded from the caller.
        unsafe {
            conference_request(
                client,
                conference_id,
                conference_id_len,
                message_out,
                request_out,
                |conference_id| Op::UpdatePermissions {
                    conference_id,
                    external_id,
                    permissions,
                },
            )
        }
    })
}

/// Request: nothing but "this device is still here" (send one within the
/// platform's idle time when there is nothing else to send).
#[no_mangle]
pub unsafe extern "C" fn confkit_client_keep_alive(
    client: *const confkit_client,
    message_out: *mut confkit_buffer,
    request_out: *mut u64,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live client.
        let c = unsafe { arg_ref(client, "client") }?;
        request(c, Op::KeepAlive {}, message_out, request_out)
    })
}

/// Request: resynchronise, after a `CONFKIT_UPDATE_GAP` or a reconnect. The
/// reply brings the missed events or one snapshot.
#[no_mangle]
pub unsafe extern "C" fn confkit_client_resync(
    client: *const confkit_client,
    message_out: *mut confkit_buffer,
    request_out: *mut u64,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live client.
        let c = unsafe { arg_ref(client, "client") }?;
        let out = arg_out(message_out, "message_out")?;
        let outgoing = c.inner.lock().resync_request();
        write_out(out, buffer_from(outgoing.bytes));
        if !request_out.is_null() {
            write_out(request_out, request_number(outgoing.id.as_str()));
        }
        Ok(())
    })
}

/// Numbers the client's next request `number` (its wire id "c" followed by
/// it), and the later ones from there. A new client starts at a random
/// number, so that an app restarted on the same session never reuses its
/// predecessor's ids (the server answers a remembered id with the old
/// reply); set one only to replay a recorded exchange, in tests, or to go on
/// with a count the app keeps itself, before the first request. 0 is
/// `CONFKIT_STATUS_INVALID_ARGUMENT` and changes nothing.
#[no_mangle]
pub unsafe extern "C" fn confkit_client_set_next_request_number(
    client: *const confkit_client,
    number: u64,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live client.
        let c = unsafe { arg_ref(client, "client") }?;
        let next = std::num::NonZeroU64::new(number).ok_or_else(|| {
            FfiError::new(
                ErrorCode::InvalidArgument,
                "number: request numbers start at 1",
            )
        })?;
        c.inner.lock().set_next_request_number(next);
        Ok(())
    })
}

/// Reads one message from the server and applies it. On OK, `updates_out`
/// receives what changed (possibly nothing); a refused message (not this
/// protocol, over `CONFKIT_MAX_MESSAGE_BYTES`, a token that fails offline
/// verification) changes nothing.
#[no_mangle]
pub unsafe extern "C" fn confkit_client_receive(
    client: *const confkit_client,
    message: *const u8,
    message_len: usize,
    updates_out: *mut *mut confkit_updates,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        if message_len > MAX_MESSAGE_BYTES {
            return Err(FfiError::new(
                ErrorCode::TooLarge,
                format!("message is {message_len} bytes, more than {MAX_MESSAGE_BYTES}"),
            ));
        }
        // SAFETY: the caller passes NULL or a live client and a readable byte range.
        let (c, bytes) = unsafe {
            (
                arg_ref(client, "client")?,
                arg_bytes(message, message_len, "message")?,
            )
        };
        let out = arg_out(updates_out, "updates_out")?;
        let updates = c.inner.lock().receive(bytes)?;
        write_out(
            out,
            into_raw(confkit_updates {
                rows: updates.into_iter().map(UpdateRow::new).collect(),
            }),
        );
        Ok(())
    })
}

/// The last event sequence number the client applied.
#[no_mangle]
pub unsafe extern "C" fn confkit_client_last_sequence(client: *const confkit_client) -> u64 {
    // SAFETY: the caller passes NULL or a live client.
    guard_or(0, || {
        unsafe { client.as_ref() }.map_or(0, |c| c.inner.lock().last_sequence())
    })
}

/// Whether the client waits for a resync reply (after a gap it applies no
/// event until then).
#[no_mangle]
pub unsafe extern "C" fn confkit_client_is_stalled(client: *const confkit_client) -> bool {
    // SAFETY: the caller passes NULL or a live client.
    guard_or(false, || {
        unsafe { client.as_ref() }.is_some_and(|c| c.inner.lock().is_stalled())
    })
}

/// Whether the user may do permission `bit` in the conference: from the
/// newest token verified offline in a protected one (while it is valid), from
/// what the server sent in an unprotected one. False for anything unknown
/// (NULL, a bad ID, a conference the client is not in, a bit above 11).
#[no_mangle]
pub unsafe extern "C" fn confkit_client_may(
    client: *const confkit_client,
    conference_id: *const u8,
    conference_id_len: usize,
    bit: u32,
) -> bool {
    guard_or(false, || {
        // SAFETY: the caller passes NULL or a live client and a readable byte range.
        let (Ok(c), Ok(conf)) = (unsafe { arg_ref(client, "client") }, unsafe {
            conf_id(conference_id, conference_id_len)
        }) else {
            return false;
        };
        Permission::from_bit(bit).is_some_and(|p| c.inner.lock().may(conf, p))
    })
}

/// How many conferences the client has heard of.
#[no_mangle]
pub unsafe extern "C" fn confkit_client_view_count(client: *const confkit_client) -> usize {
    // SAFETY: the caller passes NULL or a live client.
    guard_or(0, || {
        unsafe { client.as_ref() }.map_or(0, |c| c.inner.lock().conferences().count())
    })
}

/// A copy of the `index`th conference view (ordered by conference ID).
/// Fails with `CONFKIT_STATUS_INVALID_ARGUMENT` past the end.
#[no_mangle]
pub unsafe extern "C" fn confkit_client_view_at(
    client: *const confkit_client,
    index: usize,
    view_out: *mut *mut confkit_view,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live client.
        let c = unsafe { arg_ref(client, "client") }?;
        let out = arg_out(view_out, "view_out")?;
        let inner = c.inner.lock();
        let (id, view) = inner.conferences().nth(index).ok_or_else(|| {
            FfiError::new(
                ErrorCode::InvalidArgument,
                format!("no view at index {index}"),
            )
        })?;
        write_out(out, into_raw(confkit_view::new(*id, view)));
        Ok(())
    })
}

/// A copy of one conference's view. Fails with
/// `CONFKIT_STATUS_CONFERENCE_NOT_FOUND` when the client never heard of it.
#[no_mangle]
pub unsafe extern "C" fn confkit_client_view(
    client: *const confkit_client,
    conference_id: *const u8,
    conference_id_len: usize,
    view_out: *mut *mut confkit_view,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live client and a readable byte range.
        let (c, conf) = unsafe {
            (
                arg_ref(client, "client")?,
                conf_id(conference_id, conference_id_len)?,
            )
        };
        let out = arg_out(view_out, "view_out")?;
        let inner = c.inner.lock();
        let view = inner.conference(conf).ok_or_else(|| {
            FfiError::new(
                ErrorCode::ConferenceNotFound,
                format!("the client has no view of {conf}"),
            )
        })?;
        write_out(out, into_raw(confkit_view::new(conf, view)));
        Ok(())
    })
}

/// How many invitations the inbox holds (at most `CONFKIT_MAX_INBOX`).
#[no_mangle]
pub unsafe extern "C" fn confkit_client_inbox_len(client: *const confkit_client) -> usize {
    // SAFETY: the caller passes NULL or a live client.
    guard_or(0, || {
        unsafe { client.as_ref() }.map_or(0, |c| c.inner.lock().inbox().len())
    })
}

/// A copy of the `index`th invitation of the inbox (oldest first). Fails
/// with `CONFKIT_STATUS_INVALID_ARGUMENT` past the end.
#[no_mangle]
pub unsafe extern "C" fn confkit_client_inbox_at(
    client: *const confkit_client,
    index: usize,
    invitation_out: *mut *mut confkit_invitation,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live client.
        let c = unsafe { arg_ref(client, "client") }?;
        let out = arg_out(invitation_out, "invitation_out")?;
        let inner = c.inner.lock();
        let invitation = inner.inbox().get(index).ok_or_else(|| {
            FfiError::new(
                ErrorCode::InvalidArgument,
                format!("no invitation at index {index}"),
            )
        })?;
        write_out(out, into_raw(confkit_invitation::new(invitation)));
        Ok(())
    })
}

/// Most invitations a client's inbox keeps (the oldest go first).
pub const CONFKIT_MAX_INBOX: usize = 256;
const _: () = assert!(CONFKIT_MAX_INBOX == crate::client::MAX_INBOX);
/// Largest message accepted in either direction, in bytes.
pub const CONFKIT_MAX_MESSAGE_BYTES: usize = 262_144;
const _: () = assert!(CONFKIT_MAX_MESSAGE_BYTES == MAX_MESSAGE_BYTES);

// ---------------------------------------------------------------------------
// Updates
// ---------------------------------------------------------------------------

/// `confkit_updates_kind`: someone appeared in a conference view.
pub const CONFKIT_UPDATE_PARTICIPANT_ADDED: i32 = 1;
/// `confkit_updates_kind`: someone changed (old and new status).
pub const CONFKIT_UPDATE_PARTICIPANT_UPDATED: i32 = 2;
/// `confkit_updates_kind`: someone is no longer visible.
pub const CONFKIT_UPDATE_PARTICIPANT_REMOVED: i32 = 3;
/// `confkit_updates_kind`: the user's own status changed (old may be -1: unknown).
pub const CONFKIT_UPDATE_MY_STATUS_CHANGED: i32 = 4;
/// `confkit_updates_kind`: the user's permissions changed.
pub const CONFKIT_UPDATE_MY_PERMISSIONS_CHANGED: i32 = 5;
/// `confkit_updates_kind`: this session is no longer connected to the conference.
pub const CONFKIT_UPDATE_NO_LONGER_IN: i32 = 6;
/// `confkit_updates_kind`: the conference was destroyed.
pub const CONFKIT_UPDATE_CONFERENCE_ENDED: i32 = 7;
/// `confkit_updates_kind`: an invitation arrived (its token verified).
pub const CONFKIT_UPDATE_INVITATION_RECEIVED: i32 = 8;
/// `confkit_updates_kind`: a request succeeded (its result in the JSON).
pub const CONFKIT_UPDATE_REQUEST_SUCCEEDED: i32 = 9;
/// `confkit_updates_kind`: a request failed (`confkit_updates_error_code`).
pub const CONFKIT_UPDATE_REQUEST_FAILED: i32 = 10;
/// `confkit_updates_kind`: an event already applied arrived again.
pub const CONFKIT_UPDATE_DUPLICATE: i32 = 11;
/// `confkit_updates_kind`: a reply already handled arrived again.
pub const CONFKIT_UPDATE_DUPLICATE_REPLY: i32 = 12;
/// `confkit_updates_kind`: events are missing: send `confkit_client_resync`.
pub const CONFKIT_UPDATE_GAP: i32 = 13;
/// `confkit_updates_kind`: an event of a type this library does not know.
pub const CONFKIT_UPDATE_SKIPPED: i32 = 14;
/// `confkit_updates_kind`: a resync brought the view back in step.
pub const CONFKIT_UPDATE_RESYNCED: i32 = 15;

struct UpdateRow {
    kind: i32,
    conference_id: Option<CString>,
    external_id: Option<CString>,
    old_status: i32,
    new_status: i32,
    permissions: u32,
    request_id: Option<CString>,
    error_code: confkit_status,
    text: Option<CString>,
    sequence: u64,
    update: Update,
    json: OnceLock<CString>,
}

impl UpdateRow {
    fn new(update: Update) -> Self {
        let mut row = UpdateRow {
            kind: 0,
            conference_id: None,
            external_id: None,
            old_status: -1,
            new_status: -1,
            permissions: 0,
            request_id: None,
            error_code: 0,
            text: None,
            sequence: 0,
            update: Update::Resynced { snapshot: false },
            json: OnceLock::new(),
        };
        let conf = |c: &ConferenceId| Some(owned_c_string(c.to_string()));
        let participant = |row: &mut UpdateRow, p: &ParticipantView| {
            row.external_id = Some(c_string(p.external_id.as_str()));
            row.new_status = p.status as i32;
            row.permissions = p.permissions.bits();
        };
        row.kind = match &update {
            Update::ParticipantAdded {
                conference_id,
                participant: p,
            } => {
                row.conference_id = conf(conference_id);
                participant(&mut row, p);
                CONFKIT_UPDATE_PARTICIPANT_ADDED
            }
            Update::ParticipantUpdated {
                conference_id,
                participant: p,
                old_status,
            } => {
                row.conference_id = conf(conference_id);
                participant(&mut row, p);
                row.old_status = *old_status as i32;
                CONFKIT_UPDATE_PARTICIPANT_UPDATED
            }
            Update::ParticipantRemoved {
                conference_id,
                external_id,
            } => {
                row.conference_id = conf(conference_id);
                row.external_id = Some(c_string(external_id.as_str()));
                CONFKIT_UPDATE_PARTICIPANT_REMOVED
            }
            Update::MyStatusChanged {
                conference_id,
                old,
                new,
            } => {
                row.conference_id = conf(conference_id);
                row.old_status = old.map_or(-1, |s| s as i32);
                row.new_status = *new as i32;
                CONFKIT_UPDATE_MY_STATUS_CHANGED
            }
            Update::MyPermissionsChanged {
                conference_id,
                permissions,
            } => {
                row.conference_id = conf(conference_id);
                row.permissions = permissions.bits();
                CONFKIT_UPDATE_MY_PERMISSIONS_CHANGED
            }
            Update::NoLongerIn { conference_id } => {
                row.conference_id = conf(conference_id);
                CONFKIT_UPDATE_NO_LONGER_IN
            }
            Update::ConferenceEnded { conference_id, .. } => {
                row.conference_id = conf(conference_id);
                CONFKIT_UPDATE_CONFERENCE_ENDED
            }
            Update::InvitationReceived(inv) => {
                row.conference_id = conf(&inv.conference_id);
                row.external_id = Some(c_string(inv.inviter.external_id().as_str()));
                row.permissions = inv.permissions.map_or(0, |p| p.bits());
                row.text = Some(c_string(&inv.alias));
                CONFKIT_UPDATE_INVITATION_RECEIVED
            }
            Update::RequestSucceeded { id, .. } => {
                row.request_id = Some(c_string(id));
                CONFKIT_UPDATE_REQUEST_SUCCEEDED
            }
            Update::RequestFailed { id, error } => {
                row.request_id = id.as_deref().map(c_string);
                row.error_code = error.error_code;
                row.text = Some(c_string(&error.error_description));
                CONFKIT_UPDATE_REQUEST_FAILED
            }
            Update::Duplicate { sequence } => {
                row.sequence = *sequence;
                CONFKIT_UPDATE_DUPLICATE
            }
            Update::DuplicateReply { id } => {
                row.request_id = Some(c_string(id));
                CONFKIT_UPDATE_DUPLICATE_REPLY
            }
            Update::Gap { expected, .. } => {
                row.sequence = *expected;
                CONFKIT_UPDATE_GAP
            }
            Update::Skipped {
                sequence,
                type_name,
            } => {
                row.sequence = *sequence;
                row.text = Some(c_string(type_name));
                CONFKIT_UPDATE_SKIPPED
            }
            Update::Resynced { .. } => CONFKIT_UPDATE_RESYNCED,
        };
        row.update = update;
        row
    }
}

/// What one received message changed, in order. Read with the
/// `confkit_updates_*` getters (an index past the end gives the getter's
/// "none" value); strings stay valid until the list is freed. Free with
/// `confkit_updates_free`.
pub struct confkit_updates {
    rows: Vec<UpdateRow>,
}

fn update_row<'a>(updates: *const confkit_updates, index: usize) -> Option<&'a UpdateRow> {
    // SAFETY: the caller of the getter passes NULL or a live list.
    unsafe { updates.as_ref() }.and_then(|u| u.rows.get(index))
}

fn opt_ptr(s: Option<&CString>) -> *const c_char {
    s.map_or(std::ptr::null(), |c| c.as_ptr())
}

/// How many updates the list holds.
#[no_mangle]
pub unsafe extern "C" fn confkit_updates_len(updates: *const confkit_updates) -> usize {
    // SAFETY: the caller passes NULL or a live list.
    guard_or(0, || {
        unsafe { updates.as_ref() }.map_or(0, |u| u.rows.len())
    })
}

/// The update's `CONFKIT_UPDATE_*` kind (0 past the end).
#[no_mangle]
pub unsafe extern "C" fn confkit_updates_kind(
    updates: *const confkit_updates,
    index: usize,
) -> i32 {
    guard_or(0, || update_row(updates, index).map_or(0, |r| r.kind))
}

/// The conference it is about (UUID text), or NULL.
#[no_mangle]
pub unsafe extern "C" fn confkit_updates_conference_id(
    updates: *const confkit_updates,
    index: usize,
) -> *const c_char {
    guard_or(std::ptr::null(), || {
        opt_ptr(update_row(updates, index).and_then(|r| r.conference_id.as_ref()))
    })
}

/// The participant it is about (for an invitation: the inviter), or NULL.
#[no_mangle]
pub unsafe extern "C" fn confkit_updates_external_id(
    updates: *const confkit_updates,
    index: usize,
) -> *const c_char {
    guard_or(std::ptr::null(), || {
        opt_ptr(update_row(updates, index).and_then(|r| r.external_id.as_ref()))
    })
}

/// The status before (`CONFKIT_PARTICIPANT_STATUS_*`), or -1.
#[no_mangle]
pub unsafe extern "C" fn confkit_updates_old_status(
    updates: *const confkit_updates,
    index: usize,
) -> i32 {
    guard_or(-1, || {
        update_row(updates, index).map_or(-1, |r| r.old_status)
    })
}

/// The status now (`CONFKIT_PARTICIPANT_STATUS_*`), or -1.
#[no_mangle]
pub unsafe extern "C" fn confkit_updates_new_status(
    updates: *const confkit_updates,
    index: usize,
) -> i32 {
    guard_or(-1, || {
        update_row(updates, index).map_or(-1, |r| r.new_status)
    })
}

/// The permission bits it carries (the participant's, mine, or the
/// invitation's), or 0.
#[no_mangle]
pub unsafe extern "C" fn confkit_updates_permissions(
    updates: *const confkit_updates,
    index: usize,
) -> u32 {
    guard_or(0, || {
        update_row(updates, index).map_or(0, |r| r.permissions)
    })
}

/// The request id of a reply's update ("c7"), or NULL.
#[no_mangle]
pub unsafe extern "C" fn confkit_updates_request_id(
    updates: *const confkit_updates,
    index: usize,
) -> *const c_char {
    guard_or(std::ptr::null(), || {
        opt_ptr(update_row(updates, index).and_then(|r| r.request_id.as_ref()))
    })
}

/// The request number a `confkit_client_*` request call handed out, or 0.
#[no_mangle]
pub unsafe extern "C" fn confkit_updates_request_number(
    updates: *const confkit_updates,
    index: usize,
) -> u64 {
    guard_or(0, || {
        update_row(updates, index)
            .and_then(|r| r.request_id.as_ref())
            .and_then(|id| id.to_str().ok())
            .map_or(0, request_number)
    })
}

/// A failed request's `CONFKIT_STATUS_*` code, or 0.
#[no_mangle]
pub unsafe extern "C" fn confkit_updates_error_code(
    updates: *const confkit_updates,
    index: usize,
) -> confkit_status {
    guard_or(0, || update_row(updates, index).map_or(0, |r| r.error_code))
}

/// Text that goes with the update: a failed request's description, an
/// invitation's conference alias, a skipped event's type; otherwise NULL.
#[no_mangle]
pub unsafe extern "C" fn confkit_updates_text(
    updates: *const confkit_updates,
    index: usize,
) -> *const c_char {
    guard_or(std::ptr::null(), || {
        opt_ptr(update_row(updates, index).and_then(|r| r.text.as_ref()))
    })
}

/// The sequence number of a duplicate or skipped event, or the one a gap
/// expected; otherwise 0.
#[no_mangle]
pub unsafe extern "C" fn confkit_updates_sequence(
    updates: *const confkit_updates,
    index: usize,
) -> u64 {
    guard_or(0, || update_row(updates, index).map_or(0, |r| r.sequence))
}

/// The whole update as JSON (`{"kind":"participantUpdated",...}`; a
/// request's result, an invitation's token), or NULL past the end.
#[no_mangle]
pub unsafe extern "C" fn confkit_updates_json(
    updates: *const confkit_updates,
    index: usize,
) -> *const c_char {
    guard_or(std::ptr::null(), || {
        update_row(updates, index).map_or(std::ptr::null(), |r| {
            r.json
                .get_or_init(|| owned_c_string(r.update.to_json()))
                .as_ptr()
        })
    })
}

/// Frees an update list. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn confkit_updates_free(updates: *mut confkit_updates) {
    // SAFETY: the caller passes NULL or a list from confkit, once.
    guard_or((), || unsafe { free_raw(updates) })
}

// ---------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------

struct ParticipantRow {
    external_id: CString,
    name: CString,
    avatar_url: Option<CString>,
    status: i32,
    participant_type: i32,
    permissions: u32,
}

/// A copy of one conference as the client sees it. Read with the
/// `confkit_view_*` getters; strings stay valid until the view is freed.
/// Free with `confkit_view_free`.
pub struct confkit_view {
    conference_id: CString,
    alias: Option<CString>,
    joined: bool,
    ended: bool,
    my_status: i32,
    my_permissions: u32,
    token: Option<CString>,
    participants: Vec<ParticipantRow>,
}

/// `confkit_view_participant_type`: a user.
pub const CONFKIT_PARTICIPANT_TYPE_USER: i32 = 0;
/// `confkit_view_participant_type`: a listener.
pub const CONFKIT_PARTICIPANT_TYPE_LISTENER: i32 = 1;

impl confkit_view {
    fn new(id: ConferenceId, v: &ConferenceView) -> Self {
        confkit_view {
            conference_id: owned_c_string(id.to_string()),
            alias: v.alias.as_deref().map(c_string),
            joined: v.joined,
            ended: v.ended,
            my_status: v.my_status.map_or(-1, |s| s as i32),
            my_permissions: v.my_permissions.bits(),
            token: v.token().map(c_string),
            participants: v
                .participants
                .values()
                .map(|p| ParticipantRow {
                    external_id: c_string(p.external_id.as_str()),
                    name: c_string(&p.name),
                    avatar_url: p.avatar_url.as_deref().map(c_string),
                    status: p.status as i32,
                    participant_type: match p.participant_type {
                        crate::lifecycle::ParticipantType::User => CONFKIT_PARTICIPANT_TYPE_USER,
                        crate::lifecycle::ParticipantType::Listener => {
                            CONFKIT_PARTICIPANT_TYPE_LISTENER
                        }
                    },
                    permissions: p.permissions.bits(),
                })
                .collect(),
        }
    }
}

fn view<'a>(v: *const confkit_view) -> Option<&'a confkit_view> {
    // SAFETY: the caller of the getter passes NULL or a live view.
    unsafe { v.as_ref() }
}

fn participant<'a>(v: *const confkit_view, index: usize) -> Option<&'a ParticipantRow> {
    view(v).and_then(|v| v.participants.get(index))
}

/// The conference ID (UUID text); NULL for a NULL view.
#[no_mangle]
pub unsafe extern "C" fn confkit_view_conference_id(v: *const confkit_view) -> *const c_char {
    guard_or(std::ptr::null(), || {
        view(v).map_or(std::ptr::null(), |v| v.conference_id.as_ptr())
    })
}

/// The alias, or NULL when the client has not heard it yet.
#[no_mangle]
pub unsafe extern "C" fn confkit_view_alias(v: *const confkit_view) -> *const c_char {
    guard_or(std::ptr::null(), || {
        opt_ptr(view(v).and_then(|v| v.alias.as_ref()))
    })
}

/// Whether this session is connected to the conference now.
#[no_mangle]
pub unsafe extern "C" fn confkit_view_joined(v: *const confkit_view) -> bool {
    guard_or(false, || view(v).is_some_and(|v| v.joined))
}

/// Whether the conference was destroyed.
#[no_mangle]
pub unsafe extern "C" fn confkit_view_ended(v: *const confkit_view) -> bool {
    guard_or(false, || view(v).is_some_and(|v| v.ended))
}

/// The user's status (`CONFKIT_PARTICIPANT_STATUS_*`), or -1 when not known.
#[no_mangle]
pub unsafe extern "C" fn confkit_view_my_status(v: *const confkit_view) -> i32 {
    guard_or(-1, || view(v).map_or(-1, |v| v.my_status))
}

/// The user's permission bits, as the server last sent them.
#[no_mangle]
pub unsafe extern "C" fn confkit_view_my_permissions(v: *const confkit_view) -> u32 {
    guard_or(0, || view(v).map_or(0, |v| v.my_permissions))
}

/// The newest token verified for this conference (from a join's roster, a
/// snapshot, a permission update or a refresh): the one to join with again;
/// NULL when none (unprotected conferences; invitations' tokens are in the
/// inbox).
#[no_mangle]
pub unsafe extern "C" fn confkit_view_token(v: *const confkit_view) -> *const c_char {
    guard_or(std::ptr::null(), || {
        opt_ptr(view(v).and_then(|v| v.token.as_ref()))
    })
}

/// How many participants the view holds (LEFT, KICKED and DECLINE included).
#[no_mangle]
pub unsafe extern "C" fn confkit_view_participant_count(v: *const confkit_view) -> usize {
    guard_or(0, || view(v).map_or(0, |v| v.participants.len()))
}

/// The `index`th participant's external ID (ordered by it), or NULL.
#[no_mangle]
pub unsafe extern "C" fn confkit_view_participant_external_id(
    v: *const confkit_view,
    index: usize,
) -> *const c_char {
    guard_or(std::ptr::null(), || {
        participant(v, index).map_or(std::ptr::null(), |p| p.external_id.as_ptr())
    })
}

/// The `index`th participant's display name, or NULL.
#[no_mangle]
pub unsafe extern "C" fn confkit_view_participant_name(
    v: *const confkit_view,
    index: usize,
) -> *const c_char {
    guard_or(std::ptr::null(), || {
        participant(v, index).map_or(std::ptr::null(), |p| p.name.as_ptr())
    })
}

/// The `index`th participant's avatar URL, or NULL (none, or past the end).
#[no_mangle]
pub unsafe extern "C" fn confkit_view_participant_avatar_url(
    v: *const confkit_view,
    index: usize,
) -> *const c_char {
    guard_or(std::ptr::null(), || {
        opt_ptr(participant(v, index).and_then(|p| p.avatar_url.as_ref()))
    })
}

/// The `index`th participant's status, or -1.
#[no_mangle]
pub unsafe extern "C" fn confkit_view_participant_status(
    v: *const confkit_view,
    index: usize,
) -> i32 {
    guard_or(-1, || participant(v, index).map_or(-1, |p| p.status))
}

/// The `index`th participant's type (`CONFKIT_PARTICIPANT_TYPE_*`), or -1.
#[no_mangle]
pub unsafe extern "C" fn confkit_view_participant_type(
    v: *const confkit_view,
    index: usize,
) -> i32 {
    guard_or(-1, || {
        participant(v, index).map_or(-1, |p| p.participant_type)
    })
}

/// The `index`th participant's permission bits, or 0.
#[no_mangle]
pub unsafe extern "C" fn confkit_view_participant_permissions(
    v: *const confkit_view,
    index: usize,
) -> u32 {
    guard_or(0, || participant(v, index).map_or(0, |p| p.permissions))
}

/// Frees a view. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn confkit_view_free(v: *mut confkit_view) {
    // SAFETY: the caller passes NULL or a view from confkit, once.
    guard_or((), || unsafe { free_raw(v) })
}

// ---------------------------------------------------------------------------
// Invitations
// ---------------------------------------------------------------------------

/// A copy of one invitation from the inbox. Read with the
/// `confkit_invitation_*` getters; strings stay valid until it is freed.
/// Free with `confkit_invitation_free`.
pub struct confkit_invitation {
    conference_id: CString,
    alias: CString,
    inviter_id: CString,
    inviter_name: CString,
    token: Option<CString>,
    permissions: Option<u32>,
}

impl confkit_invitation {
    fn new(i: &Invitation) -> Self {
        confkit_invitation {
            conference_id: owned_c_string(i.conference_id.to_string()),
            alias: c_string(&i.alias),
            inviter_id: c_string(i.inviter.external_id().as_str()),
            inviter_name: c_string(i.inviter.name()),
            token: i.token.as_deref().map(c_string),
            permissions: i.permissions.map(|p| p.bits()),
        }
    }
}

fn invitation<'a>(i: *const confkit_invitation) -> Option<&'a confkit_invitation> {
    // SAFETY: the caller of the getter passes NULL or a live invitation.
    unsafe { i.as_ref() }
}

/// The conference's ID (UUID text); NULL for a NULL invitation.
#[no_mangle]
pub unsafe extern "C" fn confkit_invitation_conference_id(
    i: *const confkit_invitation,
) -> *const c_char {
    guard_or(std::ptr::null(), || {
        invitation(i).map_or(std::ptr::null(), |i| i.conference_id.as_ptr())
    })
}

/// The conference's alias.
#[no_mangle]
pub unsafe extern "C" fn confkit_invitation_alias(i: *const confkit_invitation) -> *const c_char {
    guard_or(std::ptr::null(), || {
        invitation(i).map_or(std::ptr::null(), |i| i.alias.as_ptr())
    })
}

/// Who invited: their external ID.
#[no_mangle]
pub unsafe extern "C" fn confkit_invitation_inviter_id(
    i: *const confkit_invitation,
) -> *const c_char {
    guard_or(std::ptr::null(), || {
        invitation(i).map_or(std::ptr::null(), |i| i.inviter_id.as_ptr())
    })
}

/// Who invited: their display name.
#[no_mangle]
pub unsafe extern "C" fn confkit_invitation_inviter_name(
    i: *const confkit_invitation,
) -> *const c_char {
    guard_or(std::ptr::null(), || {
        invitation(i).map_or(std::ptr::null(), |i| i.inviter_name.as_ptr())
    })
}

/// The token to join with (protected conferences, verified offline), or NULL.
#[no_mangle]
pub unsafe extern "C" fn confkit_invitation_token(i: *const confkit_invitation) -> *const c_char {
    guard_or(std::ptr::null(), || {
        opt_ptr(invitation(i).and_then(|i| i.token.as_ref()))
    })
}

/// Whether the invitation says what it grants (protected conferences).
#[no_mangle]
pub unsafe extern "C" fn confkit_invitation_has_permissions(i: *const confkit_invitation) -> bool {
    guard_or(false, || {
        invitation(i).is_some_and(|i| i.permissions.is_some())
    })
}

/// What it grants (permission bits), or 0.
#[no_mangle]
pub unsafe extern "C" fn confkit_invitation_permissions(i: *const confkit_invitation) -> u32 {
    guard_or(0, || invitation(i).and_then(|i| i.permissions).unwrap_or(0))
}

/// Frees an invitation. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn confkit_invitation_free(i: *mut confkit_invitation) {
    // SAFETY: the caller passes NULL or an invitation from confkit, once.
    guard_or((), || unsafe { free_raw(i) })
}

#[cfg(test)]
mod tests {
    use super::request_number;

    #[test]
    fn only_the_clients_own_ids_have_a_number() {
        assert_eq!(request_number("c7"), 7);
        assert_eq!(request_number("c1234"), 1234);
        for other in ["c07", "c+7", "c", "7", "r3", "c7x", "c 7"] {
            assert_eq!(request_number(other), 0, "{other}");
        }
    }
}
