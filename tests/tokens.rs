//! Integration tests of conference access tokens, through the public API.
//!
//! Every rejection test builds a token that only the check under test stands
//! in the way of: forged headers and payloads are re-signed with the ring's own
//! key (so the signature is valid), and each test also shows the closest
//! accepted token where that makes the point clearer.

mod common;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use common::add_ell;
use confkit::token::jws;
use confkit::token::{
    Claims, KeyError, KeyId, KeyRing, RevocationList, Segment, SigningKey, TokenError, Validation,
    DEFAULT_LEEWAY_SECS, DEFAULT_TOKEN_TTL_SECS, MAX_TOKEN_BYTES,
};
use confkit::{ConferenceId, ExternalId, Permission, PermissionSet};
use ed25519_dalek::{Signer, Verifier, VerifyingKey};
use serde_json::{json, Map, Value};

const NOW: u64 = 1_700_000_000;
const CONF: &str = "0b5e3c1a-7d2f-4c1e-9a3b-5f6e7d8c9b0a";
const OTHER_CONF: &str = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";
const SEED: [u8; 32] = [7; 32];
const OTHER_SEED: [u8; 32] = [9; 32];

/// A base64url engine that accepts padding and non-zero trailing bits: used to
/// show that a modified segment still decodes to the same bytes.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

const URL_SAFE_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn kid(s: &str) -> KeyId {
    KeyId::new(s).unwrap()
}

/// The ring's key, id "k1".
fn key() -> SigningKey {
    SigningKey::from_seed(&SEED, kid("k1"))
}

fn ring_of(keys: &[&SigningKey]) -> KeyRing {
    let mut ring = KeyRing::new();
    for k in keys {
        ring.insert(k.kid().clone(), k.verifying_key()).unwrap();
    }
    ring
}

fn conf() -> ConferenceId {
    ConferenceId::parse(CONF).unwrap()
}

fn other_conf() -> ConferenceId {
    ConferenceId::parse(OTHER_CONF).unwrap()
}

fn claims() -> Claims {
    Claims {
        issuer: "https://platform.example".into(),
        subject: ExternalId::new("alice").unwrap(),
        conference: conf(),
        permissions: PermissionSet::DEFAULT_INVITEE,
        issued_at: NOW,
        not_before: NOW,
        expires_at: NOW + DEFAULT_TOKEN_TTL_SECS,
        token_id: "jti-1".into(),
    }
}

fn validation() -> Validation<'static> {
    Validation::new(NOW, conf())
}

/// Verifies with a ring holding only [`key`], at [`NOW`], for [`CONF`].
fn verify(token: &str) -> Result<Claims, TokenError> {
    ring_of(&[&key()]).verify(token, &validation())
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

fn split(token: &str) -> (String, String, String) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    (parts[0].into(), parts[1].into(), parts[2].into())
}

/// Signs the literal signing input `h64.p64` (whatever its encoding) with `key`.
fn sign_input(key: &SigningKey, h64: &str, p64: &str) -> String {
    let input = format!("{h64}.{p64}");
    let sig = key.dalek().sign(input.as_bytes());
    format!("{input}.{}", b64(&sig.to_bytes()))
}

/// A token with this header and payload, validly signed by `key`.
fn forge(key: &SigningKey, header: &Value, payload: &[u8]) -> String {
    jws::sign(key.dalek(), header.to_string().as_bytes(), payload)
}

fn header() -> Value {
    json!({"alg": "EdDSA", "typ": "JWT", "kid": "k1"})
}

fn header_with(f: impl FnOnce(&mut Map<String, Value>)) -> Value {
    let mut h = header();
    f(h.as_object_mut().unwrap());
    h
}

/// The payload of [`claims`], edited by `f`.
fn payload_with(f: impl FnOnce(&mut Map<String, Value>)) -> Vec<u8> {
    let mut p: Value = serde_json::from_slice(&claims().to_json()).unwrap();
    f(p.as_object_mut().unwrap());
    serde_json::to_vec(&p).unwrap()
}

/// `seg` with the canonical padding that unpadded base64url leaves off.
fn padded(seg: &str) -> String {
    let pad = (4 - seg.len() % 4) % 4;
    assert!(pad > 0, "segment length {} needs no padding", seg.len());
    format!("{seg}{}", "=".repeat(pad))
}

/// `seg` with a non-zero trailing (unused) bit in its last character.
fn with_trailing_bit(seg: &str) -> String {
    assert_ne!(seg.len() % 4, 0, "segment has no trailing bits");
    let last = *seg.as_bytes().last().unwrap();
    let idx = URL_SAFE_ALPHABET.iter().position(|&c| c == last).unwrap();
    // The lowest bit of the last character is always unused when len % 4 is 2 or 3.
    let changed = URL_SAFE_ALPHABET[idx ^ 1] as char;
    format!("{}{changed}", &seg[..seg.len() - 1])
}

// ---------------------------------------------------------------------------
// The control: forged tokens signed with the right key are accepted
// ---------------------------------------------------------------------------

