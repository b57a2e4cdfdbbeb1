//! The platform's side of durability: each operation on a platform with a
//! [`Store`] runs as a transaction. What it changes is journaled (the
//! pre-image of every participant it touches, and an undo entry for every
//! other change), its durable changes become one [`Commit`], and only a
//! commit that succeeded lets its events and reply out. A failed commit (or a
//! refused operation) puts everything back from the journal.
//!
//! Without a store nothing is journaled: the platform behaves and costs as it
//! always did.

use crate::store::{Change, Commit, Image, ParticipantRecord, Store, StoreError, StoredConference};

use super::*;

/// An operation's journal.
#[derive(Default)]
pub(super) struct Txn {
    /// Whether operations are journaled (the platform has a store).
    pub(super) enabled: bool,
    /// Conferences whose own journal was started.
    touched: Vec<ConferenceId>,
    /// Conferences created by the operation.
    created: Vec<ConferenceId>,
    /// Undo entries, in the order the changes were made.
    undo: Vec<Undo>,
    /// Durable changes other than conference contents, in order.
    changes: Vec<Change>,
}

/// How to put one change back.
enum Undo {
    Created(ConferenceId),
    Destroyed(Box<Conference>, Option<u64>),
    TokenRevoked(Arc<str>, Option<u64>),
    SubjectRevoked(ConferenceId, ExternalId, Option<(u64, u64)>),
    Joined(SessionId, ConferenceId, bool),
    SessionRemoved(SessionId, usize, Box<Session>),
    IdlePopped(u64, SessionId),
    RefreshPopped((u64, ConferenceId, ExternalId)),
    RefreshInserted((u64, ConferenceId, ExternalId)),
    MaxTokenTtl(u64),
}

impl State {
    /// A conference to change: journaled first when operations are.
    pub(super) fn conf_mut(&mut self, id: ConferenceId) -> Option<&mut Conference> {
        let enabled = self.txn.enabled;
        let conf = self.conferences.get_mut(&id)?;
        if enabled && !self.txn.created.contains(&id) && !self.txn.touched.contains(&id) {
            conf.begin();
            self.txn.touched.push(id);
        }
        Some(conf)
    }

    /// Adds a conference just created.
    pub(super) fn insert_conference(&mut self, conf: Conference) {
        let id = conf.id;
        let ttl = conf.options.token_ttl_secs;
        self.aliases.insert(conf.alias.key().to_owned(), id);
        if let Some(t) = conf.expires_at {
            self.expiry.insert((t, id));
        }
        if self.txn.enabled {
            self.txn.undo.push(Undo::MaxTokenTtl(self.max_token_ttl));
            self.txn.undo.push(Undo::Created(id));
            self.txn.created.push(id);
        }
        self.max_token_ttl = self.max_token_ttl.max(ttl);
        self.conferences.insert(id, conf);
    }

    /// Removes a conference being destroyed; `forget_after`: until when it
    /// is answered as destroyed.
    pub(super) fn remove_conference(&mut self, id: ConferenceId, forget_after: u64) {
        let Some(conf) = self.conferences.remove(&id) else {
            return;
        };
        self.aliases.remove(conf.alias.key());
        if let Some(t) = conf.expires_at {
            self.expiry.remove(&(t, id));
        }
        let before = self.destroyed.entry(&id).map(|(_, at)| at);
        self.destroyed.insert(id, (), forget_after);
        if !self.txn.enabled {
            return;
        }
        if let Some(i) = self.txn.created.iter().position(|c| *c == id) {
            // Created and destroyed by one operation: the store never saw it.
            self.txn.created.swap_remove(i);
        } else {
            self.txn.changes.push(Change::ConferenceDestroyed {
                id,
                expected_version: conf.version_before(),
                forget_after,
            });
        }
        self.txn.undo.push(Undo::Destroyed(Box::new(conf), before));
    }

    /// Revokes a token id until `forget_after` (the later deadline wins).
    pub(super) fn revoke_jti(&mut self, jti: Arc<str>, forget_after: u64) {
        if self.txn.enabled {
            let before = self.revocations.token_deadline(&jti);
            self.txn
                .undo
                .push(Undo::TokenRevoked(Arc::clone(&jti), before));
            self.txn.changes.push(Change::TokenRevoked {
                jti: Arc::clone(&jti),
                forget_after,
            });
        }
        self.revocations.revoke_token(jti, forget_after);
    }

