//! Invitations and permission updates.

use super::*;

impl Platform {
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
            let protected = st.conference(id)?.options.protected;
            let needs = protected.then_some(Permission::Invite);
            let (inviter_info, held) = st.acting_member(sid, id, needs)?;
            // No escalation, protected or not: what a participant holds bounds
            // what they can hand out (the owner holds everything).
            if !held.contains(Permission::UpdatePermissions) {
                let wanted = invitees.iter().fold(PermissionSet::EMPTY, |acc, i| {
                    acc.union(i.permissions.unwrap_or(PermissionSet::DEFAULT_INVITEE))
                });
                let missing = wanted.difference(held);
                if !missing.is_empty() {
                    return Err(PlatformError::Escalation { missing });
                }
            }
            self.invite_inner(st, out, now, id, &inviter_info, invitees)
        })
    }

    pub(super) fn invite_inner(
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
            st.acting_member(sid, id, Some(Permission::UpdatePermissions))?;
            self.update_permissions_inner(st, out, now, id, target, permissions)
        })
    }

    pub(super) fn update_permissions_inner(
        &self,
        st: &mut State,
        out: &mut Outbox,
        now: u64,
        id: ConferenceId,
        target: &ExternalId,
        permissions: PermissionSet,
    ) -> Result<Option<String>> {
        let conf = st.conference(id)?;
        if conf.is_owner(target) {
            return Err(PlatformError::OwnerPermissionsFixed);
        }
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
}
