//! The versioned protocol between a device and the authority, carried as
//! bytes by the app's own transport (WebSocket, push): JSON messages, each an
//! object with the protocol version `v` and a `type`. `docs/PROTOCOL.md` is the
//! contract; `tests/fixtures/wire/` holds its examples.
//!
//! - [`message`]: the messages, their encoding and their checks, shared by
//!   both halves.
//! - `read` and `write` (internal): the device's side, reading server
//!   messages and writing requests with confkit's own JSON (`src/json/`), so
//!   that a phone's library links no serde_json; `read` is compared with
//!   serde's reading of the same bytes by its tests.
//! - [`server`]: the authority's side, [`crate::Platform::handle_message`] and
//!   the session's events as wire messages. It only converts and calls the
//!   platform's operations.
//!
//! Unknown members are ignored (a newer peer may add some); an unknown
//! message type or version, a message over [`MAX_MESSAGE_BYTES`], or one that
//! is not a JSON object of the right shape is a typed [`WireError`], never a
//! panic.

pub mod message;
pub(crate) mod read;
#[cfg(fuzzing)]
#[doc(hidden)]
pub use read::reference::check_against_serde;
#[cfg(feature = "authority")]
pub mod server;
pub(crate) mod write;

use crate::error::ErrorCode;

/// The protocol version this library speaks (`"v"` of every message).
pub const PROTOCOL_VERSION: u64 = 1;

/// Largest message accepted in either direction, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// How many objects and arrays a server message may hold one inside
/// another, the message itself included, for a device to accept it. A
/// reply's result may then nest 127 deep: what serde_json reads into a value
/// (its recursion limit), so that an app's own JSON decoder, which gets the
/// result in an update, needs no deeper stack.
pub const MAX_NESTING: usize = 128;

/// Longest request id a device may choose, in bytes.
pub const MAX_REQUEST_ID_BYTES: usize = 64;

/// How many recent replies the authority keeps per session, so that a
/// retransmitted request (same session, same id) gets the same reply without
/// running twice. Older ids are forgotten: a request id must not be reused
/// within the last this-many requests.
pub const REMEMBERED_REPLIES: usize = 64;

/// Why bytes are not a message this library can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Larger than [`MAX_MESSAGE_BYTES`].
    #[error("message is {len} bytes, more than {max}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// Not UTF-8 JSON, or not a JSON object.
    #[error("not a JSON object: {0}")]
    NotJson(String),
    /// `v` is missing or not this library's version.
    #[error("protocol version {found} is not supported (this library speaks {PROTOCOL_VERSION})")]
    UnsupportedVersion {
        /// What the message said (`None` when `v` is missing or not a number).
        found: VersionSeen,
    },
    /// `type` names no message of this protocol version.
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    /// A permission name is not one of the twelve.
    #[error("unknown permission name {0:?}")]
    UnknownPermission(String),
    /// A member is missing or has the wrong type or value.
    #[error("invalid message: {0}")]
    Invalid(String),
}

/// The `v` a message carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSeen {
    /// No `v`, or one that is not a whole number.
    Missing,
    /// This number.
    Number(u64),
}

impl std::fmt::Display for VersionSeen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VersionSeen::Missing => f.write_str("(missing)"),
            VersionSeen::Number(n) => write!(f, "{n}"),
        }
    }
}

impl WireError {
    /// The stable code a reply carries for this error.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            WireError::TooLarge { .. } => ErrorCode::TooLarge,
            WireError::UnknownPermission(_) => ErrorCode::UnknownPermission,
            _ => ErrorCode::InvalidArgument,
        }
    }
}
