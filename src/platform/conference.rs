//! A conference's state inside the platform: its participants and who hears
//! about what.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::event::ParticipantView;
use crate::identity::{Alias, ConferenceId, ExternalId, ParticipantInfo};
use crate::lifecycle::{ParticipantStatus, ParticipantType};
use crate::permissions::PermissionSet;

use super::{ConferenceInfo, SessionId};

/// One participant of a conference.
#[derive(Debug, Clone)]
pub(crate) struct Participant {
    pub info: ParticipantInfo,
    pub status: ParticipantStatus,
    pub kind: ParticipantType,
    pub permissions: PermissionSet,
    /// The session connected to the conference, while in it.
    pub session: Option<SessionId>,
    /// The tokens issued to (or admitted for) this participant since they last
    /// left, declined or were kicked, that may still be valid: at most
    /// [`MAX_LIVE_TOKENS`], oldest first.
    pub tokens: Vec<TokenRecord>,
    /// The token they are in the conference with (the one they joined with,
    /// or the newest sent to them since), for snapshots; `None` otherwise.
    pub current_token: Option<Arc<str>>,
    /// The conference's version at this participant's last change.
    pub revision: u64,
}

/// Most token records a participant keeps; issuing another revokes the oldest.
pub(crate) const MAX_LIVE_TOKENS: usize = 8;

/// What the platform remembers of a token it issued or admitted (the same
/// record the store keeps).
pub(crate) use crate::store::TokenRecord;

impl Participant {
    /// Whether the platform issued or admitted this token id for them since
    /// they last left, declined or were kicked.
    pub fn holds_token(&self, jti: &str) -> bool {
        self.tokens.iter().any(|t| &*t.jti == jti)
    }

    /// The expiry of their newest token.
    pub fn newest_token_expiry(&self) -> Option<u64> {
        self.tokens.iter().map(|t| t.expires_at).max()
    }

    /// Records a token; returns the records it displaces (expired by
    /// `expired_before`, or beyond [`MAX_LIVE_TOKENS`]) for the caller to revoke.
    /// Beyond the cap the newest earlier record goes, not the oldest: a burst
    /// of re-invitations cannot push out the token the app server handed out
    /// first, and the token just issued always stays.
    pub fn add_token(&mut self, token: TokenRecord, expired_before: u64) -> Vec<TokenRecord> {
        let (mut gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.tokens)
            .into_iter()
            .partition(|t| t.expires_at < expired_before);
        self.tokens = kept;
        if !self.holds_token(&token.jti) {
            if self.tokens.len() >= MAX_LIVE_TOKENS {
                if let Some(last) = self.tokens.pop() {
                    gone.push(last);
                }
            }
            self.tokens.push(token);
        }
        gone
    }

    pub fn view(&self) -> ParticipantView {
        ParticipantView {
            external_id: self.info.external_id().clone(),
            name: self.info.name().to_owned(),
            avatar_url: self.info.avatar_url().map(str::to_owned),
            status: self.status,
            participant_type: self.kind,
            permissions: self.permissions,
        }
    }
}

/// Options fixed at creation, with the platform defaults filled in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resolved {
    pub protected: bool,
    pub audio_only: bool,
    pub participant_limit: Option<u32>,
    pub empty_ttl_secs: u64,
    pub token_ttl_secs: u64,
}

#[derive(Debug)]
pub(crate) struct Conference {
    pub id: ConferenceId,
    pub alias: Alias,
    pub owner: ExternalId,
    pub options: Resolved,
    pub created_at: u64,
    participants: Vec<Participant>,
    index: HashMap<ExternalId, usize>,
    /// Indices of USER participants in the conference (joined, any connection state).
    present_users: HashSet<usize>,
    /// Indices of LISTENER participants in the conference. Kept apart so a
    /// listener's audience (the users and itself) costs no walk over listeners.
    present_listeners: HashSet<usize>,
    /// When an empty conference will be destroyed; `None` while someone is in it.
    pub expires_at: Option<u64>,
    /// Bumped by every change to a participant: a decision made at one
    /// version still holds at the same version.
    version: u64,
    /// While an operation runs on a platform with a store: what to put back
    /// if its commit fails, and what it changed.
    journal: Option<Box<Journal>>,
}

/// The pre-images of one operation's changes to a conference.
#[derive(Debug)]
pub(crate) struct Journal {
    /// Participants at or beyond this index were added by the operation.
    len_before: usize,
    /// Each participant the operation changed, as it was before.
    saved: Vec<(usize, Participant)>,
    saved_index: HashSet<usize>,
    expires_at: Option<u64>,
    version: u64,
}

impl Conference {
    pub fn new(
        id: ConferenceId,
        alias: Alias,
        owner: ExternalId,
        options: Resolved,
        now: u64,
    ) -> Self {
        Conference {
            id,
            alias,
            owner,
            options,
            created_at: now,
            participants: Vec::new(),
            index: HashMap::new(),
            present_users: HashSet::new(),
            present_listeners: HashSet::new(),
            expires_at: Some(now.saturating_add(options.empty_ttl_secs)),
            version: 0,
            journal: None,
        }
    }

