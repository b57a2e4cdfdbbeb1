//! Conferences: create (or find by alias), fetch, list participants, terminate, expire.

use super::*;

impl Platform {
    /// Creates a conference owned by the session's user. An alias that already
    /// names a live conference (compared by [`Alias::key`]) returns that
    /// conference, marked not new, without notifying anyone; when the caller
    /// owns that conference and it is protected, with a fresh owner token (the
    /// owner's way back in once their token expired).
    pub fn create_conference(
        &self,
        sid: SessionId,
        alias: &str,
        options: ConferenceOptions,
    ) -> Result<Created> {
        let alias = Alias::new(alias)?;
        let new_id = ConferenceId::random();
        let probe = alias.clone();
        self.run_signed(
            |st, _, _| {
                let owner = st.session(sid)?.info.external_id().clone();
                Ok(self.predict_create(st, &owner, &probe, options, new_id, &[]))
            },
            |st, out, now, minter| {
                let owner = st.session(sid)?.info.clone();
                self.create_inner(st, out, now, minter, owner, alias, options, new_id)
            },
        )
    }

    /// The tokens a create (plus its invitations) will issue: the owner's and
    /// one per invitee, for the conference `new_id` will be or the one the
    /// alias names.
    pub(super) fn predict_create(
        &self,
        st: &State,
        owner: &ExternalId,
        alias: &Alias,
        options: ConferenceOptions,
        new_id: ConferenceId,
        invitees: &[Invitee],
    ) -> Vec<TokenRequest> {
        let existing = st
            .aliases
            .get(alias.key())
            .and_then(|id| st.conferences.get(id));
        match existing {
            Some(conf) => {
                let owner_token = (conf.options.protected && conf.is_owner(owner))
                    .then(|| TokenRequest::new(conf, owner, PermissionSet::ALL));
                let invited = invitations::plan_invites(st, conf.id, PermissionSet::ALL, invitees)
                    .map(|plan| plan.token_requests(conf, invitees).collect::<Vec<_>>())
                    .unwrap_or_default();
                owner_token.into_iter().chain(invited).collect()
            }
            None if options.protected => {
                let ttl = options.token_ttl_secs.unwrap_or(self.config.token_ttl_secs);
                let request = |subject: &ExternalId, permissions| TokenRequest {
                    conference: new_id,
                    ttl_secs: ttl,
                    subject: subject.clone(),
                    permissions,
                };
                std::iter::once(request(owner, PermissionSet::ALL))
                    .chain(invitees.iter().map(|i| {
                        request(
                            &i.external_id,
                            i.permissions.unwrap_or(PermissionSet::DEFAULT_INVITEE),
                        )
                    }))
                    .collect()
            }
            None => Vec::new(),
        }
    }

