//! The claims of a conference access token and their validation.

use std::borrow::Cow;

use serde::Serialize;

use crate::json::{once, JsonError, Reader};

use super::revocation::RevocationList;
use super::TokenError;
use crate::identity::{ConferenceId, ExternalId};
use crate::permissions::{Permission, PermissionSet};

/// Clock leeway applied to `exp` and `nbf` unless the caller sets another.
pub const DEFAULT_LEEWAY_SECS: u64 = 60;
/// A token's lifetime unless the platform or conference sets another: 3 hours.
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 3 * 60 * 60;

/// What a token says: who (`sub`) may do what (`perms`) in which conference
/// (`conf`), and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// `iss`: the platform that issued it.
    pub issuer: String,
    /// `sub`: the external ID it was issued to.
    pub subject: ExternalId,
    /// `conf`: the conference it admits to.
    pub conference: ConferenceId,
    /// `perms`: what it lets the subject do.
    pub permissions: PermissionSet,
    /// `iat`: issue time, seconds since the Unix epoch.
    pub issued_at: u64,
    /// `nbf`: not valid before, seconds since the Unix epoch.
    pub not_before: u64,
    /// `exp`: expiry, seconds since the Unix epoch.
    pub expires_at: u64,
    /// `jti`: the unique token id, used for revocation.
    pub token_id: String,
}

#[derive(Serialize)]
struct WireOut<'a> {
    iss: &'a str,
    sub: &'a str,
    conf: ConferenceId,
    perms: PermissionSet,
    iat: u64,
    nbf: u64,
    exp: u64,
    jti: &'a str,
}

impl Claims {
    /// Claims valid from `now` for `ttl_secs`, with a fresh random token id.
    #[must_use]
    pub fn new(
        issuer: impl Into<String>,
        subject: ExternalId,
        conference: ConferenceId,
        permissions: PermissionSet,
        now: u64,
        ttl_secs: u64,
    ) -> Self {
        Claims {
            issuer: issuer.into(),
            subject,
            conference,
            permissions,
            issued_at: now,
            not_before: now,
            expires_at: now.saturating_add(ttl_secs),
            token_id: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    /// Whether the token grants `perm`.
    #[must_use]
    pub fn allows(&self, perm: Permission) -> bool {
        self.permissions.contains(perm)
    }

    /// The JWT payload bytes.
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        let wire = WireOut {
            iss: &self.issuer,
            sub: self.subject.as_str(),
            conf: self.conference,
            perms: self.permissions,
            iat: self.issued_at,
            nbf: self.not_before,
            exp: self.expires_at,
            jti: &self.token_id,
        };
        // Serializing plain strings and integers to a Vec cannot fail.
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    /// Parses a JWT payload, checking every member's type and value.
    ///
    /// Every member but `nbf` is required, and none may appear twice; times
    /// are non-negative integers (a string or a fraction is refused) and a
    /// `null` `nbf` means `iat`; members confkit does not know are skipped,
    /// as JWT allows, but must still be valid JSON with UTF-8 strings.
    pub fn from_json<'a>(payload: &'a [u8]) -> Result<Self, TokenError> {
        let mut iss = None;
        let mut sub = None;
        let mut conf = None;
        let mut perms: Option<Vec<Cow<'a, str>>> = None;
        let mut iat = None;
        let mut nbf: Option<Option<u64>> = None;
        let mut exp = None;
        let mut jti = None;
        Reader::new(payload)
            .object(|name, r| {
                let mut read = |r: &mut Reader<'a>| -> Result<(), JsonError> {
                    match name {
                        "iss" => {
                            let v = r.string()?.into_owned();
                            once(&mut iss, name, r, v)
                        }
                        "sub" => {
                            let v = r.string()?.into_owned();
                            once(&mut sub, name, r, v)
                        }
                        "conf" => {
                            let v = r.string()?;
                            once(&mut conf, name, r, v)
                        }
                        "perms" => {
                            let mut names = Vec::new();
                            r.array(|r| {
                                names.push(r.string()?);
                                Ok(())
                            })?;
                            once(&mut perms, name, r, names)
                        }
                        "iat" => {
                            let v = r.u64()?;
                            once(&mut iat, name, r, v)
                        }
                        "nbf" => {
                            let v = if r.null()? { None } else { Some(r.u64()?) };
                            once(&mut nbf, name, r, v)
                        }
                        "exp" => {
                            let v = r.u64()?;
                            once(&mut exp, name, r, v)
                        }
                        "jti" => {
                            let v = r.string()?.into_owned();
                            once(&mut jti, name, r, v)
                        }
                        _ => r.skip(),
                    }
                };
                read(r).map_err(|e| JsonError {
                    reason: format!("{name}: {}", e.reason).into(),
                    offset: e.offset,
                })
            })
            .map_err(|e| TokenError::Claims(e.to_string()))?;
        let missing = |name: &str| TokenError::Claims(format!("missing member \"{name}\""));
        let (issuer, sub, conf, perms, issued_at, expires_at, token_id) = (
            iss.ok_or_else(|| missing("iss"))?,
            sub.ok_or_else(|| missing("sub"))?,
            conf.ok_or_else(|| missing("conf"))?,
            perms.ok_or_else(|| missing("perms"))?,
            iat.ok_or_else(|| missing("iat"))?,
            exp.ok_or_else(|| missing("exp"))?,
            jti.ok_or_else(|| missing("jti"))?,
        );
        let subject = ExternalId::new(sub).map_err(|e| TokenError::Claims(format!("sub: {e}")))?;
        let conference =
            ConferenceId::parse(&conf).map_err(|e| TokenError::Claims(format!("conf: {e}")))?;
        let permissions = PermissionSet::from_names(perms.iter().map(|n| &**n))
            .map_err(|e| TokenError::UnknownPermission(e.0))?;
        if token_id.is_empty() {
            return Err(TokenError::Claims("jti is empty".into()));
        }
        Ok(Claims {
            issuer,
            subject,
            conference,
            permissions,
            issued_at,
            not_before: nbf.flatten().unwrap_or(issued_at),
            expires_at,
            token_id,
        })
    }
}

