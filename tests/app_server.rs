//! The app-server operations (`Platform::app_*`, `fresh_tokens`,
//! `participants`) called directly, without REST or JSON: each one's happy
//! path and its refusals, every refusal leaving the platform as it was.

mod common;

use common::*;
use confkit::event::EventKind;
use confkit::platform::{
    check_request_len, ConferenceOptions, Delivery, Invitee, MAX_INVITEES_PER_REQUEST,
};
use confkit::{
    Alias, ConferenceId, ErrorCode, ParticipantStatus as S, Permission as P, PermissionSet,
    Platform, PlatformError, SessionId, TransitionError,
};

fn alias(s: &str) -> Alias {
    Alias::new(s).unwrap()
}

/// An app-server invitee who is not notified.
fn quiet(id: &str, perms: Option<PermissionSet>) -> Invitee {
    Invitee {
        notify: false,
        ..invitee(id, perms)
    }
}

/// alice (with an open session) owns the protected conference "team",
/// created by the app server with bob and carol invited (bob notified).
fn team(p: &Platform) -> (SessionId, SessionId, ConferenceId) {
    let alice = open(p, "alice", "Alice");
    let bob = open(p, "bob", "Bob");
    let made = p
        .app_create(
            &eid("alice"),
            alias("team"),
            ConferenceOptions::default(),
            &[invitee("bob", None), quiet("carol", None)],
        )
        .unwrap();
    drain(p, alice);
    drain(p, bob);
    (alice, bob, made.created.conference.id)
}

/// What a refused operation must leave as it was.
fn snapshot(
    p: &Platform,
    conf: ConferenceId,
    sessions: &[SessionId],
) -> (Vec<(String, S)>, Vec<usize>) {
    let queued = sessions.iter().map(|s| drain(p, *s).len()).collect();
    (statuses(p, conf), queued)
}

/// Runs `op`, asserts it is refused with `code` and that nothing changed:
/// the conference's participants, and no event for `sessions` (whose queues
/// must be empty before).
fn refused<T: std::fmt::Debug>(
    p: &Platform,
    conf: ConferenceId,
    sessions: &[SessionId],
    code: ErrorCode,
    op: impl FnOnce() -> Result<T, PlatformError>,
) -> PlatformError {
    let before = snapshot(p, conf, sessions);
    assert_eq!(before.1, vec![0; sessions.len()], "drain the queues first");
    let err = op().expect_err("the operation must be refused");
    assert_eq!(err.code(), code, "{err}");
    assert_eq!(snapshot(p, conf, sessions), before);
    err
}

#[test]
fn create_is_protected_invites_and_signs_for_everyone() {
    let (p, _) = platform();
    let alice = open(&p, "alice", "Alice");
    let bob = open(&p, "bob", "Bob");
    let made = p
        .app_create(
            &eid("alice"),
            alias("team"),
            ConferenceOptions::default(), // not protected: the app's always are
            &[
                invitee("bob", Some(PermissionSet::of(&[P::Join]))),
                quiet("carol", None),
            ],
        )
        .unwrap();
    let conf = made.created.conference.id;
    assert!(made.created.is_new);
    assert!(made.created.conference.is_protected);
    let owner = made.created.owner_token.as_deref().unwrap();
    assert_eq!(
        verify(&p, owner, conf).unwrap().permissions,
        PermissionSet::ALL
    );

    let outcome: Vec<_> = made
        .invited
        .iter()
        .map(|i| (i.result.external_id.to_string(), i.result.delivery))
        .collect();
    assert_eq!(
        outcome,
        [
            ("bob".to_owned(), Delivery::Delivered(1)),
            ("carol".to_owned(), Delivery::NotRequested)
        ]
    );
    for i in &made.invited {
        let claims = verify(&p, i.token.as_deref().unwrap(), conf).unwrap();
        assert_eq!(claims.subject, i.result.external_id);
        assert_eq!(claims.permissions, i.result.permissions);
    }
    // The invitation comes from the owner, as her session shows her.
    let (_, inviter, token, _) = invitation(&drain(&p, bob));
    assert_eq!(inviter.name(), "Alice");
    assert_eq!(token, made.invited[0].token);
    assert!(types(&drain(&p, alice)).contains(&"conferenceCreated"));
}

