//! Identities: external IDs, participant info, conference IDs and aliases.
//!
//! Each type checks its invariants in its constructor, so a value that exists is
//! valid; the rest of the crate never re-checks.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

/// Longest external ID, in bytes.
pub const MAX_EXTERNAL_ID_BYTES: usize = 256;
/// Longest alias, in characters.
pub const MAX_ALIAS_CHARS: usize = 250;
/// Longest display name, in bytes.
pub const MAX_NAME_BYTES: usize = 1024;
/// Longest avatar URL, in bytes.
pub const MAX_AVATAR_URL_BYTES: usize = 2048;

/// Why an identity value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// The external ID was empty.
    #[error("external ID is empty")]
    EmptyExternalId,
    /// The external ID was longer than [`MAX_EXTERNAL_ID_BYTES`].
    #[error("external ID is {len} bytes, more than {MAX_EXTERNAL_ID_BYTES}")]
    ExternalIdTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// A value held a control character.
    #[error("{field} contains a control character")]
    ControlCharacter {
        /// Which value.
        field: &'static str,
    },
    /// The alias was empty.
    #[error("alias is empty")]
    EmptyAlias,
    /// The alias was longer than [`MAX_ALIAS_CHARS`].
    #[error("alias is {len} characters, more than {MAX_ALIAS_CHARS}")]
    AliasTooLong {
        /// Its length in characters.
        len: usize,
    },
    /// The alias contained `#`, which is reserved.
    #[error("alias must not contain '#'")]
    AliasHash,
    /// A display name or avatar URL was too long.
    #[error("{field} is {len} bytes, more than {max}")]
    TooLong {
        /// Which value.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A conference ID was not a UUID.
    #[error("conference ID {0:?} is not a UUID")]
    BadConferenceId(String),
}

fn check_no_control(s: &str, field: &'static str) -> Result<(), IdentityError> {
    if s.chars().any(char::is_control) {
        return Err(IdentityError::ControlCharacter { field });
    }
    Ok(())
}

fn check_len(s: &str, field: &'static str, max: usize) -> Result<(), IdentityError> {
    if s.len() > max {
        return Err(IdentityError::TooLong {
            field,
            len: s.len(),
            max,
        });
    }
    Ok(())
}

/// The application's own user id: non-empty UTF-8, at most 256 bytes, no
/// control characters. Compared exactly (case-sensitive).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExternalId(String);

impl ExternalId {
    /// Checks and wraps an external ID.
    pub fn new(id: impl Into<String>) -> Result<Self, IdentityError> {
        let id = id.into();
        if id.is_empty() {
            return Err(IdentityError::EmptyExternalId);
        }
        if id.len() > MAX_EXTERNAL_ID_BYTES {
            return Err(IdentityError::ExternalIdTooLong { len: id.len() });
        }
        check_no_control(&id, "external ID")?;
        Ok(ExternalId(id))
    }

    /// The ID as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ID as an owned string.
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ExternalId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ExternalId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ExternalId::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Who a participant is: external ID, display name and optional avatar URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "RawInfo")]
pub struct ParticipantInfo {
    external_id: ExternalId,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    avatar_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawInfo {
    external_id: ExternalId,
    #[serde(default)]
    name: String,
    #[serde(default)]
    avatar_url: Option<String>,
}

impl TryFrom<RawInfo> for ParticipantInfo {
    type Error = IdentityError;
    fn try_from(r: RawInfo) -> Result<Self, IdentityError> {
        ParticipantInfo::new(r.external_id, r.name, r.avatar_url)
    }
}

impl ParticipantInfo {
    /// Checks and builds participant info. The name may be empty (hosts often
    /// know only the ID); it and the URL are bounded and free of control characters.
    pub fn new(
        external_id: ExternalId,
        name: impl Into<String>,
        avatar_url: Option<String>,
    ) -> Result<Self, IdentityError> {
        let name = name.into();
        check_len(&name, "name", MAX_NAME_BYTES)?;
        check_no_control(&name, "name")?;
        if let Some(url) = &avatar_url {
            check_len(url, "avatar URL", MAX_AVATAR_URL_BYTES)?;
            check_no_control(url, "avatar URL")?;
        }
        Ok(ParticipantInfo {
            external_id,
            name,
            avatar_url: avatar_url.filter(|u| !u.is_empty()),
        })
    }

