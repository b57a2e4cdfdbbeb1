//! Batch verification of many Ed25519 signatures by one key: what a join
//! storm or an edge server admitting a webinar pays per token.
//!
//! A batch is checked with one cofactored equation over all its signatures,
//! with the key's terms merged into one:
//!
//! `[8]( Σ zᵢRᵢ + [Σ zᵢkᵢ]A − [Σ zᵢsᵢ]B ) = 0`
//!
//! where kᵢ = SHA-512(Rᵢ ‖ A ‖ Mᵢ) and the zᵢ are 128-bit coefficients drawn
//! from a hash of the whole batch and 32 bytes from the operating system's
//! generator (the hash alone keeps the check sound when the generator
//! fails). If the equation fails, every signature of the batch is checked on
//! its own with [`strict::verify_strict`](super::strict::verify_strict), so
//! one bad signature costs the batch its saving but never its verdicts.
//!
//! # How strict
//! Before a signature enters the equation it passes every check of
//! `verify_strict` that does not need the equation: s canonical, R the
//! canonical encoding of a point, R not of small order, the key not of small
//! order; a key with a torsion component is never batched. What remains
//! different is the cofactor: the batch equation
//! ignores a small-order (torsion) component of sB − kA − R, which
//! `verify_strict`'s cofactorless equation refuses. Such a signature needs
//! sB − kA to equal R's prime-order part for a k that hashes R itself, which
//! only the private key's holder can compute (it is a signature whose nonce
//! point carries a torsion component). So: **a batch accepts no signature
//! that `verify_strict` would refuse, unless the holder of the private key
//! made it.** Anyone else's forgery is refused as `verify_strict` refuses it
//! (except with probability about 2⁻¹²⁸ per batch, from the coefficients).

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha512};
use std::sync::OnceLock;

use super::strict;

/// Batches smaller than this are checked one signature at a time: below it
/// the equation saves less than it costs.
pub const MIN_BATCH: usize = 4;

/// Signatures per equation. Larger batches are checked in chunks of this
/// size, so the work lost to one bad signature is bounded and the scratch
/// memory (about 200 bytes per signature) stays small.
pub const MAX_BATCH: usize = 256;

/// One signature to check: the signed message and the 64 signature bytes.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    /// The signed bytes.
    pub message: &'a [u8],
    /// R ‖ s.
    pub signature: &'a [u8; 64],
}

/// A verifying key prepared for batches: whether it has a torsion component
/// (a full scalar multiplication to find out) is decided once, on its first
/// batch, not per batch, and not for keys that never see one (a phone's
/// ring, a verifier that checks one token at a time).
#[derive(Debug, Clone)]
pub struct BatchKey {
    key: VerifyingKey,
    /// Neither small order nor a torsion component: batches may use the
    /// cofactored equation. Decided by [`BatchKey::batchable`].
    batchable: OnceLock<bool>,
}

impl BatchKey {
    /// Prepares `key`.
    #[must_use]
    pub fn new(key: VerifyingKey) -> Self {
        BatchKey {
            key,
            batchable: OnceLock::new(),
        }
    }

    /// Whether batches for this key may use the cofactored equation.
    fn batchable(&self) -> bool {
        *self
            .batchable
            .get_or_init(|| !self.key.is_weak() && is_torsion_free(&self.key.to_edwards()))
    }

    /// The key.
    #[must_use]
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }
}

