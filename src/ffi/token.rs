//! Offline token verification on a device: a verifier built from the
//! platform's JWK set or one public key, and the verified claims.

use std::ffi::{c_char, CString};
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use super::{
    arg_bytes, arg_opt_str, arg_out, arg_ptr, arg_ref, arg_str, c_string, confkit_error,
    confkit_status, free_raw, guard, guard_or, into_raw, owned_c_string, utf8, write_out, FfiError,
};
use crate::error::ErrorCode;
use crate::identity::ConferenceId;
use crate::token::{Claims, KeyId, KeyRing, TokenError, Validation, VerifiedTokens};

use super::CONFKIT_STATUS_OK;

/// The default clock leeway for `confkit_verifier_verify`, in seconds.
// A literal: cbindgen drops constants whose value is a path to another constant.
pub const CONFKIT_DEFAULT_LEEWAY_SECS: u64 = 60;
const _: () = assert!(CONFKIT_DEFAULT_LEEWAY_SECS == crate::token::DEFAULT_LEEWAY_SECS);

/// Most tokens a verifier's cache holds (`confkit_verifier_enable_cache`):
/// about 630 bytes each for a typical token, so about 660 MB at this bound.
pub const CONFKIT_MAX_VERIFIER_CACHE_TOKENS: usize = 1 << 20;

/// Verifies conference access tokens with a set of trusted public keys.
/// Thread-safe; its keys never change. Free with `confkit_verifier_free`.
pub struct confkit_verifier {
    ring: KeyRing,
    /// Tokens whose signature verified, once `confkit_verifier_enable_cache`
    /// turned the cache on (set at most once).
    cache: OnceLock<Box<dyn TokenCache>>,
}

/// A verifier's cache, reached through a trait object: only
/// `confkit_verifier_enable_cache` names the cache's code, so a program that
/// never turns a cache on does not link it (33 KB of a program that only
/// verifies tokens, measured with `scripts/footprint.sh`).
trait TokenCache: Send + Sync {
    fn verify(
        &self,
        ring: &KeyRing,
        token: &str,
        validation: &Validation<'_>,
    ) -> Result<Arc<Claims>, TokenError>;
    fn verify_batch(
        &self,
        ring: &KeyRing,
        tokens: &[&str],
        validation: &Validation<'_>,
    ) -> Vec<Result<Arc<Claims>, TokenError>>;
    fn capacity(&self) -> usize;
}

impl TokenCache for VerifiedTokens {
    fn verify(
        &self,
        ring: &KeyRing,
        token: &str,
        validation: &Validation<'_>,
    ) -> Result<Arc<Claims>, TokenError> {
        ring.verify_cached(self, token, validation)
    }

    fn verify_batch(
        &self,
        ring: &KeyRing,
        tokens: &[&str],
        validation: &Validation<'_>,
    ) -> Vec<Result<Arc<Claims>, TokenError>> {
        ring.verify_batch_cached(self, tokens, validation)
    }

    fn capacity(&self) -> usize {
        VerifiedTokens::capacity(self)
    }
}

impl confkit_verifier {
    fn new(ring: KeyRing) -> Self {
        confkit_verifier {
            ring,
            cache: OnceLock::new(),
        }
    }

    /// The trusted keys.
    pub(crate) fn ring(&self) -> &KeyRing {
        &self.ring
    }
}

/// Verified claims, owned or shared with a verifier's cache.
enum Held {
    Owned(Claims),
    Shared(Arc<Claims>),
}

impl Deref for Held {
    type Target = Claims;

    fn deref(&self) -> &Claims {
        match self {
            Held::Owned(claims) => claims,
            Held::Shared(claims) => claims,
        }
    }
}

/// The claims of a verified token. Free with `confkit_claims_free`.
///
/// The C strings are made on first use of their getter, so a caller that only
/// needs "valid or not" (and the permission bits) pays for no copies.
pub struct confkit_claims {
    claims: Held,
    issuer: OnceLock<CString>,
    subject: OnceLock<CString>,
    conference: OnceLock<CString>,
    token_id: OnceLock<CString>,
}

