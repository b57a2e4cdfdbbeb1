//! The platform's state under its lock, and the operations on it that every
//! public operation shares.

use super::*;

impl State {
    pub(super) fn session(&self, sid: SessionId) -> Result<&Session> {
        self.sessions
            .get(&sid)
            .ok_or(PlatformError::SessionNotFound(sid))
    }

    pub(super) fn session_mut(&mut self, sid: SessionId) -> Result<&mut Session> {
        self.sessions
            .get_mut(&sid)
            .ok_or(PlatformError::SessionNotFound(sid))
    }

    pub(super) fn sessions_of(&self, user: &ExternalId) -> &[SessionId] {
        self.by_user.get(user).map_or(&[], Vec::as_slice)
    }

    pub(super) fn conference(&self, id: ConferenceId) -> Result<&Conference> {
        self.conferences.get(&id).ok_or_else(|| self.not_found(id))
    }

    pub(super) fn conference_mut(&mut self, id: ConferenceId) -> Result<&mut Conference> {
        if !self.conferences.contains_key(&id) {
            return Err(self.not_found(id));
        }
        self.conf_mut(id)
            .ok_or(PlatformError::ConferenceNotFound(id.to_string()))
    }

    pub(super) fn not_found(&self, id: ConferenceId) -> PlatformError {
        if self.destroyed.contains(&id) {
            PlatformError::ConferenceDestroyed(id.to_string())
        } else {
            PlatformError::ConferenceNotFound(id.to_string())
        }
    }

    /// The session's user acting on others in a conference (invite, kick,
    /// update permissions): this session must be the one connected to it (not
    /// another device of the same user), as a USER (listeners receive only, and
    /// acting on others would let them find other listeners) and, unless they
    /// are the owner, hold `needs`. Returns who they are and what they may do
    /// (every permission for the owner).
    pub(super) fn acting_member(
        &self,
        sid: SessionId,
        id: ConferenceId,
        needs: Option<Permission>,
    ) -> Result<(ParticipantInfo, PermissionSet)> {
        let idx = self.connected_index(sid, id)?;
        let info = &self.session(sid)?.info;
        let user = info.external_id();
        let conf = self.conference(id)?;
        let p = conf
            .get(idx)
            .ok_or_else(|| PlatformError::NotInConference(user.clone()))?;
        if p.kind == ParticipantType::Listener {
            return Err(PlatformError::ListenerCannotAct(user.clone()));
        }
        let held = if conf.is_owner(user) {
            PermissionSet::ALL
        } else {
            p.permissions
        };
        if let Some(permission) = needs.filter(|n| !held.contains(*n)) {
            return Err(PlatformError::MissingPermission {
                who: user.clone(),
                permission,
            });
        }
        Ok((info.clone(), held))
    }

    /// The index of the participant this session is connected as.
    pub(super) fn connected_index(&self, sid: SessionId, id: ConferenceId) -> Result<usize> {
        let user = self.session(sid)?.info.external_id();
        let conf = self.conference(id)?;
        conf.index_of(user)
            .filter(|&i| conf.get(i).is_some_and(|p| p.session == Some(sid)))
            .ok_or_else(|| PlatformError::NotInConference(user.clone()))
    }

    /// Applies a lifecycle event to one participant and tells the audience.
    /// `also` hears about it too (e.g. the kicked participant's own session).
    pub(super) fn change_status(
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
        // Leaving, declining or being kicked ends every token issued so far:
        // only a new token (invitation or permission update) admits them again.
        // The owner (who cannot be kicked) keeps the owner token across a leave.
        let ends_tokens = match new {
            ParticipantStatus::Kicked => true,
            ParticipantStatus::Left | ParticipantStatus::Decline => {
                !conf.is_owner(p.info.external_id())
            }
            _ => false,
        };
        let conf = self.conference_mut(id)?;
        let revoked = conf
            .update(idx, now, |p| {
                p.status = new;
                if ends_tokens {
                    std::mem::take(&mut p.tokens)
                } else {
                    Vec::new()
                }
            })
            .unwrap_or_default();
        let view = conf.get(idx).map(Participant::view);
        self.revoke_records(revoked);
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
        if let Some(s) = leaving_session {
            self.set_joined(s, id, false);
        }
        Ok(new)
    }

