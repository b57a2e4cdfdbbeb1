//! The authority an app server embeds, and the in-process simulation tests and
//! demos run: sessions, conferences, invitations, the participant lifecycle and
//! the events each session receives.
//!
//! All state sits behind one `parking_lot` mutex. Every operation validates its
//! whole input before it changes anything, so a refused operation leaves the
//! platform as it was and sends no event. Events go into each session's
//! bounded queue ([`PlatformConfig::max_queued_events`]); listeners (wake-up
//! callbacks) are called after the lock is released. Operations that issue
//! tokens sign them before taking the lock and decide under it.
//!
//! Only the rules live here; nothing reads or writes JSON. Devices reach
//! them through the wire adapter ([`crate::wire::server`]), app servers
//! through the REST adapter ([`crate::rest`]), which calls the app-server
//! operations (`app.rs`: `Platform::app_create` and the rest), and C through
//! [`crate::ffi`].

mod app;
mod conference;
mod conferences;
mod durable;
mod error;
mod invitations;
mod membership;
mod sessions;
mod snapshots;
mod state;
mod tokens;

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

use crate::expiring::Expiring;
use crate::snapshot::ConferenceSnapshot;
pub use app::AppCreated;
use conference::{Conference, Participant, Resolved, TokenRecord};
pub use error::{KeyChangeError, PlatformError};
pub use snapshots::Resync;

/// The REST adapter's old path: it now lives in [`crate::rest`], and these
/// re-exports keep `confkit::platform::rest::{RestResponse, MAX_BODY_BYTES}`
/// working.
pub mod rest {
    pub use crate::rest::{RestResponse, MAX_BODY_BYTES};
}

/// Result of a platform operation.
pub type Result<T, E = PlatformError> = std::result::Result<T, E>;

/// A session's handle, never reused: a random 32-bit epoch chosen when the
/// platform starts, then a counter, so an id from before a restart never
/// names a session of the new platform.
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

/// Most invitees (or participants) one request may list, SDK or REST; more is
/// refused with `INVALID_ARGUMENT` (400) before anything is done.
pub const MAX_INVITEES_PER_REQUEST: usize = 10_000;

/// Refuses, with `INVALID_ARGUMENT`, a request that lists more than
/// [`MAX_INVITEES_PER_REQUEST`] users. Every operation that takes a list
/// checks it itself; an adapter may call it first, to refuse an oversized
/// request before reading each entry.
pub fn check_request_len(n: usize) -> Result<()> {
    if n > MAX_INVITEES_PER_REQUEST {
        return Err(PlatformError::InvalidInput(format!(
            "{n} participants in one request, more than {MAX_INVITEES_PER_REQUEST}: split it"
        )));
    }
    Ok(())
}

/// Default cap of a session's event queue.
pub const DEFAULT_MAX_QUEUED_EVENTS: usize = 1024;

/// Longest time to live a conference may set for its tokens or for staying
/// empty (24 hours): what the platform remembers about a conference is bounded
/// by it.
pub const MAX_CONFERENCE_TTL_SECS: u64 = 24 * 60 * 60;

/// Most participant records (of any status) one conference holds; an
/// invitation beyond it is refused with `AT_MAX_CAPACITY`.
pub const MAX_PARTICIPANTS_PER_CONFERENCE: usize = 100_000;

/// Default idle time after which a silent wire session is closed.
pub const DEFAULT_SESSION_IDLE_SECS: u64 = 30;

/// Default number of delivered events kept per session for a resync.
pub const DEFAULT_EVENT_RETENTION: usize = 256;