    /// A conference as a store kept it.
    pub fn restore(
        record: &crate::store::ConferenceRecord,
        alias: Alias,
        participants: impl IntoIterator<Item = Participant>,
    ) -> Self {
        let o = record.options;
        let mut conf = Conference::new(
            record.id,
            alias,
            record.owner.clone(),
            Resolved {
                protected: o.protected,
                audio_only: o.audio_only,
                participant_limit: o.participant_limit,
                empty_ttl_secs: o.empty_ttl_secs,
                token_ttl_secs: o.token_ttl_secs,
            },
            record.created_at,
        );
        for p in participants {
            let i = conf.participants.len();
            conf.index.insert(p.info.external_id().clone(), i);
            conf.participants.push(p);
            conf.sort_presence(i);
        }
        conf.expires_at = record.expires_at;
        conf.version = record.version;
        conf
    }

    /// The conference as the store keeps it (without participants).
    pub fn record(&self) -> crate::store::ConferenceRecord {
        let o = self.options;
        crate::store::ConferenceRecord {
            id: self.id,
            alias: self.alias.as_str().to_owned(),
            owner: self.owner.clone(),
            options: crate::store::OptionsRecord {
                protected: o.protected,
                audio_only: o.audio_only,
                participant_limit: o.participant_limit,
                empty_ttl_secs: o.empty_ttl_secs,
                token_ttl_secs: o.token_ttl_secs,
            },
            created_at: self.created_at,
            expires_at: self.expires_at,
            version: self.version,
        }
    }

    /// Participant `i` as the store keeps it.
    pub fn participant_record(&self, i: usize) -> Option<crate::store::ParticipantRecord> {
        let p = self.participants.get(i)?;
        Some(crate::store::ParticipantRecord {
            position: u32::try_from(i).ok()?,
            info: p.info.clone(),
            status: p.status,
            kind: p.kind,
            permissions: p.permissions,
            tokens: p.tokens.clone(),
            revision: p.revision,
        })
    }

    /// Starts keeping pre-images (see [`Journal`]); a no-op if already started.
    pub fn begin(&mut self) {
        if self.journal.is_none() {
            self.journal = Some(Box::new(Journal {
                len_before: self.participants.len(),
                saved: Vec::new(),
                saved_index: HashSet::new(),
                expires_at: self.expires_at,
                version: self.version,
            }));
        }
    }

    /// Keeps participant `i`'s pre-image, the first time it changes.
    fn save(&mut self, i: usize) {
        let Some(j) = self.journal.as_deref_mut() else {
            return;
        };
        if i < j.len_before && j.saved_index.insert(i) {
            if let Some(p) = self.participants.get(i) {
                j.saved.push((i, p.clone()));
            }
        }
    }

    /// The version the operation started from, if it is journaled.
    pub fn version_before(&self) -> u64 {
        self.journal.as_ref().map_or(self.version, |j| j.version)
    }

    /// What the journaled operation changed: the version it started from
    /// and the indices of the participants it added or changed (`None`: no
    /// journal, or nothing changed).
    pub fn journal_changes(&self) -> Option<(u64, Vec<usize>)> {
        let j = self.journal.as_deref()?;
        let mut dirty: Vec<usize> = j.saved.iter().map(|(i, _)| *i).collect();
        dirty.sort_unstable();
        dirty.extend(j.len_before..self.participants.len());
        let changed = !dirty.is_empty() || j.expires_at != self.expires_at;
        changed.then_some((j.version, dirty))
    }

    /// Drops the journal: what the operation changed stays.
    pub fn end_journal(&mut self) {
        self.journal = None;
    }

    /// Puts back what the journaled operation changed.
    pub fn rollback(&mut self) {
        let Some(j) = self.journal.take() else {
            return;
        };
        for i in j.len_before..self.participants.len() {
            self.present_users.remove(&i);
            self.present_listeners.remove(&i);
        }
        for p in self.participants.drain(j.len_before..) {
            self.index.remove(p.info.external_id());
        }
        for (i, p) in j.saved.into_iter().rev() {
            if let Some(slot) = self.participants.get_mut(i) {
                *slot = p;
            }
            self.sort_presence(i);
        }
        self.expires_at = j.expires_at;
        self.version = j.version;
    }

    /// See the `version` field.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Makes room for `additional` more participants in the index at once
    /// (the participant list grows by doubling, as it would anyway).
    pub fn reserve(&mut self, additional: usize) {
        self.index.reserve(additional);
    }

    pub fn info(&self) -> ConferenceInfo {
        ConferenceInfo {
            id: self.id,
            alias: self.alias.as_str().to_owned(),
            owner: self.owner.clone(),
            is_protected: self.options.protected,
            audio_only: self.options.audio_only,
            participant_limit: self.options.participant_limit,
            empty_ttl_secs: self.options.empty_ttl_secs,
            token_ttl_secs: self.options.token_ttl_secs,
            created_at: self.created_at,
            participant_count: self.participants.len(),
            present_count: self.present_count(),
        }
    }

