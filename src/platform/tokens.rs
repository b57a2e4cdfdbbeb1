//! Fresh tokens: the refresh sent to connected participants before their token
//! expires, and the fresh token the app server asks for.

use super::*;

impl Platform {
    /// Sends every connected participant whose token refresh is due a fresh
    /// token (`tokenRefreshed`). Entries that no longer match the
    /// participant's newest token, or whose participant left, are dropped.
    pub(super) fn refresh_due(&self, st: &mut State, now: u64, out: &mut Outbox) {
        while st.refresh.first().is_some_and(|(at, _, _)| *at <= now) {
            let Some((at, id, who)) = st.refresh.pop_first() else {
                break;
            };
            let Some(conf) = st.conferences.get(&id) else {
                continue;
            };
            let Some(idx) = conf.index_of(&who) else {
                continue;
            };
            let due = conf
                .get(idx)
                .filter(|p| p.session.is_some())
                .and_then(|p| st.refresh_time(conf, p));
            if due == Some(at) {
                self.issue_fresh(st, &mut Minter::default(), id, idx, now, out);
            }
        }
    }

    /// Issues participant `idx` a fresh token with their current permissions,
    /// records it (their earlier tokens stay valid until they expire: they
    /// carry the same permissions) and sends it to their connected session.
    pub(super) fn issue_fresh(
        &self,
        st: &mut State,
        minter: &mut Minter,
        id: ConferenceId,
        idx: usize,
        now: u64,
        out: &mut Outbox,
    ) -> Option<String> {
        let conf = st.conferences.get(&id)?;
        let p = conf.get(idx)?;
        let permissions = p.permissions;
        let (token, record) = self.mint(minter, conf, p.info.external_id(), permissions);
        let session = p.session;
        let expires_at = record.expires_at;
        st.record_token(id, idx, record, now);
        if let Some(s) = session {
            st.set_current_token(id, idx, &token);
            out.send(
                &[s],
                id,
                EventKind::TokenRefreshed {
                    token: token.clone(),
                    permissions,
                    expires_at,
                },
            );
        }
        Some(token)
    }

    /// Fresh tokens, with their current permissions, for participants of a
    /// protected conference (the app server's call, e.g. for a user whose
    /// token expired while the conference lives on). Refused, changing
    /// nothing, for a KICKED participant (only a new invitation brings them
    /// back), a participant listed twice or unknown, more than
    /// [`MAX_INVITEES_PER_REQUEST`] participants, or an unprotected
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
}

/// The indices of `who` in `conf`, if every one of them may get a fresh token.
fn check_fresh(conf: &Conference, who: &[ExternalId]) -> Result<Vec<usize>> {
    if !conf.options.protected {
        return Err(PlatformError::InvalidInput(format!(
            "conference {} is not protected: joining needs no token",
            conf.id
        )));
    }
    check_count(who.len())?;
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

/// Refuses a request that lists more than [`MAX_INVITEES_PER_REQUEST`] users.
pub(super) fn check_count(n: usize) -> Result<()> {
    if n > MAX_INVITEES_PER_REQUEST {
        return Err(PlatformError::InvalidInput(format!(
            "{n} participants in one request, more than {MAX_INVITEES_PER_REQUEST}: split it"
        )));
    }
    Ok(())
}