    /// Tells the audience about participant `idx` after a join or an
    /// invitation: `participantAdded` when `old` is `None`, otherwise
    /// `participantUpdated` from `old`. When the participant changed type
    /// (`kind_before`), the other listeners' view follows: a participant who
    /// became a listener is removed from it, one who became a user is added.
    pub(super) fn announce(
        &self,
        id: ConferenceId,
        idx: usize,
        old: Option<ParticipantStatus>,
        kind_before: ParticipantType,
        out: &mut Outbox,
    ) {
        let Some(conf) = self.conferences.get(&id) else {
            return;
        };
        if conf.present_count() == 0 {
            return; // nobody to tell (a REST invite into an empty conference)
        }
        let Some(p) = conf.get(idx) else {
            return;
        };
        let audience = conf.audience(idx);
        let changed_type = p.kind != kind_before;
        let others: HashSet<SessionId> = if changed_type {
            conf.other_listener_sessions(idx).into_iter().collect()
        } else {
            HashSet::new()
        };
        if audience.is_empty() && others.is_empty() {
            return;
        }
        let view = p.view();
        if changed_type && p.kind == ParticipantType::Listener {
            let gone = EventKind::ParticipantRemoved {
                external_id: p.info.external_id().clone(),
            };
            out.send(&others.iter().copied().collect::<Vec<_>>(), id, gone);
        }
        let (newcomers, rest): (Vec<SessionId>, Vec<SessionId>) = audience
            .into_iter()
            .partition(|s| changed_type && others.contains(s));
        if !newcomers.is_empty() {
            let added = EventKind::ParticipantAdded {
                participant: view.clone(),
            };
            out.send(&newcomers, id, added);
        }
        let kind = match old {
            Some(old_status) => EventKind::ParticipantUpdated {
                new_status: view.status,
                participant: view,
                old_status,
            },
            None => EventKind::ParticipantAdded { participant: view },
        };
        out.send(&rest, id, kind);
    }

