//! Platform benchmarks: REST invites vs a raw token mint, join storms, event
//! fan-out, and memory per participant.
//!
//! ```text
//! cargo bench --bench platform -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Criterion measures each operation first. Its numbers are not returned to
//! code, so `main` then runs a manual pass (N rounds of each operation, medians)
//! and prints one summary table with the ratios and the memory figures.
//!
//! The manual pass reports thread CPU time next to wall time: on a shared,
//! busy machine the wall clock also counts the time spent waiting for a core.
//! The invite-vs-mint ratio interleaves invite rounds and mint rounds (order
//! alternating) and takes the median of the per-round ratios.
//!
//! The bench binary counts heap bytes with a wrapper around the system
//! allocator (one relaxed atomic add per allocation, in every measurement alike).
//! The memory pass opens 100,000 sessions that listen (uninvited) to an
//! unprotected conference: a USER join tells every participant in the
//! conference, and an invited user who starts listening is removed from every
//! other listener's view, so either would queue about 5 x 10^9 events and
//! measure the fan-out. Listens stop when a time budget is spent.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use confkit::platform::rest::RestResponse;
use confkit::platform::{ConferenceOptions, Listener, PlatformConfig};
use confkit::token::{KeyRing, Validation, VerifiedTokens};
use confkit::{
    Claims, ConferenceId, ExternalId, KeyId, LifecycleEvent, ManualClock, ParticipantInfo,
    Permission, PermissionSet, Platform, SessionId, SigningKey,
};
use criterion::{criterion_group, BatchSize, Criterion, SamplingMode, Throughput};
use serde_json::Value;

