//! Durability: what the authority must not lose across a restart, and the
//! [`Store`] it commits each operation's changes to before anything leaves.
//!
//! The platform decides an operation under its lock, turns what it changed
//! into a [`Commit`] (typed [`Change`]s: after-images of the records it
//! touched), hands that to the store as one atomic commit, and only then
//! delivers events and replies. A failed commit fails the operation with
//! `STORE_UNAVAILABLE` and the platform puts back what the operation had
//! changed, so nothing is half done and nothing was sent.
//!
//! The store sees only these records, never the platform's types, and the
//! platform never sees a store's engine: [`MemoryStore`] keeps the records in
//! memory (tests, simulations); `SqliteStore` (cargo feature `sqlite`, server
//! builds only) keeps them in an SQLite file.
//!
//! Durable: conferences and their aliases, participants (who, status, type,
//! permissions, the ids of the tokens issued to them), revocations, destroyed
//! conference ids, trusted verifying keys, the session-id epoch. Not durable:
//! sessions, their queues and remembered replies. After a restart no session
//! exists, and participants who were in a conference are treated as if their
//! session had closed (they left).

#[cfg(feature = "sqlite")]
mod sqlite;

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::identity::{ConferenceId, ExternalId, ParticipantInfo};
use crate::lifecycle::{ParticipantStatus, ParticipantType};
use crate::permissions::PermissionSet;

#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteStore, Sync, SQLITE_SCHEMA_VERSION};

/// Why a store could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store could not be read or written (I/O error, full disk, locked
    /// file, an injected failure).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A conference's stored version was not the one the commit expected:
    /// another writer changed it (or a commit was lost).
    #[error(
        "store conflict on conference {conference}: expected version {expected:?}, found {found:?}"
    )]
    Conflict {
        /// The conference.
        conference: ConferenceId,
        /// The version the commit was decided at (`None`: a new conference).
        expected: Option<u64>,
        /// The version the store holds (`None`: none).
        found: Option<u64>,
    },
    /// What the store holds cannot be read back (a damaged or foreign file, a
    /// schema newer than this library).
    #[error("store corrupt: {0}")]
    Corrupt(String),
}

/// A token the platform issued to (or admitted for) a participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// The token's id (`jti`).
    pub jti: Arc<str>,
    /// When it expires, seconds since the epoch.
    pub expires_at: u64,
    /// The permissions it carries.
    pub permissions: PermissionSet,
}

/// A conference's options, with the platform defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionsRecord {
    /// Whether joining needs a token.
    pub protected: bool,
    /// Audio only.
    pub audio_only: bool,
    /// Most participants at once.
    pub participant_limit: Option<u32>,
    /// Seconds an empty conference lives.
    pub empty_ttl_secs: u64,
    /// Lifetime of its tokens.
    pub token_ttl_secs: u64,
}

/// A conference, without its participants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConferenceRecord {
    /// Its ID.
    pub id: ConferenceId,
    /// Its alias as the creator spelled it.
    pub alias: String,
    /// Its owner.
    pub owner: ExternalId,
    /// Its options.
    pub options: OptionsRecord,
    /// Creation time.
    pub created_at: u64,
    /// When it is destroyed if still empty; `None` while someone is in it.
    pub expires_at: Option<u64>,
    /// Bumped by every change to one of its participants.
    pub version: u64,
}

/// One participant of a conference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantRecord {
    /// Their place in the conference (participants are listed in the order
    /// they were added).
    pub position: u32,
    /// Who they are.
    pub info: ParticipantInfo,
    /// Their status.
    pub status: ParticipantStatus,
    /// USER or LISTENER.
    pub kind: ParticipantType,
    /// What they may do.
    pub permissions: PermissionSet,
    /// Tokens issued or admitted since they last left, declined or were kicked.
    pub tokens: Vec<TokenRecord>,
    /// The conference's version at their last change.
    pub revision: u64,
}

