//! Scenario tests of the platform through its public Rust API (the SDK path):
//! sessions, conferences, invitations, the participant lifecycle, tokens and
//! events, on a manual clock.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use common::*;
use confkit::event::{EndReason, EventKind};
use confkit::platform::{ConferenceOptions, Delivery, Joined, Listener};
use confkit::token::TokenError;
use confkit::{
    ConferenceId, ErrorCode, Event, IdentityError, KeyId, LifecycleEvent, ManualClock,
    ParticipantStatus as S, ParticipantType, Permission as P, PermissionSet, Platform,
    PlatformError, SessionId, SigningKey, TransitionError,
};
use serde_json::{json, Value};

const ALICE_AVATAR: &str = "https://example.com/alice.png";

fn perms(list: &[P]) -> PermissionSet {
    PermissionSet::of(list)
}

fn joined(status: S, permissions: PermissionSet, switched: bool) -> Joined {
    Joined {
        status,
        permissions,
        switched,
    }
}

/// The token a session received in its (single) invitation.
/// An owner (alice) and a conference she has joined and is ON_AIR in; her
/// events so far are drained.
struct Room {
    p: Platform,
    clock: ManualClock,
    alice: SessionId,
    conf: ConferenceId,
    owner_token: Option<String>,
}

impl Room {
    fn new(options: ConferenceOptions) -> Self {
        let (p, clock) = platform();
        let alice = open_with_avatar(&p, "alice", "Alice", ALICE_AVATAR);
        let created = p.create_conference(alice, "room", options).unwrap();
        let conf = created.conference.id;
        let owner_token = created.owner_token;
        p.join(alice, conf, owner_token.as_deref()).unwrap();
        assert_eq!(
            p.report(alice, conf, LifecycleEvent::Connected),
            Ok(S::OnAir)
        );
        drain(&p, alice);
        Room {
            p,
            clock,
            alice,
            conf,
            owner_token,
        }
    }

    fn protected() -> Self {
        Self::new(protected())
    }

    fn unprotected() -> Self {
        Self::new(unprotected())
    }

    /// Opens a session for `id`, has alice invite them with `perms`, and
    /// returns the session and the invitation token (protected rooms).
    fn invite(&self, id: &str, perms: Option<PermissionSet>) -> (SessionId, Option<String>) {
        let sid = open(&self.p, id, &capitalized(id));
        let results = self
            .p
            .invite(self.alice, self.conf, &[invitee(id, perms)])
            .unwrap();
        assert_eq!(results[0].delivery, Delivery::Delivered(1));
        let token = invitation(&drain(&self.p, sid)).2;
        (sid, token)
    }

    /// Invites `id`, joins them with their token and reports them connected.
    fn on_air(&self, id: &str, perms: Option<PermissionSet>) -> (SessionId, Option<String>) {
        let (sid, token) = self.invite(id, perms);
        self.p.join(sid, self.conf, token.as_deref()).unwrap();
        assert_eq!(
            self.p.report(sid, self.conf, LifecycleEvent::Connected),
            Ok(S::OnAir)
        );
        (sid, token)
    }

    fn drain_all(&self, sessions: &[SessionId]) {
        for s in sessions {
            drain(&self.p, *s);
        }
    }

    fn snapshot(&self, sessions: &[SessionId]) -> Snapshot {
        Snapshot::take(&self.p, self.conf, sessions)
    }
}

fn capitalized(id: &str) -> String {
    let mut c = id.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

// ===========================================================================
// The SDK flow, one test per step
// ===========================================================================

/// The SDK flow, run up to a step.
struct Flow {
    p: Platform,
    alice: SessionId,
    conf: ConferenceId,
    bob: SessionId,
    carol: SessionId,
}

const CAROL_PERMS: [P; 2] = [P::Join, P::SendAudio];

/// Step 1: alice creates the protected conference "team-sync" and joins it.
fn flow_step1() -> (Platform, SessionId, ConferenceId, String) {
    let (p, _clock) = platform();
    let alice = open_with_avatar(&p, "alice", "Alice", ALICE_AVATAR);
    let created = p
        .create_conference(alice, "team-sync", protected())
        .unwrap();
    let conf = created.conference.id;
    let token = created.owner_token.clone().unwrap();
    p.join(alice, conf, Some(&token)).unwrap();
    p.report(alice, conf, LifecycleEvent::Connected).unwrap();
    (p, alice, conf, token)
}

/// Steps 1-2: bob and carol open sessions.
fn flow_step2() -> Flow {
    let (p, alice, conf, _) = flow_step1();
    drain(&p, alice);
    let bob = open(&p, "bob", "Bob");
    let carol = open(&p, "carol", "Carol");
    Flow {
        p,
        alice,
        conf,
        bob,
        carol,
    }
}

/// Steps 1-3: alice invites bob (default permissions) and carol (JOIN, SEND_AUDIO).
fn flow_step3() -> (Flow, Vec<confkit::platform::InviteResult>) {
    let f = flow_step2();
    let results =
        f.p.invite(
            f.alice,
            f.conf,
            &[
                invitee("bob", None),
                invitee("carol", Some(perms(&CAROL_PERMS))),
            ],
        )
        .unwrap();
    (f, results)
}

#[test]
fn sdk_step1_inviter_creates_and_joins() {
    let (p, _clock) = platform();
    let alice = open_with_avatar(&p, "alice", "Alice", ALICE_AVATAR);
    let created = p
        .create_conference(alice, "team-sync", protected())
        .unwrap();
    assert!(created.is_new);
    let info = &created.conference;
    let conf = info.id;
    assert_eq!(info.alias, "team-sync");
    assert_eq!(info.owner.as_str(), "alice");
    assert!(info.is_protected);
    assert!(!info.audio_only);
    assert_eq!(info.participant_limit, None);
    assert_eq!(info.empty_ttl_secs, 3600);
    assert_eq!(info.token_ttl_secs, 3 * 3600);
    assert_eq!(info.created_at, START);
    assert_eq!((info.participant_count, info.present_count), (1, 0));

    // The owner's token carries every permission, for this conference.
    let token = created.owner_token.clone().expect("owner token");
    let claims = verify(&p, &token, conf).unwrap();
    assert_eq!(claims.subject.as_str(), "alice");
    assert_eq!(claims.conference, conf);
    assert_eq!(claims.permissions, PermissionSet::ALL);
    assert_eq!(claims.issuer, "confkit");
    assert_eq!(
        (claims.issued_at, claims.expires_at),
        (START, START + 3 * 3600)
    );

    let events = drain(&p, alice);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].sequence, 1);
    assert_eq!(events[0].conference_id, Some(conf));
    assert_eq!(
        *events[0].kind,
        EventKind::ConferenceCreated {
            conference_alias: "team-sync".into(),
            is_protected: true,
        }
    );
    let me = participant(&p, conf, "alice");
    assert_eq!(
        (me.status, me.permissions, me.participant_type),
        (S::Reserved, PermissionSet::ALL, ParticipantType::User)
    );
    assert_eq!(me.name, "Alice");
    assert_eq!(me.avatar_url.as_deref(), Some(ALICE_AVATAR));

    // Join with the owner token, then the media connects.
    assert_eq!(
        p.join(alice, conf, Some(&token)),
        Ok(joined(S::Connecting, PermissionSet::ALL, false))
    );
    assert_eq!(
        updates(&drain(&p, alice)),
        [("alice".into(), S::Reserved, S::Connecting)]
    );
    assert_eq!(
        p.report(alice, conf, LifecycleEvent::Connected),
        Ok(S::OnAir)
    );
    let events = drain(&p, alice);
    assert_eq!(
        updates(&events),
        [("alice".into(), S::Connecting, S::OnAir)]
    );
    assert_eq!(events[0].sequence, 3);
    assert_eq!(p.conference(conf).unwrap().present_count, 1);
    assert_eq!(statuses(&p, conf), [("alice".into(), S::OnAir)]);
}

#[test]
fn sdk_step2_invitees_open_sessions() {
    let (p, alice, conf, _) = flow_step1();
    drain(&p, alice);
    let before = Snapshot::take(&p, conf, &[alice]);

    let bob = open(&p, "bob", "Bob");
    let carol = open(&p, "carol", "Carol");
    assert_ne!(bob, carol);
    assert_ne!(bob, alice);
    assert_eq!(p.session_info(bob).unwrap().external_id().as_str(), "bob");
    assert_eq!(p.session_info(bob).unwrap().name(), "Bob");
    assert_eq!(
        p.session_info(carol).unwrap().external_id().as_str(),
        "carol"
    );
    assert_eq!(p.pending_events(bob), Ok(0));
    assert_eq!(p.pending_events(carol), Ok(0));
    // Opening a session tells nobody and changes no conference.
    assert_eq!(Snapshot::take(&p, conf, &[alice]), before);
}

#[test]
fn sdk_step3_invite_with_and_without_permissions() {
    let (f, results) = flow_step3();
    assert_eq!(results.len(), 2);

    let bob = &results[0];
    assert_eq!(bob.external_id.as_str(), "bob");
    assert_eq!(bob.delivery, Delivery::Delivered(1));
    assert_eq!(bob.permissions, PermissionSet::DEFAULT_INVITEE);
    // The token reaches the invitee in the invitation, never the inviter.
    let bob_token = invitation_token(&f.p, f.bob);
    let claims = verify(&f.p, &bob_token, f.conf).unwrap();
    assert_eq!(claims.subject.as_str(), "bob");
    assert_eq!(claims.permissions, PermissionSet::DEFAULT_INVITEE);
    assert!(!claims.allows(P::Invite) && !claims.allows(P::Kick));

    let carol = &results[1];
    assert_eq!(carol.external_id.as_str(), "carol");
    assert_eq!(carol.delivery, Delivery::Delivered(1));
    assert_eq!(carol.permissions, perms(&CAROL_PERMS));
    let carol_token = invitation_token(&f.p, f.carol);
    let claims = verify(&f.p, &carol_token, f.conf).unwrap();
    assert_eq!(claims.subject.as_str(), "carol");
    assert_eq!(claims.conference, f.conf);
    assert_eq!(claims.permissions, perms(&CAROL_PERMS));
    assert_ne!(bob_token, carol_token);
}

