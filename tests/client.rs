//! The device half over bytes only: Clients for Alice, Bob and Carol talk to
//! one Platform through an in-memory wire that carries nothing but
//! serialized messages; and, under a wire that drops, duplicates, reorders and
//! delays, every Client's view converges to what the platform says its
//! session may see, after at most one resync round trip.

mod common;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use common::*;
use confkit::client::{Client, Update};
use confkit::event::ParticipantView;
use confkit::platform::PlatformConfig;
use confkit::wire::message::{MediaState, Op, WireInvitee};
use confkit::{
    ConferenceId, ErrorCode, ExternalId, KeyRing, ManualClock, ParticipantStatus as S, Permission,
    PermissionSet, Platform, SessionId,
};
use proptest::prelude::*;
use serde_json::Value;

/// One phone: its session on the platform and its replica.
struct Phone {
    sid: SessionId,
    client: Client,
}

impl Phone {
    fn new(p: &Platform, clock: &ManualClock, id: &str, name: &str) -> Phone {
        let sid = open(p, id, name);
        let ring = KeyRing::from_jwks(&p.jwks()).unwrap();
        Phone {
            sid,
            client: Client::new(eid(id), ring, Arc::new(clock.clone())),
        }
    }

    /// Sends a request, delivers the reply, then every event queued for the
    /// session; returns every update.
    fn send(&mut self, p: &Platform, op: Op) -> Vec<Update> {
        let out = self.client.request(op);
        let reply = p.handle_message(self.sid, &out.bytes);
        let mut updates = self.client.receive(&reply).unwrap();
        updates.extend(self.pump(p));
        updates
    }

    /// Delivers the session's queued events.
    fn pump(&mut self, p: &Platform) -> Vec<Update> {
        let mut updates = Vec::new();
        for m in p.drain_messages(self.sid).unwrap() {
            updates.extend(self.client.receive(&m).unwrap());
        }
        updates
    }

    fn status_of(&self, conf: ConferenceId, who: &str) -> Option<S> {
        self.client
            .conference(conf)?
            .participants
            .get(&eid(who))
            .map(|v| v.status)
    }
}

