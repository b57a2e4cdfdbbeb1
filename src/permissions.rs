//! The twelve conference permissions and sets of them.
//!
//! Each permission has a stable bit (its position in DESIGN order) and a stable
//! upper-case name used in JSON and tokens. Bits and names are part of the wire
//! format and the C ABI: they are never renumbered or renamed.

use std::fmt;

use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// A permission name that is not one of the twelve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown permission name {0:?}")]
pub struct UnknownPermission(pub String);

/// One thing a participant of a protected conference may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Permission {
    /// Invite others.
    Invite = 0,
    /// Join the conference (listening needs it too).
    Join = 1,
    /// Send audio.
    SendAudio = 2,
    /// Send video.
    SendVideo = 3,
    /// Share a screen.
    ShareScreen = 4,
    /// Share a video file.
    ShareVideo = 5,
    /// Share a file.
    ShareFile = 6,
    /// Send messages.
    SendMessage = 7,
    /// Record.
    Record = 8,
    /// Live stream.
    Stream = 9,
    /// Remove a participant.
    Kick = 10,
    /// Change other participants' permissions.
    UpdatePermissions = 11,
}

impl Permission {
    /// Every permission, in bit order.
    pub const ALL: [Permission; 12] = [
        Permission::Invite,
        Permission::Join,
        Permission::SendAudio,
        Permission::SendVideo,
        Permission::ShareScreen,
        Permission::ShareVideo,
        Permission::ShareFile,
        Permission::SendMessage,
        Permission::Record,
        Permission::Stream,
        Permission::Kick,
        Permission::UpdatePermissions,
    ];

    /// The stable bit index (0..=11).
    #[must_use]
    pub const fn bit(self) -> u32 {
        self as u32
    }

    /// The single-bit mask of this permission.
    #[must_use]
    pub const fn mask(self) -> u32 {
        1 << self.bit()
    }

    /// The stable upper-case name used in JSON and tokens.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Permission::Invite => "INVITE",
            Permission::Join => "JOIN",
            Permission::SendAudio => "SEND_AUDIO",
            Permission::SendVideo => "SEND_VIDEO",
            Permission::ShareScreen => "SHARE_SCREEN",
            Permission::ShareVideo => "SHARE_VIDEO",
            Permission::ShareFile => "SHARE_FILE",
            Permission::SendMessage => "SEND_MESSAGE",
            Permission::Record => "RECORD",
            Permission::Stream => "STREAM",
            Permission::Kick => "KICK",
            Permission::UpdatePermissions => "UPDATE_PERMISSIONS",
        }
    }

    /// Parses a stable name; names are case-sensitive, as on the wire.
    pub fn from_name(name: &str) -> Result<Self, UnknownPermission> {
        Permission::ALL
            .iter()
            .copied()
            .find(|p| p.name() == name)
            .ok_or_else(|| UnknownPermission(name.to_owned()))
    }

    /// The permission with this bit index, if any.
    #[must_use]
    pub fn from_bit(bit: u32) -> Option<Self> {
        usize::try_from(bit)
            .ok()
            .and_then(|i| Permission::ALL.get(i).copied())
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Permission {
    type Err = UnknownPermission;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::from_name(s)
    }
}

/// A set of permissions, stored as a bit set in the stable bit order.
///
/// Only the low 12 bits are ever set: every constructor masks or rejects the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PermissionSet(u32);

/// Bits that are not a permission, given to [`PermissionSet::from_bits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("bits {0:#x} name no permission")]
pub struct UnknownBits(pub u32);

impl PermissionSet {
    /// The empty set.
    pub const EMPTY: PermissionSet = PermissionSet(0);
    /// All twelve permissions: what a conference owner holds.
    pub const ALL: PermissionSet = PermissionSet((1 << 12) - 1);
    /// What an invitee gets when the invitation names no permissions:
    /// JOIN, SEND_AUDIO, SEND_VIDEO, SHARE_SCREEN, SHARE_VIDEO, SHARE_FILE,
    /// SEND_MESSAGE, RECORD, STREAM.
    pub const DEFAULT_INVITEE: PermissionSet = PermissionSet(
        Permission::Join.mask()
            | Permission::SendAudio.mask()
            | Permission::SendVideo.mask()
            | Permission::ShareScreen.mask()
            | Permission::ShareVideo.mask()
            | Permission::ShareFile.mask()
            | Permission::SendMessage.mask()
            | Permission::Record.mask()
            | Permission::Stream.mask(),
    );

    /// A set from raw bits; bits above bit 11 are an error.
    pub fn from_bits(bits: u32) -> Result<Self, UnknownBits> {
        let extra = bits & !Self::ALL.0;
        if extra != 0 {
            return Err(UnknownBits(extra));
        }
        Ok(PermissionSet(bits))
    }

    /// The raw bits (stable across versions).
    #[must_use]
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// A set holding exactly these permissions.
    #[must_use]
    pub fn of(perms: &[Permission]) -> Self {
        perms.iter().copied().collect()
    }