#[test]
fn sdk_step4_invitees_reserved_and_participant_added_to_all() {
    let (f, _) = flow_step3();
    let list = f.p.participants(f.conf).unwrap();
    let rows: Vec<_> = list
        .iter()
        .map(|v| (v.external_id.as_str(), v.status, v.permissions))
        .collect();
    assert_eq!(
        rows,
        [
            ("alice", S::OnAir, PermissionSet::ALL),
            ("bob", S::Reserved, PermissionSet::DEFAULT_INVITEE),
            ("carol", S::Reserved, perms(&CAROL_PERMS)),
        ]
    );
    // The invitee's display name comes from their open session.
    assert_eq!(list[1].name, "Bob");
    assert_eq!(
        f.p.conference(f.conf).unwrap().participant_count,
        3,
        "no participant is duplicated"
    );
    // alice, the one participant in the conference, hears about both.
    let events = drain(&f.p, f.alice);
    assert_eq!(types(&events), ["participantAdded", "participantAdded"]);
    assert_eq!(
        added(&events),
        [("bob".into(), S::Reserved), ("carol".into(), S::Reserved)]
    );

    // With bob in the conference too, a further invitation reaches both.
    let token = invitation_token(&f.p, f.bob);
    f.p.join(f.bob, f.conf, Some(&token)).unwrap();
    drain(&f.p, f.alice);
    drain(&f.p, f.bob);
    f.p.invite(f.alice, f.conf, &[invitee("dave", None)])
        .unwrap();
    for sid in [f.alice, f.bob] {
        assert_eq!(added(&drain(&f.p, sid)), [("dave".into(), S::Reserved)]);
    }
    // carol is only RESERVED: she hears nothing about dave.
    assert_eq!(types(&drain(&f.p, f.carol)), ["invitationReceived"]);
}

#[test]
fn sdk_step5_invitation_received_join_connecting_on_air() {
    let (f, results) = flow_step3();
    drain(&f.p, f.alice);

    let events = drain(&f.p, f.bob);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].sequence, 1);
    assert_eq!(events[0].conference_id, Some(f.conf));
    let (alias, inviter, token, permissions) = invitation(&events);
    assert_eq!(alias, "team-sync");
    assert_eq!(inviter, f.p.session_info(f.alice).unwrap());
    assert_eq!(inviter.avatar_url(), Some(ALICE_AVATAR));
    assert_eq!(permissions, Some(PermissionSet::DEFAULT_INVITEE));
    assert_eq!(results[0].permissions, PermissionSet::DEFAULT_INVITEE);
    let (_, _, carol_token, carol_perms) = invitation(&drain(&f.p, f.carol));
    assert!(carol_token.is_some());
    assert_eq!(carol_perms, Some(perms(&CAROL_PERMS)));

    // Join → CONNECTING.
    let token = token.unwrap();
    assert_eq!(
        f.p.join(f.bob, f.conf, Some(&token)),
        Ok(joined(S::Connecting, PermissionSet::DEFAULT_INVITEE, false))
    );
    for sid in [f.alice, f.bob] {
        assert_eq!(
            updates(&drain(&f.p, sid)),
            [("bob".into(), S::Reserved, S::Connecting)]
        );
    }
    // Connected → ON_AIR.
    assert_eq!(
        f.p.report(f.bob, f.conf, LifecycleEvent::Connected),
        Ok(S::OnAir)
    );
    for sid in [f.alice, f.bob] {
        assert_eq!(
            updates(&drain(&f.p, sid)),
            [("bob".into(), S::Connecting, S::OnAir)]
        );
    }
    // carol, still RESERVED, is not in the conference and hears nothing.
    assert_eq!(f.p.pending_events(f.carol), Ok(0));
    assert_eq!(
        statuses(&f.p, f.conf),
        [
            ("alice".into(), S::OnAir),
            ("bob".into(), S::OnAir),
            ("carol".into(), S::Reserved)
        ]
    );
    assert_eq!(f.p.conference(f.conf).unwrap().present_count, 2);
}

// ===========================================================================
// Permissions: escalation, INVITE, KICK, UPDATE_PERMISSIONS
// ===========================================================================

#[test]
fn escalation_is_refused_and_changes_nothing() {
    let room = Room::protected();
    let bob_perms = perms(&[P::Invite, P::Join, P::SendAudio]);
    let (bob, _) = room.on_air("bob", Some(bob_perms));
    let carol = open(&room.p, "carol", "Carol");
    room.drain_all(&[room.alice, bob]);
    let before = room.snapshot(&[room.alice, bob, carol]);

    // A permission bob does not hold.
    let e = room
        .p
        .invite(
            bob,
            room.conf,
            &[invitee("carol", Some(perms(&[P::Join, P::Kick])))],
        )
        .unwrap_err();
    assert_eq!(
        e,
        PlatformError::Escalation {
            missing: perms(&[P::Kick])
        }
    );
    assert_eq!(e.code(), ErrorCode::NotAllowed);
    // The default set counts as granted: bob lacks most of it.
    let e = room
        .p
        .invite(bob, room.conf, &[invitee("carol", None)])
        .unwrap_err();
    assert_eq!(
        e,
        PlatformError::Escalation {
            missing: PermissionSet::DEFAULT_INVITEE.difference(bob_perms)
        }
    );
    // One greedy invitee refuses the whole request.
    let e = room
        .p
        .invite(
            bob,
            room.conf,
            &[
                invitee("dave", Some(perms(&[P::Join]))),
                invitee("carol", Some(perms(&[P::Join, P::Record]))),
            ],
        )
        .unwrap_err();
    assert_eq!(
        e,
        PlatformError::Escalation {
            missing: perms(&[P::Record])
        }
    );
    assert_eq!(room.snapshot(&[room.alice, bob, carol]), before);

    // Within what bob holds, the invitation goes through.
    let results = room
        .p
        .invite(bob, room.conf, &[invitee("carol", Some(perms(&[P::Join])))])
        .unwrap();
    assert_eq!(results[0].delivery, Delivery::Delivered(1));
    assert_eq!(results[0].permissions, perms(&[P::Join]));
    let (_, inviter, _, granted) = invitation(&drain(&room.p, carol));
    assert_eq!(inviter.external_id().as_str(), "bob");
    assert_eq!(granted, Some(perms(&[P::Join])));
}

#[test]
fn update_permissions_holder_may_grant_what_they_do_not_hold() {
    let room = Room::protected();
    let (dave, _) = room.on_air(
        "dave",
        Some(perms(&[P::Invite, P::Join, P::UpdatePermissions])),
    );
    let erin = open(&room.p, "erin", "Erin");
    let results = room
        .p
        .invite(
            dave,
            room.conf,
            &[invitee("erin", Some(perms(&[P::Join, P::Kick])))],
        )
        .unwrap();
    assert_eq!(results[0].permissions, perms(&[P::Join, P::Kick]));
    let token = invitation_token(&room.p, erin);
    assert_eq!(
        verify(&room.p, &token, room.conf).unwrap().permissions,
        perms(&[P::Join, P::Kick])
    );
}

#[test]
fn invite_needs_invite_permission_in_protected_conferences_only() {
    let room = Room::protected();
    let (bob, _) = room.on_air("bob", None);
    open(&room.p, "carol", "Carol");
    room.drain_all(&[room.alice, bob]);
    let before = room.snapshot(&[room.alice, bob]);
    let e = room
        .p
        .invite(bob, room.conf, &[invitee("carol", Some(perms(&[P::Join])))])
        .unwrap_err();
    assert_eq!(
        e,
        PlatformError::MissingPermission {
            who: eid("bob"),
            permission: P::Invite
        }
    );
    assert_eq!(room.snapshot(&[room.alice, bob]), before);

    // In an unprotected conference anyone in it may invite.
    let open_room = Room::unprotected();
    let (bob, token) = open_room.on_air("bob", None);
    assert_eq!(token, None);
    let carol = open(&open_room.p, "carol", "Carol");
    let results = open_room
        .p
        .invite(bob, open_room.conf, &[invitee("carol", None)])
        .unwrap();
    assert_eq!(results[0].delivery, Delivery::Delivered(1));
    let (_, _, token, permissions) = invitation(&drain(&open_room.p, carol));
    assert_eq!((token, permissions), (None, None));
}

#[test]
fn invite_when_not_joined_is_refused() {
    let (p, _clock) = platform();
    let alice = open(&p, "alice", "Alice");
    let created = p.create_conference(alice, "room", protected()).unwrap();
    let conf = created.conference.id;
    let bob = open(&p, "bob", "Bob");
    drain(&p, alice);
    let before = Snapshot::take(&p, conf, &[alice, bob]);

    // The owner has not joined yet.
    assert_eq!(
        p.invite(alice, conf, &[invitee("bob", None)]),
        Err(PlatformError::NotInConference(eid("alice")))
    );
    assert_eq!(Snapshot::take(&p, conf, &[alice, bob]), before);

    // A RESERVED invitee is not in the conference either.
    p.join(alice, conf, created.owner_token.as_deref()).unwrap();
    p.invite(
        alice,
        conf,
        &[invitee(
            "bob",
            Some(PermissionSet::ALL.without(P::UpdatePermissions)),
        )],
    )
    .unwrap();
    drain(&p, alice);
    drain(&p, bob);
    let before = Snapshot::take(&p, conf, &[alice, bob]);
    let e = p.invite(bob, conf, &[invitee("carol", None)]).unwrap_err();
    assert_eq!(e, PlatformError::NotInConference(eid("bob")));
    assert_eq!(e.code(), ErrorCode::NotInConference);
    assert_eq!(Snapshot::take(&p, conf, &[alice, bob]), before);

    // Nor is someone who left.
    p.leave(alice, conf).unwrap();
    drain(&p, alice);
    let before = Snapshot::take(&p, conf, &[alice, bob]);
    assert_eq!(
        p.invite(alice, conf, &[invitee("carol", None)]),
        Err(PlatformError::NotInConference(eid("alice")))
    );
    assert_eq!(Snapshot::take(&p, conf, &[alice, bob]), before);
}

