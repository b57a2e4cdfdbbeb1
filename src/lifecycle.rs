//! Participant statuses, participant types and the one table of allowed moves.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a participant stands in a conference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum ParticipantStatus {
    /// Invited, not yet joined.
    Reserved = 0,
    /// Joined; the media connection is being set up.
    Connecting = 1,
    /// Connected and taking part. Parsed from "CONNECTED" too.
    OnAir = 2,
    /// Connected but idle (e.g. the app is in the background).
    Inactive = 3,
    /// Declined the invitation.
    Decline = 4,
    /// Left the conference.
    Left = 5,
    /// Removed by someone holding KICK.
    Kicked = 6,
    /// Connected with media trouble.
    Warning = 7,
    /// The connection failed.
    Error = 8,
}

/// A status name that is not one of the nine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown participant status {0:?}")]
pub struct UnknownStatus(pub String);

impl ParticipantStatus {
    /// Every status, in code order.
    pub const ALL: [ParticipantStatus; 9] = [
        ParticipantStatus::Reserved,
        ParticipantStatus::Connecting,
        ParticipantStatus::OnAir,
        ParticipantStatus::Inactive,
        ParticipantStatus::Decline,
        ParticipantStatus::Left,
        ParticipantStatus::Kicked,
        ParticipantStatus::Warning,
        ParticipantStatus::Error,
    ];

    /// The stable upper-case name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            ParticipantStatus::Reserved => "RESERVED",
            ParticipantStatus::Connecting => "CONNECTING",
            ParticipantStatus::OnAir => "ON_AIR",
            ParticipantStatus::Inactive => "INACTIVE",
            ParticipantStatus::Decline => "DECLINE",
            ParticipantStatus::Left => "LEFT",
            ParticipantStatus::Kicked => "KICKED",
            ParticipantStatus::Warning => "WARNING",
            ParticipantStatus::Error => "ERROR",
        }
    }

    /// Parses a name; "CONNECTED" is accepted as ON_AIR.
    pub fn from_name(name: &str) -> Result<Self, UnknownStatus> {
        if name == "CONNECTED" {
            return Ok(ParticipantStatus::OnAir);
        }
        ParticipantStatus::ALL
            .iter()
            .copied()
            .find(|s| s.name() == name)
            .ok_or_else(|| UnknownStatus(name.to_owned()))
    }

    /// The status with this code (its `repr`), if any.
    #[must_use]
    pub fn from_code(code: u32) -> Option<Self> {
        usize::try_from(code)
            .ok()
            .and_then(|i| ParticipantStatus::ALL.get(i).copied())
    }

    /// Whether the participant is in the conference (joined, connected or not).
    #[must_use]
    pub const fn is_in_conference(self) -> bool {
        matches!(
            self,
            ParticipantStatus::Connecting
                | ParticipantStatus::OnAir
                | ParticipantStatus::Inactive
                | ParticipantStatus::Warning
        )
    }

    /// Applies `event`, following [`TRANSITIONS`]; any other move is an error.
    pub fn apply(self, event: LifecycleEvent) -> Result<Self, TransitionError> {
        TRANSITIONS
            .iter()
            .find(|(from, ev, _)| *from == self && *ev == event)
            .map(|(_, _, to)| *to)
            .ok_or(TransitionError { from: self, event })
    }
}

impl fmt::Display for ParticipantStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for ParticipantStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ParticipantStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        ParticipantStatus::from_name(&s).map_err(serde::de::Error::custom)
    }
}

/// What a participant does in a conference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[repr(u8)]
pub enum ParticipantType {
    /// Sends and receives media.
    User = 0,
    /// Receives only; not told about other listeners.
    Listener = 1,
}

impl ParticipantType {
    /// The stable upper-case name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            ParticipantType::User => "USER",
            ParticipantType::Listener => "LISTENER",
        }
    }
}

/// Something that happens to a participant and may change their status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[repr(u8)]
pub enum LifecycleEvent {
    /// Invited (or invited again).
    Invite = 0,
    /// Joins or listens (from any device).
    Join = 1,
    /// The host reports the media connection is up.
    Connected = 2,
    /// The host reports media trouble.
    MediaTrouble = 3,
    /// The host reports the trouble is over.
    Recovered = 4,
    /// The host reports the connection failed.
    Failure = 5,
    /// The host reports the participant idle.
    Idle = 6,
    /// Declines the invitation.
    Decline = 7,
    /// Leaves.
    Leave = 8,
    /// Is kicked.
    Kick = 9,
}

