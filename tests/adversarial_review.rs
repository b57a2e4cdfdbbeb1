//! An adversarial review of the rules issue 8 added (README "Rules from the
//! security review (issue 8)" and "Bounds"), tried as an attacker and as a
//! careful user would.
//!
//! Tests that pass are regression tests for attacks that held. Tests marked
//! (were `#[ignore]`d) failed on the code they were written against, and pass
//! since the fixes that followed the review:
//! each is a finding, kept so the suite stays green (`--ignored` runs them).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use confkit::event::EventKind;
use confkit::platform::{
    ConferenceOptions, PlatformConfig, PlatformError, Retained, MAX_INVITEES_PER_REQUEST,
};
use confkit::{
    ConferenceId, ErrorCode, Event, LifecycleEvent as L, ParticipantStatus as S, Permission as P,
    PermissionSet, Platform, SessionId,
};
use serde_json::json;

const TTL: u64 = 3 * 60 * 60;
const DAY: u64 = 24 * 60 * 60;

fn perms(list: &[P]) -> PermissionSet {
    PermissionSet::of(list)
}

/// Every token carried by a list of events.
fn tokens_in(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &*e.kind {
            EventKind::InvitationReceived { token, .. }
            | EventKind::PermissionsUpdated { token, .. } => token.clone(),
            EventKind::TokenRefreshed { token, .. } => Some(token.clone()),
            _ => None,
        })
        .collect()
}

fn refreshed_sets(events: &[Event]) -> Vec<PermissionSet> {
    events
        .iter()
        .filter_map(|e| match &*e.kind {
            EventKind::TokenRefreshed { permissions, .. } => Some(*permissions),
            _ => None,
        })
        .collect()
}

/// Where the `eventsMissed` of a batch are.
trait MissedPositions {
    fn positions_of_missed(self) -> Vec<usize>;
}

impl<'a, I: Iterator<Item = &'a Event>> MissedPositions for I {
    fn positions_of_missed(self) -> Vec<usize> {
        self.enumerate()
            .filter(|(_, e)| matches!(*e.kind, EventKind::EventsMissed { .. }))
            .map(|(i, _)| i)
            .collect()
    }
}

fn conf_id(body: &serde_json::Value) -> ConferenceId {
    ConferenceId::parse(body["conferenceId"].as_str().unwrap()).unwrap()
}

// ===========================================================================
// Findings
// ===========================================================================

/// Finding A (medium). Rule: "no re-invite revokes a token that still carries
/// the participant's current set" (and issue 8 #2: a re-invite by an INVITE
/// holder must not revoke "the token the app server gave them"). But every
/// re-invite of a RESERVED participant mints a new token, and the ninth live
/// record pushes the oldest out *revoked* ("token records per participant: 8
/// live ones"). So an INVITE holder who re-invites a RESERVED moderator eight
/// times (no permission change, nothing delivered: the moderator has no open
/// session) revokes the token the app server handed them, and they cannot
/// join until the app server notices.
#[test]
fn finding_a_reinvites_never_revoke_the_app_servers_token() {
    let (p, _) = platform();
    let (alice, conf) = protected_room(&p);
    let (status, body) = rest_json(
        &p,
        "POST",
        &format!("/v2/conferences/{conf}/invite"),
        &json!({"participants": {"mod": {"permissions": ["JOIN", "KICK", "INVITE"]}}}),
    );
    assert_eq!(status, 200, "{body}");
    let mod_token = body["usersTokens"]["mod"].as_str().unwrap().to_owned();
    let mallory_set = PermissionSet::DEFAULT_INVITEE.with(P::Invite);
    let (mallory, _) = invite_and_join(&p, alice, conf, "mallory", Some(mallory_set));
    for _ in 0..8 {
        let r = p.invite(mallory, conf, &[invitee("mod", None)]).unwrap();
        assert_eq!(r[0].permissions, perms(&[P::Join, P::Kick, P::Invite]));
    }
    let mod_sid = open(&p, "mod", "Mod");
    assert_eq!(
        p.join(mod_sid, conf, Some(&mod_token))
            .map(|j| j.permissions),
        Ok(perms(&[P::Join, P::Kick, P::Invite])),
        "the app server's token still carries mod's current set"
    );
}