#[test]
fn kick_requires_kick_permission_or_owner() {
    let room = Room::protected();
    let (bob, _) = room.on_air("bob", None);
    let (carol, _) = room.on_air("carol", None);
    let (dave, _) = room.on_air("dave", Some(perms(&[P::Join, P::Kick])));
    let all = [room.alice, bob, carol, dave];
    room.drain_all(&all);
    let before = room.snapshot(&all);

    assert_eq!(
        room.p.kick(bob, room.conf, &eid("carol")),
        Err(PlatformError::MissingPermission {
            who: eid("bob"),
            permission: P::Kick
        })
    );
    // Nobody may kick the owner.
    let e = room.p.kick(dave, room.conf, &eid("alice")).unwrap_err();
    assert_eq!(e, PlatformError::OwnerNotKickable);
    assert_eq!(e.code(), ErrorCode::NotAllowed);
    assert_eq!(e.to_string(), "the conference owner cannot be kicked");
    // Nor kick someone who is not a participant.
    assert_eq!(
        room.p.kick(dave, room.conf, &eid("zed")),
        Err(PlatformError::ParticipantNotFound(eid("zed")))
    );
    assert_eq!(room.snapshot(&all), before);

    // A KICK holder may.
    room.p.kick(dave, room.conf, &eid("carol")).unwrap();
    for sid in all {
        assert_eq!(
            updates(&drain(&room.p, sid)),
            [("carol".into(), S::OnAir, S::Kicked)],
            "session {sid}"
        );
    }
    // So may the owner, who holds every permission.
    room.p.kick(room.alice, room.conf, &eid("bob")).unwrap();
    assert_eq!(participant(&room.p, room.conf, "bob").status, S::Kicked);
    // A KICK holder who is not in the conference may not.
    room.p.leave(dave, room.conf).unwrap();
    assert_eq!(
        room.p.kick(dave, room.conf, &eid("alice")),
        Err(PlatformError::NotInConference(eid("dave")))
    );
}

#[test]
fn update_permissions_requires_update_permissions_or_owner() {
    let room = Room::protected();
    let (bob, _) = room.on_air("bob", None);
    let (carol, _) = room.on_air("carol", None);
    let (dave, _) = room.on_air("dave", Some(perms(&[P::Join, P::UpdatePermissions])));
    let all = [room.alice, bob, carol, dave];
    room.drain_all(&all);
    let before = room.snapshot(&all);

    assert_eq!(
        room.p
            .update_permissions(bob, room.conf, &eid("carol"), perms(&[P::Join])),
        Err(PlatformError::MissingPermission {
            who: eid("bob"),
            permission: P::UpdatePermissions
        })
    );
    assert_eq!(
        room.p
            .update_permissions(dave, room.conf, &eid("zed"), perms(&[P::Join])),
        Err(PlatformError::ParticipantNotFound(eid("zed")))
    );
    assert_eq!(room.snapshot(&all), before);

    let new = perms(&[P::Join, P::SendAudio]);
    room.p
        .update_permissions(dave, room.conf, &eid("carol"), new)
        .unwrap();
    assert_eq!(participant(&room.p, room.conf, "carol").permissions, new);
    let events = drain(&room.p, carol);
    let token = permissions_token(&events).expect("a protected conference issues a new token");
    assert_eq!(verify(&room.p, &token, room.conf).unwrap().permissions, new);
    assert_eq!(
        *events[0].kind,
        EventKind::PermissionsUpdated {
            permissions: new,
            token: Some(token)
        }
    );
    // Everyone who sees carol (carol too) sees her new set; nobody else
    // gets her token.
    assert_eq!(
        updates(&events[1..]),
        [("carol".into(), S::OnAir, S::OnAir)]
    );
    let dave_saw = drain(&room.p, dave);
    assert!(permissions_token(&dave_saw).is_none());
    assert_eq!(updates(&dave_saw), [("carol".into(), S::OnAir, S::OnAir)]);

    let owner_set = perms(&[P::Join, P::Invite]);
    room.p
        .update_permissions(room.alice, room.conf, &eid("bob"), owner_set)
        .unwrap();
    let token = permissions_token(&drain(&room.p, bob)).unwrap();
    assert_eq!(
        verify(&room.p, &token, room.conf).unwrap().permissions,
        owner_set
    );
}

// ===========================================================================
// Tokens: kick, permission update, re-invitation, protected joins
// ===========================================================================

#[test]
fn kicked_users_old_token_is_refused() {
    let room = Room::protected();
    let (bob, token) = room.on_air("bob", None);
    let token = token.unwrap();
    let jti = verify(&room.p, &token, room.conf).unwrap().token_id;
    // A token with the platform's key the platform never recorded, issued earlier.
    let (unseen, _) = mint_at("bob", room.conf, PermissionSet::DEFAULT_INVITEE, START + 5);
    room.clock.advance(10);
    let kicked_at = room.p.now();
    room.drain_all(&[room.alice, bob]);

    room.p.kick(room.alice, room.conf, &eid("bob")).unwrap();
    for sid in [room.alice, bob] {
        assert_eq!(
            updates(&drain(&room.p, sid)),
            [("bob".into(), S::OnAir, S::Kicked)]
        );
    }
    assert_eq!(
        room.p.report(bob, room.conf, LifecycleEvent::Connected),
        Err(PlatformError::NotInConference(eid("bob")))
    );

    let before = room.snapshot(&[room.alice, bob]);
    let e = room.p.join(bob, room.conf, Some(&token)).unwrap_err();
    assert_eq!(e, PlatformError::Token(TokenError::Revoked { jti }));
    assert_eq!(e.code(), ErrorCode::TokenRevoked);
    assert_eq!(
        room.p.join(bob, room.conf, Some(&unseen)),
        Err(PlatformError::Token(TokenError::SubjectRevoked {
            subject: "bob".into(),
            before: kicked_at
        }))
    );
    assert_eq!(
        room.p
            .listen(bob, room.conf, Some(&token))
            .unwrap_err()
            .code(),
        ErrorCode::TokenRevoked
    );
    // Even a token issued after the kick does not bring a KICKED participant back.
    let (fresh, _) = mint_at("bob", room.conf, PermissionSet::DEFAULT_INVITEE, kicked_at);
    assert_eq!(
        room.p.join(bob, room.conf, Some(&fresh)),
        Err(PlatformError::Transition(TransitionError {
            from: S::Kicked,
            event: LifecycleEvent::Join
        }))
    );
    assert_eq!(room.snapshot(&[room.alice, bob]), before);

    // A new invitation (in the very second of the kick) does.
    let results = room
        .p
        .invite(room.alice, room.conf, &[invitee("bob", None)])
        .unwrap();
    assert_eq!(results[0].delivery, Delivery::Delivered(1));
    assert_eq!(
        updates(&drain(&room.p, room.alice)),
        [("bob".into(), S::Kicked, S::Reserved)]
    );
    let new_token = invitation_token(&room.p, bob);
    assert_eq!(
        room.p.join(bob, room.conf, Some(&new_token)),
        Ok(joined(S::Connecting, PermissionSet::DEFAULT_INVITEE, false))
    );
}

#[test]
fn permission_update_revokes_the_old_token() {
    let room = Room::protected();
    let (bob, old) = room.on_air("bob", None);
    let old = old.unwrap();
    let old_jti = verify(&room.p, &old, room.conf).unwrap().token_id;
    room.drain_all(&[room.alice, bob]);

    let new_set = PermissionSet::DEFAULT_INVITEE.with(P::Invite);
    room.p
        .update_permissions(room.alice, room.conf, &eid("bob"), new_set)
        .unwrap();
    let events = drain(&room.p, bob);
    let new = permissions_token(&events).unwrap();
    assert_ne!(new, old);
    let claims = verify(&room.p, &new, room.conf).unwrap();
    assert_eq!(
        (claims.subject.as_str(), claims.permissions),
        ("bob", new_set)
    );
    assert_eq!(events.len(), 2);
    assert_eq!(
        *events[0].kind,
        EventKind::PermissionsUpdated {
            permissions: new_set,
            token: Some(new.clone())
        }
    );
    // Only bob gets the token; alice's view of bob follows his new set (a
    // change on purpose: every view must be derivable from its events).
    let alice_saw = drain(&room.p, room.alice);
    assert_eq!(updates(&alice_saw), [("bob".into(), S::OnAir, S::OnAir)]);
    assert!(permissions_token(&alice_saw).is_none());
    let view = participant(&room.p, room.conf, "bob");
    assert_eq!((view.status, view.permissions), (S::OnAir, new_set));

    let before = room.snapshot(&[room.alice, bob]);
    assert_eq!(
        room.p.join(bob, room.conf, Some(&old)),
        Err(PlatformError::Token(TokenError::Revoked { jti: old_jti }))
    );
    assert_eq!(room.snapshot(&[room.alice, bob]), before);
    // The new token admits (a rejoin restarts the connection).
    assert_eq!(
        room.p.join(bob, room.conf, Some(&new)),
        Ok(joined(S::Connecting, new_set, false))
    );
    // bob may now invite.
    let results = room
        .p
        .invite(bob, room.conf, &[invitee("carol", Some(perms(&[P::Join])))])
        .unwrap();
    assert_eq!(results[0].delivery, Delivery::NoOpenSession);
}

