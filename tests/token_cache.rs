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
