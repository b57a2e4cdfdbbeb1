//! What a session may see of its conferences at one point of its event
//! stream: the authority takes it, the wire carries it, a client replaces its
//! view with it.

use serde::{Deserialize, Serialize};

use crate::event::ParticipantView;
use crate::identity::{ConferenceId, ExternalId};
use crate::lifecycle::{ParticipantStatus, ParticipantType};
use crate::permissions::PermissionSet;

/// Every conference a session is connected to, as of `as_of_sequence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSnapshot {
    /// The last sequence number of the session's events it includes.
    pub as_of_sequence: u64,
    /// The conferences, ordered by ID.
    pub conferences: Vec<ConferenceSnapshot>,
}

/// One conference as one session may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConferenceSnapshot {
    /// Its ID.
    pub conference_id: ConferenceId,
    /// Its alias as the creator spelled it.
    pub alias: String,
    /// Its owner.
    pub owner: ExternalId,
    /// Whether joining needs a token.
    pub is_protected: bool,
    /// Audio only.
    pub audio_only: bool,
    /// Most participants at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_limit: Option<u32>,
    /// The session's own status.
    pub my_status: ParticipantStatus,
    /// USER or LISTENER.
    pub my_type: ParticipantType,
    /// What the session's user may do.
    pub my_permissions: PermissionSet,
    /// The user's current token (protected conferences).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Everyone the session may see (listeners see users and themselves), in
    /// the order they were added.
    pub participants: Vec<SnapshotParticipant>,
}

/// A participant in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "FlatParticipant")]
pub struct SnapshotParticipant {
    /// As events show them.
    #[serde(flatten)]
    pub view: ParticipantView,
    /// Grows with every change of this participant: of two views of one
    /// participant, the one with the higher revision is newer.
    pub revision: u64,
}

/// How a snapshot participant is read: the same members without `flatten`,
/// which would buffer every participant before reading it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FlatParticipant {
    external_id: ExternalId,
    name: String,
    #[serde(default)]
    avatar_url: Option<String>,
    status: ParticipantStatus,
    #[serde(rename = "type")]
    participant_type: ParticipantType,
    permissions: PermissionSet,
    revision: u64,
}

impl From<FlatParticipant> for SnapshotParticipant {
    fn from(p: FlatParticipant) -> Self {
        SnapshotParticipant {
            view: ParticipantView {
                external_id: p.external_id,
                name: p.name,
                avatar_url: p.avatar_url,
                status: p.status,
                participant_type: p.participant_type,
                permissions: p.permissions,
            },
            revision: p.revision,
        }
    }
}
