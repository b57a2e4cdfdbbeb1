//! The authority an app server embeds, and the in-process simulation tests and
//! demos run: sessions, conferences, invitations, the participant lifecycle and
//! the events each session receives.
//!
//! All state sits behind one `parking_lot` mutex. Every operation validates its
//! whole input before it changes anything, so a refused operation leaves the
//! platform as it was and sends no event. Events go into each session's queue;
//! listeners (wake-up callbacks) are called after the lock is released.

mod conference;
mod error;
/// The JSON-in / JSON-out REST-style interface for app servers.
pub mod rest;

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

    /// Runs `f` under the lock, delivers its events if it succeeds, then calls
    /// listeners with the lock released.
    fn run<R>(&self, f: impl FnOnce(&mut State, &mut Outbox, u64) -> Result<R>) -> Result<R> {
        let now = self.clock.now();
        let (result, wake) = {
            let mut st = self.state.lock();
            let mut out = Outbox::default();
            st.expire_due(now, &mut out);
            let result = f(&mut st, &mut out, now);
            if result.is_err() {
                // Keep only what the sweep decided; the failed operation sent nothing.
                out.items
                    .retain(|(_, _, k)| matches!(**k, EventKind::ConferenceEnded { .. }));
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

    // ----- sessions -----

    /// Opens a session for a user. A user may have several (phone and laptop);
    /// each receives every notification addressed to the user.
    pub fn open_session(&self, info: ParticipantInfo) -> SessionId {
        let mut st = self.state.lock();
        st.next_session += 1;
        let sid = SessionId(st.next_session);
        st.by_user
            .entry(info.external_id().clone())
            .or_default()
            .push(sid);
        st.sessions.insert(
            sid,
            Session {
                info,
                queue: VecDeque::new(),
                next_sequence: 1,
                listener: None,
                joined: HashSet::new(),
            },
        );
        sid
    }

    /// Closes a session: it leaves every conference it is connected to (the
    /// others are told) and its queue is dropped. Closing twice is an error.
    pub fn close_session(&self, sid: SessionId) -> Result<()> {
        let removed = self.run(|st, out, now| {
            let joined: Vec<ConferenceId> = st.session(sid)?.joined.iter().copied().collect();
            for cid in joined {
                // The session is connected, so it is present: leaving is allowed.
                st.leave_inner(sid, cid, now, out)?;
            }
            Ok(st.remove_session(sid))
        })?;
        // The session's listener is released here, outside the lock.
        drop(removed);
        Ok(())
    }

    /// The session's user.
    pub fn session_info(&self, sid: SessionId) -> Result<ParticipantInfo> {
        Ok(self.state.lock().session(sid)?.info.clone())
    }

    /// Takes the next event from a session's queue.
    pub fn poll_event(&self, sid: SessionId) -> Result<Option<Event>> {
        let mut st = self.state.lock();
        Ok(st.session_mut(sid)?.queue.pop_front())
    }

    /// Takes every queued event of a session, oldest first.
    pub fn drain_events(&self, sid: SessionId) -> Result<Vec<Event>> {
        let mut st = self.state.lock();
        Ok(st.session_mut(sid)?.queue.drain(..).collect())
    }

    /// How many events wait in a session's queue.
    pub fn pending_events(&self, sid: SessionId) -> Result<usize> {
        Ok(self.state.lock().session(sid)?.queue.len())
    }

    /// Sets (or clears) the session's wake-up listener.
    pub fn set_listener(&self, sid: SessionId, listener: Option<Listener>) -> Result<()> {
        let old = {
            let mut st = self.state.lock();
            std::mem::replace(&mut st.session_mut(sid)?.listener, listener)
        };
        // The old listener (and whatever it owns) is released outside the lock.
        drop(old);
        Ok(())
    }

    // ----- conferences -----

    /// Creates a conference owned by the session's user. An alias that already
    /// names a live conference (ignoring case) returns that conference, marked
    /// not new, with no token and no notification.
    pub fn create_conference(
        &self,
        sid: SessionId,
        alias: &str,
        options: ConferenceOptions,
    ) -> Result<Created> {
        let alias = Alias::new(alias)?;
        self.run(|st, out, now| {
            let owner = st.session(sid)?.info.clone();
            self.create_inner(st, out, now, owner, alias, options)
        })
    }

    fn create_inner(
        &self,
        st: &mut State,
        out: &mut Outbox,
        now: u64,
        owner: ParticipantInfo,
        alias: Alias,
        options: ConferenceOptions,
    ) -> Result<Created> {
        if let Some(existing) = st
            .aliases
            .get(alias.key())
            .and_then(|id| st.conferences.get(id))
        {
            return Ok(Created {
                conference: existing.info(),
                is_new: false,
                owner_token: None,
            });
        }
        if options.participant_limit == Some(0) {
            return Err(PlatformError::InvalidInput(
                "participant limit must be at least 1".into(),
            ));
        }
        let resolved = Resolved {
            protected: options.protected,
            audio_only: options.audio_only,
            participant_limit: options.participant_limit,
            empty_ttl_secs: options.empty_ttl_secs.unwrap_or(self.config.empty_ttl_secs),
            token_ttl_secs: options.token_ttl_secs.unwrap_or(self.config.token_ttl_secs),
        };
        let id = ConferenceId::random();
        let owner_id = owner.external_id().clone();
        let mut conf = Conference::new(id, alias, owner_id.clone(), resolved, now);
        let mut owner_p = Participant {
            info: owner,
            status: ParticipantStatus::Reserved,
            kind: ParticipantType::User,
            permissions: PermissionSet::ALL,
            session: None,
            token_ids: Vec::new(),
        };
        let owner_token = if resolved.protected {
            let (token, jti) = self.mint(&conf, &owner_id, PermissionSet::ALL, now);
            owner_p.token_ids.push(jti);
            Some(token)
        } else {
            None
        };
        conf.add(owner_p);
        let info = conf.info();
        st.aliases.insert(conf.alias.key().to_owned(), id);
        if let Some(t) = conf.expires_at {
            st.expiry.insert((t, id));
        }
        let to = st.sessions_of(&owner_id);
        out.send(
            &to,
            id,
            EventKind::ConferenceCreated {
                conference_alias: conf.alias.as_str().to_owned(),
                is_protected: resolved.protected,
            },
        );
        st.conferences.insert(id, conf);
        Ok(Created {
            conference: info,
            is_new: true,
            owner_token,
        })
    }

    /// A live conference by ID.
    pub fn conference(&self, id: ConferenceId) -> Result<ConferenceInfo> {
        self.run(|st, _, _| Ok(st.conference(id)?.info()))
    }

    /// A live conference by alias (ignoring case).
    pub fn conference_by_alias(&self, alias: &str) -> Result<ConferenceInfo> {
        let alias = Alias::new(alias)?;
        self.run(|st, _, _| {
            let id = st
                .aliases
                .get(alias.key())
                .copied()
                .ok_or_else(|| PlatformError::ConferenceNotFound(alias.as_str().to_owned()))?;
            Ok(st.conference(id)?.info())
        })
    }

    /// Every participant of a conference, in the order they were added.
    pub fn participants(&self, id: ConferenceId) -> Result<Vec<crate::event::ParticipantView>> {
        self.run(|st, _, _| {
            Ok(st
                .conference(id)?
                .participants()
                .iter()
                .map(Participant::view)
                .collect())
        })
    }

    /// Joins as a USER (sends and receives). Protected conferences need a token
    /// for this user and conference that grants JOIN and is not revoked.
    pub fn join(&self, sid: SessionId, id: ConferenceId, token: Option<&str>) -> Result<Joined> {
        self.enter(sid, id, token, ParticipantType::User)
    }

    /// Joins as a LISTENER (receives only; needs JOIN too in protected conferences).
    pub fn listen(&self, sid: SessionId, id: ConferenceId, token: Option<&str>) -> Result<Joined> {
        self.enter(sid, id, token, ParticipantType::Listener)
    }

    fn enter(
        &self,
        sid: SessionId,
        id: ConferenceId,
        token: Option<&str>,
        kind: ParticipantType,
    ) -> Result<Joined> {
        // The signature check is the expensive part: do it before taking the
        // lock; revocation is checked under it. Errors surface in the order
        // session, conference, token.
        let verified = token.map(|t| {
            let v = Validation::new(self.clock.now(), id).with_leeway(self.config.leeway_secs);
            self.ring.read().verify(t, &v)
        });
        self.run(|st, out, now| {
            let info = st.session(sid)?.info.clone();
            let user = info.external_id().clone();
            let conf = st.conference(id)?;
            let existing = conf.index_of(&user);
            let claims = match verified {
                Some(result) => {
                    let claims = result?;
                    st.revocations.check(&claims)?;
                    if claims.subject != user {
                        return Err(PlatformError::TokenSubject {
                            token_subject: claims.subject.to_string(),
                            session_user: user.to_string(),
                        });
                    }
                    if !claims.allows(Permission::Join) {
                        return Err(PlatformError::MissingPermission {
                            who: user,
                            permission: Permission::Join,
                        });
                    }
                    Some(claims)
                }
                None if conf.options.protected => {
                    return Err(PlatformError::TokenRequired(id.to_string()))
                }
                None => None,
            };
            let current = existing.and_then(|i| conf.get(i));
            let old_status = current.map(|p| p.status);
            let new_status = match old_status {
                Some(s) => s.apply(LifecycleEvent::Join)?,
                None => ParticipantStatus::Connecting,
            };
            let was_present = old_status.is_some_and(ParticipantStatus::is_in_conference);
            if let Some(limit) = conf.options.participant_limit {
                if !was_present && conf.present_count() >= limit as usize {
                    return Err(PlatformError::AtMaxCapacity { limit });
                }
            }
            let permissions = match (&claims, current) {
                (Some(c), _) => c.permissions,
                (None, _) if conf.is_owner(&user) => PermissionSet::ALL,
                (None, Some(p)) => p.permissions,
                (None, None) => PermissionSet::DEFAULT_INVITEE,
            };
            let replaced = current.and_then(|p| p.session).filter(|s| *s != sid);

            // Validated: from here on nothing fails.
            let conf = st.conference_mut(id)?;
            let expiry_before = conf.expires_at;
            let idx = match existing {
                Some(i) => {
                    conf.update(i, now, |p| {
                        p.status = new_status;
                        p.kind = kind;
                        p.permissions = permissions;
                        p.info = info;
                        p.session = Some(sid);
                        if let Some(c) = &claims {
                            if !p.token_ids.iter().any(|j| **j == *c.token_id) {
                                p.token_ids.push(c.token_id.clone().into_boxed_str());
                            }
                        }
                    });
                    i
                }
                None => conf.add(Participant {
                    info,
                    status: new_status,
                    kind,
                    permissions,
                    session: Some(sid),
                    token_ids: claims
                        .iter()
                        .map(|c| c.token_id.clone().into_boxed_str())
                        .collect(),
                }),
            };
            let view = conf.get(idx).map(Participant::view);
            let audience = conf.audience(idx);
            st.sync_expiry(id, expiry_before);
            if let Some(view) = view {
                let kind = match old_status {
                    Some(old) => EventKind::ParticipantUpdated {
                        participant: view,
                        old_status: old,
                        new_status,
                    },
                    None => EventKind::ParticipantAdded { participant: view },
                };
                out.send(&audience, id, kind);
            }
            if let Some(old_sid) = replaced {
                out.send(&[old_sid], id, EventKind::Switched { external_id: user });
                if let Some(s) = st.sessions.get_mut(&old_sid) {
                    s.joined.remove(&id);
                }
            }
            if let Some(s) = st.sessions.get_mut(&sid) {
                s.joined.insert(id);
            }
            Ok(Joined {
                status: new_status,
                permissions,
                switched: replaced.is_some(),
            })
        })
    }

    /// Reports what the media layer saw for this session's participant:
    /// CONNECTED, MEDIA_TROUBLE, RECOVERED, FAILURE or IDLE.
    pub fn report(
        &self,
        sid: SessionId,
        id: ConferenceId,
        event: LifecycleEvent,
    ) -> Result<ParticipantStatus> {
        use LifecycleEvent as E;
        if !matches!(
            event,
            E::Connected | E::MediaTrouble | E::Recovered | E::Failure | E::Idle
        ) {
            return Err(PlatformError::InvalidInput(format!(
                "{event} is not a media report"
            )));
        }
        self.run(|st, out, now| {
            let idx = st.connected_index(sid, id)?;
            st.change_status(id, idx, event, now, out, None)
        })
    }

    /// Leaves the conference this session is connected to.
    pub fn leave(&self, sid: SessionId, id: ConferenceId) -> Result<()> {
        self.run(|st, out, now| st.leave_inner(sid, id, now, out))
    }

    /// Declines the session user's invitation (RESERVED → DECLINE).
    pub fn decline(&self, sid: SessionId, id: ConferenceId) -> Result<()> {
        self.run(|st, out, now| {
            let user = st.session(sid)?.info.external_id().clone();
            let idx = st
                .conference(id)?
                .index_of(&user)
                .ok_or(PlatformError::ParticipantNotFound(user))?;
            st.change_status(id, idx, LifecycleEvent::Decline, now, out, None)
                .map(|_| ())
        })
    }

    /// Invites users on behalf of a participant who is in the conference. In a
    /// protected conference the inviter needs INVITE and may grant only what
    /// they hold, unless they are the owner or hold UPDATE_PERMISSIONS; the
    /// default set counts as granted too. The owner is never invited (an
    /// invitation would replace their permissions and revoke the owner token):
    /// inviting the owner while they are out of the conference is refused.
    pub fn invite(
        &self,
        sid: SessionId,
        id: ConferenceId,
        invitees: &[Invitee],
    ) -> Result<Vec<InviteResult>> {
        self.run(|st, out, now| {
            let inviter_info = st.session(sid)?.info.clone();
            let inviter = inviter_info.external_id();
            let conf = st.conference(id)?;
            let p = conf
                .find(inviter)
                .filter(|p| p.status.is_in_conference())
                .ok_or_else(|| PlatformError::NotInConference(inviter.clone()))?;
            let is_owner = conf.is_owner(inviter);
            if conf.options.protected {
                if !is_owner && !p.permissions.contains(Permission::Invite) {
                    return Err(PlatformError::MissingPermission {
                        who: inviter.clone(),
                        permission: Permission::Invite,
                    });
                }
                if !is_owner && !p.permissions.contains(Permission::UpdatePermissions) {
                    let wanted = invitees.iter().fold(PermissionSet::EMPTY, |acc, i| {
                        acc.union(i.permissions.unwrap_or(PermissionSet::DEFAULT_INVITEE))
                    });
                    let missing = wanted.difference(p.permissions);
                    if !missing.is_empty() {
                        return Err(PlatformError::Escalation { missing });
                    }
                }
            }
            self.invite_inner(st, out, now, id, &inviter_info, invitees)
        })
    }

    fn invite_inner(
        &self,
        st: &mut State,
        out: &mut Outbox,
        now: u64,
        id: ConferenceId,
        inviter: &ParticipantInfo,
        invitees: &[Invitee],
    ) -> Result<Vec<InviteResult>> {
        let conf = st.conference(id)?;
        let mut seen = HashSet::with_capacity(invitees.len());
        // Validate every invitee before changing anything.
        let mut plan = Vec::with_capacity(invitees.len());
        for inv in invitees {
            if !seen.insert(&inv.external_id) {
                return Err(PlatformError::InvalidInput(format!(
                    "{} is listed twice",
                    inv.external_id
                )));
            }
            let existing = conf.index_of(&inv.external_id);
            let status = existing.and_then(|i| conf.get(i)).map(|p| p.status);
            match status {
                Some(s) if s.is_in_conference() => plan.push((inv, existing, None)),
                // The owner comes back with the owner token; an invitation would
                // replace their permissions and revoke that token.
                Some(_) if conf.is_owner(&inv.external_id) => {
                    return Err(PlatformError::InvalidInput(format!(
                        "{} owns the conference and needs no invitation",
                        inv.external_id
                    )));
                }
                Some(s) => plan.push((inv, existing, Some((s, s.apply(LifecycleEvent::Invite)?)))),
                None => plan.push((inv, None, None)),
            }
        }
        let protected = conf.options.protected;
        let mut results = Vec::with_capacity(invitees.len());
        let conf_alias = conf.alias.as_str().to_owned();
        for (inv, existing, change) in plan {
            let conf = st.conference_mut(id)?;
            let perms = inv.permissions.unwrap_or(PermissionSet::DEFAULT_INVITEE);
            if existing.is_some() && change.is_none() {
                let current = existing.and_then(|i| conf.get(i)).map(|p| p.permissions);
                results.push(InviteResult {
                    external_id: inv.external_id.clone(),
                    delivery: Delivery::AlreadyInConference,
                    permissions: current.unwrap_or(perms),
                    token: None,
                });
                continue;
            }
            let minted = protected.then(|| self.mint(conf, &inv.external_id, perms, now));
            let (token, jti) = match minted {
                Some((t, j)) => (Some(t), Some(j)),
                None => (None, None),
            };
            let idx = match (existing, change) {
                (Some(i), Some((_, new_status))) => {
                    let old_jtis = conf
                        .update(i, now, |p| {
                            p.status = new_status;
                            p.permissions = perms;
                            p.kind = ParticipantType::User;
                            let old = std::mem::take(&mut p.token_ids);
                            p.token_ids.extend(jti.clone());
                            old
                        })
                        .unwrap_or_default();
                    // A refreshed invitation replaces the earlier tokens.
                    for old in old_jtis {
                        st.revocations.revoke_token(old.into_string());
                    }
                    i
                }
                _ => {
                    let info = ParticipantInfo::new(inv.external_id.clone(), "", None)?;
                    let info = st
                        .sessions_of(&inv.external_id)
                        .first()
                        .and_then(|s| st.sessions.get(s))
                        .map_or(info, |s| s.info.clone());
                    let conf = st.conference_mut(id)?;
                    conf.add(Participant {
                        info,
                        status: ParticipantStatus::Reserved,
                        kind: ParticipantType::User,
                        permissions: perms,
                        session: None,
                        token_ids: jti.into_iter().collect(),
                    })
                }
            };
            let conf = st.conference(id)?;
            let audience = conf.audience(idx);
            // Events are built only when someone will receive them (a REST
            // invite of thousands usually has no audience).
            let view = (!audience.is_empty())
                .then(|| conf.get(idx).map(Participant::view))
                .flatten();
            if let Some(view) = view {
                let kind = match change {
                    Some((old, new)) if old != new => EventKind::ParticipantUpdated {
                        participant: view,
                        old_status: old,
                        new_status: new,
                    },
                    _ => EventKind::ParticipantAdded { participant: view },
                };
                out.send(&audience, id, kind);
            }
            let delivery = if inv.notify {
                let to = st.sessions_of(&inv.external_id);
                if !to.is_empty() {
                    out.send(
                        &to,
                        id,
                        EventKind::InvitationReceived {
                            conference_alias: conf_alias.clone(),
                            inviter: inviter.clone(),
                            token: token.clone(),
                            permissions: protected.then_some(perms),
                        },
                    );
                }
                if to.is_empty() {
                    Delivery::NoOpenSession
                } else {
                    Delivery::Delivered(to.len())
                }
            } else {
                Delivery::NotRequested
            };
            results.push(InviteResult {
                external_id: inv.external_id.clone(),
                delivery,
                permissions: perms,
                token,
            });
        }
        Ok(results)
    }

    /// Removes a participant (owner or KICK holder). Every token issued to them
    /// before now stops admitting them; only a new invitation brings them back.
    pub fn kick(&self, sid: SessionId, id: ConferenceId, target: &ExternalId) -> Result<()> {
        self.run(|st, out, now| {
            let user = st.session(sid)?.info.external_id().clone();
            let conf = st.conference(id)?;
            let p = conf
                .find(&user)
                .filter(|p| p.status.is_in_conference())
                .ok_or_else(|| PlatformError::NotInConference(user.clone()))?;
            if !conf.is_owner(&user) && !p.permissions.contains(Permission::Kick) {
                return Err(PlatformError::MissingPermission {
                    who: user,
                    permission: Permission::Kick,
                });
            }
            st.kick_inner(id, target, now, out)
        })
    }

    /// Replaces a participant's permissions (owner or UPDATE_PERMISSIONS holder):
    /// a new token is issued (protected conferences), the old ones are revoked,
    /// and the participant's sessions receive permissions updated.
    pub fn update_permissions(
        &self,
        sid: SessionId,
        id: ConferenceId,
        target: &ExternalId,
        permissions: PermissionSet,
    ) -> Result<Option<String>> {
        self.run(|st, out, now| {
            let user = st.session(sid)?.info.external_id().clone();
            let conf = st.conference(id)?;
            let p = conf
                .find(&user)
                .filter(|p| p.status.is_in_conference())
                .ok_or_else(|| PlatformError::NotInConference(user.clone()))?;
            if !conf.is_owner(&user) && !p.permissions.contains(Permission::UpdatePermissions) {
                return Err(PlatformError::MissingPermission {
                    who: user,
                    permission: Permission::UpdatePermissions,
                });
            }
            self.update_permissions_inner(st, out, now, id, target, permissions)
        })
    }

    fn update_permissions_inner(
        &self,
        st: &mut State,
        out: &mut Outbox,
        now: u64,
        id: ConferenceId,
        target: &ExternalId,
        permissions: PermissionSet,
    ) -> Result<Option<String>> {
        let conf = st.conference(id)?;
        let idx = conf
            .index_of(target)
            .ok_or_else(|| PlatformError::ParticipantNotFound(target.clone()))?;
        let minted = conf
            .options
            .protected
            .then(|| self.mint(conf, target, permissions, now));
        let conf = st.conference_mut(id)?;
        let old = conf
            .update(idx, now, |p| {
                p.permissions = permissions;
                let old = std::mem::take(&mut p.token_ids);
                if let Some((_, jti)) = &minted {
                    p.token_ids.push(jti.clone());
                }
                old
            })
            .unwrap_or_default();
        for jti in old {
            st.revocations.revoke_token(jti.into_string());
        }
        let token = minted.map(|(t, _)| t);
        let to = st.sessions_of(target);
        out.send(
            &to,
            id,
            EventKind::PermissionsUpdated {
                permissions,
                token: token.clone(),
            },
        );
        Ok(token)
    }

    /// Ends a conference (its owner only): everyone is told and it is destroyed.
    pub fn terminate(&self, sid: SessionId, id: ConferenceId) -> Result<()> {
        self.run(|st, out, _| {
            let user = st.session(sid)?.info.external_id().clone();
            if !st.conference(id)?.is_owner(&user) {
                return Err(PlatformError::OwnerOnly("terminate the conference"));
            }
            st.destroy(id, EndReason::Terminated, out);
            Ok(())
        })
    }

    /// Destroys every empty conference whose time to live has passed. Every
    /// operation does this first; hosts with idle periods call it on a timer.
    /// Returns how many were destroyed.
    pub fn expire_conferences(&self) -> usize {
        let now = self.clock.now();
        let (count, wake) = {
            let mut st = self.state.lock();
            let mut out = Outbox::default();
            let count = st.expire_due(now, &mut out);
            (count, st.deliver(out))
        };
        for (sid, listener) in wake {
            listener(sid);
        }
        count
    }
}

impl State {
    fn session(&self, sid: SessionId) -> Result<&Session> {
        self.sessions
            .get(&sid)
            .ok_or(PlatformError::SessionNotFound(sid))
    }

    fn session_mut(&mut self, sid: SessionId) -> Result<&mut Session> {
        self.sessions
            .get_mut(&sid)
            .ok_or(PlatformError::SessionNotFound(sid))
    }

    fn sessions_of(&self, user: &ExternalId) -> Vec<SessionId> {
        self.by_user.get(user).cloned().unwrap_or_default()
    }

    fn conference(&self, id: ConferenceId) -> Result<&Conference> {
        self.conferences.get(&id).ok_or_else(|| self.not_found(id))
    }

    fn conference_mut(&mut self, id: ConferenceId) -> Result<&mut Conference> {
        if !self.conferences.contains_key(&id) {
            return Err(self.not_found(id));
        }
        self.conferences
            .get_mut(&id)
            .ok_or(PlatformError::ConferenceNotFound(id.to_string()))
    }

    fn not_found(&self, id: ConferenceId) -> PlatformError {
        if self.destroyed.contains(&id) {
            PlatformError::ConferenceDestroyed(id.to_string())
        } else {
            PlatformError::ConferenceNotFound(id.to_string())
        }
    }

    /// The index of the participant this session is connected as.
    fn connected_index(&self, sid: SessionId, id: ConferenceId) -> Result<usize> {
        let user = self.session(sid)?.info.external_id();
        let conf = self.conference(id)?;
        conf.index_of(user)
            .filter(|&i| conf.get(i).is_some_and(|p| p.session == Some(sid)))
            .ok_or_else(|| PlatformError::NotInConference(user.clone()))
    }

    /// Applies a lifecycle event to one participant and tells the audience.
    /// `also` hears about it too (e.g. the kicked participant's own session).
    fn change_status(
        &mut self,
        id: ConferenceId,
        idx: usize,
        event: LifecycleEvent,
        now: u64,
        out: &mut Outbox,
        also: Option<SessionId>,
    ) -> Result<ParticipantStatus> {
        let conf = self.conference(id)?;
        let p = conf
            .get(idx)
            .ok_or(PlatformError::InvalidInput("participant index".into()))?;
        let old = p.status;
        let new = old.apply(event)?;
        let leaving_session = p.session.filter(|_| !new.is_in_conference());
        let mut audience = conf.audience(idx);
        let expiry_before = conf.expires_at;
        let conf = self.conference_mut(id)?;
        conf.update(idx, now, |p| p.status = new);
        let view = conf.get(idx).map(Participant::view);
        self.sync_expiry(id, expiry_before);
        if let Some(s) = also {
            if !audience.contains(&s) {
                audience.push(s);
            }
        }
        if let Some(view) = view {
            out.send(
                &audience,
                id,
                EventKind::ParticipantUpdated {
                    participant: view,
                    old_status: old,
                    new_status: new,
                },
            );
        }
        if let Some(s) = leaving_session.and_then(|s| self.sessions.get_mut(&s)) {
            s.joined.remove(&id);
        }
        Ok(new)
    }

    fn leave_inner(
        &mut self,
        sid: SessionId,
        id: ConferenceId,
        now: u64,
        out: &mut Outbox,
    ) -> Result<()> {
        let idx = self.connected_index(sid, id)?;
        self.change_status(id, idx, LifecycleEvent::Leave, now, out, None)
            .map(|_| ())
    }

    fn kick_inner(
        &mut self,
        id: ConferenceId,
        target: &ExternalId,
        now: u64,
        out: &mut Outbox,
    ) -> Result<()> {
        let conf = self.conference(id)?;
        if conf.is_owner(target) {
            return Err(PlatformError::OwnerNotKickable);
        }
        let idx = conf
            .index_of(target)
            .ok_or_else(|| PlatformError::ParticipantNotFound(target.clone()))?;
        let kicked_session = conf.get(idx).and_then(|p| p.session);
        self.change_status(id, idx, LifecycleEvent::Kick, now, out, kicked_session)?;
        let jtis = self
            .conference_mut(id)?
            .update(idx, now, |p| std::mem::take(&mut p.token_ids))
            .unwrap_or_default();
        for jti in jtis {
            self.revocations.revoke_token(jti.into_string());
        }
        // Tokens issued within the kick's own second are caught by id above;
        // anything older is caught by time, even tokens we never saw.
        self.revocations.revoke_subject(id, target.clone(), now);
        Ok(())
    }

    fn destroy(&mut self, id: ConferenceId, reason: EndReason, out: &mut Outbox) {
        let Some(conf) = self.conferences.remove(&id) else {
            return;
        };
        self.aliases.remove(conf.alias.key());
        if let Some(t) = conf.expires_at {
            self.expiry.remove(&(t, id));
        }
        self.destroyed.insert(id);
        self.revocations.forget_conference(id);
        let mut to: Vec<SessionId> = conf
            .external_ids()
            .flat_map(|u| self.sessions_of(u))
            .collect();
        to.sort_unstable();
        to.dedup();
        for s in &to {
            if let Some(sess) = self.sessions.get_mut(s) {
                sess.joined.remove(&id);
            }
        }
        out.send(&to, id, EventKind::ConferenceEnded { reason });
    }

    /// Keeps the expiry index in step after a conference's deadline may have moved.
    fn sync_expiry(&mut self, id: ConferenceId, before: Option<u64>) {
        let after = self.conferences.get(&id).and_then(|c| c.expires_at);
        if before != after {
            if let Some(t) = before {
                self.expiry.remove(&(t, id));
            }
            if let Some(t) = after {
                self.expiry.insert((t, id));
            }
        }
    }

    fn expire_due(&mut self, now: u64, out: &mut Outbox) -> usize {
        let mut count = 0;
        while let Some(&(deadline, id)) = self.expiry.first() {
            if deadline > now {
                break;
            }
            self.expiry.pop_first();
            let still_due = self
                .conferences
                .get(&id)
                .is_some_and(|c| c.expires_at.is_some_and(|t| t <= now));
            if still_due {
                self.destroy(id, EndReason::Expired, out);
                count += 1;
            }
        }
        count
    }

    fn remove_session(&mut self, sid: SessionId) -> Option<Session> {
        let s = self.sessions.remove(&sid)?;
        let user = s.info.external_id();
        if let Some(list) = self.by_user.get_mut(user) {
            list.retain(|x| *x != sid);
            if list.is_empty() {
                self.by_user.remove(user);
            }
        }
        Some(s)
    }

    /// Puts events into queues; returns the listeners to wake.
    fn deliver(&mut self, out: Outbox) -> Vec<(SessionId, Listener)> {
        let mut wake: Vec<(SessionId, Listener)> = Vec::new();
        let mut woken: HashSet<SessionId> = HashSet::new();
        for (sid, conf, kind) in out.items {
            let Some(s) = self.sessions.get_mut(&sid) else {
                continue;
            };
            let sequence = s.next_sequence;
            s.next_sequence += 1;
            s.queue.push_back(Event {
                sequence,
                conference_id: conf,
                kind,
            });
            if let Some(l) = &s.listener {
                if woken.insert(sid) {
                    wake.push((sid, Arc::clone(l)));
                }
            }
        }
        wake
    }
}
