//! `token::strict::verify_strict` gives exactly ed25519-dalek's
//! `verify_strict` verdict: on the C2SP/CCTV edge-case vectors, and on
//! random and tampered signatures (`CONFKIT_STRICT_CASES`, default 100,000).

mod common;

use common::{add_ell, env_count, TestRng};
use confkit::token::batch::{self, BatchKey, Item};
use confkit::token::strict::verify_strict;
use confkit::token::{KeyId, KeyRing};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::Value;
use sha2::{Digest, Sha512};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

struct Vector {
    number: u64,
    key: [u8; 32],
    sig: [u8; 64],
    msg: Vec<u8>,
    flags: Vec<String>,
}

fn vectors() -> Vec<Vector> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ed25519/ed25519_cctv_vectors.json"
    ))
    .unwrap();
    let list: Vec<Value> = serde_json::from_str(&text).unwrap();
    list.iter()
        .map(|v| Vector {
            number: v["number"].as_u64().unwrap(),
            key: hex(v["key"].as_str().unwrap()).try_into().unwrap(),
            sig: hex(v["sig"].as_str().unwrap()).try_into().unwrap(),
            msg: v["msg"].as_str().unwrap().as_bytes().to_vec(),
            flags: v["flags"]
                .as_array()
                .map(|f| f.iter().map(|x| x.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default(),
        })
        .collect()
}

fn dalek_verdict(key: &VerifyingKey, msg: &[u8], sig: &[u8; 64]) -> bool {
    key.verify_strict(msg, &Signature::from_bytes(sig)).is_ok()
}

#[test]
fn the_cctv_vectors_get_verify_stricts_verdict() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 914, "the fixture is the whole CCTV set");
    let (mut accepted, mut refused) = (0, 0);
    for v in &vectors {
        let allowed = ["low_order_component_A", "low_order_component_R"];
        let expected = v.flags.iter().all(|f| allowed.contains(&f.as_str()));
        let ours = match VerifyingKey::from_bytes(&v.key) {
            Ok(key) => {
                assert_eq!(
                    verify_strict(&key, &v.msg, &v.sig),
                    dalek_verdict(&key, &v.msg, &v.sig),
                    "vector {} ({:?}): differs from verify_strict",
                    v.number,
                    v.flags
                );
                // A key ring refuses a small-order key outright.
                let in_ring = KeyRing::with_key(KeyId::new("k").unwrap(), key).is_ok();
                assert_eq!(
                    in_ring,
                    !v.flags.iter().any(|f| f == "low_order_A"),
                    "vector {}: ring admission",
                    v.number
                );
                in_ring && verify_strict(&key, &v.msg, &v.sig)
            }
            Err(_) => false,
        };
        assert_eq!(
            ours, expected,
            "vector {} ({:?}): verdict",
            v.number, v.flags
        );
        if ours {
            accepted += 1;
        } else {
            refused += 1;
        }
    }
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
}

/// The small-order points with their encodings (from the vectors' low-order
/// R), and the seven of them other than the identity.
#[allow(clippy::type_complexity)]
fn torsion_points() -> (Vec<([u8; 32], EdwardsPoint)>, Vec<EdwardsPoint>) {
    // Small-order points and their encodings, from the vectors' low-order R.
    let mut torsion: Vec<([u8; 32], EdwardsPoint)> = Vec::new();
    for v in vectors() {
        if v.flags.iter().any(|f| f == "low_order_R") {
            let r: [u8; 32] = v.sig[..32].try_into().unwrap();
            if let Some(p) = CompressedEdwardsY(r).decompress() {
                assert!(p.is_small_order());
                if !torsion.iter().any(|(b, _)| *b == r) {
                    torsion.push((r, p));
                }
            }
        }
    }
    assert!(
        torsion.len() >= 8,
        "{} small-order encodings",
        torsion.len()
    );
    let mut components: Vec<EdwardsPoint> = Vec::new();
    for (_, p) in &torsion {
        if *p != EdwardsPoint::default() && !components.contains(p) {
            components.push(*p);
        }
    }
    assert_eq!(components.len(), 7, "the torsion subgroup has 8 points");
    (torsion, components)
}