    /// Revokes every token of `subject` for `id` issued before `before`.
    pub(super) fn revoke_subject(
        &mut self,
        id: ConferenceId,
        subject: &ExternalId,
        before: u64,
        forget_after: u64,
    ) {
        if self.txn.enabled {
            let entry = self.revocations.subject_entry(id, subject);
            self.txn
                .undo
                .push(Undo::SubjectRevoked(id, subject.clone(), entry));
            self.txn.changes.push(Change::SubjectRevoked {
                conference: id,
                subject: subject.clone(),
                before,
                forget_after,
            });
        }
        self.revocations
            .revoke_subject(id, subject.clone(), before, forget_after);
    }

    /// Notes whether session `sid` is connected to conference `id`.
    pub(super) fn set_joined(&mut self, sid: SessionId, id: ConferenceId, joined: bool) {
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        let was = if joined {
            !s.joined.insert(id)
        } else {
            s.joined.remove(&id)
        };
        if self.txn.enabled && was != joined {
            self.txn.undo.push(Undo::Joined(sid, id, was));
        }
    }

    /// Files a token refresh.
    pub(super) fn insert_refresh(&mut self, key: (u64, ConferenceId, ExternalId)) {
        if self.refresh.insert(key.clone()) && self.txn.enabled {
            self.txn.undo.push(Undo::RefreshInserted(key));
        }
    }

    /// Takes the earliest token refresh.
    pub(super) fn pop_refresh(&mut self) -> Option<(u64, ConferenceId, ExternalId)> {
        let key = self.refresh.pop_first()?;
        if self.txn.enabled {
            self.txn.undo.push(Undo::RefreshPopped(key.clone()));
        }
        Some(key)
    }

    /// Takes the earliest idle deadline.
    pub(super) fn pop_idle(&mut self) -> Option<(u64, SessionId)> {
        let (at, sid) = self.idle.pop_first()?;
        if self.txn.enabled {
            self.txn.undo.push(Undo::IdlePopped(at, sid));
        }
        Some((at, sid))
    }

    /// Removes a session; journaled, it is kept for an undo and released
    /// after the commit instead of returned.
    pub(super) fn remove_session(&mut self, sid: SessionId) -> Option<Session> {
        let s = self.sessions.remove(&sid)?;
        let user = s.info.external_id();
        let mut pos = 0;
        if let Some(list) = self.by_user.get_mut(user) {
            pos = list.iter().position(|x| *x == sid).unwrap_or(list.len());
            list.retain(|x| *x != sid);
            if list.is_empty() {
                self.by_user.remove(user);
            }
        }
        if self.txn.enabled {
            self.txn
                .undo
                .push(Undo::SessionRemoved(sid, pos, Box::new(s)));
            return None;
        }
        Some(s)
    }

    /// The operation's durable changes, as one commit.
    fn pending_commit(&mut self) -> Commit {
        let mut changes = Vec::new();
        for id in &self.txn.created {
            if let Some(conf) = self.conferences.get(id) {
                let participants = (0..conf.len())
                    .filter_map(|i| conf.participant_record(i))
                    .collect();
                changes.push(Change::ConferencePut {
                    expected_version: None,
                    conference: conf.record(),
                    participants,
                });
            }
        }
        for id in &self.txn.touched {
            let Some(conf) = self.conferences.get(id) else {
                continue;
            };
            let Some((version, dirty)) = conf.journal_changes() else {
                continue;
            };
            let participants: Vec<ParticipantRecord> = dirty
                .into_iter()
                .filter_map(|i| conf.participant_record(i))
                .collect();
            changes.push(Change::ConferencePut {
                expected_version: Some(version),
                conference: conf.record(),
                participants,
            });
        }
        changes.append(&mut self.txn.changes);
        Commit { changes }
    }

    /// Ends the operation: commits its changes (if it succeeded and changed
    /// anything durable) or puts everything back. Returns the sessions it
    /// removed, to release after the lock, or the store's error (after the
    /// undo).
    pub(super) fn end(&mut self, keep: bool) -> Result<Vec<Session>, StoreError> {
        if !self.txn.enabled {
            return Ok(Vec::new());
        }
        if !keep {
            self.rollback();
            return Ok(Vec::new());
        }
        let commit = self.pending_commit();
        let outcome = match (&mut self.store, commit.is_empty()) {
            (_, true) | (None, _) => Ok(()),
            (Some(store), false) => store.commit(&commit),
        };
        if let Err(e) = outcome {
            self.rollback();
            return Err(e);
        }
        for id in std::mem::take(&mut self.txn.touched) {
            if let Some(conf) = self.conferences.get_mut(&id) {
                conf.end_journal();
            }
        }
        self.txn.created.clear();
        let mut released = Vec::new();
        for undo in self.txn.undo.drain(..) {
            if let Undo::SessionRemoved(_, _, s) = undo {
                released.push(*s);
            }
        }
        self.maybe_compact();
        Ok(released)
    }

