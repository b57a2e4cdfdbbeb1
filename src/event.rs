//! Events a session receives. Each serializes to JSON with a stable `type`
//! field and camelCase members, so a host can ship it over its own transport.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::identity::{ConferenceId, ExternalId, ParticipantInfo};
use crate::lifecycle::{ParticipantStatus, ParticipantType};
use crate::permissions::PermissionSet;

/// One event in a session's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Increases by one per event within a session, starting at 1.
    pub sequence: u64,
    /// The conference the event is about; `None` only for
    /// [`EventKind::EventsMissed`], which is about the session's queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_id: Option<ConferenceId>,
    /// What happened. Shared between the sessions that receive the same event.
    #[serde(flatten)]
    pub kind: Arc<EventKind>,
}

impl Event {
    /// The event as JSON text.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A participant as others see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantView {
    /// The user's external ID.
    pub external_id: ExternalId,
    /// The display name.
    pub name: String,
    /// The avatar URL, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// Where they stand.
    pub status: ParticipantStatus,
    /// USER or LISTENER.
    #[serde(rename = "type")]
    pub participant_type: ParticipantType,
    /// What they may do.
    pub permissions: PermissionSet,
}

/// Why a conference ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EndReason {
    /// Terminated by its owner or the app server.
    Terminated,
    /// Stayed empty past its time to live.
    Expired,
}

impl EndReason {
    /// The stable name (`TERMINATED`, `EXPIRED`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            EndReason::Terminated => "TERMINATED",
            EndReason::Expired => "EXPIRED",
        }
    }
}

/// What happened, with its payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum EventKind {
    /// A conference this user created now exists.
    ConferenceCreated {
        /// The alias.
        conference_alias: String,
        /// Whether joining needs a token.
        is_protected: bool,
    },
    /// The conference was destroyed.
    ConferenceEnded {
        /// Why.
        reason: EndReason,
    },
    /// This user was invited.
    InvitationReceived {
        /// The alias.
        conference_alias: String,
        /// Who invited.
        inviter: ParticipantInfo,
        /// The invitee's token (protected conferences only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
        /// The invitee's permissions (protected conferences only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        permissions: Option<PermissionSet>,
    },
    /// Someone was added to the conference (invited, or joined uninvited).
    ParticipantAdded {
        /// Who.
        participant: ParticipantView,
    },
    /// Someone's status changed.
    ParticipantUpdated {
        /// Who, with the new status.
        participant: ParticipantView,
        /// The status before.
        old_status: ParticipantStatus,
        /// The status now.
        new_status: ParticipantStatus,
    },
    /// This user's permissions were replaced; the old token is revoked.
    PermissionsUpdated {
        /// The new set.
        permissions: PermissionSet,
        /// The new token (protected conferences only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
    },
    /// This session's place in the conference was taken by another session of
    /// the same user (joined from another device).
    Switched {
        /// The external ID that switched.
        external_id: ExternalId,
    },
    /// Someone this session saw is no longer visible to it (a participant who
    /// became a listener, seen from another listener). Drop them from the view.
    ParticipantRemoved {
        /// Who.
        external_id: ExternalId,
    },
    /// A fresh token for this user in a protected conference they are in, sent
    /// shortly before their current one expires (same permissions).
    TokenRefreshed {
        /// The new token; the old one stays valid until its own expiry.
        token: String,
        /// What it grants (unchanged).
        permissions: PermissionSet,
        /// Its `exp`, seconds since the Unix epoch.
        expires_at: u64,
    },
    /// The session's queue overflowed: events `firstMissedSequence` up to
    /// this event's own sequence were dropped. The next event has
    /// `firstAvailableSequence`; resynchronise the views this session keeps.
    EventsMissed {
        /// The first dropped sequence number.
        first_missed_sequence: u64,
        /// The first sequence number the session can still receive.
        first_available_sequence: u64,
    },
}

impl EventKind {
    /// The stable `type` name.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::ConferenceCreated { .. } => "conferenceCreated",
            EventKind::ConferenceEnded { .. } => "conferenceEnded",
            EventKind::InvitationReceived { .. } => "invitationReceived",
            EventKind::ParticipantAdded { .. } => "participantAdded",
            EventKind::ParticipantUpdated { .. } => "participantUpdated",
            EventKind::PermissionsUpdated { .. } => "permissionsUpdated",
            EventKind::Switched { .. } => "switched",
            EventKind::ParticipantRemoved { .. } => "participantRemoved",
            EventKind::TokenRefreshed { .. } => "tokenRefreshed",
            EventKind::EventsMissed { .. } => "eventsMissed",
        }
    }
}
