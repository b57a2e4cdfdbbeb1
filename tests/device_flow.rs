//! The scripted device flow shared by the Rust, C and Kotlin tests:
//! `tests/fixtures/wire/flows/bob.flow` holds every message Bob's phone
//! received in one session (invitation, join, media, Carol arriving, a
//! permission update, a lost event and its resync, a kick, a refused
//! rejoin), the requests it sent, and after each message the updates it
//! produced and its view. Each language replays the file through its own API
//! and must arrive at the same lines.
//!
//! The file is a recording: `CONFKIT_BLESS=1 cargo test --test device_flow`
//! records it again from a live platform (conference IDs and tokens change).
//!
//! Lines (one space after the keyword; a message is one line of JSON):
//! - `me <externalId>`, `now <unix seconds>`, `jwks <JWK set JSON>`: set up
//!   the client, before anything else;
//! - `send join <conf> inbox|none`, `send media <conf> CONNECTED`,
//!   `send resync`: the client builds that request (its bytes are not
//!   needed: the recorded replies follow; a request's id is its position);
//! - `recv <message>`: a message from the server, followed by
//!   `updates <token> ...` (what `receive` returned, each token
//!   `kind[:detail]`) and one `view ...` line per conference the client knows;
//! - `# ...`: a comment.

mod common;

use std::fmt::Write as _;
use std::num::NonZeroU64;
use std::sync::Arc;

use common::*;
use confkit::client::{Client, ConferenceView, Update};
use confkit::wire::message::{MediaState, Op};
use confkit::{
    ConferenceId, ExternalId, KeyRing, LifecycleEvent, ManualClock, Permission, PermissionSet,
    Platform, SessionId,
};

const FLOW: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/wire/flows/bob.flow"
);

/// An update as a fixture token: its kind, and the one detail every
/// language can read back the same way.
fn token(u: &Update) -> String {
    let v = serde_json::to_value(u).unwrap();
    let kind = v["kind"].as_str().unwrap().to_owned();
    let detail = match u {
        Update::ParticipantAdded { participant, .. }
        | Update::ParticipantUpdated { participant, .. } => {
            format!("{}:{}", participant.external_id, participant.status.name())
        }
        Update::ParticipantRemoved { external_id, .. } => external_id.to_string(),
        Update::MyStatusChanged { new, .. } => new.name().to_owned(),
        Update::MyPermissionsChanged { permissions, .. } => format!("{:03x}", permissions.bits()),
        Update::InvitationReceived(i) => i.inviter.external_id().to_string(),
        Update::RequestFailed { error, .. } => error.error_reason.clone(),
        Update::Gap { expected, .. } => expected.to_string(),
        _ => return kind,
    };
    format!("{kind}:{detail}")
}

/// A conference view as a fixture line.
fn view_line(c: &Client, id: ConferenceId, v: &ConferenceView) -> String {
    let may = Permission::ALL
        .iter()
        .filter(|p| c.may(id, **p))
        .fold(0u32, |bits, p| bits | (1 << p.bit()));
    let mut line = format!(
        "view {id} alias={} joined={} ended={} my={} perms={:03x} may={may:03x} people=",
        v.alias.as_deref().unwrap_or("-"),
        u8::from(v.joined),
        u8::from(v.ended),
        v.my_status.map_or("-", |s| s.name()),
        v.my_permissions.bits(),
    );
    let people: Vec<String> = v
        .participants
        .values()
        .map(|p| {
            format!(
                "{}:{}:{}:{:03x}",
                p.external_id,
                p.status.name(),
                p.participant_type.name(),
                p.permissions.bits()
            )
        })
        .collect();
    line.push_str(&people.join(","));
    line
}

fn views(c: &Client) -> Vec<String> {
    c.conferences()
        .map(|(id, v)| view_line(c, *id, v))
        .collect()
}

/// Bob's phone, recording what it sends and receives.
struct Recorder {
    sid: SessionId,
    client: Client,
    out: String,
}

impl Recorder {
    fn recv(&mut self, message: &[u8]) {
        let updates = self.client.receive(message).unwrap();
        writeln!(self.out, "recv {}", std::str::from_utf8(message).unwrap()).unwrap();
        let tokens: Vec<String> = updates.iter().map(token).collect();
        writeln!(self.out, "updates {}", tokens.join(" ")).unwrap();
        for line in views(&self.client) {
            writeln!(self.out, "{line}").unwrap();
        }
    }

    fn pump(&mut self, p: &Platform) {
        for m in p.drain_messages(self.sid).unwrap() {
            self.recv(&m);
        }
    }

