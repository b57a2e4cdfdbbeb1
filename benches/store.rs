//! Durability benchmarks: one operation with no store, a [`MemoryStore`] and
//! an SQLite file (`synchronous=FULL`, and NORMAL for comparison); a join
//! storm of 1,000 sessions with each; and the time to open a file holding
//! 10,000 conferences with 100,000 participants.
//!
//! ```text
//! cargo bench --features sqlite --bench store
//! ```
//!
//! Criterion measures each case first; then `main` runs a manual pass that
//! interleaves the stores round by round (so a noisy machine slows them
//! alike) and prints one table of medians with the ratios to "no store".

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use confkit::platform::{ConferenceOptions, Invitee, PlatformConfig};
use confkit::store::{MemoryStore, SqliteStore, Store, Sync};
use confkit::{Alias, ExternalId, KeyId, ManualClock, ParticipantInfo, Platform, SigningKey};
use criterion::{criterion_group, Criterion};

#[derive(Clone, Copy, Debug)]
enum Kind {
    None,
    Memory,
    SqliteFull,
    SqliteNormal,
}

const KINDS: [Kind; 4] = [
    Kind::None,
    Kind::Memory,
    Kind::SqliteFull,
    Kind::SqliteNormal,
];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::None => "no store",
            Kind::Memory => "MemoryStore",
            Kind::SqliteFull => "SQLite FULL",
            Kind::SqliteNormal => "SQLite NORMAL",
        }
    }
}

fn key() -> SigningKey {
    SigningKey::from_seed(&[3; 32], KeyId::new("bench").unwrap())
}

