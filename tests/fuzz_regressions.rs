//! One test per defect the fuzz targets (`fuzz/`) found: each replays the
//! failing input's essence through the public API and checks the oracle that
//! caught it. The input itself is also a committed seed,
//! `fuzz/corpus/<target>/regression-*`, so every fuzz run replays it too.

mod common;

use std::ptr::null_mut;
use std::sync::Arc;

use common::*;
use confkit::client::Client;
use confkit::ffi::platform::{confkit_platform_free, confkit_platform_new};
use confkit::ffi::session::{
    confkit_session_free, confkit_session_handle_message, confkit_session_open,
};
use confkit::ffi::{
    confkit_buffer, confkit_buffer_free, confkit_error, confkit_error_code, confkit_error_free,
    confkit_live_objects, CONFKIT_STATUS_OK, CONFKIT_STATUS_TOO_LARGE,
};
use confkit::wire::MAX_MESSAGE_BYTES;
use confkit::{ConferenceId, ManualClock, PermissionSet};

/// ffi_surface: `confkit_session_handle_message` documents that a message
/// over `CONFKIT_MAX_MESSAGE_BYTES` is an unusable argument (a failing
/// status), but answered OK with a TOO_LARGE error reply in the buffer.
/// Seed: fuzz/corpus/ffi_surface/regression-handle-message-oversize.
#[test]
fn ffi_handle_message_refuses_an_oversize_message_with_a_status() {
    let live = confkit_live_objects();
    let kid = b"k";
    unsafe {
        let mut platform = null_mut();
        assert_eq!(
            confkit_platform_new(
                null_mut(),
                kid.as_ptr(),
                kid.len(),
                &mut platform,
                null_mut()
            ),
            CONFKIT_STATUS_OK
        );
        let (id, name) = (b"alice", b"Alice");
        let mut session = null_mut();
        assert_eq!(
            confkit_session_open(
                platform,
                id.as_ptr(),
                id.len(),
                name.as_ptr(),
                name.len(),
                std::ptr::null(),
                0,
                &mut session,
                null_mut()
            ),
            CONFKIT_STATUS_OK
        );
        let mut big = vec![b' '; MAX_MESSAGE_BYTES + 1];
        big[0] = b'{';
        *big.last_mut().unwrap() = b'}';
        let mut reply = confkit_buffer {
            data: null_mut(),
            len: 12345,
        };
        let mut err: *mut confkit_error = null_mut();
        let st =
            confkit_session_handle_message(session, big.as_ptr(), big.len(), &mut reply, &mut err);
        assert_eq!(st, CONFKIT_STATUS_TOO_LARGE);
        assert_eq!(confkit_error_code(err), CONFKIT_STATUS_TOO_LARGE);
        assert!(
            reply.data.is_null() && reply.len == 12345,
            "no output on failure"
        );
        confkit_error_free(err);
        // At the cap it is still answered (with an error reply: not JSON).
        let at_cap = &big[..MAX_MESSAGE_BYTES];
        let st = confkit_session_handle_message(
            session,
            at_cap.as_ptr(),
            at_cap.len(),
            &mut reply,
            null_mut(),
        );
        assert_eq!(st, CONFKIT_STATUS_OK);
        assert!(!reply.data.is_null());
        confkit_buffer_free(reply);
        confkit_session_free(session);
        confkit_platform_free(platform);
    }
    assert_eq!(confkit_live_objects(), live);
}

