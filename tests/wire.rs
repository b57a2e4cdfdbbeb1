//! The wire protocol's server side: every request over bytes, retransmissions
//! run once, bad input answered with a typed error and no change, events as
//! wire messages, and the examples of docs/PROTOCOL.md (tests/fixtures/wire/).

mod common;

use common::*;
use confkit::error::ErrorBody;
use confkit::event::EventKind;
use confkit::wire::message::{Op, Request, RequestId, ServerMessage, WireInvitee};
use confkit::wire::{MAX_MESSAGE_BYTES, REMEMBERED_REPLIES};
use confkit::{
    ConferenceId, ErrorCode, ParticipantStatus as S, Permission, PermissionSet, Platform, SessionId,
};
use serde_json::{json, Value};

/// Sends `body` (a JSON object without `v`/`id`) as request `id`; returns the
/// reply's outcome.
fn send(p: &Platform, sid: SessionId, id: &str, body: Value) -> Result<Value, ErrorBody> {
    let mut body = body;
    body["v"] = json!(1);
    body["id"] = json!(id);
    let reply = p.handle_message(sid, body.to_string().as_bytes());
    reply_of(&reply, Some(id))
}

fn reply_of(bytes: &[u8], id: Option<&str>) -> Result<Value, ErrorBody> {
    match ServerMessage::parse(bytes).expect("the reply parses") {
        ServerMessage::Reply { id: got, outcome } => {
            assert_eq!(got.as_deref(), id, "reply id");
            outcome
        }
        other => panic!("not a reply: {other:?}"),
    }
}

fn code(outcome: Result<Value, ErrorBody>) -> ErrorCode {
    outcome
        .expect_err("an error reply")
        .code()
        .expect("a known code")
}

/// The session's events, read from its wire messages.
fn events(p: &Platform, sid: SessionId) -> Vec<(u64, Option<EventKind>)> {
    p.drain_messages(sid)
        .unwrap()
        .iter()
        .map(
            |m| match ServerMessage::parse(m).expect("an event parses") {
                ServerMessage::Event(e) => (e.sequence, e.kind),
                other => panic!("not an event: {other:?}"),
            },
        )
        .collect()
}

fn conf_of(result: &Value) -> ConferenceId {
    ConferenceId::parse(result["conference"]["id"].as_str().unwrap()).unwrap()
}

