//! The token's own JSON reader (`Claims::from_json`, `Header::from_json`,
//! `JwkSet::from_json`) against serde_json, on generated and mutated
//! headers, claims and JWK sets.
//!
//! The reference is what confkit did before it had its own reader: serde's
//! derived struct reading (required members, types, no duplicates, unknown
//! members skipped), and the text is also valid JSON for `serde_json::Value`
//! (every string UTF-8 with no lone surrogate). The one documented
//! difference: `Value` refuses a number beyond f64's range, while both
//! readers accept one in a member they skip; the reference then relies on
//! the derived reading alone.
//!
//! `CONFKIT_JSON_CASES` sets the number of cases (default 100,000).

mod common;

use std::borrow::Cow;

use common::{env_count, TestRng};
use confkit::token::jws::Header;
use confkit::token::{Claims, JwkSet, TokenError};
use confkit::{ConferenceId, ExternalId, PermissionSet};
use serde::Deserialize;

#[derive(Deserialize)]
struct WireIn<'a> {
    iss: String,
    sub: String,
    #[serde(borrow)]
    conf: Cow<'a, str>,
    #[serde(borrow)]
    perms: Vec<Name<'a>>,
    iat: u64,
    #[serde(default)]
    nbf: Option<u64>,
    exp: u64,
    jti: String,
}

#[derive(Deserialize)]
struct Name<'a>(#[serde(borrow)] Cow<'a, str>);

#[derive(Deserialize)]
struct HeaderIn {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

fn is_object_text(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        == Some(&b'{')
}

/// Whether the text is JSON `Value` accepts, or `None` when `Value` refuses
/// it only for a number out of f64's range or nesting deeper than 128 (see
/// the module comment).
fn valid_json(bytes: &[u8]) -> Option<bool> {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(_) => Some(true),
        Err(e)
            if e.to_string().starts_with("number out of range")
                || e.to_string().starts_with("recursion limit exceeded") =>
        {
            None
        }
        Err(_) => Some(false),
    }
}

/// The claims as serde reads them, with confkit's value rules after.
fn reference_claims(payload: &[u8]) -> Result<Claims, TokenError> {
    let bad = || TokenError::Claims(String::new());
    if !is_object_text(payload) || valid_json(payload) == Some(false) {
        return Err(bad());
    }
    let w: WireIn = serde_json::from_slice(payload).map_err(|_| bad())?;
    let subject = ExternalId::new(w.sub).map_err(|_| bad())?;
    let conference = ConferenceId::parse(&w.conf).map_err(|_| bad())?;
    let permissions = PermissionSet::from_names(w.perms.iter().map(|n| &*n.0))
        .map_err(|e| TokenError::UnknownPermission(e.0))?;
    if w.jti.is_empty() {
        return Err(bad());
    }
    Ok(Claims {
        issuer: w.iss,
        subject,
        conference,
        permissions,
        issued_at: w.iat,
        not_before: w.nbf.unwrap_or(w.iat),
        expires_at: w.exp,
        token_id: w.jti,
    })
}

/// (alg, kid, typ, crit) as serde reads them.
type HeaderFields = (String, Option<String>, Option<String>, bool);

fn reference_header(json: &[u8]) -> Option<HeaderFields> {
    if !is_object_text(json) || valid_json(json) == Some(false) {
        return None;
    }
    let h: HeaderIn = serde_json::from_slice(json).ok()?;
    Some((h.alg, h.kid, h.typ, h.crit))
}

/// Builds JSON-like texts: mostly well-formed objects with the token's
/// members, with wrong types, duplicates, escapes, odd numbers, invalid
/// strings and byte-level damage mixed in.
struct Gen<'r> {
    rng: &'r mut TestRng,
    /// Whether the required members get values of the right type.
    careful: bool,
}

const CONF: &str = "0b5e3c1a-7d2f-4c1e-9a3b-5f6e7d8c9b0a";

