//! The request bodies and their strict reading: unknown members refused, every
//! member that stands for an object checked to be a JSON object, a
//! participant listed twice refused, an unknown permission name reported as
//! `UNKNOWN_PERMISSION`.

use std::collections::BTreeMap;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::identity::{Alias, ExternalId};
use crate::permissions::PermissionSet;
use crate::platform::{check_request_len, ConferenceOptions, Invitee, PlatformError};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct CreateBody {
    pub(super) owner_external_id: ExternalId,
    pub(super) alias: Alias,
    #[serde(default)]
    pub(super) parameters: Parameters,
    #[serde(default, deserialize_with = "unique_keys")]
    pub(super) participants: BTreeMap<String, ParticipantSpec>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Parameters {
    /// Seconds an empty conference lives.
    pub(super) ttl: Option<u64>,
    #[serde(default)]
    pub(super) audio_only: bool,
    pub(super) participant_limit: Option<u32>,
    /// Token lifetime (the conference's time limit), seconds.
    pub(super) token_ttl: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ParticipantSpec {
    pub(super) permissions: Option<PermissionSet>,
    #[serde(default)]
    pub(super) notification: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ParticipantsBody {
    #[serde(deserialize_with = "unique_keys")]
    pub(super) participants: BTreeMap<String, ParticipantSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PermissionsSpec {
    pub(super) permissions: PermissionSet,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PermissionsBody {
    #[serde(deserialize_with = "unique_keys")]
    pub(super) participants: BTreeMap<String, PermissionsSpec>,
}

/// The body of `kick` and `tokens`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct ExternalIdsBody {
    pub(super) external_ids: Vec<ExternalId>,
}

impl Parameters {
    /// The options of a conference created here: always protected.
    pub(super) fn options(&self) -> ConferenceOptions {
        ConferenceOptions {
            protected: true,
            empty_ttl_secs: self.ttl,
            audio_only: self.audio_only,
            participant_limit: self.participant_limit,
            token_ttl_secs: self.token_ttl,
        }
    }
}

/// The invitees a `participants` member lists, keyed by external ID. Too
/// many are refused before any ID is read.
pub(super) fn invitees(
    specs: BTreeMap<String, ParticipantSpec>,
) -> Result<Vec<Invitee>, PlatformError> {
    check_request_len(specs.len())?;
    specs
        .into_iter()
        .map(|(id, spec)| {
            Ok(Invitee {
                external_id: ExternalId::new(id)?,
                permissions: spec.permissions,
                notify: spec.notification,
            })
        })
        .collect()
}

impl PermissionsBody {
    /// The permission sets it lists, keyed by external ID. Too many are
    /// refused before any ID is read.
    pub(super) fn updates(self) -> Result<Vec<(ExternalId, PermissionSet)>, PlatformError> {
        check_request_len(self.participants.len())?;
        self.participants
            .into_iter()
            .map(|(ext, spec)| Ok((ExternalId::new(ext)?, spec.permissions)))
            .collect()
    }
}

/// Where a request body must hold JSON objects. serde's derived struct
/// deserializer also takes an array (a struct's sequence form), so without
/// this check `[["bob"]]` would pass as a kick body.
pub(super) enum Shape {
    /// A JSON object whose listed members, where present, have their shapes;
    /// other members are left to the struct (which refuses unknown ones).
    Object(&'static [(&'static str, Shape)]),
    /// A JSON object whose every member has the shape (keyed by external ID).
    MapOf(&'static Shape),
}

/// A request body type and the shape of its JSON.
pub(super) trait RestBody {
    const SHAPE: &'static Shape;
}

/// `participants`: an object of participant specs, each an object.
const PARTICIPANTS: (&str, Shape) = ("participants", Shape::MapOf(&Shape::Object(&[])));

impl RestBody for CreateBody {
    const SHAPE: &'static Shape =
        &Shape::Object(&[("parameters", Shape::Object(&[])), PARTICIPANTS]);
}

impl RestBody for ParticipantsBody {
    const SHAPE: &'static Shape = &Shape::Object(&[PARTICIPANTS]);
}

impl RestBody for PermissionsBody {
    const SHAPE: &'static Shape = &Shape::Object(&[PARTICIPANTS]);
}

impl RestBody for ExternalIdsBody {
    const SHAPE: &'static Shape = &Shape::Object(&[]);
}

/// Reads a request body in two passes over its bytes: its shape (see
/// [`Shape`]), without building anything but member names, then the struct.
pub(super) fn parse<'a, T: Deserialize<'a> + RestBody>(body: &'a [u8]) -> Result<T, PlatformError> {
    let check = ShapeCheck {
        shape: T::SHAPE,
        path: &mut Vec::new(),
    };
    check
        .deserialize(&mut serde_json::Deserializer::from_slice(body))
        .map_err(body_error)?;
    serde_json::from_slice(body).map_err(body_error)
}

fn body_error(e: serde_json::Error) -> PlatformError {
    let msg = e.to_string();
    // Surface unknown permission names as their own error code.
    if let Some(rest) = msg.strip_prefix("unknown permission name ") {
        let name = rest.split(" at line").next().unwrap_or(rest);
        return PlatformError::UnknownPermission(crate::permissions::UnknownPermission(
            name.trim_matches('"').to_owned(),
        ));
    }
    PlatformError::InvalidInput(format!("request body: {msg}"))
}

/// Checks that a JSON value is an object shaped as `shape`; members outside
/// the shape are skipped unread (the struct pass judges them). Every entry is
/// seen, duplicates included.
struct ShapeCheck<'p> {
    shape: &'static Shape,
    /// The member names from the body down to this value.
    path: &'p mut Vec<String>,
}

impl ShapeCheck<'_> {
    fn not_object<E: de::Error>(self, kind: &str) -> Result<(), E> {
        Err(E::custom(if self.path.is_empty() {
            format!("the top level must be a JSON object, not {kind}")
        } else {
            format!("{} must be a JSON object, not {kind}", self.path.join("."))
        }))
    }
}

impl<'de> DeserializeSeed<'de> for ShapeCheck<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ShapeCheck<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let inner = match self.shape {
                Shape::Object(listed) => listed
                    .iter()
                    .find(|(name, _)| key == *name)
                    .map(|(_, shape)| shape),
                Shape::MapOf(shape) => Some(*shape),
            };
            match inner {
                Some(shape) => {
                    self.path.push(key);
                    map.next_value_seed(ShapeCheck {
                        shape,
                        path: &mut *self.path,
                    })?;
                    self.path.pop();
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        self.not_object("an array")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.not_object("null")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.not_object("a boolean")
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.not_object("a number")
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.not_object("a number")
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.not_object("a number")
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.not_object("a string")
    }
}

/// A JSON object whose keys must be distinct: a participant listed twice is
/// an error, never "last one wins".
fn unique_keys<'de, D, V>(d: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Visit<V>(std::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Visit<V> {
        type Value = BTreeMap<String, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object keyed by external ID")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((key, value)) = map.next_entry::<String, V>()? {
                if out.contains_key(&key) {
                    return Err(serde::de::Error::custom(format!("{key} is listed twice")));
                }
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Visit(std::marker::PhantomData))
}
