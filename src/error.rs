//! Stable error codes shared by the REST interface (`error_code`), the wire
//! protocol and the C ABI (`confkit_status`). Values are never renumbered or
//! reused.
//!
//! Also the one mapping every adapter reports a refused operation with:
//! [`PlatformError::code`] gives the stable code (the C status),
//! `ErrorBody::from(&PlatformError)` the error body the wire and REST
//! answers carry, and [`PlatformError::http_status`] REST's status. The
//! platform itself knows none of these.

use serde::{Deserialize, Serialize};

#[cfg(feature = "authority")]
use crate::platform::PlatformError;
use crate::token::TokenError;

/// An error as REST bodies and wire replies carry it: the stable code, its
/// name and a description for people. One mapping for every adapter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// [`ErrorCode::value`].
    pub error_code: i32,
    /// [`ErrorCode::name`].
    pub error_reason: String,
    /// What went wrong, for logs and developers.
    pub error_description: String,
}

impl ErrorBody {
    /// The body for `code` with a description.
    #[must_use]
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        ErrorBody {
            error_code: code.value(),
            error_reason: code.name().to_owned(),
            error_description: description.into(),
        }
    }

    /// The code, if it is one this library knows.
    #[must_use]
    pub fn code(&self) -> Option<ErrorCode> {
        ErrorCode::from_value(self.error_code)
    }
}

#[cfg(feature = "authority")]
impl From<&PlatformError> for ErrorBody {
    /// The body of a refused operation, the same for every adapter: its
    /// stable code, that code's name, and the error's message.
    fn from(e: &PlatformError) -> Self {
        ErrorBody::new(e.code(), e.to_string())
    }
}

/// A stable error code. 0 is success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ErrorCode {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL (C ABI only).
    NullArgument = 1,
    /// A string argument was not UTF-8 (C ABI only).
    InvalidUtf8 = 2,
    /// An argument or request body was invalid (bad ID, alias, JSON, ...).
    InvalidArgument = 3,
    /// A permission name is not one of the twelve.
    UnknownPermission = 4,
    /// A token is malformed, badly signed, for someone else, or missing.
    TokenInvalid = 5,
    /// A token expired (or is not yet valid), beyond the leeway.
    TokenExpired = 6,
    /// A token was revoked (by id, or by a kick).
    TokenRevoked = 7,
    /// A token is for another conference.
    TokenWrongConference = 8,
    /// The caller lacks a permission, or would grant one it does not hold.
    NotAllowed = 9,
    /// The caller must be in the conference (joined) to do this.
    NotInConference = 10,
    /// The conference is unknown or destroyed.
    ConferenceNotFound = 11,
    /// The conference is full.
    AtMaxCapacity = 12,
    /// The participant's status does not allow this.
    InvalidTransition = 13,
    /// The session is unknown or closed.
    SessionNotFound = 14,
    /// No such participant in the conference.
    ParticipantNotFound = 15,
    /// A key, key id or JWK set is invalid.
    KeyInvalid = 16,
    /// An input is larger than its cap.
    TooLarge = 17,
    /// The object was closed or freed (wrappers report use after close).
    Closed = 18,
    /// The alias names a live conference that this request may not take over.
    AliasTaken = 19,
    /// The platform's store could not make the operation durable: nothing
    /// changed and nothing was sent; try again (HTTP 503).
    StoreUnavailable = 20,
    /// A panic was caught at the C ABI boundary (a bug in confkit).
    Panic = 99,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [ErrorCode; 22] = [
        ErrorCode::Ok,
        ErrorCode::NullArgument,
        ErrorCode::InvalidUtf8,
        ErrorCode::InvalidArgument,
        ErrorCode::UnknownPermission,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::TokenRevoked,
        ErrorCode::TokenWrongConference,
        ErrorCode::NotAllowed,
        ErrorCode::NotInConference,
        ErrorCode::ConferenceNotFound,
        ErrorCode::AtMaxCapacity,
        ErrorCode::InvalidTransition,
        ErrorCode::SessionNotFound,
        ErrorCode::ParticipantNotFound,
        ErrorCode::KeyInvalid,
        ErrorCode::TooLarge,
        ErrorCode::Closed,
        ErrorCode::AliasTaken,
        ErrorCode::StoreUnavailable,
        ErrorCode::Panic,
    ];

    /// The numeric value.
    #[must_use]
    pub const fn value(self) -> i32 {
        self as i32
    }

    /// The code with this value, if any.
    #[must_use]
    pub fn from_value(v: i32) -> Option<Self> {
        ErrorCode::ALL.into_iter().find(|c| c.value() == v)
    }

    /// The stable upper-case name, e.g. `"CONFERENCE_NOT_FOUND"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            ErrorCode::Ok => "OK",
            ErrorCode::NullArgument => "NULL_ARGUMENT",
            ErrorCode::InvalidUtf8 => "INVALID_UTF8",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::UnknownPermission => "UNKNOWN_PERMISSION",
            ErrorCode::TokenInvalid => "TOKEN_INVALID",
            ErrorCode::TokenExpired => "TOKEN_EXPIRED",
            ErrorCode::TokenRevoked => "TOKEN_REVOKED",
            ErrorCode::TokenWrongConference => "TOKEN_WRONG_CONFERENCE",
            ErrorCode::NotAllowed => "NOT_ALLOWED",
            ErrorCode::NotInConference => "NOT_IN_CONFERENCE",
            ErrorCode::ConferenceNotFound => "CONFERENCE_NOT_FOUND",
            ErrorCode::AtMaxCapacity => "AT_MAX_CAPACITY",
            ErrorCode::InvalidTransition => "INVALID_TRANSITION",
            ErrorCode::SessionNotFound => "SESSION_NOT_FOUND",
            ErrorCode::ParticipantNotFound => "PARTICIPANT_NOT_FOUND",
            ErrorCode::KeyInvalid => "KEY_INVALID",
            ErrorCode::TooLarge => "TOO_LARGE",
            ErrorCode::Closed => "CLOSED",
            ErrorCode::AliasTaken => "ALIAS_TAKEN",
            ErrorCode::StoreUnavailable => "STORE_UNAVAILABLE",
            ErrorCode::Panic => "PANIC",
        }
    }

    /// The HTTP status the REST interface answers with.
    #[must_use]
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorCode::Ok => 200,
            ErrorCode::TokenInvalid
            | ErrorCode::TokenExpired
            | ErrorCode::TokenRevoked
            | ErrorCode::TokenWrongConference => 401,
            ErrorCode::NotAllowed | ErrorCode::NotInConference => 403,
            ErrorCode::ConferenceNotFound
            | ErrorCode::SessionNotFound
            | ErrorCode::ParticipantNotFound => 404,
            ErrorCode::AtMaxCapacity | ErrorCode::InvalidTransition | ErrorCode::AliasTaken => 409,
            ErrorCode::TooLarge => 413,
            ErrorCode::StoreUnavailable => 503,
            ErrorCode::Panic => 500,
            _ => 400,
        }
    }
}

