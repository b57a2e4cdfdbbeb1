//! The platform with a store: a failed commit leaves no trace (state, queues,
//! replies), the store's image replayed from the commits always equals the
//! live state, and a platform restarted on the store holds what the old one
//! held and behaves the same.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::*;
use confkit::platform::{ConferenceOptions, Invitee, PlatformConfig};
use confkit::store::{Commit, Image, MemoryStore, Store, StoreError};
use confkit::{
    Alias, ConferenceId, ErrorCode, ExternalId, LifecycleEvent, ManualClock, ParticipantStatus,
    Permission, PermissionSet, Platform, PlatformError, SessionId,
};
use proptest::prelude::*;

/// A memory store whose commits fail while `fail` is set.
#[derive(Clone, Default)]
struct Flaky {
    inner: MemoryStore,
    fail: Arc<AtomicBool>,
    attempts: Arc<std::sync::atomic::AtomicUsize>,
}

impl Store for Flaky {
    fn load(&mut self) -> Result<Image, StoreError> {
        self.inner.load()
    }
    fn commit(&mut self, commit: &Commit) -> Result<(), StoreError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        if self.fail.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("injected failure".into()));
        }
        self.inner.commit(commit)
    }
}

fn on_store(store: impl Store + 'static, clock: &ManualClock, config: PlatformConfig) -> Platform {
    Platform::with_store(
        signing_key(),
        Arc::new(clock.clone()),
        config,
        Box::new(store),
    )
    .unwrap()
}

fn refresh_config() -> PlatformConfig {
    PlatformConfig {
        session_idle_secs: 30,
        ..PlatformConfig::default()
    }
}

/// Runs `op` once with every commit failing: it must be refused with
/// STORE_UNAVAILABLE (or not need a commit at all, then it may pass) and
/// leave the platform exactly as it was; then runs it again for real.
fn step<T>(
    p: &Platform,
    store: &Flaky,
    what: &str,
    op: impl Fn() -> Result<T, PlatformError>,
) -> Result<T, PlatformError> {
    let before = p.debug_fingerprint();
    let image_before = store.inner.image();
    let attempts = store.attempts.load(Ordering::SeqCst);
    store.fail.store(true, Ordering::SeqCst);
    let failed = op();
    store.fail.store(false, Ordering::SeqCst);
    if failed.is_ok() && store.attempts.load(Ordering::SeqCst) == attempts {
        // Nothing durable to commit: the operation stands as it is.
        return failed;
    }
    match &failed {
        Err(e) if e.code() == ErrorCode::StoreUnavailable => {
            assert_eq!(
                p.debug_fingerprint(),
                before,
                "{what}: a failed commit changed the platform"
            );
            assert_eq!(
                store.inner.image(),
                image_before,
                "{what}: the store changed"
            );
        }
        Err(e) => panic!("{what}: with a failing store, refused with {e} instead"),
        Ok(_) => panic!("{what}: acknowledged although its commit failed"),
    }
    let done = op();
    assert_eq!(
        p.durable_image(),
        stored(&store.inner, p.now()),
        "{what}: the store's image differs from the live state"
    );
    done
}

/// What the store holds, less what the platform has forgotten by `now`
/// (the store drops it at its next compaction).
fn stored(store: &MemoryStore, now: u64) -> Image {
    let mut image = store.image();
    image.prune(now);
    image
}

fn opts(protected: bool) -> ConferenceOptions {
    ConferenceOptions {
        protected,
        ..ConferenceOptions::default()
    }
}