/// ℓ - 1, little-endian (from bytes: negating `Scalar::ONE` would link the
/// scalar negation too).
const ELL_MINUS_ONE: [u8; 32] = [
    0xec, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// Whether `[ℓ]A` is the identity, written as `[ℓ - 1]A + A` with the
/// double-base multiplication a verifier links anyway: dalek's own
/// `is_torsion_free` would add its constant-time variable-base
/// multiplication (about 13 KB) to every program that only verifies tokens.
/// The key is public, so variable time is fine.
fn is_torsion_free(a: &EdwardsPoint) -> bool {
    let p = EdwardsPoint::vartime_double_scalar_mul_basepoint(
        &Scalar::from_bytes_mod_order(ELL_MINUS_ONE),
        a,
        &Scalar::ZERO,
    );
    (p + a).is_identity()
}

/// The verdict for each of `items`, in order: `true` exactly where
/// [`strict::verify_strict`] accepts, except for signatures only the key's
/// holder could make (see the module documentation).
#[must_use]
pub fn verify_batch(key: &BatchKey, items: &[Item<'_>]) -> Vec<bool> {
    let mut verdicts = vec![false; items.len()];
    if !key.batchable() {
        // Weak keys are refused by `verify_strict`; for a key with a torsion
        // component the cofactored equation would ignore what
        // `verify_strict` refuses: check one at a time.
        for (item, verdict) in items.iter().zip(verdicts.iter_mut()) {
            *verdict = strict::verify_strict(&key.key, item.message, item.signature);
        }
        return verdicts;
    }
    for (chunk, out) in items.chunks(MAX_BATCH).zip(verdicts.chunks_mut(MAX_BATCH)) {
        verify_chunk(&key.key, chunk, out);
    }
    verdicts
}

/// A signature that passed the checks before the equation.
struct Candidate {
    index: usize,
    r_bytes: [u8; 32],
    r: EdwardsPoint,
    s: Scalar,
    k: Scalar,
}

fn verify_chunk(key: &VerifyingKey, items: &[Item<'_>], out: &mut [bool]) {
    if items.len() < MIN_BATCH {
        for (item, verdict) in items.iter().zip(out.iter_mut()) {
            *verdict = strict::verify_strict(key, item.message, item.signature);
        }
        return;
    }
    let candidates: Vec<Candidate> = items
        .iter()
        .enumerate()
        .filter_map(|(index, item)| candidate(key, index, item))
        .collect();
    if candidates.is_empty() {
        return;
    }
    if equation_holds(key, &candidates) {
        for c in &candidates {
            out[c.index] = true;
        }
    } else {
        for c in &candidates {
            let item = &items[c.index];
            out[c.index] = strict::verify_strict(key, item.message, item.signature);
        }
    }
}

/// The checks `verify_strict` makes outside its equation; `None` where one
/// fails (the verdict is then `false`, as `verify_strict`'s).
fn candidate(key: &VerifyingKey, index: usize, item: &Item<'_>) -> Option<Candidate> {
    let (r_bytes, s_bytes) = item.signature.split_at(32);
    let mut s32 = [0u8; 32];
    s32.copy_from_slice(s_bytes);
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s32))?;
    let mut r32 = [0u8; 32];
    r32.copy_from_slice(r_bytes);
    if !canonical_y(&r32) {
        return None;
    }
    if SMALL_ORDER.contains(&r32) {
        return None;
    }
    let r = CompressedEdwardsY(r32).decompress()?;
    let k = Scalar::from_hash(
        Sha512::new()
            .chain_update(r_bytes)
            .chain_update(key.as_bytes())
            .chain_update(item.message),
    );
    Some(Candidate {
        index,
        r_bytes: r32,
        r,
        s,
        k,
    })
}

/// Every encoding with a canonical y that decompresses to a point of small
/// order: the eight points of the torsion subgroup, and the two with x = 0
/// (y = ±1) with the sign bit set. Comparing bytes costs far less than the
/// three doublings of a small-order check on the decompressed point.
const SMALL_ORDER: [[u8; 32]; 10] = [
    hex32("0100000000000000000000000000000000000000000000000000000000000000"),
    hex32("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    hex32("0000000000000000000000000000000000000000000000000000000000000000"),
    hex32("0000000000000000000000000000000000000000000000000000000000000080"),
    hex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    hex32("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
    hex32("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    hex32("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
    hex32("0100000000000000000000000000000000000000000000000000000000000080"),
    hex32("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
];

const fn hex32(text: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a hex digit"),
        }
    }
    let t = text.as_bytes();
    assert!(t.len() == 64);
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = nibble(t[2 * i]) << 4 | nibble(t[2 * i + 1]);
        i += 1;
    }
    out
}

/// Whether the y coordinate in `bytes` (the low 255 bits) is below
/// p = 2²⁵⁵ − 19, i.e. a canonical field element.
fn canonical_y(bytes: &[u8; 32]) -> bool {
    // y ≥ p exactly when bits 255..0 are all ones except possibly the low
    // byte, which is then at least 0xed.
    let high_all_ones = bytes[31] & 0x7f == 0x7f && bytes[1..31].iter().all(|&b| b == 0xff);
    !(high_all_ones && bytes[0] >= 0xed)
}

/// The cofactored batch equation over `candidates` (at least one).
fn equation_holds(key: &VerifyingKey, candidates: &[Candidate]) -> bool {
    let z = coefficients(key, candidates);
    let mut sum_zs = Scalar::ZERO;
    let mut sum_zk = Scalar::ZERO;
    for (c, z) in candidates.iter().zip(&z) {
        sum_zs += z * c.s;
        sum_zk += z * c.k;
    }
    let scalars = [-sum_zs, sum_zk].into_iter().chain(z.iter().copied());
    let points = [ED25519_BASEPOINT_POINT, key.to_edwards()]
        .into_iter()
        .chain(candidates.iter().map(|c| c.r));
    EdwardsPoint::vartime_multiscalar_mul(scalars, points)
        .mul_by_cofactor()
        .is_identity()
}

/// 128-bit coefficients, one per candidate, from a hash of the key, every
/// candidate's R, s and k, and fresh random bytes.
fn coefficients(key: &VerifyingKey, candidates: &[Candidate]) -> Vec<Scalar> {
    let mut fresh = [0u8; 32];
    // A failing generator leaves zeros: the hash of the batch still keeps
    // the coefficients unpredictable to whoever chose the signatures.
    let _ = getrandom::fill(&mut fresh);
    let mut h = Sha512::new()
        .chain_update(b"confkit batch verify v1")
        .chain_update(fresh)
        .chain_update(key.as_bytes());
    for c in candidates {
        h.update(c.r_bytes);
        h.update(c.s.as_bytes());
        h.update(c.k.as_bytes());
    }
    let seed = h.finalize();
    let mut z = Vec::with_capacity(candidates.len());
    for block in 0..candidates.len().div_ceil(4) as u64 {
        let wide = Sha512::new()
            .chain_update(seed)
            .chain_update(block.to_le_bytes())
            .finalize();
        for quarter in wide.chunks(16) {
            if z.len() == candidates.len() {
                break;
            }
            let mut bytes = [0u8; 32];
            bytes[..16].copy_from_slice(quarter);
            z.push(Scalar::from_bytes_mod_order(bytes));
        }
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::traits::Identity;

    #[test]
    fn the_small_order_table_is_exactly_the_torsion_subgroup_and_its_signed_zero_x_variants() {
        // An order-8 point generates the (cyclic) torsion subgroup.
        let t = CompressedEdwardsY(SMALL_ORDER[4]).decompress().unwrap();
        assert!(!(t + t + t + t).is_identity() && t.mul_by_cofactor().is_identity());
        let mut multiples = Vec::new();
        let mut p = EdwardsPoint::identity();
        for _ in 0..8 {
            multiples.push(p.compress().to_bytes());
            p += t;
        }
        let mut canonical = SMALL_ORDER[..8].to_vec();
        canonical.sort();
        multiples.sort();
        assert_eq!(canonical, multiples);
        for bytes in &SMALL_ORDER[8..] {
            let p = CompressedEdwardsY(*bytes).decompress().unwrap();
            assert!(p.is_small_order() && p.compress().to_bytes() != *bytes);
        }
        // No other canonical encoding with x = 0 exists: y = ±1 are the only
        // points with x = 0, so the table is complete.
        for bytes in &SMALL_ORDER {
            assert!(canonical_y(bytes));
        }
    }

    #[test]
    fn the_equation_holds_for_good_signatures_and_fails_for_a_bad_one() {
        use ed25519_dalek::Signer;
        let signer = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
        let key = signer.verifying_key();
        let messages: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 10 + usize::from(i)]).collect();
        let sigs: Vec<[u8; 64]> = messages.iter().map(|m| signer.sign(m).to_bytes()).collect();
        let items: Vec<Item<'_>> = messages
            .iter()
            .zip(&sigs)
            .map(|(message, signature)| Item { message, signature })
            .collect();
        let candidates = |items: &[Item<'_>]| -> Vec<Candidate> {
            items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| candidate(&key, i, item))
                .collect()
        };
        let good = candidates(&items);
        assert_eq!(good.len(), 8);
        assert!(equation_holds(&key, &good));
        let mut bad = items.clone();
        bad[5].message = b"another message";
        let bad = candidates(&bad);
        assert_eq!(bad.len(), 8, "a wrong message passes the pre-checks");
        assert!(!equation_holds(&key, &bad));
    }

    #[test]
    fn ell_minus_one_is_minus_one() {
        assert_eq!(
            Scalar::from_bytes_mod_order(ELL_MINUS_ONE) + Scalar::ONE,
            Scalar::ZERO
        );
        assert_eq!(
            Scalar::from_canonical_bytes(ELL_MINUS_ONE).into_option(),
            Some(-Scalar::ONE)
        );
    }

    #[test]
    fn the_torsion_check_agrees_with_dalek_on_every_coset() {
        let t = CompressedEdwardsY(SMALL_ORDER[4]).decompress().unwrap();
        let mut torsion = EdwardsPoint::identity();
        for i in 0..8u8 {
            for x in [1u64, 2, 0xdead_beef, u64::MAX] {
                let p = EdwardsPoint::mul_base(&Scalar::from(x)) + torsion;
                assert_eq!(is_torsion_free(&p), p.is_torsion_free(), "{x} + T{i}");
                assert_eq!(is_torsion_free(&p), i == 0, "{x} + T{i}");
            }
            assert_eq!(is_torsion_free(&torsion), i == 0, "T{i}");
            torsion += t;
        }
    }

    #[test]
    fn canonical_y_refuses_exactly_p_and_above() {
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        assert!(!canonical_y(&p));
        let mut below = p;
        below[0] = 0xec;
        assert!(canonical_y(&below));
        let mut top = [0xffu8; 32];
        top[31] = 0x7f;
        assert!(!canonical_y(&top));
        // The sign bit is not part of y.
        let mut signed = below;
        signed[31] = 0xff;
        assert!(canonical_y(&signed));
        p[31] = 0xff;
        assert!(!canonical_y(&p));
        assert!(canonical_y(&[0u8; 32]));
    }
}
