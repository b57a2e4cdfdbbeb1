//! Invitations and permission updates.
//!
//! An invitation is decided first ([`plan_invites`], which changes nothing and
//! can be repeated), then applied. The plan also says which tokens it will
//! issue, so they can be signed before the lock is taken.

use super::*;

/// What one invitee's invitation does.
#[derive(Debug, Clone, Copy)]
enum Action {
    /// They are in the conference: nothing is issued or sent.
    AlreadyIn,
    /// A new participant.
    Add,
    /// A participant who is not in the conference, invited again.
    Reinvite {
        idx: usize,
        old: ParticipantStatus,
        new: ParticipantStatus,
        kind_before: ParticipantType,
    },
}

/// The decided invitations of one request, in request order, for one
/// conference at one version.
pub(crate) struct InvitePlan {
    conference: ConferenceId,
    version: u64,
    steps: Vec<(Action, PermissionSet)>,
}

/// Decides an invitation by someone holding `held` (every permission for the
/// owner and the app server), without changing anything.
///
/// - A participant in the conference is left as they are.
/// - A re-invited participant keeps their permission set unless the inviter
///   may change permissions (the owner, a holder of UPDATE_PERMISSIONS, the app
///   server) and the invitation names a set.
/// - A KICKED participant is re-admitted only by the owner or a holder of KICK
///   or INVITE, in protected and unprotected conferences alike.
/// - The owner is never invited (they come back with a fresh owner token).
pub(super) fn plan_invites(
    st: &State,
    id: ConferenceId,
    held: PermissionSet,
    invitees: &[Invitee],
) -> Result<InvitePlan> {
    check_request_len(invitees.len())?;
    let conf = st.conference(id)?;
    let may_set = held.contains(Permission::UpdatePermissions);
    let may_readmit = held.contains(Permission::Kick) || held.contains(Permission::Invite);
    let mut seen = HashSet::with_capacity(invitees.len());
    let mut steps = Vec::with_capacity(invitees.len());
    for inv in invitees {
        if !seen.insert(&inv.external_id) {
            return Err(PlatformError::InvalidInput(format!(
                "{} is listed twice",
                inv.external_id
            )));
        }
        let Some(idx) = conf.index_of(&inv.external_id) else {
            let perms = inv.permissions.unwrap_or(PermissionSet::DEFAULT_INVITEE);
            steps.push((Action::Add, perms));
            continue;
        };
        let Some(p) = conf.get(idx) else {
            return Err(PlatformError::ParticipantNotFound(inv.external_id.clone()));
        };
        if p.status.is_in_conference() {
            steps.push((Action::AlreadyIn, p.permissions));
            continue;
        }
        if conf.is_owner(&inv.external_id) {
            return Err(PlatformError::InvalidInput(format!(
                "{} owns the conference and needs no invitation",
                inv.external_id
            )));
        }
        if p.status == ParticipantStatus::Kicked && !may_readmit {
            return Err(PlatformError::KickedNeedsModerator(inv.external_id.clone()));
        }
        let new = p.status.apply(LifecycleEvent::Invite)?;
        let perms = match inv.permissions {
            Some(asked) if may_set => asked,
            _ => p.permissions,
        };
        let action = Action::Reinvite {
            idx,
            old: p.status,
            new,
            kind_before: p.kind,
        };
        steps.push((action, perms));
    }
    let adds = steps
        .iter()
        .filter(|(a, _)| matches!(a, Action::Add))
        .count();
    if conf.len() + adds > MAX_PARTICIPANTS_PER_CONFERENCE {
        return Err(PlatformError::TooManyParticipants {
            limit: MAX_PARTICIPANTS_PER_CONFERENCE,
        });
    }
    Ok(InvitePlan {
        conference: id,
        version: conf.version(),
        steps,
    })
}

/// [`plan_invites`], reusing the plan made while predicting if the
/// conference has not changed since.
pub(super) fn plan_again(
    st: &State,
    minter: &mut Minter,
    id: ConferenceId,
    held: PermissionSet,
    invitees: &[Invitee],
) -> Result<InvitePlan> {
    let current = st.conference(id)?.version();
    match minter.plan.take() {
        Some(plan) if plan.conference == id && plan.version == current => Ok(plan),
        _ => plan_invites(st, id, held, invitees),
    }
}

impl InvitePlan {
    /// The tokens applying this plan issues (protected conferences).
    pub(super) fn token_requests<'a>(
        &'a self,
        conf: &'a Conference,
        invitees: &'a [Invitee],
    ) -> impl Iterator<Item = TokenRequest> + 'a {
        self.steps
            .iter()
            .zip(invitees)
            .filter(move |((action, _), _)| {
                conf.options.protected && !matches!(action, Action::AlreadyIn)
            })
            .map(move |((_, perms), inv)| TokenRequest::new(conf, &inv.external_id, *perms))
    }
}

