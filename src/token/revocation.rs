//! Revoked tokens: by token id, and by subject in a conference before a time.
//! Each entry is kept only while a token it could match may still be valid.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::claims::Claims;
use super::TokenError;
use crate::expiring::Expiring;
use crate::identity::{ConferenceId, ExternalId};

/// What has been revoked. A kick revokes the kicked subject's tokens issued
/// before the kick; a permission update revokes the replaced token by id.
///
/// Bounded by time: every entry names the moment after which no token it could
/// match is valid any more (the token's `exp` plus leeway), and
/// [`RevocationList::prune`] drops it then.
///
/// Every change gives the list a new [`RevocationList::version`], unique in
/// the process, so a verifier that found a token clean under one version need
/// not look it up again while the version stays the same (the cache of
/// verified tokens does this).
#[derive(Debug, Clone, Default)]
pub struct RevocationList {
    token_ids: Expiring<Arc<str>, ()>,
    subjects: Expiring<(ConferenceId, ExternalId), u64>,
    version: u64,
}

/// The last version handed out; 0 is every empty list that was never changed.
static LAST_VERSION: AtomicU64 = AtomicU64::new(0);

/// A version no list had before. (2⁶⁴ changes in one process do not happen.)
fn next_version() -> u64 {
    LAST_VERSION.fetch_add(1, Ordering::Relaxed) + 1
}

impl RevocationList {
    /// An empty list.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Revokes one token by its `jti`, remembered until `forget_after` (the
    /// token's `exp` plus the verifiers' leeway: later it fails as expired).
    pub fn revoke_token(&mut self, token_id: impl Into<Arc<str>>, forget_after: u64) {
        self.token_ids.insert(token_id.into(), (), forget_after);
        self.version = next_version();
    }

    /// Revokes every token of `subject` for `conference` issued strictly before
    /// `before` (seconds), remembered until `forget_after` (when every such
    /// token has expired). A later call can only move the time forward.
    pub fn revoke_subject(
        &mut self,
        conference: ConferenceId,
        subject: ExternalId,
        before: u64,
        forget_after: u64,
    ) {
        let key = (conference, subject);
        let before = self.subjects.get(&key).map_or(before, |t| (*t).max(before));
        self.subjects.insert(key, before, forget_after);
        self.version = next_version();
    }

    /// Identifies what the list holds: two lists with the same version hold
    /// the same entries (a clone keeps its original's version until either
    /// changes). A verifier may reuse a "not revoked" verdict it reached under
    /// the same version.
    #[must_use]
    pub fn version(&self) -> u64 {
        self.version
    }

    #[cfg(feature = "authority")]
    /// The deadline kept for a revoked token id (the platform's undo and
    /// store use it).
    pub(crate) fn token_deadline(&self, token_id: &str) -> Option<u64> {
        self.token_ids.entry(token_id).map(|(_, at)| at)
    }

    #[cfg(feature = "authority")]
    /// Puts a token id's revocation back as it was (`None`: not revoked).
    pub(crate) fn restore_token(&mut self, token_id: Arc<str>, deadline: Option<u64>) {
        self.token_ids.remove(&token_id);
        if let Some(at) = deadline {
            self.token_ids.insert(token_id, (), at);
        }
        self.version = next_version();
    }

    #[cfg(feature = "authority")]
    /// A kick's (revoked before, deadline), if kept.
    pub(crate) fn subject_entry(
        &self,
        conference: ConferenceId,
        subject: &ExternalId,
    ) -> Option<(u64, u64)> {
        let key: &dyn SubjectKey = &(conference, subject.as_str());
        self.subjects.entry(key).map(|(before, at)| (*before, at))
    }

    #[cfg(feature = "authority")]
    /// Puts a kick's revocation back as it was (`None`: none).
    pub(crate) fn restore_subject(
        &mut self,
        conference: ConferenceId,
        subject: ExternalId,
        entry: Option<(u64, u64)>,
    ) {
        let key = (conference, subject);
        self.subjects.remove(&key);
        if let Some((before, at)) = entry {
            self.subjects.insert(key, before, at);
        }
        self.version = next_version();
    }

