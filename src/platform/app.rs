//! The app server's operations: what an app server does to the conferences
//! of its users, without a session of its own. The REST adapter
//! ([`crate::rest`]) decodes a request, calls one of these and encodes the
//! answer; the rules live here.
//!
//! The app server acts with every permission: it may invite anyone (KICKED
//! participants included), set any permission set except the owner's, kick
//! anyone but the owner and end a conference. Its invitations come from the
//! conference's owner. Every operation is all-or-nothing, lists at most
//! [`MAX_INVITEES_PER_REQUEST`] users, and signs the tokens it issues before
//! the platform's lock is taken.
//!
//! - [`Platform::app_create`] creates a protected conference for an owner,
//!   with invitees.
//! - [`Platform::app_invite`] invites users into a conference.
//! - [`Platform::app_update_permissions`] replaces permission sets.
//! - [`Platform::app_kick`] removes participants.
//! - [`Platform::fresh_tokens`] issues new tokens to participants whose
//!   tokens expired.
//! - [`Platform::participants`] lists who is in the conference.
//! - [`Platform::app_terminate`] ends a conference.

use super::invitations::{check_update, plan_again, plan_invites};
use super::*;

/// What [`Platform::app_create`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct AppCreated {
    /// The conference (new, or the owner's live one the alias names) and the
    /// owner's token.
    pub created: Created,
    /// Each invitee's outcome, in the order they were listed.
    pub invited: Vec<Invited>,
}

impl Platform {
    /// Creates a protected conference owned by `owner` (whatever
    /// `options.protected` says: the app server's conferences need tokens)
    /// and invites `invitees` as [`Platform::app_invite`] does, with the
    /// owner as inviter (their open session's name and avatar if they have
    /// one, else their external ID alone).
    ///
    /// An alias that names a live protected conference of the same owner is
    /// not an error, so a retried create is harmless: that conference is
    /// returned (`is_new: false`) with a fresh owner token, and the invitees
    /// are invited into it. An alias that names an unprotected conference,
    /// or one someone else owns, is refused with
    /// [`PlatformError::AliasTaken`]: anything else would hand the app's
    /// participants to a conference someone else controls.
    ///
    /// Also refused, changing nothing: the owner or anyone else listed twice
    /// among the invitees, more than [`MAX_INVITEES_PER_REQUEST`] invitees,
    /// and the options [`Platform::create_conference`] refuses.
    pub fn app_create(
        &self,
        owner: &ExternalId,
        alias: Alias,
        options: ConferenceOptions,
        invitees: &[Invitee],
    ) -> Result<AppCreated> {
        check_request_len(invitees.len())?;
        if invitees.iter().any(|i| &i.external_id == owner) {
            return Err(PlatformError::InvalidInput(
                "the owner cannot be listed as a participant".into(),
            ));
        }
        // Checked before anything changes: a new conference's invitations
        // are planned only once it exists.
        let mut seen = HashSet::with_capacity(invitees.len());
        if let Some(twice) = invitees.iter().find(|i| !seen.insert(&i.external_id)) {
            return Err(PlatformError::InvalidInput(format!(
                "{} is listed twice",
                twice.external_id
            )));
        }
        let options = ConferenceOptions {
            protected: true,
            ..options
        };
        let new_id = ConferenceId::random();
        let (created, invited) = self.run_signed(
            |st, _, _| Ok(self.predict_create(st, owner, &alias, options, new_id, invitees)),
            |st, out, now, minter| {
                if let Some(existing) = st
                    .aliases
                    .get(alias.key())
                    .and_then(|id| st.conferences.get(id))
                {
                    let why = if !existing.options.protected {
                        Some("is not protected")
                    } else if !existing.is_owner(owner) {
                        Some("someone else owns")
                    } else {
                        None
                    };
                    if let Some(why) = why {
                        return Err(PlatformError::AliasTaken {
                            alias: alias.as_str().to_owned(),
                            why,
                        });
                    }
                    // Decide the invitations before anything changes.
                    plan_invites(st, existing.id, PermissionSet::ALL, invitees)?;
                }
                let inviter = st
                    .sessions_of(owner)
                    .first()
                    .and_then(|s| st.sessions.get(s))
                    .map_or_else(
                        || ParticipantInfo::anonymous(owner.clone()),
                        |s| s.info.clone(),
                    );
                let (info, alias) = (inviter.clone(), alias.clone());
                let created =
                    self.create_inner(st, out, now, minter, info, alias, options, new_id)?;
                let id = created.conference.id;
                // Cannot fail: checked above for a live conference; a new one
                // has only its owner, who is not listed, and nobody is listed
                // twice.
                let plan = plan_invites(st, id, PermissionSet::ALL, invitees)?;
                let done = self.apply_invites(st, out, now, minter, id, &inviter, invitees, plan);
                Ok((created, done))
            },
        )?;
        Ok(AppCreated { created, invited })
    }

