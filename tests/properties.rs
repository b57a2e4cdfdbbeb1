//! Property tests: permission-set laws, the lifecycle table, token round trips.

use confkit::lifecycle::TRANSITIONS;
use confkit::token::{Claims, KeyId, KeyRing, SigningKey, Validation};
use confkit::{
    ConferenceId, ExternalId, LifecycleEvent, ParticipantStatus, Permission, PermissionSet,
    TransitionError,
};
use proptest::prelude::*;
use proptest::sample::select;

fn perm_set() -> impl Strategy<Value = PermissionSet> {
    (0u32..4096).prop_map(|bits| PermissionSet::from_bits(bits).unwrap())
}

fn status() -> impl Strategy<Value = ParticipantStatus> {
    select(ParticipantStatus::ALL.to_vec())
}

fn event() -> impl Strategy<Value = LifecycleEvent> {
    select(LifecycleEvent::ALL.to_vec())
}

/// The table's row for (from, event), if any.
fn row(from: ParticipantStatus, event: LifecycleEvent) -> Option<ParticipantStatus> {
    let mut rows = TRANSITIONS
        .iter()
        .filter(|(f, e, _)| *f == from && *e == event);
    let found = rows.next().map(|(_, _, to)| *to);
    assert!(rows.next().is_none(), "two rows for {from} + {event}");
    found
}

proptest! {
    // ---------------------------------------------------------------------
    // PermissionSet
    // ---------------------------------------------------------------------

    #[test]
    fn names_round_trip(set in perm_set()) {
        let names: Vec<&str> = set.names().collect();
        prop_assert_eq!(names.len(), set.len());
        prop_assert_eq!(PermissionSet::from_names(&names), Ok(set));
        // Through `Permission::from_name` one by one too.
        let rebuilt: PermissionSet = names
            .iter()
            .map(|n| Permission::from_name(n).unwrap())
            .collect();
        prop_assert_eq!(rebuilt, set);
    }

    #[test]
    fn serde_json_round_trip(set in perm_set()) {
        let json = serde_json::to_string(&set).unwrap();
        let names: Vec<String> = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(names.len(), set.len());
        let back: PermissionSet = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, set);
    }

    #[test]
    fn union_is_commutative_and_associative(a in perm_set(), b in perm_set(), c in perm_set()) {
        prop_assert_eq!(a.union(b), b.union(a));
        prop_assert_eq!(a.union(b).union(c), a.union(b.union(c)));
        prop_assert_eq!(a.intersection(b), b.intersection(a));
        prop_assert_eq!(a.union(a), a);
        prop_assert_eq!(a.union(PermissionSet::EMPTY), a);
    }

    #[test]
    fn union_contains_both_and_intersection_is_contained(a in perm_set(), b in perm_set()) {
        prop_assert!(a.is_subset(a.union(b)));
        prop_assert!(b.is_subset(a.union(b)));
        prop_assert!(a.intersection(b).is_subset(a));
        prop_assert!(a.intersection(b).is_subset(b));
        prop_assert!(a.difference(b).is_subset(a));
        prop_assert!(a.difference(b).intersection(b).is_empty());
        prop_assert!(a.is_subset(PermissionSet::ALL));
        prop_assert!(PermissionSet::EMPTY.is_subset(a));
    }

    #[test]
    fn subset_iff_union_is_the_superset(a in perm_set(), b in perm_set(), related in any::<bool>()) {
        // Random pairs are rarely subsets: half the time, make `b` a superset of `a`.
        let b = if related { a.union(b) } else { b };
        prop_assert_eq!(a.is_subset(b), a.union(b) == b);
        prop_assert_eq!(a.is_subset(b), a.intersection(b) == a);
        prop_assert_eq!(
            a.is_subset(b),
            a.iter().all(|p| b.contains(p))
        );
    }

    #[test]
    fn from_bits_ok_iff_below_4096(bits in prop_oneof![0u32..8192, any::<u32>()]) {
        let result = PermissionSet::from_bits(bits);
        prop_assert_eq!(result.is_ok(), bits < 4096);
        if let Ok(set) = result {
            prop_assert_eq!(set.bits(), bits);
        }
    }

    #[test]
    fn iteration_is_ascending_bit_order_and_len_matches(set in perm_set()) {
        let perms: Vec<Permission> = set.iter().collect();
        prop_assert_eq!(perms.len(), set.len());
        prop_assert_eq!(set.len() as u32, set.bits().count_ones());
        prop_assert!(perms.windows(2).all(|w| w[0].bit() < w[1].bit()));
        let mut bits = 0u32;
        for p in &perms {
            prop_assert!(set.contains(*p));
            bits |= p.mask();
        }
        prop_assert_eq!(bits, set.bits());
        prop_assert_eq!(set.is_empty(), perms.is_empty());
    }

    // ---------------------------------------------------------------------
    // Lifecycle
    // ---------------------------------------------------------------------

    #[test]
    fn lifecycle_follows_the_table(
        start in status(),
        events in prop::collection::vec(event(), 0..64),
    ) {
        let mut current = start;
        for ev in events {
            let before = current;
            match (current.apply(ev), row(before, ev)) {
                (Ok(to), Some(want)) => {
                    prop_assert_eq!(to, want, "{} + {}", before, ev);
                    prop_assert!(TRANSITIONS.contains(&(before, ev, to)));
                    current = to;
                }
                (Err(e), None) => {
                    prop_assert_eq!(e, TransitionError { from: before, event: ev });
                    // A refused move leaves the status as it was.
                    prop_assert_eq!(current, before);
                }
                (got, want) => {
                    prop_assert!(false, "{} + {}: got {:?}, table says {:?}", before, ev, got, want);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    // ---------------------------------------------------------------------
    // Tokens
    // ---------------------------------------------------------------------

    #[test]
    fn token_round_trip(
        seed in any::<[u8; 32]>(),
        perms in perm_set(),
        issuer in any::<String>(),
        subject in "[^\\p{Cc}]{1,64}",
        conference in any::<u128>(),
        issued_at in 0u64..=u64::MAX / 2,
        nbf_delay in 0u64..=60,
        ttl in 0u64..=10 * 365 * 24 * 3600,
        token_id in "[^\\p{Cc}]{1,40}",
    ) {
        let key = SigningKey::from_seed(&seed, KeyId::new("k").unwrap());
        let ring = KeyRing::with_key(key.kid().clone(), key.verifying_key()).unwrap();
        let conference = ConferenceId::from_uuid(uuid::Uuid::from_u128(conference));
        let claims = Claims {
            issuer,
            subject: ExternalId::new(subject).unwrap(),
            conference,
            permissions: perms,
            issued_at,
            not_before: issued_at + nbf_delay,
            expires_at: issued_at + ttl,
            token_id,
        };
        let token = key.mint(&claims);
        prop_assert_eq!(ring.verify(&token, &Validation::new(issued_at, conference)), Ok(claims.clone()));
        prop_assert_eq!(Claims::from_json(&claims.to_json()), Ok(claims));
    }
}
