//! The wire protocol's server side (`Platform::handle_message`,
//! `drain_messages`) with messages from several sessions of a seeded platform.
//!
//! Input: a sequence of steps (structured with `arbitrary`): a message from
//! one of the six sessions (`{c0}`.. and `{t0}`.. name the seeded conferences
//! and tokens), the same message again (a retransmission), draining a
//! session's events, the clock moving on.
//!
//! Oracle:
//! - every reply parses as a server message (`ServerMessage::parse`), is a
//!   reply, carries the request's id when the request had a readable one (and
//!   none otherwise), and an error in it has a known code other than PANIC;
//! - an error reply leaves the platform exactly as before (every known
//!   conference, alias, session snapshot, queued events, retained
//!   revocations);
//! - a retransmission gets the very same reply bytes;
//! - drained messages are events whose sequence numbers go up by one, with a
//!   hole only where an `eventsMissed` says so or a resync took events out of
//!   the queue.
#![no_main]

use confkit::wire::message::{Request, ServerMessage};
use confkit::{ErrorCode, EventKind};
use confkit_fuzz::wire::Step;
use confkit_fuzz::{oracle, World};
use libfuzzer_sys::fuzz_target;

struct Session {
    last_message: Option<(Vec<u8>, Vec<u8>)>,
    /// The last sequence number seen in its drained events.
    last_sequence: Option<u64>,
    /// A resync answered since the last drain (it takes queued events).
    resynced: bool,
}

fn send(w: &mut World, sessions: &mut [Session], index: u8, bytes: &[u8]) -> Vec<u8> {
    let sid = w.session(index);
    w.settle();
    let before = w.state();
    let reply = w.platform.handle_message(sid, bytes);
    let parsed = ServerMessage::parse(&reply);
    let Ok(ServerMessage::Reply { id, outcome }) = parsed else {
        panic!(
            "oracle violated: the reply is not a reply message: {parsed:?} from {}",
            String::from_utf8_lossy(&reply)
        );
    };
    let request = Request::parse(bytes);
    let expected_id = match &request {
        Ok(r) => Some(r.id.as_str().to_owned()),
        Err((id, _)) => id.as_ref().map(|i| i.as_str().to_owned()),
    };
    oracle!(
        id == expected_id,
        "reply id {id:?}, request id {expected_id:?}"
    );
    match outcome {
        Err(e) => {
            let code = ErrorCode::from_value(e.error_code);
            oracle!(
                code.is_some_and(|c| c != ErrorCode::Panic && c != ErrorCode::Ok),
                "error code {} in {e:?}",
                e.error_code
            );
            oracle!(e.error_reason == code.unwrap().name(), "reason of {e:?}");
            let after = w.state();
            oracle!(
                before == after,
                "error reply {e:?} to {} changed the platform:\n--- before\n{before}\n--- after\n{after}",
                String::from_utf8_lossy(bytes)
            );
        }
        Ok(result) => {
            oracle!(
                request.is_ok(),
                "a result for a request that does not parse: {request:?}"
            );
            let op = request.as_ref().unwrap().op.type_name();
            if op == "resync" {
                sessions[usize::from(index) % sessions.len()].resynced = true;
            }
            if op == "create" {
                let conf = &result["conference"];
                if let (Some(id), Some(alias)) = (conf["id"].as_str(), conf["alias"].as_str()) {
                    w.learn_conference(confkit::ConferenceId::parse(id).unwrap(), alias);
                }
            }
        }
    }
    reply
}

fn drain(w: &World, sessions: &mut [Session], index: u8) {
    let sid = w.session(index);
    let s = &mut sessions[usize::from(index) % sessions.len()];
    let Ok(messages) = w.platform.drain_messages(sid) else {
        return; // closed by the idle sweep
    };
    for m in messages {
        let parsed = ServerMessage::parse(&m);
        let Ok(ServerMessage::Event(e)) = parsed else {
            panic!(
                "oracle violated: a drained message is not an event: {parsed:?} from {}",
                String::from_utf8_lossy(&m)
            );
        };
        oracle!(
            e.kind.is_some(),
            "the server sent an event it cannot read: {}",
            e.type_name
        );
        if let Some(last) = s.last_sequence {
            oracle!(e.sequence > last, "sequence {} after {last}", e.sequence);
            match e.kind.as_ref().unwrap() {
                EventKind::EventsMissed {
                    first_missed_sequence,
                    first_available_sequence,
                } => {
                    oracle!(
                        s.resynced || *first_missed_sequence == last + 1,
                        "eventsMissed from {first_missed_sequence} after {last}"
                    );
                    oracle!(
                        *first_available_sequence == e.sequence + 1,
                        "eventsMissed {} says the next is {first_available_sequence}",
                        e.sequence
                    );
                }
                _ => oracle!(
                    s.resynced || e.sequence == last + 1,
                    "sequence {} after {last} without eventsMissed",
                    e.sequence
                ),
            }
        }
        s.last_sequence = Some(e.sequence);
        s.resynced = false;
    }
}

fuzz_target!(|steps: Vec<Step>| {
    let mut w = World::new();
    let mut sessions: Vec<Session> = (0..w.sessions.len())
        .map(|_| Session {
            last_message: None,
            last_sequence: None,
            resynced: false,
        })
        .collect();
    for step in steps.into_iter().take(32) {
        match step {
            Step::Send { session, message } => {
                let bytes = w.substitute(&message.0);
                let reply = send(&mut w, &mut sessions, session, &bytes);
                sessions[usize::from(session) % w.sessions.len()].last_message =
                    Some((bytes, reply));
            }
            Step::Resend { session } => {
                let i = usize::from(session) % w.sessions.len();
                if let Some((bytes, first)) = sessions[i].last_message.clone() {
                    let again = send(&mut w, &mut sessions, session, &bytes);
                    // Only a request with an id is remembered; a broken
                    // one is answered the same way anyway.
                    if w.platform.session_info(w.session(session)).is_ok() {
                        oracle!(
                            again == first,
                            "a retransmission got another reply:\n{}\n{}",
                            String::from_utf8_lossy(&first),
                            String::from_utf8_lossy(&again)
                        );
                    }
                }
            }
            Step::Drain { session } => drain(&w, &mut sessions, session),
            Step::Advance { secs } => w.clock.advance(u64::from(secs)),
        }
    }
});
