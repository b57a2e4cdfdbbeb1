//! Signing keys, the verifying key ring and JWK sets.

use std::fmt;
use std::sync::Arc;

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

use super::batch::{self, BatchKey};
use super::cache::VerifiedTokens;
use super::claims::{Claims, Validation};
use super::jws::{self, b64_encode};
use super::{Segment, TokenError};
use crate::json::{once, JsonError, Reader};

/// Longest key id, in bytes.
pub const MAX_KEY_ID_BYTES: usize = 128;

/// Why a key or key set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key id was empty, too long, or held a control character.
    #[error("key id must be 1 to {MAX_KEY_ID_BYTES} bytes without control characters")]
    BadKeyId,
    /// A seed or public key had the wrong length.
    #[error("{what} must be {want} bytes, got {got}")]
    Length {
        /// What was given.
        what: &'static str,
        /// The expected length.
        want: usize,
        /// The given length.
        got: usize,
    },
    /// The public key is not a valid Ed25519 point.
    #[error("public key {kid:?} is not a valid Ed25519 point")]
    BadPoint {
        /// Its key id.
        kid: String,
    },
    /// The public key has small order, so any signature check with it is meaningless.
    #[error("public key {kid:?} is a weak (small-order) key")]
    WeakKey {
        /// Its key id.
        kid: String,
    },
    /// Two keys in one ring share a key id.
    #[error("key id {0:?} appears twice")]
    DuplicateKeyId(String),
    /// The JWK set is not the JSON expected, or a key is not OKP / Ed25519.
    #[error("JWK set is invalid: {0}")]
    Jwk(String),
}

/// A key id (`kid`): 1 to 128 bytes of text without control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// Checks and wraps a key id.
    pub fn new(kid: impl Into<String>) -> Result<Self, KeyError> {
        let kid = kid.into();
        if kid.is_empty() || kid.len() > MAX_KEY_ID_BYTES || kid.chars().any(char::is_control) {
            return Err(KeyError::BadKeyId);
        }
        Ok(KeyId(kid))
    }

    /// The key id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The platform's Ed25519 signing key, with its key id.
///
/// Debug output never shows the secret.
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
    kid: KeyId,
    /// The base64url of this key's constant JWS header, built once.
    encoded_header: String,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A key from a 32-byte seed, so a server keeps its key across restarts.
    #[must_use]
    pub fn from_seed(seed: &[u8; 32], kid: KeyId) -> Self {
        Self::from_dalek(ed25519_dalek::SigningKey::from_bytes(seed), kid)
    }

    /// A fresh random key from the operating system's generator.
    ///
    /// # Panics
    /// If the operating system's generator fails (as ed25519-dalek's own
    /// key generation did with `OsRng`): no key is better than a guessable
    /// one. Across the C ABI the panic guard turns this into a status.
    #[must_use]
    pub fn generate(kid: KeyId) -> Self {
        let mut seed = [0u8; 32];
        if let Err(e) = getrandom::fill(&mut seed) {
            panic!("the operating system's random generator failed: {e}");
        }
        Self::from_seed(&seed, kid)
    }

    fn from_dalek(key: ed25519_dalek::SigningKey, kid: KeyId) -> Self {
        // A struct, not `json!`: a `serde_json::Map` sorts its keys (or keeps
        // them in insertion order under the `preserve_order` feature), so the
        // header's bytes would depend on the build's feature set.
        #[derive(Serialize)]
        struct HeaderOut<'a> {
            alg: &'static str,
            typ: &'static str,
            kid: &'a str,
        }
        let header = HeaderOut {
            alg: "EdDSA",
            typ: "JWT",
            kid: kid.as_str(),
        };
        // Serializing plain strings cannot fail.
        let encoded_header = b64_encode(&serde_json::to_vec(&header).unwrap_or_default());
        SigningKey {
            key,
            kid,
            encoded_header,
        }
    }

    /// The key id.
    #[must_use]
    pub fn kid(&self) -> &KeyId {
        &self.kid
    }

    /// The public half.
    #[must_use]
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The underlying ed25519-dalek key (for low-level JWS use and benchmarks).
    #[must_use]
    pub fn dalek(&self) -> &ed25519_dalek::SigningKey {
        &self.key
    }

    /// Mints a token for `claims`: header `{"alg":"EdDSA","typ":"JWT","kid":...}`.
    #[must_use]
    pub fn mint(&self, claims: &Claims) -> String {
        let payload = claims.to_json();
        let mut out = String::with_capacity(self.encoded_header.len() + payload.len() * 4 / 3 + 96);
        out.push_str(&self.encoded_header);
        jws::sign_with_encoded_header(&self.key, &mut out, &payload);
        out
    }
}

