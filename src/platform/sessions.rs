//! Sessions: open, close, the event queue and the wake-up listener.

use super::*;

impl Platform {
    /// Opens a session for a user. A user may have several (phone and laptop);
    /// each receives every notification addressed to the user.
    pub fn open_session(&self, info: ParticipantInfo) -> SessionId {
        let mut st = self.state.lock();
        st.next_session += 1;
        let sid = SessionId(st.next_session);
        st.by_user
            .entry(info.external_id().clone())
            .or_default()
            .push(sid);
        st.sessions.insert(
            sid,
            Session {
                info,
                queue: VecDeque::new(),
                next_sequence: 1,
                listener: None,
                joined: HashSet::new(),
            },
        );
        sid
    }

    /// Closes a session: it leaves every conference it is connected to (the
    /// others are told) and its queue is dropped. Closing twice is an error.
    pub fn close_session(&self, sid: SessionId) -> Result<()> {
        let removed = self.run(|st, out, now| {
            let joined: Vec<ConferenceId> = st.session(sid)?.joined.iter().copied().collect();
            for cid in joined {
                // The session is connected, so it is present: leaving is allowed.
                st.leave_inner(sid, cid, now, out)?;
            }
            Ok(st.remove_session(sid))
        })?;
        // The session's listener is released here, outside the lock.
        drop(removed);
        Ok(())
    }

    /// The session's user.
    pub fn session_info(&self, sid: SessionId) -> Result<ParticipantInfo> {
        Ok(self.state.lock().session(sid)?.info.clone())
    }

    /// Takes the next event from a session's queue. The queue holds at most
    /// [`PlatformConfig::max_queued_events`]; after an overflow its head is one
    /// `eventsMissed` standing for what was dropped.
    pub fn poll_event(&self, sid: SessionId) -> Result<Option<Event>> {
        let mut st = self.state.lock();
        Ok(st.session_mut(sid)?.queue.pop_front())
    }

    /// Takes every queued event of a session, oldest first.
    pub fn drain_events(&self, sid: SessionId) -> Result<Vec<Event>> {
        let mut st = self.state.lock();
        Ok(st.session_mut(sid)?.queue.drain(..).collect())
    }

    /// How many events wait in a session's queue.
    pub fn pending_events(&self, sid: SessionId) -> Result<usize> {
        Ok(self.state.lock().session(sid)?.queue.len())
    }

    /// Sets (or clears) the session's wake-up listener.
    pub fn set_listener(&self, sid: SessionId, listener: Option<Listener>) -> Result<()> {
        let old = {
            let mut st = self.state.lock();
            std::mem::replace(&mut st.session_mut(sid)?.listener, listener)
        };
        // The old listener (and whatever it owns) is released outside the lock.
        drop(old);
        Ok(())
    }
}
