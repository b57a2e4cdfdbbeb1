//! Token verification (`KeyRing::verify`) against an independent strict
//! re-check.
//!
//! Input: either a compact token (any bytes), or `{header JSON}\n{payload
//! JSON}`, which the harness signs with the fixed key first, so that claim
//! parsing is reached with a valid signature.
//!
//! Oracle, both ways:
//! - accepted => three canonical base64url segments (decode, re-encode: the
//!   same text), a JSON object header with alg EdDSA/Ed25519, no `crit`, a
//!   known kid, a 64-byte signature that ed25519-dalek's `verify_strict`
//!   accepts over `header.payload`, and, Ed25519 being deterministic, exactly
//!   the signature the key makes (no malleated variant); the claims have the
//!   right JSON types, the values the library returned, and are valid at the
//!   time;
//! - the re-check passes and serde's derived reading of the claims, with
//!   the value rules (ids, permission names), accepts them => `verify`
//!   accepts;
//! - a text whose JSON `Value` cannot hold (a number beyond f64's range,
//!   nesting deeper than 128) is left unchecked but for the signature: an
//!   accepted token must carry the signature a fixture key makes.
//!
//! The re-check uses ed25519-dalek's `verify_strict`, while `verify` uses
//! confkit's own strict check (`token::strict`, which never decompresses R):
//! so this target is also a differential oracle between the two. Each input
//! is also verified in a batch (`KeyRing::verify_batch`) among valid tokens:
//! its result must be the single verify's.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use confkit::token::{Claims, KeyId, KeyRing, SigningKey, Validation, DEFAULT_LEEWAY_SECS};
use confkit::{ConferenceId, PermissionSet};
use confkit_fuzz::{oracle, signing_key, START};
use ed25519_dalek::{Signature, Signer};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::sync::OnceLock;

struct Fixture {
    key: SigningKey,
    /// A valid token by `key`, the company of the input in a batch.
    valid: String,
    other: SigningKey,
    ring: KeyRing,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let key = signing_key();
        let other = SigningKey::from_seed(&[7; 32], KeyId::new("other-key").unwrap());
        let mut ring = KeyRing::new();
        ring.insert(key.kid().clone(), key.verifying_key()).unwrap();
        ring.insert(other.kid().clone(), other.verifying_key())
            .unwrap();
        let valid = key.mint(&Claims::new(
            "https://fuzz.example",
            confkit::ExternalId::new("fuzz-user").unwrap(),
            ConferenceId::parse("0b5e3c1a-7d2f-4c1e-9a3b-5f6e7d8c9b0a").unwrap(),
            PermissionSet::DEFAULT_INVITEE,
            START,
            3600,
        ));
        Fixture {
            key,
            valid,
            other,
            ring,
        }
    })
}

/// Strict unpadded base64url, written here rather than taken from the
/// library: the alphabet only, no padding, no length of 1 mod 4, zero
/// trailing bits.
fn b64url_strict(text: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = text.as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for &c in chunk {
            acc = (acc << 6) | val(c)?;
        }
        match chunk.len() {
            4 => out.extend_from_slice(&acc.to_be_bytes()[1..]),
            3 => {
                if acc & 0b11 != 0 {
                    return None;
                }
                let v = acc >> 2;
                out.extend_from_slice(&v.to_be_bytes()[2..]);
            }
            2 => {
                if acc & 0b1111 != 0 {
                    return None;
                }
                out.push((acc >> 4) as u8);
            }
            _ => unreachable!(),
        }
    }
    Some(out)
}

fn is_object_text(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        == Some(&b'{')
}

/// The member names of a JSON object, duplicates included (a `Value` keeps
/// only the last of each).
fn top_level_keys(json: &[u8]) -> Option<Vec<String>> {
    struct Keys;
    impl<'de> serde::de::Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut m: A,
        ) -> Result<Vec<String>, A::Error> {
            let mut out = Vec::new();
            while let Some(k) = m.next_key::<String>()? {
                m.next_value::<serde::de::IgnoredAny>()?;
                out.push(k);
            }
            Ok(out)
        }
    }
    use serde::Deserializer;
    let mut d = serde_json::Deserializer::from_slice(json);
    d.deserialize_map(Keys).ok()
}

/// The reason a `Value` refuses a text. `Value` cannot hold a number beyond
/// f64's range nor nest deeper than 128, which is still JSON and which
/// confkit skips in a member it does not read: such a text's JSON is left
/// unchecked, not counted as refused (the signature still is, in `check`).
fn why(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if text.starts_with("number out of range") || text.starts_with("recursion limit exceeded") {
        format!("{UNCHECKED}{text}")
    } else {
        text
    }
}