#[test]
fn every_operation_whose_commit_fails_leaves_no_trace() {
    let clock = ManualClock::new(START);
    let store = Flaky::default();
    let p = on_store(store.clone(), &clock, refresh_config());
    let alice = open(&p, "alice", "Alice");
    let bob = open(&p, "bob", "Bob");
    let carol = open(&p, "carol", "Carol");

    let made = step(&p, &store, "create", || {
        p.create_conference(alice, "room", opts(true))
    })
    .unwrap();
    let room = made.conference.id;
    let owner_token = made.owner_token.unwrap();
    step(&p, &store, "join", || {
        p.join(alice, room, Some(&owner_token))
    })
    .unwrap();
    step(&p, &store, "report", || {
        p.report(alice, room, LifecycleEvent::Connected)
    })
    .unwrap();
    step(&p, &store, "invite", || {
        p.invite(
            alice,
            room,
            &[
                Invitee::new(eid("bob"), None),
                Invitee::new(eid("carol"), Some(PermissionSet::DEFAULT_INVITEE)),
            ],
        )
    })
    .unwrap();
    let bob_token = invitation_token(&p, bob);
    drain(&p, carol);
    step(&p, &store, "join bob", || {
        p.join(bob, room, Some(&bob_token))
    })
    .unwrap();
    step(&p, &store, "update permissions", || {
        p.update_permissions(
            alice,
            room,
            &eid("bob"),
            PermissionSet::DEFAULT_INVITEE.with(Permission::Kick),
        )
    })
    .unwrap();
    step(&p, &store, "decline", || p.decline(carol, room)).unwrap();
    step(&p, &store, "app invite", || {
        p.app_invite(room, &[Invitee::new(eid("dave"), None)])
    })
    .unwrap();
    step(&p, &store, "fresh tokens", || {
        p.fresh_tokens(room, &[eid("dave")])
    })
    .unwrap();
    step(&p, &store, "kick", || p.kick(alice, room, &eid("dave"))).unwrap();
    step(&p, &store, "revoke token", || p.revoke_token("leaked-id")).unwrap();
    step(&p, &store, "leave", || p.leave(bob, room)).unwrap();
    step(&p, &store, "close session", || p.close_session(bob)).unwrap();

    // The sweep commits too: a token refresh, an idle session's close, an
    // expired conference. While it cannot commit, every operation is refused.
    clock.advance(3 * 60 * 60 - 4 * 60); // alice's token refresh is due
    step(&p, &store, "sweep: refresh", || p.try_expire_conferences()).unwrap();
    let refreshed = drain(&p, alice);
    assert!(
        refreshed
            .iter()
            .any(|e| matches!(&*e.kind, confkit::event::EventKind::TokenRefreshed { .. })),
        "the refresh went out once its commit succeeded"
    );
    let short = ConferenceOptions {
        empty_ttl_secs: Some(20),
        ..opts(false)
    };
    let other = step(&p, &store, "app create", || {
        p.app_create(&eid("erin"), Alias::new("other").unwrap(), short, &[])
    })
    .unwrap()
    .created
    .conference
    .id;
    p.heard_from(carol).unwrap();
    clock.advance(31); // carol's session is idle; "other" has expired
    step(&p, &store, "sweep: idle close + expiry", || {
        p.try_expire_conferences()
    })
    .unwrap();
    assert!(
        p.session_info(carol).is_err(),
        "carol's idle session closed"
    );
    assert_eq!(
        p.conference(other).unwrap_err().code(),
        ErrorCode::ConferenceNotFound
    );
    step(&p, &store, "terminate", || p.terminate(alice, room)).unwrap();
}

/// Regression (found by the store_recovery fuzz target): the sweep forgot
/// expired revocations before its commit, so a sweep whose commit failed
/// still changed the platform.
#[test]
fn a_sweep_whose_commit_fails_forgets_nothing() {
    let clock = ManualClock::new(START);
    let store = Flaky::default();
    let p = on_store(store.clone(), &clock, PlatformConfig::default());
    let alice = open(&p, "alice", "Alice");
    let _ = p.create_conference(alice, "room", opts(false)).unwrap();
    p.revoke_token("old-token").unwrap();
    assert_eq!(p.retained().revoked_token_ids, 1);
    // Past the revocation's deadline, and past the empty room's lifetime:
    // the sweep has a conference to destroy (a commit) and an id to forget.
    clock.advance(4 * 60 * 60);
    let before = p.debug_fingerprint();
    store.fail.store(true, Ordering::SeqCst);
    assert_eq!(
        p.try_expire_conferences().unwrap_err().code(),
        ErrorCode::StoreUnavailable
    );
    store.fail.store(false, Ordering::SeqCst);
    assert_eq!(
        p.debug_fingerprint(),
        before,
        "the failed sweep changed the platform"
    );
    assert_eq!(p.retained().revoked_token_ids, 1);
    assert_eq!(p.try_expire_conferences().unwrap(), 1);
    assert_eq!(
        p.retained().revoked_token_ids,
        0,
        "forgotten once the sweep stood"
    );
}

