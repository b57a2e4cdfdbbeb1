//! The device's reading of server messages, with confkit's own strict JSON
//! reader instead of serde_json, so that a phone's library links no general
//! JSON library (issue 13, item 5).
//!
//! Each value is read as the serde derives of the domain types read it (the
//! authority writes with those derives): members in any order, unknown
//! members skipped (except in a participant's info, which refuses them), a
//! member given twice refused, an optional member absent or `null`.
//! The tests (`read_tests.rs`) and the `wire_client` fuzz target compare
//! the two readings (serde's is `read_reference.rs`). Where they differ,
//! this reader is the stricter one, on purpose:
//! - every string, also a skipped one, must be UTF-8 without a lone
//!   surrogate escape (RFC 8259 section 8.1);
//! - a struct must be a JSON object (serde would also read an array of its
//!   members in order), and a name (a status, a type, a reason) a string
//!   (serde would also read `{"EXPIRED":null}`);
//! - a number beyond f64's range is refused wherever it is (serde_json
//!   refused it only in the values it built; the bound is the same, the
//!   correctly rounded one, because confkit builds serde_json with
//!   `float_roundtrip`);
//! - an event's `type` given twice refuses the message (serde's derived
//!   event refused it too, but the client's old one-pass reader took the
//!   event when its `type` came first);
//! - a message may nest at most [`super::MAX_NESTING`] containers, also in
//!   members this library skips (serde_json's limit applied to what it
//!   read into types and values, not to what it skipped).

use std::borrow::Cow;

use super::message::IncomingEvent;
use super::{VersionSeen, WireError, MAX_MESSAGE_BYTES, MAX_NESTING, PROTOCOL_VERSION};
use crate::error::ErrorBody;
use crate::event::{EndReason, EventKind, ParticipantView};
use crate::identity::{ConferenceId, ExternalId, ParticipantInfo};
use crate::json::{JsonError, Reader};
use crate::lifecycle::{ParticipantStatus, ParticipantType};
use crate::permissions::{Permission, PermissionSet};
use crate::snapshot::{ConferenceSnapshot, SessionSnapshot, SnapshotParticipant};

type R<T> = Result<T, JsonError>;

/// Fills `slot` from a member's value; a member seen twice is refused.
fn field<'a, T>(
    slot: &mut Option<T>,
    name: &str,
    r: &mut Reader<'a>,
    read: impl FnOnce(&mut Reader<'a>) -> R<T>,
) -> R<()> {
    if slot.is_some() {
        return Err(r.error(format!("duplicate member \"{name}\"")));
    }
    *slot = Some(read(r)?);
    Ok(())
}

/// A required member's value.
fn required<T>(slot: Option<T>, name: &'static str, r: &Reader<'_>) -> R<T> {
    slot.ok_or_else(|| r.error(format!("missing member \"{name}\"")))
}

/// `null` as `None`, otherwise the value.
fn opt<'a, T>(r: &mut Reader<'a>, read: impl FnOnce(&mut Reader<'a>) -> R<T>) -> R<Option<T>> {
    if r.null()? {
        Ok(None)
    } else {
        read(r).map(Some)
    }
}

fn string(r: &mut Reader<'_>) -> R<String> {
    r.string().map(Cow::into_owned)
}

fn u32(r: &mut Reader<'_>) -> R<u32> {
    let n = r.u64()?;
    u32::try_from(n).map_err(|_| r.error("integer out of range"))
}

fn i32(r: &mut Reader<'_>) -> R<i32> {
    let n = r.i64()?;
    i32::try_from(n).map_err(|_| r.error("integer out of range"))
}

fn external_id(r: &mut Reader<'_>) -> R<ExternalId> {
    let s = string(r)?;
    ExternalId::new(s).map_err(|e| r.error(e.to_string()))
}

/// A conference ID inside a result: any spelling of a UUID, as its serde
/// derive reads it.
fn any_conference_id(r: &mut Reader<'_>) -> R<ConferenceId> {
    let s = r.string()?;
    uuid::Uuid::try_parse(&s)
        .map(ConferenceId::from_uuid)
        .map_err(|_| r.error("not a UUID"))
}