/// Default lead time of a token refresh: 5 minutes before expiry.
pub const DEFAULT_TOKEN_REFRESH_LEAD_SECS: u64 = 5 * 60;

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
    /// How long before a connected participant's token expires the platform
    /// sends them a fresh one (`tokenRefreshed`). Default 5 minutes; never
    /// more than half the token's lifetime.
    pub token_refresh_lead_secs: u64,
    /// Most events a session's queue holds (default 1,024; at least 2). On
    /// overflow the oldest are dropped and the session gets one
    /// `eventsMissed` in their place.
    pub max_queued_events: usize,
    /// A session that speaks the wire protocol and sends nothing (no request,
    /// no keep-alive) for this long is closed by the expiry sweep, so a phone
    /// that vanished leaves its conferences (no ghosts). Default 30 s; 0
    /// turns it off. Sessions used only in-process are the host's to close.
    pub session_idle_secs: u64,
    /// How many events already taken from a session's queue the platform
    /// keeps, so a device that lost some can get them again
    /// ([`Platform::resync`]); beyond that it gets a snapshot. Default 256.
    pub event_retention: usize,
    /// How many verified tokens the platform remembers, so that a token
    /// presented again (a rejoin, a listen after a join, a reconnect) is not
    /// verified again: its time, conference and revocation are still checked
    /// each time. Tokens the platform signs are remembered too; the least
    /// recently used go first. Default
    /// [`crate::token::DEFAULT_VERIFIED_TOKENS`]; 0 turns the cache off.
    pub verified_tokens: usize,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        PlatformConfig {
            issuer: "confkit".into(),
            token_ttl_secs: DEFAULT_TOKEN_TTL_SECS,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            empty_ttl_secs: 60 * 60,
            token_refresh_lead_secs: DEFAULT_TOKEN_REFRESH_LEAD_SECS,
            max_queued_events: DEFAULT_MAX_QUEUED_EVENTS,
            event_retention: DEFAULT_EVENT_RETENTION,
            session_idle_secs: DEFAULT_SESSION_IDLE_SECS,
            verified_tokens: crate::token::DEFAULT_VERIFIED_TOKENS,
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
    /// False when the alias already named a live conference: nobody was
    /// notified; invite instead.
    pub is_new: bool,
    /// The owner's token with every permission: for a new protected
    /// conference, or a fresh one when its owner creates it again.
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
}

/// An invitation's outcome for the app server ([`Platform::app_invite`],
/// [`Platform::app_create`]): the result plus the invitee's new token, which
/// only the invitee (in the invitation) and the app server ever see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invited {
    /// Whom the invitation reached, and their permissions now.
    pub result: InviteResult,
    /// Their new token (protected conferences; `None` for one already in
    /// the conference).
    pub token: Option<String>,
}

/// How much the platform remembers beyond live conferences and sessions: each
/// count drops back once the tokens it concerns have expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Retained {
    /// Revoked token ids.
    pub revoked_token_ids: usize,
    /// Per-participant revocations (kicks).
    pub revoked_subjects: usize,
    /// Destroyed conference IDs still answered as "destroyed".
    pub destroyed_conferences: usize,
    /// Scheduled token refreshes.
    pub scheduled_refreshes: usize,
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
    /// Replies to the session's latest requests, by request id, oldest
    /// first; `None` while the request runs (see [`Platform::run_once`]).
    replies: VecDeque<RememberedReply>,
    /// The last events taken from the queue, kept for a resync
    /// ([`PlatformConfig::event_retention`] at most).
    sent: VecDeque<Event>,
    /// How many of them to keep.
    retention: usize,
    /// When a wire message from it last arrived (`None`: never; then the
    /// idle sweep leaves it alone).
    last_heard: Option<u64>,
}

/// A request id and its reply (`None` while the request runs).
struct RememberedReply {
    /// A hash of the id, compared before the id itself.
    hash: u64,
    id: Box<str>,
    reply: Option<Arc<[u8]>>,
}

impl Session {
    /// Keeps events just taken from the queue for a later resync.
    fn retain_sent(&mut self, taken: impl IntoIterator<Item = Event>) {
        self.sent.extend(taken);
        let excess = self.sent.len().saturating_sub(self.retention);
        self.sent.drain(..excess);
    }

