//! Conferences: create (or find by alias), fetch, list participants, terminate, expire.

use super::*;

impl Platform {
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

    pub(super) fn create_inner(
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
        if options.empty_ttl_secs == Some(0) || options.token_ttl_secs == Some(0) {
            return Err(PlatformError::InvalidInput(
                "time to live must be at least 1 second".into(),
            ));
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
