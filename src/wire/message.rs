//! The protocol's messages and their encoding.
//!
//! Device → server: a [`Request`] (`{"v":1,"id":"…","type":"join",…}`), one
//! type per SDK operation. Server → device: a reply to each request
//! (`{"v":1,"type":"reply","id":"…","result":{…}}` or `…,"error":{…}}`) and the
//! session's events (`{"v":1,"type":"event","sequence":7,"conferenceId":"…",
//! "event":{"type":"participantAdded",…}}`).

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;

use super::event_in::EventSlot;
use super::{VersionSeen, WireError, MAX_MESSAGE_BYTES, MAX_REQUEST_ID_BYTES, PROTOCOL_VERSION};
use crate::error::ErrorBody;
use crate::event::{Event, EventKind};
use crate::identity::{ConferenceId, ExternalId};
use crate::permissions::PermissionSet;
use crate::snapshot::SessionSnapshot;

/// The id a device gives a request: 1 to [`MAX_REQUEST_ID_BYTES`] bytes, no
/// control characters. The reply carries it back.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct RequestId(String);

impl RequestId {
    /// Checks and wraps a request id.
    pub fn new(id: impl Into<String>) -> Result<Self, WireError> {
        let id = id.into();
        if id.is_empty() || id.len() > MAX_REQUEST_ID_BYTES {
            return Err(WireError::Invalid(format!(
                "id must be 1 to {MAX_REQUEST_ID_BYTES} bytes, not {}",
                id.len()
            )));
        }
        if id.chars().any(char::is_control) {
            return Err(WireError::Invalid("id has a control character".into()));
        }
        Ok(RequestId(id))
    }

    /// `c<n>`: the ids a [`crate::client::Client`] gives its requests.
    #[must_use]
    pub fn numbered(n: u64) -> Self {
        RequestId(format!("c{n}"))
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A request from a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Chosen by the device; a retransmission reuses it.
    pub id: RequestId,
    /// What to do.
    pub op: Op,
}

/// What the media layer reports (`mediaState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MediaState {
    /// The media connection is up (CONNECTING or INACTIVE → ON_AIR).
    Connected,
    /// It failed (→ ERROR).
    Failure,
    /// Trouble (ON_AIR → WARNING).
    Warning,
    /// The trouble is over (WARNING → ON_AIR).
    Recovered,
}

/// One invitee of an `invite` request: an object, never an array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireInvitee {
    /// Who.
    pub external_id: ExternalId,
    /// What they may do; absent for the default set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<PermissionSet>,
}

impl<'de> Deserialize<'de> for WireInvitee {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WireInvitee;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an invitee object {\"externalId\": …, \"permissions\": […]}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireInvitee, A::Error> {
                let mut external_id = None;
                let mut permissions = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "externalId" if external_id.is_none() => {
                            external_id = Some(map.next_value()?);
                        }
                        "permissions" if permissions.is_none() => {
                            permissions = Some(map.next_value()?);
                        }
                        "externalId" | "permissions" => {
                            return Err(de::Error::custom(format!("{key} is given twice")));
                        }
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(WireInvitee {
                    external_id: external_id
                        .ok_or_else(|| de::Error::missing_field("externalId"))?,
                    permissions,
                })
            }
        }
        d.deserialize_map(V)
    }
}

