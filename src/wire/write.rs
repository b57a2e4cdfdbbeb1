//! The device's writing: its requests, and the domain values the client's
//! updates carry (for the C ABI and the bindings), with confkit's own JSON
//! writer instead of serde_json, so that a phone's library links no general
//! JSON library (issue 13, item 5). The shapes are the ones the serde derives
//! give (the authority's side); the tests below compare the two.

use crate::error::ErrorBody;
use crate::event::ParticipantView;
use crate::identity::ParticipantInfo;
use crate::json::write::Writer;
use crate::permissions::PermissionSet;

use super::message::{Op, Request, WireInvitee};
use super::PROTOCOL_VERSION;

/// `["JOIN","INVITE",…]`, in bit order.
pub(crate) fn permissions(w: &mut Writer, set: PermissionSet) {
    w.begin_array();
    for p in set.iter() {
        w.string(p.name());
    }
    w.end_array();
}

/// `{"externalId":…,"name":…,"avatarUrl":…}` (no `avatarUrl` when absent).
pub(crate) fn participant_info(w: &mut Writer, info: &ParticipantInfo) {
    w.begin_object();
    w.str_member("externalId", info.external_id().as_str());
    w.str_member("name", info.name());
    if let Some(url) = info.avatar_url() {
        w.str_member("avatarUrl", url);
    }
    w.end_object();
}

/// A participant as events and updates show them.
pub(crate) fn participant_view(w: &mut Writer, v: &ParticipantView) {
    w.begin_object();
    w.str_member("externalId", v.external_id.as_str());
    w.str_member("name", &v.name);
    if let Some(url) = &v.avatar_url {
        w.str_member("avatarUrl", url);
    }
    w.str_member("status", v.status.name());
    w.str_member("type", v.participant_type.name());
    w.key("permissions");
    permissions(w, v.permissions);
    w.end_object();
}

/// `{"error_code":…,"error_reason":…,"error_description":…}`.
pub(crate) fn error_body(w: &mut Writer, e: &ErrorBody) {
    w.begin_object();
    w.key("error_code");
    w.i64(i64::from(e.error_code));
    w.str_member("error_reason", &e.error_reason);
    w.str_member("error_description", &e.error_description);
    w.end_object();
}

fn invitee(w: &mut Writer, i: &WireInvitee) {
    w.begin_object();
    w.str_member("externalId", i.external_id.as_str());
    if let Some(set) = i.permissions {
        w.key("permissions");
        permissions(w, set);
    }
    w.end_object();
}

fn opt_u64(w: &mut Writer, name: &str, value: Option<u64>) {
    if let Some(n) = value {
        w.u64_member(name, n);
    }
}

fn opt_str(w: &mut Writer, name: &str, value: Option<&str>) {
    if let Some(s) = value {
        w.str_member(name, s);
    }
}