/// Signs by hand with secret scalar `a` for the public point `a_pub` (which
/// may carry a torsion component) and nonce point `[r]B + t`.
fn sign_by_hand(a: Scalar, a_pub: &[u8; 32], r: Scalar, t: EdwardsPoint, msg: &[u8]) -> [u8; 64] {
    let big_r = (EdwardsPoint::mul_base(&r) + t).compress();
    let k = Scalar::from_hash(
        Sha512::new()
            .chain_update(big_r.as_bytes())
            .chain_update(a_pub)
            .chain_update(msg),
    );
    let s = r + k * a;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(big_r.as_bytes());
    sig[32..].copy_from_slice(s.as_bytes());
    sig
}

#[test]
fn random_and_tampered_signatures_get_verify_stricts_verdict() {
    let cases: u64 = env_count("CONFKIT_STRICT_CASES", 100_000);
    let mut rng = TestRng(0x5eed_0fc0_f1e5);
    let (torsion, components) = torsion_points();
    let keys: Vec<SigningKey> = (0..64)
        .map(|_| SigningKey::from_bytes(&rng.bytes::<32>()))
        .collect();

    const KINDS: u64 = 9;
    let mut verdicts = [[0u64; 2]; KINDS as usize];
    for case in 0..cases {
        let kind = case % KINDS;
        let len = rng.below(400) as usize;
        let mut msg = vec![0u8; len];
        for b in msg.iter_mut() {
            *b = rng.next() as u8;
        }
        let signer = &keys[rng.below(keys.len() as u64) as usize];
        let mut key = signer.verifying_key();
        let mut sig = signer.sign(&msg).to_bytes();
        match kind {
            0 => {}
            1 => sig[rng.below(64) as usize] ^= 1 << rng.below(8),
            2 if !msg.is_empty() => {
                let i = rng.below(msg.len() as u64) as usize;
                msg[i] ^= 1 << rng.below(8);
            }
            2 => msg.push(0),
            3 => {
                let s = add_ell(&sig[32..]);
                sig[32..].copy_from_slice(&s);
            }
            4 => {
                let (bytes, _) = torsion[rng.below(torsion.len() as u64) as usize];
                sig[..32].copy_from_slice(&bytes);
            }
            5 => {
                // A nonce with a torsion component, signed by the key's holder.
                let a = Scalar::from_bytes_mod_order_wide(&rng.bytes::<64>());
                let a_pub = EdwardsPoint::mul_base(&a).compress().to_bytes();
                key = VerifyingKey::from_bytes(&a_pub).unwrap();
                let t = components[rng.below(components.len() as u64) as usize];
                sig = sign_by_hand(
                    a,
                    &a_pub,
                    Scalar::from_bytes_mod_order_wide(&rng.bytes::<64>()),
                    t,
                    &msg,
                );
            }
            6 => sig = rng.bytes::<64>(),
            7 => {
                // A public key with a torsion component.
                let a = Scalar::from_bytes_mod_order_wide(&rng.bytes::<64>());
                let t = components[rng.below(components.len() as u64) as usize];
                let a_pub = (EdwardsPoint::mul_base(&a) + t).compress().to_bytes();
                key = VerifyingKey::from_bytes(&a_pub).unwrap();
                sig = sign_by_hand(
                    a,
                    &a_pub,
                    Scalar::from_bytes_mod_order_wide(&rng.bytes::<64>()),
                    EdwardsPoint::default(),
                    &msg,
                );
            }
            _ => key = keys[rng.below(keys.len() as u64) as usize].verifying_key(),
        }
        let dalek = dalek_verdict(&key, &msg, &sig);
        let ours = verify_strict(&key, &msg, &sig);
        assert_eq!(
            ours, dalek,
            "case {case} (kind {kind}): ours {ours}, verify_strict {dalek}"
        );
        verdicts[kind as usize][usize::from(ours)] += 1;
    }
    if cases >= 10 * KINDS {
        // Each kind did what it was meant to: valid ones verify, the
        // tampered ones are refused, and key torsion goes both ways.
        let [refused, accepted] = verdicts[0];
        assert_eq!(
            (refused, accepted > 0),
            (0, true),
            "valid: {:?}",
            verdicts[0]
        );
        for kind in [1, 2, 3, 4, 5, 6] {
            assert_eq!(verdicts[kind][1], 0, "kind {kind}: {:?}", verdicts[kind]);
        }
        assert!(
            verdicts[7][0] > 0 && verdicts[7][1] > 0,
            "key torsion: {:?}",
            verdicts[7]
        );
    }
}

