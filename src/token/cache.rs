//! Tokens already verified, so that verifying one again (a reconnect, a
//! listen after a join, a resumed session) costs a lookup and the checks that
//! can change with time or state instead of a signature check.
//!
//! An entry is made only for a token whose signature verified (or that this
//! platform signed itself); a hit compares the whole token text, so a token
//! that differs in any byte is a miss. Bounded: the least recently used entry
//! goes first.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use parking_lot::Mutex;

use super::{Claims, KeyId};

/// Default capacity of a platform's cache of verified tokens.
pub const DEFAULT_VERIFIED_TOKENS: usize = 16_384;

/// A bounded, thread-safe cache of verified tokens (least recently used out).
#[derive(Debug)]
pub struct VerifiedTokens {
    inner: Mutex<Lru>,
}

#[derive(Debug)]
struct Node {
    token: Arc<str>,
    kid: KeyId,
    claims: Arc<Claims>,
    /// The revocation-list version under which these claims were last found
    /// not revoked, or `NOT_CHECKED`.
    not_revoked_under: u64,
    prev: usize,
    next: usize,
}

/// No version: a list's versions count up from 0 and never reach this.
const NOT_CHECKED: u64 = u64::MAX;

/// Slots in a vector, linked from most to least recently used.
#[derive(Debug)]
struct Lru {
    capacity: usize,
    index: HashMap<Arc<str>, usize, BuildHasherDefault<TailHasher>>,
    nodes: Vec<Node>,
    /// Most recently used, or `NONE`.
    head: usize,
    /// Least recently used, or `NONE`.
    tail: usize,
}

const NONE: usize = usize::MAX;

/// Hashes the last 16 bytes of a token (inside its signature, which differs
/// between any two tokens a key signed). Equal hashes still compare the whole
/// token; entries exist only for tokens that verified, so nobody can fill a
/// bucket on purpose.
#[derive(Default)]
struct TailHasher(u64);

impl Hasher for TailHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let tail = &bytes[bytes.len().saturating_sub(16)..];
        for chunk in tail.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
}

impl VerifiedTokens {
    /// An empty cache holding at most `capacity` tokens (0: caches nothing).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        VerifiedTokens {
            inner: Mutex::new(Lru {
                capacity,
                index: HashMap::default(),
                nodes: Vec::new(),
                head: NONE,
                tail: NONE,
            }),
        }
    }

    /// The claims of a token verified before, if it is still cached.
    #[must_use]
    pub fn get(&self, token: &str) -> Option<Arc<Claims>> {
        let mut lru = self.inner.lock();
        let i = *lru.index.get(token)?;
        lru.touch(i);
        Some(Arc::clone(&lru.nodes[i].claims))
    }

    /// The claims of a token verified before, if cached, and whether they
    /// were found not revoked under revocation-list version `revocations`.
    pub(crate) fn lookup(&self, token: &str, revocations: u64) -> Option<(Arc<Claims>, bool)> {
        let mut lru = self.inner.lock();
        let i = *lru.index.get(token)?;
        lru.touch(i);
        let node = &lru.nodes[i];
        Some((
            Arc::clone(&node.claims),
            node.not_revoked_under == revocations,
        ))
    }

    /// Notes that a cached token's claims are not revoked under revocation
    /// list version `revocations` (a later lookup under it skips the check).
    pub(crate) fn mark_not_revoked(&self, token: &str, revocations: u64) {
        let mut lru = self.inner.lock();
        if let Some(&i) = lru.index.get(token) {
            lru.nodes[i].not_revoked_under = revocations;
        }
    }

    /// Remembers a token whose signature by `kid` verified (or that was just
    /// signed with it), with its claims.
    pub fn insert(&self, token: &str, kid: &KeyId, claims: Arc<Claims>) {
        let mut lru = self.inner.lock();
        if lru.capacity == 0 {
            return;
        }
        if let Some(&i) = lru.index.get(token) {
            lru.nodes[i].claims = claims;
            lru.nodes[i].not_revoked_under = NOT_CHECKED;
            lru.touch(i);
            return;
        }
        let node = Node {
            token: token.into(),
            kid: kid.clone(),
            claims,
            not_revoked_under: NOT_CHECKED,
            prev: NONE,
            next: NONE,
        };
        let i = if lru.nodes.len() < lru.capacity {
            lru.nodes.push(node);
            lru.nodes.len() - 1
        } else {
            // Reuse the least recently used slot.
            let i = lru.tail;
            lru.unlink(i);
            let old = std::mem::replace(&mut lru.nodes[i], node);
            lru.index.remove(&old.token);
            i
        };
        let key = Arc::clone(&lru.nodes[i].token);
        lru.index.insert(key, i);
        lru.push_front(i);
    }

    /// Forgets every token signed by `kid` (its key was removed or replaced).
    pub fn forget_key(&self, kid: &str) {
        let mut lru = self.inner.lock();
        let keep: Vec<Node> = std::mem::take(&mut lru.nodes)
            .into_iter()
            .filter(|n| n.kid.as_str() != kid)
            .collect();
        let capacity = lru.capacity;
        *lru = Lru {
            capacity,
            index: HashMap::default(),
            nodes: Vec::new(),
            head: NONE,
            tail: NONE,
        };
        // Oldest first, so the most recently used stays at the front.
        let mut ordered = keep;
        ordered.reverse();
        for mut n in ordered {
            n.prev = NONE;
            n.next = NONE;
            let i = lru.nodes.len();
            lru.index.insert(Arc::clone(&n.token), i);
            lru.nodes.push(n);
            lru.push_front(i);
        }
    }

    /// How many tokens are cached.
    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.lock().index.len()
    }

    /// Whether nothing is cached.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most tokens it holds.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.inner.lock().capacity
    }
}