/// The operations a device asks for, one per SDK operation. Conference IDs
/// are text here and checked when the request runs (one spelling only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Op {
    /// Create a conference (or find the live one with this alias).
    Create {
        /// The alias.
        alias: String,
        /// Whether joining needs a token.
        #[serde(default)]
        protected: bool,
        /// Audio only.
        #[serde(default)]
        audio_only: bool,
        /// Most participants at once.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant_limit: Option<u32>,
        /// Seconds an empty conference lives.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        empty_ttl_secs: Option<u64>,
        /// Lifetime of the conference's tokens.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token_ttl_secs: Option<u64>,
    },
    /// Look a live conference up by ID or alias.
    Fetch {
        /// Its ID (wins over the alias).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conference_id: Option<String>,
        /// Its alias.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alias: Option<String>,
    },
    /// Join as a user.
    Join {
        /// The conference.
        conference_id: String,
        /// The access token (protected conferences).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
    },
    /// Join as a listener.
    Listen {
        /// The conference.
        conference_id: String,
        /// The access token (protected conferences).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
    },
    /// Report what the media layer saw.
    MediaState {
        /// The conference.
        conference_id: String,
        /// The new state.
        state: MediaState,
    },
    /// Leave the conference.
    Leave {
        /// The conference.
        conference_id: String,
    },
    /// Decline the invitation.
    Decline {
        /// The conference.
        conference_id: String,
    },
    /// Invite one or many users.
    Invite {
        /// The conference.
        conference_id: String,
        /// Who, each with or without permissions.
        invitees: Vec<WireInvitee>,
    },
    /// Remove a participant.
    Kick {
        /// The conference.
        conference_id: String,
        /// Who.
        external_id: ExternalId,
    },
    /// Replace a participant's permissions.
    UpdatePermissions {
        /// The conference.
        conference_id: String,
        /// Whose.
        external_id: ExternalId,
        /// The new set.
        permissions: PermissionSet,
    },
    /// End the conference (its owner).
    Terminate {
        /// The conference.
        conference_id: String,
    },
    /// Nothing but "this device is still here".
    KeepAlive {},
    /// "I applied your events up to `lastSequence`": the reply carries the
    /// events after it, or one snapshot.
    Resync {
        /// The last sequence number the device applied (0 for none).
        last_sequence: u64,
        /// Ask for a snapshot whatever the platform still holds (a device
        /// that lost a roster, or restarted without its state).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        snapshot: bool,
    },
}

/// The `type` of every request of this protocol version.
pub const REQUEST_TYPES: [&str; 13] = [
    "create",
    "fetch",
    "join",
    "listen",
    "mediaState",
    "leave",
    "decline",
    "invite",
    "kick",
    "updatePermissions",
    "terminate",
    "keepAlive",
    "resync",
];

impl Op {
    /// The stable `type` name.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Op::Create { .. } => "create",
            Op::Fetch { .. } => "fetch",
            Op::Join { .. } => "join",
            Op::Listen { .. } => "listen",
            Op::MediaState { .. } => "mediaState",
            Op::Leave { .. } => "leave",
            Op::Decline { .. } => "decline",
            Op::Invite { .. } => "invite",
            Op::Kick { .. } => "kick",
            Op::UpdatePermissions { .. } => "updatePermissions",
            Op::Terminate { .. } => "terminate",
            Op::KeepAlive {} => "keepAlive",
            Op::Resync { .. } => "resync",
        }
    }
}

impl Request {
    /// The request as wire bytes (what a device sends).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut value = serde_json::to_value(&self.op).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            map.insert("v".into(), Value::from(PROTOCOL_VERSION));
            map.insert("id".into(), Value::from(self.id.as_str()));
        }
        serde_json::to_vec(&value).unwrap_or_default()
    }

    /// Reads a request. On failure, also returns the request id when it
    /// could be read, so the error reply can carry it.
    pub fn parse(bytes: &[u8]) -> Result<Request, (Option<RequestId>, WireError)> {
        let head = head(bytes).map_err(|e| (None, e))?;
        let id = match head.id {
            Some(Value::String(s)) => RequestId::new(s).map_err(|e| (None, e))?,
            Some(_) => return Err((None, WireError::Invalid("id must be a string".into()))),
            None => return Err((None, WireError::Invalid("id is missing".into()))),
        };
        let fail = |e| Err((Some(id.clone()), e));
        if let Err(e) = check_version(head.v.as_ref()) {
            return fail(e);
        }
        match &head.message_type {
            Some(Value::String(t)) if REQUEST_TYPES.contains(&t.as_str()) => {}
            Some(Value::String(t)) => return fail(WireError::UnknownType(t.clone())),
            _ => return fail(WireError::Invalid("type must be a string".into())),
        }
        match serde_json::from_slice::<Op>(bytes) {
            Ok(op) => Ok(Request { id, op }),
            Err(e) => {
                let msg = e.to_string();
                match msg.strip_prefix("unknown permission name ") {
                    Some(name) => {
                        let name = name.split(" at line").next().unwrap_or(name);
                        fail(WireError::UnknownPermission(
                            name.trim_matches('"').to_owned(),
                        ))
                    }
                    None => fail(WireError::Invalid(msg)),
                }
            }
        }
    }
}

