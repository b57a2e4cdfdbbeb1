//! The device half and the wire: applying an event to a 1,000-participant
//! view, applying a 1,000-participant snapshot, taking that snapshot on the
//! server, and what `handle_message` adds to a join.
//!
//! ```text
//! cargo bench --bench client -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Criterion measures each operation; `main` then runs a manual pass (medians
//! of many rounds, all in one run, interleaved where two are compared) and
//! prints a summary table with the targets.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use confkit::client::Client;
use confkit::platform::{ConferenceOptions, PlatformConfig};
use confkit::wire::message::Op;
use confkit::{
    ConferenceId, ExternalId, KeyId, KeyRing, LifecycleEvent, ManualClock, ParticipantInfo,
    Platform, SessionId, SigningKey,
};
use criterion::{criterion_group, BatchSize, Criterion};

const N: usize = 1_000;

struct Fixture {
    p: Platform,
    clock: ManualClock,
    conf: ConferenceId,
    viewer: SessionId,
    mover: SessionId,
    /// A resync reply carrying a snapshot of the 1,000-participant conference.
    snapshot_reply: Vec<u8>,
}

fn eid(s: &str) -> ExternalId {
    ExternalId::new(s).expect("id")
}

/// An unprotected conference with `N` participants in it; `viewer` is one of
/// them, `mover` another whose media state the events are about.
fn fixture() -> Fixture {
    let clock = ManualClock::new(1_700_000_000);
    let config = PlatformConfig {
        session_idle_secs: 0,
        ..PlatformConfig::default()
    };
    let key = SigningKey::from_seed(&[9; 32], KeyId::new("bench").expect("kid"));
    let p = Platform::with_config(key, Arc::new(clock.clone()), config);
    let sids: Vec<SessionId> = (0..N)
        .map(|i| {
            p.open_session(
                ParticipantInfo::new(eid(&format!("user-{i:04}")), format!("User {i}"), None)
                    .expect("info"),
            )
        })
        .collect();
    let conf = p
        .create_conference(sids[0], "big", ConferenceOptions::default())
        .expect("create")
        .conference
        .id;
    for sid in &sids {
        p.join(*sid, conf, None).expect("join");
        for s in &sids {
            let _ = p.drain_events(*s);
        }
    }
    let viewer = sids[0];
    let mover = sids[1];
    p.report(mover, conf, LifecycleEvent::Connected)
        .expect("connected");
    let _ = p.drain_events(viewer);
    let snapshot_reply = p.handle_message(
        viewer,
        br#"{"v":1,"id":"s","type":"resync","lastSequence":0,"snapshot":true}"#,
    );
    Fixture {
        p,
        clock,
        conf,
        viewer,
        mover,
        snapshot_reply,
    }
}

impl Fixture {
    /// A client for the viewer whose view holds the whole conference.
    fn client(&self) -> Client {
        let ring = KeyRing::from_jwks(&self.p.jwks()).expect("jwks");
        let mut c = Client::new(eid("user-0000"), ring, Arc::new(self.clock.clone()));
        let out = c.request(Op::Resync {
            last_sequence: 0,
            snapshot: true,
        });
        // The fixture's reply says "s": give it this request's id.
        let reply = String::from_utf8(self.snapshot_reply.clone())
            .expect("utf8")
            .replacen(
                "\"id\":\"s\"",
                &format!("\"id\":\"{}\"", out.id.as_str()),
                1,
            );
        c.receive(reply.as_bytes()).expect("snapshot");
        c
    }

    /// `k` consecutive event messages for the viewer (mover flapping).
    fn events(&self, k: usize) -> Vec<Vec<u8>> {
        for _ in 0..k {
            // Flap between ON_AIR and WARNING, whichever the mover is in.
            if self
                .p
                .report(self.mover, self.conf, LifecycleEvent::MediaTrouble)
                .is_err()
            {
                self.p
                    .report(self.mover, self.conf, LifecycleEvent::Recovered)
                    .expect("report");
            }
        }
        self.p.drain_messages(self.viewer).expect("drain")
    }
}