#[test]
fn forged_token_with_the_right_key_and_valid_content_is_accepted() {
    let k = key();
    let token = forge(&k, &header(), &claims().to_json());
    assert_eq!(verify(&token), Ok(claims()));
    let token = forge(&k, &header(), &payload_with(|_| {}));
    assert_eq!(verify(&token), Ok(claims()));
    assert_eq!(verify(&k.mint(&claims())), Ok(claims()));
}

// ---------------------------------------------------------------------------
// Header checks
// ---------------------------------------------------------------------------

#[test]
fn alg_none_is_rejected() {
    let k = key();
    let h = header_with(|h| {
        h.insert("alg".into(), json!("none"));
    });
    // Both with a valid Ed25519 signature and with the empty signature of `none`.
    let token = forge(&k, &h, &claims().to_json());
    assert_eq!(verify(&token), Err(TokenError::Algorithm("none".into())));
    let (h64, p64, _) = split(&token);
    assert_eq!(
        verify(&format!("{h64}.{p64}.")),
        Err(TokenError::Algorithm("none".into()))
    );
}

#[test]
fn alg_hs256_is_rejected() {
    let k = key();
    let h = header_with(|h| {
        h.insert("alg".into(), json!("HS256"));
    });
    let token = forge(&k, &h, &claims().to_json());
    assert_eq!(verify(&token), Err(TokenError::Algorithm("HS256".into())));
}

#[test]
fn other_non_ed25519_algs_are_rejected() {
    let k = key();
    for alg in [
        "ES256", "RS256", "PS256", "Ed448", "EDDSA", "eddsa", "ed25519", "",
    ] {
        let h = header_with(|h| {
            h.insert("alg".into(), json!(alg));
        });
        let token = forge(&k, &h, &claims().to_json());
        assert_eq!(
            verify(&token),
            Err(TokenError::Algorithm(alg.into())),
            "alg {alg:?}"
        );
    }
}

#[test]
fn alg_eddsa_and_ed25519_are_accepted() {
    let k = key();
    for alg in ["EdDSA", "Ed25519"] {
        let h = header_with(|h| {
            h.insert("alg".into(), json!(alg));
        });
        let token = forge(&k, &h, &claims().to_json());
        assert_eq!(verify(&token), Ok(claims()), "alg {alg:?}");
    }
}

#[test]
fn crit_header_is_rejected() {
    let k = key();
    for crit in [json!(["exp"]), json!([]), json!(null)] {
        let h = header_with(|h| {
            h.insert("crit".into(), crit.clone());
            h.insert("exp".into(), json!(NOW + 10));
        });
        let token = forge(&k, &h, &claims().to_json());
        assert_eq!(verify(&token), Err(TokenError::CriticalHeader), "{h}");
    }
    // The same header without `crit` is accepted.
    let h = header_with(|h| {
        h.insert("exp".into(), json!(NOW + 10));
    });
    assert_eq!(verify(&forge(&k, &h, &claims().to_json())), Ok(claims()));
}

#[test]
fn unknown_kid_is_rejected() {
    let k = key();
    let h = header_with(|h| {
        h.insert("kid".into(), json!("k2"));
    });
    let token = forge(&k, &h, &claims().to_json());
    assert_eq!(verify(&token), Err(TokenError::UnknownKeyId("k2".into())));
    // The same token is accepted by a ring that has the same key under "k2".
    let ring = KeyRing::with_key(kid("k2"), k.verifying_key()).unwrap();
    assert_eq!(ring.verify(&token, &validation()), Ok(claims()));
}

#[test]
fn missing_kid_is_rejected() {
    let k = key();
    let h = header_with(|h| {
        h.remove("kid");
    });
    let token = forge(&k, &h, &claims().to_json());
    assert_eq!(verify(&token), Err(TokenError::MissingKeyId));
    // jws::verify itself accepts it when the caller picks the key another way.
    let vk = k.verifying_key();
    let (header, payload) = jws::verify(&token, |_| Ok(&vk)).unwrap();
    assert_eq!(header.kid, None);
    assert_eq!(payload, claims().to_json());
}

#[test]
fn signature_from_another_key_is_rejected() {
    // Same kid, same content, another private key.
    let impostor = SigningKey::from_seed(&OTHER_SEED, kid("k1"));
    let token = impostor.mint(&claims());
    assert_eq!(verify(&token), Err(TokenError::Signature));
    assert_eq!(verify(&key().mint(&claims())), Ok(claims()));
}

// ---------------------------------------------------------------------------
// Integrity: flipped bits
// ---------------------------------------------------------------------------

#[test]
fn flipped_bit_in_header_is_rejected() {
    let k = key();
    let (h64, p64, s64) = split(&k.mint(&claims()));
    let mut header = unb64(&h64);
    // "JWT" -> "JVT": still a valid header, so only the signature check refuses it.
    let at = header.windows(3).position(|w| w == b"JWT").unwrap() + 1;
    header[at] ^= 0x01;
    let h64_flipped = b64(&header);
    assert_eq!(
        verify(&format!("{h64_flipped}.{p64}.{s64}")),
        Err(TokenError::Signature)
    );
    // Re-signed, the flipped header is accepted.
    assert_eq!(verify(&sign_input(&k, &h64_flipped, &p64)), Ok(claims()));
}