/// The public keys a verifier trusts, by key id.
///
/// Keys are stored decompressed, so a verification costs no point decompression.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    /// Each key prepared for batches too (its torsion check made on its
    /// first batch).
    keys: Vec<(KeyId, BatchKey)>,
}

impl KeyRing {
    /// An empty ring.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A ring with one key.
    pub fn with_key(kid: KeyId, key: VerifyingKey) -> Result<Self, KeyError> {
        let mut ring = Self::new();
        ring.insert(kid, key)?;
        Ok(ring)
    }

    /// Adds a key. Weak (small-order) keys and duplicate key ids are refused.
    pub fn insert(&mut self, kid: KeyId, key: VerifyingKey) -> Result<(), KeyError> {
        if key.is_weak() {
            return Err(KeyError::WeakKey { kid: kid.0 });
        }
        if self.get(kid.as_str()).is_some() {
            return Err(KeyError::DuplicateKeyId(kid.0));
        }
        self.keys.push((kid, BatchKey::new(key)));
        Ok(())
    }

    /// Adds a key from its 32 public-key bytes.
    pub fn insert_bytes(&mut self, kid: KeyId, public: &[u8]) -> Result<(), KeyError> {
        let bytes: [u8; 32] = public.try_into().map_err(|_| KeyError::Length {
            what: "public key",
            want: 32,
            got: public.len(),
        })?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::BadPoint {
            kid: kid.as_str().to_owned(),
        })?;
        self.insert(kid, key)
    }

    /// Removes a key (key rotation); returns whether it was there.
    pub fn remove(&mut self, kid: &str) -> bool {
        let before = self.keys.len();
        self.keys.retain(|(k, _)| k.as_str() != kid);
        before != self.keys.len()
    }

    /// The key with this id.
    #[must_use]
    pub fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys
            .iter()
            .find(|(k, _)| k.as_str() == kid)
            .map(|(_, v)| v.key())
    }

    /// How many keys the ring holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the ring is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Verifies a token: signature by `kid`, then the claims against `validation`.
    pub fn verify(&self, token: &str, validation: &Validation<'_>) -> Result<Claims, TokenError> {
        self.verify_bytes(token.as_bytes(), validation)
    }

    /// [`KeyRing::verify`] of a token's bytes (see [`jws::verify_bytes`]):
    /// the C ABI's path, which need not check the bytes are text first.
    pub(crate) fn verify_bytes(
        &self,
        token: &[u8],
        validation: &Validation<'_>,
    ) -> Result<Claims, TokenError> {
        let (_, payload) = jws::verify_bytes(token, |h| self.find(h).map(|(_, key)| key))?;
        let claims = Claims::from_json(&payload)?;
        validation.check(&claims)?;
        Ok(claims)
    }

    /// As [`KeyRing::verify`], remembering tokens whose signature verified in
    /// `cache`: verifying one again costs a lookup plus the claim checks
    /// (time, conference, revocations). Whoever removes or replaces a key of
    /// the ring calls [`VerifiedTokens::forget_key`] on the cache.
    pub fn verify_cached(
        &self,
        cache: &VerifiedTokens,
        token: &str,
        validation: &Validation<'_>,
    ) -> Result<Arc<Claims>, TokenError> {
        if let Some(result) = check_cached(cache, token, validation) {
            return result;
        }
        let mut signer = None;
        let (_, payload) = jws::verify(token, |h| {
            let (i, key) = self.find(h)?;
            signer = Some(i);
            Ok(key)
        })?;
        let claims = Arc::new(Claims::from_json(&payload)?);
        if let Some(i) = signer {
            cache.insert(token, &self.keys[i].0, Arc::clone(&claims));
        }
        validation.check(&claims)?;
        Ok(claims)
    }

    /// Verifies many tokens at once: each result is what [`KeyRing::verify`]
    /// returns for that token, in order. Tokens signed by the same key have
    /// their signatures checked in one batch equation ([`batch`]), which costs
    /// a fraction of one check per token; a batch with a bad signature falls
    /// back to checking each token on its own. The one difference from
    /// `verify`: a signature only the key's holder could have made with a
    /// torsioned nonce may be accepted (see [`batch`]).
    ///
    /// [`batch`]: super::batch
    pub fn verify_batch(
        &self,
        tokens: &[&str],
        validation: &Validation<'_>,
    ) -> Vec<Result<Claims, TokenError>> {
        self.verify_batch_inner(None, tokens, validation)
            .into_iter()
            .map(|r| r.map(|claims| Arc::try_unwrap(claims).unwrap_or_else(|c| (*c).clone())))
            .collect()
    }

    /// As [`KeyRing::verify_batch`], with the cache of
    /// [`KeyRing::verify_cached`]: cached tokens cost a lookup, the others are
    /// checked in batches and then cached.
    pub fn verify_batch_cached(
        &self,
        cache: &VerifiedTokens,
        tokens: &[&str],
        validation: &Validation<'_>,
    ) -> Vec<Result<Arc<Claims>, TokenError>> {
        self.verify_batch_inner(Some(cache), tokens, validation)
    }

    fn verify_batch_inner(
        &self,
        cache: Option<&VerifiedTokens>,
        tokens: &[&str],
        validation: &Validation<'_>,
    ) -> Vec<Result<Arc<Claims>, TokenError>> {
        enum Slot<'t, 'k> {
            Done(Result<Arc<Claims>, TokenError>),
            Open(usize, jws::Opened<'t, 'k>),
        }
        let slots: Vec<Slot<'_, '_>> = tokens
            .iter()
            .map(|token| {
                if let Some(result) = cache.and_then(|c| check_cached(c, token, validation)) {
                    return Slot::Done(result);
                }
                let mut signer = 0;
                match jws::open(token.as_bytes(), |h| {
                    let (i, key) = self.find(h)?;
                    signer = i;
                    Ok(key)
                }) {
                    Ok(opened) => Slot::Open(signer, opened),
                    Err(e) => Slot::Done(Err(e)),
                }
            })
            .collect();
        // Signature verdicts, one key's tokens at a time.
        let mut good = vec![false; tokens.len()];
        for (signer, (_, key)) in self.keys.iter().enumerate() {
            let (at, items): (Vec<usize>, Vec<batch::Item<'_>>) = slots
                .iter()
                .enumerate()
                .filter_map(|(at, slot)| match slot {
                    Slot::Open(i, o) if *i == signer => Some((
                        at,
                        batch::Item {
                            message: o.signing_input,
                            signature: &o.signature,
                        },
                    )),
                    _ => None,
                })
                .unzip();
            if items.is_empty() {
                continue;
            }
            for (at, ok) in at.into_iter().zip(batch::verify_batch(key, &items)) {
                good[at] = ok;
            }
        }
        slots
            .into_iter()
            .zip(tokens)
            .zip(good)
            .map(|((slot, token), ok)| match slot {
                Slot::Done(result) => result,
                Slot::Open(_, _) if !ok => Err(TokenError::Signature),
                Slot::Open(signer, opened) => {
                    let (_, payload) = opened.into_payload()?;
                    let claims = Arc::new(Claims::from_json(&payload)?);
                    if let Some(cache) = cache {
                        cache.insert(token, &self.keys[signer].0, Arc::clone(&claims));
                    }
                    validation.check(&claims)?;
                    Ok(claims)
                }
            })
            .collect()
    }

    /// The key the header names, with its place in the ring.
    fn find(&self, header: &jws::Header) -> Result<(usize, &VerifyingKey), TokenError> {
        let kid = header.kid.as_deref().ok_or(TokenError::MissingKeyId)?;
        self.keys
            .iter()
            .position(|(k, _)| k.as_str() == kid)
            .map(|i| (i, self.keys[i].1.key()))
            .ok_or_else(|| TokenError::UnknownKeyId(kid.chars().take(128).collect()))
    }

    /// The public keys as a JWK set.
    #[must_use]
    pub fn to_jwks(&self) -> JwkSet {
        JwkSet {
            keys: self
                .keys
                .iter()
                .map(|(kid, key)| Jwk {
                    kty: "OKP".into(),
                    crv: "Ed25519".into(),
                    x: b64_encode(key.key().as_bytes()),
                    kid: Some(kid.as_str().to_owned()),
                    alg: Some("EdDSA".into()),
                    key_use: Some("sig".into()),
                })
                .collect(),
        }
    }

    /// A ring from a JWK set. Every key must be OKP / Ed25519 with a `kid`.
    pub fn from_jwks(set: &JwkSet) -> Result<Self, KeyError> {
        let mut ring = KeyRing::new();
        for jwk in &set.keys {
            if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
                return Err(KeyError::Jwk(format!(
                    "key type {}/{} is not OKP/Ed25519",
                    jwk.kty, jwk.crv
                )));
            }
            let kid = KeyId::new(
                jwk.kid
                    .clone()
                    .ok_or_else(|| KeyError::Jwk("a key has no kid".into()))?,
            )?;
            let x = jws::b64_decode(&jwk.x, Segment::Payload)
                .map_err(|_| KeyError::Jwk("x is not canonical base64url".into()))?;
            ring.insert_bytes(kid, &x)?;
        }
        Ok(ring)
    }

    /// A ring from JWK set JSON text (read as [`JwkSet::from_json`] reads it).
    pub fn from_jwks_json(json: &str) -> Result<Self, KeyError> {
        Self::from_jwks(&JwkSet::from_json(json)?)
    }
}

