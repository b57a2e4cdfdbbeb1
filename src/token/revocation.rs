//! Revoked tokens: by token id, and by subject in a conference before a time.

use std::collections::{HashMap, HashSet};

use super::claims::Claims;
use super::TokenError;
use crate::identity::{ConferenceId, ExternalId};

/// What has been revoked. A kick revokes the kicked subject's tokens issued
/// before the kick; a permission update revokes the replaced token by id.
#[derive(Debug, Clone, Default)]
pub struct RevocationList {
    token_ids: HashSet<String>,
    subjects: HashMap<(ConferenceId, ExternalId), u64>,
}

impl RevocationList {
    /// An empty list.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Revokes one token by its `jti`.
    pub fn revoke_token(&mut self, token_id: impl Into<String>) {
        self.token_ids.insert(token_id.into());
    }

    /// Revokes every token of `subject` for `conference` issued strictly before
    /// `before` (seconds). A later call can only move the time forward.
    pub fn revoke_subject(&mut self, conference: ConferenceId, subject: ExternalId, before: u64) {
        let t = self.subjects.entry((conference, subject)).or_insert(before);
        *t = (*t).max(before);
    }

    /// Whether this token id was revoked.
    #[must_use]
    pub fn is_token_revoked(&self, token_id: &str) -> bool {
        self.token_ids.contains(token_id)
    }

    /// Refuses claims whose token or subject was revoked.
    pub fn check(&self, claims: &Claims) -> Result<(), TokenError> {
        if self.token_ids.contains(&claims.token_id) {
            return Err(TokenError::Revoked {
                jti: claims.token_id.clone(),
            });
        }
        if !self.subjects.is_empty() {
            let key = (claims.conference, claims.subject.clone());
            if let Some(&before) = self.subjects.get(&key) {
                if claims.issued_at < before {
                    return Err(TokenError::SubjectRevoked {
                        subject: claims.subject.to_string(),
                        before,
                    });
                }
            }
        }
        Ok(())
    }

    /// Forgets everything about `conference` (when it is destroyed).
    pub fn forget_conference(&mut self, conference: ConferenceId) {
        self.subjects.retain(|(c, _), _| *c != conference);
    }
}