impl confkit_claims {
    fn new(claims: Held) -> Self {
        confkit_claims {
            claims,
            issuer: OnceLock::new(),
            subject: OnceLock::new(),
            conference: OnceLock::new(),
            token_id: OnceLock::new(),
        }
    }
}

/// A verifier from a JWK set (JSON text, as served at
/// `/.well-known/jwks.json` or returned by `confkit_platform_jwks`). Every
/// key must be OKP / Ed25519 with a `kid`; weak keys are refused.
#[no_mangle]
pub unsafe extern "C" fn confkit_verifier_from_jwks(
    jwks_json: *const u8,
    jwks_json_len: usize,
    verifier_out: *mut *mut confkit_verifier,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        if jwks_json_len > 1024 * 1024 {
            return Err(FfiError::new(ErrorCode::TooLarge, "JWK set is over 1 MiB"));
        }
        // SAFETY: the caller passes `jwks_json_len` readable bytes or NULL.
        let json = unsafe { arg_str(jwks_json, jwks_json_len, "jwks_json") }?;
        let out = arg_out(verifier_out, "verifier_out")?;
        let ring = KeyRing::from_jwks_json(json)?;
        write_out(out, into_raw(confkit_verifier::new(ring)));
        Ok(())
    })
}

/// A verifier from one Ed25519 public key and its key id. Exactly 32 bytes
/// are read from `public_key`: the caller must provide all of them.
#[no_mangle]
pub unsafe extern "C" fn confkit_verifier_from_public_key(
    key_id: *const u8,
    key_id_len: usize,
    public_key: *const u8,
    verifier_out: *mut *mut confkit_verifier,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes readable byte ranges or NULL.
        let (kid, key) = unsafe {
            (
                arg_str(key_id, key_id_len, "key_id")?,
                arg_bytes(public_key, 32, "public_key")?,
            )
        };
        let out = arg_out(verifier_out, "verifier_out")?;
        let mut ring = KeyRing::new();
        ring.insert_bytes(KeyId::new(kid)?, key)?;
        write_out(out, into_raw(confkit_verifier::new(ring)));
        Ok(())
    })
}

/// Verifies a token at time `now` (seconds since the epoch) with a clock
/// leeway (`CONFKIT_DEFAULT_LEEWAY_SECS` is the usual choice). The token must
/// be for `conference_id` unless that is NULL. On OK, `claims_out` receives
/// the verified claims; on failure the status says which check failed
/// (`CONFKIT_STATUS_TOKEN_*`, `CONFKIT_STATUS_UNKNOWN_PERMISSION`).
#[no_mangle]
pub unsafe extern "C" fn confkit_verifier_verify(
    verifier: *const confkit_verifier,
    token: *const u8,
    token_len: usize,
    now: u64,
    conference_id: *const u8,
    conference_id_len: usize,
    leeway_secs: u64,
    claims_out: *mut *mut confkit_claims,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // The cap comes before any work proportional to the input.
        if token_len > crate::token::MAX_TOKEN_BYTES {
            return Err(crate::token::TokenError::TooLarge {
                len: token_len,
                max: crate::token::MAX_TOKEN_BYTES,
            }
            .into());
        }
        // SAFETY: the caller passes NULL or a live verifier and readable byte ranges.
        let (v, token) = unsafe {
            (
                arg_ref(verifier, "verifier")?,
                arg_bytes(token, token_len, "token")?,
            )
        };
        // The token's UTF-8 is checked only when the call fails: a token
        // that verifies is ASCII (`KeyRing::verify_bytes`), so a successful
        // call skips a pass over it. A failing call reports a token that is
        // not UTF-8 first, as if it had been checked first.
        let verified = (|| {
            // SAFETY: as above.
            let conf = unsafe { arg_opt_str(conference_id, conference_id_len, "conference_id") }?;
            let out = arg_out(claims_out, "claims_out")?;
            let validation = match conf {
                Some(c) => Validation::new(now, ConferenceId::parse(c)?),
                None => Validation::any_conference(now),
            }
            .with_leeway(leeway_secs);
            let claims = match v.cache.get() {
                Some(cache) => {
                    Held::Shared(cache.verify(&v.ring, utf8(token, "token")?, &validation)?)
                }
                None => Held::Owned(v.ring.verify_bytes(token, &validation)?),
            };
            Ok((out, claims))
        })();
        let (out, claims) = verified.map_err(|e| match utf8(token, "token") {
            Ok(_) => e,
            Err(not_text) => not_text,
        })?;
        write_out(out, into_raw(confkit_claims::new(claims)));
        Ok(())
    })
}

