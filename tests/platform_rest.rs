//! Scenario tests of the REST-style interface (`Platform::handle_rest`): the
//! app-server flows, every endpoint's happy path with DESIGN's field names, and
//! every error with its HTTP status, its JSON error body, and no change of state.

mod common;

use common::*;
use confkit::event::{EndReason, EventKind};
use confkit::platform::rest::MAX_BODY_BYTES;
use confkit::token::{KeyRing, TokenError, Validation};
use confkit::{
    ConferenceId, ErrorCode, KeyId, LifecycleEvent, ParticipantStatus as S, ParticipantType,
    Permission as P, PermissionSet, Platform, PlatformError, SessionId, SigningKey,
};
use serde_json::{json, Value};

const ALICE_AVATAR: &str = "https://example.com/alice.png";

fn perms(list: &[P]) -> PermissionSet {
    PermissionSet::of(list)
}

fn names(set: PermissionSet) -> Value {
    json!(set.names().collect::<Vec<_>>())
}

fn conf_path(conf: &impl std::fmt::Display, tail: &str) -> String {
    if tail.is_empty() {
        format!("/v2/conferences/{conf}")
    } else {
        format!("/v2/conferences/{conf}/{tail}")
    }
}

/// POST /v2/conferences/create; asserts 200 and returns the body and the id.
fn create(p: &Platform, body: &Value) -> (Value, ConferenceId) {
    let (status, answer) = rest_json(p, "POST", "/v2/conferences/create", body);
    assert_eq!(status, 200, "{answer}");
    let id = ConferenceId::parse(answer["conferenceId"].as_str().unwrap()).unwrap();
    (answer, id)
}

/// GET /v2/conferences/{id}/participants.
fn get_participants(p: &Platform, conf: ConferenceId) -> (u16, Value) {
    rest(p, "GET", &conf_path(&conf, "participants"), "")
}

/// A token from a `usersTokens` member.
fn token_of(answer: &Value, id: &str) -> String {
    answer["usersTokens"][id]
        .as_str()
        .unwrap_or_else(|| panic!("no token for {id} in {answer}"))
        .to_owned()
}

/// What a refused request must leave as it was: the REST view of the
/// participants, the conference, and every listed session's queue.
#[derive(Debug, PartialEq)]
struct State {
    rest: (u16, Value),
    snapshot: Snapshot,
}

fn state(p: &Platform, conf: ConferenceId, sessions: &[SessionId]) -> State {
    State {
        rest: get_participants(p, conf),
        snapshot: Snapshot::take(p, conf, sessions),
    }
}

/// alice (session, avatar) owns "all-hands", created over REST, joined and ON_AIR;
/// bob is invited (default permissions), joined and ON_AIR; carol has a
/// session and is not invited. Every queue is drained.
struct Setup {
    p: Platform,
    clock: confkit::ManualClock,
    conf: ConferenceId,
    alice: SessionId,
    bob: SessionId,
    carol: SessionId,
    owner_token: String,
    bob_token: String,
}

impl Setup {
    fn new() -> Self {
        let (p, clock) = platform();
        let alice = open_with_avatar(&p, "alice", "Alice", ALICE_AVATAR);
        let bob = open(&p, "bob", "Bob");
        let carol = open(&p, "carol", "Carol");
        let (answer, conf) = create(
            &p,
            &json!({
                "ownerExternalId": "alice",
                "alias": "all-hands",
                "participants": { "bob": { "notification": true } }
            }),
        );
        let owner_token = answer["ownerToken"].as_str().unwrap().to_owned();
        let bob_token = token_of(&answer, "bob");
        p.join(alice, conf, Some(&owner_token)).unwrap();
        p.report(alice, conf, LifecycleEvent::Connected).unwrap();
        p.join(bob, conf, Some(&bob_token)).unwrap();
        p.report(bob, conf, LifecycleEvent::Connected).unwrap();
        for s in [alice, bob, carol] {
            drain(&p, s);
        }
        Setup {
            p,
            clock,
            conf,
            alice,
            bob,
            carol,
            owner_token,
            bob_token,
        }
    }

    fn sessions(&self) -> [SessionId; 3] {
        [self.alice, self.bob, self.carol]
    }

    fn state(&self) -> State {
        state(&self.p, self.conf, &self.sessions())
    }

    fn post(&self, tail: &str, body: &str) -> (u16, Value) {
        rest(&self.p, "POST", &conf_path(&self.conf, tail), body)
    }
}

// ===========================================================================
// The REST flows
// ===========================================================================