#[test]
fn the_seed_flow_over_bytes() {
    let (p, _) = platform();
    let alice = open(&p, "alice", "Alice");
    let bob = open(&p, "bob", "Bob");
    let created = send(
        &p,
        alice,
        "a1",
        json!({"type": "create", "alias": "team", "protected": true}),
    )
    .unwrap();
    assert_eq!(created["isNew"], true);
    let conf = conf_of(&created);
    let owner_token = created["ownerToken"].as_str().unwrap().to_owned();
    let joined = send(
        &p,
        alice,
        "a2",
        json!({"type": "join", "conferenceId": conf, "token": owner_token}),
    )
    .unwrap();
    assert_eq!(
        (
            &joined["status"],
            &joined["permissions"],
            &joined["switched"]
        ),
        (
            &json!("CONNECTING"),
            &json!(PermissionSet::ALL),
            &json!(false)
        )
    );
    // The reply carries the roster as of the session's events so far.
    assert_eq!(joined["asOfSequence"], 1);
    assert_eq!(
        joined["conference"]["participants"][0]["externalId"],
        "alice"
    );
    assert_eq!(joined["conference"]["token"], json!(owner_token));
    let on_air = send(
        &p,
        alice,
        "a3",
        json!({"type": "mediaState", "conferenceId": conf, "state": "CONNECTED"}),
    )
    .unwrap();
    assert_eq!(on_air["status"], "ON_AIR");
    let invited = send(
        &p,
        alice,
        "a4",
        json!({"type": "invite", "conferenceId": conf,
        "invitees": [{"externalId": "bob"}, {"externalId": "carol", "permissions": ["JOIN"]}]}),
    )
    .unwrap();
    assert_eq!(
        invited["results"][0],
        json!({"externalId": "bob", "delivery": "DELIVERED", "sessions": 1,
        "permissions": PermissionSet::DEFAULT_INVITEE})
    );
    assert_eq!(invited["results"][1]["delivery"], "NO_OPEN_SESSION");
    assert!(
        !invited.to_string().contains("eyJ"),
        "no token in an SDK invite result"
    );

    // bob reads his invitation from the wire and joins with its token.
    let got = events(&p, bob);
    let token = match &got[..] {
        [(1, Some(EventKind::InvitationReceived { token: Some(t), .. }))] => t.clone(),
        other => panic!("{other:?}"),
    };
    send(
        &p,
        bob,
        "b1",
        json!({"type": "join", "conferenceId": conf, "token": token}),
    )
    .unwrap();
    send(
        &p,
        bob,
        "b2",
        json!({"type": "mediaState", "conferenceId": conf, "state": "CONNECTED"}),
    )
    .unwrap();
    let seen: Vec<_> = events(&p, alice)
        .into_iter()
        .filter_map(|(_, k)| match k {
            Some(EventKind::ParticipantUpdated {
                participant,
                new_status,
                ..
            }) if participant.external_id.as_str() == "bob" => Some(new_status),
            _ => None,
        })
        .collect();
    assert_eq!(seen, [S::Connecting, S::OnAir]);

    // Permission update, kick, and the errors a device sees.
    send(
        &p,
        alice,
        "a5",
        json!({"type": "updatePermissions", "conferenceId": conf, "externalId": "bob",
        "permissions": ["JOIN", "INVITE"]}),
    )
    .unwrap();
    assert_eq!(
        code(send(
            &p,
            bob,
            "b3",
            json!({"type": "kick", "conferenceId": conf, "externalId": "alice"})
        )),
        ErrorCode::NotAllowed
    );
    send(
        &p,
        alice,
        "a6",
        json!({"type": "kick", "conferenceId": conf, "externalId": "bob"}),
    )
    .unwrap();
    assert_eq!(
        code(send(
            &p,
            bob,
            "b4",
            json!({"type": "join", "conferenceId": conf, "token": token})
        )),
        ErrorCode::TokenRevoked
    );
    let fetched = send(&p, bob, "b5", json!({"type": "fetch", "alias": "TEAM"})).unwrap();
    assert_eq!(conf_of(&fetched), conf);
    send(&p, bob, "b6", json!({"type": "keepAlive"})).unwrap();
    send(
        &p,
        alice,
        "a7",
        json!({"type": "terminate", "conferenceId": conf}),
    )
    .unwrap();
    assert_eq!(
        code(send(
            &p,
            bob,
            "b7",
            json!({"type": "fetch", "conferenceId": conf})
        )),
        ErrorCode::ConferenceNotFound
    );
}

