//! Helpers shared by the platform scenario tests (`platform_sdk`, `platform_rest`).
//!
//! Every platform here runs on a [`ManualClock`] and signs with a key from a
//! fixed seed, so a test can also mint tokens the platform never saw.

// Each test crate uses its own subset of the helpers.
#![allow(dead_code)]

use std::sync::Arc;

use confkit::event::{EventKind, ParticipantView};
use confkit::platform::rest::RestResponse;
use confkit::platform::{
    ConferenceInfo, ConferenceOptions, Delivery, InviteResult, Invitee, PlatformConfig,
};
use confkit::token::{Claims, KeyId, KeyRing, SigningKey, TokenError, Validation};
use confkit::{
    ConferenceId, ErrorCode, Event, ExternalId, ManualClock, ParticipantInfo, ParticipantStatus,
    PermissionSet, Platform, SessionId,
};
use serde_json::Value;

/// 2023-11-14 22:13:20 UTC.
pub const START: u64 = 1_700_000_000;
/// The seed of every test platform's signing key.
pub const SEED: [u8; 32] = [42; 32];
/// The key id of every test platform's signing key.
pub const KID: &str = "test-key-1";

/// The test platform's signing key (the same key the platform signs with).
pub fn signing_key() -> SigningKey {
    SigningKey::from_seed(&SEED, KeyId::new(KID).unwrap())
}

/// A platform on a manual clock showing [`START`], with default settings.
pub fn platform() -> (Platform, ManualClock) {
    let clock = ManualClock::new(START);
    let p = Platform::with_config(
        signing_key(),
        Arc::new(clock.clone()),
        PlatformConfig::default(),
    );
    (p, clock)
}

/// A platform on a manual clock showing [`START`], with these settings.
pub fn platform_with(config: PlatformConfig) -> (Platform, ManualClock) {
    let clock = ManualClock::new(START);
    let p = Platform::with_config(signing_key(), Arc::new(clock.clone()), config);
    (p, clock)
}

/// alice owns a protected conference "room" she is ON_AIR in; her events so
/// far are drained.
pub fn protected_room(p: &Platform) -> (SessionId, ConferenceId) {
    let alice = open(p, "alice", "Alice");
    let created = p.create_conference(alice, "room", protected()).unwrap();
    let conf = created.conference.id;
    p.join(alice, conf, created.owner_token.as_deref()).unwrap();
    p.report(alice, conf, confkit::LifecycleEvent::Connected)
        .unwrap();
    drain(p, alice);
    (alice, conf)
}

/// alice owns an unprotected conference "open-room" she is ON_AIR in.
pub fn open_room(p: &Platform) -> (SessionId, ConferenceId) {
    let alice = open(p, "alice", "Alice");
    let conf = p
        .create_conference(alice, "open-room", unprotected())
        .unwrap()
        .conference
        .id;
    p.join(alice, conf, None).unwrap();
    p.report(alice, conf, confkit::LifecycleEvent::Connected)
        .unwrap();
    drain(p, alice);
    (alice, conf)
}

/// Invites `who` (opening a session for them) as `by`, and joins them with
/// the token of their invitation.
pub fn invite_and_join(
    p: &Platform,
    by: SessionId,
    conf: ConferenceId,
    who: &str,
    set: Option<PermissionSet>,
) -> (SessionId, String) {
    let sid = open(p, who, who);
    p.invite(by, conf, &[invitee(who, set)]).unwrap();
    let token = invitation_token(p, sid);
    p.join(sid, conf, Some(&token)).unwrap();
    (sid, token)
}

pub fn eid(s: &str) -> ExternalId {
    ExternalId::new(s).unwrap()
}

/// Opens a session for `id` with display name `name` (no avatar).
pub fn open(p: &Platform, id: &str, name: &str) -> SessionId {
    p.open_session(ParticipantInfo::new(eid(id), name, None).unwrap())
}

/// Opens a session for `id` with a display name and an avatar URL.
pub fn open_with_avatar(p: &Platform, id: &str, name: &str, avatar: &str) -> SessionId {
    p.open_session(ParticipantInfo::new(eid(id), name, Some(avatar.to_owned())).unwrap())
}

pub fn protected() -> ConferenceOptions {
    ConferenceOptions {
        protected: true,
        ..ConferenceOptions::default()
    }
}

pub fn unprotected() -> ConferenceOptions {
    ConferenceOptions::default()
}

/// An SDK invitee (notified) with the given or default permissions.
pub fn invitee(id: &str, perms: Option<PermissionSet>) -> Invitee {
    Invitee::new(eid(id), perms)
}

/// Takes every queued event of a session.
pub fn drain(p: &Platform, sid: SessionId) -> Vec<Event> {
    p.drain_events(sid).unwrap()
}

/// The `type` names of events, in order.
pub fn types(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind.type_name()).collect()
}

/// The (external ID, old, new) of every participantUpdated event.
pub fn updates(events: &[Event]) -> Vec<(String, ParticipantStatus, ParticipantStatus)> {
    events
        .iter()
        .filter_map(|e| match &*e.kind {
            EventKind::ParticipantUpdated {
                participant,
                old_status,
                new_status,
            } => Some((
                participant.external_id.to_string(),
                *old_status,
                *new_status,
            )),
            _ => None,
        })
        .collect()
}

/// The external ID and status of every participantAdded event.
pub fn added(events: &[Event]) -> Vec<(String, ParticipantStatus)> {
    events
        .iter()
        .filter_map(|e| match &*e.kind {
            EventKind::ParticipantAdded { participant } => {
                Some((participant.external_id.to_string(), participant.status))
            }
            _ => None,
        })
        .collect()
}