    /// Queues an event with the next sequence number. Beyond `cap` events the
    /// oldest go: the head of the queue becomes (or stays) one `eventsMissed`
    /// that stands for the whole lost run and takes the sequence number of the
    /// last event it replaced, so numbers never repeat and stay in order.
    fn push(&mut self, conference_id: ConferenceId, kind: Arc<EventKind>, cap: usize) {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.queue.push_back(Event {
            sequence,
            conference_id: Some(conference_id),
            kind,
        });
        if self.queue.len() <= cap.max(2) {
            return;
        }
        let (Some(head), Some(next)) = (self.queue.pop_front(), self.queue.pop_front()) else {
            return;
        };
        let first_missed_sequence = match &*head.kind {
            EventKind::EventsMissed {
                first_missed_sequence,
                ..
            } => *first_missed_sequence,
            _ => head.sequence,
        };
        self.queue.push_front(Event {
            sequence: next.sequence,
            conference_id: None,
            kind: Arc::new(EventKind::EventsMissed {
                first_missed_sequence,
                first_available_sequence: next.sequence + 1,
            }),
        });
    }
}

#[derive(Default)]
struct State {
    /// The verifiers' clock leeway: how long past `exp` a token still counts.
    leeway: u64,
    /// [`PlatformConfig::token_refresh_lead_secs`].
    refresh_lead: u64,
    sessions: HashMap<SessionId, Session>,
    by_user: HashMap<ExternalId, Vec<SessionId>>,
    next_session: u64,
    conferences: HashMap<ConferenceId, Conference>,
    aliases: HashMap<String, ConferenceId>,
    /// Destroyed conference IDs, kept until every token for them has expired
    /// (then a lookup says "not found" instead of "destroyed").
    destroyed: Expiring<ConferenceId, ()>,
    /// (deadline, conference) of every empty conference.
    expiry: BTreeSet<(u64, ConferenceId)>,
    /// (when, conference, participant) of the next token refresh of every
    /// present participant of a protected conference; entries that no longer
    /// match the participant's newest token are skipped when due.
    refresh: BTreeSet<(u64, ConferenceId, ExternalId)>,
    revocations: RevocationList,
    /// (deadline, session) of every wire session's idle expiry; entries that
    /// no longer match the session's last message are skipped when due.
    idle: BTreeSet<(u64, SessionId)>,
    /// This platform's random session-id epoch (the high 32 bits).
    session_epoch: u64,
    /// The longest token lifetime any conference of this platform uses: how
    /// long a revocation by bare token id must be kept.
    max_token_ttl: u64,
    /// Verifying keys trusted besides the platform's own (durable).
    trusted: std::collections::BTreeMap<String, [u8; 32]>,
    /// Where operations commit, if anywhere.
    store: Option<Box<dyn crate::store::Store>>,
    /// The running operation's journal.
    txn: durable::Txn,
    /// [`State::size`] when the store was last compacted.
    compacted_size: usize,
}

/// A token to sign before an operation takes the lock.
pub(crate) struct TokenRequest {
    conference: ConferenceId,
    ttl_secs: u64,
    subject: ExternalId,
    permissions: PermissionSet,
}

/// Tokens signed ahead, outside the lock, for one operation; the operation
/// takes those that match what it decides under the lock and signs the rest
/// there. Unused ones are dropped without ever leaving the process.
#[derive(Default)]
pub(crate) struct Minter {
    /// In the order they were predicted, which is the order the operation
    /// asks for them when the prediction held.
    ready: Vec<Option<Presigned>>,
    /// The next entry of `ready` to look at.
    cursor: usize,
    /// Where each subject's entry is, built on the first out-of-order ask.
    by_subject: Option<HashMap<ExternalId, usize>>,
    /// An invitation plan decided while predicting.
    plan: Option<invitations::InvitePlan>,
}

/// One token signed ahead.
struct Presigned {
    conference: ConferenceId,
    subject: ExternalId,
    permissions: PermissionSet,
    token: String,
    record: TokenRecord,
}