#[test]
fn reinvite_of_reserved_refreshes_token_and_revokes_the_old_one() {
    let room = Room::protected();
    let (bob, first) = room.invite("bob", None);
    let first = first.unwrap();
    let first_jti = verify(&room.p, &first, room.conf).unwrap().token_id;
    drain(&room.p, room.alice);

    let narrower = perms(&[P::Join, P::SendAudio]);
    let results = room
        .p
        .invite(room.alice, room.conf, &[invitee("bob", Some(narrower))])
        .unwrap();
    assert_eq!(results[0].delivery, Delivery::Delivered(1));
    assert_eq!(results[0].permissions, narrower);
    let (_, _, pushed, granted) = invitation(&drain(&room.p, bob));
    let second = pushed.unwrap();
    assert_ne!(second, first);
    assert_eq!(granted, Some(narrower));
    // Still one bob, RESERVED, with the new permissions; the audience gets
    // his refreshed view.
    let events = drain(&room.p, room.alice);
    assert_eq!(added(&events), [("bob".into(), S::Reserved)]);
    assert_eq!(events.len(), 1);
    let bobs: Vec<_> = room
        .p
        .participants(room.conf)
        .unwrap()
        .into_iter()
        .filter(|v| v.external_id.as_str() == "bob")
        .collect();
    assert_eq!(bobs.len(), 1);
    assert_eq!(
        (bobs[0].status, bobs[0].permissions),
        (S::Reserved, narrower)
    );

    assert_eq!(
        room.p.join(bob, room.conf, Some(&first)),
        Err(PlatformError::Token(TokenError::Revoked { jti: first_jti }))
    );
    assert_eq!(participant(&room.p, room.conf, "bob").status, S::Reserved);
    assert_eq!(
        room.p.join(bob, room.conf, Some(&second)),
        Ok(joined(S::Connecting, narrower, false))
    );
}

#[test]
fn inviting_someone_in_the_conference_issues_nothing() {
    let room = Room::protected();
    let bob_set = PermissionSet::DEFAULT_INVITEE.with(P::Invite);
    let (bob, token) = room.on_air("bob", Some(bob_set));
    let dave = open(&room.p, "dave", "Dave");
    room.drain_all(&[room.alice, bob]);
    let before = room.snapshot(&[room.alice, bob, dave]);

    let results = room
        .p
        .invite(
            room.alice,
            room.conf,
            &[invitee("bob", Some(perms(&[P::Join])))],
        )
        .unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].delivery, Delivery::AlreadyInConference);
    assert_eq!(results[0].permissions, bob_set, "his permissions are kept");
    assert_eq!(room.snapshot(&[room.alice, bob, dave]), before);
    // The owner inviting herself is the same.
    let results = room
        .p
        .invite(room.alice, room.conf, &[invitee("alice", None)])
        .unwrap();
    assert_eq!(results[0].delivery, Delivery::AlreadyInConference);
    assert_eq!(room.snapshot(&[room.alice, bob, dave]), before);

    // Mixed with a new invitee, only the new one gets a token and an invitation.
    let results = room
        .p
        .invite(
            room.alice,
            room.conf,
            &[invitee("bob", None), invitee("dave", None)],
        )
        .unwrap();
    assert_eq!(results[0].delivery, Delivery::AlreadyInConference);
    assert_eq!(results[1].delivery, Delivery::Delivered(1));
    assert_eq!(types(&drain(&room.p, bob)), ["participantAdded"]);
    assert!(invitation(&drain(&room.p, dave)).2.is_some());
    assert_eq!(
        added(&drain(&room.p, room.alice)),
        [("dave".into(), S::Reserved)]
    );
    // bob's token still admits him (nothing was revoked).
    assert_eq!(
        room.p.join(bob, room.conf, token.as_deref()),
        Ok(joined(S::Connecting, bob_set, false))
    );
}

#[test]
fn owner_cannot_be_invited_and_keeps_the_owner_token() {
    let room = Room::protected();
    let owner_token = room.owner_token.clone().unwrap();
    let (bob, _) = room.on_air("bob", Some(PermissionSet::DEFAULT_INVITEE.with(P::Invite)));
    room.p.leave(room.alice, room.conf).unwrap();
    room.drain_all(&[room.alice, bob]);
    let before = room.snapshot(&[room.alice, bob]);

    let e = room
        .p
        .invite(bob, room.conf, &[invitee("alice", None)])
        .unwrap_err();
    assert!(matches!(e, PlatformError::InvalidInput(_)), "{e:?}");
    assert_eq!(room.snapshot(&[room.alice, bob]), before);
    assert_eq!(
        participant(&room.p, room.conf, "alice").permissions,
        PermissionSet::ALL
    );
    assert_eq!(
        room.p.join(room.alice, room.conf, Some(&owner_token)),
        Ok(joined(S::Connecting, PermissionSet::ALL, false))
    );
}

#[test]
fn protected_join_refusals() {
    let (p, _clock) = platform();
    let alice = open(&p, "alice", "Alice");
    let conf = p.create_conference(alice, "room", protected()).unwrap();
    let other = p.create_conference(alice, "other", protected()).unwrap();
    let conf_id = conf.conference.id;
    let bob = open(&p, "bob", "Bob");
    let carol = open(&p, "carol", "Carol");
    let token = conf.owner_token.unwrap();
    p.join(alice, conf_id, Some(&token)).unwrap();
    p.invite(
        alice,
        conf_id,
        &[invitee("bob", None), invitee("carol", None)],
    )
    .unwrap();
    let bob_token = invitation_token(&p, bob);
    drain(&p, carol);
    drain(&p, alice);
    let sessions = [alice, bob, carol];
    let before = Snapshot::take(&p, conf_id, &sessions);

    // No token.
    let e = p.join(bob, conf_id, None).unwrap_err();
    assert_eq!(e, PlatformError::TokenRequired(conf_id.to_string()));
    assert_eq!(e.code(), ErrorCode::TokenInvalid);
    assert_eq!(p.listen(bob, conf_id, None), Err(e));
    // Someone else's token.
    assert_eq!(
        p.join(carol, conf_id, Some(&bob_token)),
        Err(PlatformError::TokenSubject {
            token_subject: "bob".into(),
            session_user: "carol".into()
        })
    );
    // A token for another conference.
    let other_token = other.owner_token.unwrap();
    assert_eq!(
        p.join(alice, conf_id, Some(&other_token)),
        Err(PlatformError::Token(TokenError::WrongConference {
            expected: conf_id.to_string(),
            found: other.conference.id.to_string()
        }))
    );
    // Not a token at all.
    assert_eq!(
        p.join(bob, conf_id, Some("not-a-token")),
        Err(PlatformError::Token(TokenError::Malformed))
    );
    // A token from a key the platform does not trust.
    let stranger = SigningKey::from_seed(&[1; 32], KeyId::new("stranger").unwrap());
    let claims = verify(&p, &bob_token, conf_id).unwrap();
    assert_eq!(
        p.join(bob, conf_id, Some(&stranger.mint(&claims))),
        Err(PlatformError::Token(TokenError::UnknownKeyId(
            "stranger".into()
        )))
    );
    // The same kid with another key: the signature does not verify.
    let forger = SigningKey::from_seed(&[1; 32], KeyId::new(KID).unwrap());
    assert_eq!(
        p.join(bob, conf_id, Some(&forger.mint(&claims))),
        Err(PlatformError::Token(TokenError::Signature))
    );
    assert_eq!(Snapshot::take(&p, conf_id, &sessions), before);

    // A token without JOIN admits neither a join nor a listen.
    p.invite(
        alice,
        conf_id,
        &[invitee("dave", Some(perms(&[P::SendAudio])))],
    )
    .unwrap();
    let dave = open(&p, "dave", "Dave");
    let (dave_token, _) = mint_at("dave", conf_id, perms(&[P::SendAudio]), p.now());
    for r in [
        p.join(dave, conf_id, Some(&dave_token)),
        p.listen(dave, conf_id, Some(&dave_token)),
    ] {
        assert_eq!(
            r,
            Err(PlatformError::MissingPermission {
                who: eid("dave"),
                permission: P::Join
            })
        );
    }
    assert_eq!(participant(&p, conf_id, "dave").status, S::Reserved);
}

// ===========================================================================
// Conferences: aliases, terminate, TTL, capacity
// ===========================================================================

#[test]
fn alias_is_case_insensitive() {
    let (p, _clock) = platform();
    let alice = open(&p, "alice", "Alice");
    let bob = open(&p, "bob", "Bob");
    let first = p
        .create_conference(alice, "Team-Sync", unprotected())
        .unwrap();
    let id = first.conference.id;
    drain(&p, alice);

    let again = p.create_conference(bob, "team-SYNC", protected()).unwrap();
    assert!(!again.is_new);
    assert_eq!(again.conference.id, id);
    assert_eq!(
        again.conference.alias, "Team-Sync",
        "the creator's spelling"
    );
    assert_eq!(again.conference.owner.as_str(), "alice");
    assert!(!again.conference.is_protected, "the first options stand");
    assert_eq!(p.conference_by_alias("TEAM-SYNC").unwrap().id, id);
    assert_eq!(p.conference_by_alias("team-sync").unwrap().id, id);
    // A different alias is a different conference.
    let other = p
        .create_conference(bob, "Team-Sync-2", unprotected())
        .unwrap();
    assert!(other.is_new);
    assert_ne!(other.conference.id, id);
}

#[test]
fn existing_alias_returns_not_new_without_event() {
    // Finding 1: create-again by the owner now returns a fresh owner token
    // (this test asserted `None` on purpose before); anyone else still gets
    // none.
    let (p, _clock) = platform();
    let alice = open(&p, "alice", "Alice");
    let bob = open(&p, "bob", "Bob");
    let first = p.create_conference(alice, "room", protected()).unwrap();
    let id = first.conference.id;
    assert_eq!(types(&drain(&p, alice)), ["conferenceCreated"]);
    let before = Snapshot::take(&p, id, &[alice, bob]);

    let by_bob = p.create_conference(bob, "ROOM", protected()).unwrap();
    assert!(!by_bob.is_new);
    assert_eq!(by_bob.owner_token, None);
    assert_eq!(by_bob.conference, first.conference);
    let again = p.create_conference(alice, "ROOM", protected()).unwrap();
    assert!(!again.is_new);
    let fresh = verify(&p, again.owner_token.as_deref().unwrap(), id).unwrap();
    assert_eq!(fresh.permissions, PermissionSet::ALL);
    assert_eq!(again.conference, first.conference);
    assert_eq!(p.pending_events(alice), Ok(0), "no conferenceCreated");
    assert_eq!(Snapshot::take(&p, id, &[alice, bob]), before);
    // The first owner token still admits.
    assert_eq!(
        p.join(alice, id, first.owner_token.as_deref()),
        Ok(joined(S::Connecting, PermissionSet::ALL, false))
    );
}

