//! Being in a conference: join, listen, media reports, leave, decline, kick.

use super::*;

impl Platform {
    /// Joins as a USER (sends and receives). Protected conferences need a token
    /// for this user and conference that grants JOIN and is not revoked. While
    /// they are in a protected conference, the platform sends them a fresh
    /// token before theirs expires (`tokenRefreshed`).
    pub fn join(&self, sid: SessionId, id: ConferenceId, token: Option<&str>) -> Result<Joined> {
        self.enter(sid, id, token, ParticipantType::User)
    }

    /// Joins as a LISTENER (receives only; needs JOIN too in protected conferences).
    pub fn listen(&self, sid: SessionId, id: ConferenceId, token: Option<&str>) -> Result<Joined> {
        self.enter(sid, id, token, ParticipantType::Listener)
    }

    pub(super) fn enter(
        &self,
        sid: SessionId,
        id: ConferenceId,
        token: Option<&str>,
        kind: ParticipantType,
    ) -> Result<Joined> {
        self.enter_inner(sid, id, token, kind, false)
            .map(|(j, _)| j)
    }

    #[allow(clippy::type_complexity)]
    fn enter_inner(
        &self,
        sid: SessionId,
        id: ConferenceId,
        token: Option<&str>,
        kind: ParticipantType,
        with_roster: bool,
    ) -> Result<(Joined, Option<(Option<ConferenceSnapshot>, u64)>)> {
        // The signature check is the expensive part: do it before taking the
        // lock; revocation is checked under it. Errors surface in the order
        // session, conference, token.
        let verified = token.map(|t| {
            let v = Validation::new(self.monotonic_now(), id).with_leeway(self.config.leeway_secs);
            self.ring.read().verify_cached(&self.verified, t, &v)
        });
        self.run(|st, out, now| {
            let info = st.session(sid)?.info.clone();
            let user = info.external_id().clone();
            let conf = st.conference(id)?;
            let existing = conf.index_of(&user);
            let current = existing.and_then(|i| conf.get(i));
            let claims = match verified {
                Some(result) => {
                    let claims = result?;
                    st.revocations.check_token_id(&claims)?;
                    // A token the platform issued or admitted for them since
                    // their last kick is theirs whatever the clock said at
                    // issue; anything else must postdate the kick.
                    if !current.is_some_and(|p| p.holds_token(&claims.token_id)) {
                        st.revocations.check_subject(&claims)?;
                    }
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
            let old_status = current.map(|p| p.status);
            let new_status = match old_status {
                Some(s) => s.apply(LifecycleEvent::Join)?,
                None => ParticipantStatus::Connecting,
            };
            let was_present = old_status.is_some_and(ParticipantStatus::is_in_conference);
            if existing.is_none() && conf.len() >= MAX_PARTICIPANTS_PER_CONFERENCE {
                return Err(PlatformError::TooManyParticipants {
                    limit: MAX_PARTICIPANTS_PER_CONFERENCE,
                });
            }
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

            let kind_before = current.map_or(kind, |p| p.kind);

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
                    });
                    i
                }
                None => conf.add(Participant {
                    info,
                    status: new_status,
                    kind,
                    permissions,
                    session: Some(sid),
                    tokens: Vec::new(),
                    current_token: None,
                    revision: 0,
                }),
            };
            st.sync_expiry(id, expiry_before);
            match (&claims, token) {
                (Some(c), Some(presented)) => {
                    let record = TokenRecord {
                        jti: c.token_id.as_str().into(),
                        expires_at: c.expires_at,
                        permissions: c.permissions,
                    };
                    st.record_token(id, idx, record, now);
                    if let Some(p) = st.conf_mut(id).and_then(|c| c.get_mut(idx)) {
                        p.current_token = Some(presented.into());
                    }
                }
                _ => st.schedule_refresh(id, idx, now),
            }
            st.announce(id, idx, old_status, kind_before, out);
            if let Some(old_sid) = replaced {
                out.send(&[old_sid], id, EventKind::Switched { external_id: user });
                st.set_joined(old_sid, id, false);
            }
            st.set_joined(sid, id, true);
            let joined = Joined {
                status: new_status,
                permissions,
                switched: replaced.is_some(),
            };
            // The roster as of the session's events so far: this operation's
            // own events come after it.
            let roster = with_roster.then(|| {
                let as_of = st.sessions.get(&sid).map_or(0, |s| s.next_sequence - 1);
                (st.conference_snapshot(sid, id), as_of)
            });
            Ok((joined, roster))
        })
    }

    /// Joins (or, with `listen`, listens) and also returns the conference as
    /// the session may see it right after, with the last sequence number of
    /// the session's events it includes: what a device needs to show who is
    /// already there. The wire's `join` and `listen` use it.
    pub fn join_with_roster(
        &self,
        sid: SessionId,
        id: ConferenceId,
        token: Option<&str>,
        listen: bool,
    ) -> Result<(Joined, ConferenceSnapshot, u64)> {
        let kind = if listen {
            ParticipantType::Listener
        } else {
            ParticipantType::User
        };
        let (joined, roster) = self.enter_inner(sid, id, token, kind, true)?;
        let (snapshot, as_of) =
            roster
                .and_then(|(s, a)| Some((s?, a)))
                .ok_or(PlatformError::NotInConference(
                    self.session_info(sid)?.external_id().clone(),
                ))?;
        Ok((joined, snapshot, as_of))
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

    /// Removes a participant (owner or KICK holder). Every token issued to them
    /// before now stops admitting them; only a new invitation brings them back.
    pub fn kick(&self, sid: SessionId, id: ConferenceId, target: &ExternalId) -> Result<()> {
        self.run(|st, out, now| {
            st.acting_member(sid, id, Some(Permission::Kick))?;
            st.kick_inner(id, target, now, out)
        })
    }
}