#[test]
fn flipped_bit_in_payload_is_rejected() {
    let k = key();
    let (h64, p64, s64) = split(&k.mint(&claims()));
    let mut payload = unb64(&p64);
    // "https://platform.example" -> "https://platform.dxample": still valid claims.
    let at = payload.windows(7).position(|w| w == b"example").unwrap();
    payload[at] ^= 0x01;
    let p64_flipped = b64(&payload);
    assert_eq!(
        verify(&format!("{h64}.{p64_flipped}.{s64}")),
        Err(TokenError::Signature)
    );
    let mut changed = claims();
    changed.issuer = "https://platform.dxample".into();
    assert_eq!(verify(&sign_input(&k, &h64, &p64_flipped)), Ok(changed));
}

#[test]
fn flipped_bit_in_signature_is_rejected() {
    let k = key();
    let (h64, p64, s64) = split(&k.mint(&claims()));
    let sig = unb64(&s64);
    // A bit in R, low and high bits of s (s stays below ℓ: only the equation fails).
    for (byte, bit) in [(0, 0), (17, 5), (31, 7), (32, 0), (45, 3), (63, 0)] {
        let mut flipped = sig.clone();
        flipped[byte] ^= 1 << bit;
        let token = format!("{h64}.{p64}.{}", b64(&flipped));
        assert_eq!(
            verify(&token),
            Err(TokenError::Signature),
            "byte {byte} bit {bit}"
        );
    }
    assert_eq!(verify(&format!("{h64}.{p64}.{s64}")), Ok(claims()));
}

#[test]
fn signature_with_s_not_below_the_group_order_is_rejected() {
    let k = key();
    let (h64, p64, s64) = split(&k.mint(&claims()));
    let mut sig = unb64(&s64);
    let s_plus_ell = add_ell(&sig[32..]);
    // s + ℓ < 2^253: the top three bits are clear, so only a full s < ℓ check
    // (not the legacy "high bits" check) tells it from s.
    assert_eq!(s_plus_ell[31] & 0xe0, 0);
    sig[32..].copy_from_slice(&s_plus_ell);
    let token = format!("{h64}.{p64}.{}", b64(&sig));
    assert_eq!(verify(&token), Err(TokenError::Signature));
}

// ---------------------------------------------------------------------------
// Small-order (weak) public keys
// ---------------------------------------------------------------------------

/// Encodings of small-order points: the identity (order 1), (0, -1) (order 2)
/// and (√-1, 0) (order 4).
fn small_order_points() -> Vec<[u8; 32]> {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut minus_one = [0xffu8; 32];
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    vec![identity, minus_one, [0u8; 32]]
}

#[test]
fn key_ring_refuses_weak_keys() {
    for bytes in small_order_points() {
        let weak = VerifyingKey::from_bytes(&bytes).unwrap();
        assert!(weak.is_weak());
        let mut ring = KeyRing::new();
        assert_eq!(
            ring.insert(kid("weak"), weak),
            Err(KeyError::WeakKey { kid: "weak".into() })
        );
        assert_eq!(
            ring.insert_bytes(kid("weak"), &bytes),
            Err(KeyError::WeakKey { kid: "weak".into() })
        );
        assert_eq!(
            KeyRing::with_key(kid("weak"), weak).unwrap_err(),
            KeyError::WeakKey { kid: "weak".into() }
        );
        assert!(ring.is_empty());
        // A JWK set naming it is refused too.
        let jwks =
            json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": b64(&bytes), "kid": "weak"}]});
        assert_eq!(
            KeyRing::from_jwks_json(&jwks.to_string()).unwrap_err(),
            KeyError::WeakKey { kid: "weak".into() }
        );
    }
    // A strong key is accepted.
    assert_eq!(ring_of(&[&key()]).len(), 1);
}