    /// Invites users into a conference on the app server's behalf, with every
    /// permission: the owner is the inviter, a KICKED participant is
    /// re-admitted, and a re-invited participant gets the set the invitation
    /// names (or keeps theirs when it names none). A participant in the
    /// conference is left as they are ([`Delivery::AlreadyInConference`]).
    /// In a protected conference each invitee who is not in it gets a new
    /// token, returned here and sent in their invitation.
    ///
    /// Refused, changing nothing: an unknown or destroyed conference, the
    /// owner or anyone else listed twice, more than
    /// [`MAX_INVITEES_PER_REQUEST`] invitees, or more participants than
    /// [`MAX_PARTICIPANTS_PER_CONFERENCE`].
    pub fn app_invite(&self, id: ConferenceId, invitees: &[Invitee]) -> Result<Vec<Invited>> {
        self.run_signed(
            |st, _, minter| {
                let plan = plan_invites(st, id, PermissionSet::ALL, invitees)?;
                let requests = plan.token_requests(st.conference(id)?, invitees).collect();
                minter.plan = Some(plan);
                Ok(requests)
            },
            |st, out, now, minter| {
                let plan = plan_again(st, minter, id, PermissionSet::ALL, invitees)?;
                let conf = st.conference(id)?;
                let owner = conf.find(&conf.owner).map_or_else(
                    || ParticipantInfo::anonymous(conf.owner.clone()),
                    |p| p.info.clone(),
                );
                Ok(self.apply_invites(st, out, now, minter, id, &owner, invitees, plan))
            },
        )
    }

    /// Replaces participants' permission sets on the app server's behalf,
    /// as [`Platform::update_permissions`] does for one. In a protected
    /// conference each gets a new token (returned here, in the order listed)
    /// and their tokens that carry another set are revoked.
    ///
    /// Refused, changing nothing: an unknown or destroyed conference, the
    /// owner ([`PlatformError::OwnerPermissionsFixed`]), someone who is not a
    /// participant, anyone listed twice, or more than
    /// [`MAX_INVITEES_PER_REQUEST`] participants.
    pub fn app_update_permissions(
        &self,
        id: ConferenceId,
        updates: &[(ExternalId, PermissionSet)],
    ) -> Result<Vec<(ExternalId, String)>> {
        check_request_len(updates.len())?;
        let check = |conf: &Conference| -> Result<()> {
            let mut seen = HashSet::with_capacity(updates.len());
            for (ext, _) in updates {
                if !seen.insert(ext) {
                    return Err(PlatformError::InvalidInput(format!(
                        "{ext} is listed twice"
                    )));
                }
                check_update(conf, ext)?;
            }
            Ok(())
        };
        self.run_signed(
            |st, _, _| {
                let conf = st.conference(id)?;
                check(conf)?;
                Ok(updates
                    .iter()
                    .filter(|_| conf.options.protected)
                    .map(|(ext, perms)| TokenRequest::new(conf, ext, *perms))
                    .collect())
            },
            |st, out, now, minter| {
                check(st.conference(id)?)?;
                let mut tokens = Vec::with_capacity(updates.len());
                for (ext, perms) in updates {
                    let token =
                        self.update_permissions_inner(st, out, now, minter, id, ext, *perms)?;
                    if let Some(t) = token {
                        tokens.push((ext.clone(), t));
                    }
                }
                Ok(tokens)
            },
        )
    }

