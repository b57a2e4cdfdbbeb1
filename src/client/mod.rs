//! The device half: one [`Client`] per device session keeps the user's view
//! of their conferences up to date from the bytes the server sends, notices
//! duplicated and missed events, builds the user's requests, and answers
//! "may I?" from the newest token it verified offline. Pure and synchronous:
//! no platform, no signing key, no I/O.
//!
//! Every view a client holds is derived from what it was sent: events in
//! sequence order, the roster that a `join` or `listen` reply carries, and
//! the snapshot a `resync` may answer with.
//!
//! ```
//! use std::sync::Arc;
//! use confkit::client::{Client, Update};
//! use confkit::platform::PlatformConfig;
//! use confkit::wire::message::Op;
//! use confkit::{ExternalId, KeyId, KeyRing, ManualClock, ParticipantInfo, Platform, SigningKey};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let clock = ManualClock::new(1_700_000_000);
//! let key = SigningKey::from_seed(&[7; 32], KeyId::new("key-1")?);
//! let server = Platform::with_config(key, Arc::new(clock.clone()), PlatformConfig::default());
//! // The app server opens the session when the phone signs in.
//! let alice = ExternalId::new("alice")?;
//! let session = server.open_session(ParticipantInfo::new(alice.clone(), "Alice", None)?);
//!
//! // On the phone: a replica that trusts the server's published keys.
//! let ring = KeyRing::from_jwks(&server.jwks())?;
//! let mut phone = Client::new(alice, ring, Arc::new(clock.clone()));
//! let request = phone.request(Op::Create {
//!     alias: "stand-up".into(),
//!     protected: false,
//!     audio_only: false,
//!     participant_limit: None,
//!     empty_ttl_secs: None,
//!     token_ttl_secs: None,
//! });
//! // The transport carries `request.bytes` up and the reply down.
//! let reply = server.handle_message(session, &request.bytes);
//! for update in phone.receive(&reply)? {
//!     if let Update::RequestSucceeded { result, .. } = update {
//!         println!("created {}", result.to_value()?["conference"]["id"]);
//!     }
//! }
//! for message in server.drain_messages(session)? {
//!     phone.receive(&message)?; // events, in sequence order
//! }
//! # Ok(())
//! # }
//! ```

mod json;

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU64;
use std::sync::Arc;

use serde::Serialize;

use crate::clock::Clock;
use crate::error::ErrorBody;
use crate::event::{EndReason, EventKind, ParticipantView};
use crate::identity::{ConferenceId, ExternalId, ParticipantInfo};
use crate::lifecycle::ParticipantStatus;
use crate::permissions::{Permission, PermissionSet};
use crate::snapshot::{ConferenceSnapshot, SessionSnapshot};
use crate::token::{Claims, KeyRing, TokenError, Validation, DEFAULT_LEEWAY_SECS};
use crate::wire::message::{IncomingEvent, Op, Request, RequestId};
use crate::wire::read::{self, EventFields, Expect, ResultBody, ResyncResult, ServerRead, Typed};
use crate::wire::WireError;

/// A request ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Outgoing {
    /// Its id (the reply carries it back).
    pub id: RequestId,
    /// The bytes to hand to the transport. Resend the same bytes to retransmit.
    pub bytes: Vec<u8>,
}