impl Gen<'_> {
    fn pick<'s>(&mut self, options: &[&'s str]) -> &'s str {
        options[self.rng.index(options.len())]
    }

    fn ws(&mut self) -> &'static str {
        ["", "", "", " ", "\n\t", "\r\n  "][self.rng.index(6)]
    }

    fn string(&mut self) -> String {
        let body = self.pick(&[
            "alice",
            "",
            "a\\\"b",
            "caf\\u00e9",
            "\\ud83d\\ude00",
            "\\ud83d",
            "\\udc00",
            "\\ud83d\\u0041",
            "tab\\tnew\\n",
            "\\/\\b\\f\\r\\\\",
            "bad\\x",
            "\\u12",
            "\\uZZZZ",
            "ctl\u{1}",
            "caf\u{e9}",
            "\u{1f600}",
            "EdDSA",
            "Ed25519",
            CONF,
            "0B5E3C1A-7D2F-4C1E-9A3B-5F6E7D8C9B0A",
            "JOIN",
            "SEND_AUDIO",
            "join",
            "root",
        ]);
        format!("\"{body}\"")
    }

    fn number(&mut self) -> String {
        self.pick(&[
            "0",
            "1700000000",
            "1700003600",
            "18446744073709551615",
            "18446744073709551616",
            "-1",
            "-0",
            "01",
            "1.0",
            "1e3",
            "1E+2",
            "1.",
            ".5",
            "-",
            "1e",
            "2.5e-3",
        ])
        .to_owned()
    }

    fn value(&mut self, depth: u32) -> String {
        match self.rng.below(if depth > 3 { 5 } else { 9 }) {
            0 => self.string(),
            1 => self.number(),
            2 => self
                .pick(&["null", "true", "false", "nul", "tru"])
                .to_owned(),
            3 => self.string(),
            4 => self.number(),
            5 | 6 => {
                let n = self.rng.below(4);
                let items: Vec<String> = (0..n).map(|_| self.value(depth + 1)).collect();
                let ws = self.ws();
                format!("[{ws}{}]", items.join(","))
            }
            _ => {
                let n = self.rng.below(3);
                let members: Vec<String> = (0..n)
                    .map(|_| format!("{}:{}", self.string(), self.value(depth + 1)))
                    .collect();
                format!("{{{}}}", members.join(","))
            }
        }
    }

    fn perms(&mut self) -> String {
        match self.rng.below(6) {
            0 => "[]".to_owned(),
            1 => "[\"JOIN\",\"SEND_AUDIO\"]".to_owned(),
            2 => "[\"JOIN\", \"nope\"]".to_owned(),
            3 => "[\"J\\u004fIN\"]".to_owned(),
            _ => self.value(1),
        }
    }

    /// A value for `name`: usually of the right type, sometimes not.
    fn member_value(&mut self, name: &str) -> String {
        let right = self.careful || self.rng.below(4) != 0;
        match (name, right) {
            ("iss", true) => "\"https://example.com\"".to_owned(),
            ("sub", true) if self.careful => "\"b\\u00f6b\"".to_owned(),
            ("sub", true) => self
                .pick(&["\"alice\"", "\"\"", "\"b\\u00f6b\""])
                .to_owned(),
            ("conf", true) if self.careful => format!("\"{CONF}\""),
            ("conf", true) => format!("\"{}\"", self.pick(&[CONF, "not-a-uuid"])),
            ("perms", true) if self.careful => "[\"JOIN\"]".to_owned(),
            ("perms", _) => self.perms(),
            ("iat" | "exp", true) => self.pick(&["1700000000", "1700003600"]).to_owned(),
            ("nbf", true) => self.pick(&["1700000000", "null"]).to_owned(),
            ("jti", true) => self.pick(&["\"t-1\"", "\"\""]).to_owned(),
            ("alg", true) => self
                .pick(&["\"EdDSA\"", "\"Ed25519\"", "\"HS256\""])
                .to_owned(),
            ("kid" | "typ", true) => self.pick(&["\"k1\"", "null", "\"JWT\""]).to_owned(),
            ("kty", true) => "\"OKP\"".to_owned(),
            ("crv", true) => "\"Ed25519\"".to_owned(),
            ("x", true) => "\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"".to_owned(),
            ("use", true) => self.pick(&["\"sig\"", "null"]).to_owned(),
            _ => self.value(0),
        }
    }

    fn name(&mut self, names: &[&'static str]) -> String {
        let name = self.pick(names);
        match self.rng.below(12) {
            // The same name, spelled with an escape.
            0 if !name.is_empty() => format!("\"\\u{:04x}{}\"", name.as_bytes()[0], &name[1..]),
            1 => self.string(),
            _ => format!("\"{name}\""),
        }
    }

    fn object(&mut self, names: &[&'static str], required: &[&'static str]) -> Vec<u8> {
        let mut bytes = self.object_text(names, required).into_bytes();
        self.damage(&mut bytes);
        bytes
    }

    /// A JWK set with up to three keys.
    fn jwks(&mut self) -> Vec<u8> {
        if self.rng.below(50) == 0 {
            // A set or a key written as an array of its fields, which serde
            // would read as the struct.
            return self
                .pick(&["[[]]", "{\"keys\":[[\"OKP\",\"Ed25519\",\"x\",\"k\"]]}"])
                .as_bytes()
                .to_vec();
        }
        let keys: Vec<String> = (0..self.rng.below(4))
            .map(|_| self.object_text(JWK_NAMES, &["kty", "crv", "x", "kid"]))
            .collect();
        let mut text = format!("{{\"keys\":[{}]", keys.join(","));
        if self.rng.below(4) == 0 {
            text.push_str(&format!(",{}:{}", self.name(&["keys", "x"]), self.value(0)));
        }
        text.push('}');
        let mut bytes = text.into_bytes();
        self.damage(&mut bytes);
        bytes
    }

    fn object_text(&mut self, names: &[&'static str], required: &[&'static str]) -> String {
        let mut members: Vec<(String, String)> = Vec::new();
        for &name in required {
            if self.careful || self.rng.below(12) != 0 {
                members.push((format!("\"{name}\""), self.member_value(name)));
            }
        }
        for _ in 0..self.rng.below(3) {
            // Careful objects get unknown extras only (and so no duplicates).
            let name = if self.careful {
                self.name(&names[names.len() - 1..])
            } else {
                self.name(names)
            };
            let plain = name.trim_matches('"').to_owned();
            members.push((name, self.member_value(&plain)));
        }
        // Shuffle.
        for i in (1..members.len()).rev() {
            members.swap(i, self.rng.index(i + 1));
        }
        let mut text = String::new();
        text.push_str(self.ws());
        text.push('{');
        for (i, (k, v)) in members.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(self.ws());
            text.push_str(k);
            text.push_str(self.ws());
            text.push(':');
            text.push_str(self.ws());
            text.push_str(v);
        }
        text.push_str(self.ws());
        text.push('}');
        text.push_str(self.ws());
        text
    }

    fn damage(&mut self, bytes: &mut Vec<u8>) {
        for _ in 0..self.rng.below(8).saturating_sub(5) {
            let at = self.rng.index(bytes.len() + 1);
            match self.rng.below(4) {
                0 if at < bytes.len() => {
                    bytes.remove(at);
                }
                1 => {
                    let set = b"{}[],:\"\\ 0-.e\xff\x01";
                    bytes.insert(at, set[self.rng.index(set.len())]);
                }
                2 if at < bytes.len() => bytes[at] ^= 1 << self.rng.below(8),
                _ => bytes.truncate(at),
            }
        }
    }
}