fn bench(c: &mut Criterion) {
    let f = fixture();
    let mut g = c.benchmark_group("client");
    g.bench_function("apply_one_event_1000_view", |b| {
        b.iter_batched(
            || (f.client(), f.events(1)),
            |(mut client, events)| black_box(client.receive(&events[0]).expect("apply")),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("apply_snapshot_1000", |b| {
        b.iter_batched(
            || f.client(),
            |mut client| {
                let out = client.resync_request();
                let reply = String::from_utf8(f.snapshot_reply.clone())
                    .expect("utf8")
                    .replacen(
                        "\"id\":\"s\"",
                        &format!("\"id\":\"{}\"", out.id.as_str()),
                        1,
                    );
                black_box(client.receive(reply.as_bytes()).expect("snapshot"))
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("take_snapshot_1000", |b| {
        b.iter(|| black_box(f.p.snapshot(f.viewer).expect("snapshot")))
    });
    g.finish();
}

criterion_group!(benches, bench);

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn manual_pass() {
    let f = fixture();
    // 1. Apply one event to a 1,000-participant view (parse + apply).
    let mut client = f.client();
    let events = f.events(2_001);
    let mut per_event = Vec::new();
    for e in &events {
        let t = Instant::now();
        black_box(client.receive(e).expect("apply"));
        per_event.push(t.elapsed().as_secs_f64());
    }
    // 2. Apply a 1,000-participant snapshot.
    let mut apply_snapshot = Vec::new();
    for _ in 0..51 {
        let mut client = f.client();
        let out = client.resync_request();
        let reply = String::from_utf8(f.snapshot_reply.clone())
            .expect("utf8")
            .replacen(
                "\"id\":\"s\"",
                &format!("\"id\":\"{}\"", out.id.as_str()),
                1,
            );
        let t = Instant::now();
        black_box(client.receive(reply.as_bytes()).expect("snapshot"));
        apply_snapshot.push(t.elapsed().as_secs_f64());
    }
    // 3. Take the snapshot on the server.
    let mut take = Vec::new();
    for _ in 0..201 {
        let t = Instant::now();
        black_box(f.p.snapshot(f.viewer).expect("snapshot"));
        take.push(t.elapsed().as_secs_f64());
    }
    // 4. A join through handle_message vs Platform::join, interleaved, in a
    // small conference (the roster is part of the wire's join).
    let small =
        f.p.create_conference(f.viewer, "small", ConferenceOptions::default())
            .expect("create")
            .conference
            .id;
    let joiner =
        f.p.open_session(ParticipantInfo::new(eid("joiner"), "J", None).expect("info"));
    f.p.join(joiner, small, None).expect("first join");
    let (mut direct, mut wire) = (Vec::new(), Vec::new());
    for i in 0..4_001 {
        let t = Instant::now();
        if i % 2 == 0 {
            black_box(f.p.join(joiner, small, None).expect("join"));
            direct.push(t.elapsed().as_secs_f64());
        } else {
            let msg = format!(r#"{{"v":1,"id":"j{i}","type":"join","conferenceId":"{small}"}}"#);
            let t = Instant::now();
            black_box(f.p.handle_message(joiner, msg.as_bytes()));
            wire.push(t.elapsed().as_secs_f64());
        }
        let _ = f.p.drain_events(joiner);
        let _ = f.p.drain_events(f.viewer);
    }
    let us = |s: f64| format!("{:.2} us", s * 1e6);
    let ms = |s: f64| format!("{:.3} ms", s * 1e3);
    println!();
    println!("summary (medians, one run)");
    let row = |name: &str, v: String, target: &str| println!("  {name:<58} {v:>12}  {target}");
    row(
        "apply one event to a 1,000-participant view (parse + apply)",
        us(median(per_event)),
        "target <= 1 us",
    );
    row(
        "apply a 1,000-participant snapshot (parse + diff + replace)",
        ms(median(apply_snapshot)),
        "target <= 1 ms",
    );
    row(
        "take that snapshot on the server",
        ms(median(take)),
        "target <= 1 ms",
    );
    let (d, w) = (median(direct), median(wire));
    row("Platform::join (unprotected, rejoin)", us(d), "");
    row(
        "handle_message(join), same join plus encode/decode + roster",
        us(w),
        "",
    );
    row("  difference", us(w - d), "target <= 2 us");
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--profile-time") {
        manual_pass();
    }
}