    /// The conference as `viewer` may see it: a listener's counts leave out
    /// the other listeners (whom it must not learn of).
    pub fn info_for(&self, viewer: &ExternalId) -> ConferenceInfo {
        let mut info = self.info();
        let me = self.index_of(viewer);
        let listening = me
            .and_then(|i| self.get(i))
            .is_some_and(|p| p.kind == ParticipantType::Listener);
        if let (true, Some(me)) = (listening, me) {
            let visible = |i: usize, p: &Participant| i == me || p.kind == ParticipantType::User;
            info.participant_count = self
                .participants
                .iter()
                .enumerate()
                .filter(|(i, p)| visible(*i, p))
                .count();
            info.present_count =
                self.present_users.len() + usize::from(self.present_listeners.contains(&me));
        }
        info
    }

    pub fn is_owner(&self, who: &ExternalId) -> bool {
        &self.owner == who
    }

    pub fn index_of(&self, who: &ExternalId) -> Option<usize> {
        self.index.get(who).copied()
    }

    pub fn get(&self, i: usize) -> Option<&Participant> {
        self.participants.get(i)
    }

    /// Mutable access to a field that neither presence nor expiry depend on
    /// (use [`Conference::update`] for anything else).
    pub fn get_mut(&mut self, i: usize) -> Option<&mut Participant> {
        self.save(i);
        self.participants.get_mut(i)
    }

    pub fn find(&self, who: &ExternalId) -> Option<&Participant> {
        self.index_of(who).and_then(|i| self.participants.get(i))
    }

    pub fn participants(&self) -> &[Participant] {
        &self.participants
    }

    pub fn present_count(&self) -> usize {
        self.present_users.len() + self.present_listeners.len()
    }

    /// Files participant `i` under the present set its status and type call for.
    fn sort_presence(&mut self, i: usize) {
        let Some(p) = self.participants.get(i) else {
            return;
        };
        let (present, listener) = (
            p.status.is_in_conference(),
            p.kind == ParticipantType::Listener,
        );
        self.present_users.remove(&i);
        self.present_listeners.remove(&i);
        match (present, listener) {
            (true, false) => self.present_users.insert(i),
            (true, true) => self.present_listeners.insert(i),
            (false, _) => false,
        };
    }

    /// How many participant records (any status) it holds.
    pub fn len(&self) -> usize {
        self.participants.len()
    }

    /// Adds a participant; the caller has checked the ID is new.
    pub fn add(&mut self, mut p: Participant) -> usize {
        self.version += 1;
        p.revision = self.version;
        let i = self.participants.len();
        self.index.insert(p.info.external_id().clone(), i);
        self.participants.push(p);
        self.sort_presence(i);
        if self.present_count() > 0 {
            self.expires_at = None;
        }
        i
    }

    /// Mutable access that keeps the present set and expiry in step; `None`
    /// only for an index that was never handed out.
    pub fn update<R>(
        &mut self,
        i: usize,
        now: u64,
        f: impl FnOnce(&mut Participant) -> R,
    ) -> Option<R> {
        self.save(i);
        let p = self.participants.get_mut(i)?;
        self.version += 1;
        let r = f(p);
        p.revision = self.version;
        if !p.status.is_in_conference() {
            p.session = None;
            p.current_token = None;
        }
        self.sort_presence(i);
        self.expires_at = if self.present_count() == 0 {
            self.expires_at
                .or(Some(now.saturating_add(self.options.empty_ttl_secs)))
        } else {
            None
        };
        Some(r)
    }

    /// The sessions that hear about a change to participant `about`: every
    /// connected session of a participant in the conference, except that
    /// listeners do not hear about other listeners (they do hear about themselves).
    pub fn audience(&self, about: usize) -> Vec<SessionId> {
        let session_of = |i: &usize| self.participants.get(*i).and_then(|p| p.session);
        let users = self.present_users.iter().filter_map(session_of);
        let about_listener = self
            .participants
            .get(about)
            .is_some_and(|p| p.kind == ParticipantType::Listener);
        if about_listener {
            let own = self.present_listeners.get(&about).and_then(session_of);
            users.chain(own).collect()
        } else {
            users
                .chain(self.present_listeners.iter().filter_map(session_of))
                .collect()
        }
    }

    /// The sessions of present listeners other than participant `about`: the
    /// ones whose view of `about` appears or disappears when `about` changes
    /// type.
    pub fn other_listener_sessions(&self, about: usize) -> Vec<SessionId> {
        self.present_listeners
            .iter()
            .filter(|i| **i != about)
            .filter_map(|i| self.participants.get(*i).and_then(|p| p.session))
            .collect()
    }

    /// The external IDs of every participant (for conference-wide notices).
    pub fn external_ids(&self) -> impl Iterator<Item = &ExternalId> {
        self.participants.iter().map(|p| p.info.external_id())
    }
}