const CLAIM_NAMES: &[&str] = &[
    "iss", "sub", "conf", "perms", "iat", "nbf", "exp", "jti", "x",
];
const HEADER_NAMES: &[&str] = &["alg", "kid", "typ", "crit", "x5u"];
const JWK_NAMES: &[&str] = &["kty", "crv", "x", "kid", "alg", "use", "n"];

fn same_outcome(ours: &Result<Claims, TokenError>, reference: &Result<Claims, TokenError>) -> bool {
    match (ours, reference) {
        (Ok(a), Ok(b)) => a == b,
        (Err(a), Err(b)) => std::mem::discriminant(a) == std::mem::discriminant(b),
        _ => false,
    }
}

/// Runs `cases` generated cases from `seed`: `one` checks a case (with a
/// generator that is careful half of the time) and says whether confkit
/// accepted it, or `None` for a case it could not use. Both kinds of outcome
/// must be common, or the test would prove little.
fn differential(cases: u64, seed: u64, mut one: impl FnMut(u64, Gen<'_>) -> Option<bool>) {
    let mut rng = TestRng(seed);
    let (mut accepted, mut refused) = (0u64, 0u64);
    for case in 0..cases {
        let careful = rng.below(2) == 0;
        match one(
            case,
            Gen {
                rng: &mut rng,
                careful,
            },
        ) {
            Some(true) => accepted += 1,
            Some(false) => refused += 1,
            None => {}
        }
    }
    assert!(
        accepted * 20 > cases && refused * 20 > cases,
        "{accepted} accepted / {refused} refused"
    );
}

#[test]
fn claims_are_read_as_serde_reads_them() {
    let cases = env_count("CONFKIT_JSON_CASES", 100_000);
    differential(cases, 0x6a73_6f6e, |case, mut gen| {
        let text = gen.object(
            CLAIM_NAMES,
            &["iss", "sub", "conf", "perms", "iat", "nbf", "exp", "jti"],
        );
        let ours = Claims::from_json(&text);
        let reference = reference_claims(&text);
        assert!(
            same_outcome(&ours, &reference),
            "case {case}: {}\nours: {ours:?}\nserde: {reference:?}",
            String::from_utf8_lossy(&text)
        );
        Some(ours.is_ok())
    });
}

#[test]
fn headers_are_read_as_serde_reads_them() {
    let cases = env_count("CONFKIT_JSON_CASES", 100_000);
    differential(cases, 0x6865_6164, |case, mut gen| {
        let text = gen.object(HEADER_NAMES, &["alg", "kid"]);
        let ours = Header::from_json(&text);
        let ours_fields = ours
            .as_ref()
            .ok()
            .map(|h| (h.alg.clone(), h.kid.clone(), h.typ.clone(), h.has_crit()));
        assert_eq!(
            ours_fields,
            reference_header(&text),
            "case {case}: {}\nours: {ours:?}",
            String::from_utf8_lossy(&text)
        );
        assert!(
            matches!(ours, Ok(_) | Err(TokenError::Header(_))),
            "{ours:?}"
        );
        Some(ours.is_ok())
    });
}

#[test]
fn jwk_sets_are_read_as_serde_reads_them() {
    let cases = env_count("CONFKIT_JSON_CASES", 100_000) / 4;
    differential(cases, 0x6a77_6b73, |case, mut gen| {
        let bytes = gen.jwks();
        let text = std::str::from_utf8(&bytes).ok()?;
        let ours = JwkSet::from_json(text);
        // serde also reads a struct from an array of its fields; a JWK set and
        // its keys are objects (RFC 7517).
        let objects = serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| {
            v.as_object().is_some_and(|set| match set.get("keys") {
                Some(serde_json::Value::Array(keys)) => keys.iter().all(|k| k.is_object()),
                _ => true,
            })
        });
        let reference = match valid_json(&bytes) {
            Some(false) => None,
            Some(true) if !objects => None,
            _ => serde_json::from_str::<JwkSet>(text).ok(),
        };
        assert_eq!(
            ours.as_ref().ok(),
            reference.as_ref(),
            "case {case}: {text}\nours: {ours:?}"
        );
        Some(ours.is_ok())
    });
}