/// The prefix of a re-check "refusal" that only means "cannot tell".
const UNCHECKED: &str = "unchecked: ";

/// Why the re-check refuses, or the claims JSON it accepted.
fn recheck(token: &str, f: &Fixture) -> Result<Value, String> {
    if token.len() > confkit::token::MAX_TOKEN_BYTES {
        return Err("too large".into());
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [h64, p64, s64] = parts[..] else {
        return Err("not three segments".into());
    };
    let mut decoded = Vec::new();
    for seg in [h64, p64, s64] {
        let bytes = b64url_strict(seg).ok_or("not strict base64url")?;
        oracle!(
            URL_SAFE_NO_PAD.encode(&bytes) == seg,
            "strict decoding of {seg:?} does not re-encode to itself"
        );
        decoded.push(bytes);
    }
    let (header, payload, sig) = (&decoded[0], &decoded[1], &decoded[2]);
    if !is_object_text(header) {
        return Err("header not an object".into());
    }
    let h: Value = serde_json::from_slice(header).map_err(|e| format!("header: {}", why(&e)))?;
    let h = h.as_object().ok_or("header not an object")?;
    let keys = top_level_keys(header).ok_or("header keys")?;
    for known in ["alg", "kid", "typ", "crit"] {
        if keys.iter().filter(|k| *k == known).count() > 1 {
            return Err(format!("{known} given twice"));
        }
    }
    match h.get("alg") {
        Some(Value::String(a)) if a == "EdDSA" || a == "Ed25519" => {}
        _ => return Err("alg".into()),
    }
    if h.contains_key("crit") {
        return Err("crit".into());
    }
    if !matches!(
        h.get("typ"),
        None | Some(Value::Null) | Some(Value::String(_))
    ) {
        return Err("typ".into());
    }
    let kid = match h.get("kid") {
        Some(Value::String(k)) => k.as_str(),
        _ => return Err("kid".into()),
    };
    let key = if kid == f.key.kid().as_str() {
        &f.key
    } else if kid == f.other.kid().as_str() {
        &f.other
    } else {
        return Err("unknown kid".into());
    };
    let sig: [u8; 64] = sig.as_slice().try_into().map_err(|_| "signature length")?;
    let signing_input = &token[..h64.len() + 1 + p64.len()];
    key.verifying_key()
        .verify_strict(signing_input.as_bytes(), &Signature::from_bytes(&sig))
        .map_err(|_| "signature")?;
    oracle!(
        key.dalek().sign(signing_input.as_bytes()).to_bytes() == sig,
        "verify_strict accepted a signature the key does not make"
    );
    if !is_object_text(payload) {
        return Err("claims not an object".into());
    }
    let c: Value = serde_json::from_slice(payload).map_err(|e| format!("claims: {}", why(&e)))?;
    if !c.is_object() {
        return Err("claims not an object".into());
    }
    let keys = top_level_keys(payload).ok_or("claims keys")?;
    for known in ["iss", "sub", "conf", "perms", "iat", "nbf", "exp", "jti"] {
        if keys.iter().filter(|k| *k == known).count() > 1 {
            return Err(format!("{known} given twice"));
        }
    }
    let u64_of = |name: &str| c.get(name).and_then(Value::as_u64);
    let (Some(iat), Some(exp)) = (u64_of("iat"), u64_of("exp")) else {
        return Err("iat/exp".into());
    };
    let nbf = match c.get("nbf") {
        None | Some(Value::Null) => iat,
        Some(v) => v.as_u64().ok_or("nbf")?,
    };
    for name in ["iss", "sub", "conf", "jti"] {
        if !c.get(name).is_some_and(Value::is_string) {
            return Err(format!("{name} not a string"));
        }
    }
    if c["jti"].as_str() == Some("") {
        return Err("empty jti".into());
    }
    let perms = c.get("perms").and_then(Value::as_array).ok_or("perms")?;
    if !perms.iter().all(Value::is_string) {
        return Err("perms not strings".into());
    }
    let now = START;
    if now > exp.saturating_add(DEFAULT_LEEWAY_SECS) {
        return Err("expired".into());
    }
    if nbf > now.saturating_add(DEFAULT_LEEWAY_SECS) {
        return Err("not yet valid".into());
    }
    Ok(c)
}

/// The claims as serde's derived reading takes them (types, no duplicates),
/// with the value rules after (external id, conference id, permission
/// names, a non-empty jti): `Some` when all hold. Independent of confkit's
/// own JSON reader, which `Claims::from_json` uses.
fn reference_claims(payload: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct WireIn {
        #[allow(dead_code)]
        iss: String,
        sub: String,
        conf: String,
        perms: Vec<String>,
        #[allow(dead_code)]
        iat: u64,
        #[allow(dead_code)]
        #[serde(default)]
        nbf: Option<u64>,
        #[allow(dead_code)]
        exp: u64,
        jti: String,
    }
    let w: WireIn = serde_json::from_slice(payload).ok()?;
    confkit::ExternalId::new(w.sub.clone()).ok()?;
    ConferenceId::parse(&w.conf).ok()?;
    PermissionSet::from_names(w.perms.iter().map(String::as_str)).ok()?;
    (!w.jti.is_empty()).then(|| format!("sub {:?}, conf {:?}", w.sub, w.conf))
}

fn check(token: &str) {
    let f = fixture();
    let result = f.ring.verify(token, &Validation::any_conference(START));
    // The batch path (one equation for all, then a fallback) gives each
    // token the single verify's result: the token among valid ones by the
    // same key, so the equation runs.
    let mut batch = vec![f.valid.as_str(); confkit::token::batch::MIN_BATCH];
    batch[1] = token;
    let results = f
        .ring
        .verify_batch(&batch, &Validation::any_conference(START));
    oracle!(results[1] == result, "verify_batch differs from verify");
    oracle!(
        results.iter().enumerate().all(|(i, r)| i == 1 || r.is_ok()),
        "a valid token in the batch was refused"
    );
    let again = recheck(token, f);
    match (&result, &again) {
        (Ok(claims), Ok(c)) => {
            oracle!(c["iss"] == claims.issuer.as_str(), "iss");
            oracle!(c["sub"] == claims.subject.as_str(), "sub");
            oracle!(c["jti"] == claims.token_id.as_str(), "jti");
            let conf = ConferenceId::parse(c["conf"].as_str().unwrap());
            oracle!(conf.as_ref() == Ok(&claims.conference), "conf {conf:?}");
            let names: Vec<&str> = c["perms"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            oracle!(
                PermissionSet::from_names(names.iter().copied()).as_ref()
                    == Ok(&claims.permissions),
                "perms {names:?} vs {:?}",
                claims.permissions
            );
            oracle!(Some(claims.issued_at) == c["iat"].as_u64(), "iat");
            oracle!(Some(claims.expires_at) == c["exp"].as_u64(), "exp");
            let nbf = c
                .get("nbf")
                .and_then(Value::as_u64)
                .unwrap_or(claims.issued_at);
            oracle!(claims.not_before == nbf, "nbf");
        }
        (Ok(_), Err(why)) if why.contains(UNCHECKED) => {
            // The JSON could not be re-read, but the signature can: it must
            // be the one a fixture key makes over the first two segments.
            let (signing_input, s64) = token.rsplit_once('.').unwrap();
            let made = |k: &SigningKey| {
                URL_SAFE_NO_PAD.encode(k.dalek().sign(signing_input.as_bytes()).to_bytes()) == s64
            };
            oracle!(
                made(&f.key) || made(&f.other),
                "accepted a token no fixture key signed ({why})"
            );
        }
        (Ok(claims), Err(why)) => {
            panic!("oracle violated: accepted ({claims:?}) but the strict re-check refuses: {why}")
        }
        (Err(e), Ok(c)) => {
            // The re-check leaves value rules (external id, conference id,
            // permission names) to the library's claims parser.
            let payload = URL_SAFE_NO_PAD
                .decode(token.split('.').nth(1).unwrap())
                .unwrap();
            if let Some(why_ok) = reference_claims(&payload) {
                panic!(
                    "oracle violated: refused ({e:?}) though the re-check accepts and serde reads the claims ({why_ok}) from {c}"
                );
            }
        }
        (Err(_), Err(_)) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    if data.first() == Some(&b'{') {
        // {header}\n{payload}: sign it, then verify.
        let (header, payload) = match data.iter().position(|b| *b == b'\n') {
            Some(i) => (&data[..i], &data[i + 1..]),
            None => (data, &b"{}"[..]),
        };
        let mut token = URL_SAFE_NO_PAD.encode(header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        let sig = fixture().key.dalek().sign(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(sig.to_bytes(), &mut token);
        check(&token);
    } else if let Ok(token) = std::str::from_utf8(data) {
        check(token);
    }
});