impl Platform {
    /// Invites users on behalf of a participant who is in the conference as a
    /// user. In a protected conference the inviter needs INVITE. Nobody but
    /// the owner and holders of UPDATE_PERMISSIONS may grant what they do not
    /// hold themselves (the default set counts as granted), protected or not.
    /// A re-invited participant keeps their set unless the inviter may change
    /// permissions; re-admitting a KICKED one needs the owner, KICK or INVITE;
    /// the owner is never invited (create again for a fresh owner token).
    /// The results say whom the
    /// invitation reached; the invitees' tokens go to the invitees only.
    pub fn invite(
        &self,
        sid: SessionId,
        id: ConferenceId,
        invitees: &[Invitee],
    ) -> Result<Vec<InviteResult>> {
        let decide = |st: &State| -> Result<(ParticipantInfo, PermissionSet)> {
            let protected = st.conference(id)?.options.protected;
            let needs = protected.then_some(Permission::Invite);
            let (inviter, held) = st.acting_member(sid, id, needs)?;
            if !held.contains(Permission::UpdatePermissions) {
                let wanted = invitees.iter().fold(PermissionSet::EMPTY, |acc, i| {
                    acc.union(i.permissions.unwrap_or(PermissionSet::DEFAULT_INVITEE))
                });
                let missing = wanted.difference(held);
                if !missing.is_empty() {
                    return Err(PlatformError::Escalation { missing });
                }
            }
            Ok((inviter, held))
        };
        self.run_signed(
            |st, _, minter| {
                let (_, held) = decide(st)?;
                let plan = plan_invites(st, id, held, invitees)?;
                let requests = plan.token_requests(st.conference(id)?, invitees).collect();
                minter.plan = Some(plan);
                Ok(requests)
            },
            |st, out, now, minter| {
                let (inviter, held) = decide(st)?;
                let plan = plan_again(st, minter, id, held, invitees)?;
                let done = self.apply_invites(st, out, now, minter, id, &inviter, invitees, plan);
                Ok(done.into_iter().map(|d| d.result).collect())
            },
        )
    }