/// Finding B (medium). Bounds: revocations and destroyed IDs are kept "until
/// every token ... has expired", and "a test shows they return to their
/// baseline once the token lifetime has passed". But any session chooses its
/// conference's token lifetime with no upper bound, and the platform-wide
/// retention of `Platform::revoke_token` follows the longest one ever used
/// (`max_token_ttl` never shrinks). One stranger's create with a 10-year token
/// lifetime, terminated at once, makes its destroyed ID and every later
/// app-server `revoke_token` (for any conference) stay for 10 years.
#[test]
fn finding_b_a_creator_cannot_pin_retained_state_with_a_huge_token_ttl() {
    let (p, clock) = platform();
    let baseline = p.retained();
    let mallory = open(&p, "mallory", "Mallory");
    for i in 0..100 {
        // Beyond the platform's cap (24 h) a lifetime is refused...
        let refused = p.create_conference(
            mallory,
            &format!("pin-{i}"),
            ConferenceOptions {
                protected: false,
                token_ttl_secs: Some(10 * 365 * DAY),
                ..ConferenceOptions::default()
            },
        );
        assert_eq!(refused.unwrap_err().code(), ErrorCode::InvalidArgument);
        // ... and the longest allowed one is forgotten within a month.
        let c = p
            .create_conference(
                mallory,
                &format!("pin-{i}"),
                ConferenceOptions {
                    protected: false,
                    token_ttl_secs: Some(confkit::platform::MAX_CONFERENCE_TTL_SECS),
                    ..ConferenceOptions::default()
                },
            )
            .unwrap();
        p.terminate(mallory, c.conference.id).unwrap();
    }
    // The app server revokes one token of an ordinary 3-hour conference.
    p.revoke_token("some-leaked-token-id").unwrap();
    clock.advance(30 * DAY);
    p.expire_conferences();
    assert_eq!(
        p.retained(),
        baseline,
        "a month is ten times the platform's token lifetime"
    );
}

/// Finding C (low). Same root as B, for the conference itself: the empty
/// time to live is the creator's choice with no upper bound, so any session
/// can create conferences that never expire and hold their aliases forever
/// (each create otherwise costs the platform one hour).
#[test]
fn finding_c_an_empty_conference_has_a_bounded_life() {
    let (p, clock) = platform();
    let mallory = open(&p, "mallory", "Mallory");
    let squat = ConferenceOptions {
        empty_ttl_secs: Some(u64::MAX),
        ..ConferenceOptions::default()
    };
    assert_eq!(
        p.create_conference(mallory, "board-meeting", squat)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidArgument
    );
    let longest = ConferenceOptions {
        empty_ttl_secs: Some(confkit::platform::MAX_CONFERENCE_TTL_SECS),
        ..ConferenceOptions::default()
    };
    let id = p
        .create_conference(mallory, "board-meeting", longest)
        .unwrap()
        .conference
        .id;
    p.close_session(mallory).unwrap();
    clock.advance(365 * DAY);
    p.expire_conferences();
    assert!(
        p.conference(id).is_err(),
        "an empty conference nobody touched for a year is still alive"
    );
}

/// Finding D (low). Rule (issue 8 #8): "A listener learns nothing about
/// other listeners by any path". A listener's session can fetch the
/// conference (SDK create-again by alias, `confkit_conference_fetch`, which
/// calls `Platform::conference`): `present_count` and `participant_count`
/// count hidden listeners, so present_count minus the users it sees (and
/// itself) is the number of other listeners now, and participant_count
/// reveals past ones.
#[test]
fn finding_d_a_listener_cannot_count_other_listeners() {
    let (p, _) = platform();
    let (_alice, conf) = open_room(&p);
    let l1 = open(&p, "l1", "L1");
    p.listen(l1, conf, None).unwrap();
    let seen_by_l1 = |p: &Platform| {
        let again = p.create_conference(l1, "open-room", unprotected()).unwrap();
        assert!(!again.is_new);
        // What a session's fetch (C `confkit_conference_fetch`, the wire's
        // `fetch`) answers; `Platform::conference` is the app server's view.
        let fetched = p.conference_seen_by(l1, conf).unwrap();
        (
            again.conference.present_count,
            again.conference.participant_count,
            fetched.present_count,
            fetched.participant_count,
        )
    };
    let before = seen_by_l1(&p);
    let l2 = open(&p, "l2", "L2");
    p.listen(l2, conf, None).unwrap();
    assert_eq!(seen_by_l1(&p), before, "l2 is listening now");
    p.leave(l2, conf).unwrap();
    assert_eq!(seen_by_l1(&p), before, "l2 listened once");
}

/// Finding E (low). Rule: "A re-invite that changes the set revokes the
/// tokens that carry another one" and "A kick is ordered by issuance, not
/// only by time" (clock steps must not change who is admitted). The revoked
/// id is forgotten at its token's exp + leeway by wall clock; if the clock
/// then steps back (here 31 s, less than issue 8 #11's 50 s) the revoked
/// broader token verifies again and is no longer on the list: bob's second
/// device joins with the set an UPDATE_PERMISSIONS holder took away.
#[test]
fn finding_e_a_revoked_token_stays_revoked_across_a_clock_step_back() {
    let (p, clock) = platform();
    let (alice, conf) = protected_room(&p);
    let broad = PermissionSet::DEFAULT_INVITEE.with(P::Kick).with(P::Invite);
    let narrow = perms(&[P::Join, P::SendAudio]);
    let (bob, broad_token) = invite_and_join(&p, alice, conf, "bob", Some(broad));
    p.update_permissions(alice, conf, &eid("bob"), narrow)
        .unwrap();
    let phone = open(&p, "bob", "Bob");
    assert_eq!(
        p.join(phone, conf, Some(&broad_token)).unwrap_err().code(),
        ErrorCode::TokenRevoked
    );
    let exp = verify(&p, &broad_token, conf).unwrap().expires_at;
    // Time passes (bob stays, refreshed); the sweep forgets the revocation.
    clock.set(exp + 61);
    p.expire_conferences();
    drain(&p, bob);
    // NTP steps the clock back half a minute.
    clock.set(exp + 30);
    let rejoined = p.join(phone, conf, Some(&broad_token));
    assert!(
        rejoined.is_err(),
        "the revoked token admitted bob again: {rejoined:?}"
    );
    assert_eq!(participant(&p, conf, "bob").permissions, narrow);
}

