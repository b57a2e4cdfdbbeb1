//! The protocol's messages and their encoding.
//!
//! Device → server: a [`Request`] (`{"v":1,"id":"…","type":"join",…}`), one
//! type per SDK operation. Server → device: a reply to each request
//! (`{"v":1,"type":"reply","id":"…","result":{…}}` or `…,"error":{…}}`) and the
//! session's events (`{"v":1,"type":"event","sequence":7,"conferenceId":"…",
//! "event":{"type":"participantAdded",…}}`).

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::borrow::Cow;

use super::read::{self, ServerRead};
use super::{VersionSeen, WireError, MAX_MESSAGE_BYTES, MAX_REQUEST_ID_BYTES, PROTOCOL_VERSION};
use crate::error::ErrorBody;
use crate::event::{Event, EventKind};
use crate::identity::{ConferenceId, ExternalId};
use crate::permissions::PermissionSet;

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

impl MediaState {
    /// The stable name (`CONNECTED`, `FAILURE`, `WARNING`, `RECOVERED`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            MediaState::Connected => "CONNECTED",
            MediaState::Failure => "FAILURE",
            MediaState::Warning => "WARNING",
            MediaState::Recovered => "RECOVERED",
        }
    }
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
        super::write::request(self)
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
    /// Reads a server message (as a [`crate::client::Client`] reads it; the
    /// result of a reply is then read into a JSON value).
    pub fn parse(bytes: &[u8]) -> Result<ServerMessage, WireError> {
        Ok(match read::server_message(bytes, &|_| read::Expect::Raw)? {
            ServerRead::Event(e) => ServerMessage::Event(e),
            ServerRead::Reply { id, outcome } => ServerMessage::Reply {
                id,
                outcome: match outcome {
                    Ok(body) => Ok(serde_json::from_slice(body.raw)
                        .map_err(|e| WireError::Invalid(e.to_string()))?),
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
