//! Snapshots of what a session may see, and resynchronisation after a device
//! lost messages: the missed events if the platform still holds them,
//! otherwise one snapshot.

use super::*;
use crate::snapshot::{ConferenceSnapshot, SessionSnapshot, SnapshotParticipant};

/// What a resynchronising session gets: never both, never nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resync {
    /// Every event after the sequence the device named, oldest first (maybe
    /// none); they are taken from the session's queue too.
    Events(Vec<Event>),
    /// The events are gone: the session's whole view, and the queue emptied
    /// (the snapshot includes everything in it).
    Snapshot(SessionSnapshot),
}

impl State {
    /// Conference `id` as session `sid` may see it, if the session is
    /// connected to it: everyone, or for a listener the users and itself.
    pub(super) fn conference_snapshot(
        &self,
        sid: SessionId,
        id: ConferenceId,
    ) -> Option<ConferenceSnapshot> {
        let conf = self.conferences.get(&id)?;
        let me = conf
            .participants()
            .iter()
            .position(|p| p.session == Some(sid))?;
        let mine = conf.get(me)?;
        let participants = conf
            .participants()
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                mine.kind == ParticipantType::User || *i == me || p.kind == ParticipantType::User
            })
            .map(|(_, p)| SnapshotParticipant {
                view: p.view(),
                revision: p.revision,
            })
            .collect();
        Some(ConferenceSnapshot {
            conference_id: id,
            alias: conf.alias.as_str().to_owned(),
            owner: conf.owner.clone(),
            is_protected: conf.options.protected,
            audio_only: conf.options.audio_only,
            participant_limit: conf.options.participant_limit,
            my_status: mine.status,
            my_type: mine.kind,
            my_permissions: mine.permissions,
            token: mine.current_token.as_deref().map(str::to_owned),
            participants,
        })
    }

    pub(super) fn session_snapshot(&self, sid: SessionId) -> Result<SessionSnapshot> {
        let session = self.session(sid)?;
        let mut ids: Vec<ConferenceId> = session.joined.iter().copied().collect();
        ids.sort_unstable();
        Ok(SessionSnapshot {
            as_of_sequence: session.next_sequence - 1,
            conferences: ids
                .into_iter()
                .filter_map(|id| self.conference_snapshot(sid, id))
                .collect(),
        })
    }
}

impl Platform {
    /// Everything session `sid` may see now, and the last sequence number of
    /// its events that this includes (taken under the lock that numbers them).
    pub fn snapshot(&self, sid: SessionId) -> Result<SessionSnapshot> {
        self.run(|st, _, _| st.session_snapshot(sid))
    }

    /// Brings a session whose device applied events up to `last_sequence`
    /// back in step: the events after it if the platform still holds all of
    /// them (the undelivered queue plus the last
    /// [`PlatformConfig::event_retention`] delivered), otherwise (or when
    /// `snapshot` asks for it) one snapshot.
    pub fn resync(&self, sid: SessionId, last_sequence: u64, snapshot: bool) -> Result<Resync> {
        self.run(|st, _, _| {
            let session = st.session_mut(sid)?;
            let first_held = session
                .sent
                .front()
                .or(session.queue.front())
                .map_or(session.next_sequence, |e| e.sequence);
            let lost_run = session.sent.iter().chain(session.queue.iter()).any(|e| {
                e.sequence > last_sequence && matches!(*e.kind, EventKind::EventsMissed { .. })
            });
            let future = last_sequence >= session.next_sequence;
            if !snapshot && first_held <= last_sequence + 1 && !lost_run && !future {
                let mut events: Vec<Event> = session
                    .sent
                    .iter()
                    .filter(|e| e.sequence > last_sequence)
                    .cloned()
                    .collect();
                let queued: Vec<Event> = session.queue.drain(..).collect();
                events.extend(
                    queued
                        .iter()
                        .filter(|e| e.sequence > last_sequence)
                        .cloned(),
                );
                session.retain_sent(queued);
                return Ok(Resync::Events(events));
            }
            let snapshot = st.session_snapshot(sid)?;
            let session = st.session_mut(sid)?;
            let queued: Vec<Event> = session.queue.drain(..).collect();
            session.retain_sent(queued);
            Ok(Resync::Snapshot(snapshot))
        })
    }
}
