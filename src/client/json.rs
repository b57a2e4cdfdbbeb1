//! An update as JSON (what the C ABI and the bindings hand out), written
//! with confkit's own writer, so that a phone's library links no general
//! JSON library (issue 13, item 5). The text is what serde_json writes for
//! [`Update`]'s derive, except a reply's result, which is the server's own
//! text (serde_json would sort its members); the tests below compare them.

use super::{Invitation, Update};
use crate::identity::ConferenceId;
use crate::json::write::Writer;
use crate::wire::write::{error_body, participant_info, participant_view, permissions};

fn conference(w: &mut Writer, id: &ConferenceId) {
    w.str_member("conferenceId", &id.to_string());
}

fn invitation(w: &mut Writer, i: &Invitation) {
    conference(w, &i.conference_id);
    w.str_member("alias", &i.alias);
    w.key("inviter");
    participant_info(w, &i.inviter);
    w.opt_str_member("token", i.token.as_deref());
    w.key("permissions");
    match i.permissions {
        Some(set) => permissions(w, set),
        None => w.null(),
    }
}

impl Update {
    /// The update as JSON text: an object with a camelCase `kind` and the
    /// variant's members in camelCase (a reply's result as the server sent
    /// it).
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut w = Writer::new();
        w.begin_object();
        match self {
            Update::ParticipantAdded {
                conference_id,
                participant,
            } => {
                w.str_member("kind", "participantAdded");
                conference(&mut w, conference_id);
                w.key("participant");
                participant_view(&mut w, participant);
            }
            Update::ParticipantUpdated {
                conference_id,
                participant,
                old_status,
            } => {
                w.str_member("kind", "participantUpdated");
                conference(&mut w, conference_id);
                w.key("participant");
                participant_view(&mut w, participant);
                w.str_member("oldStatus", old_status.name());
            }
            Update::ParticipantRemoved {
                conference_id,
                external_id,
            } => {
                w.str_member("kind", "participantRemoved");
                conference(&mut w, conference_id);
                w.str_member("externalId", external_id.as_str());
            }
            Update::MyStatusChanged {
                conference_id,
                old,
                new,
            } => {
                w.str_member("kind", "myStatusChanged");
                conference(&mut w, conference_id);
                w.opt_str_member("old", old.map(|s| s.name()));
                w.str_member("new", new.name());
            }
            Update::MyPermissionsChanged {
                conference_id,
                permissions: set,
            } => {
                w.str_member("kind", "myPermissionsChanged");
                conference(&mut w, conference_id);
                w.key("permissions");
                permissions(&mut w, *set);
            }
            Update::NoLongerIn { conference_id } => {
                w.str_member("kind", "noLongerIn");
                conference(&mut w, conference_id);
            }
            Update::ConferenceEnded {
                conference_id,
                reason,
            } => {
                w.str_member("kind", "conferenceEnded");
                conference(&mut w, conference_id);
                w.str_member("reason", reason.name());
            }
            Update::InvitationReceived(i) => {
                w.str_member("kind", "invitationReceived");
                invitation(&mut w, i);
            }
            Update::RequestSucceeded { id, result } => {
                w.str_member("kind", "requestSucceeded");
                w.str_member("id", id);
                w.key("result");
                w.raw(result.as_str());
            }
            Update::RequestFailed { id, error } => {
                w.str_member("kind", "requestFailed");
                w.opt_str_member("id", id.as_deref());
                w.key("error");
                error_body(&mut w, error);
            }
            Update::Duplicate { sequence } => {
                w.str_member("kind", "duplicate");
                w.u64_member("sequence", *sequence);
            }
            Update::DuplicateReply { id } => {
                w.str_member("kind", "duplicateReply");
                w.str_member("id", id);
            }
            Update::Gap { expected, received } => {
                w.str_member("kind", "gap");
                w.u64_member("expected", *expected);
                w.u64_member("received", *received);
            }
            Update::Skipped {
                sequence,
                type_name,
            } => {
                w.str_member("kind", "skipped");
                w.u64_member("sequence", *sequence);
                w.str_member("typeName", type_name);
            }
            Update::Resynced { snapshot } => {
                w.str_member("kind", "resynced");
                w.key("snapshot");
                w.bool(*snapshot);
            }
        }
        w.end_object();
        w.into_string()
    }
}

