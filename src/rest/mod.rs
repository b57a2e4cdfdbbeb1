//! The REST adapter for app servers: method + path + JSON body in, HTTP
//! status + JSON body out. Any HTTP server can sit in front of
//! [`Platform::handle_rest`]. Like the wire's server side
//! ([`crate::wire::server`]) it decides nothing: it reads the request
//! (`body.rs` holds the strict body reading), calls the platform's
//! app-server operations (`Platform::app_*`, [`Platform::fresh_tokens`],
//! [`Platform::participants`]) and writes the answer. A refused operation's
//! error body and status come from the mapping every adapter shares
//! ([`crate::error`]).
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

mod body;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use crate::error::{ErrorBody, ErrorCode};
use crate::identity::{ConferenceId, ExternalId};
use crate::platform::{Delivery, Invited, Platform, PlatformError};
use body::{parse, CreateBody, ExternalIdsBody, ParticipantsBody, PermissionsBody};

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

    /// A refused operation, as every adapter reports it ([`crate::error`]).
    fn from_error(e: &PlatformError) -> Self {
        let body = ErrorBody::from(e);
        RestResponse {
            status: e.http_status(),
            body: serde_json::to_string(&body).unwrap_or_default(),
        }
    }
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
        let invitees = body::invitees(req.participants)?;
        let options = req.parameters.options();
        let made = self.app_create(&req.owner_external_id, req.alias, options, &invitees)?;
        let created = made.created;
        Ok(RestResponse::ok(&CreateResponse {
            conference_id: created.conference.id,
            conference_alias: created.conference.alias,
            is_protected: created.conference.is_protected,
            is_new: created.is_new,
            owner_token: created.owner_token,
            delivery: delivery_of(&made.invited),
            users_tokens: tokens_of(made.invited),
        }))
    }

    fn rest_invite(&self, id: &str, body: &[u8]) -> Result<RestResponse, PlatformError> {
        let id = ConferenceId::parse(id)?;
        let req: ParticipantsBody = parse(body)?;
        let invitees = body::invitees(req.participants)?;
        let done = self.app_invite(id, &invitees)?;
        Ok(RestResponse::ok(&InviteResponse {
            delivery: delivery_of(&done),
            users_tokens: tokens_of(done),
        }))
    }

    fn rest_permissions(&self, id: &str, body: &[u8]) -> Result<RestResponse, PlatformError> {
        let id = ConferenceId::parse(id)?;
        let req: PermissionsBody = parse(body)?;
        let tokens = self.app_update_permissions(id, &req.updates()?)?;
        Ok(RestResponse::ok(&TokensResponse {
            users_tokens: by_external_id(tokens),
        }))
    }

    fn rest_tokens(&self, id: &str, body: &[u8]) -> Result<RestResponse, PlatformError> {
        let id = ConferenceId::parse(id)?;
        let req: ExternalIdsBody = parse(body)?;
        let tokens = self.fresh_tokens(id, &req.external_ids)?;
        Ok(RestResponse::ok(&TokensResponse {
            users_tokens: by_external_id(tokens),
        }))
    }

    fn rest_kick(&self, id: &str, body: &[u8]) -> Result<RestResponse, PlatformError> {
        let id = ConferenceId::parse(id)?;
        let req: ExternalIdsBody = parse(body)?;
        self.app_kick(id, &req.external_ids)?;
        Ok(RestResponse::no_content())
    }

    fn rest_delete(&self, id: &str) -> Result<RestResponse, PlatformError> {
        let id = ConferenceId::parse(id)?;
        self.app_terminate(id)?;
        Ok(RestResponse::no_content())
    }

    fn rest_participants(&self, id: &str) -> Result<RestResponse, PlatformError> {
        let id = ConferenceId::parse(id)?;
        let participants = self.participants(id)?;
        Ok(RestResponse::ok(&json!({ "participants": participants })))
    }
}

/// `delivery`: each invitee's outcome by external ID.
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

/// `usersTokens` of an invitation: the new tokens by external ID.
fn tokens_of(done: Vec<Invited>) -> BTreeMap<String, String> {
    done.into_iter()
        .filter_map(|d| Some((d.result.external_id.to_string(), d.token?)))
        .collect()
}

/// `usersTokens`: tokens by external ID.
fn by_external_id(tokens: Vec<(ExternalId, String)>) -> BTreeMap<String, String> {
    tokens
        .into_iter()
        .map(|(ext, token)| (ext.to_string(), token))
        .collect()
}