#[test]
fn small_order_key_forgery_is_rejected_by_strict_verification() {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = VerifyingKey::from_bytes(&identity).unwrap();
    // R = identity, s = 0: [s]B - [k]A = identity = R for every message.
    let mut sig_bytes = [0u8; 64];
    sig_bytes[..32].copy_from_slice(&identity);
    let sig = ed25519_dalek::Signature::from_bytes(&sig_bytes);

    let h64 = b64(br#"{"alg":"EdDSA","typ":"JWT","kid":"weak"}"#);
    let p64 = b64(&claims().to_json());
    let input = format!("{h64}.{p64}");
    // Plain (cofactored-equation, non-strict) verification accepts the forgery...
    assert!(weak.verify(input.as_bytes(), &sig).is_ok());
    assert!(weak.verify_strict(input.as_bytes(), &sig).is_err());
    // ...ours does not.
    let token = format!("{input}.{}", b64(&sig_bytes));
    assert!(matches!(
        jws::verify(&token, |_| Ok(&weak)),
        Err(TokenError::Signature)
    ));
}

// ---------------------------------------------------------------------------
// Canonical unpadded base64url
// ---------------------------------------------------------------------------

/// Claims whose JSON payload length is not a multiple of 3 (so its base64url
/// form can carry padding and trailing bits).
fn claims_with_trailing_bits() -> Claims {
    let mut c = claims();
    while c.to_json().len() % 3 == 0 {
        c.token_id.push('x');
    }
    c
}

#[test]
fn padded_segments_are_rejected() {
    let k = key();
    let c = claims_with_trailing_bits();
    let (h64, p64, s64) = split(&k.mint(&c));

    // Header: re-signed over the padded text, so only the base64 check refuses it.
    let h64_padded = padded(&h64);
    assert_eq!(LENIENT.decode(&h64_padded).unwrap(), unb64(&h64));
    assert_eq!(
        verify(&sign_input(&k, &h64_padded, &p64)),
        Err(TokenError::Base64(Segment::Header))
    );

    // Payload.
    let p64_padded = padded(&p64);
    assert_eq!(LENIENT.decode(&p64_padded).unwrap(), unb64(&p64));
    assert_eq!(
        verify(&sign_input(&k, &h64, &p64_padded)),
        Err(TokenError::Base64(Segment::Payload))
    );

    // Signature (64 bytes: 86 characters, 2 padding characters).
    let s64_padded = padded(&s64);
    assert_eq!(s64_padded.len(), 88);
    assert_eq!(LENIENT.decode(&s64_padded).unwrap(), unb64(&s64));
    assert_eq!(
        verify(&format!("{h64}.{p64}.{s64_padded}")),
        Err(TokenError::Base64(Segment::Signature))
    );

    // A lone '=' (not even canonical padding) is refused too.
    assert_eq!(
        verify(&format!("{h64}.{p64}.{s64}=")),
        Err(TokenError::Base64(Segment::Signature))
    );
    assert_eq!(verify(&format!("{h64}.{p64}.{s64}")), Ok(c));
}

#[test]
fn non_canonical_trailing_bits_are_rejected() {
    let k = key();
    let c = claims_with_trailing_bits();
    let (h64, p64, s64) = split(&k.mint(&c));

    let h64_nc = with_trailing_bit(&h64);
    assert_ne!(h64_nc, h64);
    assert_eq!(LENIENT.decode(&h64_nc).unwrap(), unb64(&h64));
    assert_eq!(
        verify(&sign_input(&k, &h64_nc, &p64)),
        Err(TokenError::Base64(Segment::Header))
    );

    let p64_nc = with_trailing_bit(&p64);
    assert_ne!(p64_nc, p64);
    assert_eq!(LENIENT.decode(&p64_nc).unwrap(), unb64(&p64));
    assert_eq!(
        verify(&sign_input(&k, &h64, &p64_nc)),
        Err(TokenError::Base64(Segment::Payload))
    );

    let s64_nc = with_trailing_bit(&s64);
    assert_ne!(s64_nc, s64);
    assert_eq!(LENIENT.decode(&s64_nc).unwrap(), unb64(&s64));
    assert_eq!(
        verify(&format!("{h64}.{p64}.{s64_nc}")),
        Err(TokenError::Base64(Segment::Signature))
    );

    assert_eq!(verify(&format!("{h64}.{p64}.{s64}")), Ok(c));
}

// ---------------------------------------------------------------------------
// Size cap
// ---------------------------------------------------------------------------

#[test]
fn token_over_the_size_cap_is_rejected() {
    assert_eq!(MAX_TOKEN_BYTES, 4096);
    // With kid "k1" the header is 51 characters and no payload length gives a
    // 4096-byte token (base64 skips a length), so the kid varies too.
    let with_issuer_len = |n: usize| {
        let mut c = claims();
        c.issuer = "i".repeat(n);
        c
    };
    let mut found = None;
    'search: for kid_text in ["k1", "k12", "k123"] {
        let k = SigningKey::from_seed(&SEED, kid(kid_text));
        for n in 2000..3200 {
            let at_cap = with_issuer_len(n);
            if k.mint(&at_cap).len() == MAX_TOKEN_BYTES {
                found = Some((k, at_cap, with_issuer_len(n + 1)));
                break 'search;
            }
        }
    }
    let (k, at_cap, over_cap) = found.expect("a token of exactly 4096 bytes");
    let ring = ring_of(&[&k]);
    assert_eq!(ring.verify(&k.mint(&at_cap), &validation()), Ok(at_cap));
    let big = k.mint(&over_cap);
    assert!(big.len() > MAX_TOKEN_BYTES);
    assert_eq!(
        ring.verify(&big, &validation()),
        Err(TokenError::TooLarge {
            len: big.len(),
            max: MAX_TOKEN_BYTES
        })
    );
    // Far over the cap, and over the cap with garbage: the size check comes first.
    let huge = k.mint(&with_issuer_len(10_000));
    assert!(matches!(
        ring.verify(&huge, &validation()),
        Err(TokenError::TooLarge { .. })
    ));
    assert!(matches!(
        ring.verify(&"!".repeat(MAX_TOKEN_BYTES + 1), &validation()),
        Err(TokenError::TooLarge { .. })
    ));
    assert_eq!(
        ring.verify(&"!".repeat(MAX_TOKEN_BYTES), &validation()),
        Err(TokenError::Malformed)
    );
}