/// wire_client: a resync reply carrying events applied them one by one and,
/// when a later one was refused (its token is for someone else), returned
/// the error with the earlier ones already applied: "a refused message
/// changes nothing" did not hold. Seed:
/// fuzz/corpus/wire_client/regression-resync-events-bad-token.
#[test]
fn a_refused_resync_reply_changes_nothing() {
    let conf = ConferenceId::parse("25649f3b-ebf1-49e9-b982-2d78d2964d37").unwrap();
    let (p, _clock) = platform();
    let mut bob = Client::new(eid("bob"), ring(&p), Arc::new(ManualClock::new(START)));
    let resync = bob.resync_request();
    let participant = r#"{"externalId":"alice","name":"Alice","status":"ON_AIR","type":"USER","permissions":["JOIN"]}"#;
    let reply = |token: &str| {
        format!(
            r#"{{"v":1,"type":"reply","id":"{}","result":{{"events":[
                {{"sequence":1,"conferenceId":"{conf}","event":{{"type":"participantAdded","participant":{participant}}}}},
                {{"sequence":2,"conferenceId":"{conf}","event":{{"type":"permissionsUpdated","permissions":["JOIN"],"token":"{token}"}}}}
            ]}}}}"#,
            resync.id.as_str()
        )
    };
    let (carols, _) = mint_at("carol", conf, PermissionSet::ALL, START);
    let err = bob.receive(reply(&carols).as_bytes());
    assert!(err.is_err(), "a token for carol is refused: {err:?}");
    assert_eq!(bob.conferences().count(), 0, "nothing applied");
    assert_eq!(bob.last_sequence(), 0);
    assert!(!bob.is_stalled());
    // The request still waits for its reply: a good one applies in full.
    let (bobs, _) = mint_at("bob", conf, PermissionSet::ALL, START);
    bob.receive(reply(&bobs).as_bytes()).unwrap();
    assert_eq!(bob.last_sequence(), 2);
    let view = bob.conference(conf).unwrap();
    assert!(view.participants.contains_key(&eid("alice")));
    assert_eq!(
        view.my_permissions,
        PermissionSet::of(&[confkit::Permission::Join])
    );
}

/// ffi_surface: on a clock near the end of time (u64::MAX - 255) a token's
/// expiry saturates, its refresh fell due at once, and the sweep refreshed it
/// again and again: the next operation never returned. Seed:
/// fuzz/corpus/ffi_surface/regression-refresh-at-the-end-of-time.
#[test]
fn a_clock_at_the_end_of_time_does_not_loop_on_refreshes() {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let clock = ManualClock::new(u64::MAX - 255);
        let config = confkit::platform::PlatformConfig {
            token_ttl_secs: 3600,
            ..Default::default()
        };
        let p = confkit::Platform::with_config(signing_key(), Arc::new(clock), config);
        let alice = open(&p, "alice", "Alice");
        let made = p.create_conference(alice, "room", protected()).unwrap();
        let joined = p.join(alice, made.conference.id, made.owner_token.as_deref());
        // Whatever the verdict on a token stamped at the end of time, the
        // operations return.
        let _ = joined;
        let _ = p.report(
            alice,
            made.conference.id,
            confkit::LifecycleEvent::Connected,
        );
        p.expire_conferences();
        let _ = done_tx.send(p.pending_events(alice).unwrap());
    });
    let queued = done_rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("an operation did not return within 30 s (refresh loop)");
    assert!(queued <= confkit::platform::DEFAULT_MAX_QUEUED_EVENTS);
}

/// jwks_parse: serde's derived reading takes a struct written as an array of
/// its fields, so `[[]]` read as a JWK set with no keys. confkit's own reader
/// (src/json/read.rs) takes only objects, as RFC 7517 has them; the oracle
/// assumed serde's shape rules and was fixed. Seed:
/// fuzz/corpus/jwks_parse/regression-array-form-set.
#[test]
fn a_jwk_set_or_key_written_as_an_array_is_refused() {
    use confkit::token::KeyRing;
    let key = r#"{"kty":"OKP","crv":"Ed25519","x":"GX9rI-FshTLGq8g4-s1ep4m-DHaykgM0A5v6iz02jWE","kid":"k"}"#;
    assert!(KeyRing::from_jwks_json(&format!("{{\"keys\":[{key}]}}")).is_ok());
    for text in [
        "[[]]".to_owned(),
        format!("[[{key}]]"),
        r#"{"keys":[["OKP","Ed25519","GX9rI-FshTLGq8g4-s1ep4m-DHaykgM0A5v6iz02jWE","k"]]}"#
            .to_owned(),
    ] {
        assert!(KeyRing::from_jwks_json(&text).is_err(), "{text}");
    }
}