impl LifecycleEvent {
    /// Every event, in code order.
    pub const ALL: [LifecycleEvent; 10] = [
        LifecycleEvent::Invite,
        LifecycleEvent::Join,
        LifecycleEvent::Connected,
        LifecycleEvent::MediaTrouble,
        LifecycleEvent::Recovered,
        LifecycleEvent::Failure,
        LifecycleEvent::Idle,
        LifecycleEvent::Decline,
        LifecycleEvent::Leave,
        LifecycleEvent::Kick,
    ];

    /// The stable upper-case name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            LifecycleEvent::Invite => "INVITE",
            LifecycleEvent::Join => "JOIN",
            LifecycleEvent::Connected => "CONNECTED",
            LifecycleEvent::MediaTrouble => "MEDIA_TROUBLE",
            LifecycleEvent::Recovered => "RECOVERED",
            LifecycleEvent::Failure => "FAILURE",
            LifecycleEvent::Idle => "IDLE",
            LifecycleEvent::Decline => "DECLINE",
            LifecycleEvent::Leave => "LEAVE",
            LifecycleEvent::Kick => "KICK",
        }
    }
}

impl fmt::Display for LifecycleEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A move that the table does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("participant in status {from} cannot {event}")]
pub struct TransitionError {
    /// The status the participant was in.
    pub from: ParticipantStatus,
    /// The event that was refused.
    pub event: LifecycleEvent,
}

use LifecycleEvent as E;
use ParticipantStatus as S;