// ---------------------------------------------------------------------------
// Claims: presence, types, values
// ---------------------------------------------------------------------------

#[test]
fn missing_exp_is_rejected() {
    let k = key();
    let token = forge(
        &k,
        &header(),
        &payload_with(|p| {
            p.remove("exp");
        }),
    );
    match verify(&token) {
        Err(TokenError::Claims(msg)) => assert!(msg.contains("exp"), "{msg}"),
        other => panic!("expected a claims error, got {other:?}"),
    }
}

#[test]
fn missing_nbf_defaults_to_iat() {
    let k = key();
    let token = forge(
        &k,
        &header(),
        &payload_with(|p| {
            p.remove("nbf");
        }),
    );
    assert_eq!(verify(&token), Ok(claims()));
}

fn assert_claims_error(payload: Vec<u8>, member: &str) {
    let token = forge(&key(), &header(), &payload);
    match verify(&token) {
        Err(TokenError::Claims(msg)) => assert!(!msg.is_empty(), "{member}"),
        other => panic!("{member}: expected a claims error, got {other:?}"),
    }
}

#[test]
fn exp_as_a_string_is_rejected() {
    let exp = NOW + 3600;
    assert_claims_error(
        payload_with(|p| {
            p.insert("exp".into(), json!(exp.to_string()));
        }),
        "exp",
    );
}

#[test]
fn exp_as_a_float_is_rejected() {
    let exp = (NOW + 3600) as f64;
    // Both a fractional and an integral float.
    for value in [json!(exp + 0.5), json!(exp)] {
        let payload = payload_with(|p| {
            p.insert("exp".into(), value.clone());
        });
        assert!(String::from_utf8_lossy(&payload).contains("\"exp\":1700003600"));
        assert!(String::from_utf8_lossy(&payload).contains("1700003600."));
        assert_claims_error(payload, "exp");
    }
}

#[test]
fn perms_not_an_array_is_rejected() {
    for value in [json!("JOIN"), json!({"JOIN": true}), json!(3)] {
        assert_claims_error(
            payload_with(|p| {
                p.insert("perms".into(), value.clone());
            }),
            "perms",
        );
    }
}

#[test]
fn unknown_permission_is_rejected_and_named() {
    let token = forge(
        &key(),
        &header(),
        &payload_with(|p| {
            p.insert("perms".into(), json!(["JOIN", "FLY", "SEND_AUDIO"]));
        }),
    );
    let err = verify(&token).unwrap_err();
    assert_eq!(err, TokenError::UnknownPermission("FLY".into()));
    assert!(err.to_string().contains("FLY"));
    // Names are case-sensitive.
    let token = forge(
        &key(),
        &header(),
        &payload_with(|p| {
            p.insert("perms".into(), json!(["join"]));
        }),
    );
    assert_eq!(
        verify(&token),
        Err(TokenError::UnknownPermission("join".into()))
    );
}

#[test]
fn escaped_json_strings_in_claims_are_read() {
    // Escapes are valid JSON: "\u004AOIN" is "JOIN"; the claims parser must not
    // depend on borrowing strings verbatim from the payload.
    let payload = String::from_utf8(claims().to_json())
        .unwrap()
        .replace("\"JOIN\"", "\"\\u004AOIN\"")
        .replace(CONF, &CONF.replace('-', "\\u002d"))
        .replace("\"alice\"", "\"\\u0061lice\"");
    assert!(payload.contains("\\u004AOIN") && payload.contains("\\u002d"));
    assert_eq!(
        verify(&forge(&key(), &header(), payload.as_bytes())),
        Ok(claims())
    );
    let payload = payload.replace("\\u004AOIN", "\\u004Aoin");
    assert_eq!(
        verify(&forge(&key(), &header(), payload.as_bytes())),
        Err(TokenError::UnknownPermission("Join".into()))
    );
}

// ---------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------

fn claims_expiring_at(exp: u64) -> Claims {
    let mut c = claims();
    c.issued_at = exp - DEFAULT_TOKEN_TTL_SECS;
    c.not_before = c.issued_at;
    c.expires_at = exp;
    c
}

#[test]
fn expired_beyond_leeway_is_rejected_within_leeway_accepted() {
    assert_eq!(DEFAULT_LEEWAY_SECS, 60);
    let k = key();
    let late = claims_expiring_at(NOW - DEFAULT_LEEWAY_SECS - 1);
    assert_eq!(
        verify(&k.mint(&late)),
        Err(TokenError::Expired {
            exp: late.expires_at,
            now: NOW
        })
    );
    for exp in [NOW - DEFAULT_LEEWAY_SECS, NOW - 1, NOW, NOW + 1] {
        let ok = claims_expiring_at(exp);
        assert_eq!(verify(&k.mint(&ok)), Ok(ok), "exp {exp}");
    }
}

#[test]
fn not_yet_valid_beyond_leeway_is_rejected() {
    let k = key();
    let mut early = claims();
    early.not_before = NOW + DEFAULT_LEEWAY_SECS + 1;
    assert_eq!(
        verify(&k.mint(&early)),
        Err(TokenError::NotYetValid {
            nbf: early.not_before,
            now: NOW
        })
    );
    let mut ok = claims();
    ok.not_before = NOW + DEFAULT_LEEWAY_SECS;
    assert_eq!(verify(&k.mint(&ok)), Ok(ok));
}