/// Turns on this verifier's cache of verified tokens, holding up to
/// `capacity` tokens (1 to `CONFKIT_MAX_VERIFIER_CACHE_TOKENS`; the least
/// recently used go first). For servers that see the same tokens again (a
/// reconnect, a listen after a join, a resumed session): a token found in the
/// cache costs a lookup instead of a signature check, and its time and
/// conference are still checked on every call. `confkit_verifier_verify`
/// and `confkit_verifier_verify_batch` use and fill it from then on; a
/// verifier's keys never change, so no entry goes stale. May be called while
/// other threads verify. At most once per verifier: a second call fails
/// (INVALID_ARGUMENT) and leaves the cache as it is, as does a capacity of 0
/// (INVALID_ARGUMENT) or over the maximum (TOO_LARGE).
#[no_mangle]
pub unsafe extern "C" fn confkit_verifier_enable_cache(
    verifier: *const confkit_verifier,
    capacity: usize,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        // SAFETY: the caller passes NULL or a live verifier.
        let v = unsafe { arg_ref(verifier, "verifier") }?;
        if capacity == 0 {
            return Err(FfiError::new(
                ErrorCode::InvalidArgument,
                "a cache capacity of 0 (leave the cache off instead)",
            ));
        }
        if capacity > CONFKIT_MAX_VERIFIER_CACHE_TOKENS {
            return Err(FfiError::new(
                ErrorCode::TooLarge,
                format!(
                    "a cache of {capacity} tokens, more than {CONFKIT_MAX_VERIFIER_CACHE_TOKENS}"
                ),
            ));
        }
        let cache: Box<dyn TokenCache> = Box::new(VerifiedTokens::new(capacity));
        v.cache.set(cache).map_err(|_| {
            let had = v.cache.get().map_or(0, |c| c.capacity());
            FfiError::new(
                ErrorCode::InvalidArgument,
                format!("this verifier's cache is already on ({had} tokens)"),
            )
        })
    })
}

/// Most tokens one `confkit_verifier_verify_batch` call takes.
pub const CONFKIT_MAX_BATCH_TOKENS: usize = 4096;

