//! Concurrency stress: 8 threads share one `Platform` and run mixed
//! operations on it, SDK, wire and REST, with listeners that call back into
//! confkit, the clock moving (idle sessions swept, empty conferences
//! expiring), sessions closing and opening again.
//!
//! `CONFKIT_STRESS_OPS` (default 100,000 in all: about 10 s in a debug build
//! on a 2-core machine) sets the size; the longer run is
//! `CONFKIT_STRESS_OPS=1000000 CONFKIT_STRESS_WATCHDOG_SECS=900 cargo test
//! --test stress` (about 95 s there). A watchdog
//! (`CONFKIT_STRESS_WATCHDOG_SECS`, default 300) fails the test if the threads
//! have not finished by then (a deadlock). Device-side joins, listens and
//! leaves go through the wire (the Client's requests), as a phone's do: the
//! reply carries the roster the Client needs; the admin acts through the SDK
//! and the app server through REST.
//!
//! Checked while it runs and afterwards:
//! - every session's events come with sequence numbers that go up by one,
//!   with a hole only where an `eventsMissed` reports it (its first missed
//!   sequence is the next expected one, the next event follows it);
//! - no conference lists a participant twice;
//! - a token of a kicked participant, known before the kick, never admits
//!   anyone to that conference in a join that starts after the kick
//!   returned (and none of them admits at the end);
//! - every Client fed its session's messages (events and the replies to its
//!   wire requests) accepts them all and, after one resync, shows what the
//!   platform's snapshot of that session shows;
//! - listeners were called, and calling back into the platform from one
//!   did not deadlock.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use common::*;
use confkit::client::Client;
use confkit::event::ParticipantView;
use confkit::platform::{ConferenceOptions, Invitee, PlatformConfig};
use confkit::wire::message::{event_message, MediaState, Op};
use confkit::{
    ConferenceId, EventKind, ExternalId, KeyRing, LifecycleEvent, ManualClock, Permission,
    PermissionSet, Platform, PlatformError, SessionId,
};

const THREADS: usize = 8;
const USERS_PER_THREAD: usize = 2;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Shared {
    p: Platform,
    clock: ManualClock,
    ring: KeyRing,
    admin: SessionId,
    /// The long-lived conferences (the admin is ON_AIR in each): protected
    /// ones first.
    confs: Vec<ConferenceId>,
    /// Every token seen for (user, conference).
    tokens: Mutex<HashMap<(ExternalId, ConferenceId), Vec<String>>>,
    /// Tokens made useless by a kick, with the epoch the kick returned at.
    revoked: Mutex<Vec<(String, u64, ExternalId, ConferenceId)>>,
    revoked_set: Mutex<HashMap<String, u64>>,
    epoch: AtomicU64,
    violations: Mutex<Vec<String>>,
    listener_calls: AtomicU64,
    ops: AtomicUsize,
    /// What the run exercised (so a check that never ran shows).
    events: AtomicU64,
    missed: AtomicU64,
    revoked_refused: AtomicU64,
    swept: AtomicU64,
    ephemeral: Mutex<Vec<ConferenceId>>,
}

impl Shared {
    fn violation(&self, what: String) {
        let mut v = self.violations.lock().unwrap();
        if v.len() < 50 {
            v.push(what);
        }
    }

    fn latest_token(&self, user: &ExternalId, conf: ConferenceId, pick: u64) -> Option<String> {
        let tokens = self.tokens.lock().unwrap();
        let list = tokens.get(&(user.clone(), conf))?;
        // Mostly the newest; sometimes an older one (maybe revoked).
        let i = if pick % 4 == 0 {
            (pick as usize / 4) % list.len()
        } else {
            list.len() - 1
        };
        list.get(i).cloned()
    }

    fn remember_token(&self, user: &ExternalId, conf: ConferenceId, token: String) {
        let mut tokens = self.tokens.lock().unwrap();
        let list = tokens.entry((user.clone(), conf)).or_default();
        if list.len() < 32 {
            list.push(token);
        }
    }
}

/// One user's device: its session, the last sequence it saw, its Client.
struct Device {
    user: ExternalId,
    sid: SessionId,
    last: Option<u64>,
    client: Client,
}

fn open_device(s: &Shared, user: &ExternalId) -> Device {
    let sid = open(&s.p, user.as_str(), &user.as_str().to_uppercase());
    Device {
        user: user.clone(),
        sid,
        last: None,
        client: Client::new(user.clone(), s.ring.clone(), Arc::new(s.clock.clone())),
    }
}

