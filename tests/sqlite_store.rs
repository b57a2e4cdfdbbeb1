//! The SQLite store: a platform restarted on its file finds what it
//! acknowledged; the file's schema is versioned; a second writer that decided
//! on a stale conference is refused; compaction keeps the file small.

mod common;

use std::sync::Arc;

use common::*;
use confkit::platform::{ConferenceOptions, Invitee, PlatformConfig};
use confkit::store::{SqliteStore, Store, StoreError, SQLITE_SCHEMA_VERSION};
use confkit::{ErrorCode, ManualClock, ParticipantStatus, Platform, PlatformError};

fn temp_db(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("confkit-sqlite-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("platform.db")
}

fn open_at(path: &std::path::Path, clock: &ManualClock) -> Platform {
    Platform::open(
        path,
        signing_key(),
        Arc::new(clock.clone()),
        PlatformConfig::default(),
    )
    .unwrap()
}

#[test]
fn a_platform_reopened_on_its_file_finds_its_conference() {
    let path = temp_db("reopen");
    let clock = ManualClock::new(START);
    let p = open_at(&path, &clock);
    let alice = open(&p, "alice", "Alice");
    let made = p.create_conference(alice, "Standup", protected()).unwrap();
    let room = made.conference.id;
    p.join(alice, room, made.owner_token.as_deref()).unwrap();
    let invited = p
        .app_invite(room, &[Invitee::new(eid("bob"), None)])
        .unwrap();
    let bob_token = invited[0].token.clone().unwrap();
    let bob = open(&p, "bob", "Bob");
    p.join(bob, room, Some(&bob_token)).unwrap();
    p.kick(alice, room, &eid("bob")).unwrap();
    let partner = confkit::token::SigningKey::generate(confkit::KeyId::new("partner").unwrap());
    p.add_verifying_key(partner.kid().clone(), partner.verifying_key())
        .unwrap();
    let image = p.durable_image();
    drop(p);

    let p = open_at(&path, &clock);
    assert_eq!(p.conference_by_alias("standup").unwrap().id, room);
    assert_eq!(
        statuses(&p, room),
        vec![
            ("alice".to_owned(), ParticipantStatus::Left),
            ("bob".to_owned(), ParticipantStatus::Kicked),
        ]
    );
    let bob = open(&p, "bob", "Bob");
    assert_eq!(
        p.join(bob, room, Some(&bob_token)).unwrap_err().code(),
        ErrorCode::TokenRevoked
    );
    assert!(
        p.jwks()
            .keys
            .iter()
            .any(|k| k.kid.as_deref() == Some("partner")),
        "a trusted key is trusted again"
    );
    let mut again = p.durable_image();
    assert_eq!(again.revoked_subjects, image.revoked_subjects);
    assert_eq!(again.keys, image.keys);
    // Everything but the restart's own leaves and epoch is as it was.
    again.session_epoch = image.session_epoch;
    assert_eq!(again.conferences.len(), image.conferences.len());
}

#[test]
fn the_schema_is_versioned_and_a_newer_one_is_refused() {
    let path = temp_db("schema");
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SQLITE_SCHEMA_VERSION);
    drop(store);
    // Reopening an up-to-date file migrates nothing and keeps its version.
    assert_eq!(
        SqliteStore::open(&path).unwrap().schema_version().unwrap(),
        SQLITE_SCHEMA_VERSION
    );
    let conn = rusqlite_connection(&path);
    conn.execute("UPDATE schema_version SET version = 99", [])
        .unwrap();
    drop(conn);
    match SqliteStore::open(&path) {
        Err(StoreError::Corrupt(why)) => assert!(why.contains("newer"), "{why}"),
        other => panic!("a newer schema must be refused, got {other:?}"),
    }
}

#[test]
fn a_file_that_is_not_a_store_is_refused() {
    let path = temp_db("garbage");
    std::fs::write(
        &path,
        b"this is not an SQLite database, not even close......",
    )
    .unwrap();
    let clock = ManualClock::new(START);
    let err = Platform::open(
        &path,
        signing_key(),
        Arc::new(clock),
        PlatformConfig::default(),
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}

/// Two platforms on one file (two app-server instances): the one that
/// decided on a conference the other has changed since is refused with
/// STORE_UNAVAILABLE and changes nothing, instead of overwriting.
#[test]
fn a_second_writer_on_a_stale_conference_is_refused() {
    let path = temp_db("fencing");
    let clock = ManualClock::new(START);
    let a = open_at(&path, &clock);
    let room = a
        .app_create(
            &eid("alice"),
            confkit::Alias::new("room").unwrap(),
            ConferenceOptions::default(),
            &[],
        )
        .unwrap()
        .created
        .conference
        .id;
    let b = open_at(&path, &clock);
    a.app_invite(room, &[Invitee::new(eid("bob"), None)])
        .unwrap();
    let before = b.debug_fingerprint();
    let err = b
        .app_invite(room, &[Invitee::new(eid("carol"), None)])
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::StoreUnavailable, "{err}");
    assert!(matches!(
        err,
        PlatformError::Store(StoreError::Conflict { .. })
    ));
    assert_eq!(b.debug_fingerprint(), before, "the refused writer changed");
    drop((a, b));
    let p = open_at(&path, &clock);
    let names: Vec<String> = statuses(&p, room).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["alice", "bob"],
        "the first writer's commit stands alone"
    );
}

#[test]
fn compaction_empties_the_log_and_keeps_the_state() {
    let path = temp_db("compact");
    let clock = ManualClock::new(START);
    let p = open_at(&path, &clock);
    let alice = open(&p, "alice", "Alice");
    for i in 0..50 {
        let _ = p
            .create_conference(alice, &format!("room-{i}"), unprotected())
            .unwrap();
    }
    let image = p.durable_image();
    p.compact().unwrap();
    drop(p);
    let mut store = SqliteStore::open(&path).unwrap();
    let mut loaded = store.load().unwrap();
    assert_eq!(store.log_len(), 0, "the snapshot holds everything");
    loaded.session_epoch = image.session_epoch;
    assert_eq!(loaded, image);
    drop(store);

    // Regression (found by the crash test): a commit made after a
    // compaction emptied the log was skipped at the next start, because its
    // log row reused a number the snapshot said it already held.
    let p = open_at(&path, &clock);
    let alice = open(&p, "alice", "Alice");
    let late = p
        .create_conference(alice, "after-compaction", unprotected())
        .unwrap()
        .conference
        .id;
    drop(p);
    let p = open_at(&path, &clock);
    assert_eq!(p.conference_by_alias("after-compaction").unwrap().id, late);
}

fn rusqlite_connection(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}