/// Finding E, the kick variant (low). Rule: "A kick refuses every token
/// issued before it". The kick's revocations are forgotten by wall clock;
/// after the clock jumps ahead (past the token lifetime) and back, a token
/// issued before the kick admits the participant again once a moderator
/// re-invites them, with the set it carried before the kick, not the
/// narrower one the owner re-invited them with.
#[test]
fn finding_e_a_pre_kick_token_stays_dead_across_clock_steps() {
    let (p, clock) = platform();
    let (alice, conf) = protected_room(&p);
    let broad = PermissionSet::DEFAULT_INVITEE.with(P::Kick);
    let (carol, pre_kick) = invite_and_join(&p, alice, conf, "carol", Some(broad));
    clock.advance(60);
    p.kick(alice, conf, &eid("carol")).unwrap();
    let kicked_at = p.now();
    // A bad NTP server moves the clock a day ahead, then it is corrected.
    clock.advance(DAY);
    p.expire_conferences();
    clock.set(kicked_at + 10);
    // The owner lets carol back in, with JOIN only.
    p.invite(alice, conf, &[invitee("carol", Some(perms(&[P::Join])))])
        .unwrap();
    drain(&p, carol);
    let joined = p.join(carol, conf, Some(&pre_kick));
    assert!(
        joined.is_err(),
        "a token issued before the kick admitted carol: {joined:?}"
    );
    assert_eq!(
        participant(&p, conf, "carol").permissions,
        perms(&[P::Join])
    );
}

/// Finding F (medium). "Can a stranger grow memory without bound ... per-
/// participant records?" Bounds caps invitees per *request* (10,000) but not
/// per conference: in an unprotected conference anyone who joins (no
/// permission needed) adds 10,000 RESERVED records per call, and they stay
/// for the conference's life, which lasts while anyone is in it.
/// `Platform::retained()` does not even show them.
#[test]
fn finding_f_a_stranger_cannot_grow_a_conference_without_bound() {
    let (p, _) = platform_with(PlatformConfig {
        max_queued_events: 2,
        ..PlatformConfig::default()
    });
    let (_alice, conf) = open_room(&p);
    let mallory = open(&p, "mallory", "Mallory");
    p.join(mallory, conf, None).unwrap();
    let mut refused = false;
    for batch in 0..10 {
        let fakes: Vec<_> = (0..MAX_INVITEES_PER_REQUEST)
            .map(|i| invitee(&format!("fake-{batch}-{i}"), None))
            .collect();
        if p.invite(mallory, conf, &fakes).is_err() {
            refused = true;
            break;
        }
    }
    let count = p.conference(conf).unwrap().participant_count;
    assert!(
        refused,
        "10 calls by a stranger left {count} participant records"
    );
}

// ===========================================================================
// What held (regression tests)
// ===========================================================================

