//! JWK set parsing (`KeyRing::from_jwks_json`).
//!
//! Oracle:
//! - accepted => serialize (`to_jwks`) -> JSON -> parse gives the same set
//!   again (stable), with one key per input key; every input key is OKP /
//!   Ed25519 with a valid kid (1 to 128 bytes, no control character), kids
//!   are distinct, and each `x` is strict base64url of 32 bytes that decode
//!   to a point that is not of small order, the same bytes the ring serves;
//! - the set reads as a `JwkSet` and every key passes those checks =>
//!   accepted.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use confkit::token::{JwkSet, KeyRing};
use confkit_fuzz::oracle;
use ed25519_dalek::VerifyingKey;
use libfuzzer_sys::fuzz_target;

/// Why a key is not one the ring may keep, checked here without the library.
fn key_ok(jwk: &confkit::token::keys::Jwk) -> Result<[u8; 32], String> {
    if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
        return Err("not OKP/Ed25519".into());
    }
    let kid = jwk.kid.as_deref().ok_or("no kid")?;
    if kid.is_empty() || kid.len() > 128 || kid.chars().any(char::is_control) {
        return Err("bad kid".into());
    }
    let x = URL_SAFE_NO_PAD
        .decode(&jwk.x)
        .map_err(|_| "x not base64url")?;
    if URL_SAFE_NO_PAD.encode(&x) != jwk.x {
        return Err("x not canonical".into());
    }
    let x: [u8; 32] = x.try_into().map_err(|_| "x not 32 bytes")?;
    let key = VerifyingKey::from_bytes(&x).map_err(|_| "not a point")?;
    if key.is_weak() {
        return Err("weak key".into());
    }
    Ok(x)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = KeyRing::from_jwks_json(text);
    // confkit's reader also checks the strings of members it skips (no lone
    // surrogate escape), as `Value` does, while serde's derived reading does
    // not; `Value` cannot hold a number beyond f64's range, which confkit
    // skips like any number: such a text is left unchecked.
    // serde's derived reading also takes a struct written as an array of its
    // fields (`[[]]` is a set with no keys); a JWK set and a JWK are JSON
    // objects (RFC 7517), and confkit reads only those.
    let (json_ok, unchecked) = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => {
            let objects = v.as_object().is_some_and(|set| match set.get("keys") {
                Some(serde_json::Value::Array(keys)) => keys.iter().all(|k| k.is_object()),
                _ => true,
            });
            (objects, false)
        }
        Err(e) => {
            // Nor deeper than 128 levels, which both readers skip too.
            let text = e.to_string();
            let beyond_value = text.starts_with("number out of range")
                || text.starts_with("recursion limit exceeded");
            (beyond_value, beyond_value)
        }
    };
    let as_set = serde_json::from_str::<JwkSet>(text)
        .map_err(|e| e.to_string())
        .and_then(|set| {
            if json_ok {
                Ok(set)
            } else {
                Err("not JSON a Value reads".into())
            }
        });
    let independent: Option<Result<Vec<[u8; 32]>, String>> = as_set.as_ref().ok().map(|set| {
        let xs = set.keys.iter().map(key_ok).collect::<Result<Vec<_>, _>>()?;
        let mut kids: Vec<&str> = set.keys.iter().filter_map(|k| k.kid.as_deref()).collect();
        kids.sort_unstable();
        if kids.windows(2).any(|w| w[0] == w[1]) {
            return Err("duplicate kid".into());
        }
        Ok(xs)
    });
    match (&parsed, &independent) {
        (Ok(ring), Some(Ok(xs))) => {
            let set = as_set.as_ref().unwrap();
            let out = ring.to_jwks();
            oracle!(
                out.keys.len() == set.keys.len(),
                "kept {} of {} keys",
                out.keys.len(),
                set.keys.len()
            );
            for (jwk, (given, x)) in out.keys.iter().zip(set.keys.iter().zip(xs)) {
                oracle!(jwk.kty == "OKP" && jwk.crv == "Ed25519", "served {jwk:?}");
                oracle!(
                    jwk.kid == given.kid,
                    "kid {:?} served as {:?}",
                    given.kid,
                    jwk.kid
                );
                oracle!(jwk.x == URL_SAFE_NO_PAD.encode(x), "x of {:?}", given.kid);
                oracle!(
                    ring.get(given.kid.as_deref().unwrap())
                        .map(|k| k.to_bytes())
                        == Some(*x),
                    "key by kid"
                );
            }
            let json = out.to_json();
            let again = KeyRing::from_jwks_json(&json);
            oracle!(
                again.is_ok(),
                "the ring's own JWK set is refused: {again:?} for {json}"
            );
            let again = again.unwrap();
            oracle!(
                again.to_jwks() == out,
                "parse -> serialize -> parse is not stable"
            );
            oracle!(
                again.to_jwks().to_json() == json,
                "serialization is not stable"
            );
        }
        (Ok(ring), other) => panic!(
            "oracle violated: accepted ({} keys) but the independent check says {other:?}",
            ring.len()
        ),
        (Err(_), Some(Ok(_))) if unchecked => {}
        (Err(e), Some(Ok(_))) => {
            panic!("oracle violated: refused ({e}) a set the independent check accepts")
        }
        (Err(_), _) => {}
    }
});