#[test]
fn rest_flow_create_with_participant_list_and_notification() {
    let (p, _clock) = platform();
    let alice = open_with_avatar(&p, "alice", "Alice", ALICE_AVATAR);
    let bob = open(&p, "bob", "Bob");
    let carol = open(&p, "carol", "Carol");
    let erin_perms = perms(&[P::Join, P::SendAudio, P::SendVideo]);

    let (answer, conf) = create(
        &p,
        &json!({
            "ownerExternalId": "alice",
            "alias": "All-Hands",
            "parameters": {
                "ttl": 600,
                "audioOnly": true,
                "participantLimit": 10,
                "tokenTtl": 7200
            },
            "participants": {
                "bob": { "notification": true },
                "carol": { "permissions": ["JOIN", "SEND_AUDIO"], "notification": false },
                "erin": { "permissions": ["JOIN", "SEND_AUDIO", "SEND_VIDEO"], "notification": true }
            }
        }),
    );
    assert_eq!(
        keys(&answer),
        [
            "conferenceAlias",
            "conferenceId",
            "delivery",
            "isNew",
            "isProtected",
            "ownerToken",
            "usersTokens"
        ]
    );
    assert_eq!(answer["conferenceAlias"], "All-Hands");
    assert_eq!(answer["isProtected"], true);
    assert_eq!(answer["isNew"], true);
    assert_eq!(keys(&answer["usersTokens"]), ["bob", "carol", "erin"]);
    assert_eq!(
        answer["delivery"],
        json!({ "bob": "DELIVERED", "carol": "NOT_REQUESTED", "erin": "NO_OPEN_SESSION" })
    );

    // The tokens: the owner's with every permission, one per invitee with theirs.
    let owner = verify(&p, answer["ownerToken"].as_str().unwrap(), conf).unwrap();
    assert_eq!(
        (owner.subject.as_str(), owner.permissions),
        ("alice", PermissionSet::ALL)
    );
    assert_eq!(owner.expires_at - owner.issued_at, 7200, "tokenTtl");
    for (id, want) in [
        ("bob", PermissionSet::DEFAULT_INVITEE),
        ("carol", perms(&[P::Join, P::SendAudio])),
        ("erin", erin_perms),
    ] {
        let claims = verify(&p, &token_of(&answer, id), conf).unwrap();
        assert_eq!(claims.subject.as_str(), id);
        assert_eq!(claims.permissions, want, "{id}");
        assert_eq!(claims.conference, conf);
    }

    // The parameters.
    let info = p.conference(conf).unwrap();
    assert_eq!(info.owner.as_str(), "alice");
    assert!(info.is_protected && info.audio_only);
    assert_eq!(info.participant_limit, Some(10));
    assert_eq!((info.empty_ttl_secs, info.token_ttl_secs), (600, 7200));
    assert_eq!(p.conference_by_alias("all-hands").unwrap().id, conf);

    // The notifications: alice is told her conference exists, bob (notification
    // with a session) is invited by alice, carol (no notification) hears nothing.
    let events = drain(&p, alice);
    assert_eq!(events.len(), 1);
    assert_eq!(
        *events[0].kind,
        EventKind::ConferenceCreated {
            conference_alias: "All-Hands".into(),
            is_protected: true
        }
    );
    let events = drain(&p, bob);
    assert_eq!(events[0].conference_id, Some(conf));
    let (alias, inviter, token, granted) = invitation(&events);
    assert_eq!(alias, "All-Hands");
    assert_eq!(inviter, p.session_info(alice).unwrap());
    assert_eq!(token, Some(token_of(&answer, "bob")));
    assert_eq!(granted, Some(PermissionSet::DEFAULT_INVITEE));
    assert_eq!(p.pending_events(carol), Ok(0));

    // Everyone is a participant, RESERVED.
    let (status, list) = get_participants(&p, conf);
    assert_eq!(status, 200);
    let rows: Vec<(String, String, Value)> = list["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["externalId"].as_str().unwrap().to_owned(),
                v["status"].as_str().unwrap().to_owned(),
                v["permissions"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("alice".into(), "RESERVED".into(), names(PermissionSet::ALL)),
            (
                "bob".into(),
                "RESERVED".into(),
                names(PermissionSet::DEFAULT_INVITEE)
            ),
            (
                "carol".into(),
                "RESERVED".into(),
                json!(["JOIN", "SEND_AUDIO"])
            ),
            ("erin".into(), "RESERVED".into(), names(erin_perms)),
        ]
    );
}

