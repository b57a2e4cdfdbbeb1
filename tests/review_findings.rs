//! The adversarial review's findings (issue 8), one test (or a few) each,
//! named after the finding. Each fails on the code before the fix.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use confkit::event::{EventKind, ParticipantView};
use confkit::platform::{Delivery, PlatformConfig, PlatformError, MAX_INVITEES_PER_REQUEST};
use confkit::token::TokenError;
use confkit::{
    ConferenceId, ErrorCode, Event, ManualClock, ParticipantStatus as S, ParticipantType,
    Permission as P, PermissionSet, Platform,
};
use serde_json::json;

const TTL: u64 = 3 * 60 * 60;

fn refreshed(events: &[Event]) -> Vec<(String, PermissionSet, u64)> {
    events
        .iter()
        .filter_map(|e| match &*e.kind {
            EventKind::TokenRefreshed {
                token,
                permissions,
                expires_at,
            } => Some((token.clone(), *permissions, *expires_at)),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------
// 1. The owner is locked out when the owner token expires.
// ---------------------------------------------------------------------------

#[test]
fn finding_1_connected_participants_get_a_fresh_token_before_expiry() {
    let (p, clock) = platform();
    assert_eq!(p.config().token_refresh_lead_secs, 300);
    let (alice, conf) = protected_room(&p);
    let bob_set = perms(&[P::Join, P::SendAudio]);
    let (bob, _) = invite_and_join(&p, alice, conf, "bob", Some(bob_set));
    let carol = open(&p, "carol", "Carol");
    p.invite(alice, conf, &[invitee("carol", None)]).unwrap(); // RESERVED only
    drain(&p, alice);
    drain(&p, bob);
    drain(&p, carol);

    clock.advance(TTL - 301);
    assert_eq!(p.expire_conferences(), 0);
    assert!(refreshed(&drain(&p, alice)).is_empty(), "not due yet");
    clock.advance(1);
    p.expire_conferences();
    let now = p.now();
    for (sid, who, set) in [(alice, "alice", PermissionSet::ALL), (bob, "bob", bob_set)] {
        let got = refreshed(&drain(&p, sid));
        assert_eq!(got.len(), 1, "{who} gets exactly one refresh");
        let (token, permissions, exp) = got[0].clone();
        assert_eq!((permissions, exp), (set, now + TTL));
        let claims = verify(&p, &token, conf).unwrap();
        assert_eq!((claims.subject.as_str(), claims.permissions), (who, set));
    }
    assert!(
        refreshed(&drain(&p, carol)).is_empty(),
        "RESERVED: not connected"
    );
    // Long after the first tokens expired, the refreshed ones still admit.
    clock.advance(TTL - 301);
    p.expire_conferences();
    assert!(refreshed(&drain(&p, bob)).is_empty(), "not due yet");
    clock.advance(1);
    p.expire_conferences();
    let again = refreshed(&drain(&p, bob));
    assert_eq!(again.len(), 1, "the refresh repeats while bob stays");
    p.leave(bob, conf).unwrap();
    p.invite(alice, conf, &[invitee("bob", None)]).unwrap();
    let fresh = invitation_token(&p, bob);
    assert!(p.join(bob, conf, Some(&fresh)).is_ok());
}

#[test]
fn finding_1_the_owner_gets_back_in_after_the_owner_token_expired() {
    let (p, clock) = platform();
    let (alice, conf) = protected_room(&p);
    let (_bob, _) = invite_and_join(&p, alice, conf, "bob", None); // keeps it alive
    let first = p.create_conference(alice, "room", protected()).unwrap();
    p.leave(alice, conf).unwrap();
    clock.advance(TTL + 120);
    let old = first.owner_token.unwrap();
    assert_eq!(
        p.join(alice, conf, Some(&old)).unwrap_err().code(),
        ErrorCode::TokenExpired
    );
    // From a new device, create-again by alias gives the owner a fresh token.
    let phone = open(&p, "alice", "Alice");
    let again = p.create_conference(phone, "ROOM", protected()).unwrap();
    assert!(!again.is_new);
    let token = again.owner_token.expect("a fresh owner token");
    assert_eq!(
        p.join(phone, conf, Some(&token)).map(|j| j.permissions),
        Ok(PermissionSet::ALL)
    );
    // REST create-again by the owner does the same.
    let (status, body) = rest_json(
        &p,
        "POST",
        "/v2/conferences/create",
        &json!({"ownerExternalId": "alice", "alias": "room"}),
    );
    assert_eq!(status, 200, "{body}");
    assert!(verify(&p, body["ownerToken"].as_str().unwrap(), conf).is_ok());
}

#[test]
fn finding_1_rest_mints_fresh_tokens_for_everyone_but_the_kicked() {
    let (p, clock) = platform();
    let (status, created) = rest_json(
        &p,
        "POST",
        "/v2/conferences/create",
        &json!({"ownerExternalId": "alice", "alias": "board", "parameters": {"ttl": 86400},
                "participants": {"bob": {"permissions": ["JOIN", "KICK"]}, "mallory": {}}}),
    );
    assert_eq!(status, 200, "{created}");
    let conf = ConferenceId::parse(created["conferenceId"].as_str().unwrap()).unwrap();
    let path = format!("/v2/conferences/{conf}/tokens");
    let kick = format!("/v2/conferences/{conf}/kick");
    assert_eq!(
        rest(&p, "POST", &kick, r#"{"externalIds": ["mallory"]}"#).0,
        204
    );
    clock.advance(TTL + 120);

    let (status, body) = rest(&p, "POST", &path, r#"{"externalIds": ["bob", "alice"]}"#);
    assert_eq!(status, 200, "{body}");
    assert_eq!(keys(&body), ["usersTokens"]);
    let bob = verify(&p, body["usersTokens"]["bob"].as_str().unwrap(), conf).unwrap();
    assert_eq!(
        bob.permissions,
        perms(&[P::Join, P::Kick]),
        "same permissions"
    );
    let alice = verify(&p, body["usersTokens"]["alice"].as_str().unwrap(), conf).unwrap();
    assert_eq!(alice.permissions, PermissionSet::ALL);
    let bob_sid = open(&p, "bob", "Bob");
    assert!(p
        .join(bob_sid, conf, body["usersTokens"]["bob"].as_str())
        .is_ok());

    let before = rest(
        &p,
        "GET",
        &format!("/v2/conferences/{conf}/participants"),
        "",
    );
    let answer = rest(&p, "POST", &path, r#"{"externalIds": ["bob", "mallory"]}"#);
    assert_rest_error(&answer, 403, ErrorCode::NotAllowed);
    let answer = rest(&p, "POST", &path, r#"{"externalIds": ["zed"]}"#);
    assert_rest_error(&answer, 404, ErrorCode::ParticipantNotFound);
    let answer = rest(&p, "POST", &path, r#"{"externalIds": ["bob", "bob"]}"#);
    assert_rest_error(&answer, 400, ErrorCode::InvalidArgument);
    assert_eq!(
        rest(
            &p,
            "GET",
            &format!("/v2/conferences/{conf}/participants"),
            ""
        ),
        before
    );
    // An unprotected conference needs no tokens.
    let (_, open_conf) = open_room(&p);
    let answer = rest(
        &p,
        "POST",
        &format!("/v2/conferences/{open_conf}/tokens"),
        r#"{"externalIds": ["alice"]}"#,
    );
    assert_rest_error(&answer, 400, ErrorCode::InvalidArgument);
}

// ---------------------------------------------------------------------------
// 2. A re-invite rewrites permissions without UPDATE_PERMISSIONS.
// ---------------------------------------------------------------------------

#[test]
fn finding_2_a_reinvite_by_an_inviter_keeps_the_set_and_the_token() {
    let (p, _) = platform();
    let (alice, conf) = protected_room(&p);
    let moderator = perms(&[P::Join, P::Kick, P::Invite]);
    let (status, body) = rest_json(
        &p,
        "POST",
        &format!("/v2/conferences/{conf}/invite"),
        &json!({"participants": {"mod": {"permissions": ["JOIN", "KICK", "INVITE"]}}}),
    );
    assert_eq!(status, 200);
    let mod_token = body["usersTokens"]["mod"].as_str().unwrap().to_owned();
    let inviter_set = PermissionSet::DEFAULT_INVITEE.with(P::Invite);
    let (bob, _) = invite_and_join(&p, alice, conf, "bob", Some(inviter_set));

    // bob re-invites mod, with and without a set: mod keeps KICK.
    for asked in [None, Some(perms(&[P::Join])), Some(inviter_set)] {
        let results = p.invite(bob, conf, &[invitee("mod", asked)]).unwrap();
        assert_eq!(results[0].permissions, moderator, "asked {asked:?}");
        assert_eq!(participant(&p, conf, "mod").permissions, moderator);
    }
    // Every re-invite carried mod's current set: the app server's token admits.
    let mod_sid = open(&p, "mod", "Mod");
    assert_eq!(
        p.join(mod_sid, conf, Some(&mod_token))
            .map(|j| j.permissions),
        Ok(moderator)
    );
    p.leave(mod_sid, conf).unwrap();
    // LEFT (and KICKED, ERROR, DECLINE) alike: bob still cannot rewrite.
    let results = p
        .invite(bob, conf, &[invitee("mod", Some(perms(&[P::Join])))])
        .unwrap();
    assert_eq!(results[0].permissions, moderator);
    drain(&p, mod_sid);

    // The owner and UPDATE_PERMISSIONS holders may change it by re-inviting.
    let results = p
        .invite(alice, conf, &[invitee("mod", Some(perms(&[P::Join])))])
        .unwrap();
    assert_eq!(results[0].permissions, perms(&[P::Join]));
    let narrowed = invitation_token(&p, mod_sid);
    // ... which revokes the tokens that carry the old set.
    assert_eq!(
        p.join(mod_sid, conf, Some(&mod_token)).unwrap_err().code(),
        ErrorCode::TokenRevoked
    );
    assert!(p.join(mod_sid, conf, Some(&narrowed)).is_ok());
}

// ---------------------------------------------------------------------------
// 3. An SDK invite hands the invitee's bearer token to the inviter.
// ---------------------------------------------------------------------------

#[test]
fn finding_3_the_inviter_never_sees_the_invitees_token() {
    let (p, _) = platform();
    let (alice, conf) = protected_room(&p);
    let bob = open(&p, "bob", "Bob");
    let results = p.invite(alice, conf, &[invitee("bob", None)]).unwrap();
    let token = invitation_token(&p, bob);
    assert!(verify(&p, &token, conf).is_ok());
    assert!(!format!("{results:?}").contains(&token));
    let inviter_saw: String = drain(&p, alice).iter().map(Event::to_json).collect();
    assert!(!inviter_saw.contains(&token));
    // Nor does an updater see the new token of the participant they update.
    p.join(bob, conf, Some(&token)).unwrap();
    drain(&p, alice);
    p.update_permissions(alice, conf, &eid("bob"), perms(&[P::Join]))
        .unwrap();
    let new = permissions_token(&drain(&p, bob)).unwrap();
    let updater_saw: String = drain(&p, alice).iter().map(Event::to_json).collect();
    assert!(!updater_saw.contains(&new));
}

// ---------------------------------------------------------------------------
// 4. Revocations and destroyed conference IDs are kept forever.
// ---------------------------------------------------------------------------

#[test]
fn finding_4_revocations_and_destroyed_ids_are_forgotten_after_expiry() {
    let (p, clock) = platform();
    let (alice, conf) = protected_room(&p);
    let bob = open(&p, "bob", "Bob");
    let baseline = p.retained();
    let sets = [perms(&[P::Join]), perms(&[P::Join, P::SendAudio])];
    for i in 0..2_000 {
        // A re-invite with another set revokes the earlier token...
        p.invite(alice, conf, &[invitee("bob", Some(sets[i % 2]))])
            .unwrap();
        // ... and so does a kick (by id and by subject).
        if i % 10 == 0 {
            p.kick(alice, conf, &eid("bob")).unwrap();
        }
        // Destroyed conferences are remembered for a while.
        let c = p
            .create_conference(alice, &format!("tmp-{i}"), protected())
            .unwrap();
        p.terminate(alice, c.conference.id).unwrap();
        drain(&p, bob);
        drain(&p, alice);
    }
    let grown = p.retained();
    assert!(grown.revoked_token_ids >= 1_900, "{grown:?}");
    assert_eq!(grown.revoked_subjects, 1);
    assert_eq!(grown.destroyed_conferences, 2_000);
    let destroyed = p
        .create_conference(alice, "probe", protected())
        .unwrap()
        .conference
        .id;
    p.terminate(alice, destroyed).unwrap();
    assert!(matches!(
        p.conference(destroyed),
        Err(PlatformError::ConferenceDestroyed(_))
    ));

    clock.advance(TTL + 61);
    p.expire_conferences();
    assert_eq!(p.retained(), baseline);
    assert!(matches!(
        p.conference(destroyed),
        Err(PlatformError::ConferenceNotFound(_))
    ));
}

// ---------------------------------------------------------------------------
// 5. Event queues have no bound.
// ---------------------------------------------------------------------------

#[test]
fn finding_5_a_full_queue_drops_the_oldest_and_says_so_once() {
    let cap = 16;
    let (p, _) = platform_with(PlatformConfig {
        max_queued_events: cap,
        ..PlatformConfig::default()
    });
    let (alice, conf) = open_room(&p);
    let bob = open(&p, "bob", "Bob");
    p.join(bob, conf, None).unwrap();
    drain(&p, bob);
    // bob stops polling; alice's media reports need no permission.
    let mut sent = 0;
    for _ in 0..500 {
        p.report(alice, conf, confkit::LifecycleEvent::MediaTrouble)
            .unwrap();
        p.report(alice, conf, confkit::LifecycleEvent::Recovered)
            .unwrap();
        sent += 2;
    }
    assert_eq!(p.pending_events(bob), Ok(cap));
    let events = drain(&p, bob);
    let missed: Vec<_> = events
        .iter()
        .filter(|e| matches!(*e.kind, EventKind::EventsMissed { .. }))
        .collect();
    assert_eq!(missed.len(), 1, "told exactly once");
    let first_seq = 2; // bob's own join was event 1, drained
    match &*events[0].kind {
        EventKind::EventsMissed {
            first_missed_sequence,
            first_available_sequence,
        } => {
            assert_eq!(*first_missed_sequence, first_seq);
            assert_eq!(*first_available_sequence, events[1].sequence);
            assert_eq!(events[0].sequence + 1, events[1].sequence);
            assert_eq!(events[0].conference_id, None);
        }
        other => panic!("the head must be eventsMissed, not {other:?}"),
    }
    // Sequence numbers increase by one and never repeat; the last is the last sent.
    for w in events.windows(2) {
        assert_eq!(w[0].sequence + 1, w[1].sequence);
    }
    assert_eq!(events.last().unwrap().sequence, first_seq + sent - 1);
    // After a drain, a new overflow is a new (single) notice.
    for _ in 0..20 {
        p.report(alice, conf, confkit::LifecycleEvent::MediaTrouble)
            .unwrap();
        p.report(alice, conf, confkit::LifecycleEvent::Recovered)
            .unwrap();
    }
    let again = drain(&p, bob);
    assert_eq!(again.len(), cap);
    assert!(matches!(*again[0].kind, EventKind::EventsMissed { .. }));
    assert_eq!(
        again[0].sequence,
        events.last().unwrap().sequence + 40 - cap as u64 + 1
    );
    assert_eq!(
        types(&again[1..])
            .iter()
            .filter(|t| **t == "eventsMissed")
            .count(),
        0
    );
}

#[test]
fn finding_5_the_default_cap_is_1024() {
    let (p, _) = platform();
    assert_eq!(p.config().max_queued_events, 1024);
    let (alice, conf) = open_room(&p);
    let bob = open(&p, "bob", "Bob");
    p.join(bob, conf, None).unwrap();
    for _ in 0..600 {
        p.report(alice, conf, confkit::LifecycleEvent::MediaTrouble)
            .unwrap();
        p.report(alice, conf, confkit::LifecycleEvent::Recovered)
            .unwrap();
    }
    assert_eq!(p.pending_events(bob), Ok(1024));
    let json = p.poll_event(bob).unwrap().unwrap().to_json();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        keys(&value),
        [
            "firstAvailableSequence",
            "firstMissedSequence",
            "sequence",
            "type"
        ]
    );
    assert_eq!(value["type"], "eventsMissed");
}

// ---------------------------------------------------------------------------
// 6. Alias squatting through REST create.
// ---------------------------------------------------------------------------

#[test]
fn finding_6_rest_create_refuses_a_squatted_alias() {
    let (p, _) = platform();
    let mallory = open(&p, "mallory", "Mallory");
    let squatted = p
        .create_conference(mallory, "Board-Meeting", unprotected())
        .unwrap()
        .conference
        .id;
    let before = statuses(&p, squatted);
    for owner in ["alice", "mallory"] {
        let answer = rest_json(
            &p,
            "POST",
            "/v2/conferences/create",
            &json!({"ownerExternalId": owner, "alias": "board-meeting",
                    "participants": {"bob": {"notification": true}}}),
        );
        let why = assert_rest_error(&answer, 409, ErrorCode::AliasTaken);
        assert!(why.contains("not protected"), "{why}");
        assert_eq!(statuses(&p, squatted), before, "nobody was invited");
    }
}

// ---------------------------------------------------------------------------
// 7. A holder of UPDATE_PERMISSIONS gives themselves every permission.
// ---------------------------------------------------------------------------

#[test]
fn finding_7_nobody_but_the_owner_changes_their_own_permissions() {
    let (p, _) = platform();
    let (alice, conf) = protected_room(&p);
    let set = perms(&[P::Join, P::UpdatePermissions]);
    let (dave, _) = invite_and_join(&p, alice, conf, "dave", Some(set));
    drain(&p, alice);
    drain(&p, dave);
    let before = Snapshot::take(&p, conf, &[alice, dave]);
    assert_eq!(
        p.update_permissions(dave, conf, &eid("dave"), PermissionSet::ALL),
        Err(PlatformError::OwnPermissions(eid("dave")))
    );
    assert_eq!(Snapshot::take(&p, conf, &[alice, dave]), before);
    assert_eq!(participant(&p, conf, "dave").permissions, set);
}

// ---------------------------------------------------------------------------
// 8 and 9. Listeners find other listeners; type changes leave stale views.
// ---------------------------------------------------------------------------

/// What a session would show, folded from its events.
#[derive(Default)]
struct View(BTreeMap<String, ParticipantView>);

impl View {
    fn apply(&mut self, events: &[Event]) {
        for e in events {
            match &*e.kind {
                EventKind::ParticipantAdded { participant }
                | EventKind::ParticipantUpdated { participant, .. } => {
                    self.0
                        .insert(participant.external_id.to_string(), participant.clone());
                }
                EventKind::ParticipantRemoved { external_id } => {
                    self.0.remove(external_id.as_str());
                }
                _ => {}
            }
        }
    }
}

/// What `viewer`, a listener, may see: users, and itself.
fn listener_projection(p: &Platform, conf: ConferenceId, viewer: &str) -> Vec<ParticipantView> {
    p.participants(conf)
        .unwrap()
        .into_iter()
        .filter(|v| v.participant_type == ParticipantType::User || v.external_id.as_str() == viewer)
        .collect()
}

#[test]
fn finding_8_a_listener_learns_nothing_of_other_listeners() {
    let (p, _) = platform();
    let (alice, conf) = open_room(&p);
    let l1 = open(&p, "l1", "L1");
    let l2 = open(&p, "l2", "L2");
    p.listen(l1, conf, None).unwrap();
    p.listen(l2, conf, None).unwrap();
    drain(&p, l1);
    // A listener acts on nobody: an invite, a kick or an update from it is
    // refused the same way whoever the target is.
    for target in ["l2", "stranger", "alice"] {
        assert_eq!(
            p.invite(l1, conf, &[invitee(target, None)]),
            Err(PlatformError::ListenerCannotAct(eid("l1")))
        );
        assert_eq!(
            p.kick(l1, conf, &eid(target)),
            Err(PlatformError::ListenerCannotAct(eid("l1")))
        );
        assert_eq!(
            p.update_permissions(l1, conf, &eid(target), PermissionSet::EMPTY),
            Err(PlatformError::ListenerCannotAct(eid("l1")))
        );
    }
    // A former listener re-invited appears to other listeners as new, never
    // as an update that reveals their past.
    p.leave(l2, conf).unwrap();
    drain(&p, alice);
    p.invite(alice, conf, &[invitee("l2", None)]).unwrap();
    let seen = drain(&p, l1);
    assert_eq!(added(&seen), [("l2".into(), S::Reserved)]);
    assert!(updates(&seen).is_empty(), "{seen:?}");
    // A user sees the usual update.
    assert_eq!(
        updates(&drain(&p, alice)),
        [("l2".into(), S::Left, S::Reserved)]
    );
}

#[test]
fn finding_9_other_listeners_views_follow_type_changes() {
    let (p, _) = platform();
    let alice = open(&p, "alice", "Alice");
    let conf = p
        .create_conference(alice, "open-room", unprotected())
        .unwrap()
        .conference
        .id;
    // l1 listens from the start, so everything it may see reaches it as events.
    let l1 = open(&p, "l1", "L1");
    let mut view = View::default();
    p.listen(l1, conf, None).unwrap();
    p.join(alice, conf, None).unwrap();
    let bob = open(&p, "bob", "Bob");
    let carol = open(&p, "carol", "Carol");
    p.join(bob, conf, None).unwrap();
    p.invite(alice, conf, &[invitee("carol", None)]).unwrap();
    view.apply(&drain(&p, l1));
    let mut shown: Vec<_> = view.0.values().cloned().collect();
    let mut truth = listener_projection(&p, conf, "l1");
    shown.sort_by(|a, b| a.external_id.cmp(&b.external_id));
    truth.sort_by(|a, b| a.external_id.cmp(&b.external_id));
    assert_eq!(shown, truth);

    let steps: Vec<Box<dyn Fn()>> = vec![
        // A user re-enters as a listener.
        Box::new(|| p.leave(bob, conf).unwrap()),
        Box::new(|| {
            p.listen(bob, conf, None).unwrap();
        }),
        // An invited user accepts in listen mode.
        Box::new(|| {
            p.listen(carol, conf, None).unwrap();
        }),
        // And back: a listener re-enters as a user.
        Box::new(|| p.leave(bob, conf).unwrap()),
        Box::new(|| {
            p.join(bob, conf, None).unwrap();
        }),
    ];
    for (i, step) in steps.iter().enumerate() {
        step();
        view.apply(&drain(&p, l1));
        let mut shown: Vec<_> = view.0.values().cloned().collect();
        let mut truth = listener_projection(&p, conf, "l1");
        shown.sort_by(|a, b| a.external_id.cmp(&b.external_id));
        truth.sort_by(|a, b| a.external_id.cmp(&b.external_id));
        assert_eq!(shown, truth, "after step {i}");
    }
    assert!(view.0.contains_key("bob"), "bob is a user again");
    assert!(!view.0.contains_key("carol"), "carol listens");
}

// ---------------------------------------------------------------------------
// 11. After the clock steps backwards a kick refuses later-issued tokens.
// ---------------------------------------------------------------------------

#[test]
fn finding_11_a_token_issued_after_a_kick_admits_whatever_the_clock_says() {
    let (p, clock) = platform();
    let (alice, conf) = protected_room(&p);
    clock.advance(1_000);
    let (bob, before_kick) = invite_and_join(&p, alice, conf, "bob", None);
    clock.advance(100);
    let kicked_at = p.now();
    p.kick(alice, conf, &eid("bob")).unwrap();
    for step_back in [50, 600] {
        // NTP steps the clock back; alice invites bob again.
        clock.set(kicked_at - step_back);
        p.invite(alice, conf, &[invitee("bob", None)]).unwrap();
        let after_kick = invitation_token(&p, bob);
        assert!(verify(&p, &after_kick, conf).unwrap().issued_at < kicked_at);
        assert_eq!(
            p.join(bob, conf, Some(&after_kick)).map(|j| j.status),
            Ok(S::Connecting),
            "stepped back {step_back} s"
        );
        p.kick(alice, conf, &eid("bob")).unwrap();
        clock.set(kicked_at);
    }
    // The kicks still hold for what came before them, and for tokens the
    // platform never issued that claim an earlier time.
    p.invite(alice, conf, &[invitee("bob", None)]).unwrap();
    drain(&p, bob);
    assert_eq!(
        p.join(bob, conf, Some(&before_kick)).unwrap_err().code(),
        ErrorCode::TokenRevoked
    );
    let (forged_time, _) = mint_at("bob", conf, PermissionSet::DEFAULT_INVITEE, kicked_at - 10);
    assert!(matches!(
        p.join(bob, conf, Some(&forged_time)),
        Err(PlatformError::Token(TokenError::SubjectRevoked { .. }))
    ));
}

// ---------------------------------------------------------------------------
// 13. In an unprotected conference anyone re-admits a KICKED participant.
// ---------------------------------------------------------------------------

#[test]
fn finding_13_readmitting_the_kicked_needs_the_owner_kick_or_invite() {
    let (p, _) = platform();
    let (alice, conf) = open_room(&p);
    let bob = open(&p, "bob", "Bob");
    let carol = open(&p, "carol", "Carol");
    let dave = open(&p, "dave", "Dave");
    p.join(bob, conf, None).unwrap();
    p.join(carol, conf, None).unwrap();
    p.join(dave, conf, None).unwrap();
    p.update_permissions(alice, conf, &eid("carol"), PermissionSet::EMPTY)
        .unwrap();
    p.update_permissions(alice, conf, &eid("dave"), perms(&[P::Invite]))
        .unwrap();
    p.kick(alice, conf, &eid("bob")).unwrap();
    let before = Snapshot::take(&p, conf, &[alice, bob, carol]);
    assert_eq!(
        p.invite(carol, conf, &[invitee("bob", Some(PermissionSet::EMPTY))]),
        Err(PlatformError::KickedNeedsModerator(eid("bob")))
    );
    assert_eq!(Snapshot::take(&p, conf, &[alice, bob, carol]), before);
    assert_eq!(participant(&p, conf, "bob").status, S::Kicked);
    assert_eq!(
        p.join(bob, conf, None).unwrap_err().code(),
        ErrorCode::InvalidTransition
    );
    // An INVITE holder (and the owner) may bring them back.
    let results = p.invite(dave, conf, &[invitee("bob", Some(PermissionSet::EMPTY))]);
    assert_eq!(results.map(|r| r[0].delivery), Ok(Delivery::Delivered(1)));
    assert_eq!(participant(&p, conf, "bob").status, S::Reserved);
}

// ---------------------------------------------------------------------------
// 14. One REST create or invite of any size holds the lock for all its signing.
// ---------------------------------------------------------------------------

#[test]
fn finding_14_invitees_per_request_are_capped() {
    let (p, _) = platform();
    let (alice, conf) = open_room(&p);
    let too_many: Vec<_> = (0..=MAX_INVITEES_PER_REQUEST)
        .map(|i| invitee(&format!("u{i}"), None))
        .collect();
    let before = Snapshot::take(&p, conf, &[alice]);
    let err = p.invite(alice, conf, &too_many).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert!(err.to_string().contains("more than 10000"), "{err}");
    assert_eq!(Snapshot::take(&p, conf, &[alice]), before);
    // Exactly the cap is fine.
    let results = p
        .invite(alice, conf, &too_many[..MAX_INVITEES_PER_REQUEST])
        .unwrap();
    assert_eq!(results.len(), MAX_INVITEES_PER_REQUEST);

    // REST: 400 before any token is signed, for create and invite alike.
    let participants: serde_json::Map<String, serde_json::Value> = (0..=MAX_INVITEES_PER_REQUEST)
        .map(|i| (format!("u{i}"), json!({})))
        .collect();
    let answer = rest_json(
        &p,
        "POST",
        "/v2/conferences/create",
        &json!({"ownerExternalId": "zed", "alias": "huge", "participants": participants}),
    );
    assert_rest_error(&answer, 400, ErrorCode::InvalidArgument);
    assert!(p.conference_by_alias("huge").is_err());
}

/// A clock that runs `hook` once, on its `fire_at`th reading: used to change
/// the state between an operation's prediction and its decision.
#[derive(Clone, Default)]
struct HookClock {
    inner: ManualClock,
    calls: Arc<AtomicUsize>,
    fire_at: Arc<AtomicUsize>,
    hook: Arc<std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>>,
}

impl std::fmt::Debug for HookClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HookClock")
    }
}

impl confkit::Clock for HookClock {
    fn now(&self) -> u64 {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.fire_at.load(Ordering::SeqCst) {
            if let Some(hook) = self.hook.get() {
                hook();
            }
        }
        self.inner.now()
    }
}

#[test]
fn finding_14_tokens_signed_ahead_never_override_what_the_lock_decides() {
    // The invite is predicted (and bob's token signed) with his old set; the
    // app server changes bob's set before the invite takes the lock. The
    // invite must issue a token with the set bob has then.
    let clock = HookClock {
        inner: ManualClock::new(START),
        ..HookClock::default()
    };
    let p = Arc::new(Platform::with_config(
        signing_key(),
        Arc::new(clock.clone()),
        PlatformConfig::default(),
    ));
    let (status, created) = rest_json(
        &p,
        "POST",
        "/v2/conferences/create",
        &json!({"ownerExternalId": "alice", "alias": "race",
                "participants": {"bob": {"permissions": ["JOIN"]}}}),
    );
    assert_eq!(status, 200);
    let conf = ConferenceId::parse(created["conferenceId"].as_str().unwrap()).unwrap();
    let weak = Arc::downgrade(&p);
    let path = format!("/v2/conferences/{conf}/permissions");
    let _ = clock.hook.set(Box::new(move || {
        if let Some(p) = weak.upgrade() {
            let body = r#"{"participants": {"bob": {"permissions": ["JOIN", "RECORD"]}}}"#;
            assert_eq!(p.handle_rest("POST", &path, body.as_bytes()).status, 200);
        }
    }));
    // The invite reads the clock once before predicting, once before taking
    // the lock: fire between the two.
    clock.calls.store(0, Ordering::SeqCst);
    clock.fire_at.store(2, Ordering::SeqCst);
    let answer = p.handle_rest(
        "POST",
        &format!("/v2/conferences/{conf}/invite"),
        br#"{"participants": {"bob": {}}}"#,
    );
    assert!(clock.calls.load(Ordering::SeqCst) >= 2, "the hook fired");
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    let token = body["usersTokens"]["bob"].as_str().unwrap();
    let decided = perms(&[P::Join, P::Record]);
    assert_eq!(
        verify(&p, token, conf).unwrap().permissions,
        decided,
        "the set decided under the lock, not the predicted one"
    );
    assert_eq!(participant(&p, conf, "bob").permissions, decided);
}

fn perms(list: &[P]) -> PermissionSet {
    PermissionSet::of(list)
}
