//! Conference access tokens: Ed25519-signed JWTs (JWS compact serialization).
//!
//! - [`jws`]: the low-level compact JWS sign / strict verify.
//! - [`keys`]: signing keys with a key id, a verifying key ring, JWK sets.
//! - [`claims`]: the claims confkit puts in a token and their validation.
//! - [`revocation`]: revoked token ids and per-subject revocation times.
//! - [`cache`]: tokens already verified, so a second verify is a lookup.
//! - [`strict`]: the strict Ed25519 signature check.
//! - [`batch`]: many signatures by one key checked in one equation.
//!
//! Headers, claims and JWK sets are read by a small strict JSON reader of
//! confkit's own (`src/json/`, private; the device half reads the server's
//! messages with it too), not by serde_json: a program that only verifies
//! tokens then links no general JSON library (README, "Library sizes").

pub mod batch;
pub mod cache;
pub mod claims;
pub mod jws;
pub mod keys;
pub mod revocation;
pub mod strict;

pub use cache::{VerifiedTokens, DEFAULT_VERIFIED_TOKENS};
pub use claims::{Claims, Validation, DEFAULT_LEEWAY_SECS, DEFAULT_TOKEN_TTL_SECS};
pub use jws::MAX_TOKEN_BYTES;
pub use keys::{JwkSet, KeyError, KeyId, KeyRing, SigningKey};
pub use revocation::RevocationList;

/// A part of a compact JWS, named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// The protected header.
    Header,
    /// The claims.
    Payload,
    /// The signature.
    Signature,
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Segment::Header => "header",
            Segment::Payload => "payload",
            Segment::Signature => "signature",
        })
    }
}

/// Why a token was refused. Each variant says which check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Longer than [`MAX_TOKEN_BYTES`].
    #[error("token is {len} bytes, more than the {max}-byte cap")]
    TooLarge {
        /// The token's length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// Not three dot-separated segments.
    #[error("token is not a compact JWS (header.payload.signature)")]
    Malformed,
    /// A segment is not canonical unpadded base64url.
    #[error("token {0} is not canonical unpadded base64url")]
    Base64(Segment),
    /// The header is not the JSON object expected.
    #[error("token header is invalid: {0}")]
    Header(String),
    /// The algorithm is not Ed25519.
    #[error("token algorithm {0:?} is not accepted (only EdDSA / Ed25519)")]
    Algorithm(String),
    /// The header has a `crit` member, which confkit does not support.
    #[error("token header has a \"crit\" member")]
    CriticalHeader,
    /// The header names no key id.
    #[error("token header has no \"kid\"")]
    MissingKeyId,
    /// The key id is not in the key ring.
    #[error("token key id {0:?} is unknown")]
    UnknownKeyId(String),
    /// The signature does not verify (strictly) with the key.
    #[error("token signature is invalid")]
    Signature,
    /// The claims are not the JSON object expected (missing or mistyped member).
    #[error("token claims are invalid: {0}")]
    Claims(String),
    /// A permission name in `perms` is unknown.
    #[error("token grants unknown permission {0:?}")]
    UnknownPermission(String),
    /// Expired longer ago than the leeway.
    #[error("token expired at {exp}, now is {now}")]
    Expired {
        /// The token's `exp`.
        exp: u64,
        /// The verifier's time.
        now: u64,
    },
    /// Not valid until later than now plus the leeway.
    #[error("token is not valid before {nbf}, now is {now}")]
    NotYetValid {
        /// The token's `nbf`.
        nbf: u64,
        /// The verifier's time.
        now: u64,
    },
    /// Issued for another conference.
    #[error("token is for conference {found}, not {expected}")]
    WrongConference {
        /// The conference being joined.
        expected: String,
        /// The token's `conf`.
        found: String,
    },
    /// The token id was revoked.
    #[error("token {jti} was revoked")]
    Revoked {
        /// The token's `jti`.
        jti: String,
    },
    /// The subject's tokens issued before a time were revoked (e.g. a kick).
    #[error("tokens of {subject} issued before {before} were revoked")]
    SubjectRevoked {
        /// The token's `sub`.
        subject: String,
        /// The revocation time.
        before: u64,
    },
}
