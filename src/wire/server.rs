//! The authority's side of the protocol: decode a device's request, call the
//! platform's operation for the session, encode the reply; and the session's
//! events as wire messages. Nothing here decides anything.

use serde::Serialize;

use super::message::{self, EventBody, MediaState, Op, Request};
use super::REMEMBERED_REPLIES;
use crate::error::ErrorBody;
use crate::event::Event;
use crate::identity::ConferenceId;
use crate::identity::ExternalId;
use crate::lifecycle::LifecycleEvent;
use crate::lifecycle::ParticipantStatus;
use crate::permissions::PermissionSet;
use crate::platform::ConferenceInfo;
use crate::platform::{
    ConferenceOptions, Delivery, Invitee, Joined, Platform, PlatformError, Resync,
};
use crate::snapshot::{ConferenceSnapshot, SessionSnapshot};
use crate::SessionId;

impl Platform {
    /// Answers one wire request from session `sid` (see `docs/PROTOCOL.md`).
    /// Never fails: every problem is an error reply with the stable code,
    /// reason and description REST and C use, and a refused request changes
    /// nothing. A retransmission (same session, same request id, among its
    /// last [`REMEMBERED_REPLIES`]) gets the first reply and does not run again.
    #[must_use]
    pub fn handle_message(&self, sid: SessionId, bytes: &[u8]) -> Vec<u8> {
        // Any message, even a broken one, says the device is there.
        let _ = self.heard_from(sid);
        let request = match Request::parse(bytes) {
            Ok(r) => r,
            Err((id, e)) => {
                return message::reply_error(id.as_ref(), &ErrorBody::new(e.code(), e.to_string()))
            }
        };
        let ran = self.run_once(sid, request.id.as_str(), REMEMBERED_REPLIES, || match self
            .run_op(sid, &request.op)
        {
            Ok(result) => message::reply_ok(&request.id, &result),
            Err(e) => message::reply_error(Some(&request.id), &ErrorBody::from(&e)),
        });
        match ran {
            Ok(reply) => reply.to_vec(),
            Err(e) => message::reply_error(Some(&request.id), &ErrorBody::from(&e)),
        }
    }

    /// Takes every queued event of a session as wire messages, oldest first.
    pub fn drain_messages(&self, sid: SessionId) -> Result<Vec<Vec<u8>>, PlatformError> {
        Ok(self
            .drain_events(sid)?
            .iter()
            .map(message::event_message)
            .collect())
    }

