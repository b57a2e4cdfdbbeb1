//! Security finding 10: aliases compare by full Unicode case folding after NFC
//! normalization, through the platform's create and lookup.

use std::sync::Arc;

use confkit::platform::{ConferenceOptions, PlatformConfig};
use confkit::{ExternalId, KeyId, ManualClock, ParticipantInfo, Platform, SessionId, SigningKey};

fn platform() -> (Platform, SessionId) {
    let p = Platform::with_config(
        SigningKey::from_seed(&[42; 32], KeyId::new("k").unwrap()),
        Arc::new(ManualClock::new(1_700_000_000)),
        PlatformConfig::default(),
    );
    let sid = p.open_session(
        ParticipantInfo::new(ExternalId::new("alice").unwrap(), "Alice", None).unwrap(),
    );
    (p, sid)
}

/// Creates `first`, then `second` must find that conference rather than make
/// a new one, and each spelling must find it by lookup.
fn assert_same_conference(first: &str, second: &str) {
    let (p, sid) = platform();
    let a = p
        .create_conference(sid, first, ConferenceOptions::default())
        .unwrap();
    assert!(a.is_new);
    let b = p
        .create_conference(sid, second, ConferenceOptions::default())
        .unwrap();
    assert!(
        !b.is_new,
        "{second:?} made a new conference beside {first:?}"
    );
    assert_eq!(b.conference.id, a.conference.id);
    // The creator's spelling is what is shown.
    assert_eq!(b.conference.alias, first);
    assert_eq!(p.conference_by_alias(second).unwrap().id, a.conference.id);
    assert_eq!(p.conference_by_alias(first).unwrap().id, a.conference.id);
}

#[test]
fn finding_10_greek_final_sigma_names_one_conference() {
    // to_lowercase: "ΟΔΟΣ" -> "οδος" (final sigma), unlike "οδοσ".
    assert_same_conference("ΟΔΟΣ", "οδοσ");
    assert_same_conference("οδοσ", "ΟΔΟΣ");
}

#[test]
fn finding_10_sharp_s_names_one_conference() {
    // to_lowercase: "STRASSE" -> "strasse", but "straße" stays "straße".
    assert_same_conference("STRASSE", "straße");
    assert_same_conference("Straße", "STRASSE");
}

#[test]
fn finding_10_canonically_equivalent_spellings_name_one_conference() {
    // Precomposed U+00E9 against "e" + combining acute U+0301.
    assert_same_conference("caf\u{e9}", "cafe\u{301}");
    assert_same_conference("cafe\u{301}", "CAF\u{c9}");
}

#[test]
fn finding_10_different_aliases_stay_different() {
    let (p, sid) = platform();
    let a = p
        .create_conference(sid, "room-a", ConferenceOptions::default())
        .unwrap();
    let b = p
        .create_conference(sid, "room-b", ConferenceOptions::default())
        .unwrap();
    assert!(a.is_new && b.is_new);
    assert_ne!(a.conference.id, b.conference.id);
    assert_eq!(p.conference_by_alias("ROOM-A").unwrap().id, a.conference.id);
    assert_eq!(p.conference_by_alias("room-b").unwrap().id, b.conference.id);
}