#[test]
fn custom_leeway_is_applied() {
    let k = key();
    let ring = ring_of(&[&k]);
    let expired_10s_ago = claims_expiring_at(NOW - 10);
    let token = k.mint(&expired_10s_ago);
    assert!(matches!(
        ring.verify(&token, &validation().with_leeway(0)),
        Err(TokenError::Expired { .. })
    ));
    assert!(matches!(
        ring.verify(&token, &validation().with_leeway(9)),
        Err(TokenError::Expired { .. })
    ));
    assert!(ring.verify(&token, &validation().with_leeway(10)).is_ok());

    let expired_200s_ago = claims_expiring_at(NOW - 200);
    let token = k.mint(&expired_200s_ago);
    assert!(matches!(verify(&token), Err(TokenError::Expired { .. })));
    assert!(ring.verify(&token, &validation().with_leeway(300)).is_ok());

    let mut future = claims();
    future.not_before = NOW + 120;
    let token = k.mint(&future);
    assert!(matches!(
        verify(&token),
        Err(TokenError::NotYetValid { .. })
    ));
    assert!(ring.verify(&token, &validation().with_leeway(120)).is_ok());
    assert!(matches!(
        ring.verify(&token, &validation().with_leeway(119)),
        Err(TokenError::NotYetValid { .. })
    ));
}

// ---------------------------------------------------------------------------
// Conference and revocation
// ---------------------------------------------------------------------------

#[test]
fn wrong_conference_is_rejected() {
    let k = key();
    let ring = ring_of(&[&k]);
    let token = k.mint(&claims());
    assert_eq!(
        ring.verify(&token, &Validation::new(NOW, other_conf())),
        Err(TokenError::WrongConference {
            expected: OTHER_CONF.into(),
            found: CONF.into(),
        })
    );
    assert_eq!(
        ring.verify(&token, &Validation::new(NOW, conf())),
        Ok(claims())
    );
    assert_eq!(
        ring.verify(&token, &Validation::any_conference(NOW)),
        Ok(claims())
    );
}

#[test]
fn revoked_jti_is_rejected() {
    let k = key();
    let ring = ring_of(&[&k]);
    let token = k.mint(&claims());
    let mut list = RevocationList::new();
    list.revoke_token("jti-other", NOW + 10_000);
    assert_eq!(
        ring.verify(&token, &validation().with_revocations(&list)),
        Ok(claims())
    );
    list.revoke_token("jti-1", NOW + 10_000);
    assert!(list.is_token_revoked("jti-1"));
    assert_eq!(
        ring.verify(&token, &validation().with_revocations(&list)),
        Err(TokenError::Revoked {
            jti: "jti-1".into()
        })
    );
    // Without the list the token still verifies: revocation is the only obstacle.
    assert_eq!(ring.verify(&token, &validation()), Ok(claims()));
}

#[test]
fn token_issued_before_subject_revocation_is_rejected_at_or_after_accepted() {
    let k = key();
    let ring = ring_of(&[&k]);
    let alice = ExternalId::new("alice").unwrap();
    let kick_time = NOW - 100;

    let mut list = RevocationList::new();
    list.revoke_subject(conf(), alice.clone(), kick_time, NOW + 10_000);
    // Another subject and another conference are unaffected.
    list.revoke_subject(
        conf(),
        ExternalId::new("bob").unwrap(),
        NOW + 1000,
        NOW + 10_000,
    );
    list.revoke_subject(other_conf(), alice, NOW + 1000, NOW + 10_000);

    let issued = |iat: u64| {
        let mut c = claims();
        c.issued_at = iat;
        c.not_before = iat;
        c
    };
    let check = |c: &Claims| ring.verify(&k.mint(c), &validation().with_revocations(&list));

    assert_eq!(
        check(&issued(kick_time - 1)),
        Err(TokenError::SubjectRevoked {
            subject: "alice".into(),
            before: kick_time,
        })
    );
    assert_eq!(check(&issued(kick_time)), Ok(issued(kick_time)));
    assert_eq!(check(&issued(kick_time + 1)), Ok(issued(kick_time + 1)));
    // Without the list, the early token verifies.
    assert_eq!(
        ring.verify(&k.mint(&issued(kick_time - 1)), &validation()),
        Ok(issued(kick_time - 1))
    );
}

// ---------------------------------------------------------------------------
// Keys: JWK sets, rotation, seeds, minted header
// ---------------------------------------------------------------------------