#[test]
fn refused_operations_commit_nothing() {
    let clock = ManualClock::new(START);
    let store = MemoryStore::new();
    let p = on_store(store.clone(), &clock, PlatformConfig::default());
    let alice = open(&p, "alice", "Alice");
    let room = p
        .create_conference(alice, "room", opts(false))
        .unwrap()
        .conference
        .id;
    let commits = store.commits();
    let before = p.debug_fingerprint();
    assert!(p.leave(alice, room).is_err(), "not joined");
    assert!(p.kick(alice, room, &eid("nobody")).is_err());
    assert!(p.terminate(alice, ConferenceId::random()).is_err());
    assert!(p.conference(room).is_ok());
    assert_eq!(
        store.commits(),
        commits,
        "a refused or read-only operation committed"
    );
    assert_eq!(p.debug_fingerprint(), before);
}

#[test]
fn a_restarted_platform_holds_what_the_old_one_acknowledged() {
    let clock = ManualClock::new(START);
    let store = MemoryStore::new();
    let p = on_store(store.clone(), &clock, PlatformConfig::default());
    let alice = open(&p, "alice", "Alice");
    let bob = open(&p, "bob", "Bob");
    let made = p.create_conference(alice, "room", opts(true)).unwrap();
    let room = made.conference.id;
    p.join(alice, room, made.owner_token.as_deref()).unwrap();
    let invited = p
        .app_invite(
            room,
            &[
                Invitee::new(eid("bob"), None),
                Invitee::new(eid("carol"), None),
            ],
        )
        .unwrap();
    let bob_token = invited[0].token.clone().unwrap();
    let carol_token = invited[1].token.clone().unwrap();
    p.join(bob, room, Some(&bob_token)).unwrap();
    p.kick(alice, room, &eid("bob")).unwrap();
    let carol_jti = verify(&p, &carol_token, room).unwrap().token_id.to_string();
    p.revoke_token(&carol_jti).unwrap();
    let image = p.durable_image();
    drop(p);

    let p = on_store(store.clone(), &clock, PlatformConfig::default());
    assert!(
        p.session_info(alice).is_err(),
        "no session survives a restart, and old ids name none"
    );
    let info = p.conference_by_alias("ROOM").unwrap();
    assert_eq!(info.id, room);
    let statuses: Vec<(String, ParticipantStatus)> = p
        .participants(room)
        .unwrap()
        .into_iter()
        .map(|v| (v.external_id.to_string(), v.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("alice".into(), ParticipantStatus::Left),
            ("bob".into(), ParticipantStatus::Kicked),
            ("carol".into(), ParticipantStatus::Reserved),
        ],
        "alice was connected: she left with the restart"
    );
    let again = p.durable_image();
    for (jti, at) in &image.revoked_tokens {
        assert_eq!(
            again.revoked_tokens.get(jti),
            Some(at),
            "revocation {jti} kept"
        );
    }
    assert_eq!(again.revoked_subjects, image.revoked_subjects);
    let bob = open(&p, "bob", "Bob");
    assert_eq!(
        p.join(bob, room, Some(&bob_token)).unwrap_err().code(),
        ErrorCode::TokenRevoked,
        "a kicked participant's token still fails"
    );
    let carol = open(&p, "carol", "Carol");
    assert_eq!(
        p.join(carol, room, Some(&carol_token)).unwrap_err().code(),
        ErrorCode::TokenRevoked,
        "a revoked token still fails"
    );
    // The owner gets back in with the owner token; the epoch moved on.
    let alice2 = open(&p, "alice", "Alice");
    assert_ne!(alice2.0 >> 32, alice.0 >> 32);
    p.join(alice2, room, made.owner_token.as_deref()).unwrap();
    assert_eq!(p.durable_image(), stored(&store, p.now()));
}