/// One durable change. A commit's changes apply in order, all or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// A conference created (`expected_version: None`) or changed, with the
    /// participants it added or changed.
    ConferencePut {
        /// The version the store must hold for it now (`None`: it must be new).
        expected_version: Option<u64>,
        /// The conference now.
        conference: ConferenceRecord,
        /// Its participants that were added or changed.
        participants: Vec<ParticipantRecord>,
    },
    /// A conference destroyed (terminated or expired), with its participants.
    ConferenceDestroyed {
        /// Which.
        id: ConferenceId,
        /// The version the store must hold for it now.
        expected_version: u64,
        /// Until when lookups still answer "destroyed".
        forget_after: u64,
    },
    /// A token id revoked (the later of two deadlines wins).
    TokenRevoked {
        /// The token id.
        jti: Arc<str>,
        /// When it can be forgotten.
        forget_after: u64,
    },
    /// Every token issued to `subject` for `conference` before `before`
    /// revoked (a kick; the later `before` and deadline win).
    SubjectRevoked {
        /// The conference.
        conference: ConferenceId,
        /// The participant.
        subject: ExternalId,
        /// Tokens issued before this time no longer admit them.
        before: u64,
        /// When it can be forgotten.
        forget_after: u64,
    },
    /// A verifying key trusted besides the platform's own.
    KeyTrusted {
        /// Its key id.
        kid: String,
        /// Its 32 bytes.
        public_key: [u8; 32],
    },
    /// A trusted verifying key removed.
    KeyRemoved {
        /// Its key id.
        kid: String,
    },
    /// The session-id epoch of a new start of the platform.
    SessionEpoch(u32),
}

/// One operation's changes, committed atomically.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Commit {
    /// In order.
    pub changes: Vec<Change>,
}

impl Commit {
    /// Whether there is nothing to commit.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// A conference with its participants, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredConference {
    /// The conference.
    pub record: ConferenceRecord,
    /// Its participants, by position.
    pub participants: BTreeMap<u32, ParticipantRecord>,
}

/// Everything durable, as one value: what a store gives back at start, what
/// a compaction writes, and what tests compare ("replay equals live").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Image {
    /// Live conferences.
    pub conferences: BTreeMap<ConferenceId, StoredConference>,
    /// Revoked token ids, with when each can be forgotten.
    pub revoked_tokens: BTreeMap<Arc<str>, u64>,
    /// Kicks: (conference, subject) → (revoked before, forget after).
    #[serde(with = "pairs")]
    pub revoked_subjects: BTreeMap<(ConferenceId, ExternalId), (u64, u64)>,
    /// Destroyed conference ids, with when each can be forgotten.
    pub destroyed: BTreeMap<ConferenceId, u64>,
    /// Trusted verifying keys besides the platform's own, by key id.
    pub keys: BTreeMap<String, [u8; 32]>,
    /// The session-id epoch of the latest start.
    pub session_epoch: u32,
}

impl Image {
    /// Applies a commit: every expected version is checked first, then every
    /// change applies, so a conflict changes nothing. The one meaning of a
    /// [`Change`]: stores replay their logs with it.
    pub fn apply(&mut self, commit: &Commit) -> Result<(), StoreError> {
        for change in &commit.changes {
            self.check(change)?;
        }
        for change in &commit.changes {
            self.apply_change(change);
        }
        Ok(())
    }

    fn check(&self, change: &Change) -> Result<(), StoreError> {
        let (id, expected) = match change {
            Change::ConferencePut {
                expected_version,
                conference,
                ..
            } => (conference.id, *expected_version),
            Change::ConferenceDestroyed {
                id,
                expected_version,
                ..
            } => (*id, Some(*expected_version)),
            _ => return Ok(()),
        };
        let found = self.conferences.get(&id).map(|c| c.record.version);
        if found == expected {
            Ok(())
        } else {
            Err(StoreError::Conflict {
                conference: id,
                expected,
                found,
            })
        }
    }

    fn apply_change(&mut self, change: &Change) {
        match change {
            Change::ConferencePut {
                conference,
                participants,
                ..
            } => {
                let entry =
                    self.conferences
                        .entry(conference.id)
                        .or_insert_with(|| StoredConference {
                            record: conference.clone(),
                            participants: BTreeMap::new(),
                        });
                entry.record = conference.clone();
                for p in participants {
                    entry.participants.insert(p.position, p.clone());
                }
                self.destroyed.remove(&conference.id);
            }
            Change::ConferenceDestroyed {
                id, forget_after, ..
            } => {
                self.conferences.remove(id);
                let at = self.destroyed.entry(*id).or_insert(*forget_after);
                *at = (*at).max(*forget_after);
            }
            Change::TokenRevoked { jti, forget_after } => {
                let at = self.revoked_tokens.entry(Arc::clone(jti)).or_insert(0);
                *at = (*at).max(*forget_after);
            }
            Change::SubjectRevoked {
                conference,
                subject,
                before,
                forget_after,
            } => {
                let entry = self
                    .revoked_subjects
                    .entry((*conference, subject.clone()))
                    .or_insert((0, 0));
                entry.0 = entry.0.max(*before);
                entry.1 = entry.1.max(*forget_after);
            }
            Change::KeyTrusted { kid, public_key } => {
                self.keys.insert(kid.clone(), *public_key);
            }
            Change::KeyRemoved { kid } => {
                self.keys.remove(kid);
            }
            Change::SessionEpoch(e) => self.session_epoch = *e,
        }
    }

