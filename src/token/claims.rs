//! The claims of a conference access token and their validation.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

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

/// Claims as read from a token. Every member but `nbf` is required; times are
/// integers (a string or a float is refused); extra members are ignored, as JWT
/// allows.
///
/// `conf` and the permission names are only looked at, so they are borrowed
/// from the payload (`Cow`: owned only if the JSON string has escapes).
#[derive(Deserialize)]
struct WireIn<'a> {
    iss: String,
    sub: String,
    #[serde(borrow)]
    conf: Cow<'a, str>,
    #[serde(borrow)]
    perms: Vec<Name<'a>>,
    iat: u64,
    #[serde(default)]
    nbf: Option<u64>,
    exp: u64,
    jti: String,
}

/// A permission name, borrowed from the payload when it has no escapes (a bare
/// `Vec<Cow<str>>` would allocate every element).
#[derive(Deserialize)]
struct Name<'a>(#[serde(borrow)] Cow<'a, str>);

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
    pub fn from_json(payload: &[u8]) -> Result<Self, TokenError> {
        if !super::jws::is_json_object(payload) {
            return Err(TokenError::Claims("not a JSON object".into()));
        }
        let w: WireIn =
            serde_json::from_slice(payload).map_err(|e| TokenError::Claims(e.to_string()))?;
        let subject =
            ExternalId::new(w.sub).map_err(|e| TokenError::Claims(format!("sub: {e}")))?;
        let conference =
            ConferenceId::parse(&w.conf).map_err(|e| TokenError::Claims(format!("conf: {e}")))?;
        let permissions = PermissionSet::from_names(w.perms.iter().map(|n| &*n.0))
            .map_err(|e| TokenError::UnknownPermission(e.0))?;
        if w.jti.is_empty() {
            return Err(TokenError::Claims("jti is empty".into()));
        }
        Ok(Claims {
            issuer: w.iss,
            subject,
            conference,
            permissions,
            issued_at: w.iat,
            not_before: w.nbf.unwrap_or(w.iat),
            expires_at: w.exp,
            token_id: w.jti,
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
        if let Some(list) = self.revocations {
            list.check(claims)?;
        }
        Ok(())
    }
}