/// Verifies `count` tokens at once, as `confkit_verifier_verify` would verify
/// each (same `now`, `conference_id` and `leeway_secs`), at a fraction of the
/// cost per token when many are signed by one key: an edge server admitting
/// a webinar, a join storm. `tokens[i]` / `token_lens[i]` is the i-th token.
///
/// On OK, `statuses_out[i]` receives the status `confkit_verifier_verify`
/// returns for token i (a NULL token pointer with a length, invalid UTF-8 or
/// an oversize token gives that token's status, not the call's), and
/// `claims_out[i]` its claims where that status is OK and NULL elsewhere;
/// free each with `confkit_claims_free`. Both arrays hold `count` entries.
/// The call fails, writing nothing, when an array or the verifier is NULL
/// (the arrays may be NULL when `count` is 0), when `count` is over
/// `CONFKIT_MAX_BATCH_TOKENS`, or when `conference_id` is invalid.
///
/// One difference from verifying one at a time, for tokens only the key's
/// holder could have made (a signature whose nonce carries a torsion
/// component may be accepted); see the README's "Batch verification".
#[no_mangle]
pub unsafe extern "C" fn confkit_verifier_verify_batch(
    verifier: *const confkit_verifier,
    tokens: *const *const u8,
    token_lens: *const usize,
    count: usize,
    now: u64,
    conference_id: *const u8,
    conference_id_len: usize,
    leeway_secs: u64,
    statuses_out: *mut confkit_status,
    claims_out: *mut *mut confkit_claims,
    error_out: *mut *mut confkit_error,
) -> confkit_status {
    guard(error_out, || {
        if count > CONFKIT_MAX_BATCH_TOKENS {
            return Err(FfiError::new(
                ErrorCode::TooLarge,
                format!("{count} tokens, more than the {CONFKIT_MAX_BATCH_TOKENS} of a batch"),
            ));
        }
        // SAFETY: the caller passes NULL or a live verifier and a readable byte range.
        let (v, conf) = unsafe {
            (
                arg_ref(verifier, "verifier")?,
                arg_opt_str(conference_id, conference_id_len, "conference_id")?,
            )
        };
        let validation = match conf {
            Some(c) => Validation::new(now, ConferenceId::parse(c)?),
            None => Validation::any_conference(now),
        }
        .with_leeway(leeway_secs);
        if count == 0 {
            return Ok(());
        }
        // SAFETY: checked non-NULL; the caller passes `count` entries in each.
        let (tokens, lens) = unsafe {
            (
                std::slice::from_raw_parts(arg_ptr(tokens, "tokens")?, count),
                std::slice::from_raw_parts(arg_ptr(token_lens, "token_lens")?, count),
            )
        };
        let statuses_out = arg_out(statuses_out, "statuses_out")?;
        let claims_out = arg_out(claims_out, "claims_out")?;
        // Each token read as `confkit_verifier_verify` reads its argument.
        let read: Vec<Result<&str, FfiError>> = tokens
            .iter()
            .zip(lens)
            .map(|(&token, &len)| {
                if len > crate::token::MAX_TOKEN_BYTES {
                    return Err(crate::token::TokenError::TooLarge {
                        len,
                        max: crate::token::MAX_TOKEN_BYTES,
                    }
                    .into());
                }
                // SAFETY: the caller passes NULL or `len` readable bytes.
                unsafe { arg_str(token, len, "token") }
            })
            .collect();
        let readable: Vec<&str> = read
            .iter()
            .filter_map(|r| r.as_ref().ok().copied())
            .collect();
        let verified: Vec<Result<Held, TokenError>> = match v.cache.get() {
            Some(cache) => cache
                .verify_batch(&v.ring, &readable, &validation)
                .into_iter()
                .map(|r| r.map(Held::Shared))
                .collect(),
            None => v
                .ring
                .verify_batch(&readable, &validation)
                .into_iter()
                .map(|r| r.map(Held::Owned))
                .collect(),
        };
        let mut verified = verified.into_iter();
        let outcomes: Vec<Result<Held, FfiError>> = read
            .into_iter()
            .map(|r| {
                r.and_then(|_| match verified.next() {
                    Some(result) => result.map_err(FfiError::from),
                    None => Err(FfiError::new(ErrorCode::Panic, "a batch result is missing")),
                })
            })
            .collect();
        for (i, outcome) in outcomes.into_iter().enumerate() {
            let (status, claims) = match outcome {
                Ok(claims) => (CONFKIT_STATUS_OK, into_raw(confkit_claims::new(claims))),
                Err(e) => (e.code.value(), std::ptr::null_mut()),
            };
            // SAFETY: both arrays hold `count` writable entries (checked non-NULL).
            unsafe {
                statuses_out.add(i).write(status);
                claims_out.add(i).write(claims);
            }
        }
        Ok(())
    })
}