    /// How much the state remembers, roughly: what a compaction would write.
    fn size(&self) -> usize {
        let (tokens, subjects) = self.revocations.len();
        self.conferences.len() + tokens + subjects + self.destroyed.len()
    }

    /// Compacts the store when it asks for it (its log outgrew its
    /// snapshot), or when the state shrank to less than half of what the
    /// last compaction wrote (conferences ended, revocations expired), so the
    /// file follows the state down as well as up.
    pub(super) fn maybe_compact(&mut self) {
        let Some(store) = &self.store else {
            return;
        };
        let shrank = self.compacted_size >= 256 && self.size() * 2 < self.compacted_size;
        if !(store.wants_compaction() || shrank) {
            return;
        }
        let image = self.image();
        let size = self.size();
        if let Some(store) = &mut self.store {
            // A failed compaction loses nothing: the log stays and a later
            // commit tries again.
            if store.compact(&image).is_ok() {
                self.compacted_size = size;
            }
        }
    }

    /// Puts back everything the journal holds.
    fn rollback(&mut self) {
        self.txn.changes.clear();
        while let Some(undo) = self.txn.undo.pop() {
            self.undo(undo);
        }
        for id in std::mem::take(&mut self.txn.touched) {
            if let Some(conf) = self.conferences.get_mut(&id) {
                let after = conf.expires_at;
                conf.rollback();
                let before = conf.expires_at;
                if after != before {
                    if let Some(t) = after {
                        self.expiry.remove(&(t, id));
                    }
                    if let Some(t) = before {
                        self.expiry.insert((t, id));
                    }
                }
            }
        }
        self.txn.created.clear();
    }

    fn undo(&mut self, undo: Undo) {
        match undo {
            Undo::Created(id) => {
                if let Some(conf) = self.conferences.remove(&id) {
                    self.aliases.remove(conf.alias.key());
                    if let Some(t) = conf.expires_at {
                        self.expiry.remove(&(t, id));
                    }
                }
                self.txn.touched.retain(|c| *c != id);
            }
            Undo::Destroyed(conf, destroyed_before) => {
                let id = conf.id;
                self.destroyed.remove(&id);
                if let Some(at) = destroyed_before {
                    self.destroyed.insert(id, (), at);
                }
                self.aliases.insert(conf.alias.key().to_owned(), id);
                if let Some(t) = conf.expires_at {
                    self.expiry.insert((t, id));
                }
                self.conferences.insert(id, *conf);
            }
            Undo::TokenRevoked(jti, before) => self.revocations.restore_token(jti, before),
            Undo::SubjectRevoked(id, subject, entry) => {
                self.revocations.restore_subject(id, subject, entry);
            }
            Undo::Joined(sid, id, was) => {
                if let Some(s) = self.sessions.get_mut(&sid) {
                    if was {
                        s.joined.insert(id);
                    } else {
                        s.joined.remove(&id);
                    }
                }
            }
            Undo::SessionRemoved(sid, pos, s) => {
                let list = self
                    .by_user
                    .entry(s.info.external_id().clone())
                    .or_default();
                list.insert(pos.min(list.len()), sid);
                self.sessions.insert(sid, *s);
            }
            Undo::IdlePopped(at, sid) => {
                self.idle.insert((at, sid));
            }
            Undo::RefreshPopped(key) => {
                self.refresh.insert(key);
            }
            Undo::RefreshInserted(key) => {
                self.refresh.remove(&key);
            }
            Undo::MaxTokenTtl(ttl) => self.max_token_ttl = ttl,
        }
    }

    /// Everything durable the state holds.
    pub(super) fn image(&self) -> Image {
        let conferences = self
            .conferences
            .values()
            .map(|c| {
                let participants = (0..c.len())
                    .filter_map(|i| c.participant_record(i))
                    .map(|p| (p.position, p))
                    .collect();
                (
                    c.id,
                    StoredConference {
                        record: c.record(),
                        participants,
                    },
                )
            })
            .collect();
        Image {
            conferences,
            revoked_tokens: self.revocations.token_entries().collect(),
            revoked_subjects: self.revocations.subject_entries().collect(),
            destroyed: self.destroyed.iter().map(|(k, _, at)| (*k, at)).collect(),
            keys: self.trusted.clone(),
            session_epoch: u32::try_from(self.session_epoch >> 32).unwrap_or(0),
        }
    }

