//! Growth: 10^5 operations on a platform over an SQLite file, then the token
//! lifetime passes on the manual clock; the file and the platform's memory
//! must be back near where they started (what has expired is forgotten by
//! the platform and deleted from the store, and the file gives the pages
//! back). Prints the figures (README "Durability").
//!
//! `CONFKIT_GROWTH_OPS` changes the number of operations (default 100,000).

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;

use confkit::platform::{ConferenceOptions, Invitee, PlatformConfig};
use confkit::store::{SqliteStore, Sync};
use confkit::token::{KeyId, SigningKey};
use confkit::{Alias, ExternalId, ManualClock, ParticipantInfo, Platform};

/// Counts the bytes the Rust side holds (SQLite allocates on its own, with a
/// bounded page cache).
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is forwarded unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn file_bytes(db: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", db.display())).ok())
        .map(|m| m.len())
        .sum()
}

fn eid(s: &str) -> ExternalId {
    ExternalId::new(s).unwrap()
}

#[test]
fn the_store_and_the_memory_return_near_their_baseline() {
    let ops: usize = std::env::var("CONFKIT_GROWTH_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("confkit-growth-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("platform.db");
    let clock = ManualClock::new(1_700_000_000);
    let config = PlatformConfig {
        // Bounded on its own (README "Bounds"); kept small so it does not
        // hide the state's own growth in the figures.
        verified_tokens: 256,
        ..PlatformConfig::default()
    };
    // NORMAL: survives the process being killed, not a power cut; this test
    // is about growth, and FULL would spend its time waiting for the disk.
    let store = SqliteStore::open_with(&db, Sync::Normal).unwrap();
    let p = Platform::with_store(
        SigningKey::from_seed(&[9; 32], KeyId::new("growth").unwrap()),
        Arc::new(clock.clone()),
        config,
        Box::new(store),
    )
    .unwrap();
    let host = p.open_session(ParticipantInfo::anonymous(eid("host")));
    let _ = p.drain_events(host);
    let base_file = file_bytes(&db);
    let base_mem = LIVE.load(Ordering::Relaxed);

    let (mut done, mut cycle) = (0usize, 0u64);
    let (mut peak_file, mut peak_mem) = (0u64, 0isize);
    while done < ops {
        cycle += 1;
        // About 8 operations a cycle, one second apart: conferences come
        // and go, tokens are issued, kicked and revoked.
        let alias = Alias::new(format!("room-{cycle}")).unwrap();
        let options = ConferenceOptions {
            protected: cycle % 2 == 0,
            empty_ttl_secs: Some(600),
            ..ConferenceOptions::default()
        };
        let invitees: Vec<Invitee> = (0..3)
            .map(|i| Invitee::new(eid(&format!("u{cycle}-{i}")), None))
            .collect();
        let made = p
            .app_create(&eid("host"), alias, options, &invitees)
            .unwrap();
        let id = made.created.conference.id;
        let guest = p.open_session(ParticipantInfo::anonymous(eid(&format!("u{cycle}-0"))));
        let token = made.invited[0].token.clone();
        p.join(guest, id, token.as_deref()).unwrap();
        p.app_kick(id, &[eid(&format!("u{cycle}-1"))]).unwrap();
        if let Some(t) = &made.invited[2].token {
            let ring = confkit::KeyRing::from_jwks(&p.jwks()).unwrap();
            let claims = ring
                .verify(t, &confkit::Validation::new(clock.now(), id))
                .unwrap();
            p.revoke_token(&claims.token_id).unwrap();
        }
        p.leave(guest, id).unwrap();
        p.close_session(guest).unwrap();
        if cycle % 2 == 1 {
            p.app_terminate(id).unwrap();
        }
        let _ = p.drain_events(host);
        clock.advance(1);
        done += 8;
        if cycle % 1000 == 0 {
            peak_file = peak_file.max(file_bytes(&db));
            peak_mem = peak_mem.max(LIVE.load(Ordering::Relaxed));
        }
    }
    peak_file = peak_file.max(file_bytes(&db));
    peak_mem = peak_mem.max(LIVE.load(Ordering::Relaxed));

    // Everything the operations made expires: the conferences (empty for
    // 10 minutes), the tokens (3 hours) and what was kept to refuse them.
    clock.advance(4 * 60 * 60);
    p.expire_conferences();
    // The conferences that expired just now are answered as "destroyed"
    // for one more token lifetime.
    clock.advance(4 * 60 * 60);
    p.expire_conferences();
    let _ = p.drain_events(host);
    let retained = p.retained();
    let end_file = file_bytes(&db);
    let end_mem = LIVE.load(Ordering::Relaxed);
    eprintln!(
        "growth: {done} operations ({cycle} cycles); file {base_file} B at start, \
         {peak_file} B at peak, {end_file} B at the end; memory {base_mem} B at start, \
         {peak_mem} B at peak, {end_mem} B at the end; retained {retained:?}"
    );
    assert_eq!(
        p.durable_image().conferences.len(),
        0,
        "every conference expired"
    );
    assert_eq!(retained.revoked_token_ids, 0);
    assert_eq!(retained.revoked_subjects, 0);
    assert_eq!(retained.destroyed_conferences, 0);
    assert!(
        peak_file > base_file + 256 * 1024,
        "the operations never grew the file ({peak_file} B): the check means nothing"
    );
    // Near the baseline: what is left is bounded, not proportional to the
    // number of operations.
    assert!(
        end_file <= base_file + 512 * 1024,
        "the file stayed at {end_file} B (started at {base_file} B)"
    );
    // The token cache (256 entries at most) and maps' spare capacity may stay.
    assert!(
        end_mem <= base_mem + 2 * 1024 * 1024,
        "memory stayed at {end_mem} B (started at {base_mem} B, peak {peak_mem} B)"
    );
    p.close_session(host).unwrap();
    let closed_mem = LIVE.load(Ordering::Relaxed);
    drop(p);
    eprintln!("growth: memory {closed_mem} B with the host's session closed, {} B with the platform dropped", LIVE.load(Ordering::Relaxed));
    let _ = std::fs::remove_dir_all(&dir);
}