    /// Parses names, failing on the first unknown one (never dropping it).
    pub fn from_names<I, S>(names: I) -> Result<Self, UnknownPermission>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        names.into_iter().try_fold(Self::EMPTY, |set, n| {
            Ok(set.with(Permission::from_name(n.as_ref())?))
        })
    }

    /// Whether `perm` is in the set.
    #[must_use]
    pub const fn contains(self, perm: Permission) -> bool {
        self.0 & perm.mask() != 0
    }

    /// This set plus `perm`.
    #[must_use]
    pub const fn with(self, perm: Permission) -> Self {
        PermissionSet(self.0 | perm.mask())
    }

    /// This set without `perm`.
    #[must_use]
    pub const fn without(self, perm: Permission) -> Self {
        PermissionSet(self.0 & !perm.mask())
    }

    /// Every permission in either set.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        PermissionSet(self.0 | other.0)
    }

    /// The permissions in both sets.
    #[must_use]
    pub const fn intersection(self, other: Self) -> Self {
        PermissionSet(self.0 & other.0)
    }

    /// The permissions of `self` that `other` lacks.
    #[must_use]
    pub const fn difference(self, other: Self) -> Self {
        PermissionSet(self.0 & !other.0)
    }

    /// Whether every permission of `self` is in `other`.
    #[must_use]
    pub const fn is_subset(self, other: Self) -> bool {
        self.0 & !other.0 == 0
    }

    /// Whether the set is empty.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many permissions the set holds.
    #[must_use]
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The permissions in bit order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }

    /// The names in bit order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        self.iter().map(Permission::name)
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<T: IntoIterator<Item = Permission>>(iter: T) -> Self {
        iter.into_iter().fold(Self::EMPTY, PermissionSet::with)
    }
}

impl fmt::Display for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, name) in self.names().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(name)?;
        }
        f.write_str("]")
    }
}

impl Serialize for Permission {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Permission;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a permission name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Permission, E> {
                Permission::from_name(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// Serializes as a JSON array of names in bit order.
impl Serialize for PermissionSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for p in self.iter() {
            seq.serialize_element(&p)?;
        }
        seq.end()
    }
}

/// Deserializes from an array of names; an unknown name is an error.
impl<'de> Deserialize<'de> for PermissionSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PermissionSet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of permission names")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PermissionSet, A::Error> {
                let mut set = PermissionSet::EMPTY;
                while let Some(p) = seq.next_element::<Permission>()? {
                    set = set.with(p);
                }
                Ok(set)
            }
        }
        d.deserialize_seq(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_follow_design_order() {
        assert_eq!(Permission::Invite.bit(), 0);
        assert_eq!(Permission::Join.bit(), 1);
        assert_eq!(Permission::Kick.bit(), 10);
        assert_eq!(Permission::UpdatePermissions.bit(), 11);
        for (i, p) in Permission::ALL.iter().enumerate() {
            assert_eq!(p.bit() as usize, i);
            assert_eq!(Permission::from_bit(p.bit()), Some(*p));
        }
        assert_eq!(Permission::from_bit(12), None);
    }

    #[test]
    fn default_and_full_sets() {
        assert_eq!(PermissionSet::ALL.len(), 12);
        assert_eq!(PermissionSet::DEFAULT_INVITEE.len(), 9);
        let d = PermissionSet::DEFAULT_INVITEE;
        assert!(!d.contains(Permission::Invite));
        assert!(!d.contains(Permission::Kick));
        assert!(!d.contains(Permission::UpdatePermissions));
        assert!(d.contains(Permission::Join) && d.contains(Permission::Stream));
    }

    #[test]
    fn unknown_name_is_an_error_that_names_it() {
        let err = PermissionSet::from_names(["JOIN", "FLY"]).unwrap_err();
        assert_eq!(err, UnknownPermission("FLY".into()));
        assert!(err.to_string().contains("FLY"));
        assert!(
            Permission::from_name("join").is_err(),
            "names are case-sensitive"
        );
        let json: Result<PermissionSet, _> = serde_json::from_str(r#"["JOIN","TELEPORT"]"#);
        assert!(json.unwrap_err().to_string().contains("TELEPORT"));
    }

    #[test]
    fn serde_is_an_array_of_names_in_bit_order() {
        let set = PermissionSet::of(&[Permission::Kick, Permission::Invite]);
        assert_eq!(serde_json::to_string(&set).unwrap(), r#"["INVITE","KICK"]"#);
        let back: PermissionSet = serde_json::from_str(r#"["KICK","INVITE"]"#).unwrap();
        assert_eq!(back, set);
    }

    #[test]
    fn from_bits_rejects_unknown_bits() {
        assert_eq!(PermissionSet::from_bits(1 << 12), Err(UnknownBits(1 << 12)));
        assert_eq!(PermissionSet::from_bits(0xfff), Ok(PermissionSet::ALL));
    }
}
