//! Convergence of the device replicas (`Client`) with the authority under a
//! faulty wire: the coverage-guided sibling of `tests/client.rs`'s
//! `every_view_converges_after_one_resync` property, with protected
//! conferences (tokens verified offline) and app restarts added.
//!
//! Input (`confkit_fuzz::sync::Input`, structured with `arbitrary`): 3 to 6
//! devices (one session and one Client each), whether the conference is
//! protected, and a schedule: operations (join / listen / media / leave /
//! decline / invite / kick / permission updates, each as wire bytes), the
//! session's events going onto the wire, the wire delivering, dropping,
//! delaying, duplicating or swapping messages, disconnects (what is in
//! flight is lost, then a resync), restarts (the app starts again and
//! resumes its session with a fresh Client, which resyncs: its request ids
//! must not be taken for its predecessor's retransmissions).
//!
//! Oracle:
//! - no message the server sent is ever refused by a Client;
//! - when the faults stop (everything in flight arrives in order, then one
//!   resync round trip per device), no Client is stalled, and every view
//!   equals the platform's projection for its session (each conference it
//!   is in: the participants it may see, and its permissions), and `may`
//!   agrees with those permissions.
#![no_main]

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use confkit::client::Client;
use confkit::event::ParticipantView;
use confkit::platform::{ConferenceOptions, PlatformConfig};
use confkit::wire::message::{MediaState, Op, WireInvitee};
use confkit::{
    ConferenceId, ExternalId, KeyRing, ManualClock, ParticipantInfo, Permission, PermissionSet,
    Platform, SessionId,
};
use confkit_fuzz::sync::{Input, Step};
use confkit_fuzz::{eid, signing_key, START};
use libfuzzer_sys::fuzz_target;

struct Device {
    user: ExternalId,
    sid: SessionId,
    client: Client,
    inbound: VecDeque<Vec<u8>>,
}

type View = BTreeMap<ConferenceId, (BTreeMap<ExternalId, ParticipantView>, PermissionSet)>;