    /// Removes participants on the app server's behalf, as
    /// [`Platform::kick`] does for one: every token issued to them before
    /// now stops admitting them; only a new invitation brings them back.
    ///
    /// Refused, changing nothing: an unknown or destroyed conference, the
    /// owner ([`PlatformError::OwnerNotKickable`]), someone who is not a
    /// participant, one whose status cannot be kicked (already KICKED),
    /// anyone listed twice, or more than [`MAX_INVITEES_PER_REQUEST`].
    pub fn app_kick(&self, id: ConferenceId, who: &[ExternalId]) -> Result<()> {
        check_request_len(who.len())?;
        self.run(|st, out, now| {
            let conf = st.conference(id)?;
            let mut seen = HashSet::with_capacity(who.len());
            for ext in who {
                if !seen.insert(ext) {
                    return Err(PlatformError::InvalidInput(format!(
                        "{ext} is listed twice"
                    )));
                }
                if conf.is_owner(ext) {
                    return Err(PlatformError::OwnerNotKickable);
                }
                let p = conf
                    .find(ext)
                    .ok_or_else(|| PlatformError::ParticipantNotFound(ext.clone()))?;
                p.status.apply(LifecycleEvent::Kick)?;
            }
            for ext in who {
                st.kick_inner(id, ext, now, out)?;
            }
            Ok(())
        })
    }

    /// Fresh tokens, with their current permissions, for participants of a
    /// protected conference (the app server's call, e.g. for a user whose
    /// token expired while the conference lives on; the owner included).
    /// Refused, changing nothing, for a KICKED participant (only a new
    /// invitation brings them back), a participant listed twice or unknown,
    /// more than [`MAX_INVITEES_PER_REQUEST`] participants, or an unprotected
    /// conference. A participant connected now also gets `tokenRefreshed`.
    pub fn fresh_tokens(
        &self,
        id: ConferenceId,
        who: &[ExternalId],
    ) -> Result<Vec<(ExternalId, String)>> {
        self.run_signed(
            |st, _, _| {
                let conf = st.conference(id)?;
                let requests = check_fresh(conf, who)?
                    .into_iter()
                    .filter_map(|i| conf.get(i))
                    .map(|p| TokenRequest::new(conf, p.info.external_id(), p.permissions))
                    .collect();
                Ok(requests)
            },
            |st, out, now, minter| {
                let indices = check_fresh(st.conference(id)?, who)?;
                Ok(who
                    .iter()
                    .zip(indices)
                    .filter_map(|(w, idx)| {
                        let token = self.issue_fresh(st, minter, id, idx, now, out)?;
                        Some((w.clone(), token))
                    })
                    .collect())
            },
        )
    }

    /// Ends a conference on the app server's behalf, as its owner would
    /// ([`Platform::terminate`]): everyone is told and it is destroyed.
    /// Refused for an unknown or already destroyed conference.
    pub fn app_terminate(&self, id: ConferenceId) -> Result<()> {
        self.run(|st, out, now| {
            st.conference(id)?;
            st.destroy(id, EndReason::Terminated, now, out);
            Ok(())
        })
    }
}

/// The indices of `who` in `conf`, if every one of them may get a fresh token.
fn check_fresh(conf: &Conference, who: &[ExternalId]) -> Result<Vec<usize>> {
    if !conf.options.protected {
        return Err(PlatformError::InvalidInput(format!(
            "conference {} is not protected: joining needs no token",
            conf.id
        )));
    }
    check_request_len(who.len())?;
    let mut seen = HashSet::with_capacity(who.len());
    who.iter()
        .map(|w| {
            if !seen.insert(w) {
                return Err(PlatformError::InvalidInput(format!("{w} is listed twice")));
            }
            let idx = conf
                .index_of(w)
                .ok_or_else(|| PlatformError::ParticipantNotFound(w.clone()))?;
            if conf
                .get(idx)
                .is_some_and(|p| p.status == ParticipantStatus::Kicked)
            {
                return Err(PlatformError::ParticipantKicked(w.clone()));
            }
            Ok(idx)
        })
        .collect()
}
