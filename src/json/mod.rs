//! confkit's own small JSON reader and writer, so that what a phone links
//! (verifying tokens, and the device half's wire messages) needs no general
//! JSON library (issue 13, item 5). The authority keeps serde_json.
//!
//! - [`read`]: a strict pull reader (RFC 8259, plus UTF-8 and surrogate
//!   checks on every string), used by the token reader and the device's
//!   reading of server messages.
//! - [`write`]: an append-only writer that escapes strings as serde_json
//!   does, so both halves write the same bytes for the same values (a
//!   reply's result excepted: a device passes on the server's own text).

pub(crate) mod read;
pub(crate) mod write;

pub(crate) use read::{once, JsonError, Reader};
