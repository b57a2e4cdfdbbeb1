//! The platform's errors. How adapters report them (stable code, error
//! body, HTTP status) is [`crate::error`]'s.

use crate::identity::{ExternalId, IdentityError};
use crate::lifecycle::TransitionError;
use crate::permissions::{Permission, PermissionSet, UnknownPermission};
use crate::token::TokenError;

use super::SessionId;

/// Why a platform operation was refused. A refused operation changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// An ID, alias, name or URL was invalid.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// A permission name was unknown.
    #[error(transparent)]
    UnknownPermission(#[from] UnknownPermission),
    /// A token was refused.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// A protected conference was joined without a token.
    #[error("conference {0} is protected: a conference access token is required")]
    TokenRequired(String),
    /// The token was issued to another user.
    #[error("token was issued to {token_subject:?}, not to {session_user:?}")]
    TokenSubject {
        /// The token's `sub`.
        token_subject: String,
        /// The session's external ID.
        session_user: String,
    },
    /// A request or argument was malformed.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The session is unknown or closed.
    #[error("session {0} is not open")]
    SessionNotFound(SessionId),
    /// The conference is unknown.
    #[error("conference {0} not found")]
    ConferenceNotFound(String),
    /// The conference was destroyed (terminated or expired).
    #[error("conference {0} not found: it was destroyed")]
    ConferenceDestroyed(String),
    /// No such participant.
    #[error("{0} is not a participant of the conference")]
    ParticipantNotFound(ExternalId),
    /// The caller must be in the conference (joined) first.
    #[error("{0} is not in the conference: join it first")]
    NotInConference(ExternalId),
    /// The caller lacks a permission.
    #[error("{who} lacks the {permission} permission")]
    MissingPermission {
        /// The caller.
        who: ExternalId,
        /// What they lack.
        permission: Permission,
    },
    /// The caller tried to grant permissions they do not hold.
    #[error("cannot grant {missing}: the inviter does not hold them")]
    Escalation {
        /// The permissions the caller lacks.
        missing: PermissionSet,
    },
    /// Only the conference owner may do this.
    #[error("only the conference owner may {0}")]
    OwnerOnly(&'static str),
    /// Nobody may kick the conference owner.
    #[error("the conference owner cannot be kicked")]
    OwnerNotKickable,
    /// The owner always holds every permission; nobody may change that.
    #[error("the conference owner's permissions cannot be changed")]
    OwnerPermissionsFixed,
    /// A listener tried to act on others (invite, kick, update permissions).
    #[error("{0} is listening: listeners receive only, join as a user to invite, kick or update permissions")]
    ListenerCannotAct(ExternalId),
    /// A re-invitation of a KICKED participant by someone who may not re-admit them.
    #[error("{0} was kicked: only the owner or a holder of KICK or INVITE can invite them back")]
    KickedNeedsModerator(ExternalId),
    /// A KICKED participant gets no fresh token.
    #[error("{0} was kicked: only a new invitation brings them back")]
    ParticipantKicked(ExternalId),
    /// Nobody changes their own permissions.
    #[error("{0} cannot change their own permissions")]
    OwnPermissions(ExternalId),
    /// REST create named an alias that a live conference of someone else (or an
    /// unprotected one) already has.
    #[error("alias {alias:?} is taken by a conference that {why}")]
    AliasTaken {
        /// The alias as asked.
        alias: String,
        /// Why it cannot be reused here.
        why: &'static str,
    },
    /// The conference holds as many participant records as it may.
    #[error("conference already has {limit} participants, the most one conference holds")]
    TooManyParticipants {
        /// [`crate::platform::MAX_PARTICIPANTS_PER_CONFERENCE`].
        limit: usize,
    },
    /// The conference is full.
    #[error("conference is at max capacity ({limit} participants)")]
    AtMaxCapacity {
        /// The participant limit.
        limit: u32,
    },
    /// The participant's status does not allow this.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The platform's store could not commit the operation: nothing changed
    /// and nothing was sent. Try again.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Why a verifying key could not be trusted or removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyChangeError {
    /// The key or key id was refused.
    #[error(transparent)]
    Key(#[from] crate::token::KeyError),
    /// The store could not commit the change: nothing changed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}