/// What a message changed, for a UI to apply. Differences from a snapshot
/// come conference by conference (by ID), removals, then additions, then
/// updates, each by external ID. Serializes as JSON with a camelCase `kind`
/// (what the C ABI and the bindings hand out for each update).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Update {
    /// Someone appeared in a conference view.
    ParticipantAdded {
        /// The conference.
        conference_id: ConferenceId,
        /// Who, as they are now.
        participant: ParticipantView,
    },
    /// Someone changed.
    ParticipantUpdated {
        /// The conference.
        conference_id: ConferenceId,
        /// Who, as they are now.
        participant: ParticipantView,
        /// Their status before.
        old_status: ParticipantStatus,
    },
    /// Someone is no longer visible in a conference view.
    ParticipantRemoved {
        /// The conference.
        conference_id: ConferenceId,
        /// Who.
        external_id: ExternalId,
    },
    /// The user's own status in a conference changed.
    MyStatusChanged {
        /// The conference.
        conference_id: ConferenceId,
        /// Before (`None`: not known before).
        old: Option<ParticipantStatus>,
        /// Now.
        new: ParticipantStatus,
    },
    /// The user's permissions in a conference changed.
    MyPermissionsChanged {
        /// The conference.
        conference_id: ConferenceId,
        /// The new set.
        permissions: PermissionSet,
    },
    /// This session is no longer connected to a conference (it left, was
    /// kicked, joined from another device, or the conference ended).
    NoLongerIn {
        /// The conference.
        conference_id: ConferenceId,
    },
    /// The conference was destroyed.
    ConferenceEnded {
        /// The conference.
        conference_id: ConferenceId,
        /// Why.
        reason: EndReason,
    },
    /// An invitation arrived (its token, if any, verified).
    InvitationReceived(Invitation),
    /// The reply to a request: it succeeded.
    RequestSucceeded {
        /// The request.
        id: String,
        /// Its result object.
        result: ReplyResult,
    },
    /// The reply to a request: it failed.
    RequestFailed {
        /// The request (`None` if the server could not read one).
        id: Option<String>,
        /// Why, with the stable code.
        error: ErrorBody,
    },
    /// An event already applied arrived again: nothing changed.
    Duplicate {
        /// Its sequence number.
        sequence: u64,
    },
    /// A reply to a request already answered arrived again: nothing changed.
    DuplicateReply {
        /// The request id.
        id: String,
    },
    /// Events are missing: nothing more is applied until the reply to
    /// [`Client::resync_request`] arrives. Send it.
    Gap {
        /// The sequence number the client needed next.
        expected: u64,
        /// What arrived instead.
        received: u64,
    },
    /// An event of a type this library does not know: skipped, counted.
    Skipped {
        /// Its sequence number.
        sequence: u64,
        /// Its `type`.
        type_name: String,
    },
    /// A resync brought the view back in step.
    Resynced {
        /// Whether it took a snapshot (otherwise the missed events).
        snapshot: bool,
    },
}

/// A successful reply's result: the JSON object the server sent, as text
/// (checked JSON: UTF-8 with no lone surrogate, every number within f64's
/// range, in a message nested at most [`crate::wire::MAX_NESTING`] deep, so
/// any JSON decoder reads it).
/// The client reads what it needs from it (a roster, a resync); the rest is
/// for the app, which knows what it asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyResult(String);

impl ReplyResult {
    fn from_text(raw: &[u8]) -> Result<Self, ClientError> {
        String::from_utf8(raw.to_vec())
            .map(ReplyResult)
            .map_err(|_| ClientError::Reply("the result is not UTF-8".into()))
    }

    /// The object's JSON text, as the server wrote it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The object as a `serde_json` value (for Rust apps; links serde_json).
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.0)
    }
}

/// Serializes as the JSON object it holds.
impl Serialize for ReplyResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value()
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

/// An invitation in the inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    /// To which conference.
    pub conference_id: ConferenceId,
    /// Its alias.
    pub alias: String,
    /// Who invited.
    pub inviter: ParticipantInfo,
    /// The token to join with (protected conferences), verified offline.
    pub token: Option<String>,
    /// What it grants (protected conferences).
    pub permissions: Option<PermissionSet>,
}

/// Why a message was refused. A refused message changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// Not a message of this protocol.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// A token in an invitation, a permission update, a refresh or a roster
    /// failed offline verification.
    #[error("a token from the server failed verification: {0}")]
    Token(#[from] TokenError),
    /// A token from the server is for someone else.
    #[error("a token from the server names {0:?}, not this user")]
    TokenSubject(String),
    /// A reply's result is not what its request expects.
    #[error("unexpected reply: {0}")]
    Reply(String),
}

/// A token verified offline, and its text.
#[derive(Debug, Clone, PartialEq)]
struct Held {
    claims: Claims,
    text: String,
}