/// One random operation of the replay property.
#[derive(Debug, Clone)]
enum Op {
    Create {
        user: usize,
        conf: usize,
        protected: bool,
    },
    Join {
        user: usize,
        conf: usize,
        listen: bool,
    },
    Report {
        user: usize,
        conf: usize,
    },
    Leave {
        user: usize,
        conf: usize,
    },
    Invite {
        user: usize,
        conf: usize,
        whom: usize,
        kick: bool,
    },
    AppInvite {
        conf: usize,
        whom: usize,
    },
    Kick {
        user: usize,
        conf: usize,
        whom: usize,
    },
    Update {
        user: usize,
        conf: usize,
        whom: usize,
        bits: u32,
    },
    Decline {
        user: usize,
        conf: usize,
    },
    Terminate {
        user: usize,
        conf: usize,
    },
    Reopen {
        user: usize,
    },
    Revoke {
        user: usize,
        conf: usize,
    },
    Advance {
        secs: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let u = 0..4usize;
    let c = 0..3usize;
    prop_oneof![
        (u.clone(), c.clone(), any::<bool>()).prop_map(|(user, conf, protected)| Op::Create {
            user,
            conf,
            protected
        }),
        (u.clone(), c.clone(), any::<bool>()).prop_map(|(user, conf, listen)| Op::Join {
            user,
            conf,
            listen
        }),
        (u.clone(), c.clone()).prop_map(|(user, conf)| Op::Report { user, conf }),
        (u.clone(), c.clone()).prop_map(|(user, conf)| Op::Leave { user, conf }),
        (u.clone(), c.clone(), u.clone(), any::<bool>()).prop_map(|(user, conf, whom, kick)| {
            Op::Invite {
                user,
                conf,
                whom,
                kick,
            }
        }),
        (c.clone(), u.clone()).prop_map(|(conf, whom)| Op::AppInvite { conf, whom }),
        (u.clone(), c.clone(), u.clone()).prop_map(|(user, conf, whom)| Op::Kick {
            user,
            conf,
            whom
        }),
        (u.clone(), c.clone(), u.clone(), 0..0x1000u32).prop_map(|(user, conf, whom, bits)| {
            Op::Update {
                user,
                conf,
                whom,
                bits,
            }
        }),
        (u.clone(), c.clone()).prop_map(|(user, conf)| Op::Decline { user, conf }),
        (u.clone(), c.clone()).prop_map(|(user, conf)| Op::Terminate { user, conf }),
        u.clone().prop_map(|user| Op::Reopen { user }),
        (u.clone(), c.clone()).prop_map(|(user, conf)| Op::Revoke { user, conf }),
        (1..4000u64).prop_map(|secs| Op::Advance { secs }),
    ]
}

const USERS: [&str; 4] = ["u0", "u1", "u2", "u3"];

/// A platform under test with one session per user and the tokens each user
/// was handed.
struct World {
    p: Platform,
    clock: ManualClock,
    sessions: Vec<SessionId>,
    tokens: Vec<Vec<String>>,
}

impl World {
    fn conf(&self, i: usize) -> Option<ConferenceId> {
        self.p
            .conference_by_alias(&format!("c{i}"))
            .ok()
            .map(|c| c.id)
    }