    /// Creates the conference (with id `new_id`), or answers for the live one
    /// the alias names (see [`Platform::create_conference`]).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn create_inner(
        &self,
        st: &mut State,
        out: &mut Outbox,
        now: u64,
        minter: &mut Minter,
        owner: ParticipantInfo,
        alias: Alias,
        options: ConferenceOptions,
        new_id: ConferenceId,
    ) -> Result<Created> {
        if let Some(existing) = st
            .aliases
            .get(alias.key())
            .and_then(|id| st.conferences.get(id))
        {
            let id = existing.id;
            let owner_idx = existing
                .index_of(owner.external_id())
                .filter(|_| existing.options.protected && existing.is_owner(owner.external_id()));
            let owner_token =
                owner_idx.and_then(|idx| self.issue_fresh(st, minter, id, idx, now, out));
            return Ok(Created {
                conference: st.conference(id)?.info_for(owner.external_id()),
                is_new: false,
                owner_token,
            });
        }
        if options.empty_ttl_secs == Some(0) || options.token_ttl_secs == Some(0) {
            return Err(PlatformError::InvalidInput(
                "time to live must be at least 1 second".into(),
            ));
        }
        let too_long = |t: Option<u64>| t.is_some_and(|t| t > MAX_CONFERENCE_TTL_SECS);
        if too_long(options.empty_ttl_secs) || too_long(options.token_ttl_secs) {
            return Err(PlatformError::InvalidInput(format!(
                "a conference's times to live are at most {MAX_CONFERENCE_TTL_SECS} seconds"
            )));
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
        let id = new_id;
        let owner_id = owner.external_id().clone();
        let mut conf = Conference::new(id, alias, owner_id.clone(), resolved, now);
        let mut owner_p = Participant {
            info: owner,
            status: ParticipantStatus::Reserved,
            kind: ParticipantType::User,
            permissions: PermissionSet::ALL,
            session: None,
            tokens: Vec::new(),
            current_token: None,
            revision: 0,
        };
        let owner_token = if resolved.protected {
            let (token, record) = self.mint(minter, &conf, &owner_id, PermissionSet::ALL);
            owner_p.tokens.push(record);
            Some(token)
        } else {
            None
        };
        conf.add(owner_p);
        let info = conf.info();
        let to = st.sessions_of(&owner_id).to_vec();
        out.send(
            &to,
            id,
            EventKind::ConferenceCreated {
                conference_alias: conf.alias.as_str().to_owned(),
                is_protected: resolved.protected,
            },
        );
        st.insert_conference(conf);
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

    /// A live conference as session `sid`'s user may see it (a listener's
    /// counts leave out other listeners).
    pub fn conference_seen_by(&self, sid: SessionId, id: ConferenceId) -> Result<ConferenceInfo> {
        self.run(|st, _, _| {
            let user = st.session(sid)?.info.external_id().clone();
            Ok(st.conference(id)?.info_for(&user))
        })
    }

    /// [`Platform::conference_seen_by`], by alias.
    pub fn conference_by_alias_seen_by(
        &self,
        sid: SessionId,
        alias: &str,
    ) -> Result<ConferenceInfo> {
        let alias = Alias::new(alias)?;
        self.run(|st, _, _| {
            let user = st.session(sid)?.info.external_id().clone();
            let id = st
                .aliases
                .get(alias.key())
                .copied()
                .ok_or_else(|| PlatformError::ConferenceNotFound(alias.as_str().to_owned()))?;
            Ok(st.conference(id)?.info_for(&user))
        })
    }

    /// A live conference by alias (compared by [`Alias::key`]).
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

    /// Ends a conference (its owner only): everyone is told and it is destroyed.
    pub fn terminate(&self, sid: SessionId, id: ConferenceId) -> Result<()> {
        self.run(|st, out, now| {
            let user = st.session(sid)?.info.external_id().clone();
            if !st.conference(id)?.is_owner(&user) {
                return Err(PlatformError::OwnerOnly("terminate the conference"));
            }
            st.destroy(id, EndReason::Terminated, now, out);
            Ok(())
        })
    }

    /// Destroys every empty conference whose time to live has passed, sends
    /// due token refreshes and forgets expired revocations. Every operation
    /// does this first; hosts call it on a timer (say every few seconds) so
    /// refreshes go out while nothing else happens. Returns how many
    /// conferences were destroyed.
    ///
    /// With a store, a sweep whose commit fails is put back and this returns
    /// 0; the next call (or operation) tries again. [`Platform::try_expire_conferences`]
    /// reports the error.
    pub fn expire_conferences(&self) -> usize {
        self.try_expire_conferences().unwrap_or(0)
    }

    /// [`Platform::expire_conferences`], with the store's error if its
    /// commit failed.
    pub fn try_expire_conferences(&self) -> Result<usize> {
        let now = self.monotonic_now();
        let (count, wake, closed) = {
            let mut st = self.state.lock();
            let mut out = Outbox::default();
            let (count, closed) = self.sweep(&mut st, now, &mut out)?;
            (
                count,
                st.deliver(out, self.config.max_queued_events),
                closed,
            )
        };
        for (sid, listener) in wake {
            listener(sid);
        }
        drop(closed);
        Ok(count)
    }
}
