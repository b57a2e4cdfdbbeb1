//! confkit: the conference access-control core.
//!
//! A pure, synchronous library: conferences, permission sets, Ed25519-signed
//! conference access tokens, invitations and the participant lifecycle. The
//! [`ffi`] module exposes it through a C ABI (header in `include/confkit.h`).

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod identity;
pub mod lifecycle;
pub mod permissions;
pub mod token;

pub use identity::{Alias, ConferenceId, ExternalId, IdentityError, ParticipantInfo};
pub use lifecycle::{LifecycleEvent, ParticipantStatus, ParticipantType, TransitionError};
pub use permissions::{Permission, PermissionSet, UnknownPermission};
pub use token::{Claims, KeyId, KeyRing, RevocationList, SigningKey, TokenError, Validation};
pub mod clock;
pub mod error;
pub mod event;
pub mod platform;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::ErrorCode;
pub use event::{Event, EventKind};
pub use platform::{Platform, PlatformError, SessionId};
pub mod ffi;