fn eid(s: &str) -> ExternalId {
    ExternalId::new(s).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("confkit-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("platform.db")
}

fn platform(kind: Kind, name: &str) -> Platform {
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let config = PlatformConfig::default();
    let store: Box<dyn Store> = match kind {
        Kind::None => return Platform::with_config(key(), clock, config),
        Kind::Memory => Box::new(MemoryStore::new()),
        Kind::SqliteFull => Box::new(SqliteStore::open_with(scratch(name), Sync::Full).unwrap()),
        Kind::SqliteNormal => {
            Box::new(SqliteStore::open_with(scratch(name), Sync::Normal).unwrap())
        }
    };
    Platform::with_store(key(), clock, config, store).unwrap()
}

/// One acknowledged operation: the app server invites one user.
struct OneOp {
    p: Platform,
    conf: confkit::ConferenceId,
    n: u64,
}

impl OneOp {
    fn new(kind: Kind) -> Self {
        let p = platform(kind, &format!("op-{}", kind.name().replace(' ', "-")));
        let conf = p
            .app_create(
                &eid("owner"),
                Alias::new("bench").unwrap(),
                ConferenceOptions::default(),
                &[],
            )
            .unwrap()
            .created
            .conference
            .id;
        OneOp { p, conf, n: 0 }
    }

    fn run(&mut self) {
        self.n += 1;
        let who = Invitee::new(eid(&format!("u{}", self.n % 50_000)), None);
        black_box(self.p.app_invite(self.conf, &[who]).unwrap());
    }
}

/// 1,000 sessions join one unprotected conference, then it is terminated.
fn join_storm(p: &Platform, round: usize) -> Duration {
    let sessions: Vec<_> = (0..1000)
        .map(|i| p.open_session(ParticipantInfo::anonymous(eid(&format!("s{i}")))))
        .collect();
    let owner = p.open_session(ParticipantInfo::anonymous(eid("owner")));
    let conf = p
        .create_conference(
            owner,
            &format!("storm-{round}"),
            ConferenceOptions::default(),
        )
        .unwrap()
        .conference
        .id;
    let start = Instant::now();
    for s in &sessions {
        black_box(p.join(*s, conf, None).unwrap());
    }
    let took = start.elapsed();
    p.app_terminate(conf).unwrap();
    p.close_session(owner).unwrap();
    for s in sessions {
        p.close_session(s).unwrap();
    }
    took
}

/// A file with 10,000 conferences of 10 participants each.
fn big_file() -> PathBuf {
    let path = scratch("recovery");
    let store = SqliteStore::open_with(&path, Sync::Normal).unwrap();
    let p = Platform::with_store(
        key(),
        Arc::new(ManualClock::new(1_700_000_000)),
        PlatformConfig::default(),
        Box::new(store),
    )
    .unwrap();
    for c in 0..10_000 {
        let invitees: Vec<Invitee> = (0..9)
            .map(|i| Invitee::new(eid(&format!("c{c}-u{i}")), None))
            .collect();
        let _ = p
            .app_create(
                &eid(&format!("owner{c}")),
                Alias::new(format!("conf-{c}")).unwrap(),
                ConferenceOptions::default(),
                &invitees,
            )
            .unwrap();
    }
    assert_eq!(p.durable_image().participant_count(), 100_000);
    path
}

fn recover(path: &Path) -> Duration {
    let start = Instant::now();
    let p = Platform::open(
        path,
        key(),
        Arc::new(ManualClock::new(1_700_000_000)),
        PlatformConfig::default(),
    )
    .unwrap();
    let took = start.elapsed();
    black_box(p.conference_by_alias("conf-9999").unwrap());
    took
}

fn bench_store(c: &mut Criterion) {
    let mut g = c.benchmark_group("store/app_invite");
    for kind in KINDS {
        let mut op = OneOp::new(kind);
        g.bench_function(kind.name(), |b| b.iter(|| op.run()));
    }
    g.finish();
    let path = big_file();
    let mut g = c.benchmark_group("store/recovery");
    g.sample_size(10);
    g.bench_function("open 10k conferences, 100k participants", |b| {
        b.iter(|| recover(&path))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench_store
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();

    // Manual pass: rounds interleaved across the stores.
    let mut ops: Vec<OneOp> = KINDS.iter().map(|k| OneOp::new(*k)).collect();
    let mut per_op: Vec<Vec<Duration>> = vec![Vec::new(); KINDS.len()];
    for _ in 0..15 {
        for (i, op) in ops.iter_mut().enumerate() {
            let start = Instant::now();
            for _ in 0..100 {
                op.run();
            }
            per_op[i].push(start.elapsed() / 100);
        }
    }
    let storms: Vec<Platform> = KINDS
        .iter()
        .map(|k| platform(*k, &format!("storm-{}", k.name().replace(' ', "-"))))
        .collect();
    let mut per_storm: Vec<Vec<Duration>> = vec![Vec::new(); KINDS.len()];
    for round in 0..5 {
        for (i, p) in storms.iter().enumerate() {
            per_storm[i].push(join_storm(p, round));
        }
    }
    let path = big_file();
    let recoveries: Vec<Duration> = (0..5).map(|_| recover(&path)).collect();

    let base_op = median(per_op[0].clone());
    let base_storm = median(per_storm[0].clone());
    println!("\nconfkit durability (medians; ratios to no store, measured in this run)");
    println!(
        "{:<16} {:>14} {:>8} {:>18} {:>8}",
        "store", "app_invite", "ratio", "join storm 1,000", "ratio"
    );
    for (i, kind) in KINDS.iter().enumerate() {
        let op = median(per_op[i].clone());
        let storm = median(per_storm[i].clone());
        println!(
            "{:<16} {:>11.1} µs {:>7.1}x {:>15.1} ms {:>7.1}x",
            kind.name(),
            op.as_secs_f64() * 1e6,
            op.as_secs_f64() / base_op.as_secs_f64(),
            storm.as_secs_f64() * 1e3,
            storm.as_secs_f64() / base_storm.as_secs_f64(),
        );
    }
    println!(
        "recovery: open a file of 10,000 conferences / 100,000 participants: {:.0} ms (median of 5; goal <= 1,000 ms)",
        median(recoveries).as_secs_f64() * 1e3
    );
}