/// The members every message is first read for; the rest is skipped here.
#[derive(Deserialize)]
struct Head {
    #[serde(default)]
    v: Option<Value>,
    #[serde(default)]
    id: Option<Value>,
    #[serde(default, rename = "type")]
    message_type: Option<Value>,
}

/// Refuses what is over the size cap or not a JSON object (serde would read
/// a struct from an array).
fn check_object(bytes: &[u8]) -> Result<(), WireError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(WireError::TooLarge {
            len: bytes.len(),
            max: MAX_MESSAGE_BYTES,
        });
    }
    if !starts_object(bytes) {
        return match serde_json::from_slice::<de::IgnoredAny>(bytes) {
            Ok(_) => Err(WireError::NotJson(
                "the message must be a JSON object".into(),
            )),
            Err(e) => Err(WireError::NotJson(e.to_string())),
        };
    }
    Ok(())
}

fn starts_object(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

/// Reads a request's head, within the size cap.
fn head(bytes: &[u8]) -> Result<Head, WireError> {
    check_object(bytes)?;
    serde_json::from_slice::<Head>(bytes).map_err(|e| WireError::NotJson(e.to_string()))
}

/// A server message's members with every payload raw: the general way to
/// read one, when the one-pass reader could not.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMembers<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    v: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present", rename = "type")]
    message_type: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    sequence: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    conference_id: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    event: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    error: Option<&'a RawValue>,
}

/// A member as given, `null` included (as the one-pass reader sees it).
fn present<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<&'a RawValue>, D::Error> {
    <&'a RawValue>::deserialize(d).map(Some)
}

/// A server message's event: read, or raw (read only if the message is an
/// event, so a reply is not refused for a member it does not use).
enum EventMember<'a> {
    Read(EventSlot),
    Raw(&'a RawValue),
}

/// A server message's members, the event and (for a resync) the result
/// already read into their types.
#[derive(Default)]
struct Members<'a> {
    v: Option<&'a RawValue>,
    message_type: Option<&'a RawValue>,
    id: Option<&'a RawValue>,
    sequence: Option<&'a RawValue>,
    conference_id: Option<&'a RawValue>,
    event: Option<EventMember<'a>>,
    result: Option<ResultBody<'a>>,
    error: Option<&'a RawValue>,
}

/// A reply's result: raw, or already read as a resync's.
#[derive(Debug)]
pub(crate) enum ResultBody<'a> {
    Raw(&'a RawValue),
    Resync(ResyncResult<'a>),
}

/// What a resync reply holds: the missed events, or a snapshot.
#[derive(Debug, Deserialize)]
pub(crate) struct ResyncResult<'a> {
    #[serde(default)]
    pub(crate) snapshot: Option<SessionSnapshot>,
    #[serde(default, borrow)]
    pub(crate) events: Option<Vec<EventFields<'a>>>,
}

/// Reads a server message's members in one pass: the event straight into its
/// type (when its `type` comes first), and a reply's result straight into a
/// resync's when `is_resync` says its id (read before it) asked for one.
struct OnePass<'w> {
    is_resync: &'w dyn Fn(&str) -> bool,
}