/// One conference as this session sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConferenceView {
    /// Its alias.
    pub alias: Option<String>,
    /// Whether joining needs a token.
    pub is_protected: Option<bool>,
    /// Whether this session is connected to it now.
    pub joined: bool,
    /// Whether it was destroyed.
    pub ended: bool,
    /// The user's status, as last heard.
    pub my_status: Option<ParticipantStatus>,
    /// The user's permissions, as the server last sent them.
    pub my_permissions: PermissionSet,
    /// Everyone visible, by external ID. LEFT, KICKED and DECLINE stay.
    pub participants: BTreeMap<ExternalId, ParticipantView>,
    token: Option<Held>,
    /// The sequence number of the event that brought `token` (a roster as
    /// of an earlier event holds an older token).
    token_seq: u64,
    /// Events up to this sequence number are already in the roster.
    covered_to: u64,
    /// The request whose reply brought that roster (of two rosters as of the
    /// same sequence, the later request's is newer).
    covered_by: u64,
    /// Whether a roster (join reply or snapshot) arrived since it joined.
    has_roster: bool,
    /// The sequence number of the last event that changed each participant
    /// (a roster older than it does not overwrite it).
    seen: BTreeMap<ExternalId, u64>,
}

impl ConferenceView {
    /// The newest token verified for this conference (from a join's roster,
    /// a snapshot, a permission update or a refresh): the one to join with
    /// again. Invitations' tokens are in [`Client::inbox`].
    #[must_use]
    pub fn token(&self) -> Option<&str> {
        self.token.as_ref().map(|t| t.text.as_str())
    }