    /// Info with no name and no avatar: all that is known of a user invited
    /// before they opened a session.
    #[must_use]
    pub fn anonymous(external_id: ExternalId) -> Self {
        ParticipantInfo {
            external_id,
            name: String::new(),
            avatar_url: None,
        }
    }

    /// The user's external ID.
    #[must_use]
    pub fn external_id(&self) -> &ExternalId {
        &self.external_id
    }

    /// The display name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The avatar URL, if any.
    #[must_use]
    pub fn avatar_url(&self) -> Option<&str> {
        self.avatar_url.as_deref()
    }
}

/// A conference's identity, a UUID assigned by the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConferenceId(Uuid);

impl ConferenceId {
    /// A fresh random (v4) ID.
    #[must_use]
    pub fn random() -> Self {
        ConferenceId(Uuid::new_v4())
    }

    /// Wraps a UUID.
    #[must_use]
    pub const fn from_uuid(id: Uuid) -> Self {
        ConferenceId(id)
    }

    /// Parses the hyphenated UUID text form (36 characters); the other forms
    /// `uuid` accepts (simple, braced, URN) are refused so one conference has
    /// one spelling.
    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        if s.len() != 36 {
            return Err(IdentityError::BadConferenceId(s.chars().take(64).collect()));
        }
        Uuid::try_parse(s)
            .map(ConferenceId)
            .map_err(|_| IdentityError::BadConferenceId(s.chars().take(64).collect()))
    }

    /// The UUID.
    #[must_use]
    pub const fn uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for ConferenceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// A human name for a conference, chosen by its creator: at most 250
/// characters, no `#`, no control characters.
///
/// Equality and hashing use [`Alias::key`], `NFC(full_case_fold(NFC(text)))`:
/// full Unicode case folding (C+F) between NFC normalizations. So "Team-Sync"
/// and "team-sync", "STRASSE" and "straße", "ΟΔΟΣ" and "οδοσ", and precomposed
/// "é" and "e" + U+0301 each name the same conference. The creator's spelling
/// is kept for display.
#[derive(Debug, Clone)]
pub struct Alias {
    text: String,
    key: String,
}

impl Alias {
    /// Checks and wraps an alias.
    pub fn new(text: impl Into<String>) -> Result<Self, IdentityError> {
        let text = text.into();
        if text.is_empty() {
            return Err(IdentityError::EmptyAlias);
        }
        let len = text.chars().count();
        if len > MAX_ALIAS_CHARS {
            return Err(IdentityError::AliasTooLong { len });
        }
        if text.contains('#') {
            return Err(IdentityError::AliasHash);
        }
        check_no_control(&text, "alias")?;
        let key = fold_key(&text);
        Ok(Alias { text, key })
    }

    /// The alias as the creator spelled it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The form used for comparison and lookup:
    /// `NFC(full_case_fold(NFC(text)))`.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// `NFC(full_case_fold(NFC(text)))`: the inner NFC makes canonically
/// equivalent spellings fold alike, the outer one normalizes what folding
/// produced.
fn fold_key(text: &str) -> String {
    let nfc: String = text.nfc().collect();
    caseless::default_case_fold_str(&nfc).nfc().collect()
}

impl PartialEq for Alias {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Alias {}
impl std::hash::Hash for Alias {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl fmt::Display for Alias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Alias {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Alias {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Alias::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_id_rules() {
        assert_eq!(ExternalId::new(""), Err(IdentityError::EmptyExternalId));
        assert!(ExternalId::new("a".repeat(256)).is_ok());
        assert_eq!(
            ExternalId::new("a".repeat(257)),
            Err(IdentityError::ExternalIdTooLong { len: 257 })
        );
        assert!(matches!(
            ExternalId::new("a\nb"),
            Err(IdentityError::ControlCharacter { .. })
        ));
        assert_eq!(ExternalId::new("jürgen@x").unwrap().as_str(), "jürgen@x");
    }

