//! Ed25519 signature checks with exactly ed25519-dalek's `verify_strict`
//! verdict, at less cost.
//!
//! `verify_strict` decompresses the signature's R (a square root in the
//! field) only to refuse a small-order R, then compares R's bytes with the
//! compression of `[s]B - [k]A`. Here R is never decompressed:
//! - if R's bytes are not a point, or not the canonical encoding of one, no
//!   compression can equal them, so the comparison refuses them as
//!   `verify_strict` does;
//! - if they equal the compression of the computed point, R *is* that point,
//!   so the small-order check runs on the computed point (three doublings).
//!
//! The scalar s must be canonical (below the group order ℓ) and the public
//! key must not have small order, as in `verify_strict`. The equivalence is
//! tested against `verify_strict` on the C2SP/CCTV edge-case vectors and on
//! 100,000 random and tampered signatures (`tests/strict_verify.rs`), and
//! the `token_verify` fuzz target re-checks every accepted token with
//! `verify_strict`.

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha512};

/// Whether `signature` is a valid strict Ed25519 signature of `message` by
/// `key`: the same verdict as ed25519-dalek's `VerifyingKey::verify_strict`
/// (canonical s, no small-order R or key, cofactorless equation).
#[must_use]
pub fn verify_strict(key: &VerifyingKey, message: &[u8], signature: &[u8; 64]) -> bool {
    let (r, s) = signature.split_at(32);
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(s);
    let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)) else {
        return false;
    };
    if key.is_weak() {
        return false;
    }
    let k = Scalar::from_hash(
        Sha512::new()
            .chain_update(r)
            .chain_update(key.as_bytes())
            .chain_update(message),
    );
    let minus_a = -key.to_edwards();
    let expected = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &minus_a, &s);
    expected.compress().as_bytes() == r && !expected.is_small_order()
}