    fn collect_tokens(&mut self) {
        for (u, sid) in self.sessions.iter().enumerate() {
            for e in self.p.drain_events(*sid).unwrap_or_default() {
                use confkit::event::EventKind as K;
                let t = match &*e.kind {
                    K::InvitationReceived { token, .. } => token.clone(),
                    K::PermissionsUpdated { token, .. } => token.clone(),
                    K::TokenRefreshed { token, .. } => Some(token.clone()),
                    _ => None,
                };
                self.tokens[u].extend(t);
            }
        }
    }

    fn token(&self, user: usize) -> Option<&str> {
        self.tokens[user].last().map(String::as_str)
    }

    /// Runs one operation; refusals are part of the game.
    fn run(&mut self, op: &Op) {
        let p = &self.p;
        let s = |u: usize| self.sessions[u];
        let id = |c| self.conf(c);
        let who = |u: usize| ExternalId::new(USERS[u]).unwrap();
        match *op {
            Op::Create {
                user,
                conf,
                protected,
            } => {
                if let Ok(c) = p.create_conference(s(user), &format!("c{conf}"), opts(protected)) {
                    self.tokens[user].extend(c.owner_token);
                }
            }
            Op::Join { user, conf, listen } => {
                if let Some(c) = id(conf) {
                    let t = self.token(user);
                    let _ = if listen {
                        p.listen(s(user), c, t)
                    } else {
                        p.join(s(user), c, t)
                    };
                }
            }
            Op::Report { user, conf } => {
                if let Some(c) = id(conf) {
                    let _ = p.report(s(user), c, LifecycleEvent::Connected);
                }
            }
            Op::Leave { user, conf } => {
                if let Some(c) = id(conf) {
                    let _ = p.leave(s(user), c);
                }
            }
            Op::Invite {
                user,
                conf,
                whom,
                kick,
            } => {
                if let Some(c) = id(conf) {
                    let perms = kick.then(|| PermissionSet::DEFAULT_INVITEE.with(Permission::Kick));
                    let _ = p.invite(s(user), c, &[Invitee::new(who(whom), perms)]);
                }
            }
            Op::AppInvite { conf, whom } => {
                if let Some(c) = id(conf) {
                    if let Ok(done) = p.app_invite(c, &[Invitee::new(who(whom), None)]) {
                        self.tokens[whom].extend(done.into_iter().filter_map(|d| d.token));
                    }
                }
            }
            Op::Kick { user, conf, whom } => {
                if let Some(c) = id(conf) {
                    let _ = p.kick(s(user), c, &who(whom));
                }
            }
            Op::Update {
                user,
                conf,
                whom,
                bits,
            } => {
                if let (Some(c), Ok(set)) = (id(conf), PermissionSet::from_bits(bits)) {
                    let _ = p.update_permissions(s(user), c, &who(whom), set);
                }
            }
            Op::Decline { user, conf } => {
                if let Some(c) = id(conf) {
                    let _ = p.decline(s(user), c);
                }
            }
            Op::Terminate { user, conf } => {
                if let Some(c) = id(conf) {
                    let _ = p.terminate(s(user), c);
                }
            }
            Op::Reopen { user } => {
                let _ = p.close_session(s(user));
                self.sessions[user] = open(p, USERS[user], USERS[user]);
            }
            Op::Revoke { user, conf } => {
                if let (Some(t), Some(c)) = (self.token(user), id(conf)) {
                    if let Ok(claims) = verify(p, t, c) {
                        let _ = p.revoke_token(&claims.token_id);
                    }
                }
            }
            Op::Advance { secs } => {
                self.clock.advance(secs);
                let _ = p.try_expire_conferences();
            }
        }
        self.collect_tokens();
    }
}

/// An image with what differs between two runs of the same operations
/// (random token ids, the session epoch) left out.
fn shape(image: &Image) -> Image {
    let mut image = image.clone();
    image.session_epoch = 0;
    let n = image.revoked_tokens.len();
    image.revoked_tokens = (0..n).map(|i| (Arc::from(i.to_string()), 0)).collect();
    for c in image.conferences.values_mut() {
        for p in c.participants.values_mut() {
            for t in &mut p.tokens {
                t.jti = Arc::from("");
            }
        }
    }
    image
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("CONFKIT_REPLAY_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        ..ProptestConfig::default()
    })]

    /// After every operation the store's image, built only by applying the
    /// commits, equals the live state; a platform restarted on the store
    /// (with every session closed first) holds the same state field by
    /// field, and answers the next operation as the old one does.
    #[test]
    fn replay_equals_live(ops in proptest::collection::vec(op(), 1..60), next in op()) {
        let clock = ManualClock::new(START);
        let store = MemoryStore::new();
        let p = on_store(store.clone(), &clock, PlatformConfig::default());
        let sessions = USERS.iter().map(|u| open(&p, u, u)).collect();
        let mut world = World { p, clock: clock.clone(), sessions, tokens: vec![Vec::new(); USERS.len()] };
        for op in &ops {
            world.run(op);
            prop_assert_eq!(world.p.durable_image(), stored(&store, clock.now()), "after {:?}", op);
        }
        for s in world.sessions.clone() {
            world.p.close_session(s).unwrap();
        }
        let before = world.p.durable_image();
        prop_assert_eq!(&before, &stored(&store, clock.now()));

        // The old platform goes on on its own store, the new one on a copy.
        let copy = MemoryStore::new();
        copy.clone().compact(&before).unwrap();
        let restarted = on_store(copy.clone(), &clock, PlatformConfig::default());
        let mut after = restarted.durable_image();
        prop_assert_eq!(after.session_epoch, before.session_epoch.wrapping_add(1).max(1));
        after.session_epoch = before.session_epoch;
        prop_assert_eq!(&after, &before, "the restarted platform differs");

        let sessions = USERS.iter().map(|u| open(&world.p, u, u)).collect();
        let mut old = World { p: world.p, clock: clock.clone(), sessions, tokens: world.tokens.clone() };
        let sessions = USERS.iter().map(|u| open(&restarted, u, u)).collect();
        let mut new = World { p: restarted, clock: clock.clone(), sessions, tokens: world.tokens };
        // The clock is shared: only one of the two may advance it.
        // (and a new conference's id is random).
        let next = match next {
            Op::Advance { .. } => Op::Report { user: 0, conf: 0 },
            Op::Create { user, conf, .. } => Op::Join { user, conf, listen: false },
            other => other,
        };
        old.run(&next);
        new.run(&next);
        prop_assert_eq!(shape(&old.p.durable_image()), shape(&new.p.durable_image()), "after {:?}", next);
        prop_assert_eq!(new.p.durable_image(), stored(&copy, clock.now()));
    }
}