    fn run_op(&self, sid: SessionId, op: &Op) -> Result<Answer, PlatformError> {
        let conf = |id: &str| ConferenceId::parse(id).map_err(PlatformError::from);
        match op {
            Op::Create {
                alias,
                protected,
                audio_only,
                participant_limit,
                empty_ttl_secs,
                token_ttl_secs,
            } => {
                let options = ConferenceOptions {
                    protected: *protected,
                    empty_ttl_secs: *empty_ttl_secs,
                    audio_only: *audio_only,
                    participant_limit: *participant_limit,
                    token_ttl_secs: *token_ttl_secs,
                };
                let created = self.create_conference(sid, alias, options)?;
                Ok(Answer::Created {
                    conference: created.conference,
                    is_new: created.is_new,
                    owner_token: created.owner_token,
                })
            }
            Op::Fetch {
                conference_id,
                alias,
            } => {
                let info = match (conference_id, alias) {
                    (Some(id), _) => self.conference_seen_by(sid, conf(id)?)?,
                    (None, Some(alias)) => self.conference_by_alias_seen_by(sid, alias)?,
                    (None, None) => {
                        return Err(PlatformError::InvalidInput(
                            "fetch needs a conferenceId or an alias".into(),
                        ))
                    }
                };
                Ok(Answer::Conference { conference: info })
            }
            Op::Join {
                conference_id,
                token,
            } => {
                joined(self.join_with_roster(sid, conf(conference_id)?, token.as_deref(), false)?)
            }
            Op::Listen {
                conference_id,
                token,
            } => {
                joined(self.join_with_roster(sid, conf(conference_id)?, token.as_deref(), true)?)
            }
            Op::MediaState {
                conference_id,
                state,
            } => {
                let event = match state {
                    MediaState::Connected => LifecycleEvent::Connected,
                    MediaState::Failure => LifecycleEvent::Failure,
                    MediaState::Warning => LifecycleEvent::MediaTrouble,
                    MediaState::Recovered => LifecycleEvent::Recovered,
                };
                let status = self.report(sid, conf(conference_id)?, event)?;
                Ok(Answer::Status { status })
            }
            Op::Leave { conference_id } => {
                self.leave(sid, conf(conference_id)?)?;
                Ok(Answer::Done {})
            }
            Op::Decline { conference_id } => {
                self.decline(sid, conf(conference_id)?)?;
                Ok(Answer::Done {})
            }
            Op::Invite {
                conference_id,
                invitees,
            } => {
                let invitees: Vec<Invitee> = invitees
                    .iter()
                    .map(|i| Invitee::new(i.external_id.clone(), i.permissions))
                    .collect();
                let results = self.invite(sid, conf(conference_id)?, &invitees)?;
                let results = results
                    .into_iter()
                    .map(|r| {
                        let (delivery, sessions) = match r.delivery {
                            Delivery::Delivered(n) => ("DELIVERED", n),
                            Delivery::NoOpenSession => ("NO_OPEN_SESSION", 0),
                            Delivery::NotRequested => ("NOT_REQUESTED", 0),
                            Delivery::AlreadyInConference => ("ALREADY_IN_CONFERENCE", 0),
                        };
                        InviteRow {
                            external_id: r.external_id,
                            delivery,
                            sessions,
                            permissions: r.permissions,
                        }
                    })
                    .collect();
                Ok(Answer::Invited { results })
            }
            Op::Kick {
                conference_id,
                external_id,
            } => {
                self.kick(sid, conf(conference_id)?, external_id)?;
                Ok(Answer::Done {})
            }
            Op::UpdatePermissions {
                conference_id,
                external_id,
                permissions,
            } => {
                self.update_permissions(sid, conf(conference_id)?, external_id, *permissions)?;
                Ok(Answer::Done {})
            }
            Op::Terminate { conference_id } => {
                self.terminate(sid, conf(conference_id)?)?;
                Ok(Answer::Done {})
            }
            Op::KeepAlive {} => {
                self.session_info(sid)?;
                Ok(Answer::Done {})
            }
            Op::Resync {
                last_sequence,
                snapshot,
            } => match self.resync(sid, *last_sequence, *snapshot)? {
                Resync::Events(events) => Ok(Answer::Events {
                    events: EventList(events),
                }),
                Resync::Snapshot(snapshot) => Ok(Answer::Snapshot { snapshot }),
            },
        }
    }
}

fn joined((j, roster, as_of): (Joined, ConferenceSnapshot, u64)) -> Result<Answer, PlatformError> {
    Ok(Answer::Joined {
        status: j.status,
        permissions: j.permissions,
        switched: j.switched,
        conference: roster,
        as_of_sequence: as_of,
    })
}

/// A request's result, serialized straight into the reply (each variant is
/// the JSON object `docs/PROTOCOL.md` gives for its request).
#[derive(Serialize)]
#[serde(untagged, rename_all_fields = "camelCase")]
enum Answer {
    Created {
        conference: ConferenceInfo,
        is_new: bool,
        owner_token: Option<String>,
    },
    Conference {
        conference: ConferenceInfo,
    },
    Joined {
        status: ParticipantStatus,
        permissions: PermissionSet,
        switched: bool,
        conference: ConferenceSnapshot,
        as_of_sequence: u64,
    },
    Status {
        status: ParticipantStatus,
    },
    Invited {
        results: Vec<InviteRow>,
    },
    Events {
        events: EventList,
    },
    Snapshot {
        snapshot: SessionSnapshot,
    },
    Done {},
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InviteRow {
    external_id: ExternalId,
    delivery: &'static str,
    sessions: usize,
    permissions: PermissionSet,
}

/// Events as `{sequence, conferenceId, event}` objects.
struct EventList(Vec<Event>);

impl Serialize for EventList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(EventBody::of))
    }
}