fn permission_set(r: &mut Reader<'_>) -> R<PermissionSet> {
    let mut set = PermissionSet::EMPTY;
    r.array(|r| {
        let name = r.string()?;
        let p = Permission::from_name(&name).map_err(|e| r.error(e.to_string()))?;
        set = set.with(p);
        Ok(())
    })?;
    Ok(set)
}

fn status(r: &mut Reader<'_>) -> R<ParticipantStatus> {
    let name = r.string()?;
    ParticipantStatus::from_name(&name).map_err(|e| r.error(e.to_string()))
}

fn participant_type(r: &mut Reader<'_>) -> R<ParticipantType> {
    match &*r.string()? {
        "USER" => Ok(ParticipantType::User),
        "LISTENER" => Ok(ParticipantType::Listener),
        other => Err(r.error(format!("unknown participant type {other:?}"))),
    }
}

fn end_reason(r: &mut Reader<'_>) -> R<EndReason> {
    match &*r.string()? {
        "TERMINATED" => Ok(EndReason::Terminated),
        "EXPIRED" => Ok(EndReason::Expired),
        other => Err(r.error(format!("unknown end reason {other:?}"))),
    }
}

/// Who invited: `externalId`, `name` (default empty), `avatarUrl`; no other
/// member.
fn participant_info(r: &mut Reader<'_>) -> R<ParticipantInfo> {
    let (mut id, mut name, mut url) = (None, None, None);
    r.members(|key, r| match key {
        "externalId" => field(&mut id, key, r, external_id),
        "name" => field(&mut name, key, r, string),
        "avatarUrl" => field(&mut url, key, r, |r| opt(r, string)),
        _ => Err(r.error(format!("unknown member \"{key}\""))),
    })?;
    let id = required(id, "externalId", r)?;
    ParticipantInfo::new(id, name.unwrap_or_default(), url.flatten())
        .map_err(|e| r.error(e.to_string()))
}

/// A participant's members, and a snapshot's `revision` when `revision` is
/// given a slot.
fn view_members(r: &mut Reader<'_>, mut revision: Option<&mut Option<u64>>) -> R<ParticipantView> {
    let (mut id, mut name, mut url, mut st, mut ty, mut perms) =
        (None, None, None, None, None, None);
    r.members(|key, r| match key {
        "externalId" => field(&mut id, key, r, external_id),
        "name" => field(&mut name, key, r, string),
        "avatarUrl" => field(&mut url, key, r, |r| opt(r, string)),
        "status" => field(&mut st, key, r, status),
        "type" => field(&mut ty, key, r, participant_type),
        "permissions" => field(&mut perms, key, r, permission_set),
        "revision" => match revision.as_deref_mut() {
            Some(slot) => field(slot, key, r, Reader::u64),
            None => r.skip(),
        },
        _ => r.skip(),
    })?;
    Ok(ParticipantView {
        external_id: required(id, "externalId", r)?,
        name: required(name, "name", r)?,
        avatar_url: url.flatten(),
        status: required(st, "status", r)?,
        participant_type: required(ty, "type", r)?,
        permissions: required(perms, "permissions", r)?,
    })
}

fn participant_view(r: &mut Reader<'_>) -> R<ParticipantView> {
    view_members(r, None)
}

fn snapshot_participant(r: &mut Reader<'_>) -> R<SnapshotParticipant> {
    let mut revision = None;
    let view = view_members(r, Some(&mut revision))?;
    Ok(SnapshotParticipant {
        view,
        revision: required(revision, "revision", r)?,
    })
}

fn list<'a, T>(r: &mut Reader<'a>, mut read: impl FnMut(&mut Reader<'a>) -> R<T>) -> R<Vec<T>> {
    let mut out = Vec::new();
    r.array(|r| {
        out.push(read(r)?);
        Ok(())
    })?;
    Ok(out)
}

