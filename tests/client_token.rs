//! The token a client holds for a conference is reachable: a user whose
//! permissions were updated before they joined (their invitation token is
//! revoked) joins with the one the update brought.

mod common;

use std::sync::Arc;

use common::*;
use confkit::client::{Client, Update};
use confkit::wire::message::Op;
use confkit::{KeyRing, Permission, PermissionSet};

#[test]
fn a_user_updated_before_joining_joins_with_the_updates_token() {
    let (p, clock) = platform();
    let (alice, conf) = protected_room(&p);
    let bob_sid = open(&p, "bob", "Bob");
    let mut bob = Client::new(
        eid("bob"),
        KeyRing::from_jwks(&p.jwks()).unwrap(),
        Arc::new(clock.clone()),
    );
    let pump = |bob: &mut Client| {
        for m in p.drain_messages(bob_sid).unwrap() {
            bob.receive(&m).unwrap();
        }
    };
    p.invite(alice, conf, &[invitee("bob", None)]).unwrap();
    pump(&mut bob);
    let invitation_token = bob.inbox()[0].token.clone().unwrap();
    assert_eq!(bob.conference(conf).unwrap().token(), None);
    // Alice widens Bob's set before he joins: a new token, the old one revoked.
    p.update_permissions(
        alice,
        conf,
        &eid("bob"),
        PermissionSet::DEFAULT_INVITEE.with(Permission::Invite),
    )
    .unwrap();
    pump(&mut bob);
    let token = bob
        .conference(conf)
        .unwrap()
        .token()
        .expect("the update's token")
        .to_owned();
    assert_ne!(token, invitation_token);
    let join = |bob: &mut Client, token: &str| {
        let out = bob.request(Op::Join {
            conference_id: conf.to_string(),
            token: Some(token.to_owned()),
        });
        bob.receive(&p.handle_message(bob_sid, &out.bytes)).unwrap()
    };
    let refused = join(&mut bob, &invitation_token);
    assert!(
        refused
            .iter()
            .any(|u| matches!(u, Update::RequestFailed { .. })),
        "{refused:?}"
    );
    let joined = join(&mut bob, &token);
    assert!(
        joined
            .iter()
            .any(|u| matches!(u, Update::RequestSucceeded { .. })),
        "{joined:?}"
    );
    assert!(bob.may(conf, Permission::Invite));
}