    fn send(&mut self, p: &Platform, line: &str, op: Op) {
        writeln!(self.out, "send {line}").unwrap();
        let out = self.client.request(op);
        let reply = p.handle_message(self.sid, &out.bytes);
        self.recv(&reply);
        self.pump(p);
    }

    fn resync(&mut self, p: &Platform) {
        writeln!(self.out, "send resync").unwrap();
        let out = self.client.resync_request();
        let reply = p.handle_message(self.sid, &out.bytes);
        self.recv(&reply);
        self.pump(p);
    }

    fn inbox_token(&self, conf: ConferenceId) -> Option<String> {
        self.client
            .inbox()
            .iter()
            .rev()
            .find(|i| i.conference_id == conf)
            .and_then(|i| i.token.clone())
    }
}

fn record() -> String {
    let (p, clock) = platform();
    let alice = open(&p, "alice", "Alice");
    let carol = open(&p, "carol", "Carol");
    let bob_sid = open(&p, "bob", "Bob");
    let ring = KeyRing::from_jwks(&p.jwks()).unwrap();
    let mut client = Client::new(eid("bob"), ring, Arc::new(clock.clone()));
    // The recorded ids are c1, c2, ...: every replay numbers from 1 too.
    client.set_next_request_number(NonZeroU64::MIN);
    let mut bob = Recorder {
        sid: bob_sid,
        client,
        out: String::new(),
    };
    writeln!(bob.out, "# Recorded by tests/device_flow.rs (CONFKIT_BLESS=1); replayed by the Rust, C and Kotlin tests.").unwrap();
    writeln!(bob.out, "me bob").unwrap();
    writeln!(bob.out, "now {}", clock.now()).unwrap();
    writeln!(
        bob.out,
        "jwks {}",
        serde_json::to_string(&p.jwks()).unwrap()
    )
    .unwrap();

    // Alice creates a protected conference and joins; she invites Bob and
    // Carol (Carol with JOIN and SEND_AUDIO).
    let created = p.create_conference(alice, "standup", protected()).unwrap();
    let conf = created.conference.id;
    p.join(alice, conf, created.owner_token.as_deref()).unwrap();
    p.report(alice, conf, LifecycleEvent::Connected).unwrap();
    let carol_perms = PermissionSet::EMPTY
        .with(Permission::Join)
        .with(Permission::SendAudio);
    p.invite(
        alice,
        conf,
        &[invitee("bob", None), invitee("carol", Some(carol_perms))],
    )
    .unwrap();
    writeln!(bob.out, "# Bob is invited.").unwrap();
    bob.pump(&p);
    writeln!(
        bob.out,
        "# Bob joins with the invitation's token, then his media connects."
    )
    .unwrap();
    let token = bob.inbox_token(conf);
    bob.send(
        &p,
        &format!("join {conf} inbox"),
        Op::Join {
            conference_id: conf.to_string(),
            token,
        },
    );
    bob.send(
        &p,
        &format!("media {conf} CONNECTED"),
        Op::MediaState {
            conference_id: conf.to_string(),
            state: MediaState::Connected,
        },
    );
    writeln!(bob.out, "# Carol joins and connects.").unwrap();
    let carol_token = invitation_token(&p, carol);
    p.join(carol, conf, Some(&carol_token)).unwrap();
    bob.pump(&p);
    p.report(carol, conf, LifecycleEvent::Connected).unwrap();
    bob.pump(&p);
    writeln!(
        bob.out,
        "# Alice lets Bob invite: a new token, verified offline, flips may(INVITE)."
    )
    .unwrap();
    p.update_permissions(
        alice,
        conf,
        &eid("bob"),
        PermissionSet::DEFAULT_INVITEE.with(Permission::Invite),
    )
    .unwrap();
    bob.pump(&p);
    writeln!(
        bob.out,
        "# One event is lost on the way (Carol's media trouble); the next shows the gap."
    )
    .unwrap();
    p.report(carol, conf, LifecycleEvent::MediaTrouble).unwrap();
    let lost = p.drain_messages(bob.sid).unwrap();
    assert_eq!(lost.len(), 1);
    p.report(carol, conf, LifecycleEvent::Recovered).unwrap();
    bob.pump(&p);
    bob.resync(&p);
    writeln!(
        bob.out,
        "# Alice kicks Bob; his rejoin with the old token is refused."
    )
    .unwrap();
    p.kick(alice, conf, &eid("bob")).unwrap();
    bob.pump(&p);
    let token = bob.inbox_token(conf);
    bob.send(
        &p,
        &format!("join {conf} inbox"),
        Op::Join {
            conference_id: conf.to_string(),
            token,
        },
    );
    bob.out
}

