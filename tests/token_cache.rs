//! The platform's cache of verified tokens: a token presented again is not
//! verified again, yet everything that can change is still checked (time,
//! conference, revocation, a key removed), and the cache stays bounded.

mod common;

use common::*;
use confkit::platform::PlatformConfig;
use confkit::token::{Claims, KeyId, SigningKey};
use confkit::{ErrorCode, LifecycleEvent, PermissionSet};

fn code(e: confkit::platform::PlatformError) -> ErrorCode {
    e.code()
}

#[test]
fn a_cached_token_still_fails_once_revoked_expired_or_for_another_conference() {
    let (p, clock) = platform();
    let (alice, conf) = protected_room(&p);
    let bob = open(&p, "bob", "Bob");
    p.invite(alice, conf, &[invitee("bob", None)]).unwrap();
    let token = invitation_token(&p, bob);
    assert!(p.cached_tokens() >= 2, "minted tokens are cached");
    // A rejoin with the same token is admitted (a cache hit)...
    p.join(bob, conf, Some(&token)).unwrap();
    p.report(bob, conf, LifecycleEvent::Connected).unwrap();
    p.join(bob, conf, Some(&token)).unwrap();
    // ...but not in another conference,
    let other = p
        .create_conference(alice, "other", protected())
        .unwrap()
        .conference
        .id;
    let err = p.join(bob, other, Some(&token)).unwrap_err();
    assert_eq!(code(err), ErrorCode::TokenWrongConference);
    // not after a kick,
    p.kick(alice, conf, &eid("bob")).unwrap();
    let err = p.join(bob, conf, Some(&token)).unwrap_err();
    assert_eq!(code(err), ErrorCode::TokenRevoked);
    // and not once expired.
    p.invite(alice, conf, &[invitee("bob", None)]).unwrap();
    let fresh = invitation_token(&p, bob);
    clock.advance(3 * 60 * 60 + 120);
    let err = p.join(bob, conf, Some(&fresh)).unwrap_err();
    assert_eq!(code(err), ErrorCode::TokenExpired);
}

#[test]
fn a_token_one_byte_off_a_cached_one_is_verified_and_refused() {
    let (p, _clock) = platform();
    let (alice, conf) = protected_room(&p);
    let bob = open(&p, "bob", "Bob");
    p.invite(alice, conf, &[invitee("bob", None)]).unwrap();
    let token = invitation_token(&p, bob);
    // Flip one character of the payload, keep the signature (the cache's hash).
    let (head, rest) = token.split_once('.').unwrap();
    let (payload, sig) = rest.split_once('.').unwrap();
    let mut bytes = payload.as_bytes().to_vec();
    bytes[5] = if bytes[5] == b'A' { b'B' } else { b'A' };
    let forged = format!("{head}.{}.{sig}", String::from_utf8(bytes).unwrap());
    let err = p.join(bob, conf, Some(&forged)).unwrap_err();
    assert_ne!(code(err), ErrorCode::Ok);
    p.join(bob, conf, Some(&token)).unwrap();
}

#[test]
fn a_removed_key_admits_no_cached_token() {
    let (p, _clock) = platform();
    let (alice, conf) = protected_room(&p);
    let _ = alice;
    let bob = open(&p, "bob", "Bob");
    // A second key, trusted, signs a token outside the platform.
    let other = SigningKey::from_seed(&[5; 32], KeyId::new("partner").unwrap());
    p.add_verifying_key(other.kid().clone(), other.verifying_key())
        .unwrap();
    let claims = Claims::new(
        "confkit",
        eid("bob"),
        conf,
        PermissionSet::DEFAULT_INVITEE,
        START,
        3600,
    );
    let token = other.mint(&claims);
    p.join(bob, conf, Some(&token)).unwrap(); // verified, and now cached
    assert!(p.remove_verifying_key("partner").unwrap());
    assert!(
        !p.remove_verifying_key(KID).unwrap(),
        "the platform's own key stays"
    );
    let err = p.join(bob, conf, Some(&token)).unwrap_err();
    assert_eq!(code(err), ErrorCode::TokenInvalid);
}

#[test]
fn the_cache_is_bounded() {
    let (p, _clock) = platform_with(PlatformConfig {
        verified_tokens: 4,
        ..PlatformConfig::default()
    });
    let (alice, conf) = protected_room(&p);
    let ids: Vec<String> = (0..50).map(|i| format!("guest-{i}")).collect();
    let invitees: Vec<_> = ids.iter().map(|i| invitee(i, None)).collect();
    p.invite(alice, conf, &invitees).unwrap();
    assert_eq!(p.cached_tokens(), 4);
    let (p, _clock) = platform_with(PlatformConfig {
        verified_tokens: 0,
        ..PlatformConfig::default()
    });
    let (alice, conf) = protected_room(&p);
    p.invite(alice, conf, &invitees).unwrap();
    assert_eq!(p.cached_tokens(), 0);
}

// A hit skips the revocation lookups while the revocation list is unchanged
// since the token was last found not revoked (`RevocationList::version`).
// These tests hold that skip to `KeyRing::verify`'s verdicts.

mod revocation_versions {
    use confkit::token::{Claims, KeyId, KeyRing, SigningKey, TokenError, VerifiedTokens};
    use confkit::{ConferenceId, ExternalId, PermissionSet, RevocationList, Validation};