/// One conference of a roster or a snapshot.
pub(crate) fn conference_snapshot(r: &mut Reader<'_>) -> R<ConferenceSnapshot> {
    let mut conf = None;
    let (mut alias, mut owner, mut protected, mut audio_only, mut limit) =
        (None, None, None, None, None);
    let (mut my_status, mut my_type, mut my_perms, mut token, mut people) =
        (None, None, None, None, None);
    r.members(|key, r| match key {
        "conferenceId" => field(&mut conf, key, r, any_conference_id),
        "alias" => field(&mut alias, key, r, string),
        "owner" => field(&mut owner, key, r, external_id),
        "isProtected" => field(&mut protected, key, r, Reader::boolean),
        "audioOnly" => field(&mut audio_only, key, r, Reader::boolean),
        "participantLimit" => field(&mut limit, key, r, |r| opt(r, u32)),
        "myStatus" => field(&mut my_status, key, r, status),
        "myType" => field(&mut my_type, key, r, participant_type),
        "myPermissions" => field(&mut my_perms, key, r, permission_set),
        "token" => field(&mut token, key, r, |r| opt(r, string)),
        "participants" => field(&mut people, key, r, |r| list(r, snapshot_participant)),
        _ => r.skip(),
    })?;
    Ok(ConferenceSnapshot {
        conference_id: required(conf, "conferenceId", r)?,
        alias: required(alias, "alias", r)?,
        owner: required(owner, "owner", r)?,
        is_protected: required(protected, "isProtected", r)?,
        audio_only: required(audio_only, "audioOnly", r)?,
        participant_limit: limit.flatten(),
        my_status: required(my_status, "myStatus", r)?,
        my_type: required(my_type, "myType", r)?,
        my_permissions: required(my_perms, "myPermissions", r)?,
        token: token.flatten(),
        participants: required(people, "participants", r)?,
    })
}

/// Every conference of a session, as of a sequence number.
pub(crate) fn session_snapshot(r: &mut Reader<'_>) -> R<SessionSnapshot> {
    let (mut as_of, mut conferences) = (None, None);
    r.members(|key, r| match key {
        "asOfSequence" => field(&mut as_of, key, r, Reader::u64),
        "conferences" => field(&mut conferences, key, r, |r| list(r, conference_snapshot)),
        _ => r.skip(),
    })?;
    Ok(SessionSnapshot {
        as_of_sequence: required(as_of, "asOfSequence", r)?,
        conferences: required(conferences, "conferences", r)?,
    })
}

/// What a join or listen reply holds: the conference's roster, as of a
/// sequence number.
#[derive(Debug)]
pub(crate) struct EnterResult {
    pub(crate) conference: ConferenceSnapshot,
    pub(crate) as_of_sequence: u64,
}

fn enter_members(r: &mut Reader<'_>) -> R<EnterResult> {
    let (mut conference, mut as_of) = (None, None);
    r.members(|key, r| match key {
        "conference" => field(&mut conference, key, r, conference_snapshot),
        "asOfSequence" => field(&mut as_of, key, r, Reader::u64),
        _ => r.skip(),
    })?;
    Ok(EnterResult {
        conference: required(conference, "conference", r)?,
        as_of_sequence: required(as_of, "asOfSequence", r)?,
    })
}

/// A whole text read by `read`.
fn whole<'a, T>(raw: &'a [u8], read: impl FnOnce(&mut Reader<'a>) -> R<T>) -> R<T> {
    let mut r = Reader::new(raw);
    let value = read(&mut r)?;
    r.end()?;
    Ok(value)
}

/// Reads a join or listen reply's result from its text.
pub(crate) fn enter_result(raw: &[u8]) -> R<EnterResult> {
    whole(raw, enter_members)
}

/// An event as read: a known kind, or the `type` of one this library does
/// not know, or knows in a shape it cannot read (its members skipped).
#[derive(Debug)]
pub(crate) enum EventSlot {
    Known(EventKind),
    Unknown(String),
}

/// An event member's value as read: `None` for `null`.
type EventValue = Option<Result<EventSlot, WireError>>;

/// An event's members inside a resync reply's list.
#[derive(Debug)]
pub(crate) struct EventFields<'a> {
    sequence: Option<&'a [u8]>,
    conference_id: Option<&'a [u8]>,
    event: EventValue,
}

impl EventFields<'_> {
    /// The event.
    pub(crate) fn read(self) -> Result<IncomingEvent, WireError> {
        incoming(self.sequence, self.conference_id, self.event)
    }
}

/// A raw member, `null` as `None`.
fn raw_or_null<'a>(r: &mut Reader<'a>) -> R<Option<&'a [u8]>> {
    let raw = r.raw()?;
    Ok((raw != b"null").then_some(raw))
}