/// A cached token checked as [`Validation::check`] would: time and conference
/// on every hit; the revocations unless this token was found not revoked
/// under the list's current version (the list is unchanged since, so the
/// verdict is too). `None`: not cached.
fn check_cached(
    cache: &VerifiedTokens,
    token: &str,
    validation: &Validation<'_>,
) -> Option<Result<Arc<Claims>, TokenError>> {
    let version = validation.revocations.map_or(0, |list| list.version());
    let (claims, not_revoked) = cache.lookup(token, version)?;
    let checked = validation
        .check_time_and_conference(&claims)
        .and_then(|()| match validation.revocations {
            Some(list) if !not_revoked => {
                list.check(&claims)?;
                cache.mark_not_revoked(token, version);
                Ok(())
            }
            _ => Ok(()),
        });
    Some(checked.map(|()| claims))
}

/// A JSON Web Key set (`{"keys":[...]}`), as served at `/.well-known/jwks.json`.
///
/// confkit reads one with [`JwkSet::from_json`]. The serde derives are for
/// embedding a set in an application's own types; serde's derived reading is
/// laxer (it also takes a struct written as an array of its fields, and does
/// not check the strings of members it skips).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    /// Parses JWK set JSON text: an object whose `keys` is an array of key
    /// objects, each with string `kty`, `crv` and `x`, and `kid`, `alg` and
    /// `use` strings or `null` when present. No member may appear twice;
    /// other members are skipped but must be valid JSON (see `token::json`:
    /// confkit reads this without serde_json, so that a verifier needs no
    /// general JSON library).
    pub fn from_json(json: &str) -> Result<JwkSet, KeyError> {
        let mut keys = None;
        Reader::new(json.as_bytes())
            .object(|name, r| match name {
                "keys" => {
                    let mut list = Vec::new();
                    r.array(|r| {
                        list.push(Jwk::read(r)?);
                        Ok(())
                    })?;
                    once(&mut keys, name, r, list)
                }
                _ => r.skip(),
            })
            .map_err(|e| KeyError::Jwk(e.to_string()))?;
        Ok(JwkSet {
            keys: keys.ok_or_else(|| KeyError::Jwk("missing member \"keys\"".into()))?,
        })
    }

    /// The set as JSON text.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{\"keys\":[]}"))
    }
}