fn projection(p: &Platform, sid: SessionId) -> View {
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

fn client_view(c: &Client) -> View {
    c.conferences()
        .filter(|(_, v)| v.joined)
        .map(|(id, v)| (*id, (v.participants.clone(), v.my_permissions)))
        .collect()
}

fn feed(d: &mut Device, bytes: &[u8]) {
    if std::env::var_os("CONFKIT_FUZZ_DEBUG").is_some() {
        eprintln!("{} <- {}", d.user, String::from_utf8_lossy(bytes));
    }
    if let Err(e) = d.client.receive(bytes) {
        panic!(
            "oracle violated: {} refused a server message ({e}): {}",
            d.user,
            String::from_utf8_lossy(bytes)
        );
    }
}

fn new_client(p: &Platform, clock: &ManualClock, user: &ExternalId) -> Client {
    let ring = KeyRing::from_jwks(&p.jwks()).unwrap();
    Client::new(user.clone(), ring, Arc::new(clock.clone()))
}

fn open(p: &Platform, user: &ExternalId) -> SessionId {
    p.open_session(ParticipantInfo::new(user.clone(), user.as_str().to_uppercase(), None).unwrap())
}

fuzz_target!(|input: Input| {
    if std::env::var_os("CONFKIT_FUZZ_DEBUG").is_some() {
        eprintln!("{input:?}");
    }
    let n = 3 + usize::from(input.n % 4);
    let clock = ManualClock::new(START);
    let config = PlatformConfig {
        session_idle_secs: 0,
        max_queued_events: 16,
        event_retention: 8,
        ..PlatformConfig::default()
    };
    let p = Platform::with_config(signing_key(), Arc::new(clock.clone()), config);
    let mut devices: Vec<Device> = (0..n)
        .map(|i| {
            let user = eid(&format!("u{i}"));
            Device {
                sid: open(&p, &user),
                client: new_client(&p, &clock, &user),
                user,
                inbound: VecDeque::new(),
            }
        })
        .collect();
    let options = ConferenceOptions {
        protected: input.protected,
        ..ConferenceOptions::default()
    };
    let created = p
        .create_conference(devices[0].sid, "chaos", options)
        .unwrap();
    let conf = created.conference.id;
    let owner_token = created.owner_token;
    for step in input.steps.iter().take(80) {
        match *step {
            Step::Act { who, op, target } => {
                let i = usize::from(who) % n;
                let target = devices[usize::from(target) % n].user.clone();
                let d = &mut devices[i];
                let c = conf.to_string();
                // The newest token this device was given for the conference.
                let token = || {
                    d.client
                        .inbox()
                        .iter()
                        .rev()
                        .find(|inv| inv.conference_id == conf)
                        .and_then(|inv| inv.token.clone())
                        .or_else(|| if i == 0 { owner_token.clone() } else { None })
                };
                let invite = |permissions| Op::Invite {
                    conference_id: c.clone(),
                    invitees: vec![WireInvitee {
                        external_id: target.clone(),
                        permissions,
                    }],
                };
                let op = match op % 12 {
                    0 | 1 => Op::Join {
                        conference_id: c.clone(),
                        token: token(),
                    },
                    2 => Op::Listen {
                        conference_id: c.clone(),
                        token: token(),
                    },
                    3 => Op::MediaState {
                        conference_id: c.clone(),
                        state: MediaState::Connected,
                    },
                    4 => Op::Leave {
                        conference_id: c.clone(),
                    },
                    5 => invite(None),
                    6 => Op::Kick {
                        conference_id: c.clone(),
                        external_id: target.clone(),
                    },
                    7 => Op::UpdatePermissions {
                        conference_id: c.clone(),
                        external_id: target.clone(),
                        permissions: PermissionSet::of(&[
                            Permission::Join,
                            Permission::Invite,
                            Permission::Kick,
                        ]),
                    },
                    8 => Op::Decline {
                        conference_id: c.clone(),
                    },
                    9 => Op::MediaState {
                        conference_id: c.clone(),
                        state: MediaState::Warning,
                    },
                    10 => invite(Some(PermissionSet::of(&[
                        Permission::Join,
                        Permission::SendAudio,
                    ]))),
                    _ => Op::UpdatePermissions {
                        conference_id: c.clone(),
                        external_id: target.clone(),
                        permissions: PermissionSet::ALL,
                    },
                };
                let out = d.client.request(op);
                let reply = p.handle_message(d.sid, &out.bytes);
                d.inbound.push_back(reply);
            }
            Step::Pump { who } => {
                let d = &mut devices[usize::from(who) % n];
                d.inbound.extend(p.drain_messages(d.sid).unwrap());
            }
            Step::Wire { who, fault } => {
                let d = &mut devices[usize::from(who) % n];
                let Some(m) = d.inbound.pop_front() else {
                    continue;
                };
                match fault % 8 {
                    0 => {}                      // dropped
                    1 => d.inbound.push_back(m), // delayed
                    2 => {
                        d.inbound.push_front(m.clone()); // duplicated
                        feed(d, &m);
                    }
                    3 => {
                        if let Some(next) = d.inbound.pop_front() {
                            feed(d, &next); // swapped
                        }
                        feed(d, &m);
                    }
                    _ => feed(d, &m),
                }
            }
            Step::Reconnect { who } => {
                let d = &mut devices[usize::from(who) % n];
                d.inbound.clear();
                p.resume_session(d.sid, &d.user).unwrap();
                let out = d.client.resync_request();
                let reply = p.handle_message(d.sid, &out.bytes);
                d.inbound.push_back(reply);
            }
            Step::Restart { who } => {
                let d = &mut devices[usize::from(who) % n];
                // The app starts again and resumes its session with a fresh
                // Client, whose request ids must not be its predecessor's.
                d.inbound.clear();
                p.resume_session(d.sid, &d.user).unwrap();
                d.client = new_client(&p, &clock, &d.user);
                let out = d.client.resync_request();
                let reply = p.handle_message(d.sid, &out.bytes);
                d.inbound.push_back(reply);
            }
        }
    }
    // The faults stop.
    for d in &mut devices {
        while let Some(m) = d.inbound.pop_front() {
            feed(d, &m);
        }
        for m in p.drain_messages(d.sid).unwrap() {
            feed(d, &m);
        }
        let out = d.client.resync_request();
        let reply = p.handle_message(d.sid, &out.bytes);
        feed(d, &reply);
        for m in p.drain_messages(d.sid).unwrap() {
            feed(d, &m);
        }
        assert!(
            !d.client.is_stalled(),
            "oracle violated: {} still stalled after one resync",
            d.user
        );
        let shown = client_view(&d.client);
        let truth = projection(&p, d.sid);
        if std::env::var_os("CONFKIT_FUZZ_DEBUG").is_some() {
            eprintln!("{}: {truth:?}", d.user);
        }
        assert_eq!(
            shown, truth,
            "oracle violated: {}'s view is not the platform's",
            d.user
        );
        for (id, (_, perms)) in &truth {
            for perm in Permission::ALL {
                assert_eq!(
                    d.client.may(*id, perm),
                    perms.contains(perm),
                    "oracle violated: {} may({perm:?}) disagrees with {perms:?}",
                    d.user
                );
            }
        }
    }
});