impl Minter {
    /// The token signed ahead for exactly this conference, subject and set.
    fn take(
        &mut self,
        conference: ConferenceId,
        subject: &ExternalId,
        permissions: PermissionSet,
    ) -> Option<(String, TokenRecord)> {
        let matches = |p: &Presigned| {
            p.conference == conference && p.permissions == permissions && &p.subject == subject
        };
        let at = match self.ready.get(self.cursor) {
            Some(Some(p)) if matches(p) => Some(self.cursor),
            _ if self.ready.is_empty() => None,
            _ => {
                let ready = &self.ready;
                let index = self.by_subject.get_or_insert_with(|| {
                    ready
                        .iter()
                        .enumerate()
                        .filter_map(|(i, p)| Some((p.as_ref()?.subject.clone(), i)))
                        .collect()
                });
                index.get(subject).copied()
            }
        }?;
        let found = self.ready.get_mut(at)?.take_if(|p| matches(p))?;
        self.cursor = at + 1;
        Some((found.token, found.record))
    }
}

/// Events decided by an operation, delivered only if it succeeds.
#[derive(Default)]
struct Outbox {
    items: Vec<(SessionId, ConferenceId, Arc<EventKind>)>,
    /// Sessions the sweep closed: dropped (with their listeners) only after
    /// the lock is released.
    closed: Vec<Session>,
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
    /// Tokens whose signature verified or that this platform signed.
    verified: crate::token::VerifiedTokens,
    clock: Arc<dyn Clock>,
    /// The latest time the clock has shown (see `monotonic_now`).
    high_water: std::sync::atomic::AtomicU64,
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

/// A random, non-zero session-id epoch (the high 32 bits of every session
/// id), so that a restarted platform without a store hands out ids its old
/// sessions did not have. If the operating system's generator fails, the
/// clock's nanoseconds stand in: the epoch needs to differ, not be secret.
fn session_epoch() -> u64 {
    let mut bytes = [0u8; 4];
    let epoch = match getrandom::fill(&mut bytes) {
        Ok(()) => u32::from_le_bytes(bytes),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.subsec_nanos()),
    };
    u64::from(epoch.max(1)) << 32
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
            key,
            ring: RwLock::new(ring),
            verified: crate::token::VerifiedTokens::new(config.verified_tokens),
            clock,
            high_water: std::sync::atomic::AtomicU64::new(0),
            state: Mutex::new(State {
                leeway: config.leeway_secs,
                refresh_lead: config.token_refresh_lead_secs,
                max_token_ttl: config.token_ttl_secs,
                session_epoch: session_epoch(),
                ..State::default()
            }),
            config,
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

    /// The platform's own time: the clock, but never earlier than it has
    /// already been. Expiry, revocation pruning and token checks use it, so a
    /// clock that steps back cannot bring back what has expired or been
    /// forgotten. Tokens are stamped with the clock itself (devices check
    /// them against their own clocks).
    fn monotonic_now(&self) -> u64 {
        let now = self.clock.now();
        self.high_water
            .fetch_max(now, std::sync::atomic::Ordering::SeqCst)
            .max(now)
    }

    /// The public keys tokens verify with, as a JWK set.
    #[must_use]
    pub fn jwks(&self) -> JwkSet {
        self.ring.read().to_jwks()
    }

    /// What the platform remembers for revocation and lookups (see [`Retained`]).
    #[must_use]
    pub fn retained(&self) -> Retained {
        let st = self.state.lock();
        let (revoked_token_ids, revoked_subjects) = st.revocations.len();
        Retained {
            revoked_token_ids,
            revoked_subjects,
            destroyed_conferences: st.destroyed.len(),
            scheduled_refreshes: st.refresh.len(),
        }
    }

    /// Trusts another public key too (tokens signed before a key rotation).
    /// With a store, the key is trusted again after a restart.
    pub fn add_verifying_key(
        &self,
        kid: KeyId,
        key: ed25519_dalek::VerifyingKey,
    ) -> Result<(), KeyChangeError> {
        let mut st = self.state.lock();
        let mut ring = self.ring.write();
        let mut next = ring.clone();
        next.insert(kid.clone(), key)?;
        if let Some(store) = &mut st.store {
            store.commit(&crate::store::Commit {
                changes: vec![crate::store::Change::KeyTrusted {
                    kid: kid.as_str().to_owned(),
                    public_key: key.to_bytes(),
                }],
            })?;
        }
        st.trusted.insert(kid.as_str().to_owned(), key.to_bytes());
        *ring = next;
        Ok(())
    }