#[test]
fn jwk_set_round_trip() {
    let k1 = key();
    let k2 = SigningKey::from_seed(&OTHER_SEED, kid("k2"));
    let ring = ring_of(&[&k1, &k2]);
    let text = ring.to_jwks().to_json();

    let value: Value = serde_json::from_str(&text).unwrap();
    let keys = value["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(
        keys[0],
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64(k1.verifying_key().as_bytes()),
            "kid": "k1",
            "alg": "EdDSA",
            "use": "sig",
        })
    );

    let back = KeyRing::from_jwks_json(&text).unwrap();
    assert_eq!(back.len(), 2);
    assert_eq!(
        back.verify(&k1.mint(&claims()), &validation()),
        Ok(claims())
    );
    assert_eq!(
        back.verify(&k2.mint(&claims()), &validation()),
        Ok(claims())
    );
    assert_eq!(back.to_jwks(), ring.to_jwks());
}

#[test]
fn jwk_set_with_a_non_okp_key_is_rejected() {
    let x = b64(key().verifying_key().as_bytes());
    let jwks = |kty: &str, crv: &str| {
        json!({"keys": [{"kty": kty, "crv": crv, "x": x, "kid": "k1"}]}).to_string()
    };
    assert!(KeyRing::from_jwks_json(&jwks("OKP", "Ed25519")).is_ok());
    for (kty, crv) in [
        ("EC", "Ed25519"),
        ("OKP", "X25519"),
        ("OKP", "Ed448"),
        ("RSA", ""),
    ] {
        assert!(
            matches!(
                KeyRing::from_jwks_json(&jwks(kty, crv)),
                Err(KeyError::Jwk(_))
            ),
            "{kty}/{crv}"
        );
    }
    // A realistic EC key (no OKP members at all) is refused as well.
    let ec = json!({"keys": [{
        "kty": "EC", "crv": "P-256",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        "kid": "ec"
    }]});
    assert!(matches!(
        KeyRing::from_jwks_json(&ec.to_string()),
        Err(KeyError::Jwk(_))
    ));
}

#[test]
fn key_rotation_by_kid() {
    let old = key();
    let new = SigningKey::from_seed(&OTHER_SEED, kid("k2"));
    let mut ring = ring_of(&[&old, &new]);
    assert_eq!(
        ring.insert(kid("k1"), new.verifying_key()),
        Err(KeyError::DuplicateKeyId("k1".into()))
    );
    let old_token = old.mint(&claims());
    let new_token = new.mint(&claims());
    assert_eq!(ring.verify(&old_token, &validation()), Ok(claims()));
    assert_eq!(ring.verify(&new_token, &validation()), Ok(claims()));

    assert!(ring.remove("k1"));
    assert!(!ring.remove("k1"));
    assert_eq!(ring.len(), 1);
    assert_eq!(
        ring.verify(&old_token, &validation()),
        Err(TokenError::UnknownKeyId("k1".into()))
    );
    assert_eq!(ring.verify(&new_token, &validation()), Ok(claims()));
}

#[test]
fn from_seed_is_deterministic() {
    let a = SigningKey::from_seed(&SEED, kid("k1"));
    let b = SigningKey::from_seed(&SEED, kid("other"));
    assert_eq!(a.verifying_key(), b.verifying_key());
    assert_eq!(
        a.verifying_key(),
        ed25519_dalek::SigningKey::from_bytes(&SEED).verifying_key()
    );
    // Ed25519 is deterministic: same key and claims, same token.
    let c = SigningKey::from_seed(&SEED, kid("k1"));
    assert_eq!(a.mint(&claims()), c.mint(&claims()));
    let other = SigningKey::from_seed(&OTHER_SEED, kid("k1"));
    assert_ne!(a.verifying_key(), other.verifying_key());
    // Generated keys differ.
    let g1 = SigningKey::generate(kid("g"));
    let g2 = SigningKey::generate(kid("g"));
    assert_ne!(g1.verifying_key(), g2.verifying_key());
    // Debug never shows the secret.
    let debug = format!("{a:?}");
    assert!(debug.contains("k1"));
    assert!(!debug.contains(&format!("{:?}", SEED)));
}

