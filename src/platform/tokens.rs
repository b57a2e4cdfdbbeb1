//! Fresh tokens: the refresh sent to connected participants before their token
//! expires (the app server's call for fresh tokens is in `app.rs`).

use super::*;

impl Platform {
    /// Sends every connected participant whose token refresh is due a fresh
    /// token (`tokenRefreshed`). Entries that no longer match the
    /// participant's newest token, or whose participant left, are dropped.
    pub(super) fn refresh_due(&self, st: &mut State, now: u64, out: &mut Outbox) {
        while st.refresh.first().is_some_and(|(at, _, _)| *at <= now) {
            let Some((at, id, who)) = st.pop_refresh() else {
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
}