fn event_fields<'a>(r: &mut Reader<'a>) -> R<EventFields<'a>> {
    let (mut sequence, mut conference_id, mut event) = (None, None, None);
    r.members(|key, r| match key {
        "sequence" => field(&mut sequence, key, r, raw_or_null),
        "conferenceId" => field(&mut conference_id, key, r, raw_or_null),
        "event" => field(&mut event, key, r, event_member),
        _ => r.skip(),
    })?;
    Ok(EventFields {
        sequence: sequence.flatten(),
        conference_id: conference_id.flatten(),
        event: event.flatten(),
    })
}

/// What a resync reply holds: the missed events, or a snapshot.
#[derive(Debug)]
pub(crate) struct ResyncResult<'a> {
    pub(crate) snapshot: Option<SessionSnapshot>,
    pub(crate) events: Option<Vec<EventFields<'a>>>,
}

fn resync_members<'a>(r: &mut Reader<'a>) -> R<ResyncResult<'a>> {
    let (mut snapshot, mut events) = (None, None);
    r.members(|key, r| match key {
        "snapshot" => field(&mut snapshot, key, r, |r| opt(r, session_snapshot)),
        "events" => field(&mut events, key, r, |r| opt(r, |r| list(r, event_fields))),
        _ => r.skip(),
    })?;
    Ok(ResyncResult {
        snapshot: snapshot.flatten(),
        events: events.flatten(),
    })
}

/// Reads a resync reply's result from its text.
pub(crate) fn resync_result(raw: &[u8]) -> R<ResyncResult<'_>> {
    whole(raw, resync_members)
}

/// The members of each event type (those serde's derive reads; any other
/// is skipped), or `None` for a type this library does not know.
fn fields_of(tag: &str) -> Option<&'static [&'static str]> {
    Some(match tag {
        "conferenceCreated" => &["conferenceAlias", "isProtected"],
        "conferenceEnded" => &["reason"],
        "invitationReceived" => &["conferenceAlias", "inviter", "token", "permissions"],
        "participantAdded" => &["participant"],
        "participantUpdated" => &["participant", "oldStatus", "newStatus"],
        "permissionsUpdated" => &["permissions", "token"],
        "switched" | "participantRemoved" => &["externalId"],
        "tokenRefreshed" => &["token", "permissions", "expiresAt"],
        "eventsMissed" => &["firstMissedSequence", "firstAvailableSequence"],
        _ => return None,
    })
}

/// Reads an event member: in one pass when the event's `type` comes first
/// (as the server writes it), otherwise (or when that pass fails) from its
/// text, its `type` first. Both give the same answer.
fn event_member<'a>(r: &mut Reader<'a>) -> R<EventValue> {
    if r.null()? {
        return Ok(None);
    }
    let mark = r.mark();
    if r.peek_token()? == b'{' {
        if let Ok(slot) = event_one_pass(r) {
            return Ok(Some(Ok(slot)));
        }
        r.rewind(mark);
    }
    let raw = r.raw()?;
    Ok(Some(event(raw)))
}

fn event_one_pass(r: &mut Reader<'_>) -> R<EventSlot> {
    let mut tag: Option<(String, Option<&'static [&'static str]>)> = None;
    let mut m = EventMembers::default();
    r.members(|key, r| match &tag {
        None if key == "type" => {
            let t = string(r)?;
            let fields = fields_of(&t);
            tag = Some((t, fields));
            Ok(())
        }
        None => Err(r.error("the event's type does not come first")),
        Some(_) if key == "type" => Err(r.error("duplicate member \"type\"")),
        Some((_, Some(fields))) if fields.contains(&key) => m.member(key, r),
        Some(_) => r.skip(),
    })?;
    match tag {
        Some((t, Some(_))) => build(&t, m, r).map(EventSlot::Known),
        Some((t, None)) => Ok(EventSlot::Unknown(t)),
        None => Err(r.error("an event without a type")),
    }
}