impl Jwk {
    fn read(r: &mut Reader<'_>) -> Result<Jwk, JsonError> {
        let (mut kty, mut crv, mut x) = (None, None, None);
        let (mut kid, mut alg, mut key_use): OptionalMembers = (None, None, None);
        r.members(|name, r| {
            let slot = match name {
                "kty" => &mut kty,
                "crv" => &mut crv,
                "x" => &mut x,
                "kid" | "alg" | "use" => {
                    let v = if r.null()? {
                        None
                    } else {
                        Some(r.string()?.into_owned())
                    };
                    let slot = match name {
                        "kid" => &mut kid,
                        "alg" => &mut alg,
                        _ => &mut key_use,
                    };
                    return once(slot, name, r, v);
                }
                _ => return r.skip(),
            };
            let v = r.string()?.into_owned();
            once(slot, name, r, v)
        })?;
        let missing = |name: &str| r.error(format!("a key has no \"{name}\""));
        Ok(Jwk {
            kty: kty.ok_or_else(|| missing("kty"))?,
            crv: crv.ok_or_else(|| missing("crv"))?,
            x: x.ok_or_else(|| missing("x"))?,
            kid: kid.flatten(),
            alg: alg.flatten(),
            key_use: key_use.flatten(),
        })
    }
}

/// `kid`, `alg` and `use` while reading: unseen, `null`, or a string.
type OptionalMembers = (
    Option<Option<String>>,
    Option<Option<String>>,
    Option<Option<String>>,
);

