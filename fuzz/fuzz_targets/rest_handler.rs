//! The REST adapter (`Platform::handle_rest`) over a seeded platform.
//!
//! Input: a sequence of steps (structured with `arbitrary`): a call (method,
//! path, body; `{c0}`.. and `{t0}`.. in the path or body name the seeded
//! conferences and tokens, see `World::substitute`), the clock moving on, or
//! a body over the size cap.
//!
//! Oracle, for every call:
//! - the status is one the REST adapter documents (README and
//!   `src/rest/mod.rs`): 200, 204, 400, 403, 404, 405, 409, 413;
//! - 204 has an empty body, 200 a JSON object, an error the error body
//!   (`error_code`, `error_reason`, `error_description`) whose code maps to
//!   that status (routing's 404 / 405 carry INVALID_ARGUMENT);
//! - on every non-2xx answer the platform is exactly as before (every known
//!   conference, alias, session snapshot, queued events, retained
//!   revocations).
#![no_main]

use confkit::rest::MAX_BODY_BYTES;
use confkit::{ConferenceId, ErrorCode};
use confkit_fuzz::rest::{Method, Step};
use confkit_fuzz::{oracle, World};
use libfuzzer_sys::fuzz_target;

const DOCUMENTED: [u16; 8] = [200, 204, 400, 403, 404, 405, 409, 413];

fn call(w: &mut World, method: &str, path: &str, body: &[u8]) {
    w.settle();
    let before = w.state();
    let resp = w.platform.handle_rest(method, path, body);
    let status = resp.status;
    oracle!(
        DOCUMENTED.contains(&status),
        "undocumented status {status} for {method} {path}: {}",
        resp.body
    );
    match status {
        204 => oracle!(resp.body.is_empty(), "204 with a body: {}", resp.body),
        200 => {
            let v: serde_json::Value = serde_json::from_str(&resp.body).unwrap_or_else(|e| {
                panic!("oracle violated: 200 body is not JSON ({e}): {}", resp.body)
            });
            oracle!(v.is_object(), "200 body is not an object: {v}");
            if let (Some(id), Some(alias)) = (
                v.get("conferenceId").and_then(|c| c.as_str()),
                v.get("conferenceAlias").and_then(|c| c.as_str()),
            ) {
                let id = ConferenceId::parse(id).expect("a created conference id");
                w.learn_conference(id, alias);
            }
        }
        _ => {
            let e: confkit::error::ErrorBody =
                serde_json::from_str(&resp.body).unwrap_or_else(|e| {
                    panic!(
                        "oracle violated: {status} body is not an error body ({e}): {}",
                        resp.body
                    )
                });
            let code = ErrorCode::from_value(e.error_code);
            oracle!(code.is_some(), "unknown error code {}", e.error_code);
            let code = code.unwrap();
            oracle!(
                e.error_reason == code.name(),
                "reason {} for {code:?}",
                e.error_reason
            );
            oracle!(!e.error_description.is_empty(), "empty description");
            let routing = matches!(status, 404 | 405) && code == ErrorCode::InvalidArgument;
            oracle!(
                routing || code.http_status() == status,
                "status {status} with {code:?}, which maps to {}",
                code.http_status()
            );
            let after = w.state();
            oracle!(
                before == after,
                "{status} answer to {method} {path} changed the platform:\n--- before\n{before}\n--- after\n{after}"
            );
        }
    }
}

fuzz_target!(|steps: Vec<Step>| {
    let mut w = World::new();
    let mut huge_done = false;
    for step in steps.into_iter().take(24) {
        match step {
            Step::Call { method, path, body } => {
                let method = match method {
                    Method::Get => "GET".to_owned(),
                    Method::Post => "POST".to_owned(),
                    Method::Delete => "DELETE".to_owned(),
                    Method::Put => "PUT".to_owned(),
                    Method::Other(m) => String::from_utf8_lossy(&m.0).into_owned(),
                };
                let path = String::from_utf8_lossy(&w.substitute(&path.0)).into_owned();
                let body = w.substitute(&body.0);
                call(&mut w, &method, &path, &body);
            }
            Step::Advance { secs } => w.clock.advance(u64::from(secs)),
            Step::Huge { path } if !huge_done => {
                huge_done = true;
                let path = String::from_utf8_lossy(&w.substitute(&path.0)).into_owned();
                let body = vec![b' '; MAX_BODY_BYTES + 1];
                call(&mut w, "POST", &path, &body);
            }
            Step::Huge { .. } => {}
        }
    }
});