    /// Stops trusting a verifying key (one added with
    /// [`Platform::add_verifying_key`]; the platform's own signing key stays):
    /// tokens it signed no longer verify, cached or not. Whether it was there.
    pub fn remove_verifying_key(&self, kid: &str) -> Result<bool, KeyChangeError> {
        if kid == self.key.kid().as_str() {
            return Ok(false);
        }
        let mut st = self.state.lock();
        let mut ring = self.ring.write();
        if !st.trusted.contains_key(kid) && ring.get(kid).is_none() {
            return Ok(false);
        }
        if let Some(store) = &mut st.store {
            store.commit(&crate::store::Commit {
                changes: vec![crate::store::Change::KeyRemoved {
                    kid: kid.to_owned(),
                }],
            })?;
        }
        st.trusted.remove(kid);
        let removed = ring.remove(kid);
        self.verified.forget_key(kid);
        Ok(removed)
    }

    /// How many verified tokens are cached (at most
    /// [`PlatformConfig::verified_tokens`]).
    #[must_use]
    pub fn cached_tokens(&self) -> usize {
        self.verified.len()
    }

    /// Revokes one token by its id (`jti`): it no longer admits anyone to any
    /// conference of this platform. Remembered for the longest token lifetime
    /// in use (plus leeway), after which any token with that id has expired.
    /// Fails only when the platform's store does.
    pub fn revoke_token(&self, token_id: &str) -> Result<()> {
        self.run(|st, _, now| {
            let forget_after = now
                .saturating_add(st.max_token_ttl.max(self.config.token_ttl_secs))
                .saturating_add(self.config.leeway_secs);
            st.revoke_jti(token_id.into(), forget_after);
            Ok(())
        })
    }

    /// Runs `f` under the lock, delivers its events if it succeeds, then calls
    /// listeners with the lock released.
    fn run<R>(&self, f: impl FnOnce(&mut State, &mut Outbox, u64) -> Result<R>) -> Result<R> {
        self.run_minting(&mut Minter::default(), |st, out, now, _| f(st, out, now))
    }

    /// [`Platform::run`] for operations that issue tokens: `predict` looks at
    /// the state (briefly locked) to say which tokens the operation will
    /// probably need, they are signed with the lock released, and `f` then
    /// decides and applies everything under the lock, taking the tokens signed
    /// ahead where they match. `predict` may also leave an invitation plan in
    /// the minter, which `f` reuses only if the conference has not changed
    /// since (same version). The prediction only saves time: `f` alone
    /// decides, so the operation stays all-or-nothing whatever changed between.
    fn run_signed<R>(
        &self,
        predict: impl FnOnce(&State, u64, &mut Minter) -> Result<Vec<TokenRequest>>,
        f: impl FnOnce(&mut State, &mut Outbox, u64, &mut Minter) -> Result<R>,
    ) -> Result<R> {
        let now = self.monotonic_now();
        let wall = self.clock.now();
        let mut minter = Minter::default();
        let requests = predict(&self.state.lock(), now, &mut minter).unwrap_or_default();
        for r in requests {
            let claims = Claims::new(
                self.config.issuer.clone(),
                r.subject.clone(),
                r.conference,
                r.permissions,
                wall,
                r.ttl_secs,
            );
            let record = TokenRecord {
                jti: claims.token_id.as_str().into(),
                expires_at: claims.expires_at,
                permissions: r.permissions,
            };
            let token = self.key.mint(&claims);
            self.verified
                .insert(&token, self.key.kid(), Arc::new(claims));
            minter.ready.push(Some(Presigned {
                conference: r.conference,
                token,
                subject: r.subject,
                permissions: r.permissions,
                record,
            }));
        }
        self.run_minting(&mut minter, f)
    }