#[test]
fn conference_by_alias() {
    let (p, _clock) = platform();
    let alice = open(&p, "alice", "Alice");
    let created = p
        .create_conference(
            alice,
            "Weekly",
            ConferenceOptions {
                audio_only: true,
                participant_limit: Some(5),
                empty_ttl_secs: Some(120),
                token_ttl_secs: Some(600),
                ..protected()
            },
        )
        .unwrap();
    let found = p.conference_by_alias("weekly").unwrap();
    assert_eq!(found, created.conference);
    assert_eq!(found, p.conference(found.id).unwrap());
    assert!(found.audio_only && found.is_protected);
    assert_eq!(found.participant_limit, Some(5));
    assert_eq!((found.empty_ttl_secs, found.token_ttl_secs), (120, 600));
    let claims = verify(&p, created.owner_token.as_deref().unwrap(), found.id).unwrap();
    assert_eq!(
        claims.expires_at,
        START + 600,
        "per-conference token lifetime"
    );

    assert_eq!(
        p.conference_by_alias("nope"),
        Err(PlatformError::ConferenceNotFound("nope".into()))
    );
    assert_eq!(
        p.conference_by_alias("a#b"),
        Err(PlatformError::Identity(IdentityError::AliasHash))
    );
    let unknown = ConferenceId::random();
    assert_eq!(
        p.conference(unknown),
        Err(PlatformError::ConferenceNotFound(unknown.to_string()))
    );
}

#[test]
fn terminate_by_owner_only_then_destroyed() {
    let room = Room::protected();
    let (bob, bob_token) = room.on_air("bob", Some(PermissionSet::ALL));
    let (carol, _) = room.invite("carol", None);
    let all = [room.alice, bob, carol];
    room.drain_all(&all);
    let before = room.snapshot(&all);

    let e = room.p.terminate(bob, room.conf).unwrap_err();
    assert_eq!(e, PlatformError::OwnerOnly("terminate the conference"));
    assert_eq!(e.code(), ErrorCode::NotAllowed);
    assert_eq!(
        e.to_string(),
        "only the conference owner may terminate the conference"
    );
    assert_eq!(room.snapshot(&all), before);

    room.p.terminate(room.alice, room.conf).unwrap();
    // Everyone with a part in it is told, RESERVED carol included.
    for sid in all {
        let events = drain(&room.p, sid);
        assert_eq!(events.len(), 1, "session {sid}");
        assert_eq!(events[0].conference_id, Some(room.conf));
        assert_eq!(
            *events[0].kind,
            EventKind::ConferenceEnded {
                reason: EndReason::Terminated
            }
        );
    }
    let e = room
        .p
        .join(bob, room.conf, bob_token.as_deref())
        .unwrap_err();
    assert_eq!(e, PlatformError::ConferenceDestroyed(room.conf.to_string()));
    assert_eq!(e.code(), ErrorCode::ConferenceNotFound);
    let msg = e.to_string();
    assert!(
        msg.contains("not found") && msg.contains("destroyed"),
        "{msg}"
    );
    assert_eq!(
        room.p.terminate(room.alice, room.conf),
        Err(PlatformError::ConferenceDestroyed(room.conf.to_string()))
    );
    assert_eq!(
        room.p.participants(room.conf),
        Err(PlatformError::ConferenceDestroyed(room.conf.to_string()))
    );
    assert_eq!(
        room.p.conference_by_alias("room"),
        Err(PlatformError::ConferenceNotFound("room".into()))
    );
    // The alias is free again.
    let again = room
        .p
        .create_conference(bob, "room", unprotected())
        .unwrap();
    assert!(again.is_new);
    assert_ne!(again.conference.id, room.conf);
}

#[test]
fn empty_conference_is_destroyed_after_its_ttl_on_the_manual_clock() {
    let (p, clock) = platform();
    let alice = open(&p, "alice", "Alice");
    let options = ConferenceOptions {
        empty_ttl_secs: Some(60),
        ..unprotected()
    };
    let conf = p
        .create_conference(alice, "room", options)
        .unwrap()
        .conference
        .id;
    drain(&p, alice);

    clock.advance(59);
    assert_eq!(p.expire_conferences(), 0);
    assert_eq!(p.conference(conf).unwrap().id, conf);
    // Someone in the conference stops the timer.
    p.join(alice, conf, None).unwrap();
    clock.advance(10_000);
    assert_eq!(p.expire_conferences(), 0);
    // Empty again: 60 s from the leave.
    p.leave(alice, conf).unwrap();
    drain(&p, alice);
    clock.advance(59);
    assert_eq!(p.expire_conferences(), 0);
    assert_eq!(p.pending_events(alice), Ok(0));
    clock.advance(1);
    assert_eq!(p.expire_conferences(), 1);
    let events = drain(&p, alice);
    assert_eq!(events.len(), 1);
    assert_eq!(
        *events[0].kind,
        EventKind::ConferenceEnded {
            reason: EndReason::Expired
        }
    );
    assert_eq!(
        p.join(alice, conf, None),
        Err(PlatformError::ConferenceDestroyed(conf.to_string()))
    );
    assert_eq!(
        p.conference_by_alias("room"),
        Err(PlatformError::ConferenceNotFound("room".into()))
    );
    assert_eq!(p.expire_conferences(), 0);

    // Every operation sweeps first; the sweep's notice is delivered even when
    // the operation itself fails. The default TTL comes from the config.
    let conf = p.create_conference(alice, "later", unprotected()).unwrap();
    assert_eq!(conf.conference.empty_ttl_secs, 3600);
    let conf = conf.conference.id;
    drain(&p, alice);
    let bob = open(&p, "bob", "Bob");
    clock.advance(3600);
    assert_eq!(
        p.join(bob, conf, None),
        Err(PlatformError::ConferenceDestroyed(conf.to_string()))
    );
    assert_eq!(
        drain(&p, alice)
            .iter()
            .map(|e| (*e.kind).clone())
            .collect::<Vec<_>>(),
        [EventKind::ConferenceEnded {
            reason: EndReason::Expired
        }]
    );
}

#[test]
fn capacity_refuses_a_join_past_the_limit() {
    let (p, _clock) = platform();
    let alice = open(&p, "alice", "Alice");
    let options = ConferenceOptions {
        participant_limit: Some(2),
        ..unprotected()
    };
    let conf = p
        .create_conference(alice, "small", options)
        .unwrap()
        .conference
        .id;
    let bob = open(&p, "bob", "Bob");
    let bob_laptop = open(&p, "bob", "Bob");
    let carol = open(&p, "carol", "Carol");
    p.join(alice, conf, None).unwrap();
    p.join(bob, conf, None).unwrap();
    for s in [alice, bob, carol] {
        drain(&p, s);
    }
    let sessions = [alice, bob, bob_laptop, carol];
    let before = Snapshot::take(&p, conf, &sessions);

    let e = p.join(carol, conf, None).unwrap_err();
    assert_eq!(e, PlatformError::AtMaxCapacity { limit: 2 });
    assert_eq!(e.code(), ErrorCode::AtMaxCapacity);
    assert!(e.to_string().contains("at max capacity"), "{e}");
    assert_eq!(
        p.listen(carol, conf, None),
        Err(PlatformError::AtMaxCapacity { limit: 2 })
    );
    assert_eq!(Snapshot::take(&p, conf, &sessions), before);

    // Someone already in the conference may rejoin from another device.
    assert_eq!(
        p.join(bob_laptop, conf, None),
        Ok(joined(S::Connecting, PermissionSet::DEFAULT_INVITEE, true))
    );
    // When someone leaves there is room again.
    p.leave(alice, conf).unwrap();
    assert_eq!(
        p.join(carol, conf, None).map(|j| j.status),
        Ok(S::Connecting)
    );
    assert_eq!(p.conference(conf).unwrap().present_count, 2);

    // A limit of 0 is refused and creates nothing.
    let zero = ConferenceOptions {
        participant_limit: Some(0),
        ..unprotected()
    };
    drain(&p, alice);
    assert!(matches!(
        p.create_conference(alice, "none", zero),
        Err(PlatformError::InvalidInput(_))
    ));
    assert_eq!(
        p.conference_by_alias("none"),
        Err(PlatformError::ConferenceNotFound("none".into()))
    );
    assert_eq!(p.pending_events(alice), Ok(0));
}

// ===========================================================================
// Lifecycle: listeners, switch, decline, media reports
// ===========================================================================