/// What a verifier checks besides the signature: the time (with leeway), the
/// conference being joined, and optionally a revocation list.
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct Validation<'a> {
    /// The verifier's time, seconds since the Unix epoch.
    pub now: u64,
    /// Clock leeway for `exp` and `nbf`, in seconds.
    pub leeway: u64,
    /// The conference the token must be for; `None` accepts any.
    pub conference: Option<ConferenceId>,
    /// Revoked tokens and subjects to refuse.
    pub revocations: Option<&'a RevocationList>,
}

impl<'a> Validation<'a> {
    /// Checks at `now` for `conference`, with the default 60 s leeway.
    pub fn new(now: u64, conference: ConferenceId) -> Self {
        Validation {
            now,
            leeway: DEFAULT_LEEWAY_SECS,
            conference: Some(conference),
            revocations: None,
        }
    }

    /// Checks at `now` for any conference (to inspect a token before choosing one).
    pub fn any_conference(now: u64) -> Self {
        Validation {
            now,
            leeway: DEFAULT_LEEWAY_SECS,
            conference: None,
            revocations: None,
        }
    }

    /// The same checks with another leeway.
    pub fn with_leeway(mut self, secs: u64) -> Self {
        self.leeway = secs;
        self
    }

    /// The same checks, also refusing what `list` revoked.
    pub fn with_revocations(mut self, list: &'a RevocationList) -> Self {
        self.revocations = Some(list);
        self
    }

    /// Checks verified claims.
    pub fn check(&self, claims: &Claims) -> Result<(), TokenError> {
        self.check_time_and_conference(claims)?;
        if let Some(list) = self.revocations {
            list.check(claims)?;
        }
        Ok(())
    }

    /// The checks of [`Validation::check`] other than the revocations.
    pub(crate) fn check_time_and_conference(&self, claims: &Claims) -> Result<(), TokenError> {
        if self.now > claims.expires_at.saturating_add(self.leeway) {
            return Err(TokenError::Expired {
                exp: claims.expires_at,
                now: self.now,
            });
        }
        if claims.not_before > self.now.saturating_add(self.leeway) {
            return Err(TokenError::NotYetValid {
                nbf: claims.not_before,
                now: self.now,
            });
        }
        if let Some(expected) = self.conference {
            if expected != claims.conference {
                return Err(TokenError::WrongConference {
                    expected: expected.to_string(),
                    found: claims.conference.to_string(),
                });
            }
        }
        Ok(())
    }
}