#[test]
fn the_cctv_vectors_in_batches_differ_only_by_a_torsioned_nonce() {
    // Each vector four times over, so that the batch equation checks it.
    let mut differing = 0;
    for v in vectors() {
        let Ok(key) = VerifyingKey::from_bytes(&v.key) else {
            continue;
        };
        let items = vec![
            Item {
                message: &v.msg,
                signature: &v.sig,
            };
            batch::MIN_BATCH
        ];
        let strict = dalek_verdict(&key, &v.msg, &v.sig);
        let verdicts = batch::verify_batch(&BatchKey::new(key), &items);
        assert!(verdicts.iter().all(|&b| b == verdicts[0]));
        if verdicts[0] != strict {
            differing += 1;
            assert!(
                !strict
                    && v.flags.iter().any(|f| f == "low_order_component_R")
                    && !v.flags.iter().any(|f| {
                        f.ends_with("_A") || f == "low_order_R" || f == "non_canonical_R"
                    }),
                "vector {}: batch {}, verify_strict {strict}, flags {:?}",
                v.number,
                verdicts[0],
                v.flags
            );
        }
    }
    assert!(differing > 0, "the vectors include torsioned nonces");
}

/// A signature of a batch test, and what was done to it.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Valid,
    FlippedSignatureBit,
    FlippedMessageBit,
    SPlusEll,
    SmallOrderR,
    TorsionedNonce,
    RandomBytes,
    OtherKey,
    NonCanonicalR,
    SignedZeroX,
    /// R of small order, with the s the key's holder computes for it (so
    /// the cofactored equation holds): only the pre-check refuses it.
    HolderSmallOrderR,
}

