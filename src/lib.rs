//! confkit: the conference access-control core.
//!
//! A pure, synchronous library: conferences, permission sets, Ed25519-signed
//! conference access tokens, invitations and the participant lifecycle. The
//! [`ffi`] module exposes it through a C ABI (header in `include/confkit.h`).
//!
//! The authority (`platform`, `rest`, `store`, `wire::server` and their C
//! functions) is the cargo feature `authority`, on by default; a phone's
//! build leaves it out (`--no-default-features`) and keeps the device half:
//! [`client`], [`token`], [`wire::message`]. The example below needs it.
//!
//! ```
//! use std::sync::Arc;
//! use confkit::platform::{ConferenceOptions, Delivery, Invitee, PlatformConfig};
//! use confkit::{ExternalId, KeyId, ManualClock, ParticipantInfo, Platform, SigningKey};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = SigningKey::from_seed(&[7; 32], KeyId::new("key-1")?);
//! let clock = ManualClock::new(1_700_000_000);
//! let platform = Platform::with_config(key, Arc::new(clock), PlatformConfig::default());
//! let alice = platform.open_session(ParticipantInfo::new(ExternalId::new("alice")?, "Alice", None)?);
//! let options = ConferenceOptions { protected: true, ..Default::default() };
//! let created = platform.create_conference(alice, "team-sync", options)?;
//! platform.join(alice, created.conference.id, created.owner_token.as_deref())?;
//! let bob = ExternalId::new("bob")?;
//! let results = platform.invite(alice, created.conference.id, &[Invitee::new(bob, None)])?;
//! assert_eq!(results[0].delivery, Delivery::NoOpenSession); // bob has no session yet
//! for event in platform.drain_events(alice)? {
//!     println!("{}", event.to_json());
//! }
//! # Ok(())
//! # }
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod identity;
mod json;
pub mod lifecycle;
pub mod permissions;
pub mod token;

/// The Ed25519 crate whose types appear in confkit's API (`SigningKey::dalek`,
/// `SigningKey::verifying_key`, `token::jws`, `token::strict`), re-exported so
/// a user names the very version confkit links (ed25519-dalek 3).
pub use ed25519_dalek;
pub use identity::{Alias, ConferenceId, ExternalId, IdentityError, ParticipantInfo};
pub use lifecycle::{LifecycleEvent, ParticipantStatus, ParticipantType, TransitionError};
pub use permissions::{Permission, PermissionSet, UnknownPermission};
pub use token::{Claims, KeyId, KeyRing, RevocationList, SigningKey, TokenError, Validation};
pub mod client;
pub mod clock;
pub mod error;
pub mod event;
mod expiring;
#[cfg(feature = "authority")]
pub mod platform;
#[cfg(feature = "authority")]
pub mod rest;
pub mod snapshot;
#[cfg(feature = "authority")]
pub mod store;
pub mod wire;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::ErrorCode;
pub use event::{Event, EventKind};
#[cfg(feature = "authority")]
pub use platform::{Platform, PlatformError, SessionId};
pub mod ffi;