    pub(super) fn leave_inner(
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

    pub(super) fn kick_inner(
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
        let ttl = conf.options.token_ttl_secs;
        // The status change revokes every token id issued to them (tokens
        // issued within the kick's own second included); anything older is
        // caught by time, even tokens the platform never saw. Tokens the
        // platform issues after the kick are told apart by their id, not their
        // time (see `enter`), so a clock that steps back cannot lock them out.
        self.change_status(id, idx, LifecycleEvent::Kick, now, out, kicked_session)?;
        let forget_after = now.saturating_add(ttl).saturating_add(self.leeway);
        self.revoke_subject(id, target, now, forget_after);
        Ok(())
    }

    /// Revokes token records by id, each remembered until it would have
    /// expired anyway.
    pub(super) fn revoke_records(&mut self, records: Vec<TokenRecord>) {
        for r in records {
            let forget_after = r.expires_at.saturating_add(self.leeway);
            self.revoke_jti(r.jti, forget_after);
        }
    }

    /// Records a token issued to (or admitted for) participant `idx`: the
    /// records it displaces are revoked, and if they are in the conference
    /// their next refresh is scheduled.
    pub(super) fn record_token(
        &mut self,
        id: ConferenceId,
        idx: usize,
        token: TokenRecord,
        now: u64,
    ) {
        let expired_before = now.saturating_sub(self.leeway);
        let displaced = self
            .conf_mut(id)
            .and_then(|c| c.update(idx, now, |p| p.add_token(token, expired_before)))
            .unwrap_or_default();
        let displaced = displaced
            .into_iter()
            .filter(|t| t.expires_at >= expired_before)
            .collect();
        self.revoke_records(displaced);
        self.schedule_refresh(id, idx, now);
    }

    /// Remembers the token a participant who is in the conference now holds
    /// (for snapshots); nothing for one who is not.
    pub(super) fn set_current_token(&mut self, id: ConferenceId, idx: usize, token: &str) {
        if let Some(p) = self.conf_mut(id).and_then(|c| c.get_mut(idx)) {
            if p.status.is_in_conference() {
                p.current_token = Some(token.into());
            }
        }
    }

    /// When participant `idx`'s newest token will be refreshed, if they are in
    /// a protected conference: `lead` seconds before it expires, but never
    /// earlier than halfway through its life (so a refresh is never due at
    /// once).
    pub(super) fn refresh_time(&self, conf: &Conference, p: &Participant) -> Option<u64> {
        if !conf.options.protected || !p.status.is_in_conference() {
            return None;
        }
        let exp = p.newest_token_expiry()?;
        let lead = self.refresh_lead.min(conf.options.token_ttl_secs / 2);
        Some(exp.saturating_sub(lead))
    }

    /// Files participant `idx`'s next refresh (see [`State::refresh_time`]),
    /// if it falls after `now`. (It always does, but for a clock at the end
    /// of time, where expiries saturate: a refresh due at once would be
    /// issued again and again by the same sweep.)
    pub(super) fn schedule_refresh(&mut self, id: ConferenceId, idx: usize, now: u64) {
        let Some(conf) = self.conferences.get(&id) else {
            return;
        };
        let Some(p) = conf.get(idx) else {
            return;
        };
        if let Some(at) = self.refresh_time(conf, p).filter(|at| *at > now) {
            let key = (at, id, p.info.external_id().clone());
            self.insert_refresh(key);
        }
    }

    pub(super) fn destroy(
        &mut self,
        id: ConferenceId,
        reason: EndReason,
        now: u64,
        out: &mut Outbox,
    ) {
        let Some(conf) = self.conferences.get(&id) else {
            return;
        };
        // "Destroyed" is worth saying while a token for it may still be shown.
        let forget_after = now
            .saturating_add(conf.options.token_ttl_secs)
            .saturating_add(self.leeway);
        let mut to: Vec<SessionId> = conf
            .external_ids()
            .flat_map(|u| self.sessions_of(u).iter().copied())
            .collect();
        to.sort_unstable();
        to.dedup();
        self.remove_conference(id, forget_after);
        for s in &to {
            self.set_joined(*s, id, false);
        }
        out.send(&to, id, EventKind::ConferenceEnded { reason });
    }

    /// Keeps the expiry index in step after a conference's deadline may have moved.
    pub(super) fn sync_expiry(&mut self, id: ConferenceId, before: Option<u64>) {
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

    pub(super) fn expire_due(&mut self, now: u64, out: &mut Outbox) -> usize {
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
                self.destroy(id, EndReason::Expired, now, out);
                count += 1;
            }
        }
        count
    }

    /// Closes every wire session silent for `idle` seconds (0: never): it
    /// leaves its conferences, as if its host had closed it.
    pub(super) fn close_idle(&mut self, now: u64, idle: u64, out: &mut Outbox) {
        if idle == 0 {
            return;
        }
        while self.idle.first().is_some_and(|(at, _)| *at <= now) {
            let Some((at, sid)) = self.pop_idle() else {
                break;
            };
            let due = self
                .sessions
                .get(&sid)
                .and_then(|s| s.last_heard)
                .is_some_and(|t| t.saturating_add(idle) == at);
            if !due {
                continue;
            }
            let joined: Vec<ConferenceId> = self
                .sessions
                .get(&sid)
                .map(|s| s.joined.iter().copied().collect())
                .unwrap_or_default();
            for id in joined {
                // Connected, so present: leaving is allowed.
                let _ = self.leave_inner(sid, id, now, out);
            }
            if let Some(s) = self.remove_session(sid) {
                out.closed.push(s);
            }
        }
    }

    /// Puts events into queues (each at most `cap` long); returns the
    /// listeners to wake.
    pub(super) fn deliver(&mut self, out: Outbox, cap: usize) -> Vec<(SessionId, Listener)> {
        let mut wake: Vec<(SessionId, Listener)> = Vec::new();
        let mut woken: HashSet<SessionId> = HashSet::new();
        for (sid, conf, kind) in out.items {
            let Some(s) = self.sessions.get_mut(&sid) else {
                continue;
            };
            s.push(conf, kind, cap);
            if let Some(l) = &s.listener {
                if woken.insert(sid) {
                    wake.push((sid, Arc::clone(l)));
                }
            }
        }
        wake
    }
}