#[test]
fn the_reader_refuses_what_serde_json_accepts_only_in_skipped_strings() {
    // serde's derived reading skips unknown members without checking their
    // strings' UTF-8 or surrogates; confkit checks them (RFC 8259 section
    // 8.1), as `Value` does.
    let base = r#""iss":"i","sub":"s","conf":"0b5e3c1a-7d2f-4c1e-9a3b-5f6e7d8c9b0a","perms":[],"iat":1,"exp":2,"jti":"j""#;
    for extra in [&b"\"\\ud800\""[..], b"\"\xff\"", b"[\"\\udc00\"]"] {
        let mut text = format!("{{{base},\"x\":").into_bytes();
        text.extend_from_slice(extra);
        text.push(b'}');
        assert!(serde_json::from_slice::<WireIn>(&text).is_ok());
        assert!(
            matches!(Claims::from_json(&text), Err(TokenError::Claims(_))),
            "{}",
            String::from_utf8_lossy(&text)
        );
    }
    // And a number of any magnitude in a skipped member is accepted.
    let text = format!("{{{base},\"x\":1e400}}");
    assert!(Claims::from_json(text.as_bytes()).is_ok());
}

#[test]
fn error_messages_name_the_member() {
    let text = br#"{"iss":"i","sub":"s","conf":"0b5e3c1a-7d2f-4c1e-9a3b-5f6e7d8c9b0a","perms":[],"iat":1.5,"exp":2,"jti":"j"}"#;
    match Claims::from_json(text) {
        Err(TokenError::Claims(msg)) => assert!(msg.starts_with("iat: "), "{msg}"),
        other => panic!("{other:?}"),
    }
    let text = br#"{"iss":"i","sub":"s","conf":"0b5e3c1a-7d2f-4c1e-9a3b-5f6e7d8c9b0a","perms":[],"iat":1,"iat":1,"exp":2,"jti":"j"}"#;
    match Claims::from_json(text) {
        Err(TokenError::Claims(msg)) => assert!(msg.contains("duplicate member \"iat\""), "{msg}"),
        other => panic!("{other:?}"),
    }
    match Header::from_json(br#"{"kid":"k"}"#) {
        Err(TokenError::Header(msg)) => assert!(msg.contains("alg"), "{msg}"),
        other => panic!("{other:?}"),
    }
}