    #[cfg(feature = "authority")]
    /// Every revoked token id with its deadline (what a store keeps).
    pub(crate) fn token_entries(&self) -> impl Iterator<Item = (Arc<str>, u64)> + '_ {
        self.token_ids.iter().map(|(k, _, at)| (Arc::clone(k), at))
    }

    #[cfg(feature = "authority")]
    /// Every kick as ((conference, subject), (revoked before, deadline)).
    pub(crate) fn subject_entries(
        &self,
    ) -> impl Iterator<Item = ((ConferenceId, ExternalId), (u64, u64))> + '_ {
        self.subjects.iter().map(|(k, v, at)| (k.clone(), (*v, at)))
    }

    /// Whether this token id was revoked.
    #[must_use]
    pub fn is_token_revoked(&self, token_id: &str) -> bool {
        self.token_ids.contains(token_id)
    }

    /// Refuses claims whose token or subject was revoked.
    pub fn check(&self, claims: &Claims) -> Result<(), TokenError> {
        self.check_token_id(claims)?;
        self.check_subject(claims)
    }

    /// Refuses claims whose token id was revoked.
    pub fn check_token_id(&self, claims: &Claims) -> Result<(), TokenError> {
        if !self.token_ids.is_empty() && self.is_token_revoked(&claims.token_id) {
            return Err(TokenError::Revoked {
                jti: claims.token_id.clone(),
            });
        }
        Ok(())
    }

    /// Refuses claims issued before a revocation of their subject.
    pub fn check_subject(&self, claims: &Claims) -> Result<(), TokenError> {
        if self.subjects.is_empty() {
            return Ok(());
        }
        let key: &dyn SubjectKey = &(claims.conference, claims.subject.as_str());
        match self.subjects.get(key) {
            Some(&before) if claims.issued_at < before => Err(TokenError::SubjectRevoked {
                subject: claims.subject.to_string(),
                before,
            }),
            _ => Ok(()),
        }
    }

    /// Forgets every entry whose tokens have all expired by `now`.
    pub fn prune(&mut self, now: u64) {
        let before = self.len();
        self.token_ids.prune(now);
        self.subjects.prune(now);
        // Fewer entries are different entries: a clone that was not pruned
        // must not share the version.
        if self.len() != before {
            self.version = next_version();
        }
    }

    /// How many token ids and subjects are remembered.
    #[must_use]
    pub fn len(&self) -> (usize, usize) {
        (self.token_ids.len(), self.subjects.len())
    }

    /// Whether nothing is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.token_ids.is_empty() && self.subjects.is_empty()
    }
}

/// A kick's key, looked up without copying the subject: a stored
/// `(ConferenceId, ExternalId)` and a borrowed `(ConferenceId, &str)` hash
/// and compare alike (an `ExternalId` hashes as its text).
trait SubjectKey {
    fn parts(&self) -> (ConferenceId, &str);
}

impl SubjectKey for (ConferenceId, ExternalId) {
    fn parts(&self) -> (ConferenceId, &str) {
        (self.0, self.1.as_str())
    }
}

impl SubjectKey for (ConferenceId, &str) {
    fn parts(&self) -> (ConferenceId, &str) {
        (self.0, self.1)
    }
}

impl<'a> Borrow<dyn SubjectKey + 'a> for (ConferenceId, ExternalId) {
    fn borrow(&self) -> &(dyn SubjectKey + 'a) {
        self
    }
}

impl Hash for dyn SubjectKey + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parts().hash(state);
    }
}

impl PartialEq for dyn SubjectKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn SubjectKey + '_ {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash_of<T: Hash + ?Sized>(t: &T) -> u64 {
        let mut h = DefaultHasher::new();
        t.hash(&mut h);
        h.finish()
    }

    #[test]
    fn a_borrowed_subject_key_hashes_and_compares_as_the_stored_one() {
        let conf = ConferenceId::random();
        let stored = (conf, ExternalId::new("bob").unwrap());
        let borrowed: &dyn SubjectKey = &(conf, "bob");
        let as_stored: &dyn SubjectKey = stored.borrow();
        assert_eq!(hash_of(&stored), hash_of(borrowed));
        assert!(as_stored == borrowed);
        let other: &dyn SubjectKey = &(conf, "bobby");
        assert!(as_stored != other);
        let mut list = RevocationList::new();
        list.revoke_subject(conf, ExternalId::new("bob").unwrap(), 100, 1000);
        assert_eq!(
            list.subject_entry(conf, &ExternalId::new("bob").unwrap()),
            Some((100, 1000))
        );
        assert_eq!(
            list.subject_entry(conf, &ExternalId::new("bo").unwrap()),
            None
        );
        assert_eq!(
            list.subject_entry(ConferenceId::random(), &ExternalId::new("bob").unwrap()),
            None
        );
    }
}
