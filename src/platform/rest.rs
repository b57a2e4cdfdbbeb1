//! Method + path + JSON body in, HTTP status + JSON body out. Any HTTP server
//! can sit in front of [`Platform::handle_rest`].
//!
//! Decisions where DESIGN is silent:
//! - Unknown JSON members are refused with 400 (a typo such as `notifcation`
//!   must not be silently ignored).
//! - A body, and every member that stands for an object (`parameters`,
//!   `participants` and each participant's spec), must be a JSON object: an
//!   array in its place is 400, though serde would read it as the struct's
//!   sequence form.
//! - Conferences created here are protected; their inviter, for notifications,
//!   is the owner.
//! - A create whose alias names a live protected conference of the same
//!   `ownerExternalId` answers 200 with `"isNew": false`, a fresh owner token,
//!   and invites the listed participants as `invite` would (so a retried create
//!   is harmless); one whose alias names an unprotected conference, or one
//!   someone else owns, answers 409 `ALIAS_TAKEN` and changes nothing.
//! - `POST /v2/conferences/{id}/tokens` with `{"externalIds": [...]}` answers
//!   `usersTokens`: a fresh token with their current permissions for each
//!   listed participant who is not KICKED (403 for a KICKED one, 404 for a
//!   stranger; 400 in an unprotected conference). Connected ones also get
//!   `tokenRefreshed`. This is how an app server hands a user (the owner
//!   included) a new token once theirs expired.
//! - One request lists at most [`crate::platform::MAX_INVITEES_PER_REQUEST`]
//!   participants (400 beyond). Tokens are signed before the platform's lock
//!   is taken and the answer is encoded after it is released.
//! - `kick` and `DELETE` answer 204 with an empty body.
//! - `create` and `invite` also answer `delivery` {externalId: outcome}, one of
//!   `DELIVERED`, `NO_OPEN_SESSION`, `NOT_REQUESTED`, `ALREADY_IN_CONFERENCE`,
//!   so the app server knows whom to invite again (DESIGN "Sessions").
//! - Bodies over [`MAX_BODY_BYTES`] get 413.

use std::collections::BTreeMap;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::conference::Conference;
use super::invitations::{check_update, plan_again, plan_invites};
use super::tokens::check_count;
use super::{ConferenceOptions, Delivery, Invited, Invitee, Platform, PlatformError, TokenRequest};
use crate::error::{ErrorBody, ErrorCode};
use crate::identity::{Alias, ConferenceId, ExternalId, ParticipantInfo};
use crate::lifecycle::LifecycleEvent;
use crate::permissions::PermissionSet;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestResponse {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body (empty for 204).
    pub body: String,
}

impl RestResponse {
    fn ok(value: &impl Serialize) -> Self {
        match serde_json::to_string(value) {
            Ok(body) => RestResponse { status: 200, body },
            Err(e) => Self::error(
                ErrorCode::Panic,
                500,
                &format!("cannot encode response: {e}"),
            ),
        }
    }

    fn no_content() -> Self {
        RestResponse {
            status: 204,
            body: String::new(),
        }
    }

    fn error(code: ErrorCode, status: u16, description: &str) -> Self {
        let body = ErrorBody::new(code, description);
        RestResponse {
            status,
            body: serde_json::to_string(&body).unwrap_or_default(),
        }
    }