#[test]
fn listeners_are_not_told_about_other_listeners() {
    let room = Room::unprotected();
    let l1 = open(&room.p, "l1", "L1");
    let l2 = open(&room.p, "l2", "L2");
    let bob = open(&room.p, "bob", "Bob");

    let j = room.p.listen(l1, room.conf, None).unwrap();
    assert_eq!(j.status, S::Connecting);
    assert_eq!(
        participant(&room.p, room.conf, "l1").participant_type,
        ParticipantType::Listener
    );
    room.p.listen(l2, room.conf, None).unwrap();
    // alice (a user) hears about both listeners.
    let events = drain(&room.p, room.alice);
    assert_eq!(
        added(&events),
        [("l1".into(), S::Connecting), ("l2".into(), S::Connecting)]
    );
    assert!(events.iter().all(|e| matches!(
        &*e.kind,
        EventKind::ParticipantAdded { participant } if participant.participant_type == ParticipantType::Listener
    )));
    // Each listener hears only about itself.
    assert_eq!(added(&drain(&room.p, l1)), [("l1".into(), S::Connecting)]);
    assert_eq!(added(&drain(&room.p, l2)), [("l2".into(), S::Connecting)]);

    // Listeners hear about users.
    room.p.join(bob, room.conf, None).unwrap();
    for sid in [room.alice, l1, l2, bob] {
        assert_eq!(
            added(&drain(&room.p, sid)),
            [("bob".into(), S::Connecting)],
            "session {sid}"
        );
    }
    // A listener's status changes reach users, and itself, not other listeners.
    room.p
        .report(l2, room.conf, LifecycleEvent::Connected)
        .unwrap();
    room.p.leave(l2, room.conf).unwrap();
    let expected = [
        ("l2".into(), S::Connecting, S::OnAir),
        ("l2".into(), S::OnAir, S::Left),
    ];
    assert_eq!(updates(&drain(&room.p, room.alice)), expected);
    assert_eq!(updates(&drain(&room.p, bob)), expected);
    assert_eq!(updates(&drain(&room.p, l2)), expected);
    assert_eq!(room.p.pending_events(l1), Ok(0));
}

#[test]
fn joining_from_a_second_device_switches_the_first() {
    let room = Room::unprotected();
    let phone = open(&room.p, "bob", "Bob");
    let laptop = open(&room.p, "bob", "Bob (laptop)");
    assert_eq!(
        room.p.join(phone, room.conf, None),
        Ok(joined(S::Connecting, PermissionSet::DEFAULT_INVITEE, false))
    );
    room.p
        .report(phone, room.conf, LifecycleEvent::Connected)
        .unwrap();
    room.drain_all(&[room.alice, phone, laptop]);

    assert_eq!(
        room.p.join(laptop, room.conf, None),
        Ok(joined(S::Connecting, PermissionSet::DEFAULT_INVITEE, true))
    );
    let events = drain(&room.p, phone);
    assert_eq!(events.len(), 1);
    assert_eq!(
        *events[0].kind,
        EventKind::Switched {
            external_id: eid("bob")
        }
    );
    assert_eq!(events[0].conference_id, Some(room.conf));
    assert_eq!(
        updates(&drain(&room.p, room.alice)),
        [("bob".into(), S::OnAir, S::Connecting)]
    );
    assert_eq!(
        updates(&drain(&room.p, laptop)),
        [("bob".into(), S::OnAir, S::Connecting)]
    );
    // One bob, now with the laptop's info.
    let view = participant(&room.p, room.conf, "bob");
    assert_eq!(view.name, "Bob (laptop)");
    assert_eq!(room.p.conference(room.conf).unwrap().participant_count, 2);

    // The phone is out: it can neither report nor leave, and closing it
    // does not take bob out.
    assert_eq!(
        room.p.report(phone, room.conf, LifecycleEvent::Connected),
        Err(PlatformError::NotInConference(eid("bob")))
    );
    assert_eq!(
        room.p.leave(phone, room.conf),
        Err(PlatformError::NotInConference(eid("bob")))
    );
    room.p.close_session(phone).unwrap();
    assert_eq!(room.p.pending_events(room.alice), Ok(0));
    assert_eq!(participant(&room.p, room.conf, "bob").status, S::Connecting);
    room.p.leave(laptop, room.conf).unwrap();
    assert_eq!(
        updates(&drain(&room.p, room.alice)),
        [("bob".into(), S::Connecting, S::Left)]
    );
}

#[test]
fn decline_moves_reserved_to_decline_and_tells_the_conference() {
    let room = Room::protected();
    let (bob, _) = room.on_air("bob", None);
    let (carol, _) = room.invite("carol", None);
    room.drain_all(&[room.alice, bob]);

    room.p.decline(carol, room.conf).unwrap();
    for sid in [room.alice, bob] {
        let events = drain(&room.p, sid);
        assert_eq!(types(&events), ["participantUpdated"]);
        assert_eq!(
            updates(&events),
            [("carol".into(), S::Reserved, S::Decline)]
        );
    }
    assert_eq!(participant(&room.p, room.conf, "carol").status, S::Decline);

    let before = room.snapshot(&[room.alice, bob, carol]);
    assert_eq!(
        room.p.decline(carol, room.conf),
        Err(PlatformError::Transition(TransitionError {
            from: S::Decline,
            event: LifecycleEvent::Decline
        }))
    );
    assert_eq!(
        room.p.decline(bob, room.conf),
        Err(PlatformError::Transition(TransitionError {
            from: S::OnAir,
            event: LifecycleEvent::Decline
        }))
    );
    let dave = open(&room.p, "dave", "Dave");
    assert_eq!(
        room.p.decline(dave, room.conf),
        Err(PlatformError::ParticipantNotFound(eid("dave")))
    );
    assert_eq!(room.snapshot(&[room.alice, bob, carol]), before);

    // A new invitation brings carol back to RESERVED.
    room.p
        .invite(room.alice, room.conf, &[invitee("carol", None)])
        .unwrap();
    assert_eq!(participant(&room.p, room.conf, "carol").status, S::Reserved);
    assert_eq!(
        updates(&drain(&room.p, room.alice)),
        [("carol".into(), S::Decline, S::Reserved)]
    );
}

#[test]
fn media_reports_drive_the_status() {
    let room = Room::unprotected();
    let bob = open(&room.p, "bob", "Bob");
    room.p.join(bob, room.conf, None).unwrap();
    room.drain_all(&[room.alice, bob]);

    let steps = [
        (LifecycleEvent::Connected, S::Connecting, S::OnAir),
        (LifecycleEvent::MediaTrouble, S::OnAir, S::Warning),
        (LifecycleEvent::Recovered, S::Warning, S::OnAir),
        (LifecycleEvent::Idle, S::OnAir, S::Inactive),
        (LifecycleEvent::Connected, S::Inactive, S::OnAir),
        (LifecycleEvent::Failure, S::OnAir, S::Error),
    ];
    for (event, from, to) in steps {
        assert_eq!(room.p.report(bob, room.conf, event), Ok(to), "{event}");
        for sid in [room.alice, bob] {
            assert_eq!(
                updates(&drain(&room.p, sid)),
                [("bob".into(), from, to)],
                "{event} seen by {sid}"
            );
        }
        assert_eq!(participant(&room.p, room.conf, "bob").status, to);
    }
    // After a failure bob's session is out of the conference.
    assert_eq!(
        room.p.report(bob, room.conf, LifecycleEvent::Connected),
        Err(PlatformError::NotInConference(eid("bob")))
    );
    assert_eq!(room.p.conference(room.conf).unwrap().present_count, 1);
    // ERROR may join again; a failure while connecting is ERROR too.
    assert_eq!(
        room.p.join(bob, room.conf, None).map(|j| j.status),
        Ok(S::Connecting)
    );
    assert_eq!(
        room.p.report(bob, room.conf, LifecycleEvent::Failure),
        Ok(S::Error)
    );
}

#[test]
fn refused_reports_change_nothing() {
    let room = Room::unprotected();
    let bob = open(&room.p, "bob", "Bob");
    room.p.join(bob, room.conf, None).unwrap();
    room.p
        .report(bob, room.conf, LifecycleEvent::Connected)
        .unwrap();
    room.drain_all(&[room.alice, bob]);
    let before = room.snapshot(&[room.alice, bob]);

    for event in [
        LifecycleEvent::Invite,
        LifecycleEvent::Join,
        LifecycleEvent::Decline,
        LifecycleEvent::Leave,
        LifecycleEvent::Kick,
    ] {
        let e = room.p.report(bob, room.conf, event).unwrap_err();
        assert_eq!(
            e,
            PlatformError::InvalidInput(format!("{event} is not a media report"))
        );
    }
    // Not in the table: RECOVERED while ON_AIR, CONNECTED while ON_AIR.
    for event in [LifecycleEvent::Recovered, LifecycleEvent::Connected] {
        let e = room.p.report(bob, room.conf, event).unwrap_err();
        assert_eq!(
            e,
            PlatformError::Transition(TransitionError {
                from: S::OnAir,
                event
            })
        );
        assert_eq!(e.code(), ErrorCode::InvalidTransition);
        let msg = e.to_string();
        assert!(
            msg.contains("ON_AIR") && msg.contains(event.name()),
            "{msg}"
        );
    }
    assert_eq!(room.snapshot(&[room.alice, bob]), before);
}

// ===========================================================================
// Bad input
// ===========================================================================

#[test]
fn bad_input_leaves_the_platform_unchanged() {
    let room = Room::protected();
    let (bob, _) = room.on_air("bob", None);
    let carol = open(&room.p, "carol", "Carol");
    let all = [room.alice, bob, carol];
    room.drain_all(&all);
    let before = room.snapshot(&all);
    let p = &room.p;
    let conf = room.conf;

    // The same invitee twice: nobody is invited, not even the first.
    assert_eq!(
        p.invite(
            room.alice,
            conf,
            &[
                invitee("carol", None),
                invitee("dave", None),
                invitee("carol", None)
            ]
        ),
        Err(PlatformError::InvalidInput("carol is listed twice".into()))
    );
    // Bad aliases.
    assert_eq!(
        p.create_conference(room.alice, "", protected())
            .unwrap_err(),
        PlatformError::Identity(IdentityError::EmptyAlias)
    );
    assert_eq!(
        p.create_conference(room.alice, "a#b", protected())
            .unwrap_err(),
        PlatformError::Identity(IdentityError::AliasHash)
    );
    assert!(matches!(
        p.create_conference(room.alice, &"x".repeat(251), protected()),
        Err(PlatformError::Identity(IdentityError::AliasTooLong {
            len: 251
        }))
    ));
    // Leave without being in; kick of a stranger or of the owner.
    assert_eq!(
        p.leave(carol, conf),
        Err(PlatformError::NotInConference(eid("carol")))
    );
    assert_eq!(
        p.kick(room.alice, conf, &eid("zed")),
        Err(PlatformError::ParticipantNotFound(eid("zed")))
    );
    assert_eq!(
        p.kick(room.alice, conf, &eid("alice")),
        Err(PlatformError::OwnerNotKickable)
    );
    // Unknown conference, unknown session.
    let unknown = ConferenceId::random();
    assert_eq!(
        p.invite(room.alice, unknown, &[invitee("carol", None)]),
        Err(PlatformError::ConferenceNotFound(unknown.to_string()))
    );
    let ghost = SessionId(9_999);
    assert_eq!(
        p.join(ghost, conf, None),
        Err(PlatformError::SessionNotFound(ghost))
    );
    assert_eq!(
        p.create_conference(ghost, "ghost-room", protected())
            .unwrap_err(),
        PlatformError::SessionNotFound(ghost)
    );

    assert_eq!(room.snapshot(&all), before);
    assert_eq!(
        p.conference_by_alias("ghost-room"),
        Err(PlatformError::ConferenceNotFound("ghost-room".into()))
    );
    // And no sequence number was used up: alice had 6 events (created, her
    // join and connect, bob added, his join and connect); the next is 7.
    p.invite(room.alice, conf, &[invitee("carol", None)])
        .unwrap();
    let next = drain(p, room.alice);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].sequence, 7);
}

