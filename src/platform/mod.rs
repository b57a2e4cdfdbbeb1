//! The authority an app server embeds, and the in-process simulation tests and
//! demos run: sessions, conferences, invitations, the participant lifecycle and
//! the events each session receives.
//!
//! All state sits behind one `parking_lot` mutex. Every operation validates its
//! whole input before it changes anything, so a refused operation leaves the
//! platform as it was and sends no event. Events go into each session's queue;
//! listeners (wake-up callbacks) are called after the lock is released.

mod conference;
mod conferences;
mod error;
mod invitations;
mod membership;
/// The JSON-in / JSON-out REST-style interface for app servers.
pub mod rest;
mod sessions;
mod state;

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use crate::clock::{Clock, SystemClock};
use crate::event::{EndReason, Event, EventKind};
use crate::identity::{Alias, ConferenceId, ExternalId, ParticipantInfo};
use crate::lifecycle::{LifecycleEvent, ParticipantStatus, ParticipantType};
use crate::permissions::{Permission, PermissionSet};
use crate::token::{
    Claims, JwkSet, KeyId, KeyRing, RevocationList, SigningKey, Validation, DEFAULT_LEEWAY_SECS,
    DEFAULT_TOKEN_TTL_SECS,
};

use conference::{Conference, Participant, Resolved};
pub use error::PlatformError;

/// Result of a platform operation.
pub type Result<T, E = PlatformError> = std::result::Result<T, E>;

/// A session's handle: unique for the platform's life, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A wake-up callback: called with the session's id, after the platform's lock
/// is released, once per operation that queued events for the session. The
/// host then drains the queue.
pub type Listener = Arc<dyn Fn(SessionId) + Send + Sync>;

/// Platform-wide settings.
#[derive(Debug, Clone)]
pub struct PlatformConfig {
    /// `iss` of every token.
    pub issuer: String,
    /// Token lifetime unless a conference sets another (default 3 hours).
    pub token_ttl_secs: u64,
    /// Clock leeway when verifying tokens (default 60 s).
    pub leeway_secs: u64,
    /// How long an empty conference lives unless it sets another (default 1 hour).
    pub empty_ttl_secs: u64,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        PlatformConfig {
            issuer: "confkit".into(),
            token_ttl_secs: DEFAULT_TOKEN_TTL_SECS,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            empty_ttl_secs: 60 * 60,
        }
    }
}

/// Options chosen by a conference's creator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConferenceOptions {
    /// Whether joining and listening need a conference access token.
    pub protected: bool,
    /// Seconds an empty conference lives; `None` takes the platform default.
    pub empty_ttl_secs: Option<u64>,
    /// Audio only (informational: confkit carries no media).
    pub audio_only: bool,
    /// Most participants in the conference at once; `None` for no limit.
    pub participant_limit: Option<u32>,
    /// Token lifetime for this conference; `None` takes the platform default.
    pub token_ttl_secs: Option<u64>,
}

/// What a conference looks like from outside.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConferenceInfo {
    /// Its ID.
    pub id: ConferenceId,
    /// Its alias as the creator spelled it.
    pub alias: String,
    /// Its owner.
    pub owner: ExternalId,
    /// Whether joining needs a token.
    pub is_protected: bool,
    /// Audio only.
    pub audio_only: bool,
    /// Most participants at once.
    pub participant_limit: Option<u32>,
    /// Seconds an empty conference lives.
    pub empty_ttl_secs: u64,
    /// Lifetime of the tokens it issues.
    pub token_ttl_secs: u64,
    /// Creation time, seconds since the epoch.
    pub created_at: u64,
    /// Participants of any status.
    pub participant_count: usize,
    /// Participants in the conference now.
    pub present_count: usize,
}

/// The answer to a create request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Created {
    /// The conference (new or existing).
    pub conference: ConferenceInfo,
    /// False when the alias already named a live conference: no token was
    /// issued and nobody was notified; invite instead.
    pub is_new: bool,
    /// The owner's token with every permission (new protected conferences).
    pub owner_token: Option<String>,
}

/// One user to invite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitee {
    /// Who.
    pub external_id: ExternalId,
    /// What they may do; `None` gives [`PermissionSet::DEFAULT_INVITEE`].
    pub permissions: Option<PermissionSet>,
    /// Whether to send them the invitation notification (the SDK path always does).
    pub notify: bool,
}

impl Invitee {
    /// An invitee who is notified, with the given or default permissions.
    #[must_use]
    pub fn new(external_id: ExternalId, permissions: Option<PermissionSet>) -> Self {
        Invitee {
            external_id,
            permissions,
            notify: true,
        }
    }
}

/// What happened to one invitee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The invitation reached this many open sessions.
    Delivered(usize),
    /// They have no open session: the invitation is not kept, send it again later.
    NoOpenSession,
    /// Not notified, as asked (REST `notification: false`).
    NotRequested,
    /// Already in the conference: no new token, nothing sent.
    AlreadyInConference,
}

