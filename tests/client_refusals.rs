//! A message the client refuses changes nothing, even when part of it was
//! fine: a resync reply whose events carry one forged token is refused whole.

mod common;

use std::sync::Arc;

use common::*;
use confkit::client::{Client, ClientError, Update};
use confkit::wire::message::Op;
use confkit::{ConferenceId, KeyRing, PermissionSet};
use serde_json::json;

#[test]
fn a_resync_reply_with_one_forged_token_changes_nothing() {
    let (p, clock) = platform();
    let ring = KeyRing::from_jwks(&p.jwks()).unwrap();
    let mut bob = Client::new(eid("bob"), ring, Arc::new(clock.clone()));
    let conf = ConferenceId::random();
    let participant = json!({"externalId": "carol", "name": "Carol", "status": "CONNECTING",
        "type": "USER", "permissions": ["JOIN"]});
    // Event 2 arrives first: a gap, the client stalls and asks for a resync.
    let late = json!({"v": 1, "type": "event", "sequence": 2, "conferenceId": conf,
        "event": {"type": "participantAdded", "participant": participant}});
    let updates = bob.receive(late.to_string().as_bytes()).unwrap();
    assert!(matches!(updates[..], [Update::Gap { expected: 1, .. }]));
    let resync = bob.request(Op::Resync {
        last_sequence: 0,
        snapshot: false,
    });
    // The reply: a good event, then an invitation whose token was minted for
    // someone else.
    let (forged, _) = mint_at("mallory", conf, PermissionSet::ALL, START);
    let reply = json!({"v": 1, "type": "reply", "id": resync.id.as_str(), "result": {"events": [
        {"sequence": 1, "conferenceId": conf, "event": {"type": "participantAdded", "participant": participant}},
        {"sequence": 2, "conferenceId": conf, "event": {"type": "invitationReceived", "conferenceAlias": "x",
            "inviter": {"externalId": "eve", "name": "Eve"}, "token": forged, "permissions": ["JOIN"]}},
    ]}});
    let err = bob.receive(reply.to_string().as_bytes()).unwrap_err();
    assert!(matches!(err, ClientError::TokenSubject(_)), "{err}");
    // Nothing applied: still stalled at 0, no view, no invitation.
    assert!(bob.is_stalled());
    assert_eq!(bob.last_sequence(), 0);
    assert!(bob.conference(conf).is_none());
    assert!(bob.inbox().is_empty());
}

/// An invitation whose token expired before the phone read it is refused;
/// the missed events would bring it again, so the next resync asks for a
/// snapshot, which lets the stream go on.
#[test]
fn a_refused_token_does_not_block_the_stream() {
    let (p, clock) = platform();
    let (alice, conf) = protected_room(&p);
    let bob_sid = open(&p, "bob", "Bob");
    let ring = KeyRing::from_jwks(&p.jwks()).unwrap();
    let mut bob = Client::new(eid("bob"), ring, Arc::new(clock.clone()));
    p.invite(alice, conf, &[invitee("bob", None)]).unwrap();
    // The phone reads its events four hours later: the invitation's token
    // (3 h) has expired.
    clock.advance(4 * 60 * 60);
    let messages = p.drain_messages(bob_sid).unwrap();
    assert!(!messages.is_empty());
    let err = bob.receive(&messages[0]).unwrap_err();
    assert!(matches!(err, ClientError::Token(_)), "{err}");
    assert_eq!(bob.last_sequence(), 0);
    // The resync asks for a snapshot (events would replay the same token).
    let resync = bob.resync_request();
    let body: serde_json::Value = serde_json::from_slice(&resync.bytes).unwrap();
    assert_eq!(body["snapshot"], json!(true), "{body}");
    let reply = p.handle_message(bob_sid, &resync.bytes);
    let updates = bob.receive(&reply).unwrap();
    assert!(
        updates.contains(&Update::Resynced { snapshot: true }),
        "{updates:?}"
    );
    assert!(!bob.is_stalled());
    // The stream goes on from there.
    p.report(alice, conf, confkit::LifecycleEvent::MediaTrouble)
        .unwrap();
    for m in p.drain_messages(bob_sid).unwrap() {
        bob.receive(&m).unwrap();
    }
    let next = bob.resync_request();
    let body: serde_json::Value = serde_json::from_slice(&next.bytes).unwrap();
    assert_ne!(
        body["snapshot"],
        json!(true),
        "the snapshot cleared it: {body}"
    );
}