fn succeeded(updates: &[Update]) -> Value {
    updates
        .iter()
        .find_map(|u| match u {
            Update::RequestSucceeded { result, .. } => Some(result.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no success in {updates:?}"))
}

fn failed(updates: &[Update]) -> ErrorCode {
    updates
        .iter()
        .find_map(|u| match u {
            Update::RequestFailed { error, .. } => error.code(),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no failure in {updates:?}"))
}

fn join(conf: ConferenceId, token: Option<String>) -> Op {
    Op::Join {
        conference_id: conf.to_string(),
        token,
    }
}

fn media(conf: ConferenceId, state: MediaState) -> Op {
    Op::MediaState {
        conference_id: conf.to_string(),
        state,
    }
}

/// The platform's projection of what a session may see, as a client keeps it.
fn projection(
    p: &Platform,
    sid: SessionId,
) -> BTreeMap<ConferenceId, (BTreeMap<ExternalId, ParticipantView>, PermissionSet)> {
    p.snapshot(sid)
        .unwrap()
        .conferences
        .into_iter()
        .map(|c| {
            let people = c
                .participants
                .into_iter()
                .map(|x| (x.view.external_id.clone(), x.view))
                .collect();
            (c.conference_id, (people, c.my_permissions))
        })
        .collect()
}

fn client_view(
    c: &Client,
) -> BTreeMap<ConferenceId, (BTreeMap<ExternalId, ParticipantView>, PermissionSet)> {
    c.conferences()
        .filter(|(_, v)| v.joined)
        .map(|(id, v)| (*id, (v.participants.clone(), v.my_permissions)))
        .collect()
}

#[test]
fn the_seed_flows_from_the_phones_side_over_bytes_only() {
    let (p, clock) = platform_idle(30);
    let mut alice = Phone::new(&p, &clock, "alice", "Alice");
    let mut bob = Phone::new(&p, &clock, "bob", "Bob");
    let mut carol = Phone::new(&p, &clock, "carol", "Carol");

    // Alice creates and joins.
    let created = succeeded(&alice.send(
        &p,
        Op::Create {
            alias: "team-sync".into(),
            protected: true,
            audio_only: false,
            participant_limit: None,
            empty_ttl_secs: None,
            token_ttl_secs: None,
        },
    ));
    let conf = ConferenceId::parse(created["conference"]["id"].as_str().unwrap()).unwrap();
    let owner_token = created["ownerToken"].as_str().map(str::to_owned);
    alice.send(&p, join(conf, owner_token));
    alice.send(&p, media(conf, MediaState::Connected));
    assert_eq!(alice.status_of(conf, "alice"), Some(S::OnAir));
    assert!(alice.client.may(conf, Permission::Kick));

    // Alice invites Bob (default set) and Carol (JOIN and SEND_AUDIO).
    let carol_set = PermissionSet::of(&[Permission::Join, Permission::SendAudio]);
    let invited = succeeded(&alice.send(
        &p,
        Op::Invite {
            conference_id: conf.to_string(),
            invitees: vec![
                WireInvitee {
                    external_id: eid("bob"),
                    permissions: None,
                },
                WireInvitee {
                    external_id: eid("carol"),
                    permissions: Some(carol_set),
                },
            ],
        },
    ));
    assert!(
        !invited.to_string().contains("eyJ"),
        "no token for the inviter"
    );
    assert_eq!(alice.status_of(conf, "bob"), Some(S::Reserved));
    assert_eq!(alice.status_of(conf, "carol"), Some(S::Reserved));

    // Each phone gets its invitation, verified offline, and joins with it.
    for (phone, set) in [
        (&mut bob, PermissionSet::DEFAULT_INVITEE),
        (&mut carol, carol_set),
    ] {
        phone.pump(&p);
        let invitation = phone.client.inbox().last().cloned().expect("an invitation");
        assert_eq!(invitation.permissions, Some(set));
        let updates = phone.send(&p, join(conf, invitation.token));
        // Joining late, the phone sees Alice ON_AIR at once (the roster).
        assert!(updates.iter().any(|u| matches!(u,
            Update::ParticipantAdded { participant, .. }
                if participant.external_id.as_str() == "alice" && participant.status == S::OnAir)));
        assert_eq!(phone.status_of(conf, "alice"), Some(S::OnAir));
        phone.send(&p, media(conf, MediaState::Connected));
    }
    for phone in [&mut alice, &mut bob, &mut carol] {
        phone.pump(&p);
    }
    for phone in [&alice, &bob, &carol] {
        for who in ["alice", "bob", "carol"] {
            assert_eq!(phone.status_of(conf, who), Some(S::OnAir), "{who}");
        }
        assert_eq!(client_view(&phone.client), projection(&p, phone.sid));
    }
    // Alice saw each invitee go RESERVED → CONNECTING → ON_AIR.

    // A permission update flips Bob's may(INVITE).
    assert!(!bob.client.may(conf, Permission::Invite));
    alice.send(
        &p,
        Op::UpdatePermissions {
            conference_id: conf.to_string(),
            external_id: eid("bob"),
            permissions: PermissionSet::DEFAULT_INVITEE.with(Permission::Invite),
        },
    );
    bob.pump(&p);
    assert!(bob.client.may(conf, Permission::Invite));

    // A kick turns Bob's view to KICKED; his rejoin fails with TOKEN_REVOKED.
    let bob_token = bob.client.inbox().last().and_then(|i| i.token.clone());
    alice.send(
        &p,
        Op::Kick {
            conference_id: conf.to_string(),
            external_id: eid("bob"),
        },
    );
    bob.pump(&p);
    carol.pump(&p);
    assert_eq!(bob.status_of(conf, "bob"), Some(S::Kicked));
    assert_eq!(carol.status_of(conf, "bob"), Some(S::Kicked));
    assert!(!bob.client.may(conf, Permission::Join));
    assert_eq!(
        failed(&bob.send(&p, join(conf, bob_token))),
        ErrorCode::TokenRevoked
    );

    // The REST path: a token handed over out of band joins the same way.
    let (status, body) = rest(
        &p,
        "POST",
        &format!("/v2/conferences/{conf}/invite"),
        r#"{"participants": {"dave": {}}}"#,
    );
    assert_eq!(status, 200);
    let mut dave = Phone::new(&p, &clock, "dave", "Dave");
    let token = body["usersTokens"]["dave"].as_str().map(str::to_owned);
    dave.send(&p, join(conf, token));
    assert_eq!(dave.status_of(conf, "carol"), Some(S::OnAir));
    assert_eq!(client_view(&dave.client), projection(&p, dave.sid));

    // A phone that goes silent becomes LEFT in everyone's view after the idle time.
    clock.advance(20);
    for phone in [&mut alice, &mut carol] {
        phone.send(&p, Op::KeepAlive {});
    }
    clock.advance(15); // dave: 35 s of silence
    p.expire_conferences();
    for phone in [&mut alice, &mut carol] {
        phone.pump(&p);
        assert_eq!(phone.status_of(conf, "dave"), Some(S::Left), "no ghost");
        assert_eq!(phone.status_of(conf, "carol"), Some(S::OnAir));
    }
    assert!(
        p.session_info(dave.sid).is_err(),
        "dave's session is closed"
    );
}

/// A platform whose wire sessions close after `idle` seconds of silence.
fn platform_idle(idle: u64) -> (Platform, ManualClock) {
    let clock = ManualClock::new(START);
    let config = PlatformConfig {
        session_idle_secs: idle,
        ..PlatformConfig::default()
    };
    (
        Platform::with_config(signing_key(), Arc::new(clock.clone()), config),
        clock,
    )
}

#[test]
fn a_gap_stops_deltas_and_one_resync_brings_the_view_back() {
    let (p, clock) = platform_idle(0);
    let mut alice = Phone::new(&p, &clock, "alice", "Alice");
    let mut bob = Phone::new(&p, &clock, "bob", "Bob");
    let created = succeeded(&alice.send(
        &p,
        Op::Create {
            alias: "room".into(),
            protected: false,
            audio_only: false,
            participant_limit: None,
            empty_ttl_secs: None,
            token_ttl_secs: None,
        },
    ));
    let conf = ConferenceId::parse(created["conference"]["id"].as_str().unwrap()).unwrap();
    alice.send(&p, join(conf, None));
    bob.send(&p, join(conf, None));
    alice.pump(&p);
    // Two events for alice; the first is lost on the way.
    bob.send(&p, media(conf, MediaState::Connected));
    bob.send(&p, media(conf, MediaState::Warning));
    let messages = p.drain_messages(alice.sid).unwrap();
    assert_eq!(messages.len(), 2);
    let updates = alice.client.receive(&messages[1]).unwrap();
    assert!(matches!(updates[..], [Update::Gap { .. }]), "{updates:?}");
    assert!(alice.client.is_stalled());
    assert_eq!(
        alice.status_of(conf, "bob"),
        Some(S::Connecting),
        "no delta applied"
    );
    // A duplicate of an applied event changes nothing and says so.
    let resync = alice.client.resync_request();
    let reply = p.handle_message(alice.sid, &resync.bytes);
    let updates = alice.client.receive(&reply).unwrap();
    assert!(
        updates.contains(&Update::Resynced { snapshot: false }),
        "{updates:?}"
    );
    assert_eq!(alice.status_of(conf, "bob"), Some(S::Warning));
    assert!(!alice.client.is_stalled());
    let again = alice.client.receive(&messages[1]).unwrap();
    assert!(matches!(again[..], [Update::Duplicate { .. }]));
    assert_eq!(client_view(&alice.client), projection(&p, alice.sid));
}

#[test]
fn a_token_that_fails_verification_is_refused_and_changes_nothing() {
    let (p, clock) = platform_idle(0);
    let mut bob = Phone::new(&p, &clock, "bob", "Bob");
    let conf = ConferenceId::random();
    let (forged, _) = mint_at("mallory", conf, PermissionSet::ALL, START);
    let message = serde_json::json!({"v": 1, "type": "event", "sequence": 1, "conferenceId": conf,
        "event": {"type": "invitationReceived", "conferenceAlias": "x",
            "inviter": {"externalId": "eve", "name": ""}, "token": forged, "permissions": ["JOIN"]}});
    let err = bob
        .client
        .receive(message.to_string().as_bytes())
        .unwrap_err();
    assert!(
        matches!(err, confkit::client::ClientError::TokenSubject(_)),
        "{err}"
    );
    assert!(bob.client.inbox().is_empty());
    assert_eq!(bob.client.last_sequence(), 0);
    // Bad bytes: a typed error, nothing changes.
    for bad in [
        &b"{"[..],
        b"[]",
        br#"{"v":9,"type":"event"}"#,
        br#"{"v":1,"type":"nope"}"#,
    ] {
        assert!(bob.client.receive(bad).is_err());
    }
    // An unknown event type is skipped and still counted.
    let unknown = serde_json::json!({"v": 1, "type": "event", "sequence": 1, "conferenceId": conf,
        "event": {"type": "reactionSent", "emoji": "+1"}});
    let updates = bob.client.receive(unknown.to_string().as_bytes()).unwrap();
    assert!(matches!(
        &updates[..],
        [Update::Skipped { sequence: 1, .. }]
    ));
    assert_eq!(bob.client.last_sequence(), 1);
    let _ = bob.sid;
}

/// The client reads an event the same whatever the order of its members (its
/// fast reader wants `type` first, as the platform writes it), ignores
/// members it does not know, and skips a known type it cannot read.
#[test]
fn an_event_reads_the_same_in_any_member_order() {
    let (p, clock) = platform_idle(0);
    let conf = ConferenceId::random();
    let participant = serde_json::json!({"externalId": "carol", "name": "Carol", "status": "CONNECTING",
        "type": "USER", "permissions": ["JOIN"], "mood": "new member"});
    let in_order = serde_json::json!({"v": 1, "type": "event", "sequence": 1, "conferenceId": conf,
        "event": {"type": "participantAdded", "participant": participant}});
    let tag_last = format!(
        r#"{{"event":{{"participant":{participant},"type":"participantAdded"}},"conferenceId":"{conf}","sequence":1,"type":"event","v":1}}"#
    );
    let mut a = Phone::new(&p, &clock, "bob", "Bob");
    let mut b = Phone::new(&p, &clock, "bob", "Bob");
    let ua = a.client.receive(in_order.to_string().as_bytes()).unwrap();
    let ub = b.client.receive(tag_last.as_bytes()).unwrap();
    assert_eq!(ua, ub);
    assert!(
        matches!(&ua[..], [Update::ParticipantAdded { participant, .. }] if participant.name == "Carol")
    );
    assert_eq!(
        a.client.conference(conf).unwrap().participants,
        b.client.conference(conf).unwrap().participants
    );
    // A known type in a shape this library cannot read: skipped, counted.
    let odd = serde_json::json!({"v": 1, "type": "event", "sequence": 2, "conferenceId": conf,
        "event": {"type": "participantAdded", "participant": 7}});
    let updates = a.client.receive(odd.to_string().as_bytes()).unwrap();
    assert!(
        matches!(&updates[..], [Update::Skipped { sequence: 2, type_name }] if type_name == "participantAdded"),
        "{updates:?}"
    );
    assert_eq!(a.client.last_sequence(), 2);
    assert_eq!(a.client.conference(conf).unwrap().participants.len(), 1);
}

// ---------------------------------------------------------------------------
// Convergence under faults
// ---------------------------------------------------------------------------

/// One step of a schedule.
#[derive(Debug, Clone)]
enum Step {
    /// Phone `who` does operation `op` on `target`.
    Act { who: usize, op: u8, target: usize },
    /// Server messages for `who` are taken from the platform into the wire.
    Pump { who: usize },
    /// The wire delivers, drops, duplicates or swaps the next message of `who`.
    Wire { who: usize, fault: u8 },
    /// `who` loses everything in flight (a disconnect), then resyncs.
    Reconnect { who: usize },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0usize..8, 0u8..10, 0usize..8).prop_map(|(who, op, target)| Step::Act { who, op, target }),
        3 => (0usize..8).prop_map(|who| Step::Pump { who }),
        5 => (0usize..8, 0u8..10).prop_map(|(who, fault)| Step::Wire { who, fault }),
        1 => (0usize..8).prop_map(|who| Step::Reconnect { who }),
    ]
}

struct Device {
    phone: Phone,
    /// Server → device messages in flight.
    inbound: VecDeque<Vec<u8>>,
}

fn run_schedule(n: usize, steps: &[Step]) -> Result<(), TestCaseError> {
    let (p, clock) = platform_idle(0);
    let mut devices: Vec<Device> = (0..n)
        .map(|i| Device {
            phone: Phone::new(&p, &clock, &format!("u{i}"), &format!("User {i}")),
            inbound: VecDeque::new(),
        })
        .collect();
    let owner = devices[0].phone.sid;
    let conf = p
        .create_conference(owner, "chaos", unprotected())
        .unwrap()
        .conference
        .id;
    let users: Vec<String> = (0..n).map(|i| format!("u{i}")).collect();
    for step in steps {
        match *step {
            Step::Act { who, op, target } => {
                let d = &mut devices[who % n];
                let target = eid(&users[target % n]);
                let c = conf.to_string();
                let op = match op {
                    0 | 1 => Op::Join {
                        conference_id: c,
                        token: None,
                    },
                    2 => Op::Listen {
                        conference_id: c,
                        token: None,
                    },
                    3 => Op::MediaState {
                        conference_id: c,
                        state: MediaState::Connected,
                    },
                    4 => Op::Leave { conference_id: c },
                    5 => Op::Invite {
                        conference_id: c,
                        invitees: vec![WireInvitee {
                            external_id: target,
                            permissions: None,
                        }],
                    },
                    6 => Op::Kick {
                        conference_id: c,
                        external_id: target,
                    },
                    7 => Op::UpdatePermissions {
                        conference_id: c,
                        external_id: target,
                        permissions: PermissionSet::of(&[
                            Permission::Join,
                            Permission::Invite,
                            Permission::Kick,
                        ]),
                    },
                    8 => Op::Decline { conference_id: c },
                    _ => Op::MediaState {
                        conference_id: c,
                        state: MediaState::Warning,
                    },
                };
                let out = d.phone.client.request(op);
                let reply = p.handle_message(d.phone.sid, &out.bytes);
                d.inbound.push_back(reply);
            }
            Step::Pump { who } => {
                let d = &mut devices[who % n];
                d.inbound.extend(p.drain_messages(d.phone.sid).unwrap());
            }
            Step::Wire { who, fault } => {
                let d = &mut devices[who % n];
                let Some(m) = d.inbound.pop_front() else {
                    continue;
                };
                match fault {
                    0 => {}                      // dropped
                    1 => d.inbound.push_back(m), // delayed
                    2 => {
                        // duplicated
                        d.inbound.push_front(m.clone());
                        feed(&mut d.phone, &m)?;
                    }
                    3 => {
                        // reordered
                        if let Some(next) = d.inbound.pop_front() {
                            feed(&mut d.phone, &next)?;
                        }
                        feed(&mut d.phone, &m)?;
                    }
                    _ => feed(&mut d.phone, &m)?,
                }
            }
            Step::Reconnect { who } => {
                let d = &mut devices[who % n];
                d.inbound.clear();
                let out = d.phone.client.resync_request();
                let reply = p.handle_message(d.phone.sid, &out.bytes);
                d.inbound.push_back(reply);
            }
        }
    }
    // The faults stop: everything in flight arrives, in order; then one
    // resync round trip per device.
    for d in &mut devices {
        while let Some(m) = d.inbound.pop_front() {
            feed(&mut d.phone, &m)?;
        }
        d.inbound.extend(p.drain_messages(d.phone.sid).unwrap());
        while let Some(m) = d.inbound.pop_front() {
            feed(&mut d.phone, &m)?;
        }
        let out = d.phone.client.resync_request();
        let reply = p.handle_message(d.phone.sid, &out.bytes);
        feed(&mut d.phone, &reply)?;
        for m in p.drain_messages(d.phone.sid).unwrap() {
            feed(&mut d.phone, &m)?;
        }
        prop_assert!(
            !d.phone.client.is_stalled(),
            "still stalled after one resync"
        );
        let shown = client_view(&d.phone.client);
        let truth = projection(&p, d.phone.sid);
        prop_assert_eq!(&shown, &truth, "device {:?}", d.phone.sid);
        // may() agrees with the set the server holds (unprotected conference).
        for (id, (_, perms)) in &truth {
            for perm in Permission::ALL {
                prop_assert_eq!(d.phone.client.may(*id, perm), perms.contains(perm));
            }
        }
    }
    Ok(())
}

fn feed(phone: &mut Phone, bytes: &[u8]) -> Result<(), TestCaseError> {
    phone
        .client
        .receive(bytes)
        .map(|_| ())
        .map_err(|e| TestCaseError::fail(format!("a server message was refused: {e}")))
}

fn cases() -> u32 {
    std::env::var("CONFKIT_CONVERGENCE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// 3–8 sessions, random operations, a wire that drops, duplicates,
    /// reorders and delays, disconnects and resumes: afterwards every view
    /// equals the platform's projection for its session. A failing schedule
    /// prints as the `n` and `steps` to paste into `run_schedule`.
    #[test]
    fn every_view_converges_after_one_resync(n in 3usize..=8, steps in proptest::collection::vec(step(), 0..60)) {
        run_schedule(n, &steps)?;
    }
}

#[test]
fn regression_a_late_snapshot_does_not_set_the_view_back() {
    let steps = vec![
        Step::Act {
            who: 0,
            op: 2,
            target: 0,
        },
        Step::Act {
            who: 5,
            op: 0,
            target: 0,
        },
        Step::Reconnect { who: 5 },
        Step::Act {
            who: 5,
            op: 2,
            target: 0,
        },
        Step::Wire { who: 5, fault: 1 },
    ];
    run_schedule(6, &steps).unwrap();
}

#[test]
fn regression_listen_after_reconnect() {
    let steps = vec![
        Step::Act {
            who: 1,
            op: 2,
            target: 0,
        },
        Step::Act {
            who: 0,
            op: 0,
            target: 0,
        },
        Step::Act {
            who: 2,
            op: 0,
            target: 0,
        },
        Step::Reconnect { who: 3 },
        Step::Act {
            who: 3,
            op: 2,
            target: 0,
        },
    ];
    run_schedule(3, &steps).unwrap();
}