/// A request as wire bytes: `{"v":1,"id":…,"type":…,…}`.
pub(crate) fn request(req: &Request) -> Vec<u8> {
    let mut w = Writer::new();
    w.begin_object();
    w.u64_member("v", PROTOCOL_VERSION);
    w.str_member("id", req.id.as_str());
    w.str_member("type", req.op.type_name());
    match &req.op {
        Op::Create {
            alias,
            protected,
            audio_only,
            participant_limit,
            empty_ttl_secs,
            token_ttl_secs,
        } => {
            w.str_member("alias", alias);
            w.key("protected");
            w.bool(*protected);
            w.key("audioOnly");
            w.bool(*audio_only);
            opt_u64(&mut w, "participantLimit", participant_limit.map(u64::from));
            opt_u64(&mut w, "emptyTtlSecs", *empty_ttl_secs);
            opt_u64(&mut w, "tokenTtlSecs", *token_ttl_secs);
        }
        Op::Fetch {
            conference_id,
            alias,
        } => {
            opt_str(&mut w, "conferenceId", conference_id.as_deref());
            opt_str(&mut w, "alias", alias.as_deref());
        }
        Op::Join {
            conference_id,
            token,
        }
        | Op::Listen {
            conference_id,
            token,
        } => {
            w.str_member("conferenceId", conference_id);
            opt_str(&mut w, "token", token.as_deref());
        }
        Op::MediaState {
            conference_id,
            state,
        } => {
            w.str_member("conferenceId", conference_id);
            w.str_member("state", state.name());
        }
        Op::Leave { conference_id }
        | Op::Decline { conference_id }
        | Op::Terminate { conference_id } => w.str_member("conferenceId", conference_id),
        Op::Invite {
            conference_id,
            invitees,
        } => {
            w.str_member("conferenceId", conference_id);
            w.key("invitees");
            w.begin_array();
            for i in invitees {
                invitee(&mut w, i);
            }
            w.end_array();
        }
        Op::Kick {
            conference_id,
            external_id,
        } => {
            w.str_member("conferenceId", conference_id);
            w.str_member("externalId", external_id.as_str());
        }
        Op::UpdatePermissions {
            conference_id,
            external_id,
            permissions: set,
        } => {
            w.str_member("conferenceId", conference_id);
            w.str_member("externalId", external_id.as_str());
            w.key("permissions");
            permissions(&mut w, *set);
        }
        Op::KeepAlive {} => {}
        Op::Resync {
            last_sequence,
            snapshot,
        } => {
            w.u64_member("lastSequence", *last_sequence);
            if *snapshot {
                w.key("snapshot");
                w.bool(true);
            }
        }
    }
    w.end_object();
    w.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::ExternalId;
    use crate::lifecycle::{ParticipantStatus, ParticipantType};
    use crate::permissions::Permission;
    use crate::wire::message::{MediaState, RequestId};
    use serde_json::Value;

    fn eid(s: &str) -> ExternalId {
        ExternalId::new(s).unwrap()
    }

    fn ops() -> Vec<Op> {
        let set = PermissionSet::EMPTY
            .with(Permission::Invite)
            .with(Permission::Kick);
        let conf = "25649f3b-ebf1-49e9-b982-2d78d2964d37".to_owned();
        vec![
            Op::Create {
                alias: "stand\"up\n".into(),
                protected: true,
                audio_only: false,
                participant_limit: Some(8),
                empty_ttl_secs: None,
                token_ttl_secs: Some(600),
            },
            Op::Create {
                alias: "plain".into(),
                protected: false,
                audio_only: true,
                participant_limit: None,
                empty_ttl_secs: Some(0),
                token_ttl_secs: None,
            },
            Op::Fetch {
                conference_id: Some(conf.clone()),
                alias: None,
            },
            Op::Fetch {
                conference_id: None,
                alias: Some("x".into()),
            },
            Op::Join {
                conference_id: conf.clone(),
                token: Some("t.o.k".into()),
            },
            Op::Listen {
                conference_id: conf.clone(),
                token: None,
            },
            Op::MediaState {
                conference_id: conf.clone(),
                state: MediaState::Recovered,
            },
            Op::Leave {
                conference_id: conf.clone(),
            },
            Op::Decline {
                conference_id: conf.clone(),
            },
            Op::Invite {
                conference_id: conf.clone(),
                invitees: vec![
                    WireInvitee {
                        external_id: eid("bob"),
                        permissions: None,
                    },
                    WireInvitee {
                        external_id: eid("çarol ☃"),
                        permissions: Some(set),
                    },
                ],
            },
            Op::Invite {
                conference_id: conf.clone(),
                invitees: vec![],
            },
            Op::Kick {
                conference_id: conf.clone(),
                external_id: eid("bob"),
            },
            Op::UpdatePermissions {
                conference_id: conf.clone(),
                external_id: eid("bob"),
                permissions: set,
            },
            Op::UpdatePermissions {
                conference_id: conf.clone(),
                external_id: eid("bob"),
                permissions: PermissionSet::EMPTY,
            },
            Op::Terminate {
                conference_id: conf,
            },
            Op::KeepAlive {},
            Op::Resync {
                last_sequence: 7,
                snapshot: false,
            },
            Op::Resync {
                last_sequence: u64::MAX,
                snapshot: true,
            },
        ]
    }

    #[test]
    fn a_request_is_what_serde_writes_and_the_server_reads_it_back() {
        let mut types = std::collections::BTreeSet::new();
        for (n, op) in ops().into_iter().enumerate() {
            types.insert(op.type_name());
            let req = Request {
                id: RequestId::numbered(n as u64),
                op,
            };
            let ours: Value = serde_json::from_slice(&request(&req)).unwrap();
            let mut serde = serde_json::to_value(&req.op).unwrap();
            let map = serde.as_object_mut().unwrap();
            map.insert("v".into(), Value::from(PROTOCOL_VERSION));
            map.insert("id".into(), Value::from(req.id.as_str()));
            assert_eq!(ours, serde, "{:?}", req.op);
            assert_eq!(Request::parse(&request(&req)), Ok(req.clone()));
        }
        assert_eq!(types.len(), super::super::message::REQUEST_TYPES.len());
    }

    #[test]
    fn domain_values_are_the_bytes_serde_writes() {
        let info = ParticipantInfo::new(eid("a\"b\\c"), "Ann \\ Lee", None).unwrap();
        let with_url = ParticipantInfo::new(eid("b"), "", Some("https://x/é".into())).unwrap();
        for i in [&info, &with_url] {
            let mut w = Writer::new();
            participant_info(&mut w, i);
            assert_eq!(w.into_string(), serde_json::to_string(i).unwrap());
        }
        for (avatar_url, permissions) in [
            (None, PermissionSet::EMPTY),
            (Some("u".to_owned()), PermissionSet::ALL),
        ] {
            let v = ParticipantView {
                external_id: eid("bob"),
                name: "Bob\t".into(),
                avatar_url,
                status: ParticipantStatus::OnAir,
                participant_type: ParticipantType::Listener,
                permissions,
            };
            let mut w = Writer::new();
            participant_view(&mut w, &v);
            assert_eq!(w.into_string(), serde_json::to_string(&v).unwrap());
        }
        for code in [-1, 0, i32::MAX, i32::MIN] {
            let e = ErrorBody {
                error_code: code,
                error_reason: "R".into(),
                error_description: "d\u{0}".into(),
            };
            let mut w = Writer::new();
            error_body(&mut w, &e);
            assert_eq!(w.into_string(), serde_json::to_string(&e).unwrap());
        }
    }
}