/// A listener that calls back into the platform (a weak reference: the
/// platform owns its listeners).
fn listener(shared: &Arc<Shared>) -> confkit::platform::Listener {
    let weak: Weak<Shared> = Arc::downgrade(shared);
    Arc::new(move |sid: SessionId| {
        if let Some(s) = weak.upgrade() {
            s.listener_calls.fetch_add(1, Ordering::Relaxed);
            let _ = s.p.pending_events(sid);
            let _ = s.p.session_info(sid);
        }
    })
}

/// Takes the device's events: checks their sequence numbers, remembers
/// tokens, feeds the Client. A session swept away is opened again.
fn drain(s: &Arc<Shared>, d: &mut Device) {
    let events = match s.p.drain_events(d.sid) {
        Ok(e) => e,
        Err(PlatformError::SessionNotFound(_)) => {
            s.swept.fetch_add(1, Ordering::Relaxed);
            *d = open_device(s, &d.user);
            return;
        }
        Err(e) => {
            s.violation(format!("drain {}: {e}", d.user));
            return;
        }
    };
    for e in events {
        s.events.fetch_add(1, Ordering::Relaxed);
        if matches!(*e.kind, EventKind::EventsMissed { .. }) {
            s.missed.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(last) = d.last {
            let ok = match &*e.kind {
                EventKind::EventsMissed {
                    first_missed_sequence,
                    first_available_sequence,
                } => {
                    *first_missed_sequence == last + 1
                        && *first_available_sequence == e.sequence + 1
                        && e.sequence >= *first_missed_sequence
                }
                _ => e.sequence == last + 1,
            };
            if !ok {
                s.violation(format!(
                    "{} {}: sequence {} ({}) after {last}",
                    d.user,
                    d.sid,
                    e.sequence,
                    e.kind.type_name()
                ));
            }
        } else if e.sequence == 0 {
            s.violation(format!("{}: sequence 0", d.user));
        }
        d.last = Some(e.sequence);
        if let Some(conf) = e.conference_id {
            let token = match &*e.kind {
                EventKind::InvitationReceived { token, .. }
                | EventKind::PermissionsUpdated { token, .. } => token.clone(),
                EventKind::TokenRefreshed { token, .. } => Some(token.clone()),
                _ => None,
            };
            if let Some(t) = token {
                s.remember_token(&d.user, conf, t);
            }
        }
        if let Err(err) = d.client.receive(&event_message(&e)) {
            s.violation(format!("{}'s client refused event {e:?}: {err}", d.user));
        }
    }
}

/// Sends a wire request built by the device's Client and feeds it the reply.
fn wire(s: &Shared, d: &mut Device, op: Op) -> Vec<u8> {
    let out = d.client.request(op);
    let reply = s.p.handle_message(d.sid, &out.bytes);
    if let Err(err) = d.client.receive(&reply) {
        s.violation(format!(
            "{}'s client refused a reply: {err}: {}",
            d.user,
            String::from_utf8_lossy(&reply)
        ));
    }
    reply
}

fn random_perms(rng: &mut TestRng) -> PermissionSet {
    let mut set = PermissionSet::of(&[Permission::Join]);
    for p in Permission::ALL {
        if rng.below(3) == 0 {
            set = set.with(p);
        }
    }
    set
}

fn kick(s: &Shared, conf: ConferenceId, target: &ExternalId, rest: bool) {
    let before: Vec<String> = s
        .tokens
        .lock()
        .unwrap()
        .get(&(target.clone(), conf))
        .cloned()
        .unwrap_or_default();
    let ok = if rest {
        let (status, _) = rest_json(
            &s.p,
            "POST",
            &format!("/v2/conferences/{conf}/kick"),
            &serde_json::json!({ "externalIds": [target.as_str()] }),
        );
        status == 204
    } else {
        s.p.kick(s.admin, conf, target).is_ok()
    };
    if ok {
        let at = s.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        let mut revoked = s.revoked.lock().unwrap();
        let mut set = s.revoked_set.lock().unwrap();
        for t in before {
            set.entry(t.clone()).or_insert(at);
            revoked.push((t, at, target.clone(), conf));
        }
    }
}

/// A join (or listen) with a token: one known revoked before it started must
/// not admit.
fn enter(s: &Shared, d: &mut Device, conf: ConferenceId, token: Option<String>, listen: bool) {
    let started = s.epoch.load(Ordering::SeqCst);
    // Through the wire, as a device does: the reply carries the roster.
    let c = conf.to_string();
    let op = if listen {
        Op::Listen {
            conference_id: c,
            token: token.clone(),
        }
    } else {
        Op::Join {
            conference_id: c,
            token: token.clone(),
        }
    };
    let reply = wire(s, d, op);
    let entered =
        serde_json::from_slice::<serde_json::Value>(&reply).is_ok_and(|v| v["result"].is_object());
    let Some(t) = &token else {
        return;
    };
    let Some(at) = s.revoked_set.lock().unwrap().get(t).copied() else {
        return;
    };
    if at > started {
        return; // the kick may come after the join
    }
    if entered {
        s.violation(format!(
            "{} entered {conf} with a token revoked by a kick (epoch {at} <= {started})",
            d.user
        ));
    } else {
        s.revoked_refused.fetch_add(1, Ordering::Relaxed);
    }
}

fn worker(s: Arc<Shared>, t: usize, ops: usize) -> Vec<Device> {
    let mut rng =
        TestRng(0x9E37_79B9_7F4A_7C15 ^ (t as u64 + 1).wrapping_mul(0x1234_5678_9ABC_DEF1));
    let users: Vec<ExternalId> = (0..USERS_PER_THREAD)
        .map(|i| eid(&format!("u{}", t * USERS_PER_THREAD + i)))
        .collect();
    let mut devices: Vec<Device> = users.iter().map(|u| open_device(&s, u)).collect();
    let all_users = THREADS * USERS_PER_THREAD;
    let mut made = 0u64;
    for n in 0..ops {
        let d = rng.below(devices.len() as u64) as usize;
        let conf = s.confs[rng.below(s.confs.len() as u64) as usize];
        let target = eid(&format!("u{}", rng.below(all_users as u64)));
        let pick = rng.next();
        match rng.below(100) {
            0..=17 => drain(&s, &mut devices[d]),
            18..=27 => {
                let dev = &mut devices[d];
                let token = s.latest_token(&dev.user, conf, pick);
                enter(&s, dev, conf, token, false);
            }
            28..=30 => {
                let dev = &mut devices[d];
                let token = s.latest_token(&dev.user, conf, pick);
                enter(&s, dev, conf, token, true);
            }
            31..=44 => {
                let ev = [
                    LifecycleEvent::Connected,
                    LifecycleEvent::MediaTrouble,
                    LifecycleEvent::Recovered,
                    LifecycleEvent::Failure,
                ][rng.below(4) as usize];
                let _ = s.p.report(devices[d].sid, conf, ev);
            }
            45..=47 => {
                let _ = s.p.leave(devices[d].sid, conf);
            }
            48 => {
                let _ = s.p.decline(devices[d].sid, conf);
            }
            49..=55 => {
                let perms = (rng.below(2) == 0).then(|| random_perms(&mut rng));
                let _ = s.p.invite(s.admin, conf, &[Invitee::new(target, perms)]);
            }
            56..=58 => kick(&s, conf, &target, rng.below(2) == 0),
            59..=62 => {
                let _ =
                    s.p.update_permissions(s.admin, conf, &target, random_perms(&mut rng));
            }
            63..=70 => {
                let path = format!("/v2/conferences/{conf}");
                let _ = match rng.below(4) {
                    0 => rest(&s.p, "GET", &format!("{path}/participants"), ""),
                    1 => rest_json(
                        &s.p,
                        "POST",
                        &format!("{path}/invite"),
                        &serde_json::json!({ "participants": { target.as_str(): { "notification": true } } }),
                    ),
                    2 => rest_json(
                        &s.p,
                        "POST",
                        &format!("{path}/tokens"),
                        &serde_json::json!({ "externalIds": [target.as_str()] }),
                    ),
                    _ => rest_json(
                        &s.p,
                        "POST",
                        &format!("{path}/permissions"),
                        &serde_json::json!({ "participants": { target.as_str(): { "permissions": ["JOIN", "SEND_AUDIO"] } } }),
                    ),
                };
            }
            71..=77 => {
                let dev = &mut devices[d];
                let c = conf.to_string();
                let op = match rng.below(4) {
                    0 => Op::KeepAlive {},
                    1 => Op::Join {
                        conference_id: c,
                        token: s.latest_token(&dev.user, conf, pick),
                    },
                    2 => Op::MediaState {
                        conference_id: c,
                        state: MediaState::Connected,
                    },
                    _ => Op::Leave { conference_id: c },
                };
                wire(&s, dev, op);
            }
            78..=79 => {
                // The session closes; the app opens another.
                let dev = &mut devices[d];
                let _ = s.p.close_session(dev.sid);
                *dev = open_device(&s, &dev.user.clone());
            }
            80..=81 => {
                // A short-lived conference that expires once empty.
                made += 1;
                let options = ConferenceOptions {
                    empty_ttl_secs: Some(5),
                    ..ConferenceOptions::default()
                };
                if let Ok(c) =
                    s.p.create_conference(devices[d].sid, &format!("tmp-{t}-{made}"), options)
                {
                    let id = c.conference.id;
                    let dev = &mut devices[d];
                    let conference_id = id.to_string();
                    wire(
                        &s,
                        dev,
                        Op::Join {
                            conference_id: conference_id.clone(),
                            token: None,
                        },
                    );
                    let _ = s.p.invite(dev.sid, id, &[Invitee::new(target, None)]);
                    wire(&s, dev, Op::Leave { conference_id });
                    let mut e = s.ephemeral.lock().unwrap();
                    if e.len() < 64 {
                        e.push(id);
                    }
                }
            }
            82..=84 => {
                let l = (rng.below(3) != 0).then(|| listener(&s));
                let _ = s.p.set_listener(devices[d].sid, l);
            }
            85..=87 if t == 0 || rng.below(8) == 0 => {
                s.clock.advance(1 + rng.below(6));
                let _ = s.p.expire_conferences();
            }
            _ => {
                let _ = s.p.pending_events(devices[d].sid);
                let _ = s.p.participants(conf);
                let _ = s.p.snapshot(devices[d].sid);
            }
        }
        if n % 1024 == 0 {
            check_no_duplicates(&s, conf);
        }
        s.ops.fetch_add(1, Ordering::Relaxed);
    }
    devices
}

fn check_no_duplicates(s: &Shared, conf: ConferenceId) {
    if let Ok(list) = s.p.participants(conf) {
        let mut seen = HashSet::new();
        for v in &list {
            if !seen.insert(v.external_id.clone()) {
                s.violation(format!("{conf} lists {} twice", v.external_id));
            }
        }
    }
}

type View = BTreeMap<ConferenceId, (BTreeMap<ExternalId, ParticipantView>, PermissionSet)>;

fn projection(p: &Platform, sid: SessionId) -> View {
    p.snapshot(sid)
        .unwrap()
        .conferences
        .into_iter()
        .map(|c| {
            let people = c
                .participants
                .into_iter()
                .map(|x| (x.view.external_id.clone(), x.view))
                .collect();
            (c.conference_id, (people, c.my_permissions))
        })
        .collect()
}

fn client_view(c: &Client) -> View {
    c.conferences()
        .filter(|(_, v)| v.joined)
        .map(|(id, v)| (*id, (v.participants.clone(), v.my_permissions)))
        .collect()
}

/// What differs between a client's view and the platform's projection.
fn view_diff(shown: &View, truth: &View) -> String {
    let mut out = Vec::new();
    for (id, (people, perms)) in truth {
        let Some((seen, my)) = shown.get(id) else {
            out.push(format!("{id}: missing in the client"));
            continue;
        };
        if my != perms {
            out.push(format!("{id}: my permissions {my:?}, platform {perms:?}"));
        }
        for (who, v) in people {
            match seen.get(who) {
                Some(c) if c == v => {}
                c => out.push(format!("{id}: {who}: client {c:?}, platform {v:?}")),
            }
        }
        for who in seen.keys().filter(|w| !people.contains_key(*w)) {
            out.push(format!("{id}: {who} only in the client: {:?}", seen[who]));
        }
    }
    for id in shown.keys().filter(|id| !truth.contains_key(*id)) {
        out.push(format!("{id}: only in the client"));
    }
    out.join("; ")
}

#[test]
fn eight_threads_on_one_platform() {
    let total = env_or("CONFKIT_STRESS_OPS", 100_000) as usize;
    let watchdog = Duration::from_secs(env_or("CONFKIT_STRESS_WATCHDOG_SECS", 300));
    let config = PlatformConfig {
        max_queued_events: 64,
        event_retention: 32,
        ..PlatformConfig::default()
    };
    let (p, clock) = platform_with(config);
    let admin = open(&p, "admin", "Admin");
    let mut confs = Vec::new();
    for i in 0..6 {
        let options = if i < 4 { protected() } else { unprotected() };
        let created = p
            .create_conference(admin, &format!("room-{i}"), options)
            .unwrap();
        let id = created.conference.id;
        p.join(admin, id, created.owner_token.as_deref()).unwrap();
        p.report(admin, id, LifecycleEvent::Connected).unwrap();
        confs.push(id);
    }
    let shared = Arc::new(Shared {
        ring: ring(&p),
        p,
        clock,
        admin,
        confs,
        tokens: Mutex::new(HashMap::new()),
        revoked: Mutex::new(Vec::new()),
        revoked_set: Mutex::new(HashMap::new()),
        epoch: AtomicU64::new(0),
        violations: Mutex::new(Vec::new()),
        listener_calls: AtomicU64::new(0),
        ops: AtomicUsize::new(0),
        events: AtomicU64::new(0),
        missed: AtomicU64::new(0),
        revoked_refused: AtomicU64::new(0),
        swept: AtomicU64::new(0),
        ephemeral: Mutex::new(Vec::new()),
    });
    // Everyone is invited everywhere to begin with; the invitations wait in
    // the first devices' queues (opened by the workers) or are redelivered
    // by the workers' own invites.
    let started = Instant::now();
    let (done_tx, done_rx) = mpsc::channel();
    let per_thread = total.div_ceil(THREADS);
    for t in 0..THREADS {
        let s = Arc::clone(&shared);
        let tx = done_tx.clone();
        std::thread::spawn(move || {
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| worker(s, t, per_thread)));
            let _ = tx.send((t, result));
        });
    }
    drop(done_tx);
    let mut devices = Vec::new();
    for _ in 0..THREADS {
        let left = watchdog.saturating_sub(started.elapsed());
        match done_rx.recv_timeout(left) {
            Ok((_, Ok(mut d))) => devices.append(&mut d),
            Ok((t, Err(panic))) => std::panic::resume_unwind(Box::new(format!("worker {t} panicked: {panic:?}"))),
            Err(_) => panic!(
                "watchdog: the workers did not finish within {watchdog:?} ({} of {total} operations done): a deadlock?",
                shared.ops.load(Ordering::Relaxed)
            ),
        }
    }
    let s = &shared;
    let ops = s.ops.load(Ordering::Relaxed);
    assert!(ops >= total, "only {ops} operations ran");

    // Afterwards: no duplicates anywhere.
    for c in s.confs.iter().chain(s.ephemeral.lock().unwrap().iter()) {
        check_no_duplicates(s, *c);
    }
    // No token revoked by a kick admits.
    let revoked = s.revoked.lock().unwrap().clone();
    for (token, _, user, conf) in revoked.iter().take(500) {
        let probe = open(&s.p, user.as_str(), "probe");
        if s.p.join(probe, *conf, Some(token)).is_ok() {
            s.violation(format!(
                "a token of {user} revoked by a kick admits to {conf} at the end"
            ));
        }
        let _ = s.p.close_session(probe);
    }
    // Every Client converges after one resync.
    let mut converged = 0;
    for d in &mut devices {
        drain(&shared, d);
        if shared.p.session_info(d.sid).is_err() {
            continue;
        }
        let out = d.client.resync_request();
        let reply = shared.p.handle_message(d.sid, &out.bytes);
        if let Err(e) = d.client.receive(&reply) {
            shared.violation(format!("{}'s client refused its resync reply: {e}", d.user));
            continue;
        }
        drain(&shared, d);
        if d.client.is_stalled() {
            shared.violation(format!("{} is stalled after one resync", d.user));
            continue;
        }
        let shown = client_view(&d.client);
        let truth = projection(&shared.p, d.sid);
        if shown != truth {
            shared.violation(format!(
                "{}'s view differs from the platform's: {}",
                d.user,
                view_diff(&shown, &truth)
            ));
        }
        converged += 1;
    }
    let violations = shared.violations.lock().unwrap().clone();
    assert!(
        violations.is_empty(),
        "{} violations:\n{}",
        violations.len(),
        violations.join("\n")
    );
    let calls = shared.listener_calls.load(Ordering::Relaxed);
    assert!(calls > 0, "no listener was ever called");
    assert!(
        converged >= THREADS,
        "only {converged} devices checked for convergence"
    );
    assert!(
        !revoked.is_empty(),
        "no kick revoked a known token: the check did not run"
    );
    let events = s.events.load(Ordering::Relaxed);
    let missed = s.missed.load(Ordering::Relaxed);
    let refused = s.revoked_refused.load(Ordering::Relaxed);
    let swept = s.swept.load(Ordering::Relaxed);
    assert!(
        events > 0 && refused > 0,
        "the checks did not run: {events} events, {refused} revoked joins"
    );
    eprintln!(
        "stress: {ops} operations on {THREADS} threads in {:?}; {events} events checked ({missed} eventsMissed); \
         {refused} joins with a revoked token refused, {} revoked tokens probed at the end; {swept} sessions swept idle; \
         {calls} listener calls; {converged} clients converged",
        started.elapsed(),
        revoked.len().min(500)
    );
}