// ---------------------------------------------------------------------------
// Counting allocator
// ---------------------------------------------------------------------------

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` with the caller's arguments.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            CURRENT.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            CURRENT.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            CURRENT.fetch_add(new_size, Ordering::Relaxed);
            CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn heap_bytes() -> usize {
    CURRENT.load(Ordering::Relaxed)
}

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

const START: u64 = 1_700_000_000;
const SEED: [u8; 32] = [7; 32];
/// Permissions every invitee of the REST bodies gets (also in the raw mint).
const INVITEE_PERMS: [Permission; 3] = [
    Permission::Join,
    Permission::SendAudio,
    Permission::SendVideo,
];

fn platform() -> Platform {
    let key = SigningKey::from_seed(&SEED, KeyId::new("bench").expect("kid"));
    Platform::with_config(
        key,
        Arc::new(ManualClock::new(START)),
        PlatformConfig::default(),
    )
}

fn user(i: usize) -> String {
    format!("user-{i:06}")
}

fn info(i: usize) -> ParticipantInfo {
    ParticipantInfo::new(
        ExternalId::new(user(i)).expect("id"),
        format!("User {i}"),
        None,
    )
    .expect("info")
}

/// `{"participants":{"user-000000":{...},...}}` for `n` invitees.
fn invite_body(n: usize, notification: bool, with_perms: bool) -> Vec<u8> {
    invite_body_range(0..n, notification, with_perms)
}

/// The invite body for users `range`.
fn invite_body_range(
    range: std::ops::Range<usize>,
    notification: bool,
    with_perms: bool,
) -> Vec<u8> {
    let mut s = String::with_capacity(range.len() * 96 + 32);
    s.push_str(r#"{"participants":{"#);
    let first = range.start;
    for i in range {
        if i > first {
            s.push(',');
        }
        s.push('"');
        s.push_str(&user(i));
        s.push_str(r#"":{"#);
        if with_perms {
            s.push_str(r#""permissions":["JOIN","SEND_AUDIO","SEND_VIDEO"],"#);
        }
        s.push_str(if notification {
            r#""notification":true}"#
        } else {
            r#""notification":false}"#
        });
    }
    s.push_str("}}");
    s.into_bytes()
}

fn check(r: &RestResponse, status: u16) {
    assert_eq!(r.status, status, "unexpected REST answer: {}", r.body);
}

/// A REST-created (protected) conference with no participants but its owner.
fn rest_conference(p: &Platform, alias: &str) -> ConferenceId {
    let body = format!(r#"{{"ownerExternalId":"owner","alias":"{alias}"}}"#);
    let r = p.handle_rest("POST", "/v2/conferences/create", body.as_bytes());
    check(&r, 200);
    let v: Value = serde_json::from_str(&r.body).expect("json");
    ConferenceId::parse(v["conferenceId"].as_str().expect("conferenceId")).expect("uuid")
}

fn invite_path(id: ConferenceId) -> String {
    format!("/v2/conferences/{id}/invite")
}

/// A fresh platform and conference, ready for an invite (setup, not timed).
fn invite_setup() -> (Platform, String) {
    let p = platform();
    let id = rest_conference(&p, "bench");
    (p, invite_path(id))
}

/// Claims equivalent to those the platform mints for one REST invitee.
fn raw_claims() -> Claims {
    Claims::new(
        "confkit",
        ExternalId::new(user(123_456)).expect("id"),
        ConferenceId::random(),
        PermissionSet::of(&INVITEE_PERMS),
        START,
        confkit::token::DEFAULT_TOKEN_TTL_SECS,
    )
}

/// An unprotected conference and `n` open sessions, none joined.
struct Storm {
    p: Platform,
    id: ConferenceId,
    sessions: Vec<SessionId>,
    tokens: Vec<Option<String>>,
}

fn storm_unprotected(n: usize) -> Storm {
    let p = platform();
    let owner = p.open_session(info(usize::MAX / 2));
    let id = p
        .create_conference(owner, "storm", ConferenceOptions::default())
        .expect("create")
        .conference
        .id;
    let sessions = (0..n).map(|i| p.open_session(info(i))).collect();
    Storm {
        p,
        id,
        sessions,
        tokens: vec![None; n],
    }
}

/// A REST-created protected conference with `n` invitees (tokens from
/// `usersTokens`), each with an open session, none joined.
fn storm_protected(n: usize) -> Storm {
    let p = platform();
    let id = rest_conference(&p, "storm");
    let r = p.handle_rest("POST", &invite_path(id), &invite_body(n, false, true));
    check(&r, 200);
    let v: Value = serde_json::from_str(&r.body).expect("json");
    let tokens = (0..n)
        .map(|i| {
            Some(
                v["usersTokens"][user(i)]
                    .as_str()
                    .expect("token")
                    .to_owned(),
            )
        })
        .collect();
    let sessions = (0..n).map(|i| p.open_session(info(i))).collect();
    Storm {
        p,
        id,
        sessions,
        tokens,
    }
}

impl Storm {
    /// Everyone joins (the timed part of a join storm).
    fn run(&self) {
        for (sid, token) in self.sessions.iter().zip(&self.tokens) {
            let j = self.p.join(*sid, self.id, token.as_deref());
            black_box(j.expect("join"));
        }
    }
}

/// `n` participants joined and on air in an unprotected conference, queues empty.
fn fanout_fixture(n: usize, listeners: bool) -> Storm {
    let s = storm_unprotected(n);
    s.run();
    for sid in &s.sessions {
        s.p.report(*sid, s.id, LifecycleEvent::Connected)
            .expect("connected");
        if listeners {
            let l: Listener = Arc::new(|sid| {
                black_box(sid);
            });
            s.p.set_listener(*sid, Some(l)).expect("listener");
        }
    }
    drain_all(&s);
    s
}

fn drain_all(s: &Storm) {
    for sid in &s.sessions {
        black_box(s.p.drain_events(*sid).expect("drain"));
    }
}

/// One participant's media trouble and recovery: two status changes, each
/// sending participant updated to every joined session.
fn status_flap(s: &Storm) {
    let who = s.sessions[0];
    black_box(
        s.p.report(who, s.id, LifecycleEvent::MediaTrouble)
            .expect("trouble"),
    );
    black_box(
        s.p.report(who, s.id, LifecycleEvent::Recovered)
            .expect("recovered"),
    );
}

// ---------------------------------------------------------------------------
// Criterion
// ---------------------------------------------------------------------------

fn bench_invite(c: &mut Criterion) {
    let mut g = c.benchmark_group("rest_invite");
    g.sample_size(10).sampling_mode(SamplingMode::Flat);
    for n in [1_000usize, 10_000] {
        let body = invite_body(n, true, true);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("{n}_invitees"), |b| {
            b.iter_batched(
                invite_setup,
                |(p, path)| {
                    let r = p.handle_rest("POST", &path, black_box(&body));
                    // Returned, so dropping the platform is not timed.
                    (p, r)
                },
                BatchSize::PerIteration,
            );
        });
    }
    g.finish();

    let mut g = c.benchmark_group("token");
    g.throughput(Throughput::Elements(1));
    let key = SigningKey::from_seed(&SEED, KeyId::new("bench").expect("kid"));
    let claims = raw_claims();
    g.bench_function("raw_mint", |b| b.iter(|| key.mint(black_box(&claims))));
    g.finish();
}

fn bench_join_storm(c: &mut Criterion) {
    let mut g = c.benchmark_group("join_storm");
    g.sample_size(10).sampling_mode(SamplingMode::Flat);
    g.bench_function("1000_sessions_unprotected", |b| {
        b.iter_batched(
            || storm_unprotected(1_000),
            |s| {
                s.run();
                s
            },
            BatchSize::PerIteration,
        );
    });
    g.bench_function("1000_sessions_protected", |b| {
        b.iter_batched(
            || storm_protected(1_000),
            |s| {
                s.run();
                s
            },
            BatchSize::PerIteration,
        );
    });
    g.finish();
}

fn bench_fanout(c: &mut Criterion) {
    let mut g = c.benchmark_group("fanout_1000");
    g.sample_size(50);
    // Two status changes per iteration, each to 1,000 sessions.
    g.throughput(Throughput::Elements(2));
    for listeners in [false, true] {
        let name = if listeners {
            "status_change_x2_with_listeners"
        } else {
            "status_change_x2"
        };
        // Built on first use: criterion calls the closure once per sample, and
        // not at all when a filter excludes the benchmark.
        let mut fixture = None;
        g.bench_function(name, |b| {
            let s: &Storm = fixture.get_or_insert_with(|| fanout_fixture(1_000, listeners));
            b.iter_batched(
                || drain_all(s),
                |()| status_flap(s),
                BatchSize::PerIteration,
            );
        });
    }
    g.finish();
}

criterion_group!(benches, bench_invite, bench_join_storm, bench_fanout);

// ---------------------------------------------------------------------------
// Manual pass
// ---------------------------------------------------------------------------

/// The calling thread's CPU time: unlike the wall clock, it does not count the
/// time the thread waits for a core on a busy machine.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn thread_cpu_time() -> Option<Duration> {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec (64-bit Linux layout).
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| {
        Duration::new(
            u64::try_from(ts.tv_sec).unwrap_or(0),
            u32::try_from(ts.tv_nsec).unwrap_or(0),
        )
    })
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn thread_cpu_time() -> Option<Duration> {
    None
}

/// A timing: thread CPU time (wall time where unavailable) and wall time, s.
#[derive(Clone, Copy, Default)]
struct Timing {
    cpu: f64,
    wall: f64,
}

impl Timing {
    fn scale(self, k: f64) -> Timing {
        Timing {
            cpu: self.cpu * k,
            wall: self.wall * k,
        }
    }
}

/// Times `f` (CPU and wall); what it returns is dropped after the clocks stop.
fn timed<R>(f: impl FnOnce() -> R) -> (Timing, R) {
    let c0 = thread_cpu_time();
    let w0 = Instant::now();
    let out = f();
    let wall = w0.elapsed().as_secs_f64();
    let cpu = match (c0, thread_cpu_time()) {
        (Some(a), Some(b)) => b.saturating_sub(a).as_secs_f64(),
        _ => wall,
    };
    (Timing { cpu, wall }, out)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn median_timing(v: &[Timing]) -> Timing {
    Timing {
        cpu: median(v.iter().map(|t| t.cpu).collect()),
        wall: median(v.iter().map(|t| t.wall).collect()),
    }
}

/// Runs `rounds` rounds: `setup` untimed, `run` timed; the result of `run` is
/// dropped after the clocks stop. Returns the medians.
fn rounds<S, R>(
    rounds: usize,
    mut setup: impl FnMut() -> S,
    mut run: impl FnMut(S) -> R,
) -> Timing {
    let times: Vec<Timing> = (0..rounds)
        .map(|_| {
            let input = setup();
            let (t, out) = timed(|| run(input));
            drop(black_box(out));
            t
        })
        .collect();
    median_timing(&times)
}

/// REST invite vs raw mint, interleaved round by round so that both see the
/// same machine load; the ratio is the median of the per-round ratios.
struct InviteVsMint {
    per_invitee: Timing,
    per_mint: Timing,
    ratio_cpu: f64,
    ratio_wall: f64,
}

fn invite_vs_mint(n: usize, rounds: usize) -> InviteVsMint {
    let body = invite_body(n, true, true);
    let key = SigningKey::from_seed(&SEED, KeyId::new("bench").expect("kid"));
    let claims = raw_claims();
    let mints = n.min(2_000);
    let mut inv = Vec::with_capacity(rounds);
    let mut mint = Vec::with_capacity(rounds);
    let (mut rc, mut rw) = (Vec::new(), Vec::new());
    let invite_once = || {
        let (p, path) = invite_setup();
        let (t, out) = timed(|| p.handle_rest("POST", &path, &body));
        check(&out, 200);
        drop(out);
        drop(p);
        t.scale(1.0 / n as f64)
    };
    let mint_batch = || {
        let (t, ()) = timed(|| {
            for _ in 0..mints {
                black_box(key.mint(black_box(&claims)));
            }
        });
        t.scale(1.0 / mints as f64)
    };
    for round in 0..rounds {
        // Alternate the order so that neither side always runs second.
        let (i, m) = if round % 2 == 0 {
            let i = invite_once();
            (i, mint_batch())
        } else {
            let m = mint_batch();
            (invite_once(), m)
        };
        rc.push(i.cpu / m.cpu);
        rw.push(i.wall / m.wall);
        inv.push(i);
        mint.push(m);
    }
    InviteVsMint {
        per_invitee: median_timing(&inv),
        per_mint: median_timing(&mint),
        ratio_cpu: median(rc),
        ratio_wall: median(rw),
    }
}

struct Memory {
    invited: usize,
    per_invited: f64,
    response_mb: f64,
    per_session: f64,
    joined: usize,
    per_joined: f64,
    join_secs: f64,
}

/// Bytes per participant of a 100,000-participant conference: REST-invited
/// (notification false), then with a session each, then listening (joined as
/// listeners) until everyone is in or the time budget is spent.
fn memory(n: usize, join_budget: Duration) -> Memory {
    let p = platform();
    let id = rest_conference(&p, "memory");

    // One request lists at most MAX_INVITEES_PER_REQUEST invitees.
    let batch = confkit::platform::MAX_INVITEES_PER_REQUEST;
    let before = heap_bytes();
    let mut response_mb = 0.0;
    let mut tokens: Vec<String> = Vec::with_capacity(n);
    for start in (0..n).step_by(batch) {
        let range = start..(start + batch).min(n);
        let body = invite_body_range(range.clone(), false, false);
        let r = p.handle_rest("POST", &invite_path(id), &body);
        check(&r, 200);
        response_mb += r.body.len() as f64 / 1e6;
        let v: Value = serde_json::from_str(&r.body).expect("json");
        drop(r);
        tokens.extend(range.map(|i| {
            v["usersTokens"][user(i)]
                .as_str()
                .expect("token")
                .to_owned()
        }));
    }
    // `tokens` (the host's copy) is still alive: take it out of the count.
    let tokens_bytes: usize = tokens.iter().map(String::capacity).sum::<usize>()
        + tokens.capacity() * std::mem::size_of::<String>();
    let after_invite = heap_bytes() - tokens_bytes;
    let per_invited = (after_invite as f64 - before as f64) / n as f64;

    let mut sessions = Vec::with_capacity(n);
    let before_sessions = heap_bytes();
    for i in 0..n {
        sessions.push(p.open_session(info(i)));
    }
    let per_session = (heap_bytes() as f64 - before_sessions as f64) / n as f64;

    // The listens go to an unprotected conference of uninvited listeners: an
    // invited USER who starts listening must be removed from every present
    // listener's view (participantRemoved), so listens by the REST invitees
    // would cost O(listeners) each and measure the fan-out, not the state.
    let open_id = p
        .create_conference(sessions[0], "memory-open", ConferenceOptions::default())
        .expect("create")
        .conference
        .id;
    drop(tokens);
    let before_join = heap_bytes();
    let t = Instant::now();
    let mut joined = 0;
    for sid in &sessions {
        p.listen(*sid, open_id, None).expect("listen");
        // The listener's own participant updated: a host drains it.
        black_box(p.drain_events(*sid).expect("drain"));
        joined += 1;
        if joined % 1_000 == 0 && t.elapsed() > join_budget {
            break;
        }
    }
    let join_secs = t.elapsed().as_secs_f64();
    let per_joined = (heap_bytes() as f64 - before_join as f64) / joined.max(1) as f64;
    drop(p);
    Memory {
        invited: n,
        per_invited,
        response_mb,
        per_session,
        joined,
        per_joined,
        join_secs,
    }
}

/// How long an operation on another conference waits while one big REST
/// invite runs: the worst and the 99th percentile of many probes, next to
/// the same probes on an idle platform.
struct LockDelay {
    idle_max: Duration,
    idle_p99: Duration,
    busy_max: Duration,
    busy_p99: Duration,
    probes: usize,
    request: Duration,
}

fn percentile(v: &mut [Duration], q: f64) -> Duration {
    v.sort_unstable();
    let i = ((v.len() as f64 - 1.0) * q).round() as usize;
    v.get(i).copied().unwrap_or_default()
}

fn lock_delay(n: usize) -> LockDelay {
    let p = Arc::new(platform());
    let big = rest_conference(&p, "big");
    let sid = p.open_session(info(999_999));
    let other = p
        .create_conference(sid, "other", ConferenceOptions::default())
        .expect("create")
        .conference
        .id;
    p.join(sid, other, None).expect("join");
    p.report(sid, other, LifecycleEvent::Connected)
        .expect("connected");
    let mut flip = false;
    let mut probe = || {
        flip = !flip;
        let e = if flip {
            LifecycleEvent::MediaTrouble
        } else {
            LifecycleEvent::Recovered
        };
        let t = Instant::now();
        p.report(sid, other, e).expect("report");
        let d = t.elapsed();
        if flip {
            let _ = p.drain_events(sid);
        }
        d
    };
    let mut idle: Vec<Duration> = (0..20_000).map(|_| probe()).collect();
    let body = invite_body(n, false, true);
    let path = invite_path(big);
    let worker = {
        let p = Arc::clone(&p);
        std::thread::spawn(move || {
            let t = Instant::now();
            let r = p.handle_rest("POST", &path, &body);
            check(&r, 200);
            t.elapsed()
        })
    };
    let mut busy = Vec::new();
    while !worker.is_finished() {
        busy.push(probe());
    }
    let request = worker.join().expect("worker");
    LockDelay {
        idle_max: *idle.iter().max().unwrap_or(&Duration::ZERO),
        idle_p99: percentile(&mut idle, 0.99),
        busy_max: *busy.iter().max().unwrap_or(&Duration::ZERO),
        busy_p99: percentile(&mut busy, 0.99),
        probes: busy.len(),
        request,
    }
}

fn print_lock_delay(d: &LockDelay, n: usize) {
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    println!(
        "  {:<50} {:>12}",
        format!("REST invite of {n} (wall, signing outside the lock)"),
        ms(d.request)
    );
    println!(
        "  {:<50} {:>12}",
        format!("  op on another conference: worst of {}", d.probes),
        ms(d.busy_max)
    );
    println!(
        "  {:<50} {:>12}",
        "  op on another conference: p99",
        ms(d.busy_p99)
    );
    println!(
        "  {:<50} {:>12}",
        "  same op, idle platform: worst",
        ms(d.idle_max)
    );
    println!(
        "  {:<50} {:>12}",
        "  same op, idle platform: p99",
        ms(d.idle_p99)
    );
    println!(
        "  {:<50} {:>12}",
        "  added delay, worst (target <= 5 ms)",
        ms(d.busy_max.saturating_sub(d.idle_max))
    );
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// The protected 1,000-session join storm against the unprotected one,
/// interleaved round by round (`CONFKIT_BENCH_ONLY=storm`). The protected
/// one presents tokens the platform minted, which its cache of verified
/// tokens holds.
fn join_storm_ratio() {
    let mut ratios = Vec::new();
    let (mut u, mut pr) = (Vec::new(), Vec::new());
    for _ in 0..9 {
        let a = rounds(
            1,
            || storm_unprotected(1_000),
            |s| {
                s.run();
                s
            },
        );
        let b = rounds(
            1,
            || storm_protected(1_000),
            |s| {
                s.run();
                s
            },
        );
        ratios.push(b.cpu / a.cpu);
        u.push(a);
        pr.push(b);
    }
    ratios.sort_by(f64::total_cmp);
    println!();
    println!(
        "join storm, 1,000 sessions ({}), 9 interleaved rounds",
        cpu_model()
    );
    println!("  unprotected: {:.1} ms", median_timing(&u).cpu * 1e3);
    println!(
        "  protected (tokens cached at mint): {:.1} ms",
        median_timing(&pr).cpu * 1e3
    );
    println!(
        "  protected / unprotected: {:.2} (median of per-round ratios; target <= 1.15)",
        ratios[4]
    );
    // Memory: the heap the cache holds per token (10,000 real tokens).
    let s = storm_protected(10_000);
    let tokens: Vec<String> = s.tokens.iter().flatten().cloned().collect();
    let ring = KeyRing::from_jwks(&s.p.jwks()).expect("ring");
    let claims: Vec<Claims> = tokens
        .iter()
        .map(|t| {
            ring.verify(t, &Validation::any_conference(s.p.now()))
                .expect("verify")
        })
        .collect();
    let kid = KeyId::new("k").expect("kid");
    let before = heap_bytes();
    let cache = VerifiedTokens::new(10_000);
    for (t, c) in tokens.iter().zip(claims) {
        cache.insert(t, &kid, Arc::new(c));
    }
    let per = (heap_bytes() - before) as f64 / cache.len() as f64;
    println!(
        "  memory per cached token: {per:.0} B (the token itself is {} B)",
        tokens[0].len()
    );
    drop(black_box(cache));
}

fn manual_pass() {
    println!();
    println!("manual pass (medians of N rounds) ...");
    let i1k = invite_vs_mint(1_000, 15);
    let i10k = invite_vs_mint(10_000, 5);

    let storm_u = rounds(
        7,
        || storm_unprotected(1_000),
        |s| {
            s.run();
            s
        },
    );
    let storm_p = rounds(
        5,
        || storm_protected(1_000),
        |s| {
            s.run();
            s
        },
    );

    let mut fan = [Timing::default(); 2];
    for (slot, listeners) in fan.iter_mut().zip([false, true]) {
        let s = fanout_fixture(1_000, listeners);
        *slot = rounds(101, || drain_all(&s), |()| status_flap(&s)).scale(0.5);
    }

    // One conference holds at most 100,000 participant records, its owner included.
    let mem = memory(99_000, Duration::from_secs(45));
    let delay = lock_delay(10_000);

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("?");
    println!();
    println!("summary — {} (load average {load} at the end)", cpu_model());
    println!("  {:<50} {:>12} {:>12}", "measure", "thread CPU", "wall");
    let row = |name: &str, cpu: String, wall: String| println!("  {name:<50} {cpu:>12} {wall:>12}");
    let ns = |t: Timing| {
        (
            format!("{:.0} ns", t.cpu * 1e9),
            format!("{:.0} ns", t.wall * 1e9),
        )
    };
    let us = |t: Timing| {
        (
            format!("{:.1} us", t.cpu * 1e6),
            format!("{:.1} us", t.wall * 1e6),
        )
    };
    let ms = |t: Timing| {
        (
            format!("{:.1} ms", t.cpu * 1e3),
            format!("{:.1} ms", t.wall * 1e3),
        )
    };
    let x = |a: f64, b: f64| (format!("{a:.2}x"), format!("{b:.2}x"));

    for (n, r) in [("1,000", &i1k), ("10,000", &i10k)] {
        let (c, w) = ns(r.per_invitee);
        row(&format!("REST invite, {n} invitees: per invitee"), c, w);
        let (c, w) = ns(r.per_mint);
        row("  raw token mint, in the same rounds", c, w);
        let (c, w) = x(r.ratio_cpu, r.ratio_wall);
        row("  ratio per invitee / raw mint (target <= 1.30)", c, w);
    }
    let (c, w) = ms(storm_u);
    row("join storm, 1,000 sessions, unprotected", c, w);
    let (c, w) = ms(storm_p);
    row("join storm, 1,000 sessions, protected (tokens)", c, w);
    let (c, w) = us(fan[0]);
    row("fan-out: one status change to 1,000 sessions", c, w);
    let (c, w) = ns(fan[0].scale(1e-3));
    row("  per recipient", c, w);
    let (c, w) = us(fan[1]);
    row("fan-out, every session with a listener", c, w);
    let (c, w) = ns(fan[1].scale(1e-3));
    row("  per recipient", c, w);

    print_lock_delay(&delay, 10_000);
    println!("  {:<50} {:>12}", "memory (heap bytes requested)", "");
    let mem_row = |name: &str, v: String| println!("  {name:<50} {v:>12}");
    mem_row(
        &format!("per REST-invited participant ({}k)", mem.invited / 1_000),
        format!("{:.0} B", mem.per_invited),
    );
    mem_row(
        "  the invite response bodies (freed)",
        format!("{:.1} MB", mem.response_mb),
    );
    mem_row(
        &format!("per open session ({}k)", mem.invited / 1_000),
        format!("{:.0} B", mem.per_session),
    );
    mem_row(
        &format!("per listening participant ({} joined)", mem.joined),
        format!("{:.0} B", mem.per_joined),
    );
    mem_row(
        &format!(
            "  wall time of those listens{}",
            if mem.joined < mem.invited {
                " (budget hit)"
            } else {
                ""
            }
        ),
        format!("{:.1} s", mem.join_secs),
    );
    mem_row(
        "invited + session + joined, per participant",
        format!(
            "{:.0} B",
            mem.per_invited + mem.per_session + mem.per_joined
        ),
    );
}

fn main() {
    // `CONFKIT_BENCH_ONLY=lock-delay cargo bench --bench platform` runs just
    // the lock-delay measurement (a few seconds).
    // ... and `CONFKIT_BENCH_ONLY=summary` only the manual pass (its table).
    match std::env::var("CONFKIT_BENCH_ONLY").as_deref() {
        Ok("lock-delay") => {
            for _ in 0..3 {
                print_lock_delay(&lock_delay(10_000), 10_000);
            }
            return;
        }
        Ok("summary") => {
            manual_pass();
            return;
        }
        Ok("storm") => {
            join_storm_ratio();
            return;
        }
        _ => {}
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and then
    // criterion only checks that each benchmark runs, so skip the long pass;
    // so does `--profile-time` (profiling one benchmark under perf).
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--profile-time") {
        manual_pass();
    }
}