    fn run_minting<R>(
        &self,
        minter: &mut Minter,
        f: impl FnOnce(&mut State, &mut Outbox, u64, &mut Minter) -> Result<R>,
    ) -> Result<R> {
        let now = self.monotonic_now();
        let (result, wake, closed) = {
            let mut st = self.state.lock();
            let mut out = Outbox::default();
            let mut closed = match self.sweep(&mut st, now, &mut out) {
                Ok((_, closed)) => closed,
                Err(e) => return Err(e),
            };
            let mut decided = Outbox::default();
            let result = f(&mut st, &mut decided, now, minter);
            // With a store, the operation's changes are committed (or, if it
            // was refused or the commit failed, put back) before anything
            // leaves. A refused operation sends nothing; the sweep's events
            // stand.
            let result = match st.end(result.is_ok()) {
                Ok(released) => {
                    closed.extend(released);
                    result
                }
                Err(e) => Err(PlatformError::Store(e)),
            };
            if result.is_ok() {
                out.items.append(&mut decided.items);
            }
            let wake = st.deliver(out, self.config.max_queued_events);
            (result, wake, closed)
        };
        for (sid, listener) in wake {
            listener(sid);
        }
        drop(closed);
        result
    }

    /// [`Platform::housekeeping`] as a transaction of its own: committed
    /// before the operation runs (or put back, and the operation refused,
    /// if the store fails). Returns the sessions it closed, to drop after the
    /// lock.
    fn sweep(&self, st: &mut State, now: u64, out: &mut Outbox) -> Result<(usize, Vec<Session>)> {
        let destroyed = self.housekeeping(st, now, out);
        let mut closed = std::mem::take(&mut out.closed);
        match st.end(true) {
            Ok(released) => {
                Self::forget(st, now, destroyed);
                // What the sweep forgot (expired revocations) may let the
                // store shrink even when nothing was committed.
                st.maybe_compact();
                closed.extend(released);
                Ok((destroyed, closed))
            }
            Err(e) => {
                out.items.clear();
                Err(PlatformError::Store(e))
            }
        }
    }

    /// What every operation does first: close idle sessions, destroy
    /// conferences whose time is up, refresh tokens about to expire (then
    /// [`Platform::forget`]).
    fn housekeeping(&self, st: &mut State, now: u64, out: &mut Outbox) -> usize {
        st.close_idle(now, self.config.session_idle_secs, out);
        let destroyed = st.expire_due(now, out);
        self.refresh_due(st, now, out);
        destroyed
    }

    /// What the sweep forgets once its changes stand (so that a sweep whose
    /// commit failed has changed nothing): revocations and destroyed ids
    /// whose tokens have all expired, and the maps' spare room after a wave
    /// of conferences ended.
    fn forget(st: &mut State, now: u64, destroyed: usize) {
        st.revocations.prune(now);
        st.destroyed.prune(now);
        if destroyed > 0 {
            shrink(&mut st.conferences);
            shrink(&mut st.aliases);
        }
    }

    /// A token for `subject` in `conf`: the one signed ahead if it matches,
    /// otherwise signed now.
    fn mint(
        &self,
        minter: &mut Minter,
        conf: &Conference,
        subject: &ExternalId,
        perms: PermissionSet,
    ) -> (String, TokenRecord) {
        if let Some(ready) = minter.take(conf.id, subject, perms) {
            return ready;
        }
        // Stamped with the clock itself, not the platform's monotonic time.
        let claims = Claims::new(
            self.config.issuer.clone(),
            subject.clone(),
            conf.id,
            perms,
            self.clock.now(),
            conf.options.token_ttl_secs,
        );
        let record = TokenRecord {
            jti: claims.token_id.as_str().into(),
            expires_at: claims.expires_at,
            permissions: perms,
        };
        let token = self.key.mint(&claims);
        self.verified
            .insert(&token, self.key.kid(), Arc::new(claims));
        (token, record)
    }
}

/// Frees most of a map's spare room once it is less than a quarter full.
fn shrink<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>) {
    if map.capacity() > 64 && map.len() < map.capacity() / 4 {
        map.shrink_to(map.len() * 2);
    }
}

impl TokenRequest {
    /// A request for a token of `subject` in `conf`.
    fn new(conf: &Conference, subject: &ExternalId, permissions: PermissionSet) -> Self {
        TokenRequest {
            conference: conf.id,
            ttl_secs: conf.options.token_ttl_secs,
            subject: subject.clone(),
            permissions,
        }
    }
}
