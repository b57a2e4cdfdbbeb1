//! Reading an event object in one pass when its `type` comes first (as this
//! library writes it). serde's internally tagged enums buffer every member
//! before they look at the tag; on a phone applying a stream of events that
//! buffering was most of the cost. Anything this reader cannot take (the tag
//! later in the object, a known type in a shape it cannot read) makes it fail,
//! and the caller reads the message again the general way.

use std::fmt;

use serde::de::{
    self, value::MapAccessDeserializer, DeserializeSeed, Deserializer, EnumAccess, IgnoredAny,
    IntoDeserializer, MapAccess, VariantAccess, Visitor,
};
use serde::Deserialize;

use crate::event::{EndReason, EventKind, ParticipantView};
use crate::identity::{ExternalId, ParticipantInfo};
use crate::lifecycle::ParticipantStatus;
use crate::permissions::PermissionSet;

/// An event as read: a known kind, or the `type` of one this library does not
/// know (its members skipped).
#[derive(Debug)]
pub(crate) enum EventSlot {
    Known(EventKind),
    Unknown(String),
}

/// The same variants as [`EventKind`], externally tagged so that serde reads
/// each variant's members straight from the map once the tag is known.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
enum Tagged {
    ConferenceCreated {
        conference_alias: String,
        is_protected: bool,
    },
    ConferenceEnded {
        reason: EndReason,
    },
    InvitationReceived {
        conference_alias: String,
        inviter: ParticipantInfo,
        #[serde(default)]
        token: Option<String>,
        #[serde(default)]
        permissions: Option<PermissionSet>,
    },
    ParticipantAdded {
        participant: ParticipantView,
    },
    ParticipantUpdated {
        participant: ParticipantView,
        old_status: ParticipantStatus,
        new_status: ParticipantStatus,
    },
    PermissionsUpdated {
        permissions: PermissionSet,
        #[serde(default)]
        token: Option<String>,
    },
    Switched {
        external_id: ExternalId,
    },
    ParticipantRemoved {
        external_id: ExternalId,
    },
    TokenRefreshed {
        token: String,
        permissions: PermissionSet,
        expires_at: u64,
    },
    EventsMissed {
        first_missed_sequence: u64,
        first_available_sequence: u64,
    },
}

impl From<Tagged> for EventKind {
    fn from(t: Tagged) -> Self {
        match t {
            Tagged::ConferenceCreated {
                conference_alias,
                is_protected,
            } => EventKind::ConferenceCreated {
                conference_alias,
                is_protected,
            },
            Tagged::ConferenceEnded { reason } => EventKind::ConferenceEnded { reason },
            Tagged::InvitationReceived {
                conference_alias,
                inviter,
                token,
                permissions,
            } => EventKind::InvitationReceived {
                conference_alias,
                inviter,
                token,
                permissions,
            },
            Tagged::ParticipantAdded { participant } => EventKind::ParticipantAdded { participant },
            Tagged::ParticipantUpdated {
                participant,
                old_status,
                new_status,
            } => EventKind::ParticipantUpdated {
                participant,
                old_status,
                new_status,
            },
            Tagged::PermissionsUpdated { permissions, token } => {
                EventKind::PermissionsUpdated { permissions, token }
            }
            Tagged::Switched { external_id } => EventKind::Switched { external_id },
            Tagged::ParticipantRemoved { external_id } => {
                EventKind::ParticipantRemoved { external_id }
            }
            Tagged::TokenRefreshed {
                token,
                permissions,
                expires_at,
            } => EventKind::TokenRefreshed {
                token,
                permissions,
                expires_at,
            },
            Tagged::EventsMissed {
                first_missed_sequence,
                first_available_sequence,
            } => EventKind::EventsMissed {
                first_missed_sequence,
                first_available_sequence,
            },
        }
    }
}

/// The `type` names [`Tagged`] reads.
const KNOWN: &[&str] = &[
    "conferenceCreated",
    "conferenceEnded",
    "invitationReceived",
    "participantAdded",
    "participantUpdated",
    "permissionsUpdated",
    "switched",
    "participantRemoved",
    "tokenRefreshed",
    "eventsMissed",
];

impl<'de> Deserialize<'de> for EventSlot {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(SlotVisitor)
    }
}

struct SlotVisitor;