/// Reads an event object from its text: its `type` first, then its members
/// for that type.
fn event(raw: &[u8]) -> Result<EventSlot, WireError> {
    if !raw.starts_with(b"{") {
        return Err(WireError::Invalid("event must be an object".into()));
    }
    let mut tag: Option<Option<String>> = None;
    let read_tag = whole(raw, |r| {
        r.members(|key, r| match key {
            "type" => field(&mut tag, key, r, |r| opt(r, string)),
            _ => r.skip(),
        })
    });
    let (Ok(()), Some(Some(tag))) = (read_tag, tag) else {
        return Err(WireError::Invalid("event.type must be a string".into()));
    };
    let Some(fields) = fields_of(&tag) else {
        return Ok(EventSlot::Unknown(tag));
    };
    let mut m = EventMembers::default();
    let kind = whole(raw, |r| {
        r.members(|key, r| {
            if fields.contains(&key) {
                m.member(key, r)
            } else {
                r.skip()
            }
        })?;
        build(&tag, m, r)
    });
    Ok(match kind {
        Ok(kind) => EventSlot::Known(kind),
        Err(_) => EventSlot::Unknown(tag),
    })
}

/// The event of type `tag` (one [`fields_of`] knows) from its members.
fn build(tag: &str, m: EventMembers, r: &Reader<'_>) -> R<EventKind> {
    Ok(match tag {
        "conferenceCreated" => EventKind::ConferenceCreated {
            conference_alias: required(m.conference_alias, "conferenceAlias", r)?,
            is_protected: required(m.is_protected, "isProtected", r)?,
        },
        "conferenceEnded" => EventKind::ConferenceEnded {
            reason: required(m.reason, "reason", r)?,
        },
        "invitationReceived" => EventKind::InvitationReceived {
            conference_alias: required(m.conference_alias, "conferenceAlias", r)?,
            inviter: required(m.inviter, "inviter", r)?,
            token: m.token.flatten(),
            permissions: m.permissions.flatten(),
        },
        "participantAdded" => EventKind::ParticipantAdded {
            participant: required(m.participant, "participant", r)?,
        },
        "participantUpdated" => EventKind::ParticipantUpdated {
            participant: required(m.participant, "participant", r)?,
            old_status: required(m.old_status, "oldStatus", r)?,
            new_status: required(m.new_status, "newStatus", r)?,
        },
        "permissionsUpdated" => EventKind::PermissionsUpdated {
            permissions: required(m.permissions.flatten(), "permissions", r)?,
            token: m.token.flatten(),
        },
        "switched" => EventKind::Switched {
            external_id: required(m.external_id, "externalId", r)?,
        },
        "participantRemoved" => EventKind::ParticipantRemoved {
            external_id: required(m.external_id, "externalId", r)?,
        },
        "tokenRefreshed" => EventKind::TokenRefreshed {
            token: required(m.token.flatten(), "token", r)?,
            permissions: required(m.permissions.flatten(), "permissions", r)?,
            expires_at: required(m.expires_at, "expiresAt", r)?,
        },
        "eventsMissed" => EventKind::EventsMissed {
            first_missed_sequence: required(m.first_missed_sequence, "firstMissedSequence", r)?,
            first_available_sequence: required(
                m.first_available_sequence,
                "firstAvailableSequence",
                r,
            )?,
        },
        other => return Err(r.error(format!("unknown event type {other:?}"))),
    })
}

/// The members any event type may have, each read as that type reads it.
/// `token` and `permissions` are optional in some types and required in
/// others: they are read as optional (`null` allowed) and a required one
/// that is `null` counts as missing, which serde refuses too.
#[derive(Default)]
struct EventMembers {
    conference_alias: Option<String>,
    is_protected: Option<bool>,
    reason: Option<EndReason>,
    inviter: Option<ParticipantInfo>,
    token: Option<Option<String>>,
    permissions: Option<Option<PermissionSet>>,
    participant: Option<ParticipantView>,
    old_status: Option<ParticipantStatus>,
    new_status: Option<ParticipantStatus>,
    external_id: Option<ExternalId>,
    expires_at: Option<u64>,
    first_missed_sequence: Option<u64>,
    first_available_sequence: Option<u64>,
}