impl<'de> DeserializeSeed<'de> for OnePass<'_> {
    type Value = Members<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Members<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OnePass<'_> {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a server message object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
        fn once<T, E: de::Error>(slot: &mut Option<T>, v: T, key: &str) -> Result<(), E> {
            match slot.replace(v) {
                None => Ok(()),
                Some(_) => Err(E::custom(format!("{key} is given twice"))),
            }
        }
        let mut m = Members::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match &*key {
                "v" => once(&mut m.v, map.next_value()?, "v")?,
                "type" => once(&mut m.message_type, map.next_value()?, "type")?,
                "id" => once(&mut m.id, map.next_value()?, "id")?,
                "sequence" => once(&mut m.sequence, map.next_value()?, "sequence")?,
                "conferenceId" => once(&mut m.conference_id, map.next_value()?, "conferenceId")?,
                "event" => once(&mut m.event, EventMember::Read(map.next_value()?), "event")?,
                "error" => once(&mut m.error, map.next_value()?, "error")?,
                "result" => {
                    let resync =
                        m.id.and_then(|r| serde_json::from_str::<Cow<'_, str>>(r.get()).ok())
                            .is_some_and(|id| (self.is_resync)(&id));
                    let body = if resync {
                        ResultBody::Resync(map.next_value()?)
                    } else {
                        ResultBody::Raw(map.next_value()?)
                    };
                    once(&mut m.result, body, "result")?;
                }
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(m)
    }
}

/// An event's members inside a resync reply's list.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventFields<'a> {
    #[serde(default, borrow)]
    sequence: Option<&'a RawValue>,
    #[serde(default, borrow)]
    conference_id: Option<&'a RawValue>,
    #[serde(default, borrow)]
    event: Option<&'a RawValue>,
}

/// An event object's `type`, read before its payload.
#[derive(Deserialize)]
struct EventTag<'a> {
    #[serde(default, borrow, rename = "type")]
    tag: Option<Cow<'a, str>>,
}

impl EventFields<'_> {
    /// Reads the event.
    pub(crate) fn read(&self) -> Result<IncomingEvent, WireError> {
        let slot = self.event.map(read_event).transpose()?;
        incoming(self.sequence, self.conference_id, slot)
    }
}

/// Reads a raw event object: a known type into its [`EventKind`]; any other,
/// or a known one in a shape this library cannot read, as unknown.
fn read_event(raw: &RawValue) -> Result<EventSlot, WireError> {
    let text = raw.get();
    if !starts_object(text.as_bytes()) {
        return Err(WireError::Invalid("event must be an object".into()));
    }
    if let Ok(slot) = serde_json::from_str::<EventSlot>(text) {
        return Ok(slot);
    }
    if let Ok(kind) = serde_json::from_str::<EventKind>(text) {
        return Ok(EventSlot::Known(kind));
    }
    match serde_json::from_str::<EventTag<'_>>(text) {
        Ok(EventTag { tag: Some(t) }) => Ok(EventSlot::Unknown(t.into_owned())),
        _ => Err(WireError::Invalid("event.type must be a string".into())),
    }
}