    fn from_error(e: &PlatformError) -> Self {
        let body = ErrorBody::from(e);
        RestResponse {
            status: e.code().http_status(),
            body: serde_json::to_string(&body).unwrap_or_default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateBody {
    owner_external_id: ExternalId,
    alias: Alias,
    #[serde(default)]
    parameters: Parameters,
    #[serde(default, deserialize_with = "unique_keys")]
    participants: BTreeMap<String, ParticipantSpec>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Parameters {
    /// Seconds an empty conference lives.
    ttl: Option<u64>,
    #[serde(default)]
    audio_only: bool,
    participant_limit: Option<u32>,
    /// Token lifetime (the conference's time limit), seconds.
    token_ttl: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ParticipantSpec {
    permissions: Option<PermissionSet>,
    #[serde(default)]
    notification: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParticipantsBody {
    #[serde(deserialize_with = "unique_keys")]
    participants: BTreeMap<String, ParticipantSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PermissionsSpec {
    permissions: PermissionSet,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PermissionsBody {
    #[serde(deserialize_with = "unique_keys")]
    participants: BTreeMap<String, PermissionsSpec>,
}

/// The body of `kick` and `tokens`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExternalIdsBody {
    external_ids: Vec<ExternalId>,
}

/// Where a request body must hold JSON objects. serde's derived struct
/// deserializer also takes an array (a struct's sequence form), so without
/// this check `[["bob"]]` would pass as a kick body.
enum Shape {
    /// A JSON object whose listed members, where present, have their shapes;
    /// other members are left to the struct (which refuses unknown ones).
    Object(&'static [(&'static str, Shape)]),
    /// A JSON object whose every member has the shape (keyed by external ID).
    MapOf(&'static Shape),
}

/// A request body type and the shape of its JSON.
trait RestBody {
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateResponse {
    conference_id: ConferenceId,
    conference_alias: String,
    is_protected: bool,
    is_new: bool,
    owner_token: Option<String>,
    users_tokens: BTreeMap<String, String>,
    delivery: BTreeMap<String, &'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InviteResponse {
    users_tokens: BTreeMap<String, String>,
    delivery: BTreeMap<String, &'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokensResponse {
    users_tokens: BTreeMap<String, String>,
}

/// Reads a request body in two passes over its bytes: its shape (see
/// [`Shape`]), without building anything but member names, then the struct.
fn parse<'a, T: Deserialize<'a> + RestBody>(body: &'a [u8]) -> Result<T, PlatformError> {
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

fn invitees(specs: BTreeMap<String, ParticipantSpec>) -> Result<Vec<Invitee>, PlatformError> {
    check_count(specs.len())?;
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

impl Platform {
    /// Answers one REST-style request (see DESIGN "REST-style interface").
    /// Never fails: every problem becomes an HTTP error with a JSON body, and a
    /// refused request changes nothing.
    #[must_use]
    pub fn handle_rest(&self, method: &str, path: &str, body: &[u8]) -> RestResponse {
        if body.len() > MAX_BODY_BYTES {
            return RestResponse::error(
                ErrorCode::TooLarge,
                413,
                &format!("body is {} bytes, more than {MAX_BODY_BYTES}", body.len()),
            );
        }
        let path = path.split('?').next().unwrap_or(path);
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let result = match (method, segments.as_slice()) {
            ("GET", [".well-known", "jwks.json"]) => Ok(RestResponse::ok(&self.jwks())),
            ("POST", ["v2", "conferences", "create"]) => self.rest_create(body),
            ("POST", ["v2", "conferences", id, "invite"]) => self.rest_invite(id, body),
            ("POST", ["v2", "conferences", id, "permissions"]) => self.rest_permissions(id, body),
            ("POST", ["v2", "conferences", id, "kick"]) => self.rest_kick(id, body),
            ("POST", ["v2", "conferences", id, "tokens"]) => self.rest_tokens(id, body),
            ("DELETE", ["v2", "conferences", id]) => self.rest_delete(id),
            ("GET", ["v2", "conferences", id, "participants"]) => self.rest_participants(id),
            (_, [".well-known", "jwks.json"])
            | (_, ["v2", "conferences", "create"])
            | (_, ["v2", "conferences", _])
            | (
                _,
                ["v2", "conferences", _, "invite" | "permissions" | "kick" | "tokens" | "participants"],
            ) => {
                return RestResponse::error(
                    ErrorCode::InvalidArgument,
                    405,
                    &format!("method {method} is not allowed on {path}"),
                )
            }
            _ => {
                return RestResponse::error(
                    ErrorCode::InvalidArgument,
                    404,
                    &format!("no endpoint at {path}"),
                )
            }
        };
        result.unwrap_or_else(|e| RestResponse::from_error(&e))
    }

    fn rest_create(&self, body: &[u8]) -> Result<RestResponse, PlatformError> {
        let req: CreateBody = parse(body)?;
        let invitees = invitees(req.participants)?;
        let owner_id = req.owner_external_id;
        if invitees.iter().any(|i| i.external_id == owner_id) {
            return Err(PlatformError::InvalidInput(
                "the owner cannot be listed as a participant".into(),
            ));
        }
        let options = ConferenceOptions {
            protected: true,
            empty_ttl_secs: req.parameters.ttl,
            audio_only: req.parameters.audio_only,
            participant_limit: req.parameters.participant_limit,
            token_ttl_secs: req.parameters.token_ttl,
        };
        let alias = req.alias;
        let new_id = ConferenceId::random();
        let probe = alias.clone();
        let answer = self.run_signed(
            |st, _, _| Ok(self.predict_create(st, &owner_id, &probe, options, new_id, &invitees)),
            |st, out, now, minter| {
                // Only the owner may come back to their protected conference
                // by alias: anything else would hand the app's participants to
                // a conference someone else controls.
                if let Some(existing) = st
                    .aliases
                    .get(alias.key())
                    .and_then(|id| st.conferences.get(id))
                {
                    let why = if !existing.options.protected {
                        Some("is not protected")
                    } else if !existing.is_owner(&owner_id) {
                        Some("someone else owns")
                    } else {
                        None
                    };
                    if let Some(why) = why {
                        return Err(PlatformError::AliasTaken {
                            alias: alias.as_str().to_owned(),
                            why,
                        });
                    }
                    // Decide the invitations before anything changes.
                    plan_invites(st, existing.id, PermissionSet::ALL, &invitees)?;
                }
                let owner = st
                    .sessions_of(&owner_id)
                    .first()
                    .and_then(|s| st.sessions.get(s))
                    .map_or_else(
                        || ParticipantInfo::anonymous(owner_id.clone()),
                        |s| s.info.clone(),
                    );
                let created =
                    self.create_inner(st, out, now, minter, owner.clone(), alias, options, new_id)?;
                let id = created.conference.id;
                // Cannot fail: checked above for a live conference; a new one
                // has only its owner, who is not listed.
                let plan = plan_invites(st, id, PermissionSet::ALL, &invitees)?;
                let done = self.apply_invites(st, out, now, minter, id, &owner, &invitees, plan);
                Ok((created, done))
            },
        )?;
        let (created, done) = answer;
        Ok(RestResponse::ok(&CreateResponse {
            conference_id: created.conference.id,
            conference_alias: created.conference.alias,
            is_protected: created.conference.is_protected,
            is_new: created.is_new,
            owner_token: created.owner_token,
            delivery: delivery_of(&done),
            users_tokens: tokens_of(done),
        }))
    }

    fn rest_invite(&self, id: &str, body: &[u8]) -> Result<RestResponse, PlatformError> {
        let id = ConferenceId::parse(id)?;
        let req: ParticipantsBody = parse(body)?;
        let invitees = invitees(req.participants)?;
        let done = self.run_signed(
            |st, _, minter| {
                let plan = plan_invites(st, id, PermissionSet::ALL, &invitees)?;
                let requests = plan.token_requests(st.conference(id)?, &invitees).collect();
                minter.plan = Some(plan);
                Ok(requests)
            },
            |st, out, now, minter| {
                let plan = plan_again(st, minter, id, PermissionSet::ALL, &invitees)?;
                let conf = st.conference(id)?;
                let owner = conf.find(&conf.owner).map_or_else(
                    || ParticipantInfo::anonymous(conf.owner.clone()),
                    |p| p.info.clone(),
                );
                Ok(self.apply_invites(st, out, now, minter, id, &owner, &invitees, plan))
            },
        )?;
        Ok(RestResponse::ok(&InviteResponse {
            delivery: delivery_of(&done),
            users_tokens: tokens_of(done),
        }))
    }

    fn rest_permissions(&self, id: &str, body: &[u8]) -> Result<RestResponse, PlatformError> {
        let id = ConferenceId::parse(id)?;
        let req: PermissionsBody = parse(body)?;
        check_count(req.participants.len())?;
        let updates = req
            .participants
            .into_iter()
            .map(|(ext, spec)| Ok((ExternalId::new(ext)?, spec.permissions)))
            .collect::<Result<Vec<_>, PlatformError>>()?;
        let check = |conf: &Conference| -> Result<(), PlatformError> {
            for (ext, _) in &updates {
                check_update(conf, ext)?;
            }
            Ok(())
        };
        let users_tokens = self.run_signed(
            |st, _, _| {
                let conf = st.conference(id)?;
                check(conf)?;
                Ok(updates
                    .iter()
                    .filter(|_| conf.options.protected)
                    .map(|(ext, perms)| TokenRequest::new(conf, ext, *perms))
                    .collect())
            },
            |st, out, now, minter| {
                check(st.conference(id)?)?;
                let mut users_tokens = BTreeMap::new();
                for (ext, perms) in &updates {
                    let token =
                        self.update_permissions_inner(st, out, now, minter, id, ext, *perms)?;
                    if let Some(t) = token {
                        users_tokens.insert(ext.to_string(), t);
                    }
                }
                Ok(users_tokens)
            },
        )?;
        Ok(RestResponse::ok(&TokensResponse { users_tokens }))
    }

    fn rest_tokens(&self, id: &str, body: &[u8]) -> Result<RestResponse, PlatformError> {
        let id = ConferenceId::parse(id)?;
        let req: ExternalIdsBody = parse(body)?;
        let users_tokens = self
            .fresh_tokens(id, &req.external_ids)?
            .into_iter()
            .map(|(ext, token)| (ext.to_string(), token))
            .collect();
        Ok(RestResponse::ok(&TokensResponse { users_tokens }))
    }

    fn rest_kick(&self, id: &str, body: &[u8]) -> Result<RestResponse, PlatformError> {
        let id = ConferenceId::parse(id)?;
        let req: ExternalIdsBody = parse(body)?;
        check_count(req.external_ids.len())?;
        self.run(|st, out, now| {
            let conf = st.conference(id)?;
            let mut seen = std::collections::HashSet::new();
            for ext in &req.external_ids {
                if !seen.insert(ext) {
                    return Err(PlatformError::InvalidInput(format!(
                        "{ext} is listed twice"
                    )));
                }
                if conf.is_owner(ext) {
                    return Err(PlatformError::OwnerNotKickable);
                }
                let p = conf
                    .find(ext)
                    .ok_or_else(|| PlatformError::ParticipantNotFound(ext.clone()))?;
                p.status.apply(LifecycleEvent::Kick)?;
            }
            for ext in &req.external_ids {
                st.kick_inner(id, ext, now, out)?;
            }
            Ok(RestResponse::no_content())
        })
    }

    fn rest_delete(&self, id: &str) -> Result<RestResponse, PlatformError> {
        let id = ConferenceId::parse(id)?;
        self.run(|st, out, now| {
            st.conference(id)?;
            st.destroy(id, crate::event::EndReason::Terminated, now, out);
            Ok(RestResponse::no_content())
        })
    }

    fn rest_participants(&self, id: &str) -> Result<RestResponse, PlatformError> {
        let id = ConferenceId::parse(id)?;
        let participants = self.participants(id)?;
        Ok(RestResponse::ok(&json!({ "participants": participants })))
    }
}

fn delivery_of(done: &[Invited]) -> BTreeMap<String, &'static str> {
    done.iter()
        .map(|d| {
            let r = &d.result;
            let outcome = match r.delivery {
                Delivery::Delivered(_) => "DELIVERED",
                Delivery::NoOpenSession => "NO_OPEN_SESSION",
                Delivery::NotRequested => "NOT_REQUESTED",
                Delivery::AlreadyInConference => "ALREADY_IN_CONFERENCE",
            };
            (r.external_id.to_string(), outcome)
        })
        .collect()
}

fn tokens_of(done: Vec<Invited>) -> BTreeMap<String, String> {
    done.into_iter()
        .filter_map(|d| Some((d.result.external_id.to_string(), d.token?)))
        .collect()
}