// ===========================================================================
// Sessions
// ===========================================================================

#[test]
fn every_session_of_a_user_gets_every_invitation() {
    let room = Room::protected();
    let phone = open(&room.p, "bob", "Bob");
    let laptop = open(&room.p, "bob", "Bob");
    let results = room
        .p
        .invite(room.alice, room.conf, &[invitee("bob", None)])
        .unwrap();
    assert_eq!(results[0].delivery, Delivery::Delivered(2));
    let mut tokens = Vec::new();
    for sid in [phone, laptop] {
        let events = drain(&room.p, sid);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].sequence, 1);
        tokens.push(invitation(&events).2);
    }
    assert_eq!(tokens[0], tokens[1], "one token, sent to every session");
    let token = tokens[0].clone();
    // Either device may use it.
    assert_eq!(
        room.p
            .join(laptop, room.conf, token.as_deref())
            .map(|j| j.status),
        Ok(S::Connecting)
    );
    // A later invitation elsewhere reaches both again.
    let other = room
        .p
        .create_conference(room.alice, "other", unprotected())
        .unwrap()
        .conference
        .id;
    room.p.join(room.alice, other, None).unwrap();
    let results = room
        .p
        .invite(room.alice, other, &[invitee("bob", None)])
        .unwrap();
    assert_eq!(results[0].delivery, Delivery::Delivered(2));
    assert_eq!(types(&drain(&room.p, phone)), ["invitationReceived"]);
    assert_eq!(
        types(&drain(&room.p, laptop)),
        ["participantUpdated", "invitationReceived"]
    );
}

#[test]
fn closing_a_session_twice_is_session_not_found() {
    let (p, _clock) = platform();
    let bob = open(&p, "bob", "Bob");
    assert_eq!(p.close_session(bob), Ok(()));
    let e = p.close_session(bob).unwrap_err();
    assert_eq!(e, PlatformError::SessionNotFound(bob));
    assert_eq!(e.code(), ErrorCode::SessionNotFound);
    assert_eq!(p.poll_event(bob), Err(PlatformError::SessionNotFound(bob)));
    assert_eq!(
        p.drain_events(bob),
        Err(PlatformError::SessionNotFound(bob))
    );
    assert_eq!(
        p.pending_events(bob),
        Err(PlatformError::SessionNotFound(bob))
    );
    assert_eq!(
        p.session_info(bob),
        Err(PlatformError::SessionNotFound(bob))
    );
    assert_eq!(
        p.set_listener(bob, None),
        Err(PlatformError::SessionNotFound(bob))
    );
    // A new session never reuses the id.
    let again = open(&p, "bob", "Bob");
    assert_ne!(again, bob);
}

#[test]
fn closing_a_session_leaves_its_conferences_and_others_see_left() {
    let (p, _clock) = platform();
    let alice = open(&p, "alice", "Alice");
    let bob = open(&p, "bob", "Bob");
    let one = p
        .create_conference(alice, "one", unprotected())
        .unwrap()
        .conference
        .id;
    let two = p
        .create_conference(alice, "two", unprotected())
        .unwrap()
        .conference
        .id;
    let three = p
        .create_conference(alice, "three", unprotected())
        .unwrap()
        .conference
        .id;
    for c in [one, two, three] {
        p.join(alice, c, None).unwrap();
    }
    p.join(bob, one, None).unwrap();
    p.join(bob, two, None).unwrap();
    p.report(bob, two, LifecycleEvent::Connected).unwrap();
    p.invite(alice, three, &[invitee("bob", None)]).unwrap();
    drain(&p, alice);

    p.close_session(bob).unwrap();
    let events = drain(&p, alice);
    let mut left: Vec<(ConferenceId, String, S, S)> = events
        .iter()
        .filter_map(|e| match &*e.kind {
            EventKind::ParticipantUpdated {
                participant,
                old_status,
                new_status,
            } => Some((
                e.conference_id.unwrap(),
                participant.external_id.to_string(),
                *old_status,
                *new_status,
            )),
            _ => None,
        })
        .collect();
    left.sort();
    let mut want = vec![
        (one, "bob".to_owned(), S::Connecting, S::Left),
        (two, "bob".to_owned(), S::OnAir, S::Left),
    ];
    want.sort();
    assert_eq!(left, want);
    assert_eq!(events.len(), 2);
    assert_eq!(participant(&p, one, "bob").status, S::Left);
    assert_eq!(participant(&p, two, "bob").status, S::Left);
    // The invitation to "three" stands; bob was never in it.
    assert_eq!(participant(&p, three, "bob").status, S::Reserved);
    assert_eq!(p.conference(one).unwrap().present_count, 1);
    // With no session left, bob is not reachable.
    let results = p.invite(alice, one, &[invitee("bob", None)]).unwrap();
    assert_eq!(results[0].delivery, Delivery::NoOpenSession);
}

// ===========================================================================
// Events
// ===========================================================================