    const NOW: u64 = 1_700_000_000;

    struct Setup {
        ring: KeyRing,
        cache: VerifiedTokens,
        conf: ConferenceId,
        tokens: Vec<(String, Claims)>,
    }

    fn setup(n: usize) -> Setup {
        let key = SigningKey::from_seed(&[9; 32], KeyId::new("k").unwrap());
        let mut ring = KeyRing::new();
        ring.insert(key.kid().clone(), key.verifying_key()).unwrap();
        let conf = ConferenceId::random();
        let tokens = (0..n)
            .map(|i| {
                let claims = Claims {
                    issuer: "https://platform.example".into(),
                    subject: ExternalId::new(format!("user-{}", i % 3)).unwrap(),
                    conference: conf,
                    permissions: PermissionSet::DEFAULT_INVITEE,
                    issued_at: NOW - 100 + i as u64,
                    not_before: NOW - 100,
                    expires_at: NOW + 3600,
                    token_id: format!("jti-{i}"),
                };
                (key.mint(&claims), claims)
            })
            .collect();
        Setup {
            ring,
            cache: VerifiedTokens::new(64),
            conf,
            tokens,
        }
    }

    impl Setup {
        fn cached(&self, i: usize, list: &RevocationList) -> Result<Claims, TokenError> {
            let v = Validation::new(NOW, self.conf).with_revocations(list);
            self.ring
                .verify_cached(&self.cache, &self.tokens[i].0, &v)
                .map(|c| (*c).clone())
        }

        fn uncached(&self, i: usize, list: &RevocationList) -> Result<Claims, TokenError> {
            let v = Validation::new(NOW, self.conf).with_revocations(list);
            self.ring.verify(&self.tokens[i].0, &v)
        }
    }

    #[test]
    fn a_token_found_not_revoked_is_refused_once_its_id_or_subject_is_revoked() {
        let s = setup(2);
        let mut list = RevocationList::new();
        // Verified, then a hit that finds it not revoked under this version.
        assert!(s.cached(0, &list).is_ok());
        assert!(s.cached(0, &list).is_ok());
        let before = list.clone();
        list.revoke_token("jti-0", NOW + 4000);
        assert_ne!(list.version(), before.version());
        assert!(matches!(
            s.cached(0, &list),
            Err(TokenError::Revoked { .. })
        ));
        // The list as it was still admits it (same version, same entries).
        assert!(s.cached(0, &before).is_ok());
        // A kick of the subject, after a hit that found the token clean.
        assert!(s.cached(1, &list).is_ok());
        assert!(s.cached(1, &list).is_ok());
        let subject = s.tokens[1].1.subject.clone();
        list.revoke_subject(s.conf, subject, NOW + 1, NOW + 4000);
        assert!(matches!(
            s.cached(1, &list),
            Err(TokenError::SubjectRevoked { .. })
        ));
    }

    #[test]
    fn a_changed_list_has_a_new_version_and_an_unchanged_one_keeps_it() {
        let mut a = RevocationList::new();
        assert_eq!(a.version(), RevocationList::new().version(), "empty lists");
        let v0 = a.version();
        a.revoke_token("x", NOW + 10);
        let v1 = a.version();
        assert_ne!(v1, v0);
        let b = a.clone();
        assert_eq!(b.version(), v1, "a clone holds the same entries");
        // Pruning that removes nothing is no change...
        a.prune(NOW);
        assert_eq!(a.version(), v1);
        // ...pruning that removes an entry is one: `b` still holds it.
        a.prune(NOW + 11);
        assert_ne!(a.version(), v1);
        assert_eq!(b.version(), v1);
        assert!(b.is_token_revoked("x") && !a.is_token_revoked("x"));
        // The same revocation made again on another list is another version.
        let mut c = RevocationList::new();
        c.revoke_token("x", NOW + 10);
        assert_ne!(c.version(), v1);
    }

    /// Random revocations, clones and prunes on a few lists, with cache hits
    /// in between: every cached verdict equals the uncached verify's.
    #[test]
    fn cached_verdicts_equal_uncached_ones_through_random_changes() {
        let s = setup(6);
        let mut lists = vec![RevocationList::new()];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut refusals = 0;
        for _ in 0..4000 {
            let pick = (next() % lists.len() as u64) as usize;
            match next() % 10 {
                0 if lists.len() < 4 => {
                    let copy = lists[pick].clone();
                    lists.push(copy);
                }
                1 => {
                    let jti = format!("jti-{}", next() % 6);
                    lists[pick].revoke_token(jti, NOW + 1 + next() % 20);
                }
                2 => {
                    let subject = ExternalId::new(format!("user-{}", next() % 3)).unwrap();
                    lists[pick].revoke_subject(s.conf, subject, NOW - 100 + next() % 8, NOW + 20);
                }
                3 => lists[pick].prune(NOW + next() % 25),
                _ => {
                    let i = (next() % 6) as usize;
                    let cached = s.cached(i, &lists[pick]);
                    assert_eq!(cached, s.uncached(i, &lists[pick]), "token {i}");
                    refusals += usize::from(cached.is_err());
                }
            }
        }
        assert!(refusals > 100, "the lists revoked too little ({refusals})");
    }
}