/// Every allowed move: (from, event, to). Anything else is refused.
///
/// Decisions where DESIGN is silent:
/// - JOIN while in the conference (from another device) restarts the media
///   connection: back to CONNECTING.
/// - LEFT and DECLINE may JOIN again, but leaving or declining revokes every
///   token issued so far: in a protected conference only a new token (a new
///   invitation or a permission update) admits them. They can still be kicked,
///   which also closes the way back through an unprotected conference.
/// - KICKED comes back only through INVITE (a kick revokes the old tokens).
/// - ERROR (a failed connection) may JOIN again or be invited again.
/// - INVITE of a RESERVED participant refreshes the invitation (stays RESERVED);
///   kicking a RESERVED participant withdraws the invitation.
#[rustfmt::skip]
pub const TRANSITIONS: &[(ParticipantStatus, LifecycleEvent, ParticipantStatus)] = &[
    // from          event              to
    (S::Reserved,   E::Invite,         S::Reserved),
    (S::Reserved,   E::Join,           S::Connecting),
    (S::Reserved,   E::Decline,        S::Decline),
    (S::Reserved,   E::Kick,           S::Kicked),

    (S::Connecting, E::Join,           S::Connecting),
    (S::Connecting, E::Connected,      S::OnAir),
    (S::Connecting, E::Failure,        S::Error),
    (S::Connecting, E::Leave,          S::Left),
    (S::Connecting, E::Kick,           S::Kicked),

    (S::OnAir,      E::Join,           S::Connecting),
    (S::OnAir,      E::MediaTrouble,   S::Warning),
    (S::OnAir,      E::Idle,           S::Inactive),
    (S::OnAir,      E::Failure,        S::Error),
    (S::OnAir,      E::Leave,          S::Left),
    (S::OnAir,      E::Kick,           S::Kicked),

    (S::Warning,    E::Join,           S::Connecting),
    (S::Warning,    E::Recovered,      S::OnAir),
    (S::Warning,    E::Failure,        S::Error),
    (S::Warning,    E::Leave,          S::Left),
    (S::Warning,    E::Kick,           S::Kicked),

    (S::Inactive,   E::Join,           S::Connecting),
    (S::Inactive,   E::Connected,      S::OnAir),
    (S::Inactive,   E::Failure,        S::Error),
    (S::Inactive,   E::Leave,          S::Left),
    (S::Inactive,   E::Kick,           S::Kicked),

    (S::Error,      E::Invite,         S::Reserved),
    (S::Error,      E::Join,           S::Connecting),
    (S::Error,      E::Leave,          S::Left),
    (S::Error,      E::Kick,           S::Kicked),

    (S::Left,       E::Invite,         S::Reserved),
    (S::Left,       E::Kick,           S::Kicked),
    (S::Left,       E::Join,           S::Connecting),
    (S::Decline,    E::Invite,         S::Reserved),
    (S::Decline,    E::Kick,           S::Kicked),
    (S::Decline,    E::Join,           S::Connecting),
    (S::Kicked,     E::Invite,         S::Reserved),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected outcome of every (status, event) pair, written out in full,
    /// so a change to the table must be made twice on purpose.
    fn expected(from: S, ev: E) -> Option<S> {
        use E::*;
        match (from, ev) {
            (S::Reserved, Invite) => Some(S::Reserved),
            (S::Reserved, Join) => Some(S::Connecting),
            (S::Reserved, Decline) => Some(S::Decline),
            (S::Reserved, Kick) => Some(S::Kicked),
            (S::Connecting, Join) => Some(S::Connecting),
            (S::Connecting, Connected) => Some(S::OnAir),
            (S::Connecting, Failure) => Some(S::Error),
            (S::Connecting, Leave) => Some(S::Left),
            (S::Connecting, Kick) => Some(S::Kicked),
            (S::OnAir | S::Warning | S::Inactive, Join) => Some(S::Connecting),
            (S::OnAir, MediaTrouble) => Some(S::Warning),
            (S::OnAir, Idle) => Some(S::Inactive),
            (S::Warning, Recovered) => Some(S::OnAir),
            (S::Inactive, Connected) => Some(S::OnAir),
            (S::OnAir | S::Warning | S::Inactive, Failure) => Some(S::Error),
            (S::OnAir | S::Warning | S::Inactive | S::Error, Leave) => Some(S::Left),
            (S::OnAir | S::Warning | S::Inactive | S::Error, Kick) => Some(S::Kicked),
            (S::Error, Join) => Some(S::Connecting),
            (S::Left | S::Decline | S::Kicked | S::Error, Invite) => Some(S::Reserved),
            (S::Left | S::Decline, Join) => Some(S::Connecting),
            (S::Left | S::Decline, Kick) => Some(S::Kicked),
            _ => None,
        }
    }

    #[test]
    fn every_pair_matches_the_written_out_rules() {
        let mut allowed = 0;
        for from in S::ALL {
            for ev in E::ALL {
                match (from.apply(ev), expected(from, ev)) {
                    (Ok(to), Some(want)) => {
                        assert_eq!(to, want, "{from} + {ev}");
                        allowed += 1;
                    }
                    (Err(e), None) => {
                        assert_eq!(e, TransitionError { from, event: ev });
                        let msg = e.to_string();
                        assert!(
                            msg.contains(from.name()) && msg.contains(ev.name()),
                            "{msg}"
                        );
                    }
                    (got, want) => panic!("{from} + {ev}: got {got:?}, want {want:?}"),
                }
            }
        }
        assert_eq!(allowed, TRANSITIONS.len(), "table has duplicate rows");
    }

    #[test]
    fn main_path() {
        let s = S::Reserved;
        let s = s.apply(E::Join).unwrap();
        assert_eq!(s, S::Connecting);
        let s = s.apply(E::Connected).unwrap();
        assert_eq!(s, S::OnAir);
        let w = s.apply(E::MediaTrouble).unwrap();
        assert_eq!(w.apply(E::Recovered), Ok(S::OnAir));
        assert_eq!(s.apply(E::Leave), Ok(S::Left));
        assert_eq!(s.apply(E::Kick), Ok(S::Kicked));
        assert!(S::Kicked.apply(E::Join).is_err());
    }

    #[test]
    fn names_round_trip_and_connected_alias() {
        for s in S::ALL {
            assert_eq!(S::from_name(s.name()), Ok(s));
            assert_eq!(S::from_code(s as u32), Some(s));
        }
        assert_eq!(S::from_name("CONNECTED"), Ok(S::OnAir));
        assert!(S::from_name("on_air").is_err());
        assert_eq!(serde_json::to_string(&S::OnAir).unwrap(), "\"ON_AIR\"");
    }
}