#[test]
fn create_again_by_the_owner_gives_a_fresh_owner_token_and_invites() {
    let (p, _) = platform();
    let (alice, bob, conf) = team(&p);
    let again = p
        .app_create(
            &eid("alice"),
            alias("TEAM"),
            ConferenceOptions::default(),
            &[invitee("bob", None), invitee("dave", None)],
        )
        .unwrap();
    assert!(!again.created.is_new);
    assert_eq!(again.created.conference.id, conf);
    assert!(again.created.owner_token.is_some());
    assert_eq!(again.invited.len(), 2);
    assert!(again.invited.iter().all(|i| i.token.is_some()));
    assert_eq!(
        statuses(&p, conf),
        [
            ("alice".to_owned(), S::Reserved),
            ("bob".to_owned(), S::Reserved),
            ("carol".to_owned(), S::Reserved),
            ("dave".to_owned(), S::Reserved),
        ]
    );
    drain(&p, alice);
    drain(&p, bob);
}

#[test]
fn create_refusals_change_nothing() {
    let (p, _) = platform();
    let (alice, bob, conf) = team(&p);
    let s = [alice, bob];
    let opts = ConferenceOptions::default;

    // Someone else's conference.
    let err = refused(&p, conf, &s, ErrorCode::AliasTaken, || {
        p.app_create(
            &eid("mallory"),
            alias("team"),
            opts(),
            &[invitee("bob", None)],
        )
    });
    assert!(matches!(
        err,
        PlatformError::AliasTaken {
            why: "someone else owns",
            ..
        }
    ));

    // An unprotected conference.
    let open_conf = p
        .create_conference(alice, "lobby", unprotected())
        .unwrap()
        .conference
        .id;
    drain(&p, alice);
    let err = refused(&p, open_conf, &s, ErrorCode::AliasTaken, || {
        p.app_create(&eid("alice"), alias("lobby"), opts(), &[])
    });
    assert!(matches!(
        err,
        PlatformError::AliasTaken {
            why: "is not protected",
            ..
        }
    ));

    // The owner listed, someone listed twice, or a bad option: no new
    // conference either.
    for (invitees, options) in [
        (vec![invitee("alice", None)], opts()),
        (vec![invitee("erin", None), quiet("erin", None)], opts()),
        (
            vec![invitee("erin", None)],
            ConferenceOptions {
                participant_limit: Some(0),
                ..opts()
            },
        ),
    ] {
        refused(&p, conf, &s, ErrorCode::InvalidArgument, || {
            p.app_create(&eid("alice"), alias("fresh"), options, &invitees)
        });
        assert_eq!(
            p.conference_by_alias("fresh").unwrap_err().code(),
            ErrorCode::ConferenceNotFound
        );
    }

    // The owner's live conference, with an invitee who may not be invited
    // (the owner herself is caught first; a listed twice one here).
    refused(&p, conf, &s, ErrorCode::InvalidArgument, || {
        p.app_create(
            &eid("alice"),
            alias("team"),
            opts(),
            &[invitee("dave", None), invitee("dave", None)],
        )
    });
}

#[test]
fn invite_readmits_the_kicked_and_leaves_those_present() {
    let (p, _) = platform();
    let (alice, bob, conf) = team(&p);
    let token = p.fresh_tokens(conf, &[eid("alice")]).unwrap().remove(0).1;
    p.join(alice, conf, Some(&token)).unwrap();
    p.app_kick(conf, &[eid("carol")]).unwrap();
    let set = PermissionSet::of(&[P::Join, P::Invite]);
    let done = p
        .app_invite(conf, &[quiet("carol", Some(set)), quiet("alice", None)])
        .unwrap();
    assert_eq!(done[0].result.permissions, set);
    assert_eq!(done[0].result.delivery, Delivery::NotRequested);
    assert_eq!(
        verify(&p, done[0].token.as_deref().unwrap(), conf)
            .unwrap()
            .permissions,
        set
    );
    assert_eq!(done[1].result.delivery, Delivery::AlreadyInConference);
    assert_eq!(done[1].token, None);
    assert_eq!(participant(&p, conf, "carol").status, S::Reserved);
    drain(&p, alice);
    drain(&p, bob);
}