#[test]
fn minted_header_is_exact() {
    let (h64, _, _) = split(&key().mint(&claims()));
    assert_eq!(
        String::from_utf8(unb64(&h64)).unwrap(),
        r#"{"alg":"EdDSA","typ":"JWT","kid":"k1"}"#
    );
    // A key id that needs JSON escaping.
    let k = SigningKey::from_seed(&SEED, kid(r#"2024-06 "blue"\k"#));
    let (h64, _, _) = split(&k.mint(&claims()));
    assert_eq!(
        String::from_utf8(unb64(&h64)).unwrap(),
        r#"{"alg":"EdDSA","typ":"JWT","kid":"2024-06 \"blue\"\\k"}"#
    );
    let ring = ring_of(&[&k]);
    assert_eq!(ring.verify(&k.mint(&claims()), &validation()), Ok(claims()));
}

#[test]
fn claims_round_trip() {
    let k = key();
    let ring = ring_of(&[&k]);
    let c = Claims::new(
        "https://platform.example/ünïcode \"quoted\"",
        ExternalId::new("user-42@example.org").unwrap(),
        conf(),
        PermissionSet::of(&[Permission::Invite, Permission::Join, Permission::Kick]),
        NOW,
        DEFAULT_TOKEN_TTL_SECS,
    );
    assert_eq!(c.issued_at, NOW);
    assert_eq!(c.not_before, NOW);
    assert_eq!(c.expires_at, NOW + DEFAULT_TOKEN_TTL_SECS);
    assert!(!c.token_id.is_empty());
    assert!(c.allows(Permission::Kick) && !c.allows(Permission::Record));

    let token = k.mint(&c);
    assert_eq!(ring.verify(&token, &validation()), Ok(c.clone()));
    assert_eq!(Claims::from_json(&c.to_json()), Ok(c.clone()));

    // The wire names and types.
    let (_, p64, _) = split(&token);
    let wire: Value = serde_json::from_slice(&unb64(&p64)).unwrap();
    assert_eq!(
        wire,
        json!({
            "iss": c.issuer,
            "sub": "user-42@example.org",
            "conf": CONF,
            "perms": ["INVITE", "JOIN", "KICK"],
            "iat": NOW,
            "nbf": NOW,
            "exp": NOW + DEFAULT_TOKEN_TTL_SECS,
            "jti": c.token_id,
        })
    );

    // Every permission set survives, including the empty one and all twelve.
    for perms in [
        PermissionSet::EMPTY,
        PermissionSet::ALL,
        PermissionSet::DEFAULT_INVITEE,
    ] {
        let mut c2 = c.clone();
        c2.permissions = perms;
        assert_eq!(ring.verify(&k.mint(&c2), &validation()), Ok(c2));
    }
    // Fresh token ids.
    let again = Claims::new(
        "i",
        ExternalId::new("a").unwrap(),
        conf(),
        PermissionSet::EMPTY,
        NOW,
        1,
    );
    assert_ne!(again.token_id, c.token_id);
}

#[test]
fn header_and_claims_must_be_json_objects() {
    // serde's derived `Deserialize` also reads a struct from a JSON array of its
    // fields in order; JWS (RFC 7515 section 4) and JWT (RFC 7519 section 7.2)
    // require objects. Both forgeries are validly signed.
    let k = key();
    let p64 = b64(&claims().to_json());
    for array_header in [&br#"["EdDSA","k1","JWT"]"#[..], br#" ["EdDSA","k1"]"#] {
        let result = verify(&sign_input(&k, &b64(array_header), &p64));
        assert!(matches!(result, Err(TokenError::Header(_))), "{result:?}");
    }
    // Whitespace before the object is fine (it is still a JSON object).
    let spaced = format!(" \n{}", header());
    assert_eq!(
        verify(&sign_input(&k, &b64(spaced.as_bytes()), &p64)),
        Ok(claims())
    );

    let c = claims();
    let array_claims = json!([
        c.issuer,
        "alice",
        CONF,
        ["JOIN"],
        NOW,
        NOW,
        NOW + 60,
        "jti-1"
    ]);
    let token = forge(&k, &header(), array_claims.to_string().as_bytes());
    let result = verify(&token);
    assert!(matches!(result, Err(TokenError::Claims(_))), "{result:?}");
    for not_object in [&b"null"[..], b"[]", b"\"claims\"", b"42"] {
        let result = verify(&forge(&k, &header(), not_object));
        assert!(matches!(result, Err(TokenError::Claims(_))), "{result:?}");
    }
}

#[test]
fn malformed_tokens_are_rejected() {
    let token = key().mint(&claims());
    let (h64, p64, s64) = split(&token);
    for bad in [
        String::new(),
        h64.clone(),
        format!("{h64}.{p64}"),
        format!("{h64}.{p64}.{s64}.{s64}"),
    ] {
        assert_eq!(verify(&bad), Err(TokenError::Malformed), "{bad}");
    }
    // A signature of the wrong length.
    let short = b64(&unb64(&s64)[..63]);
    assert_eq!(
        verify(&format!("{h64}.{p64}.{short}")),
        Err(TokenError::Signature)
    );
}

// ---------------------------------------------------------------------------
// Known answer: RFC 8037 Appendix A.4
// ---------------------------------------------------------------------------

#[test]
fn rfc8037_a4_known_answer() {
    // RFC 8037 A.1: the Ed25519 private key `d` and public key `x`.
    let d = unb64("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
    let x = unb64("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
    let dalek = ed25519_dalek::SigningKey::from_bytes(&d.try_into().unwrap());
    assert_eq!(dalek.verifying_key().as_bytes().as_slice(), x.as_slice());

    // A.4: signing.
    let jws = jws::sign(&dalek, br#"{"alg":"EdDSA"}"#, b"Example of Ed25519 signing");
    assert_eq!(
        jws,
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.\
         hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    );

    // A.5: verification, with the public key alone.
    let public = VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
    let (header, payload) = jws::verify(&jws, |_| Ok(&public)).unwrap();
    assert_eq!(header.alg, "EdDSA");
    assert_eq!(header.kid, None);
    assert_eq!(header.typ, None);
    assert_eq!(payload, b"Example of Ed25519 signing");

    // The same key in a ring, under a kid: the RFC token has none.
    let ring = KeyRing::with_key(kid("rfc8037"), public).unwrap();
    assert_eq!(
        ring.verify(&jws, &Validation::any_conference(NOW)),
        Err(TokenError::MissingKeyId)
    );
}