    /// Fills an empty state from what a store kept.
    pub(super) fn restore(&mut self, image: Image) -> Result<(), StoreError> {
        for (id, stored) in image.conferences {
            let record = &stored.record;
            let alias = Alias::new(record.alias.clone())
                .map_err(|e| StoreError::Corrupt(format!("conference {id}: {e}")))?;
            let mut participants = Vec::with_capacity(stored.participants.len());
            for (expected, (pos, p)) in stored.participants.into_iter().enumerate() {
                if usize::try_from(pos).ok() != Some(expected) {
                    return Err(StoreError::Corrupt(format!(
                        "conference {id}: participant {expected} missing"
                    )));
                }
                participants.push(Participant {
                    info: p.info,
                    status: p.status,
                    kind: p.kind,
                    permissions: p.permissions,
                    session: None,
                    tokens: p.tokens,
                    current_token: None,
                    revision: p.revision,
                });
            }
            let conf = Conference::restore(record, alias, participants);
            if conf.find(&conf.owner).is_none() {
                return Err(StoreError::Corrupt(format!(
                    "conference {id}: its owner is not a participant"
                )));
            }
            if self.aliases.contains_key(conf.alias.key()) {
                return Err(StoreError::Corrupt(format!(
                    "conference {id}: alias {:?} used twice",
                    conf.alias.as_str()
                )));
            }
            self.max_token_ttl = self.max_token_ttl.max(conf.options.token_ttl_secs);
            self.aliases.insert(conf.alias.key().to_owned(), id);
            if let Some(t) = conf.expires_at {
                self.expiry.insert((t, id));
            }
            self.conferences.insert(id, conf);
        }
        for (jti, at) in image.revoked_tokens {
            self.revocations.revoke_token(jti, at);
        }
        for ((id, subject), (before, at)) in image.revoked_subjects {
            self.revocations.revoke_subject(id, subject, before, at);
        }
        for (id, at) in image.destroyed {
            self.destroyed.insert(id, (), at);
        }
        self.trusted = image.keys;
        Ok(())
    }
}

impl Platform {
    /// A platform that keeps what it must not lose in `store`: it starts
    /// from what the store holds (no session survives a restart: whoever was
    /// in a conference has left it, as if their session had closed), and
    /// every operation commits its changes there before it answers or sends
    /// an event. An operation whose commit fails is refused with
    /// [`PlatformError::Store`] (`STORE_UNAVAILABLE`) and changes nothing.
    pub fn with_store(
        key: SigningKey,
        clock: Arc<dyn Clock>,
        config: PlatformConfig,
        mut store: Box<dyn Store>,
    ) -> Result<Self, StoreError> {
        let image = store.load()?;
        let platform = Platform::with_config(key, clock, config);
        {
            let mut st = platform.state.lock();
            // A session id from before the restart must never name a new one.
            let epoch = image.session_epoch.wrapping_add(1).max(1);
            let keys = image.keys.clone();
            st.restore(image)?;
            let mut ring = platform.ring.write();
            for (kid, bytes) in &keys {
                let key = ed25519_dalek::VerifyingKey::from_bytes(bytes)
                    .map_err(|e| StoreError::Corrupt(format!("key {kid}: {e}")))?;
                let kid = KeyId::new(kid.clone())
                    .map_err(|e| StoreError::Corrupt(format!("key {kid}: {e}")))?;
                ring.insert(kid, key)
                    .map_err(|e| StoreError::Corrupt(format!("key: {e}")))?;
            }
            drop(ring);
            store.commit(&Commit {
                changes: vec![Change::SessionEpoch(epoch)],
            })?;
            st.session_epoch = u64::from(epoch) << 32;
            st.compacted_size = st.size();
            st.store = Some(store);
            st.txn.enabled = true;
        }
        // Nobody is connected any more.
        platform
            .run(|st, out, now| {
                let present: Vec<(ConferenceId, usize)> = st
                    .conferences
                    .values()
                    .flat_map(|c| {
                        c.participants()
                            .iter()
                            .enumerate()
                            .filter(|(_, p)| p.status.is_in_conference())
                            .map(move |(i, _)| (c.id, i))
                    })
                    .collect();
                for (id, idx) in present {
                    st.change_status(id, idx, LifecycleEvent::Leave, now, out, None)?;
                }
                Ok(())
            })
            .map_err(|e| match e {
                PlatformError::Store(e) => e,
                other => StoreError::Corrupt(other.to_string()),
            })?;
        Ok(platform)
    }