    /// Drops what can no longer matter at `now`: revocations and destroyed
    /// ids past their deadline (the platform forgets them at the same time).
    pub fn prune(&mut self, now: u64) {
        self.revoked_tokens.retain(|_, at| *at >= now);
        self.revoked_subjects.retain(|_, (_, at)| *at >= now);
        self.destroyed.retain(|_, at| *at >= now);
    }

    /// How many participant records it holds, over every conference.
    #[must_use]
    pub fn participant_count(&self) -> usize {
        self.conferences
            .values()
            .map(|c| c.participants.len())
            .sum()
    }
}

/// A map with keys JSON cannot spell (tuples), as a list of pairs.
mod pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        map: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

/// Where the authority keeps what it must not lose. Called under the
/// platform's lock: one commit at a time, in order.
pub trait Store: Send {
    /// Everything committed so far (at start).
    fn load(&mut self) -> Result<Image, StoreError>;

    /// Makes one operation's changes durable, all or nothing, before the
    /// operation answers. An error fails the operation, which then changes
    /// nothing.
    fn commit(&mut self, commit: &Commit) -> Result<(), StoreError>;

    /// Whether enough has been committed since the last compaction that the
    /// store would like one ([`Store::compact`]).
    fn wants_compaction(&self) -> bool {
        false
    }

    /// Replaces what the store holds by `image`, everything durable now
    /// with what has expired left out, so that the store stops growing.
    fn compact(&mut self, image: &Image) -> Result<(), StoreError> {
        let _ = image;
        Ok(())
    }
}

/// A store in memory: nothing outlives the process. Clones share the same
/// records, so a test can "restart" a platform on the store another left.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<MemoryInner>>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    image: Image,
    commits: u64,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// What it holds now.
    #[must_use]
    pub fn image(&self) -> Image {
        self.inner.lock().image.clone()
    }

    /// How many non-empty commits it has taken.
    #[must_use]
    pub fn commits(&self) -> u64 {
        self.inner.lock().commits
    }
}

impl Store for MemoryStore {
    fn load(&mut self) -> Result<Image, StoreError> {
        Ok(self.image())
    }

    fn commit(&mut self, commit: &Commit) -> Result<(), StoreError> {
        let mut inner = self.inner.lock();
        inner.image.apply(commit)?;
        inner.commits += 1;
        Ok(())
    }

    fn compact(&mut self, image: &Image) -> Result<(), StoreError> {
        self.inner.lock().image = image.clone();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(version: u64) -> ConferenceRecord {
        ConferenceRecord {
            id: ConferenceId::from_uuid(uuid::Uuid::from_u128(7)),
            alias: "a".into(),
            owner: ExternalId::new("o").unwrap(),
            options: OptionsRecord {
                protected: false,
                audio_only: false,
                participant_limit: None,
                empty_ttl_secs: 60,
                token_ttl_secs: 60,
            },
            created_at: 1,
            expires_at: Some(61),
            version,
        }
    }

    #[test]
    fn a_conflict_anywhere_in_a_commit_applies_nothing() {
        let mut image = Image::default();
        let create = Commit {
            changes: vec![Change::ConferencePut {
                expected_version: None,
                conference: conf(1),
                participants: vec![],
            }],
        };
        image.apply(&create).unwrap();
        let before = image.clone();
        let stale = Commit {
            changes: vec![
                Change::TokenRevoked {
                    jti: "t".into(),
                    forget_after: 9,
                },
                Change::ConferencePut {
                    expected_version: Some(0),
                    conference: conf(2),
                    participants: vec![],
                },
            ],
        };
        let err = image.apply(&stale).unwrap_err();
        assert!(matches!(
            err,
            StoreError::Conflict {
                expected: Some(0),
                found: Some(1),
                ..
            }
        ));
        assert_eq!(image, before);
        // Creating it twice is a conflict too.
        assert!(image.apply(&create).is_err());
    }

    #[test]
    fn later_deadlines_win_and_prune_forgets_the_past() {
        let mut image = Image::default();
        let revoke = |at| Commit {
            changes: vec![Change::TokenRevoked {
                jti: "t".into(),
                forget_after: at,
            }],
        };
        image.apply(&revoke(50)).unwrap();
        image.apply(&revoke(20)).unwrap();
        assert_eq!(image.revoked_tokens.get("t"), Some(&50));
        image.prune(50);
        assert_eq!(image.revoked_tokens.len(), 1);
        image.prune(51);
        assert!(image.revoked_tokens.is_empty());
    }
}