impl<'de> Visitor<'de> for SlotVisitor {
    type Value = EventSlot;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object whose first member is its type")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EventSlot, A::Error> {
        match map.next_key::<std::borrow::Cow<'de, str>>()?.as_deref() {
            Some("type") => {}
            _ => {
                return Err(de::Error::custom(
                    "the event's type is not its first member",
                ))
            }
        }
        let tag: std::borrow::Cow<'de, str> = map.next_value()?;
        if !KNOWN.contains(&&*tag) {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(EventSlot::Unknown(tag.into_owned()));
        }
        let tagged = Tagged::deserialize(TagThenMembers { tag: &tag, map })?;
        Ok(EventSlot::Known(tagged.into()))
    }
}

/// Presents "the tag, then the rest of the map" as an externally tagged enum.
struct TagThenMembers<'t, A> {
    tag: &'t str,
    map: A,
}

impl<'de, A: MapAccess<'de>> Deserializer<'de> for TagThenMembers<'_, A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de, A: MapAccess<'de>> EnumAccess<'de> for TagThenMembers<'_, A> {
    type Error = A::Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), A::Error> {
        let variant =
            seed.deserialize(IntoDeserializer::<A::Error>::into_deserializer(self.tag))?;
        Ok((variant, self))
    }
}

impl<'de, A: MapAccess<'de>> VariantAccess<'de> for TagThenMembers<'_, A> {
    type Error = A::Error;

    fn unit_variant(mut self) -> Result<(), A::Error> {
        while self.map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        seed.deserialize(MapAccessDeserializer::new(self.map))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _v: V) -> Result<V::Value, A::Error> {
        Err(de::Error::custom("no event is a tuple"))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_map(self.map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::ParticipantType;

    fn every_kind() -> Vec<EventKind> {
        let view = ParticipantView {
            external_id: ExternalId::new("bob").unwrap(),
            name: "Bob".into(),
            avatar_url: Some("https://a/b.png".into()),
            status: ParticipantStatus::OnAir,
            participant_type: ParticipantType::User,
            permissions: PermissionSet::EMPTY,
        };
        vec![
            EventKind::ConferenceCreated {
                conference_alias: "a".into(),
                is_protected: true,
            },
            EventKind::ConferenceEnded {
                reason: EndReason::Expired,
            },
            EventKind::InvitationReceived {
                conference_alias: "a".into(),
                inviter: ParticipantInfo::new(ExternalId::new("al").unwrap(), "Al", None).unwrap(),
                token: Some("t".into()),
                permissions: Some(PermissionSet::EMPTY),
            },
            EventKind::ParticipantAdded {
                participant: view.clone(),
            },
            EventKind::ParticipantUpdated {
                participant: view,
                old_status: ParticipantStatus::Connecting,
                new_status: ParticipantStatus::OnAir,
            },
            EventKind::PermissionsUpdated {
                permissions: PermissionSet::EMPTY,
                token: None,
            },
            EventKind::Switched {
                external_id: ExternalId::new("bob").unwrap(),
            },
            EventKind::ParticipantRemoved {
                external_id: ExternalId::new("bob").unwrap(),
            },
            EventKind::TokenRefreshed {
                token: "t".into(),
                permissions: PermissionSet::EMPTY,
                expires_at: 9,
            },
            EventKind::EventsMissed {
                first_missed_sequence: 3,
                first_available_sequence: 7,
            },
        ]
    }

    #[test]
    fn every_kind_reads_back_as_written() {
        let kinds = every_kind();
        assert_eq!(kinds.len(), KNOWN.len(), "a kind is missing from the test");
        for kind in kinds {
            let json = serde_json::to_string(&kind).unwrap();
            match serde_json::from_str::<EventSlot>(&json).unwrap() {
                EventSlot::Known(k) => assert_eq!(k, kind, "{json}"),
                EventSlot::Unknown(t) => panic!("{t} read as unknown"),
            }
            assert!(KNOWN.contains(&kind.type_name()));
        }
    }

    #[test]
    fn an_unknown_type_is_named_and_its_members_skipped() {
        let json = r#"{"type":"handRaised","by":{"id":[1,2,{"x":null}]},"n":1}"#;
        match serde_json::from_str::<EventSlot>(json).unwrap() {
            EventSlot::Unknown(t) => assert_eq!(t, "handRaised"),
            EventSlot::Known(k) => panic!("read as {k:?}"),
        }
    }

    #[test]
    fn a_late_tag_or_a_bad_shape_fails_so_the_caller_reads_it_again() {
        assert!(serde_json::from_str::<EventSlot>(
            r#"{"reason":"EXPIRED","type":"conferenceEnded"}"#
        )
        .is_err());
        assert!(
            serde_json::from_str::<EventSlot>(r#"{"type":"conferenceEnded","reason":7}"#).is_err()
        );
    }
}