#[test]
fn invite_refusals_change_nothing() {
    let (p, _) = platform();
    let (alice, bob, conf) = team(&p);
    let s = [alice, bob];
    refused(&p, conf, &s, ErrorCode::ConferenceNotFound, || {
        p.app_invite(ConferenceId::random(), &[invitee("dave", None)])
    });
    refused(&p, conf, &s, ErrorCode::InvalidArgument, || {
        p.app_invite(conf, &[invitee("dave", None), invitee("dave", None)])
    });
    // The owner is never invited (she is not in the conference yet).
    refused(&p, conf, &s, ErrorCode::InvalidArgument, || {
        p.app_invite(conf, &[invitee("dave", None), invitee("alice", None)])
    });
    let too_many: Vec<_> = (0..=MAX_INVITEES_PER_REQUEST)
        .map(|i| quiet(&format!("u{i}"), None))
        .collect();
    refused(&p, conf, &s, ErrorCode::InvalidArgument, || {
        p.app_invite(conf, &too_many)
    });
}

#[test]
fn update_permissions_signs_new_tokens() {
    let (p, _) = platform();
    let (alice, bob, conf) = team(&p);
    let set = PermissionSet::of(&[P::Join, P::Kick]);
    let tokens = p
        .app_update_permissions(conf, &[(eid("bob"), set), (eid("carol"), set)])
        .unwrap();
    let subjects: Vec<_> = tokens.iter().map(|(e, _)| e.to_string()).collect();
    assert_eq!(subjects, ["bob", "carol"]);
    for (who, token) in &tokens {
        let claims = verify(&p, token, conf).unwrap();
        assert_eq!((&claims.subject, claims.permissions), (who, set));
    }
    let events = drain(&p, bob);
    assert_eq!(permissions_token(&events), Some(tokens[0].1.clone()));
    assert_eq!(participant(&p, conf, "carol").permissions, set);
    drain(&p, alice);

    // An unprotected conference: permissions change, no token.
    let (p, _) = platform();
    let (owner, open_conf) = open_room(&p);
    let guest = open(&p, "guest", "Guest");
    p.invite(owner, open_conf, &[invitee("guest", None)])
        .unwrap();
    drain(&p, guest);
    assert!(p
        .app_update_permissions(open_conf, &[(eid("guest"), set)])
        .unwrap()
        .is_empty());
    assert_eq!(participant(&p, open_conf, "guest").permissions, set);
}

#[test]
fn update_permissions_refusals_change_nothing() {
    let (p, _) = platform();
    let (alice, bob, conf) = team(&p);
    let s = [alice, bob];
    let set = PermissionSet::of(&[P::Join]);
    let err = refused(&p, conf, &s, ErrorCode::ParticipantNotFound, || {
        p.app_update_permissions(conf, &[(eid("bob"), set), (eid("stranger"), set)])
    });
    assert_eq!(err, PlatformError::ParticipantNotFound(eid("stranger")));
    let err = refused(&p, conf, &s, ErrorCode::NotAllowed, || {
        p.app_update_permissions(conf, &[(eid("alice"), set)])
    });
    assert_eq!(err, PlatformError::OwnerPermissionsFixed);
    refused(&p, conf, &s, ErrorCode::InvalidArgument, || {
        p.app_update_permissions(conf, &[(eid("bob"), set), (eid("bob"), PermissionSet::ALL)])
    });
    refused(&p, conf, &s, ErrorCode::ConferenceNotFound, || {
        p.app_update_permissions(ConferenceId::random(), &[(eid("bob"), set)])
    });
    assert_eq!(
        participant(&p, conf, "bob").permissions,
        PermissionSet::DEFAULT_INVITEE
    );
}