    fn new() -> Self {
        ConferenceView {
            alias: None,
            is_protected: None,
            joined: false,
            ended: false,
            my_status: None,
            my_permissions: PermissionSet::EMPTY,
            participants: BTreeMap::new(),
            token: None,
            token_seq: 0,
            covered_to: 0,
            covered_by: 0,
            has_roster: false,
            seen: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Enter,
    Resync,
    Other,
}

/// The device's replica of one session. See the module documentation.
#[derive(Debug)]
pub struct Client {
    me: ExternalId,
    ring: KeyRing,
    clock: Arc<dyn Clock>,
    leeway: u64,
    next_id: u64,
    last_sequence: u64,
    stalled: bool,
    /// A message was refused for its token: the missed events would bring
    /// it again, so the next resync asks for a snapshot.
    refused_token: bool,
    conferences: BTreeMap<ConferenceId, ConferenceView>,
    inbox: Vec<Invitation>,
    /// Requests waiting for their reply: what they were, and their number.
    pending: HashMap<String, (Pending, u64)>,
}

/// Most invitations the inbox keeps (the oldest go first).
pub const MAX_INBOX: usize = 256;

/// Most requests a client waits for at once; the oldest are forgotten (their
/// replies then count as duplicates).
pub const MAX_PENDING: usize = 1024;

/// A fresh client numbers its requests from a random number in
/// `1..=FIRST_REQUEST_NUMBERS` (ids `c<n>`, at most 14 bytes on the wire).
///
/// The platform answers a request id it remembers (the session's last
/// [`crate::wire::REMEMBERED_REPLIES`]) with the remembered reply: that is
/// what makes a retransmission safe. An app that restarts and resumes its
/// session with a fresh `Client` must therefore not reuse its predecessor's
/// ids; starting at a random point makes a clash about one in 2^34 per
/// restart (64 remembered ids in 2^40).
pub const FIRST_REQUEST_NUMBERS: u64 = 1 << 40;

/// Where a new client starts numbering: random, or (if the system has no
/// randomness to give) from the clock, which still differs between an app
/// and its restart a second later.
fn first_request_number(clock: &dyn Clock) -> u64 {
    let mut bytes = [0u8; 8];
    let seed = match getrandom::fill(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(_) => clock.now().wrapping_mul(0x9E37_79B9_7F4A_7C15),
    };
    seed % FIRST_REQUEST_NUMBERS + 1
}

impl Client {
    /// A replica for `me`, verifying tokens with `ring` (the platform's JWK
    /// set) on `clock`.
    #[must_use]
    pub fn new(me: ExternalId, ring: KeyRing, clock: Arc<dyn Clock>) -> Self {
        let next_id = first_request_number(&*clock);
        Client {
            me,
            ring,
            clock,
            leeway: DEFAULT_LEEWAY_SECS,
            next_id,
            last_sequence: 0,
            stalled: false,
            refused_token: false,
            conferences: BTreeMap::new(),
            inbox: Vec::new(),
            pending: HashMap::new(),
        }
    }

    /// Numbers the next request `next` (its id `c<next>`), and the later
    /// ones from there. A new client starts at a random number (see
    /// [`FIRST_REQUEST_NUMBERS`]); this is for replaying a recorded exchange
    /// and for tests, or for an app that keeps its own count across
    /// restarts. Call it before the first request: ids still waiting for a
    /// reply are not renumbered.
    pub fn set_next_request_number(&mut self, next: NonZeroU64) {
        self.next_id = next.get();
    }

    /// The number the next request will carry (its id is `c` and this).
    #[must_use]
    pub fn next_request_number(&self) -> u64 {
        self.next_id
    }

    /// Builds a request (with a fresh request id).
    pub fn request(&mut self, op: Op) -> Outgoing {
        let kind = match op {
            Op::Join { .. } | Op::Listen { .. } => Pending::Enter,
            Op::Resync { .. } => Pending::Resync,
            _ => Pending::Other,
        };
        let number = self.next_id;
        let id = RequestId::numbered(number);
        // Past u64::MAX (only after setting a number near it) start again at 1.
        self.next_id = number.checked_add(1).unwrap_or(1);
        if self.pending.len() >= MAX_PENDING {
            self.pending.clear();
        }
        self.pending.insert(id.as_str().to_owned(), (kind, number));
        let bytes = Request { id: id.clone(), op }.to_bytes();
        Outgoing { id, bytes }
    }

    /// The resync request to send after a [`Update::Gap`] (or a reconnect).
    /// It asks for a snapshot when a roster may be missing: the client is in
    /// a conference whose roster (the reply to its join) never arrived, or
    /// waits for the reply to a join or listen; or an event was refused for
    /// its token (the missed events would bring it again: an invitation
    /// whose token expired before the phone read it must not block the
    /// stream); or it has applied no event yet: a fresh Client (an app that
    /// restarted and resumed its session) cannot know which rosters the
    /// session holds, and the events alone never bring the people who were
    /// in a conference before this session entered it.
    pub fn resync_request(&mut self) -> Outgoing {
        let last_sequence = self.last_sequence;
        let snapshot = self.refused_token
            || last_sequence == 0
            || self.pending.values().any(|(k, _)| *k == Pending::Enter)
            || self.conferences.values().any(|v| v.joined && !v.has_roster);
        self.request(Op::Resync {
            last_sequence,
            snapshot,
        })
    }

    /// Whether the client waits for a resync reply.
    #[must_use]
    pub fn is_stalled(&self) -> bool {
        self.stalled
    }

    /// The last event sequence number applied.
    #[must_use]
    pub fn last_sequence(&self) -> u64 {
        self.last_sequence
    }

    /// One conference's view.
    #[must_use]
    pub fn conference(&self, id: ConferenceId) -> Option<&ConferenceView> {
        self.conferences.get(&id)
    }

    /// Every conference the client has heard of.
    pub fn conferences(&self) -> impl Iterator<Item = (&ConferenceId, &ConferenceView)> {
        self.conferences.iter()
    }

    /// The invitations received, oldest first.
    #[must_use]
    pub fn inbox(&self) -> &[Invitation] {
        &self.inbox
    }

    /// Whether the user may do `permission` in a conference: from the newest
    /// token verified offline in a protected one (and only while it is
    /// valid), from the set the server sent in an unprotected one.
    #[must_use]
    pub fn may(&self, conference: ConferenceId, permission: Permission) -> bool {
        let Some(view) = self.conferences.get(&conference) else {
            return false;
        };
        if !view.joined {
            return false;
        }
        match (view.is_protected, view.token.as_ref().map(|t| &t.claims)) {
            (Some(true), Some(claims)) => {
                let now = self.clock.now();
                now <= claims.expires_at.saturating_add(self.leeway) && claims.allows(permission)
            }
            (Some(true), None) => false,
            _ => view.my_permissions.contains(permission),
        }
    }

    /// Reads one message from the server and applies it. A message that is
    /// refused changes nothing.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Vec<Update>, ClientError> {
        let pending = &self.pending;
        let expect = |id: &str| match pending.get(id) {
            Some((Pending::Enter, _)) => Expect::Enter,
            Some((Pending::Resync, _)) => Expect::Resync,
            _ => Expect::Raw,
        };
        match read::server_message(bytes, &expect)? {
            ServerRead::Reply { id, outcome } => self.reply(id, outcome),
            ServerRead::Event(e) => {
                let mut out = Vec::new();
                self.event(e, &mut out)?;
                Ok(out)
            }
        }
    }

    fn reply(
        &mut self,
        id: Option<String>,
        outcome: Result<ResultBody<'_>, ErrorBody>,
    ) -> Result<Vec<Update>, ClientError> {
        let Some(id) = id else {
            let error = outcome.err().unwrap_or_else(|| {
                ErrorBody::new(crate::ErrorCode::InvalidArgument, "reply without id")
            });
            return Ok(vec![Update::RequestFailed { id: None, error }]);
        };
        let Some(&(kind, number)) = self.pending.get(&id) else {
            return Ok(vec![Update::DuplicateReply { id }]);
        };
        let mut out = Vec::new();
        match (kind, outcome) {
            (_, Err(error)) => {
                out.push(Update::RequestFailed {
                    id: Some(id.clone()),
                    error,
                });
            }
            (Pending::Enter, Ok(body)) => {
                let joined = match body.typed {
                    Typed::Enter(read) => read,
                    _ => read::enter_result(body.raw),
                }
                .map_err(reply_error)?;
                let token = self.check_roster_token(&joined.conference)?;
                let result = ReplyResult::from_text(body.raw)?;
                self.replace_conference(
                    joined.conference,
                    token,
                    (joined.as_of_sequence, number),
                    &mut out,
                );
                out.push(Update::RequestSucceeded {
                    id: id.clone(),
                    result,
                });
            }
            (Pending::Resync, Ok(body)) => match match body.typed {
                Typed::Resync(read) => read,
                _ => read::resync_result(body.raw),
            }
            .map_err(reply_error)?
            {
                ResyncResult {
                    snapshot: Some(snapshot),
                    events: None,
                } => {
                    self.apply_snapshot(snapshot, number, &mut out)?;
                    out.push(Update::Resynced { snapshot: true });
                }
                ResyncResult {
                    snapshot: None,
                    events: Some(events),
                } => {
                    let parsed = events
                        .into_iter()
                        .map(EventFields::read)
                        .collect::<Result<Vec<_>, _>>()?;
                    // Every token first: a refused resync changes nothing.
                    for e in parsed.iter().filter(|e| e.sequence > self.last_sequence) {
                        if let Some(kind) = &e.kind {
                            if let Err(err) = self.event_token(kind, e.conference_id) {
                                self.refused_token = true;
                                return Err(err);
                            }
                        }
                    }
                    self.stalled = false;
                    for e in parsed {
                        self.event(e, &mut out)?;
                    }
                    out.push(Update::Resynced { snapshot: false });
                }
                _ => {
                    return Err(ClientError::Reply(
                        "a resync answers with either events or a snapshot".into(),
                    ))
                }
            },
            (Pending::Other, Ok(body)) => out.push(Update::RequestSucceeded {
                id: id.clone(),
                result: ReplyResult::from_text(body.raw)?,
            }),
        }
        self.pending.remove(&id);
        Ok(out)
    }

    fn event(&mut self, e: IncomingEvent, out: &mut Vec<Update>) -> Result<(), ClientError> {
        if e.sequence <= self.last_sequence {
            out.push(Update::Duplicate {
                sequence: e.sequence,
            });
            return Ok(());
        }
        if self.stalled {
            return Ok(()); // the resync reply brings it
        }
        if e.sequence != self.last_sequence + 1 {
            self.stalled = true;
            out.push(Update::Gap {
                expected: self.last_sequence + 1,
                received: e.sequence,
            });
            return Ok(());
        }
        let Some(kind) = e.kind else {
            self.last_sequence = e.sequence;
            out.push(Update::Skipped {
                sequence: e.sequence,
                type_name: e.type_name.into_owned(),
            });
            return Ok(());
        };
        if let EventKind::EventsMissed {
            first_missed_sequence,
            ..
        } = kind
        {
            self.stalled = true;
            out.push(Update::Gap {
                expected: first_missed_sequence,
                received: e.sequence,
            });
            return Ok(());
        }
        // Check tokens before changing anything (but remember that one was
        // refused: see `resync_request`).
        let verified = match self.event_token(&kind, e.conference_id) {
            Ok(v) => v,
            Err(err) => {
                self.refused_token = true;
                return Err(err);
            }
        };
        self.last_sequence = e.sequence;
        let Some(conf) = e.conference_id else {
            return Ok(());
        };
        self.apply(conf, e.sequence, kind, verified, out);
        Ok(())
    }

    fn apply(
        &mut self,
        conf: ConferenceId,
        sequence: u64,
        kind: EventKind,
        verified: Option<Held>,
        out: &mut Vec<Update>,
    ) {
        let view = self
            .conferences
            .entry(conf)
            .or_insert_with(ConferenceView::new);
        match kind {
            EventKind::ParticipantAdded { participant }
            | EventKind::ParticipantUpdated { participant, .. } => {
                if sequence <= view.covered_to {
                    return; // already in the roster this session got
                }
                let mine = (participant.external_id == self.me)
                    .then_some((participant.status, participant.permissions));
                match view.seen.get_mut(&participant.external_id) {
                    Some(s) => *s = sequence,
                    None => {
                        view.seen.insert(participant.external_id.clone(), sequence);
                    }
                }
                match view.participants.get_mut(&participant.external_id) {
                    // Already so (the roster of a join can show its own event).
                    Some(slot) if *slot == participant => {}
                    Some(slot) => out.push(Update::ParticipantUpdated {
                        conference_id: conf,
                        old_status: std::mem::replace(slot, participant.clone()).status,
                        participant,
                    }),
                    None => {
                        view.participants
                            .insert(participant.external_id.clone(), participant.clone());
                        out.push(Update::ParticipantAdded {
                            conference_id: conf,
                            participant,
                        });
                    }
                }
                if let Some((status, permissions)) = mine {
                    set_me(view, conf, status, permissions, out);
                }
            }
            EventKind::ParticipantRemoved { external_id } => {
                if sequence > view.covered_to {
                    let removed = view.participants.remove(&external_id).is_some();
                    view.seen.insert(external_id.clone(), sequence);
                    if removed {
                        out.push(Update::ParticipantRemoved {
                            conference_id: conf,
                            external_id,
                        });
                    }
                }
            }
            EventKind::PermissionsUpdated { permissions, .. } => {
                view.my_permissions = permissions;
                if let Some(claims) = verified.filter(|_| sequence > view.token_seq) {
                    view.token = Some(claims);
                    view.token_seq = sequence;
                }
                out.push(Update::MyPermissionsChanged {
                    conference_id: conf,
                    permissions,
                });
            }
            EventKind::TokenRefreshed { .. } => {
                if let Some(claims) = verified.filter(|_| sequence > view.token_seq) {
                    view.token = Some(claims);
                    view.token_seq = sequence;
                }
            }
            EventKind::InvitationReceived {
                conference_alias,
                inviter,
                token,
                permissions,
            } => {
                view.alias = Some(conference_alias.clone());
                view.is_protected = Some(token.is_some());
                let invitation = Invitation {
                    conference_id: conf,
                    alias: conference_alias,
                    inviter,
                    token,
                    permissions,
                };
                if self.inbox.len() >= MAX_INBOX {
                    self.inbox.remove(0);
                }
                self.inbox.push(invitation.clone());
                out.push(Update::InvitationReceived(invitation));
            }
            EventKind::ConferenceEnded { reason } => {
                view.ended = true;
                if std::mem::take(&mut view.joined) {
                    out.push(Update::NoLongerIn {
                        conference_id: conf,
                    });
                }
                out.push(Update::ConferenceEnded {
                    conference_id: conf,
                    reason,
                });
            }
            EventKind::Switched { .. } => {
                if std::mem::take(&mut view.joined) {
                    out.push(Update::NoLongerIn {
                        conference_id: conf,
                    });
                }
            }
            EventKind::ConferenceCreated {
                conference_alias,
                is_protected,
            } => {
                view.alias = Some(conference_alias);
                view.is_protected = Some(is_protected);
            }
            EventKind::EventsMissed { .. } => {}
        }
    }

    /// The claims of the token an event carries, verified offline.
    fn event_token(
        &self,
        kind: &EventKind,
        conference: Option<ConferenceId>,
    ) -> Result<Option<Held>, ClientError> {
        match (kind, conference) {
            (EventKind::PermissionsUpdated { token: Some(t), .. }, Some(c))
            | (EventKind::TokenRefreshed { token: t, .. }, Some(c))
            | (EventKind::InvitationReceived { token: Some(t), .. }, Some(c)) => {
                Ok(Some(self.verify(t, c)?))
            }
            _ => Ok(None),
        }
    }

    fn verify(&self, token: &str, conf: ConferenceId) -> Result<Held, ClientError> {
        let validation = Validation::new(self.clock.now(), conf).with_leeway(self.leeway);
        let claims = self.ring.verify(token, &validation)?;
        if claims.subject != self.me {
            return Err(ClientError::TokenSubject(claims.subject.to_string()));
        }
        Ok(Held {
            claims,
            text: token.to_owned(),
        })
    }

    fn check_roster_token(&self, roster: &ConferenceSnapshot) -> Result<Option<Held>, ClientError> {
        roster
            .token
            .as_deref()
            .map(|t| self.verify(t, roster.conference_id))
            .transpose()
    }

    /// Replaces one conference's view with a roster, as of event `as_of`,
    /// from the reply to request `number`; yields the differences.
    fn replace_conference(
        &mut self,
        roster: ConferenceSnapshot,
        token: Option<Held>,
        (as_of, number): (u64, u64),
        out: &mut Vec<Update>,
    ) {
        let conf = roster.conference_id;
        let view = self
            .conferences
            .entry(conf)
            .or_insert_with(ConferenceView::new);
        if (as_of, number) < (view.covered_to, view.covered_by) {
            return; // a late roster, older than what the view already has
        }
        view.covered_by = number;
        // What events newer than the roster said stands (a reply can arrive
        // after the events that follow it).
        let newer = |id: &ExternalId| view.seen.get(id).is_some_and(|s| *s > as_of);
        let mut new: BTreeMap<ExternalId, ParticipantView> = roster
            .participants
            .into_iter()
            .filter(|p| !newer(&p.view.external_id))
            .map(|p| (p.view.external_id.clone(), p.view))
            .collect();
        for (id, v) in &view.participants {
            if newer(id) {
                new.insert(id.clone(), v.clone());
            }
        }
        let me_newer = newer(&self.me);
        view.seen.retain(|_, s| *s > as_of);
        diff(conf, &view.participants, &new, out);
        view.participants = new;
        view.alias = Some(roster.alias);
        view.is_protected = Some(roster.is_protected);
        view.covered_to = as_of;
        view.has_roster = true;
        // The newest token wins, from whichever message it came: the
        // roster's, unless an event after the roster brought one (tokens
        // issued within one second expire together, so their expiry cannot
        // tell which is newer).
        if let Some(t) = token {
            if view.token_seq <= as_of {
                view.token = Some(t);
                view.token_seq = as_of;
            }
        }
        if me_newer {
            return; // the user's own newer status and permissions stand
        }
        if view.my_permissions != roster.my_permissions {
            view.my_permissions = roster.my_permissions;
            out.push(Update::MyPermissionsChanged {
                conference_id: conf,
                permissions: roster.my_permissions,
            });
        }
        let old = view.my_status;
        if old != Some(roster.my_status) {
            out.push(Update::MyStatusChanged {
                conference_id: conf,
                old,
                new: roster.my_status,
            });
        }
        view.my_status = Some(roster.my_status);
        view.joined = roster.my_status.is_in_conference();
        view.ended = false;
    }

    /// Replaces the view with a snapshot, the answer to request `number`.
    fn apply_snapshot(
        &mut self,
        snapshot: SessionSnapshot,
        number: u64,
        out: &mut Vec<Update>,
    ) -> Result<(), ClientError> {
        if snapshot.as_of_sequence < self.last_sequence {
            // Older than events already applied (a reply that took its time):
            // it can only set the view back.
            return Ok(());
        }
        let tokens = snapshot
            .conferences
            .iter()
            .map(|c| self.check_roster_token(c))
            .collect::<Result<Vec<_>, _>>()?;
        let listed: std::collections::BTreeSet<ConferenceId> = snapshot
            .conferences
            .iter()
            .map(|c| c.conference_id)
            .collect();
        for (id, view) in &mut self.conferences {
            if !listed.contains(id) && std::mem::take(&mut view.joined) {
                out.push(Update::NoLongerIn { conference_id: *id });
            }
        }
        for (roster, token) in snapshot.conferences.into_iter().zip(tokens) {
            self.replace_conference(roster, token, (snapshot.as_of_sequence, number), out);
        }
        self.last_sequence = snapshot.as_of_sequence;
        self.refused_token = false;
        self.stalled = false;
        // The snapshot covers every join sent before it was asked for (one
        // sent after it still needs its own roster).
        self.pending
            .retain(|_, (k, n)| *k != Pending::Enter || *n > number);
        Ok(())
    }
}

/// A result the client could not read into what its request expects.
fn reply_error(e: crate::json::JsonError) -> ClientError {
    ClientError::Reply(e.to_string())
}

fn set_me(
    view: &mut ConferenceView,
    conf: ConferenceId,
    status: ParticipantStatus,
    permissions: PermissionSet,
    out: &mut Vec<Update>,
) {
    let old = view.my_status;
    view.my_status = Some(status);
    view.my_permissions = permissions;
    let was = view.joined;
    view.joined = status.is_in_conference();
    if !was && view.joined {
        view.has_roster = false; // until the join's reply (or a snapshot) arrives
    }
    if old != Some(status) {
        out.push(Update::MyStatusChanged {
            conference_id: conf,
            old,
            new: status,
        });
    }
    if was && !view.joined {
        out.push(Update::NoLongerIn {
            conference_id: conf,
        });
    }
}

/// Removals, additions, then updates, each by external ID.
fn diff(
    conf: ConferenceId,
    old: &BTreeMap<ExternalId, ParticipantView>,
    new: &BTreeMap<ExternalId, ParticipantView>,
    out: &mut Vec<Update>,
) {
    for id in old.keys().filter(|k| !new.contains_key(*k)) {
        out.push(Update::ParticipantRemoved {
            conference_id: conf,
            external_id: id.clone(),
        });
    }
    for v in new
        .iter()
        .filter(|(k, _)| !old.contains_key(*k))
        .map(|(_, v)| v)
    {
        out.push(Update::ParticipantAdded {
            conference_id: conf,
            participant: v.clone(),
        });
    }
    for (id, v) in new {
        if let Some(before) = old.get(id).filter(|b| *b != v) {
            out.push(Update::ParticipantUpdated {
                conference_id: conf,
                participant: v.clone(),
                old_status: before.status,
            });
        }
    }
}