/// Frees a verifier. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn confkit_verifier_free(verifier: *mut confkit_verifier) {
    // SAFETY: the caller passes NULL or a verifier from confkit, once.
    guard_or((), || unsafe { free_raw(verifier) })
}

/// `sub`: the external ID the token was issued to. Valid until the claims are freed.
#[no_mangle]
pub unsafe extern "C" fn confkit_claims_subject(claims: *const confkit_claims) -> *const c_char {
    guard_or(std::ptr::null(), || {
        // SAFETY: the caller passes NULL or a live object.
        unsafe { claims.as_ref() }.map_or(std::ptr::null(), |c| {
            c.subject
                .get_or_init(|| c_string(c.claims.subject.as_str()))
                .as_ptr()
        })
    })
}

/// `conf`: the conference ID (UUID text). Valid until the claims are freed.
#[no_mangle]
pub unsafe extern "C" fn confkit_claims_conference_id(
    claims: *const confkit_claims,
) -> *const c_char {
    guard_or(std::ptr::null(), || {
        // SAFETY: the caller passes NULL or a live object.
        unsafe { claims.as_ref() }.map_or(std::ptr::null(), |c| {
            c.conference
                .get_or_init(|| owned_c_string(c.claims.conference.to_string()))
                .as_ptr()
        })
    })
}

/// `iss`: the issuing platform. Valid until the claims are freed.
#[no_mangle]
pub unsafe extern "C" fn confkit_claims_issuer(claims: *const confkit_claims) -> *const c_char {
    guard_or(std::ptr::null(), || {
        // SAFETY: the caller passes NULL or a live object.
        unsafe { claims.as_ref() }.map_or(std::ptr::null(), |c| {
            c.issuer.get_or_init(|| c_string(&c.claims.issuer)).as_ptr()
        })
    })
}

/// `jti`: the token id. Valid until the claims are freed.
#[no_mangle]
pub unsafe extern "C" fn confkit_claims_token_id(claims: *const confkit_claims) -> *const c_char {
    guard_or(std::ptr::null(), || {
        // SAFETY: the caller passes NULL or a live object.
        unsafe { claims.as_ref() }.map_or(std::ptr::null(), |c| {
            c.token_id
                .get_or_init(|| c_string(&c.claims.token_id))
                .as_ptr()
        })
    })
}

/// `perms` as permission bits.
#[no_mangle]
pub unsafe extern "C" fn confkit_claims_permissions(claims: *const confkit_claims) -> u32 {
    guard_or(0, || {
        // SAFETY: the caller passes NULL or a live object.
        unsafe { claims.as_ref() }.map_or(0, |c| c.claims.permissions.bits())
    })
}

/// `iat`, seconds since the epoch.
#[no_mangle]
pub unsafe extern "C" fn confkit_claims_issued_at(claims: *const confkit_claims) -> u64 {
    guard_or(0, || {
        // SAFETY: the caller passes NULL or a live object.
        unsafe { claims.as_ref() }.map_or(0, |c| c.claims.issued_at)
    })
}

/// `nbf`, seconds since the epoch.
#[no_mangle]
pub unsafe extern "C" fn confkit_claims_not_before(claims: *const confkit_claims) -> u64 {
    guard_or(0, || {
        // SAFETY: the caller passes NULL or a live object.
        unsafe { claims.as_ref() }.map_or(0, |c| c.claims.not_before)
    })
}

/// `exp`, seconds since the epoch.
#[no_mangle]
pub unsafe extern "C" fn confkit_claims_expires_at(claims: *const confkit_claims) -> u64 {
    guard_or(0, || {
        // SAFETY: the caller passes NULL or a live object.
        unsafe { claims.as_ref() }.map_or(0, |c| c.claims.expires_at)
    })
}

/// Frees claims. NULL is accepted.
#[no_mangle]
pub unsafe extern "C" fn confkit_claims_free(claims: *mut confkit_claims) {
    // SAFETY: the caller passes NULL or claims from confkit, once.
    guard_or((), || unsafe { free_raw(claims) })
}