    #[test]
    fn alias_rules_and_case_insensitive_equality() {
        assert_eq!(Alias::new(""), Err(IdentityError::EmptyAlias));
        assert_eq!(Alias::new("a#b"), Err(IdentityError::AliasHash));
        assert!(Alias::new("é".repeat(250)).is_ok());
        assert_eq!(
            Alias::new("é".repeat(251)),
            Err(IdentityError::AliasTooLong { len: 251 })
        );
        let a = Alias::new("Team-Sync").unwrap();
        let b = Alias::new("team-SYNC").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "Team-Sync");
    }

    #[test]
    fn finding_10_alias_key_uses_full_case_folding() {
        // to_lowercase gave "οδος" (final sigma) against "οδοσ".
        assert_eq!(Alias::new("ΟΔΟΣ").unwrap(), Alias::new("οδοσ").unwrap());
        assert_eq!(Alias::new("ΟΔΟΣ").unwrap().key(), "οδοσ");
        // to_lowercase left "ß" alone, so "straße" differed from "strasse".
        assert_eq!(
            Alias::new("STRASSE").unwrap(),
            Alias::new("straße").unwrap()
        );
        assert_eq!(
            Alias::new("Straße").unwrap(),
            Alias::new("STRASSE").unwrap()
        );
        assert_eq!(Alias::new("straße").unwrap().key(), "strasse");
        let a = Alias::new("Straße").unwrap();
        assert_eq!(a.as_str(), "Straße");
        assert_eq!(a.to_string(), "Straße");
    }

    #[test]
    fn finding_10_alias_key_ignores_canonical_equivalence() {
        let precomposed = Alias::new("caf\u{e9}").unwrap();
        let decomposed = Alias::new("cafe\u{301}").unwrap();
        assert_eq!(precomposed, decomposed);
        assert_eq!(decomposed.key(), "caf\u{e9}");
        assert_eq!(Alias::new("CAFE\u{301}").unwrap(), precomposed);
        // The creator's spelling is kept.
        assert_eq!(decomposed.as_str(), "cafe\u{301}");
    }

    #[test]
    fn finding_10_distinct_aliases_stay_distinct() {
        assert_ne!(Alias::new("room-a").unwrap(), Alias::new("room-b").unwrap());
        assert_ne!(
            Alias::new("cafe").unwrap(),
            Alias::new("caf\u{e9}").unwrap()
        );
        assert_ne!(Alias::new("strase").unwrap(), Alias::new("straße").unwrap());
    }

    #[test]
    fn participant_info_checks_and_serde() {
        let id = ExternalId::new("alice").unwrap();
        assert!(ParticipantInfo::new(id.clone(), "x".repeat(2000), None).is_err());
        assert!(ParticipantInfo::new(id.clone(), "A\u{7}", None).is_err());
        let info = ParticipantInfo::new(id, "Alice", Some("https://a/x.png".into())).unwrap();
        let json = serde_json::to_string(&info).unwrap();
        assert_eq!(
            json,
            r#"{"externalId":"alice","name":"Alice","avatarUrl":"https://a/x.png"}"#
        );
        let back: ParticipantInfo = serde_json::from_str(&json).unwrap();
        assert_eq!(back, info);
        assert!(serde_json::from_str::<ParticipantInfo>(r#"{"externalId":""}"#).is_err());
    }

    #[test]
    fn conference_id_parse() {
        let id = ConferenceId::random();
        assert_eq!(ConferenceId::parse(&id.to_string()), Ok(id));
        assert!(matches!(
            ConferenceId::parse("nope"),
            Err(IdentityError::BadConferenceId(_))
        ));
    }
}