impl TokenError {
    /// The stable code for this error.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            TokenError::Expired { .. } | TokenError::NotYetValid { .. } => ErrorCode::TokenExpired,
            TokenError::Revoked { .. } | TokenError::SubjectRevoked { .. } => {
                ErrorCode::TokenRevoked
            }
            TokenError::WrongConference { .. } => ErrorCode::TokenWrongConference,
            TokenError::UnknownPermission(_) => ErrorCode::UnknownPermission,
            _ => ErrorCode::TokenInvalid,
        }
    }
}

#[cfg(feature = "authority")]
impl PlatformError {
    /// The stable code (also the REST and wire `error_code` and the C status).
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            PlatformError::Identity(_) | PlatformError::InvalidInput(_) => {
                ErrorCode::InvalidArgument
            }
            PlatformError::UnknownPermission(_) => ErrorCode::UnknownPermission,
            PlatformError::Token(e) => e.code(),
            PlatformError::TokenRequired(_) | PlatformError::TokenSubject { .. } => {
                ErrorCode::TokenInvalid
            }
            PlatformError::SessionNotFound(_) => ErrorCode::SessionNotFound,
            PlatformError::ConferenceNotFound(_) | PlatformError::ConferenceDestroyed(_) => {
                ErrorCode::ConferenceNotFound
            }
            PlatformError::ParticipantNotFound(_) => ErrorCode::ParticipantNotFound,
            PlatformError::NotInConference(_) => ErrorCode::NotInConference,
            PlatformError::MissingPermission { .. }
            | PlatformError::Escalation { .. }
            | PlatformError::OwnerOnly(_)
            | PlatformError::OwnerNotKickable
            | PlatformError::OwnerPermissionsFixed
            | PlatformError::ListenerCannotAct(_)
            | PlatformError::KickedNeedsModerator(_)
            | PlatformError::ParticipantKicked(_)
            | PlatformError::OwnPermissions(_) => ErrorCode::NotAllowed,
            PlatformError::AliasTaken { .. } => ErrorCode::AliasTaken,
            PlatformError::AtMaxCapacity { .. } | PlatformError::TooManyParticipants { .. } => {
                ErrorCode::AtMaxCapacity
            }
            PlatformError::Transition(_) => ErrorCode::InvalidTransition,
            PlatformError::Store(_) => ErrorCode::StoreUnavailable,
        }
    }

    /// The HTTP status REST answers this error with: its code's
    /// [`ErrorCode::http_status`].
    #[must_use]
    pub fn http_status(&self) -> u16 {
        self.code().http_status()
    }
}
