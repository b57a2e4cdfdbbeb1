//! Rules found in review: each test pins one behaviour a user relies on and
//! fails if it regresses.

mod common;

use common::*;
use confkit::platform::{ConferenceOptions, PlatformError};
use confkit::{
    ConferenceId, ErrorCode, ParticipantStatus as S, Permission, PermissionSet, TokenError,
};

#[test]
fn an_uninvited_joiner_keeps_an_empty_ttl_conference_alive() {
    let (p, clock) = platform();
    let alice = open(&p, "alice", "Alice");
    let bob = open(&p, "bob", "Bob");
    let options = ConferenceOptions {
        empty_ttl_secs: Some(100),
        ..unprotected()
    };
    let conf = p
        .create_conference(alice, "drop-in", options)
        .unwrap()
        .conference
        .id;
    p.join(bob, conf, None).unwrap();
    clock.advance(101);
    assert_eq!(
        p.conference(conf).unwrap().present_count,
        1,
        "bob is still in it"
    );
    // Empty again from now: it lives another full ttl from the leave.
    p.leave(bob, conf).unwrap();
    clock.advance(99);
    assert!(p.conference(conf).is_ok());
    clock.advance(2);
    assert!(matches!(
        p.conference(conf),
        Err(PlatformError::ConferenceDestroyed(_))
    ));
}

#[test]
fn nobody_changes_the_owners_permissions() {
    let (p, _) = platform();
    let alice = open(&p, "alice", "Alice");
    let carol = open(&p, "carol", "Carol");
    let created = p.create_conference(alice, "locked", protected()).unwrap();
    let conf = created.conference.id;
    p.join(alice, conf, created.owner_token.as_deref()).unwrap();
    let perms = PermissionSet::of(&[Permission::Join, Permission::UpdatePermissions]);
    p.invite(alice, conf, &[invitee("carol", Some(perms))])
        .unwrap();
    let carol_token = invitation_token(&p, carol);
    p.join(carol, conf, Some(&carol_token)).unwrap();
    assert_eq!(
        p.update_permissions(carol, conf, &eid("alice"), PermissionSet::EMPTY),
        Err(PlatformError::OwnerPermissionsFixed)
    );
    let body = r#"{"participants": {"alice": {"permissions": []}}}"#;
    let answer = rest(
        &p,
        "POST",
        &format!("/v2/conferences/{conf}/permissions"),
        body,
    );
    assert_rest_error(&answer, 403, ErrorCode::NotAllowed);
    assert_eq!(
        participant(&p, conf, "alice").permissions,
        PermissionSet::ALL
    );
    // The owner token still works after a leave.
    p.leave(alice, conf).unwrap();
    let again = p.join(alice, conf, created.owner_token.as_deref()).unwrap();
    assert_eq!(again.permissions, PermissionSet::ALL);
}

#[test]
fn no_escalation_in_unprotected_conferences_either() {
    let (p, _) = platform();
    let alice = open(&p, "alice", "Alice");
    let bob = open(&p, "bob", "Bob");
    let conf = p
        .create_conference(alice, "open", unprotected())
        .unwrap()
        .conference
        .id;
    p.join(bob, conf, None).unwrap();
    let err = p
        .invite(bob, conf, &[invitee("mallory", Some(PermissionSet::ALL))])
        .unwrap_err();
    assert!(
        matches!(err, PlatformError::Escalation { missing } if missing.contains(Permission::Kick)),
        "{err:?}"
    );
    // The default set is what bob holds, so inviting with it is fine.
    assert!(p.invite(bob, conf, &[invitee("mallory", None)]).is_ok());
}

#[test]
fn declining_or_leaving_ends_the_old_tokens_and_leavers_can_be_kicked() {
    let (p, _) = platform();
    let alice = open(&p, "alice", "Alice");
    let bob = open(&p, "bob", "Bob");
    let created = p.create_conference(alice, "secure", protected()).unwrap();
    let conf = created.conference.id;
    p.join(alice, conf, created.owner_token.as_deref()).unwrap();
    p.invite(alice, conf, &[invitee("bob", None)]).unwrap();
    let first = invitation_token(&p, bob);
    p.decline(bob, conf).unwrap();
    assert!(matches!(
        p.join(bob, conf, Some(&first)),
        Err(PlatformError::Token(TokenError::Revoked { .. }))
    ));
    // A new invitation brings a new token that works; leaving ends it too.
    p.invite(alice, conf, &[invitee("bob", None)]).unwrap();
    let second = invitation_token(&p, bob);
    p.join(bob, conf, Some(&second)).unwrap();
    p.leave(bob, conf).unwrap();
    assert!(matches!(
        p.join(bob, conf, Some(&second)),
        Err(PlatformError::Token(TokenError::Revoked { .. }))
    ));
    p.kick(alice, conf, &eid("bob")).unwrap();
    assert_eq!(participant(&p, conf, "bob").status, S::Kicked);
}

#[test]
fn rest_refuses_a_participant_listed_twice() {
    let (p, _) = platform();
    let body = r#"{"ownerExternalId": "alice", "alias": "dup",
        "participants": {"bob": {"permissions": ["KICK"]}, "bob": {"permissions": ["JOIN"]}}}"#;
    let answer = rest(&p, "POST", "/v2/conferences/create", body);
    let description = assert_rest_error(&answer, 400, ErrorCode::InvalidArgument);
    assert!(description.contains("listed twice"), "{description}");
    assert!(p.conference_by_alias("dup").is_err(), "nothing was created");
}

#[test]
fn only_the_connected_session_acts_in_the_conference() {
    let (p, _) = platform();
    let phone = open(&p, "alice", "Alice");
    let laptop = open(&p, "alice", "Alice");
    let conf = p
        .create_conference(phone, "devices", unprotected())
        .unwrap()
        .conference
        .id;
    p.join(phone, conf, None).unwrap();
    assert_eq!(
        p.invite(laptop, conf, &[invitee("bob", None)]),
        Err(PlatformError::NotInConference(eid("alice")))
    );
    assert!(p.invite(phone, conf, &[invitee("bob", None)]).is_ok());
}

#[test]
fn a_zero_time_to_live_is_refused() {
    let (p, _) = platform();
    let alice = open(&p, "alice", "Alice");
    for options in [
        ConferenceOptions {
            empty_ttl_secs: Some(0),
            ..unprotected()
        },
        ConferenceOptions {
            token_ttl_secs: Some(0),
            ..protected()
        },
    ] {
        assert!(matches!(
            p.create_conference(alice, "instant", options),
            Err(PlatformError::InvalidInput(_))
        ));
    }
    let body = r#"{"ownerExternalId": "alice", "alias": "instant", "parameters": {"ttl": 0}}"#;
    let answer = rest(&p, "POST", "/v2/conferences/create", body);
    assert_rest_error(&answer, 400, ErrorCode::InvalidArgument);
}

#[test]
fn conference_ids_have_one_spelling() {
    let id = ConferenceId::random();
    assert_eq!(ConferenceId::parse(&id.to_string()), Ok(id));
    for other in [
        format!("{{{id}}}"),
        id.uuid().simple().to_string(),
        format!("urn:uuid:{id}"),
    ] {
        assert!(ConferenceId::parse(&other).is_err(), "{other}");
    }
}