    /// Applies a plan made by [`plan_invites`] on the same state: nothing
    /// here can fail.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn apply_invites(
        &self,
        st: &mut State,
        out: &mut Outbox,
        now: u64,
        minter: &mut Minter,
        id: ConferenceId,
        inviter: &ParticipantInfo,
        invitees: &[Invitee],
        plan: InvitePlan,
    ) -> Vec<Invited> {
        let mut done = Vec::with_capacity(invitees.len());
        let Some(conf) = st.conferences.get(&id) else {
            return done;
        };
        let protected = conf.options.protected;
        let conf_alias = conf.alias.as_str().to_owned();
        let adds = plan
            .steps
            .iter()
            .filter(|(a, _)| matches!(a, Action::Add))
            .count();
        if let Some(conf) = st.conf_mut(id) {
            conf.reserve(adds);
        }
        for (inv, (action, perms)) in invitees.iter().zip(plan.steps) {
            // A newcomer with an open session is shown with its name.
            let newcomer = matches!(action, Action::Add).then(|| {
                st.sessions_of(&inv.external_id)
                    .first()
                    .and_then(|s| st.sessions.get(s))
                    .map_or_else(
                        || ParticipantInfo::anonymous(inv.external_id.clone()),
                        |s| s.info.clone(),
                    )
            });
            let Some(conf) = st.conf_mut(id) else {
                break;
            };
            let minted = (protected && !matches!(action, Action::AlreadyIn))
                .then(|| self.mint(minter, conf, &inv.external_id, perms));
            let (token, mut record) = match minted {
                Some((t, r)) => (Some(t), Some(r)),
                None => (None, None),
            };
            let mut replaced = Vec::new();
            let (idx, change) = match (action, newcomer) {
                (Action::AlreadyIn, _) => {
                    done.push(Invited {
                        result: InviteResult {
                            external_id: inv.external_id.clone(),
                            delivery: Delivery::AlreadyInConference,
                            permissions: perms,
                        },
                        token: None,
                    });
                    continue;
                }
                (
                    Action::Reinvite {
                        idx,
                        old,
                        new,
                        kind_before,
                    },
                    _,
                ) => {
                    // Tokens that still carry the set they keep stay valid.
                    replaced = conf
                        .update(idx, now, |p| {
                            p.status = new;
                            p.permissions = perms;
                            p.kind = ParticipantType::User;
                            let (keep, replaced) = std::mem::take(&mut p.tokens)
                                .into_iter()
                                .partition(|t| t.permissions == perms);
                            p.tokens = keep;
                            replaced
                        })
                        .unwrap_or_default();
                    (idx, Some((old, new, kind_before)))
                }
                (Action::Add, info) => {
                    // A newcomer is not in the conference: no refresh to file.
                    let idx = conf.add(Participant {
                        info: info
                            .unwrap_or_else(|| ParticipantInfo::anonymous(inv.external_id.clone())),
                        status: ParticipantStatus::Reserved,
                        kind: ParticipantType::User,
                        permissions: perms,
                        session: None,
                        tokens: record.take().into_iter().collect(),
                        current_token: None,
                        revision: 0,
                    });
                    (idx, None)
                }
            };
            let anyone_present = conf.present_count() > 0;
            st.revoke_records(replaced);
            if let Some(record) = record {
                st.record_token(id, idx, record, now);
            }
            if anyone_present {
                match change {
                    // A refreshed invitation (RESERVED again) is announced as an addition.
                    Some((old, new, kind_before)) if old != new => {
                        st.announce(id, idx, Some(old), kind_before, out);
                    }
                    _ => st.announce(id, idx, None, ParticipantType::User, out),
                }
            }
            let to = st.sessions_of(&inv.external_id);
            let delivery = match (inv.notify, to.len()) {
                (false, _) => Delivery::NotRequested,
                (true, 0) => Delivery::NoOpenSession,
                (true, n) => {
                    let invitation = EventKind::InvitationReceived {
                        conference_alias: conf_alias.clone(),
                        inviter: inviter.clone(),
                        token: token.clone(),
                        permissions: protected.then_some(perms),
                    };
                    out.send(to, id, invitation);
                    Delivery::Delivered(n)
                }
            };
            done.push(Invited {
                result: InviteResult {
                    external_id: inv.external_id.clone(),
                    delivery,
                    permissions: perms,
                },
                token,
            });
        }
        done
    }

    /// Replaces a participant's permissions (the owner or an UPDATE_PERMISSIONS
    /// holder; nobody changes their own). In a protected conference a new
    /// token is issued and the ones that carry another set are revoked; the
    /// participant's sessions receive permissions updated with the new token.
    pub fn update_permissions(
        &self,
        sid: SessionId,
        id: ConferenceId,
        target: &ExternalId,
        permissions: PermissionSet,
    ) -> Result<()> {
        let decide = |st: &State| -> Result<()> {
            let (actor, _) = st.acting_member(sid, id, Some(Permission::UpdatePermissions))?;
            let conf = st.conference(id)?;
            if actor.external_id() == target && !conf.is_owner(target) {
                return Err(PlatformError::OwnPermissions(target.clone()));
            }
            check_update(conf, target).map(|_| ())
        };
        self.run_signed(
            |st, _, _| {
                decide(st)?;
                let conf = st.conference(id)?;
                Ok(conf
                    .options
                    .protected
                    .then(|| TokenRequest::new(conf, target, permissions))
                    .into_iter()
                    .collect())
            },
            |st, out, now, minter| {
                decide(st)?;
                self.update_permissions_inner(st, out, now, minter, id, target, permissions)
                    .map(|_| ())
            },
        )
    }

    /// Applies a permission update that [`check_update`] allowed; returns the
    /// new token (protected conferences).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn update_permissions_inner(
        &self,
        st: &mut State,
        out: &mut Outbox,
        now: u64,
        minter: &mut Minter,
        id: ConferenceId,
        target: &ExternalId,
        permissions: PermissionSet,
    ) -> Result<Option<String>> {
        let idx = check_update(st.conference(id)?, target)?;
        let conf = st.conference(id)?;
        let minted = conf
            .options
            .protected
            .then(|| self.mint(minter, conf, target, permissions));
        let conf = st.conference_mut(id)?;
        let replaced = conf
            .update(idx, now, |p| {
                p.permissions = permissions;
                let (keep, replaced) = std::mem::take(&mut p.tokens)
                    .into_iter()
                    .partition(|t| t.permissions == permissions);
                p.tokens = keep;
                replaced
            })
            .unwrap_or_default();
        st.revoke_records(replaced);
        let token = minted.map(|(t, record)| {
            st.record_token(id, idx, record, now);
            st.set_current_token(id, idx, &t);
            t
        });
        let to = st.sessions_of(target).to_vec();
        out.send(
            &to,
            id,
            EventKind::PermissionsUpdated {
                permissions,
                token: token.clone(),
            },
        );
        // Everyone who sees the participant sees their permissions: their
        // views follow (status unchanged).
        if let Some(p) = st.conference(id)?.get(idx) {
            let (status, kind) = (p.status, p.kind);
            st.announce(id, idx, Some(status), kind, out);
        }
        Ok(token)
    }
}

/// The index of a participant whose permissions may be replaced.
pub(super) fn check_update(conf: &Conference, target: &ExternalId) -> Result<usize> {
    if conf.is_owner(target) {
        return Err(PlatformError::OwnerPermissionsFixed);
    }
    conf.index_of(target)
        .ok_or_else(|| PlatformError::ParticipantNotFound(target.clone()))
}
