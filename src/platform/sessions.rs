//! Sessions: open, close, the event queue and the wake-up listener.

use super::*;

impl Platform {
    /// Opens a session for a user. A user may have several (phone and laptop);
    /// each receives every notification addressed to the user.
    pub fn open_session(&self, info: ParticipantInfo) -> SessionId {
        let mut st = self.state.lock();
        st.next_session += 1;
        let sid = SessionId(st.session_epoch | (st.next_session & 0xffff_ffff));
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
                replies: VecDeque::new(),
                sent: VecDeque::new(),
                retention: self.config.event_retention,
                last_heard: None,
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

    /// Notes that a message from the session's device arrived: from now on
    /// the session is closed after [`PlatformConfig::session_idle_secs`]
    /// without another one. The wire's server side calls it for every message.
    pub fn heard_from(&self, sid: SessionId) -> Result<()> {
        let now = self.monotonic_now();
        let idle = self.config.session_idle_secs;
        let mut st = self.state.lock();
        let session = st.session_mut(sid)?;
        if idle == 0 {
            return Ok(());
        }
        let before = session.last_heard.replace(now);
        if before != Some(now) {
            if let Some(t) = before {
                st.idle.remove(&(t.saturating_add(idle), sid));
            }
            st.idle.insert((now.saturating_add(idle), sid));
        }
        Ok(())
    }

    /// Checks that a session exists and was opened for `user`: what a host
    /// does before letting a reconnecting device resume it (then `resync`).
    pub fn resume_session(&self, sid: SessionId, user: &ExternalId) -> Result<()> {
        let st = self.state.lock();
        match st.session(sid) {
            Ok(s) if s.info.external_id() == user => Ok(()),
            // Someone else's session looks like no session at all.
            _ => Err(PlatformError::SessionNotFound(sid)),
        }
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
        let session = st.session_mut(sid)?;
        let event = session.queue.pop_front();
        session.retain_sent(event.iter().cloned());
        Ok(event)
    }

    /// Takes every queued event of a session, oldest first.
    pub fn drain_events(&self, sid: SessionId) -> Result<Vec<Event>> {
        let mut st = self.state.lock();
        let session = st.session_mut(sid)?;
        let events: Vec<Event> = session.queue.drain(..).collect();
        session.retain_sent(events.iter().cloned());
        Ok(events)
    }

    /// How many events wait in a session's queue.
    pub fn pending_events(&self, sid: SessionId) -> Result<usize> {
        Ok(self.state.lock().session(sid)?.queue.len())
    }

    /// Runs `f` at most once per request id of a session and remembers its
    /// reply (opaque bytes): a repeat of one of the session's last `remember`
    /// ids gets the first reply without running again, and a repeat that
    /// arrives while the first still runs is refused. What an adapter uses to
    /// make retransmissions harmless.
    pub fn run_once(
        &self,
        sid: SessionId,
        request_id: &str,
        remember: usize,
        f: impl FnOnce() -> Vec<u8>,
    ) -> Result<Arc<[u8]>> {
        let hash = id_hash(request_id);
        {
            let mut st = self.state.lock();
            let session = st.session_mut(sid)?;
            match session
                .replies
                .iter()
                .find(|r| r.hash == hash && &*r.id == request_id)
            {
                Some(RememberedReply {
                    reply: Some(reply), ..
                }) => return Ok(Arc::clone(reply)),
                Some(_) => {
                    return Err(PlatformError::InvalidInput(format!(
                        "request {request_id:?} is still running"
                    )))
                }
                None => {}
            }
            session.replies.push_back(RememberedReply {
                hash,
                id: request_id.into(),
                reply: None,
            });
            while session.replies.len() > remember.max(1) {
                // Forget the oldest finished reply (a running one stays).
                match session.replies.iter().position(|r| r.reply.is_some()) {
                    Some(i) => {
                        session.replies.remove(i);
                    }
                    None => break,
                }
            }
        }
        let reply: Arc<[u8]> = f().into();
        let mut st = self.state.lock();
        // The session may have been closed meanwhile: the reply still goes out.
        if let Ok(session) = st.session_mut(sid) {
            if let Some(slot) = session
                .replies
                .iter_mut()
                .find(|r| r.hash == hash && &*r.id == request_id && r.reply.is_none())
            {
                slot.reply = Some(Arc::clone(&reply));
            }
        }
        Ok(reply)
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

/// FNV-1a: a cheap hash of a request id (at most 64 bytes), so that finding
/// it among a session's remembered replies compares numbers first.
fn id_hash(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