/// The adapters report a failed commit with the new stable error: REST 503
/// `STORE_UNAVAILABLE`, a wire error reply with code 20; nothing was done.
#[test]
fn rest_and_the_wire_answer_store_unavailable() {
    let clock = ManualClock::new(START);
    let store = Flaky::default();
    let p = on_store(store.clone(), &clock, PlatformConfig::default());
    let alice = open(&p, "alice", "Alice");
    store.fail.store(true, Ordering::SeqCst);
    let answer = rest(
        &p,
        "POST",
        "/v2/conferences/create",
        r#"{"ownerExternalId":"alice","alias":"team-sync"}"#,
    );
    assert_rest_error(&answer, 503, ErrorCode::StoreUnavailable);
    let reply = p.handle_message(
        alice,
        br#"{"v":1,"id":"r1","type":"create","alias":"team-sync","protected":false}"#,
    );
    let reply: serde_json::Value = serde_json::from_slice(&reply).unwrap();
    assert_eq!(reply["error"]["error_code"], 20, "{reply}");
    assert_eq!(reply["error"]["error_reason"], "STORE_UNAVAILABLE");
    store.fail.store(false, Ordering::SeqCst);
    assert!(
        p.conference_by_alias("team-sync").is_err(),
        "nothing was created"
    );
    assert_eq!(
        store.inner.commits(),
        1,
        "only the start's epoch was committed"
    );
}