impl Lru {
    fn unlink(&mut self, i: usize) {
        let (prev, next) = (self.nodes[i].prev, self.nodes[i].next);
        match prev {
            NONE => self.head = next,
            p => self.nodes[p].next = next,
        }
        match next {
            NONE => self.tail = prev,
            n => self.nodes[n].prev = prev,
        }
        self.nodes[i].prev = NONE;
        self.nodes[i].next = NONE;
    }

    fn push_front(&mut self, i: usize) {
        self.nodes[i].prev = NONE;
        self.nodes[i].next = self.head;
        if self.head != NONE {
            let h = self.head;
            self.nodes[h].prev = i;
        }
        self.head = i;
        if self.tail == NONE {
            self.tail = i;
        }
    }

    fn touch(&mut self, i: usize) {
        if self.head != i {
            self.unlink(i);
            self.push_front(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{ConferenceId, ExternalId};
    use crate::permissions::PermissionSet;

    fn claims(n: u64) -> Arc<Claims> {
        Arc::new(Claims::new(
            "confkit",
            ExternalId::new(format!("user-{n}")).unwrap(),
            ConferenceId::random(),
            PermissionSet::EMPTY,
            1_700_000_000 + n,
            60,
        ))
    }

    fn kid(s: &str) -> KeyId {
        KeyId::new(s).unwrap()
    }

    #[test]
    fn the_least_recently_used_goes_first_and_the_bound_holds() {
        let cache = VerifiedTokens::new(3);
        for n in 0..3 {
            cache.insert(&format!("token-{n}"), &kid("k"), claims(n));
        }
        assert!(cache.get("token-0").is_some()); // 0 is now the most recent
        cache.insert("token-3", &kid("k"), claims(3)); // evicts 1
        assert_eq!(cache.len(), 3);
        assert!(cache.get("token-1").is_none());
        for n in [0, 2, 3] {
            assert_eq!(
                cache.get(&format!("token-{n}")).unwrap().subject.as_str(),
                format!("user-{n}")
            );
        }
        for n in 4..100 {
            cache.insert(&format!("token-{n}"), &kid("k"), claims(n));
            assert!(cache.len() <= 3);
        }
        assert_eq!(cache.len(), 3);
        assert!(cache.get("token-99").is_some());
    }

    #[test]
    fn a_token_differing_in_any_byte_is_a_miss() {
        let cache = VerifiedTokens::new(8);
        let token = "header.payload.signature-ending-in-the-same-16-bytes";
        cache.insert(token, &kid("k"), claims(1));
        // Same last 16 bytes (same hash), another payload.
        let forged = "header.PAYLOAD.signature-ending-in-the-same-16-bytes";
        assert!(cache.get(forged).is_none());
        assert!(cache.get(token).is_some());
        assert!(cache.get("").is_none());
    }

    #[test]
    fn forgetting_a_key_forgets_exactly_its_tokens() {
        let cache = VerifiedTokens::new(8);
        cache.insert("a1", &kid("a"), claims(1));
        cache.insert("b1", &kid("b"), claims(2));
        cache.insert("a2", &kid("a"), claims(3));
        cache.forget_key("a");
        assert_eq!(cache.len(), 1);
        assert!(cache.get("a1").is_none() && cache.get("a2").is_none());
        assert!(cache.get("b1").is_some());
        // Still an LRU of the same capacity afterwards.
        for n in 0..20 {
            cache.insert(&format!("c{n}"), &kid("c"), claims(n));
        }
        assert_eq!(cache.len(), 8);
    }

    #[test]
    fn capacity_zero_caches_nothing() {
        let cache = VerifiedTokens::new(0);
        cache.insert("t", &kid("k"), claims(1));
        assert!(cache.is_empty());
        assert!(cache.get("t").is_none());
    }
}
