//! Compact JWS with Ed25519: sign, and verify strictly.
//!
//! Only the two Ed25519 algorithm names are accepted (`EdDSA` from RFC 8037 and
//! `Ed25519` from RFC 9864); a `crit` header is refused; every segment must be
//! canonical unpadded base64url; signatures are checked with
//! [`strict::verify_strict`](super::strict::verify_strict), which gives
//! ed25519-dalek's `verify_strict` verdict (no malleable or small-order
//! signatures or keys).

use super::{strict, Segment, TokenError};
use crate::json::{once, Reader};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signer, VerifyingKey};

/// Largest token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// The protected header members confkit reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The algorithm.
    pub alg: String,
    /// The key id, if present.
    pub kid: Option<String>,
    /// The type, if present (not checked: RFC 7515 makes it advisory).
    pub typ: Option<String>,
    has_crit: bool,
}

impl Header {
    /// Parses a protected header: a JSON object whose `alg` is a string and
    /// whose `kid` and `typ`, if present, are strings or `null`; no member
    /// may appear twice. Other members are skipped but must be valid JSON.
    /// Whether the algorithm is accepted is checked by [`verify`], not here.
    pub fn from_json(json: &[u8]) -> Result<Header, TokenError> {
        let mut alg = None;
        let mut kid: Option<Option<String>> = None;
        let mut typ: Option<Option<String>> = None;
        let mut crit = None;
        Reader::new(json)
            .object(|name, r| match name {
                "alg" => {
                    let v = r.string()?.into_owned();
                    once(&mut alg, name, r, v)
                }
                "kid" | "typ" => {
                    let v = if r.null()? {
                        None
                    } else {
                        Some(r.string()?.into_owned())
                    };
                    let slot = if name == "kid" { &mut kid } else { &mut typ };
                    once(slot, name, r, v)
                }
                "crit" => {
                    r.skip()?;
                    once(&mut crit, name, r, ())
                }
                _ => r.skip(),
            })
            .map_err(|e| TokenError::Header(e.to_string()))?;
        Ok(Header {
            alg: alg.ok_or_else(|| TokenError::Header("missing member \"alg\"".into()))?,
            kid: kid.flatten(),
            typ: typ.flatten(),
            has_crit: crit.is_some(),
        })
    }

    /// Whether the header has a `crit` member (which [`verify`] refuses).
    #[must_use]
    pub fn has_crit(&self) -> bool {
        self.has_crit
    }
}

/// Base64url (unpadded) encoding, as used in every JWS segment.
#[must_use]
pub fn b64_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Canonical unpadded base64url decoding: padding and non-zero trailing bits
/// are refused.
pub fn b64_decode(text: &str, segment: Segment) -> Result<Vec<u8>, TokenError> {
    b64_decode_bytes(text.as_bytes(), segment)
}

/// [`b64_decode`] of bytes: any byte outside the base64url alphabet (every
/// non-ASCII byte among them) is refused.
fn b64_decode_bytes(text: &[u8], segment: Segment) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| TokenError::Base64(segment))
}

/// Signs `header_json` and `payload` as a compact JWS.
#[must_use]
pub fn sign(key: &ed25519_dalek::SigningKey, header_json: &[u8], payload: &[u8]) -> String {
    let mut out = b64_encode(header_json);
    sign_with_encoded_header(key, &mut out, payload);
    out
}

/// Appends `.payload.signature` to `out`, which already holds the encoded header.
pub(crate) fn sign_with_encoded_header(
    key: &ed25519_dalek::SigningKey,
    out: &mut String,
    payload: &[u8],
) {
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, out);
    let sig = key.sign(out.as_bytes());
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(sig.to_bytes(), out);
}

/// Verifies a compact JWS and returns its header and payload bytes.
///
/// `key_for` picks the verifying key from the header (by `kid`); it runs after
/// the algorithm and `crit` checks, before the signature check.
pub fn verify<'k, F>(token: &str, key_for: F) -> Result<(Header, Vec<u8>), TokenError>
where
    F: FnOnce(&Header) -> Result<&'k VerifyingKey, TokenError>,
{
    verify_bytes(token.as_bytes(), key_for)
}

/// [`verify`] of the token's bytes, for callers (the C ABI) that hold bytes
/// not yet known to be text. A token that verifies is ASCII: its three
/// segments are base64url (every other byte is refused by the decoding) and
/// the two dots.
pub(crate) fn verify_bytes<'k, F>(token: &[u8], key_for: F) -> Result<(Header, Vec<u8>), TokenError>
where
    F: FnOnce(&Header) -> Result<&'k VerifyingKey, TokenError>,
{
    let opened = open(token, key_for)?;
    if !strict::verify_strict(opened.key, opened.signing_input, &opened.signature) {
        return Err(TokenError::Signature);
    }
    opened.into_payload()
}

/// A token checked up to its signature: what a signature check needs, and
/// the rest for after it. The checks and their order are [`verify`]'s.
pub(crate) struct Opened<'t, 'k> {
    pub(crate) header: Header,
    pub(crate) key: &'k VerifyingKey,
    /// The first two segments as they appear in the token.
    pub(crate) signing_input: &'t [u8],
    pub(crate) signature: [u8; 64],
    payload: &'t [u8],
}

impl Opened<'_, '_> {
    /// The header and the decoded payload, once the signature is known good.
    pub(crate) fn into_payload(self) -> Result<(Header, Vec<u8>), TokenError> {
        let payload = b64_decode_bytes(self.payload, Segment::Payload)?;
        Ok((self.header, payload))
    }
}

/// Splits a compact JWS and makes every check before the signature's.
pub(crate) fn open<'t, 'k, F>(token: &'t [u8], key_for: F) -> Result<Opened<'t, 'k>, TokenError>
where
    F: FnOnce(&Header) -> Result<&'k VerifyingKey, TokenError>,
{
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLarge {
            len: token.len(),
            max: MAX_TOKEN_BYTES,
        });
    }
    let mut parts = token.split(|&b| b == b'.');
    let (Some(h64), Some(p64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header_bytes = b64_decode_bytes(h64, Segment::Header)?;
    let header = Header::from_json(&header_bytes)?;
    if header.alg != "EdDSA" && header.alg != "Ed25519" {
        return Err(TokenError::Algorithm(header.alg));
    }
    if header.has_crit {
        return Err(TokenError::CriticalHeader);
    }
    let key = key_for(&header)?;
    let sig_bytes = b64_decode_bytes(s64, Segment::Signature)?;
    let signature: [u8; 64] = sig_bytes.try_into().map_err(|_| TokenError::Signature)?;
    Ok(Opened {
        header,
        key,
        signing_input: &token[..h64.len() + 1 + p64.len()],
        signature,
        payload: p64,
    })
}
