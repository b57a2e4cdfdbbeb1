//! The device half (`Client::receive`) fed bytes while it holds a view.
//!
//! The client is Bob's phone from the recorded flow
//! (`tests/fixtures/wire/flows/bob.flow`, replayed up to the kick): joined to
//! "standup" with Alice and Carol ON_AIR, an invitation in the inbox, and
//! three requests waiting for their replies (`c4` a join, `c5` a resync,
//! `c6` a keep-alive). Input: server messages, one per line; `{c0}` is the
//! conference's id, `{t0}` a valid token for Bob there, `{t1}` one for Carol,
//! `{t2}` an expired one for Bob, `{t3}` one for Bob from an unknown key.
//!
//! Oracle, for every message (never a panic):
//! - `wire::check_against_serde`: whatever the device's reader accepts,
//!   serde's reading (the reader's reference, built under `--cfg fuzzing`)
//!   reads the same way, and the one-pass typed reading agrees with the raw
//!   one (one-sided: the reader is stricter than serde in documented places);
//! - refused (`Err`) => the view is unchanged: every conference view, the
//!   inbox, the last sequence, whether it is stalled;
//! - a duplicate event or reply, or a failed request => unchanged too;
//! - an unknown event type (skipped) => unchanged but for the last sequence,
//!   which becomes the event's.
#![no_main]

use std::sync::{Arc, OnceLock};

use confkit::client::{Client, Update};
use confkit::token::{KeyId, KeyRing, SigningKey};
use confkit::wire::message::{MediaState, Op};
use confkit::{ConferenceId, ExternalId, ManualClock, PermissionSet};
use confkit_fuzz::{mint, oracle, substitute, START};
use libfuzzer_sys::fuzz_target;

const FLOW: &str = include_str!("../../tests/fixtures/wire/flows/bob.flow");

struct Fixture {
    conf: ConferenceId,
    jwks: String,
    /// The flow up to the kick: what to send or feed, in order.
    script: Vec<(bool, String)>,
    confs: Vec<String>,
    tokens: Vec<String>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut jwks = String::new();
        let mut script = Vec::new();
        let mut conf = None;
        for line in FLOW.lines() {
            if line.starts_with("# Alice kicks Bob") {
                break;
            }
            let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "jwks" => jwks = rest.to_owned(),
                "send" => script.push((true, rest.to_owned())),
                "recv" => {
                    if conf.is_none() {
                        let v: serde_json::Value = serde_json::from_str(rest).unwrap();
                        conf = v["conferenceId"]
                            .as_str()
                            .map(|c| ConferenceId::parse(c).unwrap());
                    }
                    script.push((false, rest.to_owned()));
                }
                _ => {}
            }
        }
        let conf = conf.expect("the flow names its conference");
        let stranger = SigningKey::from_seed(&[9; 32], KeyId::new(confkit_fuzz::KID).unwrap());
        let tokens = vec![
            mint("bob", conf, PermissionSet::ALL, START, 3600),
            mint("carol", conf, PermissionSet::ALL, START, 3600),
            mint("bob", conf, PermissionSet::ALL, START - 20_000, 3600),
            stranger.mint(&confkit::Claims::new(
                "confkit",
                confkit_fuzz::eid("bob"),
                conf,
                PermissionSet::ALL,
                START,
                3600,
            )),
        ];
        Fixture {
            conf,
            jwks,
            script,
            confs: vec![conf.to_string()],
            tokens,
        }
    })
}

fn client() -> Client {
    let f = fixture();
    let ring = KeyRing::from_jwks_json(&f.jwks).unwrap();
    let mut c = Client::new(
        ExternalId::new("bob").unwrap(),
        ring,
        Arc::new(ManualClock::new(START)),
    );
    // The recorded flow's request ids are c1, c2, ...
    c.set_next_request_number(std::num::NonZeroU64::MIN);
    for (send, text) in &f.script {
        if *send {
            let _ = match text.split(' ').collect::<Vec<_>>()[..] {
                ["join", _, "inbox"] => {
                    let token = c.inbox().last().and_then(|i| i.token.clone());
                    c.request(Op::Join {
                        conference_id: f.conf.to_string(),
                        token,
                    })
                }
                ["media", _, "CONNECTED"] => c.request(Op::MediaState {
                    conference_id: f.conf.to_string(),
                    state: MediaState::Connected,
                }),
                ["resync"] => c.resync_request(),
                _ => panic!("unknown send line {text}"),
            };
        } else {
            c.receive(text.as_bytes())
                .expect("the recorded flow replays");
        }
    }
    let token = c.inbox().last().and_then(|i| i.token.clone());
    let c4 = c.request(Op::Join {
        conference_id: f.conf.to_string(),
        token,
    });
    let c5 = c.resync_request();
    let c6 = c.request(Op::KeepAlive {});
    debug_assert_eq!(
        (c4.id.as_str(), c5.id.as_str(), c6.id.as_str()),
        ("c4", "c5", "c6")
    );
    c
}

fn view(c: &Client) -> String {
    format!(
        "{:?}\n{:?}\nlast {} stalled {}",
        c.conferences().collect::<Vec<_>>(),
        c.inbox(),
        c.last_sequence(),
        c.is_stalled()
    )
}

fn views_without_sequence(c: &Client) -> String {
    format!(
        "{:?}\n{:?}\nstalled {}",
        c.conferences().collect::<Vec<_>>(),
        c.inbox(),
        c.is_stalled()
    )
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let mut c = client();
    let data = substitute(data, &f.confs, &f.tokens);
    for message in data.split(|b| *b == b'\n').take(64) {
        // The differential oracle: what the device's reader accepts, serde
        // reads the same way (confkit's reference, built for fuzzing).
        confkit::wire::check_against_serde(message);
        let before = view(&c);
        let before_rest = views_without_sequence(&c);
        match c.receive(message) {
            Err(e) => {
                let after = view(&c);
                oracle!(
                    before == after,
                    "refused ({e}) but the view changed:\n--- before\n{before}\n--- after\n{after}\n--- message\n{}",
                    String::from_utf8_lossy(message)
                );
            }
            Ok(updates) => match updates.as_slice() {
                [Update::Duplicate { .. }]
                | [Update::DuplicateReply { .. }]
                | [Update::RequestFailed { .. }] => {
                    let after = view(&c);
                    oracle!(
                        before == after,
                        "{updates:?} but the view changed:\n--- before\n{before}\n--- after\n{after}"
                    );
                }
                [Update::Skipped { sequence, .. }] => {
                    oracle!(
                        c.last_sequence() == *sequence,
                        "skipped {sequence}, last is {}",
                        c.last_sequence()
                    );
                    let after = views_without_sequence(&c);
                    oracle!(
                        before_rest == after,
                        "{updates:?} but the view changed:\n--- before\n{before_rest}\n--- after\n{after}"
                    );
                }
                _ => {}
            },
        }
    }
});