#[test]
fn every_request_type_sent_twice_runs_once() {
    let (p, _) = platform();
    let alice = open(&p, "alice", "Alice");
    let bob = open(&p, "bob", "Bob");
    let carol = open(&p, "carol", "Carol");
    let created = send(&p, alice, "c", json!({"type": "create", "alias": "room"})).unwrap();
    let conf = conf_of(&created);
    let other =
        conf_of(&send(&p, carol, "c", json!({"type": "create", "alias": "carols"})).unwrap());
    let steps: Vec<(SessionId, Value)> = vec![
        (alice, json!({"type": "join", "conferenceId": conf})),
        (
            alice,
            json!({"type": "mediaState", "conferenceId": conf, "state": "CONNECTED"}),
        ),
        (
            alice,
            json!({"type": "mediaState", "conferenceId": conf, "state": "WARNING"}),
        ),
        (
            alice,
            json!({"type": "mediaState", "conferenceId": conf, "state": "RECOVERED"}),
        ),
        (
            alice,
            json!({"type": "invite", "conferenceId": conf, "invitees": [{"externalId": "bob"}, {"externalId": "dave"}]}),
        ),
        (bob, json!({"type": "decline", "conferenceId": conf})),
        (bob, json!({"type": "listen", "conferenceId": conf})),
        (bob, json!({"type": "leave", "conferenceId": conf})),
        (bob, json!({"type": "join", "conferenceId": conf})),
        (
            alice,
            json!({"type": "updatePermissions", "conferenceId": conf, "externalId": "bob", "permissions": ["JOIN"]}),
        ),
        (
            alice,
            json!({"type": "kick", "conferenceId": conf, "externalId": "bob"}),
        ),
        (alice, json!({"type": "fetch", "conferenceId": conf})),
        (alice, json!({"type": "keepAlive"})),
        (carol, json!({"type": "create", "alias": "another"})),
        (carol, json!({"type": "join", "conferenceId": other})),
        (
            carol,
            json!({"type": "mediaState", "conferenceId": other, "state": "FAILURE"}),
        ),
        (carol, json!({"type": "terminate", "conferenceId": other})),
        (alice, json!({"type": "resync", "lastSequence": 0})),
    ];
    let mut covered = std::collections::BTreeSet::new();
    for (i, (sid, body)) in steps.into_iter().enumerate() {
        let id = format!("r{i}");
        let first = send(&p, sid, &id, body.clone());
        assert!(first.is_ok(), "step {i} {body}: {first:?}");
        let after_first = (
            p.participants(conf).unwrap(),
            p.pending_events(alice),
            p.pending_events(bob),
        );
        let again = send(&p, sid, &id, body.clone());
        assert_eq!(again, first, "the same reply for {body}");
        assert_eq!(
            (
                p.participants(conf).unwrap(),
                p.pending_events(alice),
                p.pending_events(bob)
            ),
            after_first,
            "a retransmission of {body} ran again"
        );
        covered.insert(body["type"].as_str().unwrap().to_owned());
    }
    let all: std::collections::BTreeSet<String> = confkit::wire::message::REQUEST_TYPES
        .iter()
        .map(|t| t.to_string())
        .collect();
    assert_eq!(covered, all, "every request type is covered");
    // An error reply is remembered too: the retransmission gets it again.
    let first = send(
        &p,
        bob,
        "err",
        json!({"type": "kick", "conferenceId": conf, "externalId": "alice"}),
    );
    assert_eq!(
        send(
            &p,
            bob,
            "err",
            json!({"type": "kick", "conferenceId": conf, "externalId": "alice"})
        ),
        first
    );
    // Another session may use the same id: ids are per session.
    assert!(send(&p, carol, "r0", json!({"type": "keepAlive"})).is_ok());
}

#[test]
fn remembered_replies_are_bounded() {
    let (p, _) = platform();
    let alice = open(&p, "alice", "Alice");
    let conf = conf_of(&send(&p, alice, "c", json!({"type": "create", "alias": "room"})).unwrap());
    send(
        &p,
        alice,
        "join",
        json!({"type": "join", "conferenceId": conf}),
    )
    .unwrap();
    send(
        &p,
        alice,
        "leave",
        json!({"type": "leave", "conferenceId": conf}),
    )
    .unwrap();
    // Within the window a repeat is answered from memory...
    assert!(send(
        &p,
        alice,
        "leave",
        json!({"type": "leave", "conferenceId": conf})
    )
    .is_ok());
    for i in 0..REMEMBERED_REPLIES {
        send(&p, alice, &format!("k{i}"), json!({"type": "keepAlive"})).unwrap();
    }
    // ... beyond it "leave" is forgotten: it runs again (and is refused now).
    assert_eq!(
        code(send(
            &p,
            alice,
            "leave",
            json!({"type": "leave", "conferenceId": conf})
        )),
        ErrorCode::NotInConference
    );
}