/// Nobody without UPDATE_PERMISSIONS changes another's set, whatever status
/// the target is in and whatever the invitation asks; and whatever fresh
/// token anybody gets carries exactly the set they hold now.
#[test]
fn held_no_path_rewrites_a_set_without_update_permissions() {
    let (p, clock) = platform();
    let (alice, conf) = protected_room(&p);
    let inviter_set = PermissionSet::ALL.without(P::UpdatePermissions);
    let (carol, _) = invite_and_join(&p, alice, conf, "carol", Some(inviter_set));
    let bob_set = perms(&[P::Join, P::Kick, P::SendAudio]);
    let (bob, _) = invite_and_join(&p, alice, conf, "bob", Some(bob_set));
    drain(&p, carol);
    let asks = [
        None,
        Some(PermissionSet::EMPTY),
        Some(perms(&[P::Join])),
        Some(inviter_set),
    ];
    // bob in each status carol can reach: ERROR, LEFT, KICKED, RESERVED, DECLINE.
    let mut reached = BTreeSet::new();
    let mut last_token: Option<String> = None;
    for step in 0..5 {
        if let (1 | 2, Some(t)) = (step, &last_token) {
            p.join(bob, conf, Some(t)).unwrap();
        }
        match step {
            0 => {
                p.report(bob, conf, L::Failure).unwrap();
            }
            1 => p.leave(bob, conf).unwrap(),
            2 => p.kick(carol, conf, &eid("bob")).unwrap(),
            3 => {} // RESERVED after the last re-invite
            _ => p.decline(bob, conf).unwrap(),
        }
        reached.insert(participant(&p, conf, "bob").status);
        for ask in asks {
            let r = p.invite(carol, conf, &[invitee("bob", ask)]).unwrap();
            assert_eq!(r[0].permissions, bob_set, "step {step}, asked {ask:?}");
            assert_eq!(participant(&p, conf, "bob").permissions, bob_set);
        }
        // Every token bob got by these invitations carries his own set.
        for t in tokens_in(&drain(&p, bob)) {
            assert_eq!(verify(&p, &t, conf).unwrap().permissions, bob_set);
            last_token = Some(t);
        }
    }
    assert_eq!(
        reached,
        BTreeSet::from([S::Reserved, S::Decline, S::Left, S::Kicked, S::Error])
    );
    // Without UPDATE_PERMISSIONS, update_permissions is refused for any target.
    for target in ["bob", "carol", "alice", "nobody"] {
        assert_eq!(
            p.update_permissions(carol, conf, &eid(target), PermissionSet::ALL)
                .unwrap_err()
                .code(),
            ErrorCode::NotAllowed,
            "{target}"
        );
    }
    // A non-owner's create-again gives no token and changes nothing.
    let before = Snapshot::take(&p, conf, &[alice, bob, carol]);
    let retained = p.retained();
    let again = p.create_conference(carol, "ROOM", protected()).unwrap();
    assert_eq!((again.is_new, again.owner_token), (false, None));
    assert_eq!(Snapshot::take(&p, conf, &[alice, bob, carol]), before);
    assert_eq!(p.retained(), retained);
    // Refreshes carry the current set: bob joins and is refreshed.
    let t = p
        .invite(carol, conf, &[invitee("bob", None)])
        .map(|_| invitation_token(&p, bob))
        .unwrap();
    p.join(bob, conf, Some(&t)).unwrap();
    clock.advance(TTL - 299);
    p.expire_conferences();
    assert_eq!(refreshed_sets(&drain(&p, bob)), [bob_set]);
    assert_eq!(refreshed_sets(&drain(&p, carol)), [inviter_set]);
}

/// An UPDATE_PERMISSIONS holder cannot raise their own set by a detour.
#[test]
fn held_update_permissions_holders_cannot_raise_their_own_set() {
    let (p, _) = platform();
    let (alice, conf) = protected_room(&p);
    let dave_set = perms(&[P::Join, P::Invite, P::UpdatePermissions]);
    let (dave, _) = invite_and_join(&p, alice, conf, "dave", Some(dave_set));
    let laptop = open(&p, "dave", "Dave");
    let own = |sid| p.update_permissions(sid, conf, &eid("dave"), PermissionSet::ALL);
    // From another device that is not connected: not in the conference.
    assert_eq!(own(laptop).unwrap_err().code(), ErrorCode::NotInConference);
    // From the connected device.
    assert_eq!(own(dave), Err(PlatformError::OwnPermissions(eid("dave"))));
    // Re-inviting themselves while in it: nothing issued, set unchanged.
    let r = p
        .invite(dave, conf, &[invitee("dave", Some(PermissionSet::ALL))])
        .unwrap();
    assert_eq!(r[0].permissions, dave_set);
    // Switching to the laptop, then trying again.
    p.join(laptop, conf, Some(&fresh_token_by_rest(&p, conf, "dave")))
        .unwrap();
    assert_eq!(own(laptop), Err(PlatformError::OwnPermissions(eid("dave"))));
    // After leaving, they cannot act at all (re-inviting themselves included).
    p.leave(laptop, conf).unwrap();
    for sid in [dave, laptop] {
        assert_eq!(
            p.invite(sid, conf, &[invitee("dave", Some(PermissionSet::ALL))])
                .unwrap_err()
                .code(),
            ErrorCode::NotInConference
        );
    }
    assert_eq!(participant(&p, conf, "dave").permissions, dave_set);
}

/// A fresh token for `who` from the app server (REST tokens endpoint).
fn fresh_token_by_rest(p: &Platform, conf: ConferenceId, who: &str) -> String {
    let (status, body) = rest_json(
        p,
        "POST",
        &format!("/v2/conferences/{conf}/tokens"),
        &json!({ "externalIds": [who] }),
    );
    assert_eq!(status, 200, "{body}");
    body["usersTokens"][who].as_str().unwrap().to_owned()
}

