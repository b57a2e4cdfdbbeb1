//! A map whose entries are forgotten at their own time: what lets the platform
//! keep revocations and destroyed conference IDs only as long as they matter.

use std::borrow::Borrow;
use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

/// Entries with a time after which they no longer matter. [`Expiring::prune`]
/// drops them in deadline order, so memory follows the live entries only.
#[derive(Debug, Clone)]
pub(crate) struct Expiring<K: Hash + Eq + Ord + Clone, V> {
    map: HashMap<K, (V, u64)>,
    order: BTreeSet<(u64, K)>,
}

impl<K: Hash + Eq + Ord + Clone, V> Default for Expiring<K, V> {
    fn default() -> Self {
        Expiring {
            map: HashMap::new(),
            order: BTreeSet::new(),
        }
    }
}

impl<K: Hash + Eq + Ord + Clone, V> Expiring<K, V> {
    /// Inserts or replaces `key`, kept until `forget_after` (a later time wins
    /// when the key is already there).
    pub fn insert(&mut self, key: K, value: V, forget_after: u64) {
        let deadline = match self.map.get(&key) {
            Some((_, old)) => {
                let old = *old;
                self.order.remove(&(old, key.clone()));
                old.max(forget_after)
            }
            None => forget_after,
        };
        self.order.insert((deadline, key.clone()));
        self.map.insert(key, (value, deadline));
    }

    pub fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.map.get(key).map(|(v, _)| v)
    }

    pub fn contains<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.map.contains_key(key)
    }

    #[cfg(feature = "authority")]
    /// The value and deadline kept for `key`.
    pub fn entry<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<(&V, u64)>
    where
        K: Borrow<Q>,
    {
        self.map.get(key).map(|(v, at)| (v, *at))
    }

    #[cfg(feature = "authority")]
    /// Every entry with its deadline.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V, u64)> {
        self.map.iter().map(|(k, (v, at))| (k, v, *at))
    }

    #[cfg(feature = "authority")]
    /// Forgets `key` now, whatever its deadline.
    pub fn remove(&mut self, key: &K) -> Option<(V, u64)> {
        let (v, at) = self.map.remove(key)?;
        self.order.remove(&(at, key.clone()));
        Some((v, at))
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Drops every entry whose time is strictly before `now`.
    pub fn prune(&mut self, now: u64) {
        while let Some((deadline, _)) = self.order.first() {
            if *deadline >= now {
                break;
            }
            if let Some((_, key)) = self.order.pop_first() {
                self.map.remove(&key);
            }
        }
        // Give memory back once most of it is unused, so a burst does not
        // stay allocated for the platform's life.
        if self.map.capacity() > 64 && self.map.len() < self.map.capacity() / 4 {
            self.map.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_go_at_their_time_and_later_deadlines_win() {
        let mut e: Expiring<u32, &str> = Expiring::default();
        e.insert(1, "a", 10);
        e.insert(2, "b", 20);
        e.insert(1, "a2", 5); // an earlier deadline does not shorten the life
        e.prune(10);
        assert_eq!(e.get(&1), Some(&"a2"));
        e.prune(11);
        assert!(!e.contains(&1));
        assert!(e.contains(&2));
        e.prune(21);
        assert!(e.is_empty());
        assert_eq!(e.order.len(), 0);
    }
}