#[test]
fn sequence_numbers_increase_by_one_per_session_from_one() {
    let room = Room::unprotected();
    let bob = open(&room.p, "bob", "Bob");
    let carol = open(&room.p, "carol", "Carol");
    room.p
        .invite(
            room.alice,
            room.conf,
            &[invitee("bob", None), invitee("carol", None)],
        )
        .unwrap();
    room.p.join(bob, room.conf, None).unwrap();
    // A refused operation uses no number.
    assert!(room.p.leave(carol, room.conf).is_err());
    room.p
        .report(bob, room.conf, LifecycleEvent::Connected)
        .unwrap();
    room.p.join(carol, room.conf, None).unwrap();
    room.p.leave(bob, room.conf).unwrap();

    // alice's queue continues from where Room left it (3 events drained).
    let alice_events = drain(&room.p, room.alice);
    let seqs: Vec<u64> = alice_events.iter().map(|e| e.sequence).collect();
    assert_eq!(seqs, (4..4 + seqs.len() as u64).collect::<Vec<_>>());
    assert_eq!(seqs.len(), 6, "{:?}", types(&alice_events));

    // bob: invitation, own join, own connect, carol's join, own leave.
    let bob_events = drain(&room.p, bob);
    assert_eq!(
        bob_events.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(
        types(&bob_events),
        [
            "invitationReceived",
            "participantUpdated",
            "participantUpdated",
            "participantUpdated",
            "participantUpdated"
        ]
    );
    // carol, RESERVED until she joins, hears nothing of bob's join and
    // connect: invitation, own join, bob's leave.
    let carol_events = drain(&room.p, carol);
    assert_eq!(
        carol_events.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(
        updates(&carol_events),
        [
            ("carol".into(), S::Reserved, S::Connecting),
            ("bob".into(), S::OnAir, S::Left)
        ]
    );
    // poll_event takes one at a time, in order.
    room.p.join(bob, room.conf, None).unwrap();
    let first = room.p.poll_event(carol).unwrap().unwrap();
    assert_eq!(first.sequence, 4);
    assert_eq!(room.p.poll_event(carol), Ok(None));
}

#[test]
fn events_serialize_to_json_with_a_stable_type_and_camel_case_members() {
    let (p, _clock) = platform();
    let alice = open_with_avatar(&p, "alice", "Alice", ALICE_AVATAR);
    let created = p
        .create_conference(alice, "team-sync", protected())
        .unwrap();
    let conf = created.conference.id;
    p.join(alice, conf, created.owner_token.as_deref()).unwrap();
    let bob = open(&p, "bob", "Bob");
    let bob_perms = perms(&[P::Join, P::SendAudio]);
    p.invite(alice, conf, &[invitee("bob", Some(bob_perms))])
        .unwrap();
    drain(&p, alice);

    // invitationReceived, exactly.
    let events = drain(&p, bob);
    let token = invitation(&events).2.unwrap();
    let value: Value = serde_json::from_str(&events[0].to_json()).unwrap();
    assert_eq!(
        value,
        json!({
            "sequence": 1,
            "conferenceId": conf.to_string(),
            "type": "invitationReceived",
            "conferenceAlias": "team-sync",
            "inviter": {
                "externalId": "alice",
                "name": "Alice",
                "avatarUrl": ALICE_AVATAR
            },
            "token": token,
            "permissions": ["JOIN", "SEND_AUDIO"]
        })
    );

    // participantUpdated, exactly (no avatar: no avatarUrl member).
    p.join(bob, conf, Some(&token)).unwrap();
    let events = drain(&p, alice);
    assert_eq!(events.len(), 1);
    let value: Value = serde_json::from_str(&events[0].to_json()).unwrap();
    assert_eq!(
        value,
        json!({
            "sequence": events[0].sequence,
            "conferenceId": conf.to_string(),
            "type": "participantUpdated",
            "participant": {
                "externalId": "bob",
                "name": "Bob",
                "status": "CONNECTING",
                "type": "USER",
                "permissions": ["JOIN", "SEND_AUDIO"]
            },
            "oldStatus": "RESERVED",
            "newStatus": "CONNECTING"
        })
    );

    // Every other kind: the `type` is the stable name, members are camelCase,
    // and the JSON reads back to the same event.
    let phone = bob;
    let laptop = open(&p, "bob", "Bob");
    p.join(laptop, conf, Some(&token)).unwrap(); // switched (phone)
    p.update_permissions(alice, conf, &eid("bob"), bob_perms)
        .unwrap();
    p.invite(alice, conf, &[invitee("carol", None)]).unwrap(); // participantAdded
    let dave = open(&p, "dave", "Dave");
    let unprotected_conf = p.create_conference(dave, "open", unprotected()).unwrap();
    p.terminate(dave, unprotected_conf.conference.id).unwrap();
    let mut all: Vec<Event> = Vec::new();
    for sid in [alice, phone, laptop, dave] {
        all.extend(drain(&p, sid));
    }
    let new_token = permissions_token(&all).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for e in &all {
        let text = e.to_json();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["type"], e.kind.type_name(), "{text}");
        assert_eq!(value["conferenceId"], e.conference_id.unwrap().to_string());
        let back: Event = serde_json::from_str(&text).unwrap();
        assert_eq!(&back, e, "round trip of {text}");
        match &*e.kind {
            EventKind::ConferenceCreated { .. } => {
                assert_eq!(
                    keys(&value),
                    [
                        "conferenceAlias",
                        "conferenceId",
                        "isProtected",
                        "sequence",
                        "type"
                    ]
                );
                assert_eq!(value["conferenceAlias"], "open");
                assert_eq!(value["isProtected"], false);
            }
            EventKind::ConferenceEnded { .. } => {
                assert_eq!(keys(&value), ["conferenceId", "reason", "sequence", "type"]);
                assert_eq!(value["reason"], "TERMINATED");
            }
            EventKind::Switched { .. } => {
                assert_eq!(
                    keys(&value),
                    ["conferenceId", "externalId", "sequence", "type"]
                );
                assert_eq!(value["externalId"], "bob");
            }
            EventKind::PermissionsUpdated { .. } => {
                assert_eq!(
                    keys(&value),
                    ["conferenceId", "permissions", "sequence", "token", "type"]
                );
                assert_eq!(value["token"], new_token.as_str());
                assert_eq!(value["permissions"], json!(["JOIN", "SEND_AUDIO"]));
            }
            EventKind::ParticipantAdded { .. } => {
                assert_eq!(
                    keys(&value),
                    ["conferenceId", "participant", "sequence", "type"]
                );
                assert_eq!(
                    keys(&value["participant"]),
                    ["externalId", "name", "permissions", "status", "type"]
                );
            }
            _ => {}
        }
        seen.insert(e.kind.type_name());
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        [
            "conferenceCreated",
            "conferenceEnded",
            "participantAdded",
            "participantUpdated",
            "permissionsUpdated",
            "switched"
        ]
    );
    // An unprotected invitation has neither token nor permissions members.
    let erin = open(&p, "erin", "Erin");
    let room = p
        .create_conference(dave, "open2", unprotected())
        .unwrap()
        .conference
        .id;
    p.join(dave, room, None).unwrap();
    p.invite(dave, room, &[invitee("erin", None)]).unwrap();
    let events = drain(&p, erin);
    let value: Value = serde_json::from_str(&events[0].to_json()).unwrap();
    assert_eq!(
        keys(&value),
        [
            "conferenceAlias",
            "conferenceId",
            "inviter",
            "sequence",
            "type"
        ]
    );
}

// ===========================================================================
// Listener callbacks and threads
// ===========================================================================

#[test]
fn listener_is_called_after_the_operation_and_may_call_back() {
    let (p, _clock) = platform();
    let p = Arc::new(p);
    let alice = open(&p, "alice", "Alice");
    let conf = p
        .create_conference(alice, "room", unprotected())
        .unwrap()
        .conference
        .id;
    p.join(alice, conf, None).unwrap();
    drain(&p, alice);
    let bob = open(&p, "bob", "Bob");

    // Each call drains the queue from inside the callback and asks the
    // platform about the conference: no deadlock, and the events are there.
    let calls = Arc::new(Mutex::new(
        Vec::<(SessionId, Vec<&'static str>, usize)>::new(),
    ));
    let weak: Weak<Platform> = Arc::downgrade(&p);
    let record = Arc::clone(&calls);
    let listener: Listener = Arc::new(move |sid| {
        let platform = weak.upgrade().expect("platform alive");
        let events = platform.drain_events(sid).unwrap();
        let present = platform.conference(conf).unwrap().present_count;
        record.lock().unwrap().push((sid, types(&events), present));
    });
    p.set_listener(alice, Some(Arc::clone(&listener))).unwrap();
    p.set_listener(bob, Some(listener)).unwrap();

    // One call per operation per session, however many events it queued.
    p.invite(alice, conf, &[invitee("bob", None), invitee("carol", None)])
        .unwrap();
    let got = std::mem::take(&mut *calls.lock().unwrap());
    let mut got_sorted = got.clone();
    got_sorted.sort();
    assert_eq!(
        got_sorted,
        [
            (alice, vec!["participantAdded", "participantAdded"], 1),
            (bob, vec!["invitationReceived"], 1)
        ]
    );
    assert_eq!(p.pending_events(alice), Ok(0), "drained by the callback");

    // The callback sees the operation's result: bob is already present.
    p.join(bob, conf, None).unwrap();
    let mut got = std::mem::take(&mut *calls.lock().unwrap());
    got.sort();
    assert_eq!(
        got,
        [
            (alice, vec!["participantUpdated"], 2),
            (bob, vec!["participantUpdated"], 2)
        ]
    );

    // A refused operation wakes nobody.
    assert!(p.join(bob, ConferenceId::random(), None).is_err());
    assert!(calls.lock().unwrap().is_empty());

    // A callback may even start another operation.
    let count = Arc::new(AtomicUsize::new(0));
    let weak = Arc::downgrade(&p);
    let counter = Arc::clone(&count);
    p.set_listener(
        bob,
        Some(Arc::new(move |sid| {
            let platform = weak.upgrade().unwrap();
            let events = platform.drain_events(sid).unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
            let connect = events.iter().any(|e| {
                matches!(&*e.kind, EventKind::ParticipantUpdated { participant, new_status: S::Connecting, .. }
                    if participant.external_id.as_str() == "carol")
            });
            if connect {
                platform.report(sid, conf, LifecycleEvent::Connected).unwrap();
            }
        })),
    )
    .unwrap();
    let carol = open(&p, "carol", "Carol");
    p.join(carol, conf, None).unwrap();
    assert_eq!(participant(&p, conf, "bob").status, S::OnAir);
    assert_eq!(
        count.load(Ordering::SeqCst),
        2,
        "carol's join, bob's own report"
    );

    // Cleared: no more calls.
    p.set_listener(alice, None).unwrap();
    p.set_listener(bob, None).unwrap();
    calls.lock().unwrap().clear();
    p.leave(carol, conf).unwrap();
    assert!(calls.lock().unwrap().is_empty());
    assert_eq!(count.load(Ordering::SeqCst), 2);
    assert_eq!(p.pending_events(alice), Ok(1));
}

#[test]
fn platform_is_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Platform>();

    const THREADS: usize = 4;
    const ROUNDS: usize = 25;
    let (p, _clock) = platform();
    let p = Arc::new(p);
    let alice = open(&p, "alice", "Alice");
    let conf = p
        .create_conference(alice, "busy", unprotected())
        .unwrap()
        .conference
        .id;
    p.join(alice, conf, None).unwrap();
    drain(&p, alice);

    let received: Vec<Vec<Event>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let p = Arc::clone(&p);
                scope.spawn(move || {
                    let me = open(&p, &format!("user{i}"), "User");
                    let next = format!("user{}", (i + 1) % THREADS);
                    let mut events = Vec::new();
                    for _ in 0..ROUNDS {
                        assert_eq!(p.join(me, conf, None).unwrap().status, S::Connecting);
                        assert_eq!(p.report(me, conf, LifecycleEvent::Connected), Ok(S::OnAir));
                        p.invite(me, conf, &[invitee(&next, None)]).unwrap();
                        while let Some(e) = p.poll_event(me).unwrap() {
                            events.push(e);
                        }
                        p.leave(me, conf).unwrap();
                    }
                    events.extend(p.drain_events(me).unwrap());
                    events
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    // Every session numbered its events 1, 2, 3, ... with no gap.
    for events in &received {
        let seqs: Vec<u64> = events.iter().map(|e| e.sequence).collect();
        assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    }
    // alice, present throughout, saw every join and every leave; her queue
    // goes on from 3 (created and her own join were drained).
    let alice_events = drain(&p, alice);
    let seqs: Vec<u64> = alice_events.iter().map(|e| e.sequence).collect();
    assert_eq!(seqs, (3..3 + seqs.len() as u64).collect::<Vec<_>>());
    let ups = updates(&alice_events);
    let lefts = ups.iter().filter(|(_, _, new)| *new == S::Left).count();
    let on_air = ups.iter().filter(|(_, _, new)| *new == S::OnAir).count();
    let joins = ups
        .iter()
        .filter(|(_, _, new)| *new == S::Connecting)
        .count()
        + added(&alice_events)
            .iter()
            .filter(|(_, s)| *s == S::Connecting)
            .count();
    assert_eq!(lefts, THREADS * ROUNDS);
    assert_eq!(on_air, THREADS * ROUNDS);
    assert_eq!(joins, THREADS * ROUNDS);
    let info = p.conference(conf).unwrap();
    assert_eq!(info.participant_count, THREADS + 1);
    assert_eq!(info.present_count, 1);
    for (id, status) in statuses(&p, conf) {
        if id != "alice" {
            assert!(matches!(status, S::Left | S::Reserved), "{id}: {status}");
        }
    }
}