/// Replays the fixture into a fresh client; returns the lines it produced
/// (the same grammar), to compare with the file.
fn replay(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut me, mut now, mut jwks) = (None, None, None);
    let mut client: Option<Client> = None;
    for line in text.lines() {
        let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
        match key {
            "#" => continue,
            "me" => me = Some(rest.to_owned()),
            "now" => {
                assert!(
                    client.is_none(),
                    "the clock is set once, before the first message"
                );
                now = Some(rest.parse::<u64>().unwrap());
            }
            "jwks" => jwks = Some(rest.to_owned()),
            "send" | "recv" => {
                let c = client.get_or_insert_with(|| {
                    let ring = KeyRing::from_jwks_json(jwks.as_deref().unwrap()).unwrap();
                    let clock = ManualClock::new(now.unwrap());
                    let mut c = Client::new(
                        ExternalId::new(me.clone().unwrap()).unwrap(),
                        ring,
                        Arc::new(clock),
                    );
                    c.set_next_request_number(NonZeroU64::MIN);
                    c
                });
                if key == "send" {
                    let words: Vec<&str> = rest.split(' ').collect();
                    let _ = match words[..] {
                        ["join", conf, how] => {
                            let conf = ConferenceId::parse(conf).unwrap();
                            let token = match how {
                                "inbox" => Some(
                                    c.inbox()
                                        .iter()
                                        .rev()
                                        .find(|i| i.conference_id == conf)
                                        .and_then(|i| i.token.clone())
                                        .expect("an invitation with a token in the inbox"),
                                ),
                                "none" => None,
                                _ => panic!("unknown join source in {line:?}"),
                            };
                            c.request(Op::Join {
                                conference_id: conf.to_string(),
                                token,
                            })
                        }
                        ["media", conf, "CONNECTED"] => c.request(Op::MediaState {
                            conference_id: conf.to_owned(),
                            state: MediaState::Connected,
                        }),
                        ["resync"] => c.resync_request(),
                        _ => panic!("unknown send line {line:?}"),
                    };
                    out.push(line.to_owned());
                } else {
                    let updates = c.receive(rest.as_bytes()).unwrap();
                    out.push(line.to_owned());
                    let tokens: Vec<String> = updates.iter().map(token).collect();
                    out.push(format!("updates {}", tokens.join(" ")));
                    out.extend(views(c));
                }
            }
            "updates" | "view" => {}
            other => panic!("unknown line {other:?}"),
        }
    }
    out
}

fn expected(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| {
            !(l.starts_with("# ")
                || l.starts_with("me ")
                || l.starts_with("now ")
                || l.starts_with("jwks "))
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_recorded_device_flow_replays_to_the_same_views() {
    if std::env::var("CONFKIT_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(FLOW, record()).unwrap();
    }
    let text = std::fs::read_to_string(FLOW).unwrap();
    let got = replay(&text);
    let want = expected(&text);
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "line {} of the flow's replayable lines", i + 1);
    }
    assert_eq!(got.len(), want.len());
    // The flow shows what it promises.
    for needle in [
        "updates invitationReceived:alice",
        "participantAdded:bob:CONNECTING",
        "participantAdded:carol:RESERVED",
        "participantUpdated:carol:CONNECTING",
        "participantUpdated:bob:ON_AIR",
        "participantUpdated:carol:ON_AIR",
        "myPermissionsChanged:",
        "gap:",
        "resynced",
        "participantUpdated:bob:KICKED",
        "requestFailed:TOKEN_REVOKED",
    ] {
        assert!(text.contains(needle), "the flow lacks {needle}");
    }
}

#[test]
fn a_fresh_recording_has_the_same_shape() {
    // Conference IDs, tokens and the key set change between recordings; the
    // updates and the views (IDs aside) must not.
    if std::env::var("CONFKIT_BLESS").is_ok_and(|v| v == "1") {
        return; // the other test is writing the file
    }
    let shape = |text: &str| -> Vec<String> {
        expected(text)
            .into_iter()
            .filter(|l| !l.starts_with("recv "))
            .map(|l| {
                l.split(' ')
                    .map(|w| {
                        if ConferenceId::parse(w).is_ok() {
                            "<conf>"
                        } else {
                            w
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    let committed = std::fs::read_to_string(FLOW).unwrap();
    assert_eq!(shape(&record()), shape(&committed));
}