#[test]
fn kick_revokes_and_refusals_change_nothing() {
    let (p, _) = platform();
    let (alice, bob, conf) = team(&p);
    let s = [alice, bob];
    refused(&p, conf, &s, ErrorCode::ConferenceNotFound, || {
        p.app_kick(ConferenceId::random(), &[eid("bob")])
    });
    let err = refused(&p, conf, &s, ErrorCode::NotAllowed, || {
        p.app_kick(conf, &[eid("bob"), eid("alice")])
    });
    assert_eq!(err, PlatformError::OwnerNotKickable);
    refused(&p, conf, &s, ErrorCode::ParticipantNotFound, || {
        p.app_kick(conf, &[eid("bob"), eid("stranger")])
    });
    refused(&p, conf, &s, ErrorCode::InvalidArgument, || {
        p.app_kick(conf, &[eid("bob"), eid("bob")])
    });

    // bob's invitation token stops admitting him.
    let bob_token = p.fresh_tokens(conf, &[eid("bob")]).unwrap().remove(0).1;
    p.app_kick(conf, &[eid("bob")]).unwrap();
    assert_eq!(participant(&p, conf, "bob").status, S::Kicked);
    assert_eq!(
        p.join(bob, conf, Some(&bob_token)).unwrap_err().code(),
        ErrorCode::TokenRevoked
    );
    drain(&p, bob);
    // Kicked already.
    let err = refused(&p, conf, &s, ErrorCode::InvalidTransition, || {
        p.app_kick(conf, &[eid("bob")])
    });
    assert!(matches!(
        err,
        PlatformError::Transition(TransitionError { .. })
    ));
}

#[test]
fn fresh_tokens_refusals_change_nothing() {
    let (p, _) = platform();
    let (alice, bob, conf) = team(&p);
    let s = [alice, bob];
    p.app_kick(conf, &[eid("carol")]).unwrap();
    let err = refused(&p, conf, &s, ErrorCode::NotAllowed, || {
        p.fresh_tokens(conf, &[eid("bob"), eid("carol")])
    });
    assert_eq!(err, PlatformError::ParticipantKicked(eid("carol")));
    refused(&p, conf, &s, ErrorCode::ParticipantNotFound, || {
        p.fresh_tokens(conf, &[eid("stranger")])
    });
    refused(&p, conf, &s, ErrorCode::InvalidArgument, || {
        p.fresh_tokens(conf, &[eid("bob"), eid("bob")])
    });
    let (owner, open_conf) = open_room(&p);
    refused(&p, open_conf, &[owner], ErrorCode::InvalidArgument, || {
        p.fresh_tokens(open_conf, &[eid("alice")])
    });
}

#[test]
fn terminate_ends_the_conference_once() {
    let (p, _) = platform();
    let (alice, bob, conf) = team(&p);
    let token = p.fresh_tokens(conf, &[eid("bob")]).unwrap().remove(0).1;
    p.join(bob, conf, Some(&token)).unwrap();
    drain(&p, alice);
    drain(&p, bob);
    p.app_terminate(conf).unwrap();
    assert!(drain(&p, bob)
        .iter()
        .any(|e| matches!(&*e.kind, EventKind::ConferenceEnded { .. })));
    let err = p.app_terminate(conf).unwrap_err();
    assert_eq!(err, PlatformError::ConferenceDestroyed(conf.to_string()));
    assert_eq!(
        p.participants(conf).unwrap_err().code(),
        ErrorCode::ConferenceNotFound
    );
    assert_eq!(
        p.app_terminate(ConferenceId::random()).unwrap_err().code(),
        ErrorCode::ConferenceNotFound
    );
}

#[test]
fn the_request_bound_is_one_for_every_operation() {
    assert!(check_request_len(MAX_INVITEES_PER_REQUEST).is_ok());
    let err = check_request_len(MAX_INVITEES_PER_REQUEST + 1).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert_eq!(err.http_status(), 400);
}
