//! Security finding 12: every REST body, and every member that stands for an
//! object, must be a JSON object. serde's derived struct deserializer also
//! takes a JSON array (a struct's sequence form), which let `[["bob"]]` kick
//! bob; now any such array is 400 INVALID_ARGUMENT and changes nothing.

mod common;

use common::*;
use confkit::{ConferenceId, ErrorCode, Platform, PlatformError, SessionId};
use serde_json::{json, Value};

/// alice (session) owns "all-hands", created over REST with bob invited and
/// notified; bob and carol have sessions. Every queue is drained.
struct Setup {
    p: Platform,
    conf: ConferenceId,
    sessions: [SessionId; 3],
}

impl Setup {
    fn new() -> Self {
        let (p, _) = platform();
        let sessions = [
            open(&p, "alice", "Alice"),
            open(&p, "bob", "Bob"),
            open(&p, "carol", "Carol"),
        ];
        let (status, answer) = rest_json(
            &p,
            "POST",
            "/v2/conferences/create",
            &json!({
                "ownerExternalId": "alice",
                "alias": "all-hands",
                "participants": { "bob": { "notification": true } }
            }),
        );
        assert_eq!(status, 200, "{answer}");
        let conf = ConferenceId::parse(answer["conferenceId"].as_str().unwrap()).unwrap();
        for s in sessions {
            drain(&p, s);
        }
        Setup { p, conf, sessions }
    }

    fn path(&self, tail: &str) -> String {
        format!("/v2/conferences/{}/{tail}", self.conf)
    }

    /// GET /v2/conferences/{id}/participants, with the rest of the state a
    /// refused request must leave alone.
    fn state(&self) -> ((u16, Value), Snapshot) {
        (
            rest(&self.p, "GET", &self.path("participants"), ""),
            Snapshot::take(&self.p, self.conf, &self.sessions),
        )
    }

    /// bob's status as GET participants shows it.
    fn bob_status(&self) -> Value {
        let (status, body) = rest(&self.p, "GET", &self.path("participants"), "");
        assert_eq!(status, 200, "{body}");
        body["participants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["externalId"] == "bob")
            .unwrap_or_else(|| panic!("no bob in {body}"))["status"]
            .clone()
    }

    /// Sends each body to `path`: each must be 400 INVALID_ARGUMENT naming
    /// `member`, and must change nothing.
    fn assert_refused(&self, path: &str, cases: &[(&str, &str)]) {
        let before = self.state();
        for (body, member) in cases {
            let answer = rest(&self.p, "POST", path, body);
            let description = assert_rest_error(&answer, 400, ErrorCode::InvalidArgument);
            assert!(
                description.contains(&format!("{member} must be a JSON object")),
                "{path} {body}: {description}"
            );
            assert_eq!(self.state(), before, "{path} {body} changed the state");
        }
    }
}

#[test]
fn finding_12_create_refuses_arrays_for_objects() {
    let s = Setup::new();
    s.assert_refused(
        "/v2/conferences/create",
        &[
            // The body in the sequence form of (ownerExternalId, alias).
            (r#"["carol", "x"]"#, "the top level"),
            // parameters as (ttl, audioOnly, participantLimit, tokenTtl).
            (
                r#"{"ownerExternalId": "carol", "alias": "x", "parameters": [600, true, 5, 60]}"#,
                "parameters",
            ),
            // A participant spec as (permissions, notification).
            (
                r#"{"ownerExternalId": "carol", "alias": "x", "participants": {"dave": [["JOIN"], true]}}"#,
                "participants.dave",
            ),
        ],
    );
    assert_eq!(
        s.p.conference_by_alias("x"),
        Err(PlatformError::ConferenceNotFound("x".into())),
        "nothing was created"
    );
}

#[test]
fn finding_12_invite_refuses_arrays_for_objects() {
    let s = Setup::new();
    s.assert_refused(
        &s.path("invite"),
        &[
            (r#"[{"carol": {}}]"#, "the top level"),
            (
                r#"{"participants": {"carol": [["JOIN"], true]}}"#,
                "participants.carol",
            ),
        ],
    );
}

#[test]
fn finding_12_permissions_refuses_arrays_for_objects() {
    let s = Setup::new();
    s.assert_refused(
        &s.path("permissions"),
        &[
            (r#"[{"bob": {"permissions": ["JOIN"]}}]"#, "the top level"),
            (
                r#"{"participants": {"bob": [["JOIN"]]}}"#,
                "participants.bob",
            ),
        ],
    );
}

#[test]
fn finding_12_kick_refuses_a_body_that_is_an_array() {
    let s = Setup::new();
    let bob = s.bob_status();
    assert_ne!(bob, "KICKED");
    s.assert_refused(&s.path("kick"), &[(r#"[["bob"]]"#, "the top level")]);
    assert_eq!(s.bob_status(), bob, "bob was not kicked");
}

#[test]
fn finding_12_a_duplicate_cannot_hide_an_array() {
    // An array followed by an object under the same key (or member) is
    // refused: each entry is checked, not only the last one.
    let s = Setup::new();
    let before = s.state();
    for body in [
        r#"{"participants": {"bob": [["JOIN"]], "bob": {"permissions": ["JOIN"]}}}"#,
        r#"{"participants": {"bob": [["JOIN"]]}, "participants": {}}"#,
    ] {
        let answer = rest(&s.p, "POST", &s.path("permissions"), body);
        let description = assert_rest_error(&answer, 400, ErrorCode::InvalidArgument);
        assert!(
            description.contains("participants.bob must be a JSON object, not an array"),
            "{body}: {description}"
        );
        assert_eq!(s.state(), before, "{body} changed the state");
    }
}