/// The result for one invitee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteResult {
    /// Who.
    pub external_id: ExternalId,
    /// Whether the invitation reached them.
    pub delivery: Delivery,
    /// Their permissions after the invitation.
    pub permissions: PermissionSet,
    /// Their new token (protected conferences, unless already in the conference).
    pub token: Option<String>,
}

/// What a join or listen gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Joined {
    /// The participant's status now (CONNECTING).
    pub status: ParticipantStatus,
    /// What they may do.
    pub permissions: PermissionSet,
    /// Whether this join took the place of another session of the same user.
    pub switched: bool,
}

struct Session {
    info: ParticipantInfo,
    queue: VecDeque<Event>,
    next_sequence: u64,
    listener: Option<Listener>,
    /// Conferences this session is connected to.
    joined: HashSet<ConferenceId>,
}

#[derive(Default)]
struct State {
    sessions: HashMap<SessionId, Session>,
    by_user: HashMap<ExternalId, Vec<SessionId>>,
    next_session: u64,
    conferences: HashMap<ConferenceId, Conference>,
    aliases: HashMap<String, ConferenceId>,
    destroyed: HashSet<ConferenceId>,
    /// (deadline, conference) of every empty conference.
    expiry: BTreeSet<(u64, ConferenceId)>,
    revocations: RevocationList,
}

/// Events decided by an operation, delivered only if it succeeds.
#[derive(Default)]
struct Outbox {
    items: Vec<(SessionId, ConferenceId, Arc<EventKind>)>,
}

impl Outbox {
    fn send(&mut self, to: &[SessionId], conf: ConferenceId, kind: EventKind) {
        if to.is_empty() {
            return;
        }
        let kind = Arc::new(kind);
        self.items
            .extend(to.iter().map(|s| (*s, conf, Arc::clone(&kind))));
    }
}

/// The conference authority. `Send + Sync`: share it behind an `Arc`.
pub struct Platform {
    config: PlatformConfig,
    key: SigningKey,
    ring: RwLock<KeyRing>,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

impl fmt::Debug for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Platform")
            .field("issuer", &self.config.issuer)
            .field("kid", self.key.kid())
            .finish_non_exhaustive()
    }
}

impl Platform {
    /// A platform signing with `key`, on the system clock, with default settings.
    #[must_use]
    pub fn new(key: SigningKey) -> Self {
        Self::with_config(key, Arc::new(SystemClock), PlatformConfig::default())
    }

    /// A platform with its own clock (e.g. a [`crate::clock::ManualClock`]) and settings.
    #[must_use]
    pub fn with_config(key: SigningKey, clock: Arc<dyn Clock>, config: PlatformConfig) -> Self {
        let mut ring = KeyRing::new();
        // A signing key's public half is never weak and the ring is empty, so
        // this cannot fail; ignoring the impossible error keeps `new` infallible.
        let _ = ring.insert(key.kid().clone(), key.verifying_key());
        Platform {
            config,
            key,
            ring: RwLock::new(ring),
            clock,
            state: Mutex::new(State::default()),
        }
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &PlatformConfig {
        &self.config
    }

    /// The current time on the platform's clock.
    #[must_use]
    pub fn now(&self) -> u64 {
        self.clock.now()
    }

    /// The public keys tokens verify with, as a JWK set.
    #[must_use]
    pub fn jwks(&self) -> JwkSet {
        self.ring.read().to_jwks()
    }

    /// Trusts another public key too (tokens signed before a key rotation).
    pub fn add_verifying_key(
        &self,
        kid: KeyId,
        key: ed25519_dalek::VerifyingKey,
    ) -> Result<(), crate::token::KeyError> {
        self.ring.write().insert(kid, key)
    }

    /// Revokes one token by its id (`jti`): it no longer admits anyone to any
    /// conference of this platform.
    pub fn revoke_token(&self, token_id: &str) {
        self.state.lock().revocations.revoke_token(token_id);
    }

    /// Runs `f` under the lock, delivers its events if it succeeds, then calls
    /// listeners with the lock released.
    fn run<R>(&self, f: impl FnOnce(&mut State, &mut Outbox, u64) -> Result<R>) -> Result<R> {
        let now = self.clock.now();
        let (result, wake) = {
            let mut st = self.state.lock();
            let mut out = Outbox::default();
            st.expire_due(now, &mut out);
            let mut decided = Outbox::default();
            let result = f(&mut st, &mut decided, now);
            // A refused operation sends nothing; the expiry sweep's events stand.
            if result.is_ok() {
                out.items.append(&mut decided.items);
            }
            let wake = st.deliver(out);
            (result, wake)
        };
        for (sid, listener) in wake {
            listener(sid);
        }
        result
    }

    fn mint(
        &self,
        conf: &Conference,
        subject: &ExternalId,
        perms: PermissionSet,
        now: u64,
    ) -> (String, Box<str>) {
        let claims = Claims::new(
            self.config.issuer.clone(),
            subject.clone(),
            conf.id,
            perms,
            now,
            conf.options.token_ttl_secs,
        );
        (self.key.mint(&claims), claims.token_id.into_boxed_str())
    }
}