impl EventMembers {
    fn member(&mut self, key: &str, r: &mut Reader<'_>) -> R<()> {
        match key {
            "conferenceAlias" => field(&mut self.conference_alias, key, r, string),
            "isProtected" => field(&mut self.is_protected, key, r, Reader::boolean),
            "reason" => field(&mut self.reason, key, r, end_reason),
            "inviter" => field(&mut self.inviter, key, r, participant_info),
            "token" => field(&mut self.token, key, r, |r| opt(r, string)),
            "permissions" => field(&mut self.permissions, key, r, |r| opt(r, permission_set)),
            "participant" => field(&mut self.participant, key, r, participant_view),
            "oldStatus" => field(&mut self.old_status, key, r, status),
            "newStatus" => field(&mut self.new_status, key, r, status),
            "externalId" => field(&mut self.external_id, key, r, external_id),
            "expiresAt" => field(&mut self.expires_at, key, r, Reader::u64),
            "firstMissedSequence" => field(&mut self.first_missed_sequence, key, r, Reader::u64),
            "firstAvailableSequence" => {
                field(&mut self.first_available_sequence, key, r, Reader::u64)
            }
            _ => r.skip(),
        }
    }
}

/// An event from its members.
fn incoming(
    sequence: Option<&[u8]>,
    conference_id: Option<&[u8]>,
    event: EventValue,
) -> Result<IncomingEvent, WireError> {
    let event = event.transpose()?;
    let sequence = sequence
        .and_then(|raw| Reader::new(raw).u64().ok())
        .ok_or_else(|| WireError::Invalid("sequence must be a whole number".into()))?;
    let conference_id = match conference_id {
        None | Some(b"null") => None,
        Some(raw) => {
            let s = Reader::new(raw)
                .string()
                .map_err(|_| WireError::Invalid("conferenceId must be a string".into()))?;
            Some(
                ConferenceId::parse(&s)
                    .map_err(|e| WireError::Invalid(format!("conferenceId: {e}")))?,
            )
        }
    };
    let (type_name, kind) = match event {
        Some(EventSlot::Known(kind)) => (Cow::Borrowed(kind.type_name()), Some(kind)),
        Some(EventSlot::Unknown(t)) => (Cow::Owned(t), None),
        None => return Err(WireError::Invalid("event must be an object".into())),
    };
    Ok(IncomingEvent {
        sequence,
        conference_id,
        type_name,
        kind,
    })
}

/// What the client expects a reply's result to be (by its request id), so
/// that it is read into that type in the same pass as the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Kept as text only.
    Raw,
    /// A join's or listen's roster.
    Enter,
    /// A resync's events or snapshot.
    Resync,
}

/// A result read into what was expected, or why it could not be.
#[derive(Debug)]
pub(crate) enum Typed<'a> {
    /// Not read (text only, or its request id came after it).
    None,
    Enter(R<EnterResult>),
    Resync(R<ResyncResult<'a>>),
}

/// A reply's result: its text, and what it was read into.
#[derive(Debug)]
pub(crate) struct ResultBody<'a> {
    pub(crate) raw: &'a [u8],
    pub(crate) typed: Typed<'a>,
}

/// Reads a result member: into the expected type when it reads as one
/// (its text is what that pass went over), otherwise skipped as text.
fn result_member<'a>(r: &mut Reader<'a>, expect: Expect) -> R<ResultBody<'a>> {
    let mark = r.mark();
    let typed = match expect {
        Expect::Raw => Typed::None,
        Expect::Enter => match enter_members(r) {
            Ok(e) => {
                return Ok(ResultBody {
                    raw: r.since(mark),
                    typed: Typed::Enter(Ok(e)),
                })
            }
            Err(e) => Typed::Enter(Err(e)),
        },
        Expect::Resync => match resync_members(r) {
            Ok(x) => {
                return Ok(ResultBody {
                    raw: r.since(mark),
                    typed: Typed::Resync(Ok(x)),
                })
            }
            Err(e) => Typed::Resync(Err(e)),
        },
    };
    r.rewind(mark);
    let raw = r.raw()?;
    Ok(ResultBody { raw, typed })
}

/// A server message as the device reads it.
#[derive(Debug)]
pub(crate) enum ServerRead<'a> {
    Reply {
        id: Option<String>,
        outcome: Result<ResultBody<'a>, ErrorBody>,
    },
    Event(IncomingEvent),
}

/// A server message's members that this library reads: the event and the
/// result already read, the others still as text (`null` included).
#[derive(Default)]
struct Top<'a> {
    v: Option<&'a [u8]>,
    message_type: Option<&'a [u8]>,
    id: Option<&'a [u8]>,
    sequence: Option<&'a [u8]>,
    conference_id: Option<&'a [u8]>,
    event: Option<EventValue>,
    result: Option<ResultBody<'a>>,
    error: Option<&'a [u8]>,
}