    /// A platform on the SQLite file at `path` (created if missing), as
    /// [`Platform::with_store`] describes: what the file holds is loaded,
    /// and every operation is on disk (`synchronous=FULL`) before it answers.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use confkit::platform::{ConferenceOptions, Invitee, PlatformConfig};
    /// use confkit::{Alias, ExternalId, KeyId, ParticipantStatus, Platform, SigningKey, SystemClock};
    ///
    /// let path = std::env::temp_dir().join("confkit-example-platform.db");
    /// // The same seed every start: tokens issued before a restart still verify.
    /// let key = || SigningKey::from_seed(&[7; 32], KeyId::new("key-1").unwrap());
    /// let open = || Platform::open(&path, key(), Arc::new(SystemClock), PlatformConfig::default());
    ///
    /// let platform = open()?;
    /// let made = platform.app_create(
    ///     &ExternalId::new("alice")?,
    ///     Alias::new("team-sync")?,
    ///     ConferenceOptions { protected: true, ..Default::default() },
    ///     &[Invitee::new(ExternalId::new("bob")?, None)],
    /// )?;
    /// drop(platform); // a restart
    ///
    /// let platform = open()?;
    /// let again = platform.conference_by_alias("team-sync")?;
    /// assert_eq!(again.id, made.created.conference.id);
    /// assert_eq!(platform.participants(again.id)?[1].status, ParticipantStatus::Reserved);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "sqlite")]
    pub fn open(
        path: impl AsRef<std::path::Path>,
        key: SigningKey,
        clock: Arc<dyn Clock>,
        config: PlatformConfig,
    ) -> Result<Self, StoreError> {
        let store = crate::store::SqliteStore::open(path)?;
        Self::with_store(key, clock, config, Box::new(store))
    }

    /// Everything durable the platform holds now: what its store would give
    /// back after a restart (before the restart's leaves).
    #[must_use]
    pub fn durable_image(&self) -> Image {
        self.state.lock().image()
    }

    /// Compacts the store now (it also compacts by itself as its log grows):
    /// what has expired is dropped from it. A no-op without a store.
    pub fn compact(&self) -> Result<(), StoreError> {
        let mut st = self.state.lock();
        let image = st.image();
        let size = st.size();
        match &mut st.store {
            Some(store) => store.compact(&image)?,
            None => return Ok(()),
        }
        st.compacted_size = size;
        Ok(())
    }
}

impl Platform {
    /// Everything the platform holds, durable or not (sessions, queues,
    /// remembered replies, schedules), as text: what the tests compare to
    /// show that a refused operation or a failed commit left no trace. Not
    /// a stable format.
    #[doc(hidden)]
    #[must_use]
    pub fn debug_fingerprint(&self) -> String {
        use std::fmt::Write;
        let st = self.state.lock();
        let mut s = format!("{:?}\n", st.image());
        let mut sessions: Vec<_> = st.sessions.iter().collect();
        sessions.sort_by_key(|(sid, _)| **sid);
        for (sid, session) in sessions {
            let mut joined: Vec<_> = session.joined.iter().collect();
            joined.sort();
            let replies: Vec<_> = session
                .replies
                .iter()
                .map(|r| (&r.id, r.reply.as_deref()))
                .collect();
            let _ = writeln!(
                s,
                "{sid} {:?} next={} joined={joined:?} queue={:?} sent={:?} replies={replies:?} heard={:?}",
                session.info, session.next_sequence, session.queue, session.sent, session.last_heard
            );
        }
        let mut by_user: Vec<_> = st.by_user.iter().collect();
        by_user.sort();
        let _ = writeln!(s, "by_user={by_user:?}");
        let mut confs: Vec<_> = st.conferences.values().collect();
        confs.sort_by_key(|c| c.id);
        for c in confs {
            let links: Vec<_> = c
                .participants()
                .iter()
                .map(|p| (p.session, p.current_token.as_deref()))
                .collect();
            let _ = writeln!(s, "{} present={} links={links:?}", c.id, c.present_count());
        }
        let mut aliases: Vec<_> = st.aliases.iter().collect();
        aliases.sort();
        let _ = writeln!(
            s,
            "aliases={aliases:?} expiry={:?} refresh={:?} idle={:?} next_session={} max_ttl={}",
            st.expiry, st.refresh, st.idle, st.next_session, st.max_token_ttl
        );
        s
    }
}