/// One public key of a JWK set (RFC 8037 OKP form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `OKP`.
    pub kty: String,
    /// Curve: `Ed25519`.
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// The key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The algorithm, `EdDSA` when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// The key use, `sig` when present.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{ConferenceId, ExternalId};
    use crate::permissions::PermissionSet;

    /// What the C ABI relies on to skip its UTF-8 check: `verify_bytes`
    /// accepts exactly what `verify` accepts, so never a token with a
    /// non-ASCII byte anywhere.
    #[test]
    fn verify_bytes_refuses_every_non_ascii_byte_anywhere() {
        let key = SigningKey::from_seed(&[7; 32], KeyId::new("k1").unwrap());
        let ring = KeyRing::with_key(key.kid().clone(), key.verifying_key()).unwrap();
        let conference = ConferenceId::random();
        let now = 1_700_000_000;
        let claims = Claims::new(
            "https://issuer.example",
            ExternalId::new("alice").unwrap(),
            conference,
            PermissionSet::DEFAULT_INVITEE,
            now,
            600,
        );
        let token = key.mint(&claims);
        let validation = Validation::new(now, conference);
        let good = ring.verify_bytes(token.as_bytes(), &validation).unwrap();
        assert_eq!(good, ring.verify(&token, &validation).unwrap());
        let dots: Vec<usize> = token.match_indices('.').map(|(i, _)| i).collect();
        let at = [
            0,
            dots[0] / 2,
            dots[0],
            dots[0] + 1,
            (dots[0] + dots[1]) / 2,
            dots[1] + 1,
            token.len() - 1,
            token.len(),
        ];
        let mut tried = 0;
        for &i in &at {
            for byte in [0x80u8, 0xc3, 0xe2, 0xff] {
                let mut inserted = token.as_bytes().to_vec();
                inserted.insert(i, byte);
                assert!(ring.verify_bytes(&inserted, &validation).is_err());
                if i < token.len() {
                    let mut replaced = token.as_bytes().to_vec();
                    replaced[i] = byte;
                    assert!(ring.verify_bytes(&replaced, &validation).is_err());
                }
                // "é" and "€" as whole UTF-8 characters, which `verify` sees.
                let mut text = token.clone();
                text.insert(i, if byte == 0xc3 { 'é' } else { '€' });
                assert!(ring.verify_bytes(text.as_bytes(), &validation).is_err());
                assert!(ring.verify(&text, &validation).is_err());
                tried += 1;
            }
        }
        assert_eq!(tried, 32);
    }
}