fn error_body(raw: &[u8]) -> R<ErrorBody> {
    let (mut code, mut reason, mut description) = (None, None, None);
    whole(raw, |r| {
        r.members(|key, r| match key {
            "error_code" => field(&mut code, key, r, i32),
            "error_reason" => field(&mut reason, key, r, string),
            "error_description" => field(&mut description, key, r, string),
            _ => r.skip(),
        })?;
        Ok(ErrorBody {
            error_code: required(code, "error_code", r)?,
            error_reason: required(reason, "error_reason", r)?,
            error_description: required(description, "error_description", r)?,
        })
    })
}

/// A request id's text, if `raw` is a JSON string.
fn id_text(raw: &[u8]) -> Option<Cow<'_, str>> {
    Reader::new(raw).string().ok()
}

/// Reads a server message (within [`MAX_MESSAGE_BYTES`], nested at most
/// [`MAX_NESTING`] deep); `expect` tells, by request id, what a reply's
/// result should be read into.
pub(crate) fn server_message<'a>(
    bytes: &'a [u8],
    expect: &dyn Fn(&str) -> Expect,
) -> Result<ServerRead<'a>, WireError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(WireError::TooLarge {
            len: bytes.len(),
            max: MAX_MESSAGE_BYTES,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| WireError::NotJson(e.to_string()))?;
    let mut m = Top::default();
    let mut r = Reader::with_text(text, MAX_NESTING).finite_numbers();
    r.members(|key, r| match key {
        "v" => field(&mut m.v, key, r, Reader::raw),
        "type" => field(&mut m.message_type, key, r, Reader::raw),
        "id" => field(&mut m.id, key, r, Reader::raw),
        "sequence" => field(&mut m.sequence, key, r, Reader::raw),
        "conferenceId" => field(&mut m.conference_id, key, r, Reader::raw),
        "event" => field(&mut m.event, key, r, event_member),
        "result" => {
            // The server writes `type` and `id` first.
            let shape = match (m.message_type, m.id) {
                (Some(b"\"reply\""), Some(id)) => id_text(id).map_or(Expect::Raw, |id| expect(&id)),
                _ => Expect::Raw,
            };
            field(&mut m.result, key, r, |r| result_member(r, shape))
        }
        "error" => field(&mut m.error, key, r, Reader::raw),
        _ => r.skip(),
    })
    .and_then(|()| r.end())
    .map_err(|e| WireError::NotJson(e.to_string()))?;
    match m.v.and_then(|raw| Reader::new(raw).u64().ok()) {
        Some(PROTOCOL_VERSION) => {}
        Some(n) => {
            return Err(WireError::UnsupportedVersion {
                found: VersionSeen::Number(n),
            })
        }
        None => {
            return Err(WireError::UnsupportedVersion {
                found: VersionSeen::Missing,
            })
        }
    }
    let message_type = m
        .message_type
        .and_then(id_text)
        .ok_or_else(|| WireError::Invalid("type must be a string".into()))?;
    match &*message_type {
        "event" => Ok(ServerRead::Event(incoming(
            m.sequence,
            m.conference_id,
            m.event.flatten(),
        )?)),
        "reply" => {
            let id = match m.id {
                None | Some(b"null") => None,
                Some(raw) => Some(
                    id_text(raw)
                        .map(Cow::into_owned)
                        .ok_or_else(|| WireError::Invalid("id must be a string".into()))?,
                ),
            };
            let outcome = match (m.result, m.error) {
                (Some(result), None) if result.raw.starts_with(b"{") => Ok(result),
                (None, Some(e)) => {
                    Err(error_body(e).map_err(|e| WireError::Invalid(format!("error: {e}")))?)
                }
                _ => {
                    return Err(WireError::Invalid(
                        "a reply has either a result object or an error".into(),
                    ))
                }
            };
            Ok(ServerRead::Reply { id, outcome })
        }
        other => Err(WireError::UnknownType(other.to_owned())),
    }
}

#[cfg(any(test, fuzzing))]
#[path = "read_reference.rs"]
pub(crate) mod reference;

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;