#[test]
fn rest_flow_invite() {
    let s = Setup::new();
    let dave_perms = perms(&[P::Join, P::SendMessage]);
    let (status, answer) = s.post(
        "invite",
        &json!({
            "participants": {
                "carol": { "permissions": ["JOIN", "SEND_MESSAGE"], "notification": true },
                "dave": {},
                "bob": { "notification": true }
            }
        })
        .to_string(),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(keys(&answer), ["delivery", "usersTokens"]);
    // bob is already in: no token, nothing sent.
    assert_eq!(keys(&answer["usersTokens"]), ["carol", "dave"]);
    assert_eq!(
        answer["delivery"],
        json!({
            "bob": "ALREADY_IN_CONFERENCE",
            "carol": "DELIVERED",
            "dave": "NOT_REQUESTED"
        })
    );
    let carol_token = token_of(&answer, "carol");
    assert_eq!(
        verify(&s.p, &carol_token, s.conf).unwrap().permissions,
        dave_perms
    );
    assert_eq!(
        verify(&s.p, &token_of(&answer, "dave"), s.conf)
            .unwrap()
            .permissions,
        PermissionSet::DEFAULT_INVITEE
    );
    // carol is invited by the owner; the conference hears of carol and dave.
    let (_, inviter, token, granted) = invitation(&drain(&s.p, s.carol));
    assert_eq!(inviter.external_id().as_str(), "alice");
    assert_eq!(inviter.name(), "Alice");
    assert_eq!(
        (token, granted),
        (Some(carol_token.clone()), Some(dave_perms))
    );
    for sid in [s.alice, s.bob] {
        assert_eq!(
            added(&drain(&s.p, sid)),
            [("carol".into(), S::Reserved), ("dave".into(), S::Reserved)]
        );
    }
    assert_eq!(participant(&s.p, s.conf, "carol").permissions, dave_perms);
    assert_eq!(participant(&s.p, s.conf, "bob").status, S::OnAir);
    // The token admits carol.
    assert_eq!(
        s.p.join(s.carol, s.conf, Some(&carol_token))
            .map(|j| j.status),
        Ok(S::Connecting)
    );
}

#[test]
fn rest_flow_user_without_session_gets_a_token_from_the_app_and_joins_later() {
    let s = Setup::new();
    let (status, answer) = s.post(
        "invite",
        r#"{"participants": {"erin": {"permissions": ["JOIN", "SEND_AUDIO"], "notification": true}}}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(answer["delivery"], json!({ "erin": "NO_OPEN_SESSION" }));
    let erin_token = token_of(&answer, "erin");
    assert_eq!(participant(&s.p, s.conf, "erin").status, S::Reserved);
    s.p.drain_events(s.alice).unwrap();
    s.p.drain_events(s.bob).unwrap();

    // Later erin opens a session; the app hands her the token itself.
    s.clock.advance(1800);
    let erin = open(&s.p, "erin", "Erin");
    assert_eq!(s.p.pending_events(erin), Ok(0));
    let joined = s.p.join(erin, s.conf, Some(&erin_token)).unwrap();
    assert_eq!(joined.status, S::Connecting);
    assert_eq!(joined.permissions, perms(&[P::Join, P::SendAudio]));
    for sid in [s.alice, s.bob, erin] {
        assert_eq!(
            updates(&drain(&s.p, sid)),
            [("erin".into(), S::Reserved, S::Connecting)]
        );
    }
    // Her display name now comes from her session.
    assert_eq!(participant(&s.p, s.conf, "erin").name, "Erin");
}

#[test]
fn rest_flow_invitation_without_session_is_not_delivered_nor_kept() {
    let s = Setup::new();
    let (status, answer) = s.post(
        "invite",
        r#"{"participants": {"frank": {"notification": true}}}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(answer["delivery"], json!({ "frank": "NO_OPEN_SESSION" }));

    // Opening a session later delivers nothing, and nobody is told.
    s.p.drain_events(s.alice).unwrap();
    let frank = open(&s.p, "frank", "Frank");
    s.clock.advance(60);
    assert_eq!(s.p.expire_conferences(), 0);
    s.p.report(s.bob, s.conf, LifecycleEvent::MediaTrouble)
        .unwrap();
    assert_eq!(s.p.drain_events(frank), Ok(vec![]));
    assert_eq!(
        types(&drain(&s.p, s.alice)),
        ["participantUpdated"],
        "only bob's report"
    );

    // The app has to send it again; now it arrives.
    let (status, again) = s.post(
        "invite",
        r#"{"participants": {"frank": {"notification": true}}}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(again["delivery"], json!({ "frank": "DELIVERED" }));
    let (_, _, token, _) = invitation(&drain(&s.p, frank));
    assert_eq!(token, Some(token_of(&again, "frank")));
    // The refreshed invitation carries the same permissions, so the first
    // token stays valid (finding 2: no re-invite revokes a token that still
    // carries the participant's current permissions; this test asserted the
    // old revocation on purpose).
    let first = token_of(&answer, "frank");
    assert_eq!(
        s.p.join(frank, s.conf, Some(&first)).map(|j| j.status),
        Ok(S::Connecting)
    );
}

// ===========================================================================
// Every endpoint's happy path
// ===========================================================================

#[test]
fn create_with_an_existing_alias_by_another_owner_is_a_conflict() {
    // Finding 6 (alias squatting): this test asserted the old 200 answer on
    // purpose; a create by someone who does not own the live conference must
    // not hand the app's participants to it.
    let s = Setup::new();
    let before = s.state();
    let answer = rest_json(
        &s.p,
        "POST",
        "/v2/conferences/create",
        &json!({
            "ownerExternalId": "carol",
            "alias": "ALL-HANDS",
            "participants": { "dave": { "notification": true } }
        }),
    );
    let description = assert_rest_error(&answer, 409, ErrorCode::AliasTaken);
    assert!(description.contains("someone else owns"), "{description}");
    assert_eq!(s.state(), before, "nobody invited, nothing sent");
}

#[test]
fn create_again_by_the_owner_answers_not_new_with_a_fresh_owner_token() {
    let s = Setup::new();
    let dave = open(&s.p, "dave", "Dave");
    let (answer, id) = create(
        &s.p,
        &json!({
            "ownerExternalId": "alice",
            "alias": "ALL-HANDS",
            "participants": { "dave": { "notification": true } }
        }),
    );
    assert_eq!(id, s.conf);
    assert_eq!(answer["isNew"], false);
    assert_eq!(answer["conferenceAlias"], "all-hands");
    let owner = verify(&s.p, answer["ownerToken"].as_str().unwrap(), s.conf).unwrap();
    assert_eq!(owner.subject.as_str(), "alice");
    assert_eq!(owner.permissions, PermissionSet::ALL);
    // The listed participants are invited as `invite` would.
    assert_eq!(answer["delivery"], json!({ "dave": "DELIVERED" }));
    let (_, _, token, _) = invitation(&drain(&s.p, dave));
    assert_eq!(token, Some(token_of(&answer, "dave")));
}

#[test]
fn create_for_an_owner_without_a_session() {
    let (p, _clock) = platform();
    let (answer, conf) = create(&p, &json!({ "ownerExternalId": "alice", "alias": "later" }));
    assert_eq!(answer["usersTokens"], json!({}));
    let (_, list) = get_participants(&p, conf);
    assert_eq!(
        list,
        json!({ "participants": [{
            "externalId": "alice",
            "name": "",
            "status": "RESERVED",
            "type": "USER",
            "permissions": names(PermissionSet::ALL)
        }]})
    );
    let alice = open(&p, "alice", "Alice");
    assert_eq!(p.pending_events(alice), Ok(0));
    let joined = p.join(alice, conf, answer["ownerToken"].as_str()).unwrap();
    assert_eq!(
        (joined.status, joined.permissions),
        (S::Connecting, PermissionSet::ALL)
    );
    assert_eq!(participant(&p, conf, "alice").name, "Alice");
}

#[test]
fn permissions_endpoint_replaces_permissions_and_revokes_the_old_token() {
    let s = Setup::new();
    let old_jti = verify(&s.p, &s.bob_token, s.conf).unwrap().token_id;
    let (status, answer) = s.post(
        "permissions",
        r#"{"participants": {"bob": {"permissions": ["JOIN", "INVITE"]}}}"#,
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(keys(&answer), ["usersTokens"]);
    assert_eq!(keys(&answer["usersTokens"]), ["bob"]);
    let new = token_of(&answer, "bob");
    let set = perms(&[P::Join, P::Invite]);
    assert_eq!(verify(&s.p, &new, s.conf).unwrap().permissions, set);

    // bob gets his new token; everyone who sees bob (bob included) sees his
    // new set (an addition on purpose: views must follow permission changes).
    let events = drain(&s.p, s.bob);
    assert_eq!(events.len(), 2);
    assert_eq!(
        *events[0].kind,
        EventKind::PermissionsUpdated {
            permissions: set,
            token: Some(new.clone())
        }
    );
    assert_eq!(updates(&events[1..]), [("bob".into(), S::OnAir, S::OnAir)]);
    let seen = drain(&s.p, s.alice);
    assert_eq!(updates(&seen), [("bob".into(), S::OnAir, S::OnAir)]);
    assert!(
        !seen.iter().any(|e| e.to_json().contains(&new)),
        "alice never sees bob's token"
    );
    let (_, list) = get_participants(&s.p, s.conf);
    assert_eq!(list["participants"][1]["externalId"], "bob");
    assert_eq!(
        list["participants"][1]["permissions"],
        json!(["INVITE", "JOIN"])
    );
    assert_eq!(list["participants"][1]["status"], "ON_AIR");

    assert_eq!(
        s.p.join(s.bob, s.conf, Some(&s.bob_token)),
        Err(PlatformError::Token(TokenError::Revoked { jti: old_jti }))
    );
    assert_eq!(
        s.p.join(s.bob, s.conf, Some(&new)).map(|j| j.permissions),
        Ok(set)
    );
}

#[test]
fn kick_endpoint_removes_participants_and_refuses_their_tokens() {
    let s = Setup::new();
    s.post(
        "invite",
        r#"{"participants": {"carol": {"notification": true}}}"#,
    );
    let carol_token = invitation(&drain(&s.p, s.carol)).2.unwrap();
    drain(&s.p, s.alice);
    drain(&s.p, s.bob);

    let (status, body) = s.post("kick", r#"{"externalIds": ["bob", "carol"]}"#);
    assert_eq!((status, body), (204, Value::Null));
    let raw =
        s.p.handle_rest("GET", &conf_path(&s.conf, "participants"), b"");
    assert_eq!(raw.status, 200);
    assert_eq!(
        statuses(&s.p, s.conf),
        [
            ("alice".into(), S::OnAir),
            ("bob".into(), S::Kicked),
            ("carol".into(), S::Kicked)
        ]
    );
    assert_eq!(
        updates(&drain(&s.p, s.alice)),
        [
            ("bob".into(), S::OnAir, S::Kicked),
            ("carol".into(), S::Reserved, S::Kicked)
        ]
    );
    // bob, who was in, is told he was kicked.
    assert_eq!(
        updates(&drain(&s.p, s.bob)),
        [("bob".into(), S::OnAir, S::Kicked)]
    );
    for (sid, token) in [(s.bob, &s.bob_token), (s.carol, &carol_token)] {
        assert_eq!(
            s.p.join(sid, s.conf, Some(token)).unwrap_err().code(),
            ErrorCode::TokenRevoked
        );
    }
    // An empty list kicks nobody.
    let before = s.state();
    assert_eq!(s.post("kick", r#"{"externalIds": []}"#), (204, Value::Null));
    assert_eq!(s.state(), before);
}

#[test]
fn delete_endpoint_destroys_the_conference() {
    let s = Setup::new();
    s.post(
        "invite",
        r#"{"participants": {"carol": {"notification": false}}}"#,
    );
    drain(&s.p, s.alice);
    drain(&s.p, s.bob);
    let raw = s.p.handle_rest("DELETE", &conf_path(&s.conf, ""), b"");
    assert_eq!((raw.status, raw.body.as_str()), (204, ""));
    for sid in s.sessions() {
        let events = drain(&s.p, sid);
        assert_eq!(events.len(), 1, "session {sid}");
        assert_eq!(
            *events[0].kind,
            EventKind::ConferenceEnded {
                reason: EndReason::Terminated
            }
        );
    }
    let description = assert_rest_error(
        &get_participants(&s.p, s.conf),
        404,
        ErrorCode::ConferenceNotFound,
    );
    assert!(description.contains("destroyed"), "{description}");
    assert_eq!(
        s.p.join(s.alice, s.conf, Some(&s.owner_token)),
        Err(PlatformError::ConferenceDestroyed(s.conf.to_string()))
    );
}

#[test]
fn participants_endpoint_has_designs_field_names() {
    let s = Setup::new();
    let listener = open(&s.p, "lena", "Lena");
    let (status, answer) = s.post(
        "invite",
        r#"{"participants": {"lena": {"permissions": ["JOIN"]}}}"#,
    );
    assert_eq!(status, 200);
    let token = token_of(&answer, "lena");
    s.p.listen(listener, s.conf, Some(&token)).unwrap();
    assert_eq!(
        participant(&s.p, s.conf, "lena").participant_type,
        ParticipantType::Listener
    );

    let (status, list) = get_participants(&s.p, s.conf);
    assert_eq!(status, 200);
    assert_eq!(
        list,
        json!({ "participants": [
            {
                "externalId": "alice",
                "name": "Alice",
                "avatarUrl": ALICE_AVATAR,
                "status": "ON_AIR",
                "type": "USER",
                "permissions": names(PermissionSet::ALL)
            },
            {
                "externalId": "bob",
                "name": "Bob",
                "status": "ON_AIR",
                "type": "USER",
                "permissions": names(PermissionSet::DEFAULT_INVITEE)
            },
            {
                "externalId": "lena",
                "name": "Lena",
                "status": "CONNECTING",
                "type": "LISTENER",
                "permissions": ["JOIN"]
            }
        ]})
    );
    // A query string is ignored.
    let (status, again) = rest(
        &s.p,
        "GET",
        &format!("{}?verbose=1", conf_path(&s.conf, "participants")),
        "",
    );
    assert_eq!((status, again), (200, list));
}

#[test]
fn jwks_endpoint_serves_a_key_set_that_verifies_the_owner_token() {
    let s = Setup::new();
    let raw = s.p.handle_rest("GET", "/.well-known/jwks.json", b"");
    assert_eq!(raw.status, 200);
    let set: Value = serde_json::from_str(&raw.body).unwrap();
    assert_eq!(keys(&set), ["keys"]);
    let jwk = &set["keys"][0];
    assert_eq!(set["keys"].as_array().unwrap().len(), 1);
    assert_eq!(keys(jwk), ["alg", "crv", "kid", "kty", "use", "x"]);
    assert_eq!(
        (
            &jwk["kty"],
            &jwk["crv"],
            &jwk["kid"],
            &jwk["alg"],
            &jwk["use"]
        ),
        (
            &json!("OKP"),
            &json!("Ed25519"),
            &json!(KID),
            &json!("EdDSA"),
            &json!("sig")
        )
    );

    let ring = KeyRing::from_jwks_json(&raw.body).unwrap();
    assert_eq!(ring.len(), 1);
    let claims = ring
        .verify(&s.owner_token, &Validation::new(s.p.now(), s.conf))
        .unwrap();
    assert_eq!(claims.subject.as_str(), "alice");
    assert_eq!(claims.permissions, PermissionSet::ALL);
    assert_eq!(claims.conference, s.conf);
    // The published key is the signing key's public half: another key's
    // token under the same kid does not verify.
    assert_eq!(
        ring.get(KID).unwrap().as_bytes(),
        signing_key().verifying_key().as_bytes()
    );
    let forged = SigningKey::from_seed(&[3; 32], KeyId::new(KID).unwrap()).mint(&claims);
    assert_eq!(
        ring.verify(&forged, &Validation::new(s.p.now(), s.conf)),
        Err(TokenError::Signature)
    );
    // Checked against another conference, the owner token is refused.
    let other = ConferenceId::random();
    assert!(matches!(
        ring.verify(&s.owner_token, &Validation::new(s.p.now(), other)),
        Err(TokenError::WrongConference { .. })
    ));
}

// ===========================================================================
// Errors: status, JSON body, and no change
// ===========================================================================

#[test]
fn malformed_json_is_400_and_changes_nothing() {
    let s = Setup::new();
    let before = s.state();
    for (method, path, body) in [
        ("POST", "/v2/conferences/create".to_owned(), "{"),
        ("POST", "/v2/conferences/create".to_owned(), ""),
        (
            "POST",
            conf_path(&s.conf, "invite"),
            "{\"participants\": {\"carol\": }",
        ),
        ("POST", conf_path(&s.conf, "invite"), "not json"),
        ("POST", conf_path(&s.conf, "permissions"), "[1, 2"),
        (
            "POST",
            conf_path(&s.conf, "kick"),
            "{\"externalIds\": [\"bob\"",
        ),
        (
            "POST",
            conf_path(&s.conf, "kick"),
            "{\"externalIds\": [\"bob\"]} trailing",
        ),
    ] {
        let answer = rest(&s.p, method, &path, body);
        let description = assert_rest_error(&answer, 400, ErrorCode::InvalidArgument);
        assert!(
            description.contains("request body"),
            "{path} {body:?}: {description}"
        );
    }
    assert_eq!(s.state(), before);
}

#[test]
fn wrong_field_type_is_400_and_changes_nothing() {
    let s = Setup::new();
    let before = s.state();
    for (path, body) in [
        (
            "/v2/conferences/create".to_owned(),
            json!({ "ownerExternalId": "carol", "alias": "x", "parameters": { "ttl": "600" } }),
        ),
        (
            "/v2/conferences/create".to_owned(),
            json!({ "ownerExternalId": 7, "alias": "x" }),
        ),
        (
            "/v2/conferences/create".to_owned(),
            json!({ "ownerExternalId": "carol", "alias": "x", "participants": ["dave"] }),
        ),
        (
            conf_path(&s.conf, "invite"),
            json!({ "participants": { "carol": { "notification": "yes" } } }),
        ),
        (
            conf_path(&s.conf, "invite"),
            json!({ "participants": { "carol": { "permissions": "JOIN" } } }),
        ),
        (
            conf_path(&s.conf, "permissions"),
            json!({ "participants": { "bob": { "permissions": [1] } } }),
        ),
        (conf_path(&s.conf, "kick"), json!({ "externalIds": "bob" })),
        (conf_path(&s.conf, "kick"), json!({ "externalIds": [""] })),
    ] {
        let answer = rest_json(&s.p, "POST", &path, &body);
        assert_rest_error(&answer, 400, ErrorCode::InvalidArgument);
    }
    assert_eq!(s.state(), before);
    assert_eq!(
        s.p.conference_by_alias("x"),
        Err(PlatformError::ConferenceNotFound("x".into()))
    );
}

#[test]
fn unknown_field_is_400_and_changes_nothing() {
    let s = Setup::new();
    let before = s.state();
    for (path, body, field) in [
        (
            conf_path(&s.conf, "invite"),
            json!({ "participants": { "carol": { "notifcation": true } } }),
            "notifcation",
        ),
        (
            conf_path(&s.conf, "invite"),
            json!({ "participants": {}, "extra": 1 }),
            "extra",
        ),
        (
            "/v2/conferences/create".to_owned(),
            json!({ "ownerExternalId": "carol", "alias": "x", "owner": "carol" }),
            "owner",
        ),
        (
            "/v2/conferences/create".to_owned(),
            json!({ "ownerExternalId": "carol", "alias": "x", "parameters": { "maxParticipants": 3 } }),
            "maxParticipants",
        ),
        (
            conf_path(&s.conf, "permissions"),
            json!({ "participants": { "bob": { "permissions": ["JOIN"], "notification": true } } }),
            "notification",
        ),
        (
            conf_path(&s.conf, "kick"),
            json!({ "externalIds": ["bob"], "reason": "spam" }),
            "reason",
        ),
    ] {
        let answer = rest_json(&s.p, "POST", &path, &body);
        let description = assert_rest_error(&answer, 400, ErrorCode::InvalidArgument);
        assert!(description.contains(field), "{field}: {description}");
    }
    assert_eq!(s.state(), before);
    assert_eq!(participant(&s.p, s.conf, "bob").status, S::OnAir);
}

#[test]
fn unknown_permission_name_is_400_unknown_permission() {
    let s = Setup::new();
    let before = s.state();
    for (path, body, name) in [
        (
            conf_path(&s.conf, "invite"),
            json!({ "participants": { "carol": { "permissions": ["JOIN", "TELEPORT"] } } }),
            "TELEPORT",
        ),
        (
            conf_path(&s.conf, "invite"),
            json!({ "participants": { "carol": { "permissions": ["join"] } } }),
            "join",
        ),
        (
            conf_path(&s.conf, "permissions"),
            json!({ "participants": { "bob": { "permissions": ["JOIN", "FLY"] } } }),
            "FLY",
        ),
        (
            "/v2/conferences/create".to_owned(),
            json!({
                "ownerExternalId": "carol",
                "alias": "x",
                "participants": { "dave": { "permissions": ["SUPERUSER"] } }
            }),
            "SUPERUSER",
        ),
    ] {
        let answer = rest_json(&s.p, "POST", &path, &body);
        let description = assert_rest_error(&answer, 400, ErrorCode::UnknownPermission);
        assert!(
            description.contains(&format!("\"{name}\"")),
            "{name}: {description}"
        );
    }
    assert_eq!(s.state(), before);
    // bob's token was not replaced.
    assert_eq!(
        s.p.join(s.bob, s.conf, Some(&s.bob_token))
            .map(|j| j.status),
        Ok(S::Connecting)
    );
}

#[test]
fn unknown_conference_is_404() {
    let s = Setup::new();
    let before = s.state();
    let unknown = ConferenceId::random();
    for (method, tail, body) in [
        ("POST", "invite", r#"{"participants": {"carol": {}}}"#),
        (
            "POST",
            "permissions",
            r#"{"participants": {"bob": {"permissions": []}}}"#,
        ),
        ("POST", "kick", r#"{"externalIds": ["bob"]}"#),
        ("DELETE", "", ""),
        ("GET", "participants", ""),
    ] {
        let answer = rest(&s.p, method, &conf_path(&unknown, tail), body);
        let description = assert_rest_error(&answer, 404, ErrorCode::ConferenceNotFound);
        assert_eq!(description, format!("conference {unknown} not found"));
    }
    assert_eq!(s.state(), before);
}

#[test]
fn destroyed_conference_is_404() {
    let s = Setup::new();
    assert_eq!(rest(&s.p, "DELETE", &conf_path(&s.conf, ""), "").0, 204);
    for sid in s.sessions() {
        drain(&s.p, sid);
    }
    for (method, tail, body) in [
        ("POST", "invite", r#"{"participants": {"carol": {}}}"#),
        (
            "POST",
            "permissions",
            r#"{"participants": {"bob": {"permissions": []}}}"#,
        ),
        ("POST", "kick", r#"{"externalIds": ["bob"]}"#),
        ("DELETE", "", ""),
        ("GET", "participants", ""),
    ] {
        let answer = rest(&s.p, method, &conf_path(&s.conf, tail), body);
        let description = assert_rest_error(&answer, 404, ErrorCode::ConferenceNotFound);
        assert_eq!(
            description,
            format!("conference {} not found: it was destroyed", s.conf)
        );
    }
    for sid in s.sessions() {
        assert_eq!(s.p.pending_events(sid), Ok(0));
    }
    // The TTL path gives the same answer.
    let (_, conf) = create(
        &s.p,
        &json!({ "ownerExternalId": "alice", "alias": "brief", "parameters": { "ttl": 30 } }),
    );
    s.clock.advance(30);
    let description = assert_rest_error(
        &get_participants(&s.p, conf),
        404,
        ErrorCode::ConferenceNotFound,
    );
    assert!(description.ends_with("it was destroyed"), "{description}");
}

#[test]
fn bad_conference_id_is_400() {
    let s = Setup::new();
    let before = s.state();
    for (method, path, body) in [
        (
            "POST",
            "/v2/conferences/not-a-uuid/invite",
            r#"{"participants": {}}"#,
        ),
        (
            "POST",
            "/v2/conferences/1234/permissions",
            r#"{"participants": {}}"#,
        ),
        ("POST", "/v2/conferences/xyz/kick", r#"{"externalIds": []}"#),
        ("DELETE", "/v2/conferences/xyz", ""),
        ("GET", "/v2/conferences/xyz/participants", ""),
    ] {
        let answer = rest(&s.p, method, path, body);
        let description = assert_rest_error(&answer, 400, ErrorCode::InvalidArgument);
        assert!(
            description.contains("is not a UUID"),
            "{path}: {description}"
        );
    }
    assert_eq!(s.state(), before);
}

#[test]
fn kick_of_a_non_participant_is_404_and_kicks_nobody() {
    let s = Setup::new();
    let before = s.state();
    let answer = s.post("kick", r#"{"externalIds": ["zed"]}"#);
    let description = assert_rest_error(&answer, 404, ErrorCode::ParticipantNotFound);
    assert!(description.contains("zed"), "{description}");
    // A list mixing a valid and an invalid id: nobody is kicked.
    let answer = s.post("kick", r#"{"externalIds": ["bob", "zed"]}"#);
    assert_rest_error(&answer, 404, ErrorCode::ParticipantNotFound);
    // The owner cannot be kicked, even in a list.
    let answer = s.post("kick", r#"{"externalIds": ["bob", "alice"]}"#);
    let description = assert_rest_error(&answer, 403, ErrorCode::NotAllowed);
    assert_eq!(description, "the conference owner cannot be kicked");
    // Nor can anyone be listed twice.
    let answer = s.post("kick", r#"{"externalIds": ["bob", "bob"]}"#);
    let description = assert_rest_error(&answer, 400, ErrorCode::InvalidArgument);
    assert!(description.contains("listed twice"), "{description}");
    assert_eq!(s.state(), before);
    assert_eq!(participant(&s.p, s.conf, "bob").status, S::OnAir);

    // Someone already kicked cannot be kicked again: 409, and the valid id in
    // the same list is not kicked either. (Someone who left can be kicked: it
    // closes their way back.)
    s.p.leave(s.bob, s.conf).unwrap();
    assert_eq!(s.post("kick", r#"{"externalIds": ["bob"]}"#).0, 204);
    assert_eq!(participant(&s.p, s.conf, "bob").status, S::Kicked);
    s.post("invite", r#"{"participants": {"carol": {}}}"#);
    for sid in s.sessions() {
        drain(&s.p, sid);
    }
    let before = s.state();
    let answer = s.post("kick", r#"{"externalIds": ["carol", "bob"]}"#);
    let description = assert_rest_error(&answer, 409, ErrorCode::InvalidTransition);
    assert!(
        description.contains("KICKED") && description.contains("KICK"),
        "{description}"
    );
    assert_eq!(s.state(), before);
    assert_eq!(participant(&s.p, s.conf, "carol").status, S::Reserved);
}

#[test]
fn permissions_for_a_non_participant_is_404_and_updates_nobody() {
    let s = Setup::new();
    let before = s.state();
    let answer = s.post(
        "permissions",
        r#"{"participants": {"bob": {"permissions": ["JOIN"]}, "zed": {"permissions": ["JOIN"]}}}"#,
    );
    let description = assert_rest_error(&answer, 404, ErrorCode::ParticipantNotFound);
    assert!(description.contains("zed"), "{description}");
    assert_eq!(s.state(), before);
    // bob's token still admits him.
    assert_eq!(
        s.p.join(s.bob, s.conf, Some(&s.bob_token))
            .map(|j| j.permissions),
        Ok(PermissionSet::DEFAULT_INVITEE)
    );
}

#[test]
fn bad_create_requests_create_nothing() {
    let s = Setup::new();
    let before = s.state();
    for (body, status, code) in [
        (
            json!({ "ownerExternalId": "carol", "alias": "x", "parameters": { "participantLimit": 0 } }),
            400,
            ErrorCode::InvalidArgument,
        ),
        (
            json!({ "ownerExternalId": "carol", "alias": "x", "participants": { "carol": {} } }),
            400,
            ErrorCode::InvalidArgument,
        ),
        (
            json!({ "ownerExternalId": "carol", "alias": "x", "participants": { "": {} } }),
            400,
            ErrorCode::InvalidArgument,
        ),
        (
            json!({ "ownerExternalId": "", "alias": "x" }),
            400,
            ErrorCode::InvalidArgument,
        ),
        (
            json!({ "ownerExternalId": "carol", "alias": "x#1" }),
            400,
            ErrorCode::InvalidArgument,
        ),
        (json!({ "alias": "x" }), 400, ErrorCode::InvalidArgument),
    ] {
        let answer = rest_json(&s.p, "POST", "/v2/conferences/create", &body);
        assert_rest_error(&answer, status, code);
    }
    assert_eq!(s.state(), before);
    for alias in ["x", "x#1"] {
        assert!(s.p.conference_by_alias(alias).is_err());
    }
}

#[test]
fn inviting_the_owner_is_400_and_keeps_the_owner_token() {
    let s = Setup::new();
    s.p.leave(s.alice, s.conf).unwrap();
    drain(&s.p, s.bob);
    drain(&s.p, s.alice);
    let before = s.state();
    let answer = s.post(
        "invite",
        r#"{"participants": {"carol": {}, "alice": {"notification": true}}}"#,
    );
    let description = assert_rest_error(&answer, 400, ErrorCode::InvalidArgument);
    assert!(description.contains("alice"), "{description}");
    assert_eq!(s.state(), before);
    assert_eq!(
        s.p.join(s.alice, s.conf, Some(&s.owner_token))
            .map(|j| j.permissions),
        Ok(PermissionSet::ALL)
    );
}

#[test]
fn unknown_route_is_404() {
    let s = Setup::new();
    let before = s.state();
    for (method, path) in [
        ("GET", "/".to_owned()),
        ("GET", "/v2/nothing".to_owned()),
        ("GET", "/v1/conferences/create".to_owned()),
        ("POST", conf_path(&s.conf, "unknown")),
        ("POST", format!("{}/extra", conf_path(&s.conf, "invite"))),
        ("GET", "/.well-known/other.json".to_owned()),
    ] {
        let answer = rest(&s.p, method, &path, "{}");
        let description = assert_rest_error(&answer, 404, ErrorCode::InvalidArgument);
        assert!(description.contains("no endpoint"), "{path}: {description}");
    }
    assert_eq!(s.state(), before);
}

#[test]
fn wrong_method_is_405() {
    let s = Setup::new();
    let before = s.state();
    for (method, path) in [
        ("GET", "/v2/conferences/create".to_owned()),
        ("PUT", conf_path(&s.conf, "invite")),
        ("GET", conf_path(&s.conf, "permissions")),
        ("DELETE", conf_path(&s.conf, "kick")),
        ("POST", conf_path(&s.conf, "participants")),
        ("POST", conf_path(&s.conf, "")),
        ("GET", conf_path(&s.conf, "")),
        ("POST", "/.well-known/jwks.json".to_owned()),
    ] {
        let answer = rest(&s.p, method, &path, r#"{"externalIds": ["bob"]}"#);
        let description = assert_rest_error(&answer, 405, ErrorCode::InvalidArgument);
        assert!(
            description.contains(&format!("method {method} is not allowed")),
            "{description}"
        );
    }
    assert_eq!(s.state(), before);
    assert_eq!(participant(&s.p, s.conf, "bob").status, S::OnAir);
}

#[test]
fn oversized_body_is_413() {
    let s = Setup::new();
    let before = s.state();
    let body = vec![b' '; MAX_BODY_BYTES + 1];
    let raw =
        s.p.handle_rest("POST", &conf_path(&s.conf, "invite"), &body);
    let answer = (
        raw.status,
        serde_json::from_str::<Value>(&raw.body).unwrap(),
    );
    assert_rest_error(&answer, 413, ErrorCode::TooLarge);
    assert_eq!(s.state(), before);
}
