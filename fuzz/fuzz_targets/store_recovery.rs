//! Durability under failures: a platform on a store runs a sequence of
//! operations; any commit may fail (the input says which), and the platform
//! may restart on the store at any point.
//!
//! Oracle:
//! - an operation whose commit failed is refused with STORE_UNAVAILABLE and
//!   leaves the platform exactly as it was (state, queues, replies);
//! - after every operation the store's image (built only from the commits)
//!   equals the live state;
//! - a platform restarted on the store (sessions closed first) holds the
//!   same state, and what it holds passes the invariants: participants
//!   numbered 0..n with no duplicate, every owner a participant, nobody in a
//!   conference after the restart.
#![no_main]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use arbitrary::Arbitrary;
use confkit::platform::{ConferenceOptions, Invitee, PlatformConfig};
use confkit::store::{Commit, Image, MemoryStore, Store, StoreError};
use confkit::{
    ConferenceId, LifecycleEvent, ManualClock, ParticipantInfo, PermissionSet, Platform,
    PlatformError, SessionId,
};
use confkit_fuzz::{eid, signing_key, START};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Op {
    Create {
        user: u8,
        conf: u8,
        protected: bool,
    },
    Join {
        user: u8,
        conf: u8,
        listen: bool,
    },
    Report {
        user: u8,
        conf: u8,
    },
    Leave {
        user: u8,
        conf: u8,
    },
    Invite {
        user: u8,
        conf: u8,
        whom: u8,
    },
    AppInvite {
        conf: u8,
        whom: u8,
    },
    Kick {
        user: u8,
        conf: u8,
        whom: u8,
    },
    Update {
        user: u8,
        conf: u8,
        whom: u8,
        bits: u16,
    },
    Terminate {
        user: u8,
        conf: u8,
    },
    Revoke {
        user: u8,
    },
    Close {
        user: u8,
    },
    Advance {
        secs: u16,
    },
    Restart,
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// Bit i set: the i-th commit attempt fails (attempts past 64 succeed).
    failures: u64,
    ops: Vec<Op>,
}

const USERS: usize = 4;

/// A shared memory store whose commit attempts fail as the input says.
#[derive(Clone)]
struct Flaky {
    inner: MemoryStore,
    failures: u64,
    attempts: Arc<AtomicU32>,
}

impl Store for Flaky {
    fn load(&mut self) -> Result<Image, StoreError> {
        self.inner.load()
    }
    fn commit(&mut self, commit: &Commit) -> Result<(), StoreError> {
        let n = self.attempts.fetch_add(1, Ordering::SeqCst);
        if n < 64 && self.failures & (1 << n) != 0 {
            return Err(StoreError::Unavailable("injected".into()));
        }
        self.inner.commit(commit)
    }
}

struct World {
    p: Platform,
    clock: ManualClock,
    store: Flaky,
    sessions: Vec<SessionId>,
    tokens: Vec<Option<(ConferenceId, String)>>,
}

fn open(p: &Platform, u: usize) -> SessionId {
    p.open_session(ParticipantInfo::anonymous(eid(&format!("u{u}"))))
}

fn stored(store: &MemoryStore, now: u64) -> Image {
    let mut image = store.image();
    image.prune(now);
    image
}

fn check_invariants(image: &Image, after_restart: bool) {
    for (id, c) in &image.conferences {
        let mut seen = std::collections::BTreeSet::new();
        for (i, (pos, p)) in c.participants.iter().enumerate() {
            assert_eq!(*pos as usize, i, "{id}: positions have a hole");
            assert!(seen.insert(p.info.external_id().clone()), "{id}: duplicate");
            if after_restart {
                assert!(
                    !p.status.is_in_conference(),
                    "{id}: present after a restart"
                );
            }
        }
        assert!(seen.contains(&c.record.owner), "{id}: no owner");
    }
}

impl World {
    fn conf(&self, i: u8) -> Option<ConferenceId> {
        self.p
            .conference_by_alias(&format!("c{}", i % 3))
            .ok()
            .map(|c| c.id)
    }