/// The one invitationReceived event of a list: (alias, inviter, token, permissions).
pub fn invitation(
    events: &[Event],
) -> (
    String,
    ParticipantInfo,
    Option<String>,
    Option<PermissionSet>,
) {
    let found: Vec<_> = events
        .iter()
        .filter_map(|e| match &*e.kind {
            EventKind::InvitationReceived {
                conference_alias,
                inviter,
                token,
                permissions,
            } => Some((
                conference_alias.clone(),
                inviter.clone(),
                token.clone(),
                *permissions,
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected exactly one invitation in {events:?}"
    );
    found.into_iter().next().unwrap()
}

/// Drains a session and returns the token of its one invitation.
pub fn invitation_token(p: &Platform, sid: SessionId) -> String {
    invitation(&drain(p, sid))
        .2
        .expect("a protected invitation carries a token")
}

/// The token of the last permissionsUpdated event of a list, if any.
pub fn permissions_token(events: &[Event]) -> Option<String> {
    events.iter().rev().find_map(|e| match &*e.kind {
        EventKind::PermissionsUpdated { token, .. } => token.clone(),
        _ => None,
    })
}

/// A verifier built from the platform's published JWK set.
pub fn ring(p: &Platform) -> KeyRing {
    KeyRing::from_jwks(&p.jwks()).unwrap()
}

/// Verifies a token offline (signature, time, conference; no revocations).
pub fn verify(p: &Platform, token: &str, conf: ConferenceId) -> Result<Claims, TokenError> {
    ring(p).verify(token, &Validation::new(p.now(), conf))
}

/// Mints a token with the platform's own key, as if the platform had issued
/// it at `iat` (used for tokens the platform never recorded).
pub fn mint_at(
    subject: &str,
    conf: ConferenceId,
    perms: PermissionSet,
    iat: u64,
) -> (String, Claims) {
    let claims = Claims::new("confkit", eid(subject), conf, perms, iat, 3 * 60 * 60);
    (signing_key().mint(&claims), claims)
}

/// The participant `id` as the platform lists it.
pub fn participant(p: &Platform, conf: ConferenceId, id: &str) -> ParticipantView {
    p.participants(conf)
        .unwrap()
        .into_iter()
        .find(|v| v.external_id.as_str() == id)
        .unwrap_or_else(|| panic!("{id} is not a participant"))
}

/// The status of every participant, in the order they were added.
pub fn statuses(p: &Platform, conf: ConferenceId) -> Vec<(String, ParticipantStatus)> {
    p.participants(conf)
        .unwrap()
        .into_iter()
        .map(|v| (v.external_id.to_string(), v.status))
        .collect()
}

/// The delivery of one invitee in an invite result.
pub fn delivery_of(results: &[InviteResult], id: &str) -> Delivery {
    results
        .iter()
        .find(|r| r.external_id.as_str() == id)
        .unwrap_or_else(|| panic!("no result for {id}"))
        .delivery
}

/// Everything a refused operation must leave as it was: the conference, its
/// participants, and how many events wait in each listed session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub conference: ConferenceInfo,
    pub participants: Vec<ParticipantView>,
    pub pending: Vec<(SessionId, usize)>,
}

impl Snapshot {
    pub fn take(p: &Platform, conf: ConferenceId, sessions: &[SessionId]) -> Self {
        Snapshot {
            conference: p.conference(conf).unwrap(),
            participants: p.participants(conf).unwrap(),
            pending: sessions
                .iter()
                .map(|s| (*s, p.pending_events(*s).unwrap()))
                .collect(),
        }
    }
}

// ----- REST -----

/// Sends a REST request; returns the status and the parsed body (`Null` when empty).
pub fn rest(p: &Platform, method: &str, path: &str, body: &str) -> (u16, Value) {
    let RestResponse { status, body } = p.handle_rest(method, path, body.as_bytes());
    let value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {body}"))
    };
    (status, value)
}

/// Sends a REST request with a JSON body.
pub fn rest_json(p: &Platform, method: &str, path: &str, body: &Value) -> (u16, Value) {
    rest(p, method, path, &body.to_string())
}

/// Asserts a REST error answer: the HTTP status, and a body of exactly
/// `error_code`, `error_reason` and `error_description` agreeing with `code`.
/// Returns the description.
pub fn assert_rest_error(answer: &(u16, Value), status: u16, code: ErrorCode) -> String {
    let (got_status, body) = answer;
    assert_eq!(*got_status, status, "status of {body}");
    let obj = body
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {body}"));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["error_code", "error_description", "error_reason"],
        "{body}"
    );
    assert_eq!(body["error_code"], i64::from(code.value()), "{body}");
    assert_eq!(body["error_reason"], code.name(), "{body}");
    let description = body["error_description"]
        .as_str()
        .unwrap_or_else(|| panic!("no description: {body}"))
        .to_owned();
    assert!(!description.is_empty(), "{body}");
    description
}

/// The sorted member names of a JSON object.
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort_unstable();
    k
}

/// splitmix64: the one seeded generator of the randomized tests, so a failure
/// names a seed that reruns it.
pub struct TestRng(pub u64);

impl TestRng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// An index into a collection of `len` items (0 when it is empty).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// `N` random bytes.
    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for chunk in out.chunks_mut(8) {
            let word = self.next().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        out
    }
}

/// The RFC 8032 group order ℓ, little-endian.
pub const ELL: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];

/// Adds ℓ to a little-endian 256-bit scalar s < ℓ: the same value mod ℓ in
/// a non-canonical encoding (no overflow, asserted).
pub fn add_ell(s: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(s[i]) + u16::from(ELL[i]) + carry;
        out[i] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
    out
}

/// A count a long run raises through the environment variable `name`
/// (`default` when unset or not a number).
pub fn env_count(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