/// No fresh token (refresh, REST tokens, create-again) brings a KICKED
/// participant back or outlives a narrowing.
#[test]
fn held_fresh_tokens_never_resurrect_the_kicked_or_widen_a_set() {
    let (p, clock) = platform();
    let (alice, conf) = protected_room(&p);
    let (bob, bob_token) = invite_and_join(&p, alice, conf, "bob", None);
    let (carol, _) = invite_and_join(&p, alice, conf, "carol", None);
    p.update_permissions(alice, conf, &eid("carol"), perms(&[P::Join]))
        .unwrap();
    drain(&p, carol);
    p.kick(alice, conf, &eid("bob")).unwrap();
    drain(&p, bob);
    let path = format!("/v2/conferences/{conf}/tokens");
    let before = Snapshot::take(&p, conf, &[alice, bob, carol]);
    let retained = p.retained();
    let answer = rest(&p, "POST", &path, r#"{"externalIds": ["carol", "bob"]}"#);
    assert_rest_error(&answer, 403, ErrorCode::NotAllowed);
    assert_eq!(Snapshot::take(&p, conf, &[alice, bob, carol]), before);
    assert_eq!(p.retained(), retained, "nothing signed was kept");
    // The refresh time comes and goes, and then the token lifetime: bob gets
    // nothing, carol gets her narrowed set.
    for _ in 0..3 {
        clock.advance(TTL / 2);
        p.expire_conferences();
        assert!(tokens_in(&drain(&p, bob)).is_empty());
        for set in refreshed_sets(&drain(&p, carol)) {
            assert_eq!(set, perms(&[P::Join]));
        }
    }
    assert_eq!(
        p.join(bob, conf, Some(&bob_token)).unwrap_err().code(),
        ErrorCode::TokenExpired
    );
    // bob's create-again by alias is not the owner's: no token, still KICKED.
    let again = p.create_conference(bob, "room", protected()).unwrap();
    assert_eq!(again.owner_token, None);
    assert_eq!(participant(&p, conf, "bob").status, S::Kicked);
    // Even a token the platform minted (had it leaked) cannot move KICKED.
    let (forged, _) = mint_at("bob", conf, PermissionSet::ALL, p.now());
    assert!(p.join(bob, conf, Some(&forged)).is_err());
    assert_eq!(participant(&p, conf, "bob").status, S::Kicked);
}

/// What the users got: token -> the user it reached, and (user, text) of
/// every event, result and error each user saw.
#[derive(Default)]
struct Seen {
    reached: BTreeMap<String, String>,
    texts: Vec<(String, String)>,
}

impl Seen {
    fn events(&mut self, p: &Platform, sessions: &[(&str, SessionId)]) {
        for (user, sid) in sessions {
            for e in drain(p, *sid) {
                for t in tokens_in(std::slice::from_ref(&e)) {
                    self.reached.insert(t, (*user).to_owned());
                }
                self.texts
                    .push(((*user).to_owned(), format!("{} {e:?}", e.to_json())));
            }
        }
    }

    fn text(&mut self, user: &str, text: impl std::fmt::Debug) {
        self.texts.push((user.to_owned(), format!("{text:?}")));
    }

    fn token_of(&self, user: &str) -> String {
        self.reached
            .iter()
            .rev()
            .find(|(_, u)| u.as_str() == user)
            .map(|(t, _)| t.clone())
            .unwrap_or_else(|| panic!("no token reached {user}"))
    }
}

/// No event, result, error or Debug output given to one user carries a token
/// issued to another, across invitations, re-invitations, permission updates,
/// refreshes, REST fresh tokens, kicks and create-again.
#[test]
fn held_no_user_ever_sees_another_users_token() {
    let (p, clock) = platform();
    let (alice, conf) = protected_room(&p);
    let bob = open(&p, "bob", "Bob");
    let bob_phone = open(&p, "bob", "Bob");
    let carol = open(&p, "carol", "Carol");
    let lena = open(&p, "lena", "Lena");
    let erin = open(&p, "erin", "Erin");
    let sessions = [
        ("alice", alice),
        ("bob", bob),
        ("bob", bob_phone),
        ("carol", carol),
        ("lena", lena),
        ("erin", erin),
    ];
    let mut seen = Seen::default();
    let mod_set = PermissionSet::ALL.without(P::UpdatePermissions);
    let r = p.invite(
        alice,
        conf,
        &[
            invitee("bob", Some(mod_set)),
            invitee("carol", None),
            invitee("lena", None),
        ],
    );
    seen.text("alice", r);
    seen.events(&p, &sessions);
    p.join(bob, conf, Some(&seen.token_of("bob"))).unwrap();
    p.join(carol, conf, Some(&seen.token_of("carol"))).unwrap();
    p.listen(lena, conf, Some(&seen.token_of("lena"))).unwrap();
    seen.events(&p, &sessions);
    // bob (INVITE, KICK) invites and re-invites a RESERVED one; carol tries
    // to escalate; alice narrows carol; bob kicks and re-admits lena; carol
    // creates again.
    let r = p.invite(bob, conf, &[invitee("dave", None), invitee("erin", None)]);
    seen.text("bob", r);
    let r = p.invite(bob, conf, &[invitee("erin", None)]);
    seen.text("bob", r);
    let r = p.update_permissions(carol, conf, &eid("bob"), PermissionSet::ALL);
    seen.text("carol", r);
    let r = p.update_permissions(alice, conf, &eid("carol"), perms(&[P::Join]));
    seen.text("alice", r);
    let r = p.kick(bob, conf, &eid("lena"));
    seen.text("bob", r);
    let r = p.invite(bob, conf, &[invitee("lena", None)]);
    seen.text("bob", r);
    let r = p.create_conference(carol, "room", protected());
    seen.text("carol", r);
    let r = p.join(erin, conf, Some(&seen.token_of("bob")));
    seen.text("erin", r);
    seen.events(&p, &sessions);
    // Refresh time, and the app server mints fresh tokens.
    clock.advance(TTL - 200);
    p.expire_conferences();
    let (status, body) = rest_json(
        &p,
        "POST",
        &format!("/v2/conferences/{conf}/tokens"),
        &json!({"externalIds": ["bob", "carol", "alice"]}),
    );
    assert_eq!(status, 200);
    let mut issued: BTreeMap<String, String> = body["usersTokens"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(who, t)| (t.as_str().unwrap().to_owned(), who.clone()))
        .collect();
    seen.events(&p, &sessions);
    issued.extend(seen.reached.clone());
    assert!(issued.len() >= 12, "{}", issued.len());
    // Every token reached only its own subject...
    for (t, holder) in &issued {
        let subject = verify(&p, t, conf).unwrap().subject;
        assert_eq!(subject.as_str(), holder, "a token reached {holder}");
    }
    // ... and no text any user got contains anyone else's.
    for (user, text) in &seen.texts {
        for (t, holder) in &issued {
            assert!(
                holder == user || !text.contains(t.as_str()),
                "{user} saw {holder}'s token in {text}"
            );
        }
    }
}

/// The queue cap under random interleavings of pushes, polls and drains:
/// sequence numbers strictly increase without repeats, an `eventsMissed`
/// stands for a lost run (right after the last event received, right before
/// the first one available) and one batch holds at most one, at its head;
/// every event is either received or inside a reported run. (A client that
/// takes a notice and then stops polling gets a second notice that continues
/// the first: a new loss, reported once.)
#[test]
fn held_queue_cap_under_random_polling() {
    for cap in [2usize, 3, 5, 16] {
        let (p, _) = platform_with(PlatformConfig {
            max_queued_events: cap,
            ..PlatformConfig::default()
        });
        let (alice, conf) = open_room(&p);
        let bob = open(&p, "bob", "Bob");
        p.join(bob, conf, None).unwrap();
        let mut produced: u64 = 1; // bob's own join
        let mut last_seen: u64 = 0;
        let mut received = 0u64;
        let mut lost = 0u64;
        let mut trouble = false;
        let mut rng: u64 = 0x9e37_79b9_7f4a_7c15 ^ cap as u64;
        let mut check = |events: Vec<Event>, last_seen: &mut u64| {
            let notices = events.iter().positions_of_missed();
            assert!(
                notices.is_empty() || notices == [0],
                "cap {cap}: {notices:?}"
            );
            for e in events {
                assert!(
                    e.sequence > *last_seen,
                    "cap {cap}: {e:?} after {last_seen}"
                );
                match &*e.kind {
                    EventKind::EventsMissed {
                        first_missed_sequence,
                        first_available_sequence,
                    } => {
                        assert_eq!(*first_missed_sequence, *last_seen + 1, "cap {cap}");
                        assert_eq!(e.sequence + 1, *first_available_sequence, "cap {cap}");
                        assert_eq!(e.conference_id, None);
                        lost += first_available_sequence - first_missed_sequence;
                        *last_seen = first_available_sequence - 1;
                    }
                    _ => {
                        assert_eq!(e.sequence, *last_seen + 1, "cap {cap}: a gap unreported");
                        *last_seen = e.sequence;
                        received += 1;
                    }
                }
            }
        };
        for _ in 0..3_000 {
            rng = rng
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            match (rng >> 33) % 10 {
                0..=5 => {
                    let ev = if trouble {
                        L::Recovered
                    } else {
                        L::MediaTrouble
                    };
                    trouble = !trouble;
                    p.report(alice, conf, ev).unwrap();
                    produced += 1;
                    assert!(p.pending_events(bob).unwrap() <= cap.max(2));
                }
                6..=8 => {
                    let e = p.poll_event(bob).unwrap();
                    check(e.into_iter().collect(), &mut last_seen);
                }
                _ => check(drain(&p, bob), &mut last_seen),
            }
        }
        check(drain(&p, bob), &mut last_seen);
        assert_eq!(last_seen, produced, "cap {cap}");
        assert_eq!(
            received + lost,
            produced,
            "cap {cap}: every event accounted for"
        );
        assert!(lost > 0, "cap {cap}: the test overflowed the queue");
    }
}

/// A refused operation (REST or SDK) leaves the conference, every queue and
/// `retained()` as they were, even when only the last of many targets is bad.
#[test]
fn held_refusals_change_nothing() {
    let (p, _) = platform();
    let (status, created) = rest_json(
        &p,
        "POST",
        "/v2/conferences/create",
        &json!({"ownerExternalId": "alice", "alias": "board",
                "participants": {"bob": {"permissions": ["JOIN"]}, "carol": {}, "dave": {}}}),
    );
    assert_eq!(status, 200, "{created}");
    let conf = conf_id(&created);
    let alice = open(&p, "alice", "Alice");
    p.join(alice, conf, created["ownerToken"].as_str()).unwrap();
    let bob = open(&p, "bob", "Bob");
    p.join(bob, conf, created["usersTokens"]["bob"].as_str())
        .unwrap();
    let carol = open(&p, "carol", "Carol");
    p.join(carol, conf, created["usersTokens"]["carol"].as_str())
        .unwrap();
    let kick = format!("/v2/conferences/{conf}/kick");
    assert_eq!(
        rest(&p, "POST", &kick, r#"{"externalIds": ["dave"]}"#).0,
        204
    );
    drain(&p, alice);
    drain(&p, bob);
    drain(&p, carol);
    let sessions = [alice, bob, carol];
    let before = Snapshot::take(&p, conf, &sessions);
    let retained = p.retained();
    let unchanged = |what: &str| {
        assert_eq!(Snapshot::take(&p, conf, &sessions), before, "{what}");
        assert_eq!(p.retained(), retained, "{what}");
    };
    let refusals: Vec<(&str, String, String, u16)> = vec![
        ("kick ends with a KICKED", kick.clone(), r#"{"externalIds": ["bob", "carol", "dave"]}"#.into(), 409),
        ("kick ends with the owner", kick.clone(), r#"{"externalIds": ["bob", "alice"]}"#.into(), 403),
        ("kick ends with a stranger", kick.clone(), r#"{"externalIds": ["bob", "zed"]}"#.into(), 404),
        ("kick lists twice", kick.clone(), r#"{"externalIds": ["bob", "carol", "bob"]}"#.into(), 400),
        ("permissions end with the owner", format!("/v2/conferences/{conf}/permissions"),
         r#"{"participants": {"bob": {"permissions": ["JOIN", "KICK"]}, "alice": {"permissions": []}}}"#.into(), 403),
        ("permissions end with a stranger", format!("/v2/conferences/{conf}/permissions"),
         r#"{"participants": {"bob": {"permissions": ["JOIN", "KICK"]}, "zzz": {"permissions": []}}}"#.into(), 404),
        ("permissions with an unknown name", format!("/v2/conferences/{conf}/permissions"),
         r#"{"participants": {"bob": {"permissions": ["JOIN", "FLY"]}}}"#.into(), 400),
        ("tokens end with a KICKED", format!("/v2/conferences/{conf}/tokens"),
         r#"{"externalIds": ["bob", "carol", "dave"]}"#.into(), 403),
        ("invite with an array body", format!("/v2/conferences/{conf}/invite"),
         r#"[{"eve": {}}]"#.into(), 400),
        ("create on someone else's alias", "/v2/conferences/create".into(),
         r#"{"ownerExternalId": "mallory", "alias": "BOARD", "participants": {"bob": {}}}"#.into(), 409),
        ("create-again with the owner listed", "/v2/conferences/create".into(),
         r#"{"ownerExternalId": "alice", "alias": "board", "participants": {"alice": {}}}"#.into(), 400),
    ];
    for (what, path, body, status) in refusals {
        let (got, answer) = rest(&p, "POST", &path, &body);
        assert_eq!(got, status, "{what}: {answer}");
        unchanged(what);
    }
    // SDK refusals after the plan was made (the last invitee is bad).
    let e = p.invite(bob, conf, &[invitee("eve", None), invitee("frank", None)]);
    assert_eq!(
        e.unwrap_err().code(),
        ErrorCode::NotAllowed,
        "bob lacks INVITE"
    );
    unchanged("invite without INVITE");
    let e = p.invite(alice, conf, &[invitee("eve", None), invitee("eve", None)]);
    assert_eq!(e.unwrap_err().code(), ErrorCode::InvalidArgument);
    unchanged("invite listing twice");
    let dave = open(&p, "dave", "Dave");
    let before_dave = p.pending_events(dave).unwrap();
    assert!(p
        .join(dave, conf, created["usersTokens"]["dave"].as_str())
        .is_err());
    assert_eq!(p.pending_events(dave).unwrap(), before_dave);
    unchanged("join of the KICKED");
    // After all that, the owner re-admits dave: his pre-kick token stays dead.
    p.invite(alice, conf, &[invitee("dave", Some(PermissionSet::ALL))])
        .unwrap();
    assert_eq!(
        p.join(dave, conf, created["usersTokens"]["dave"].as_str())
            .unwrap_err()
            .code(),
        ErrorCode::TokenRevoked
    );
    assert_eq!(participant(&p, conf, "dave").status, S::Reserved);
}

/// Loops a stranger or a member can run do not grow what the platform keeps:
/// join/leave loops, and a participant refreshed every few seconds by a
/// conference with a tiny token lifetime.
#[test]
fn held_loops_do_not_grow_retained_state() {
    let (p, clock) = platform();
    let baseline = p.retained();
    // Unprotected: a stranger joins and leaves 5,000 times.
    let (_alice, open_conf) = open_room(&p);
    let mallory = open(&p, "mallory", "Mallory");
    for _ in 0..5_000 {
        p.join(mallory, open_conf, None).unwrap();
        p.leave(mallory, open_conf).unwrap();
    }
    assert_eq!(p.retained(), baseline);
    assert_eq!(p.conference(open_conf).unwrap().participant_count, 2);
    // Protected: the owner joins and leaves with the owner token.
    let owner = open(&p, "olga", "Olga");
    let created = p
        .create_conference(
            owner,
            "tiny",
            ConferenceOptions {
                protected: true,
                token_ttl_secs: Some(10),
                ..ConferenceOptions::default()
            },
        )
        .unwrap();
    let conf = created.conference.id;
    let token = created.owner_token.unwrap();
    for _ in 0..1_000 {
        p.join(owner, conf, Some(&token)).unwrap();
        p.leave(owner, conf).unwrap();
    }
    let after = p.retained();
    assert_eq!(
        Retained {
            scheduled_refreshes: baseline.scheduled_refreshes,
            ..after
        },
        baseline
    );
    assert!(after.scheduled_refreshes <= 1, "{after:?}");
    // A present participant refreshed every 5 s for three hours.
    p.join(owner, conf, Some(&token)).unwrap();
    let (bob, _) = invite_and_join(&p, owner, conf, "bob", None);
    let mut peak = Retained::default();
    let mut refreshes = 0;
    for _ in 0..TTL {
        clock.advance(1);
        p.expire_conferences();
        refreshes += refreshed_sets(&drain(&p, bob)).len();
        drain(&p, owner);
        let r = p.retained();
        peak.revoked_token_ids = peak.revoked_token_ids.max(r.revoked_token_ids);
        peak.scheduled_refreshes = peak.scheduled_refreshes.max(r.scheduled_refreshes);
        peak.revoked_subjects = peak.revoked_subjects.max(r.revoked_subjects);
        peak.destroyed_conferences = peak.destroyed_conferences.max(r.destroyed_conferences);
    }
    assert!(refreshes as u64 >= TTL / 5 - 1, "{refreshes} refreshes");
    assert!(peak.scheduled_refreshes <= 4, "{peak:?}");
    assert!(peak.revoked_token_ids <= 2 * 16, "{peak:?}");
    assert_eq!((peak.revoked_subjects, peak.destroyed_conferences), (0, 0));
    p.leave(bob, conf).unwrap();
    p.leave(owner, conf).unwrap();
    clock.advance(120);
    p.expire_conferences();
    assert_eq!(p.retained(), baseline, "all of it expired");
}

/// Clock steps around kicks and refreshes: a big step forward refreshes each
/// present participant once (none for the KICKED), and a step back does not
/// repeat refreshes.
#[test]
fn held_clock_steps_around_refreshes() {
    let (p, clock) = platform();
    let (alice, conf) = protected_room(&p);
    let (bob, _) = invite_and_join(&p, alice, conf, "bob", None);
    let (carol, _) = invite_and_join(&p, alice, conf, "carol", None);
    p.kick(alice, conf, &eid("carol")).unwrap();
    drain(&p, carol);
    drain(&p, bob);
    // The clock jumps a day ahead: every present participant's token has
    // expired; each is refreshed exactly once.
    clock.advance(DAY);
    p.expire_conferences();
    p.expire_conferences();
    assert_eq!(refreshed_sets(&drain(&p, alice)), [PermissionSet::ALL]);
    assert_eq!(
        refreshed_sets(&drain(&p, bob)),
        [PermissionSet::DEFAULT_INVITEE]
    );
    assert!(drain(&p, carol).is_empty(), "KICKED: nothing");
    assert_eq!(p.retained().scheduled_refreshes, 2);
    // It steps back: nothing is sent again, nothing more is scheduled.
    clock.set(START + 10);
    p.expire_conferences();
    assert!(drain(&p, bob).is_empty());
    assert_eq!(p.retained().scheduled_refreshes, 2);
    // And forward to the next due time: one more each.
    clock.set(START + DAY + TTL - 300);
    p.expire_conferences();
    assert_eq!(refreshed_sets(&drain(&p, bob)).len(), 1);
}