    fn run(&mut self, op: &Op) -> Result<(), PlatformError> {
        let u = |x: u8| usize::from(x) % USERS;
        let who = |x: u8| eid(&format!("u{}", usize::from(x) % USERS));
        let s = |x: u8| self.sessions[u(x)];
        let p = &self.p;
        match *op {
            Op::Create {
                user,
                conf,
                protected,
            } => {
                let options = ConferenceOptions {
                    protected,
                    ..ConferenceOptions::default()
                };
                let made = p.create_conference(s(user), &format!("c{}", conf % 3), options)?;
                if let Some(t) = made.owner_token {
                    self.tokens[u(user)] = Some((made.conference.id, t));
                }
            }
            Op::Join { user, conf, listen } => {
                let Some(c) = self.conf(conf) else {
                    return Ok(());
                };
                let t = self.tokens[u(user)]
                    .as_ref()
                    .filter(|(tc, _)| *tc == c)
                    .map(|(_, t)| t.as_str());
                if listen {
                    p.listen(s(user), c, t)?;
                } else {
                    p.join(s(user), c, t)?;
                }
            }
            Op::Report { user, conf } => {
                let Some(c) = self.conf(conf) else {
                    return Ok(());
                };
                p.report(s(user), c, LifecycleEvent::Connected)?;
            }
            Op::Leave { user, conf } => {
                let Some(c) = self.conf(conf) else {
                    return Ok(());
                };
                p.leave(s(user), c)?;
            }
            Op::Invite { user, conf, whom } => {
                let Some(c) = self.conf(conf) else {
                    return Ok(());
                };
                p.invite(s(user), c, &[Invitee::new(who(whom), None)])?;
            }
            Op::AppInvite { conf, whom } => {
                let Some(c) = self.conf(conf) else {
                    return Ok(());
                };
                let done = p.app_invite(c, &[Invitee::new(who(whom), None)])?;
                if let Some(t) = done.into_iter().find_map(|d| d.token) {
                    self.tokens[u(whom)] = Some((c, t));
                }
            }
            Op::Kick { user, conf, whom } => {
                let Some(c) = self.conf(conf) else {
                    return Ok(());
                };
                p.kick(s(user), c, &who(whom))?;
            }
            Op::Update {
                user,
                conf,
                whom,
                bits,
            } => {
                let Some(c) = self.conf(conf) else {
                    return Ok(());
                };
                let Ok(set) = PermissionSet::from_bits(u32::from(bits) & 0xfff) else {
                    return Ok(());
                };
                p.update_permissions(s(user), c, &who(whom), set)?;
            }
            Op::Terminate { user, conf } => {
                let Some(c) = self.conf(conf) else {
                    return Ok(());
                };
                p.terminate(s(user), c)?;
            }
            Op::Revoke { user } => {
                let Some((c, t)) = &self.tokens[u(user)] else {
                    return Ok(());
                };
                let ring = confkit::KeyRing::from_jwks(&p.jwks()).expect("jwks");
                if let Ok(claims) = ring.verify(t, &confkit::Validation::new(p.now(), *c)) {
                    p.revoke_token(&claims.token_id)?;
                }
            }
            Op::Close { user } => {
                p.close_session(s(user))?;
                self.sessions[u(user)] = open(p, u(user));
            }
            Op::Advance { secs } => {
                self.clock.advance(u64::from(secs));
                p.try_expire_conferences()?;
            }
            Op::Restart => self.restart(),
        }
        Ok(())
    }

    /// Closes every session, then starts a new platform on the same store.
    fn restart(&mut self) {
        for sid in self.sessions.clone() {
            // A close whose commit fails leaves the session open: the
            // restart closes it anyway (its participants leave on start).
            let _ = self.p.close_session(sid);
        }
        // The new platform's first sweep would expire what is overdue: let
        // the old one do it too, or skip the comparison if it cannot.
        let swept = self.p.try_expire_conferences().is_ok();
        let now = self.clock.now();
        let mut before = self.p.durable_image();
        before.prune(now);
        // The restart's own commits (epoch, leaves) may be made to fail: a
        // failed start is tried again, as a supervisor would (attempts past
        // the 64th always succeed).
        let p = loop {
            match Platform::with_store(
                signing_key(),
                Arc::new(self.clock.clone()),
                PlatformConfig::default(),
                Box::new(self.store.clone()),
            ) {
                Ok(p) => break p,
                Err(StoreError::Unavailable(_)) => continue,
                Err(e) => panic!("a store this platform wrote does not open: {e}"),
            }
        };
        let mut after = p.durable_image();
        after.prune(now);
        check_invariants(&after, true);
        // (A failed start may have committed its leaves: compare only when
        // nobody was in a conference.)
        if swept
            && before.conferences.values().all(|c| {
                c.participants
                    .values()
                    .all(|p| !p.status.is_in_conference())
            })
        {
            let mut same = after.clone();
            same.session_epoch = before.session_epoch;
            assert_eq!(same, before, "the restarted platform differs");
        }
        self.p = p;
        self.sessions = (0..USERS).map(|u| open(&self.p, u)).collect();
    }
}

fuzz_target!(|input: Input| {
    if input.ops.len() > 64 {
        return;
    }
    let clock = ManualClock::new(START);
    let store = Flaky {
        inner: MemoryStore::new(),
        failures: input.failures & !1, // the first start's epoch commit succeeds
        attempts: Arc::new(AtomicU32::new(0)),
    };
    let Ok(p) = Platform::with_store(
        signing_key(),
        Arc::new(clock.clone()),
        PlatformConfig::default(),
        Box::new(store.clone()),
    ) else {
        return;
    };
    let sessions = (0..USERS).map(|u| open(&p, u)).collect();
    let mut w = World {
        p,
        clock,
        store,
        sessions,
        tokens: vec![None; USERS],
    };
    for op in &input.ops {
        let restart = matches!(op, Op::Restart);
        // The sweep (expiries, refreshes) an operation runs first stands even
        // when the operation is refused: run it first, and compare only when
        // it committed (or had nothing to commit).
        let swept = w.p.try_expire_conferences().is_ok();
        let before = (!restart && swept).then(|| w.p.debug_fingerprint());
        let result = w.run(op);
        if let (Err(e), Some(before)) = (&result, before) {
            assert_eq!(
                w.p.debug_fingerprint(),
                before,
                "{op:?} refused ({e}) but changed the platform"
            );
        }
        let mut live = w.p.durable_image();
        live.prune(w.clock.now());
        assert_eq!(
            live,
            stored(&w.store.inner, w.clock.now()),
            "the store's image differs from the live state after {op:?}"
        );
        check_invariants(&w.p.durable_image(), false);
    }
});