#[test]
fn batches_get_verify_stricts_verdict_except_for_torsioned_nonces() {
    let batches: u64 = env_count("CONFKIT_BATCH_CASES", 240);
    let mut rng = TestRng(0xba7c_5eed);
    let (torsion, components) = torsion_points();
    let other = SigningKey::from_bytes(&rng.bytes::<32>());
    let (mut torsioned_accepted, mut equation_batches) = (0u64, 0u64);
    for b in 0..batches {
        let a = Scalar::from_bytes_mod_order_wide(&rng.bytes::<64>());
        // Every eighth batch is by a key with a torsion component: those
        // are never batched, so every verdict must be exactly strict.
        let key_torsion = if b % 8 == 7 {
            components[rng.index(components.len())]
        } else {
            EdwardsPoint::default()
        };
        let a_pub = (EdwardsPoint::mul_base(&a) + key_torsion)
            .compress()
            .to_bytes();
        let key = VerifyingKey::from_bytes(&a_pub).unwrap();
        let size = match b % 4 {
            0 => 1 + rng.index(8),
            3 => batch::MAX_BATCH - 8 + rng.index(16),
            _ => 60 + rng.index(10),
        };
        // A third of the batches is all valid; in the rest one signature
        // in 16 is tampered with.
        let tamper = b % 3 != 0;
        let mut cases: Vec<(Kind, Vec<u8>, [u8; 64])> = Vec::with_capacity(size);
        for _ in 0..size {
            let mut msg = vec![0u8; rng.index(300)];
            msg.iter_mut().for_each(|m| *m = rng.next() as u8);
            let nonce = Scalar::from_bytes_mod_order_wide(&rng.bytes::<64>());
            let mut sig = sign_by_hand(a, &a_pub, nonce, EdwardsPoint::default(), &msg);
            let kind = if tamper && rng.below(16) == 0 {
                [
                    Kind::FlippedSignatureBit,
                    Kind::FlippedMessageBit,
                    Kind::SPlusEll,
                    Kind::SmallOrderR,
                    Kind::TorsionedNonce,
                    Kind::RandomBytes,
                    Kind::OtherKey,
                    Kind::NonCanonicalR,
                    Kind::SignedZeroX,
                    Kind::HolderSmallOrderR,
                ][rng.index(10)]
            } else if rng.below(64) == 0 {
                // Now and then a torsioned nonce even in an all-valid batch.
                Kind::TorsionedNonce
            } else {
                Kind::Valid
            };
            match kind {
                Kind::Valid => {}
                Kind::FlippedSignatureBit => sig[rng.index(64)] ^= 1 << rng.below(8),
                Kind::FlippedMessageBit if msg.is_empty() => msg.push(1),
                Kind::FlippedMessageBit => {
                    let i = rng.index(msg.len());
                    msg[i] ^= 1 << rng.below(8);
                }
                Kind::SPlusEll => {
                    let s = add_ell(&sig[32..]);
                    sig[32..].copy_from_slice(&s);
                }
                Kind::SmallOrderR => {
                    sig[..32].copy_from_slice(&torsion[rng.index(torsion.len())].0)
                }
                Kind::TorsionedNonce => {
                    let t = components[rng.index(components.len())];
                    sig = sign_by_hand(a, &a_pub, nonce, t, &msg);
                }
                Kind::RandomBytes => sig = rng.bytes::<64>(),
                Kind::OtherKey => sig = other.sign(&msg).to_bytes(),
                Kind::NonCanonicalR => {
                    // y = p + j for a small j: the encoding of a point when
                    // one exists, but never the canonical one.
                    let mut r = [0xffu8; 32];
                    r[0] = 0xed + rng.below(19) as u8;
                    r[31] = 0x7f | ((rng.below(2) as u8) << 7);
                    sig[..32].copy_from_slice(&r);
                }
                Kind::HolderSmallOrderR => {
                    let t = torsion[rng.index(torsion.len())].1;
                    sig = sign_by_hand(a, &a_pub, Scalar::ZERO, t, &msg);
                }
                Kind::SignedZeroX => {
                    // y = 1 with the sign bit set: decompresses, not canonical.
                    let mut r = [0u8; 32];
                    r[0] = 1;
                    r[31] = 0x80;
                    sig[..32].copy_from_slice(&r);
                }
            }
            cases.push((kind, msg, sig));
        }
        let items: Vec<Item<'_>> = cases
            .iter()
            .map(|(_, msg, sig)| Item {
                message: msg,
                signature: sig,
            })
            .collect();
        let batch_key = BatchKey::new(key);
        let verdicts = batch::verify_batch(&batch_key, &items);
        assert_eq!(verdicts.len(), cases.len());
        if b % 4 == 3 {
            // The key's torsion verdict, decided on its first batch, holds
            // for its next batches and for a clone made after it.
            assert_eq!(
                batch::verify_batch(&batch_key.clone(), &items),
                verdicts,
                "batch {b}: the same key again"
            );
        }
        let mut torsioned_here = false;
        for (i, ((kind, msg, sig), ours)) in cases.iter().zip(&verdicts).enumerate() {
            let strict = dalek_verdict(&key, msg, sig);
            if *kind == Kind::TorsionedNonce && key_torsion == EdwardsPoint::default() {
                // The one documented difference: only the key's holder can
                // sign with a torsioned nonce, and the cofactored equation
                // may accept it.
                assert!(!strict || *ours, "batch {b} item {i}: {kind:?}");
                torsioned_here |= *ours && !strict;
            } else {
                assert_eq!(
                    *ours, strict,
                    "batch {b} item {i} ({kind:?}): batch {ours}, verify_strict {strict}"
                );
            }
            if *kind == Kind::Valid && key_torsion == EdwardsPoint::default() {
                assert!(ours, "batch {b} item {i}: a valid signature");
            }
        }
        if torsioned_here {
            torsioned_accepted += 1;
        }
        if size >= batch::MIN_BATCH && key_torsion == EdwardsPoint::default() && !tamper {
            equation_batches += 1;
        }
    }
    if batches >= 100 {
        // A torsioned nonce that verify_strict refuses was accepted: the
        // batch equation, not the fallback, decided those batches.
        assert!(
            torsioned_accepted > 0 && equation_batches > 0,
            "{torsioned_accepted} batches accepted a torsioned nonce"
        );
    }
}