#[cfg(test)]
mod tests {
    use super::super::ReplyResult;
    use super::*;
    use crate::error::{ErrorBody, ErrorCode};
    use crate::event::{EndReason, ParticipantView};
    use crate::identity::{ExternalId, ParticipantInfo};
    use crate::lifecycle::{ParticipantStatus, ParticipantType};
    use crate::permissions::PermissionSet;

    fn updates() -> Vec<Update> {
        let c = ConferenceId::parse("25649f3b-ebf1-49e9-b982-2d78d2964d37").unwrap();
        let bob = ExternalId::new("bob \"b\"").unwrap();
        let view = ParticipantView {
            external_id: bob.clone(),
            name: "Bob\n".into(),
            avatar_url: Some("https://a/b".into()),
            status: ParticipantStatus::Warning,
            participant_type: ParticipantType::User,
            permissions: PermissionSet::ALL,
        };
        let info = ParticipantInfo::new(bob.clone(), "Bob", None).unwrap();
        vec![
            Update::ParticipantAdded {
                conference_id: c,
                participant: view.clone(),
            },
            Update::ParticipantUpdated {
                conference_id: c,
                participant: ParticipantView {
                    avatar_url: None,
                    ..view
                },
                old_status: ParticipantStatus::OnAir,
            },
            Update::ParticipantRemoved {
                conference_id: c,
                external_id: bob,
            },
            Update::MyStatusChanged {
                conference_id: c,
                old: None,
                new: ParticipantStatus::Connecting,
            },
            Update::MyStatusChanged {
                conference_id: c,
                old: Some(ParticipantStatus::Reserved),
                new: ParticipantStatus::Kicked,
            },
            Update::MyPermissionsChanged {
                conference_id: c,
                permissions: PermissionSet::EMPTY,
            },
            Update::NoLongerIn { conference_id: c },
            Update::ConferenceEnded {
                conference_id: c,
                reason: EndReason::Expired,
            },
            Update::InvitationReceived(Invitation {
                conference_id: c,
                alias: "standup".into(),
                inviter: info.clone(),
                token: None,
                permissions: None,
            }),
            Update::InvitationReceived(Invitation {
                conference_id: c,
                alias: "ünïcode ☃".into(),
                inviter: info,
                token: Some("a.b.c".into()),
                permissions: Some(PermissionSet::ALL),
            }),
            Update::RequestSucceeded {
                id: "c1".into(),
                result: ReplyResult(r#"{"z":1,"a":{"b":[true,null,"x"]}}"#.into()),
            },
            Update::RequestFailed {
                id: None,
                error: ErrorBody::new(ErrorCode::InvalidArgument, "no \"id\""),
            },
            Update::RequestFailed {
                id: Some("c2".into()),
                error: ErrorBody::new(ErrorCode::TooLarge, ""),
            },
            Update::Duplicate { sequence: 3 },
            Update::DuplicateReply { id: "c3".into() },
            Update::Gap {
                expected: 4,
                received: u64::MAX,
            },
            Update::Skipped {
                sequence: 9,
                type_name: "future\u{1}".into(),
            },
            Update::Resynced { snapshot: true },
            Update::Resynced { snapshot: false },
        ]
    }

    #[test]
    fn an_update_is_the_text_serde_writes() {
        for u in updates() {
            let ours = u.to_json();
            let serde = serde_json::to_string(&u).unwrap();
            if let Update::RequestSucceeded { result, .. } = &u {
                // serde_json writes a value's members sorted; the text is
                // embedded as the server sent it.
                assert!(ours.contains(result.as_str()), "{ours}");
                let ours: serde_json::Value = serde_json::from_str(&ours).unwrap();
                assert_eq!(
                    ours,
                    serde_json::from_str::<serde_json::Value>(&serde).unwrap()
                );
            } else {
                assert_eq!(ours, serde, "{u:?}");
            }
        }
    }
}