#[test]
fn bad_input_gets_a_typed_error_and_changes_nothing() {
    let (p, _) = platform();
    let alice = open(&p, "alice", "Alice");
    let conf = conf_of(&send(&p, alice, "c", json!({"type": "create", "alias": "room"})).unwrap());
    send(
        &p,
        alice,
        "j",
        json!({"type": "join", "conferenceId": conf}),
    )
    .unwrap();
    drain(&p, alice);
    let before = Snapshot::take(&p, conf, &[alice]);
    let good = json!({"v": 1, "id": "x", "type": "leave", "conferenceId": conf}).to_string();
    let oversized = format!(
        r#"{{"v":1,"id":"big","type":"keepAlive","pad":"{}"}}"#,
        "a".repeat(MAX_MESSAGE_BYTES)
    );
    let cases: Vec<(&str, Vec<u8>, Option<&str>, ErrorCode)> = vec![
        ("truncated", good.as_bytes()[..good.len() - 3].to_vec(), None, ErrorCode::InvalidArgument),
        ("empty", Vec::new(), None, ErrorCode::InvalidArgument),
        ("not JSON", b"hello".to_vec(), None, ErrorCode::InvalidArgument),
        ("not UTF-8", vec![0xff, 0xfe, b'{'], None, ErrorCode::InvalidArgument),
        ("an array", b"[1,2]".to_vec(), None, ErrorCode::InvalidArgument),
        ("oversized", oversized.into_bytes(), None, ErrorCode::TooLarge),
        ("no id", br#"{"v":1,"type":"keepAlive"}"#.to_vec(), None, ErrorCode::InvalidArgument),
        ("id not a string", br#"{"v":1,"id":7,"type":"keepAlive"}"#.to_vec(), None, ErrorCode::InvalidArgument),
        ("id too long", format!(r#"{{"v":1,"id":"{}","type":"keepAlive"}}"#, "i".repeat(65)).into_bytes(), None, ErrorCode::InvalidArgument),
        ("no version", json!({"id": "x", "type": "leave", "conferenceId": conf}).to_string().into_bytes(), Some("x"), ErrorCode::InvalidArgument),
        ("wrong version", json!({"v": 2, "id": "x", "type": "leave", "conferenceId": conf}).to_string().into_bytes(), Some("x"), ErrorCode::InvalidArgument),
        ("unknown type", json!({"v": 1, "id": "x", "type": "teleport", "conferenceId": conf}).to_string().into_bytes(), Some("x"), ErrorCode::InvalidArgument),
        ("type not a string", json!({"v": 1, "id": "x", "type": 3}).to_string().into_bytes(), Some("x"), ErrorCode::InvalidArgument),
        ("missing member", json!({"v": 1, "id": "x", "type": "leave"}).to_string().into_bytes(), Some("x"), ErrorCode::InvalidArgument),
        ("wrong type", json!({"v": 1, "id": "x", "type": "leave", "conferenceId": 5}).to_string().into_bytes(), Some("x"), ErrorCode::InvalidArgument),
        ("braced conference id", json!({"v": 1, "id": "x", "type": "leave", "conferenceId": format!("{{{conf}}}")}).to_string().into_bytes(), Some("x"), ErrorCode::InvalidArgument),
        ("invitee as array", json!({"v": 1, "id": "x", "type": "invite", "conferenceId": conf, "invitees": [["bob"]]}).to_string().into_bytes(), Some("x"), ErrorCode::InvalidArgument),
        ("unknown permission", json!({"v": 1, "id": "x", "type": "invite", "conferenceId": conf, "invitees": [{"externalId": "bob", "permissions": ["FLY"]}]}).to_string().into_bytes(), Some("x"), ErrorCode::UnknownPermission),
        ("bad media state", json!({"v": 1, "id": "x", "type": "mediaState", "conferenceId": conf, "state": "ASLEEP"}).to_string().into_bytes(), Some("x"), ErrorCode::InvalidArgument),
    ];
    for (what, bytes, id, want) in cases {
        let reply = p.handle_message(alice, &bytes);
        let outcome = reply_of(&reply, id);
        let err = outcome.expect_err(what);
        assert_eq!(err.code(), Some(want), "{what}: {err:?}");
        assert_eq!(err.error_reason, want.name(), "{what}");
        assert!(!err.error_description.is_empty(), "{what}");
        assert_eq!(
            Snapshot::take(&p, conf, &[alice]),
            before,
            "{what} changed the state"
        );
    }
    // Unknown members are ignored (a newer device may send more).
    let extra = json!({"v": 1, "id": "y", "type": "keepAlive", "hint": {"future": true}});
    assert!(reply_of(
        &p.handle_message(alice, extra.to_string().as_bytes()),
        Some("y")
    )
    .is_ok());
    // A closed session gets SESSION_NOT_FOUND.
    p.close_session(alice).unwrap();
    assert_eq!(
        code(send(&p, alice, "z", json!({"type": "keepAlive"}))),
        ErrorCode::SessionNotFound
    );
}

#[test]
fn requests_round_trip_through_their_encoding() {
    let conf = ConferenceId::random();
    let ops = [
        Op::Create {
            alias: "a".into(),
            protected: true,
            audio_only: false,
            participant_limit: Some(3),
            empty_ttl_secs: None,
            token_ttl_secs: Some(60),
        },
        Op::Fetch {
            conference_id: Some(conf.to_string()),
            alias: None,
        },
        Op::Join {
            conference_id: conf.to_string(),
            token: Some("t".into()),
        },
        Op::Invite {
            conference_id: conf.to_string(),
            invitees: vec![WireInvitee {
                external_id: eid("bob"),
                permissions: Some(PermissionSet::of(&[Permission::Join])),
            }],
        },
        Op::KeepAlive {},
    ];
    for op in ops {
        let request = Request {
            id: RequestId::new("q").unwrap(),
            op,
        };
        assert_eq!(Request::parse(&request.to_bytes()).unwrap(), request);
    }
}

// ---------------------------------------------------------------------------
// The documented examples
// ---------------------------------------------------------------------------

fn fixtures(kind: &str) -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wire")
        .join(kind);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_protocol_document_shows_every_fixture_and_each_parses() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/PROTOCOL.md")).unwrap();
    let requests = fixtures("requests");
    let names: std::collections::BTreeSet<String> = requests
        .iter()
        .map(|(_, text)| {
            Request::parse(text.trim().as_bytes())
                .unwrap_or_else(|e| panic!("{text}: {e:?}"))
                .op
                .type_name()
                .to_owned()
        })
        .collect();
    let all: std::collections::BTreeSet<String> = confkit::wire::message::REQUEST_TYPES
        .iter()
        .map(|t| t.to_string())
        .collect();
    assert_eq!(names, all, "one example per request type");
    let server = fixtures("server");
    assert!(server.len() >= 4);
    for (name, text) in &server {
        let msg =
            ServerMessage::parse(text.trim().as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let ServerMessage::Event(e) = msg {
            assert!(
                e.kind.is_some() || name.contains("unknown"),
                "{name}: a known event type"
            );
        }
    }
    for (name, text) in requests.iter().chain(&server) {
        assert!(
            doc.contains(text.trim()),
            "docs/PROTOCOL.md does not show {name} as committed:\n{}",
            text.trim()
        );
    }
}

#[test]
fn events_come_out_as_documented() {
    let (p, _) = platform();
    let alice = open(&p, "alice", "Alice");
    let bob = open(&p, "bob", "Bob");
    let conf = conf_of(&send(&p, alice, "c", json!({"type": "create", "alias": "room"})).unwrap());
    send(
        &p,
        alice,
        "j",
        json!({"type": "join", "conferenceId": conf}),
    )
    .unwrap();
    send(
        &p,
        alice,
        "i",
        json!({"type": "invite", "conferenceId": conf, "invitees": [{"externalId": "bob"}]}),
    )
    .unwrap();
    let messages = p.drain_messages(bob).unwrap();
    let value: Value = serde_json::from_slice(&messages[0]).unwrap();
    assert_eq!(
        keys(&value),
        ["conferenceId", "event", "sequence", "type", "v"]
    );
    assert_eq!(value["type"], "event");
    assert_eq!(value["event"]["type"], "invitationReceived");
    assert_eq!(value["sequence"], 1);
}