/// An event from its members.
fn incoming(
    sequence: Option<&RawValue>,
    conference_id: Option<&RawValue>,
    event: Option<EventSlot>,
) -> Result<IncomingEvent, WireError> {
    let sequence = sequence
        .and_then(|r| serde_json::from_str::<u64>(r.get()).ok())
        .ok_or_else(|| WireError::Invalid("sequence must be a whole number".into()))?;
    let conference_id = match conference_id.map(RawValue::get) {
        None | Some("null") => None,
        Some(raw) => {
            let s = serde_json::from_str::<Cow<'_, str>>(raw)
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

/// A server message as a [`crate::client::Client`] reads it: a reply's
/// result raw (or, for a resync, already read), so each request's result goes
/// straight into its own types.
#[derive(Debug)]
pub(crate) enum RawServerMessage<'a> {
    Reply {
        id: Option<String>,
        outcome: Result<ResultBody<'a>, ErrorBody>,
    },
    Event(IncomingEvent),
}

impl<'a> RawServerMessage<'a> {
    /// Reads a message; `is_resync` tells which request ids asked for a resync.
    pub(crate) fn parse(
        bytes: &'a [u8],
        is_resync: &dyn Fn(&str) -> bool,
    ) -> Result<Self, WireError> {
        let text = Self::text(bytes)?;
        // One pass when the payloads read straight into their types;
        // otherwise again, with the payloads raw. Both give the same answer.
        match Self::one_pass(text, is_resync) {
            Some(m) => Self::from_members(m),
            None => Self::general(text),
        }
    }

    fn text(bytes: &'a [u8]) -> Result<&'a str, WireError> {
        check_object(bytes)?;
        std::str::from_utf8(bytes).map_err(|e| WireError::NotJson(e.to_string()))
    }

    fn one_pass(text: &'a str, is_resync: &dyn Fn(&str) -> bool) -> Option<Members<'a>> {
        let mut de = serde_json::Deserializer::from_str(text);
        let m = OnePass { is_resync }.deserialize(&mut de).ok()?;
        de.end().ok().map(|()| m)
    }

    fn general(text: &'a str) -> Result<Self, WireError> {
        let r: RawMembers<'a> =
            serde_json::from_str(text).map_err(|e| WireError::NotJson(e.to_string()))?;
        Self::from_members(Members {
            v: r.v,
            message_type: r.message_type,
            id: r.id,
            sequence: r.sequence,
            conference_id: r.conference_id,
            event: r.event.map(EventMember::Raw),
            result: r.result.map(ResultBody::Raw),
            error: r.error,
        })
    }

    fn from_members(m: Members<'a>) -> Result<Self, WireError> {
        let v =
            m.v.map(|r| serde_json::from_str::<Value>(r.get()).unwrap_or(Value::Null));
        check_version(v.as_ref())?;
        let message_type = m
            .message_type
            .and_then(|r| serde_json::from_str::<Cow<'_, str>>(r.get()).ok())
            .ok_or_else(|| WireError::Invalid("type must be a string".into()))?;
        match &*message_type {
            "event" => {
                let event = match m.event {
                    Some(EventMember::Read(slot)) => Some(slot),
                    Some(EventMember::Raw(raw)) => Some(read_event(raw)?),
                    None => None,
                };
                Ok(RawServerMessage::Event(incoming(
                    m.sequence,
                    m.conference_id,
                    event,
                )?))
            }
            "reply" => {
                let id = match m.id.map(RawValue::get) {
                    None | Some("null") => None,
                    Some(raw) => Some(
                        serde_json::from_str::<String>(raw)
                            .map_err(|_| WireError::Invalid("id must be a string".into()))?,
                    ),
                };
                let outcome = match (m.result, m.error) {
                    (Some(ResultBody::Raw(r)), None) if starts_object(r.get().as_bytes()) => {
                        Ok(ResultBody::Raw(r))
                    }
                    (Some(ResultBody::Resync(r)), None) => Ok(ResultBody::Resync(r)),
                    (None, Some(e)) => Err(serde_json::from_str::<ErrorBody>(e.get())
                        .map_err(|e| WireError::Invalid(format!("error: {e}")))?),
                    _ => {
                        return Err(WireError::Invalid(
                            "a reply has either a result object or an error".into(),
                        ))
                    }
                };
                Ok(RawServerMessage::Reply { id, outcome })
            }
            other => Err(WireError::UnknownType(other.to_owned())),
        }
    }
}

/// A message from the server, as a device reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerMessage {
    /// The answer to a request.
    Reply {
        /// The request's id (`None` when the request was too broken to have one).
        id: Option<String>,
        /// The result object, or the error.
        outcome: Result<Value, ErrorBody>,
    },
    /// One of the session's events.
    Event(IncomingEvent),
}

/// An event as read from the wire. A type this library does not know is kept
/// as `kind: None` with its name, so a reader can skip it and still count its
/// sequence number.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingEvent {
    /// Its per-session sequence number.
    pub sequence: u64,
    /// The conference it is about (absent for `eventsMissed`).
    pub conference_id: Option<ConferenceId>,
    /// The `type` of the event.
    pub type_name: Cow<'static, str>,
    /// The event, if this library knows its type.
    pub kind: Option<EventKind>,
}

impl ServerMessage {
    /// Reads a server message.
    pub fn parse(bytes: &[u8]) -> Result<ServerMessage, WireError> {
        Ok(match RawServerMessage::parse(bytes, &|_| false)? {
            RawServerMessage::Event(e) => ServerMessage::Event(e),
            RawServerMessage::Reply { id, outcome } => ServerMessage::Reply {
                id,
                outcome: match outcome {
                    Ok(ResultBody::Raw(raw)) => Ok(serde_json::from_str(raw.get())
                        .map_err(|e| WireError::Invalid(e.to_string()))?),
                    Ok(ResultBody::Resync(_)) => {
                        return Err(WireError::Invalid("unexpected resync result".into()))
                    }
                    Err(e) => Err(e),
                },
            },
        })
    }
}

#[derive(Serialize)]
struct ReplyOut<'a, T: Serialize> {
    v: u64,
    #[serde(rename = "type")]
    message_type: &'static str,
    id: &'a str,
    result: &'a T,
}

/// A reply with a result (which must serialize as a JSON object), encoded
/// straight from its types.
#[must_use]
pub fn reply_ok<T: Serialize>(id: &RequestId, result: &T) -> Vec<u8> {
    encode(&ReplyOut {
        v: PROTOCOL_VERSION,
        message_type: "reply",
        id: id.as_str(),
        result,
    })
}

/// A reply with an error (`id` is `None` when the request had none).
#[must_use]
pub fn reply_error(id: Option<&RequestId>, error: &ErrorBody) -> Vec<u8> {
    encode(&serde_json::json!({
        "v": PROTOCOL_VERSION, "type": "reply", "id": id.map(RequestId::as_str), "error": error,
    }))
}

#[cfg(feature = "authority")]
/// An event as it appears inside a message: `{sequence, conferenceId, event}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventBody<'a> {
    sequence: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    conference_id: Option<ConferenceId>,
    event: &'a EventKind,
}

#[cfg(feature = "authority")]
impl<'a> EventBody<'a> {
    pub(crate) fn of(e: &'a Event) -> Self {
        EventBody {
            sequence: e.sequence,
            conference_id: e.conference_id,
            event: &e.kind,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventOut<'a> {
    v: u64,
    #[serde(rename = "type")]
    message_type: &'static str,
    sequence: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    conference_id: Option<ConferenceId>,
    event: &'a EventKind,
}

/// An event of the session as a wire message.
#[must_use]
pub fn event_message(e: &Event) -> Vec<u8> {
    encode(&EventOut {
        v: PROTOCOL_VERSION,
        message_type: "event",
        sequence: e.sequence,
        conference_id: e.conference_id,
        event: &e.kind,
    })
}

fn encode(value: &impl Serialize) -> Vec<u8> {
    // Maps with string keys, strings and numbers always serialize.
    serde_json::to_vec(value).unwrap_or_default()
}

fn check_version(v: Option<&Value>) -> Result<(), WireError> {
    match v.and_then(Value::as_u64) {
        Some(PROTOCOL_VERSION) => Ok(()),
        Some(n) => Err(WireError::UnsupportedVersion {
            found: VersionSeen::Number(n),
        }),
        None => Err(WireError::UnsupportedVersion {
            found: VersionSeen::Missing,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: [&str; 10] = [
        include_str!("../../tests/fixtures/wire/server/01-reply-join.json"),
        include_str!("../../tests/fixtures/wire/server/02-reply-invite.json"),
        include_str!("../../tests/fixtures/wire/server/03-reply-error.json"),
        include_str!("../../tests/fixtures/wire/server/04-reply-error-no-id.json"),
        include_str!("../../tests/fixtures/wire/server/05-event-participant-updated.json"),
        include_str!("../../tests/fixtures/wire/server/06-event-invitation.json"),
        include_str!("../../tests/fixtures/wire/server/07-event-events-missed.json"),
        include_str!("../../tests/fixtures/wire/server/08-event-unknown-type.json"),
        include_str!("../../tests/fixtures/wire/server/09-reply-resync-events.json"),
        include_str!("../../tests/fixtures/wire/server/10-reply-resync-snapshot.json"),
    ];

    /// Each fixture, and variants of it a peer could send.
    fn messages() -> Vec<String> {
        let mut out = Vec::new();
        for f in FIXTURES {
            let f = f.trim();
            let inner = &f[1..f.len() - 1];
            let with = |extra: &str| format!("{{{extra},{inner}}}");
            out.push(f.to_owned());
            for extra in [
                r#""error":null"#,
                r#""result":null"#,
                r#""event":5"#,
                r#""event":{}"#,
                r#""event":null"#,
                r#""id":null"#,
                r#""type":"reply""#,
                r#""future":{"a":[1,2,{"b":null}]}"#,
                r#""\u0074ype":"event""#,
                r#""v":2"#,
            ] {
                out.push(with(extra));
            }
            out.push(format!("{f} trailing"));
            out.push(f.replace(r#""type":"#, r#""kind":"#));
            // The members in reverse order (the event's `type` no longer first).
            if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(f) {
                let members: Vec<String> = map
                    .iter()
                    .rev()
                    .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), v))
                    .collect();
                out.push(format!("{{{}}}", members.join(",")));
            }
        }
        out
    }

    #[test]
    fn the_one_pass_reader_and_the_general_one_agree() {
        let mut read_in_one_pass = 0;
        for m in messages() {
            let fast =
                RawServerMessage::one_pass(&m, &|_| false).map(RawServerMessage::from_members);
            let general = RawServerMessage::general(&m);
            if let Some(fast) = fast {
                read_in_one_pass += 1;
                assert_eq!(format!("{fast:?}"), format!("{general:?}"), "{m}");
            }
            let parsed = RawServerMessage::parse(m.as_bytes(), &|_| false);
            assert_eq!(format!("{parsed:?}"), format!("{general:?}"), "{m}");
        }
        assert!(read_in_one_pass > 40, "{read_in_one_pass}");
    }

    #[test]
    fn a_reply_is_not_refused_for_a_member_it_does_not_use() {
        for f in FIXTURES.iter().filter(|f| f.contains(r#""type":"reply""#)) {
            let f = f.trim();
            let odd = format!("{{\"event\":5,{}", &f[1..]);
            let want = format!("{:?}", RawServerMessage::parse(f.as_bytes(), &|_| false));
            let got = format!("{:?}", RawServerMessage::parse(odd.as_bytes(), &|_| false));
            assert!(want.starts_with("Ok("), "{want}");
            assert_eq!(got, want, "{odd}");
        }
    }

    /// A reply's raw result as a resync's, when it reads as one (what the
    /// client does with a raw result for a resync).
    fn as_resync(r: Result<RawServerMessage<'_>, WireError>) -> String {
        let r = r.map(|r| match r {
            RawServerMessage::Reply {
                id,
                outcome: Ok(ResultBody::Raw(raw)),
            } => match serde_json::from_str::<ResyncResult<'_>>(raw.get()) {
                Ok(r) => RawServerMessage::Reply {
                    id,
                    outcome: Ok(ResultBody::Resync(r)),
                },
                Err(_) => RawServerMessage::Reply {
                    id,
                    outcome: Ok(ResultBody::Raw(raw)),
                },
            },
            other => other,
        });
        format!("{r:?}")
    }

    #[test]
    fn a_resync_result_read_in_one_pass_is_the_one_read_raw() {
        for m in messages() {
            let typed = RawServerMessage::parse(m.as_bytes(), &|_| true);
            let general = RawServerMessage::general(&m);
            assert_eq!(as_resync(typed), as_resync(general), "{m}");
        }
    }
}
