//! Verifying many tokens at once (`KeyRing::verify_batch`): every result is
//! exactly what verifying that token alone returns, whatever the mix of good
//! and bad tokens and keys, and the cached variant fills and uses the cache.

mod common;

use common::TestRng;
use confkit::token::jws::{self, b64_encode};
use confkit::token::{
    Claims, KeyId, KeyRing, RevocationList, SigningKey, TokenError, Validation, VerifiedTokens,
};
use confkit::{ConferenceId, ExternalId, PermissionSet};
use ed25519_dalek::Signer;

const NOW: u64 = 1_700_000_000;

fn conf() -> ConferenceId {
    ConferenceId::parse("0b5e3c1a-7d2f-4c1e-9a3b-5f6e7d8c9b0a").unwrap()
}

fn claims(n: u64, now: u64, ttl: u64) -> Claims {
    let mut c = Claims::new(
        "https://platform.example",
        ExternalId::new(format!("user{n}")).unwrap(),
        conf(),
        PermissionSet::DEFAULT_INVITEE,
        now,
        ttl,
    );
    c.token_id = format!("jti-{n}");
    c
}

fn header(kid: &str) -> Vec<u8> {
    format!(r#"{{"alg":"EdDSA","typ":"JWT","kid":"{kid}"}}"#).into_bytes()
}

/// Signs `h64.p64` as given (no encoding), so a payload may be anything.
fn sign_raw(key: &SigningKey, h64: &str, p64: &str) -> String {
    let input = format!("{h64}.{p64}");
    let sig = key.dalek().sign(input.as_bytes());
    format!("{input}.{}", b64_encode(&sig.to_bytes()))
}

/// A token of one of 16 kinds: valid (often), or failing one check.
fn token(rng: &mut TestRng, k1: &SigningKey, k2: &SigningKey, stranger: &SigningKey) -> String {
    let n = rng.next() % 1000;
    match rng.below(16) {
        0..=4 => k1.mint(&claims(n, NOW, 600)),
        5 => k1.mint(&claims(7, NOW, 600)),
        6 => k2.mint(&claims(n, NOW, 600)),
        7 => k1.mint(&claims(n, NOW - 10_000, 600)),
        8 => k1.mint(&claims(n, NOW + 10_000, 600)),
        9 => {
            let mut c = claims(n, NOW, 600);
            c.conference = ConferenceId::parse("9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a").unwrap();
            k2.mint(&c)
        }
        10 => stranger.mint(&claims(n, NOW, 600)),
        11 => {
            // One character of the signature changed (not the last, whose
            // low bits are padding).
            let mut t = k1.mint(&claims(n, NOW, 600)).into_bytes();
            let at = t.len() - 2 - rng.index(80);
            t[at] = if t[at] == b'A' { b'B' } else { b'A' };
            String::from_utf8(t).unwrap()
        }
        12 => {
            let t = k1.mint(&claims(n, NOW, 600));
            let (h, rest) = t.split_once('.').unwrap();
            let (_, s) = rest.split_once('.').unwrap();
            let other = b64_encode(&claims(n + 1, NOW, 600).to_json());
            format!("{h}.{other}.{s}")
        }
        13 => jws::sign(k1.dalek(), &header("k1"), b"{\"not\":\"claims\"}"),
        14 => sign_raw(k1, &b64_encode(&header("k1")), "not*base64"),
        _ => ["", "a.b", "x.y.z", "a.b.c.d", "WzFd.e30.AA"][rng.index(5)].to_owned(),
    }
}

fn keys() -> (SigningKey, SigningKey, SigningKey, KeyRing) {
    let k1 = SigningKey::from_seed(&[1; 32], KeyId::new("k1").unwrap());
    let k2 = SigningKey::from_seed(&[2; 32], KeyId::new("k2").unwrap());
    let stranger = SigningKey::from_seed(&[3; 32], KeyId::new("k3").unwrap());
    let mut ring = KeyRing::new();
    for k in [&k1, &k2] {
        ring.insert(k.kid().clone(), k.verifying_key()).unwrap();
    }
    (k1, k2, stranger, ring)
}

#[test]
fn each_result_is_what_verifying_that_token_alone_returns() {
    let (k1, k2, stranger, ring) = keys();
    let mut revoked = RevocationList::new();
    revoked.revoke_token("jti-7", NOW + 3600);
    let validation = Validation::new(NOW, conf()).with_revocations(&revoked);
    let mut rng = TestRng(0x7b_a7c4);
    let mut kinds_seen = std::collections::BTreeSet::new();
    for round in 0..12 {
        let count = [1, 3, 64, 200][round % 4];
        let tokens: Vec<String> = (0..count)
            .map(|_| token(&mut rng, &k1, &k2, &stranger))
            .collect();
        let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
        let batch = ring.verify_batch(&refs, &validation);
        assert_eq!(batch.len(), tokens.len());
        for (token, got) in refs.iter().zip(&batch) {
            let alone = ring.verify(token, &validation);
            assert_eq!(got, &alone, "round {round}, token {token:?}");
            kinds_seen.insert(match &alone {
                Ok(_) => "ok".to_owned(),
                Err(e) => format!("{e:?}")
                    .split(|c: char| !c.is_alphanumeric())
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
    }
    // Valid, expired, not yet valid, wrong conference, revoked, unknown key,
    // signature, claims, payload base64, malformed, header.
    assert_eq!(kinds_seen.len(), 11, "outcomes: {kinds_seen:?}");
}

#[test]
fn the_cached_batch_fills_the_cache_and_answers_from_it() {
    let (k1, k2, stranger, ring) = keys();
    let validation = Validation::new(NOW, conf());
    let mut rng = TestRng(0xcac4e);
    let tokens: Vec<String> = (0..150)
        .map(|_| token(&mut rng, &k1, &k2, &stranger))
        .collect();
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    let cache = VerifiedTokens::new(1000);
    let first = ring.verify_batch_cached(&cache, &refs, &validation);
    for (token, got) in refs.iter().zip(&first) {
        assert_eq!(
            got.as_deref().map_err(Clone::clone),
            ring.verify(token, &validation)
                .as_ref()
                .map_err(Clone::clone),
            "{token:?}"
        );
    }
    // Every token whose signature and claims were good is cached (the
    // expired and misdirected ones too: their time and conference are
    // checked on every hit).
    let signed_well: std::collections::BTreeSet<&str> = refs
        .iter()
        .copied()
        .filter(|t| {
            let any_time = Validation::any_conference(NOW).with_leeway(u64::MAX / 4);
            ring.verify(t, &any_time).is_ok()
        })
        .collect();
    assert_eq!(cache.len(), signed_well.len());
    // An empty ring still admits the cached tokens: the second batch was
    // answered from the cache, with the same results.
    let again = KeyRing::new().verify_batch_cached(&cache, &refs, &validation);
    for ((token, a), b) in refs.iter().zip(&first).zip(&again) {
        if signed_well.contains(token) {
            assert_eq!(a, b, "{token:?}");
        } else {
            assert!(
                matches!(
                    b,
                    Err(TokenError::UnknownKeyId(_))
                        | Err(TokenError::Malformed)
                        | Err(TokenError::Base64(_))
                        | Err(TokenError::Header(_))
                ),
                "{token:?}: {b:?}"
            );
        }
    }
}

#[test]
fn an_empty_batch_and_a_weak_or_unknown_key_refuse_nothing_wrongly() {
    let (k1, _, _, ring) = keys();
    assert!(ring
        .verify_batch(&[], &Validation::new(NOW, conf()))
        .is_empty());
    let empty = KeyRing::new();
    let t = k1.mint(&claims(1, NOW, 600));
    let refs = vec![t.as_str(); 8];
    for r in empty.verify_batch(&refs, &Validation::new(NOW, conf())) {
        assert_eq!(r, Err(TokenError::UnknownKeyId("k1".into())));
    }
}
