//! The platform's rules, driven by a sequence of SDK operations by several
//! users (`confkit_fuzz::ops::Step`, structured with `arbitrary`).
//!
//! Six users with one session each (bob has a second device), a protected
//! conference owned by alice and an unprotected one owned by bob to begin
//! with; the steps create more, join / listen (with the newest token the
//! user was given, an older one, none, or someone else's), report media
//! states, leave, decline, invite, kick, update permissions, terminate,
//! close and reopen sessions, and move the clock.
//!
//! Two kinds of oracle. A reference model of the rules ([`predict`]) says,
//! from the state just before each step (read from the platform), which
//! steps must succeed and how the others must fail; it decides kick,
//! permission update, terminate, invite of a newcomer, entering without a
//! token or with the user's newest valid one, decline, media reports and
//! leaves (the lifecycle table, written out again in [`lifecycle_model`],
//! which also says the status a report, leave or decline reaches), and the
//! refusals of acting from outside; it leaves re-invitations and entering
//! with other tokens to the second kind. That second kind
//! is what the rules say must hold whatever the rest of the state:
//! - A refused step changes nothing (every conference, session snapshot,
//!   queued events, retained revocations).
//! - A step that succeeds was allowed: acting (invite, kick, permission
//!   update) needs the session connected to the conference as a USER, and
//!   KICK / UPDATE_PERMISSIONS (INVITE in a protected conference), the owner
//!   holding everything; nobody grants what they do not hold without
//!   UPDATE_PERMISSIONS (the default set counts as granted); re-admitting a
//!   KICKED participant needs KICK or INVITE; the owner is never kicked,
//!   invited or given other permissions; nobody changes their own; only the
//!   owner terminates. And it did what it says: a kicked participant is
//!   KICKED, updated permissions are the ones asked, an invitee not in the
//!   conference is RESERVED with the set the rules give.
//! - Entering: a KICKED participant never joins again without a new
//!   invitation; in a protected conference only with a token for that user
//!   granting JOIN, issued after their last leave, decline or kick (the
//!   owner keeps theirs across a leave).
//! - After every step: no participant twice in a conference; the owner holds
//!   every permission; a listener's view has no other listener; the present
//!   count is the number of participants in the conference; every session
//!   connected to a conference is in it.
#![no_main]

use std::collections::HashMap;
use std::sync::Arc;

use confkit::lifecycle::{ParticipantStatus, ParticipantType};
use confkit::platform::{ConferenceOptions, Invitee, PlatformConfig};
use confkit::snapshot::SessionSnapshot;
use confkit::{
    ConferenceId, EventKind, ExternalId, KeyRing, LifecycleEvent, ManualClock, ParticipantInfo,
    Permission, PermissionSet, Platform, PlatformError, SessionId, Validation,
};
use confkit_fuzz::ops::{Kind, Step};
use confkit_fuzz::{eid, oracle, signing_key, START};
use libfuzzer_sys::fuzz_target;

const USERS: [&str; 6] = ["alice", "bob", "carol", "dave", "erin", "frank"];

struct Run {
    p: Platform,
    clock: ManualClock,
    ring: KeyRing,
    /// (user, session): one per user, and bob's second device last.
    sessions: Vec<(ExternalId, SessionId)>,
    confs: Vec<ConferenceId>,
    /// Tokens each user was handed per conference, in order, with the step
    /// they arrived at.
    tokens: HashMap<(ExternalId, ConferenceId), Vec<(String, usize)>>,
    /// The step of each user's last leave, decline or kick per conference.
    ended: HashMap<(ExternalId, ConferenceId), usize>,
    step: usize,
}

#[derive(Debug, PartialEq, Eq)]
struct Seen {
    confs: Vec<String>,
    sessions: Vec<String>,
    retained: confkit::platform::Retained,
}

impl Run {
    fn seen(&self) -> Seen {
        Seen {
            confs: self
                .confs
                .iter()
                .map(|c| format!("{:?} {:?}", self.p.conference(*c), self.p.participants(*c)))
                .collect(),
            sessions: self
                .sessions
                .iter()
                .map(|(_, s)| format!("{:?} {:?}", self.p.snapshot(*s), self.p.pending_events(*s)))
                .collect(),
            retained: self.p.retained(),
        }
    }

    /// Takes every session's events, keeping the tokens they carry.
    fn drain(&mut self) {
        for (user, sid) in &self.sessions {
            let Ok(events) = self.p.drain_events(*sid) else {
                continue;
            };
            for e in events {
                let Some(conf) = e.conference_id else {
                    continue;
                };
                let token = match &*e.kind {
                    EventKind::InvitationReceived { token, .. }
                    | EventKind::PermissionsUpdated { token, .. } => token.clone(),
                    EventKind::TokenRefreshed { token, .. } => Some(token.clone()),
                    _ => None,
                };
                if let Some(t) = token {
                    let list = self.tokens.entry((user.clone(), conf)).or_default();
                    if list.len() < 16 {
                        list.push((t, self.step));
                    }
                }
            }
        }
    }

    fn snapshot(&self, sid: SessionId) -> Option<SessionSnapshot> {
        self.p.snapshot(sid).ok()
    }

    /// The session's connection to a conference: (type, permissions held
    /// when acting: every one for the owner).
    fn acting(
        &self,
        sid: SessionId,
        user: &ExternalId,
        conf: ConferenceId,
    ) -> Option<(ParticipantType, PermissionSet)> {
        let snap = self.snapshot(sid)?;
        let c = snap.conferences.iter().find(|c| c.conference_id == conf)?;
        let held = if &c.owner == user {
            PermissionSet::ALL
        } else {
            c.my_permissions
        };
        Some((c.my_type, held))
    }

    fn participant(
        &self,
        conf: ConferenceId,
        who: &ExternalId,
    ) -> Option<confkit::event::ParticipantView> {
        self.p
            .participants(conf)
            .ok()?
            .into_iter()
            .find(|v| &v.external_id == who)
    }

    fn owner(&self, conf: ConferenceId) -> Option<ExternalId> {
        self.p.conference(conf).ok().map(|c| c.owner)
    }

    fn invariants(&self) {
        for c in &self.confs {
            let Ok(list) = self.p.participants(*c) else {
                continue;
            };
            let mut ids: Vec<&ExternalId> = list.iter().map(|v| &v.external_id).collect();
            ids.sort();
            oracle!(
                ids.windows(2).all(|w| w[0] != w[1]),
                "{c} lists someone twice: {ids:?}"
            );
            let info = self.p.conference(*c).unwrap();
            if let Some(o) = list.iter().find(|v| v.external_id == info.owner) {
                oracle!(
                    o.permissions == PermissionSet::ALL,
                    "the owner holds {:?}",
                    o.permissions
                );
            }
            let present = list.iter().filter(|v| v.status.is_in_conference()).count();
            oracle!(
                info.present_count == present,
                "present_count {} but {present} present",
                info.present_count
            );
            oracle!(info.participant_count == list.len(), "participant_count");
        }
        for (user, sid) in &self.sessions {
            let Some(snap) = self.snapshot(*sid) else {
                continue;
            };
            for c in &snap.conferences {
                oracle!(
                    c.my_status.is_in_conference(),
                    "{user} is connected to {} as {:?}",
                    c.conference_id,
                    c.my_status
                );
                if c.my_type == ParticipantType::Listener {
                    for p in &c.participants {
                        oracle!(
                            p.view.external_id == *user
                                || p.view.participant_type != ParticipantType::Listener,
                            "listener {user} sees listener {} in {}",
                            p.view.external_id,
                            c.conference_id
                        );
                    }
                }
            }
        }
    }
}

fn perms_of(bits: u16) -> PermissionSet {
    PermissionSet::from_bits(u32::from(bits) & PermissionSet::ALL.bits()).unwrap()
}

/// What the rules say a step must do: succeed, or fail in one named way.
/// `None` where the model does not decide (see [`predict`]).
enum Expect {
    Ok,
    Err(&'static str, fn(&PlatformError) -> bool),
}

fn gone(e: &PlatformError) -> bool {
    matches!(
        e,
        PlatformError::ConferenceNotFound(_) | PlatformError::ConferenceDestroyed(_)
    )
}

/// What the model reads of the state before a step.
struct Before<'a> {
    user: &'a ExternalId,
    target: &'a ExternalId,
    live: bool,
    protected: bool,
    is_owner: bool,
    target_is_owner: bool,
    /// The session's connection to the conference: its type and what it
    /// holds when acting (everything for the owner).
    acting: Option<(ParticipantType, PermissionSet)>,
    me: Option<ParticipantStatus>,
    target_status: Option<ParticipantStatus>,
}

/// The reference model of the rules (DESIGN "Permissions", "Invitations",
/// "Participant lifecycle"), applied to the state before the step: which
/// steps must succeed and how the others must fail, in the order the rules
/// are checked (session, conference, the actor's connection and type, the
/// permission the step needs, then the target). It decides kick, permission
/// update and terminate completely; invite when the target is new to the
/// conference; join and listen whenever no token is involved, and with the
/// user's newest token (given after their last leave, decline or kick, and
/// valid now); decline, media reports and leaves, by the lifecycle table
/// ([`lifecycle_model`]). Everything else (re-invitations, entering with
/// other tokens, aliases) is left to the one-way checks.
fn predict(
    kind: Kind,
    b: &Before<'_>,
    invite_perms: Option<PermissionSet>,
    token: Option<TokenFacts>,
    event: LifecycleEvent,
) -> Option<Expect> {
    use PlatformError as P;
    let acting = |needs: Option<Permission>| -> Result<PermissionSet, Expect> {
        if !b.live {
            return Err(Expect::Err("conference gone", gone));
        }
        let Some((kind, held)) = b.acting else {
            return Err(Expect::Err("not connected", |e| {
                matches!(e, P::NotInConference(_))
            }));
        };
        if kind == ParticipantType::Listener {
            return Err(Expect::Err("a listener acts", |e| {
                matches!(e, P::ListenerCannotAct(_))
            }));
        }
        if let Some(n) = needs {
            if !held.contains(n) {
                return Err(Expect::Err("permission missing", |e| {
                    matches!(e, P::MissingPermission { .. })
                }));
            }
        }
        Ok(held)
    };
    Some(match kind {
        Kind::Kick => {
            if let Err(x) = acting(Some(Permission::Kick)) {
                return Some(x);
            }
            if b.target_is_owner {
                Expect::Err("kick the owner", |e| matches!(e, P::OwnerNotKickable))
            } else {
                match b.target_status {
                    None => Expect::Err("kick a stranger", |e| {
                        matches!(e, P::ParticipantNotFound(_))
                    }),
                    Some(ParticipantStatus::Kicked) => {
                        Expect::Err("kick the kicked", |e| matches!(e, P::Transition(_)))
                    }
                    Some(_) => Expect::Ok,
                }
            }
        }
        Kind::Update => {
            if let Err(x) = acting(Some(Permission::UpdatePermissions)) {
                return Some(x);
            }
            if b.user == b.target && !b.is_owner {
                Expect::Err("update one's own", |e| matches!(e, P::OwnPermissions(_)))
            } else if b.target_is_owner {
                Expect::Err("update the owner", |e| {
                    matches!(e, P::OwnerPermissionsFixed)
                })
            } else if b.target_status.is_none() {
                Expect::Err("update a stranger", |e| {
                    matches!(e, P::ParticipantNotFound(_))
                })
            } else {
                Expect::Ok
            }
        }
        Kind::Terminate => {
            if !b.live {
                Expect::Err("conference gone", gone)
            } else if !b.is_owner {
                Expect::Err("terminate, not the owner", |e| matches!(e, P::OwnerOnly(_)))
            } else {
                Expect::Ok
            }
        }
        Kind::Invite => {
            let needs = b.protected.then_some(Permission::Invite);
            let held = match acting(needs) {
                Ok(h) => h,
                Err(x) => return Some(x),
            };
            let wanted = invite_perms.unwrap_or(PermissionSet::DEFAULT_INVITEE);
            if !held.contains(Permission::UpdatePermissions) && !wanted.is_subset(held) {
                Expect::Err("escalation", |e| matches!(e, P::Escalation { .. }))
            } else if b.target_status.is_none() {
                Expect::Ok
            } else {
                return None;
            }
        }
        Kind::Join | Kind::Listen => {
            if !b.live {
                return Some(Expect::Err("conference gone", gone));
            }
            match token {
                None if b.protected => {
                    Expect::Err("no token", |e| matches!(e, P::TokenRequired(_)))
                }
                None => match b.me {
                    Some(ParticipantStatus::Kicked) => {
                        Expect::Err("enter when kicked", |e| matches!(e, P::Transition(_)))
                    }
                    _ => Expect::Ok,
                },
                Some(t)
                    if t.newest_valid_own
                        && b.me.is_some_and(|s| s != ParticipantStatus::Kicked) =>
                {
                    Expect::Ok
                }
                Some(_) => return None,
            }
        }
        Kind::Decline => {
            if !b.live {
                Expect::Err("conference gone", gone)
            } else {
                match b.me {
                    None => Expect::Err("decline, not invited", |e| {
                        matches!(e, P::ParticipantNotFound(_))
                    }),
                    Some(from) => match lifecycle_model(from, LifecycleEvent::Decline) {
                        Some(_) => Expect::Ok,
                        None => {
                            Expect::Err("decline, not RESERVED", |e| matches!(e, P::Transition(_)))
                        }
                    },
                }
            }
        }
        Kind::Report | Kind::Leave => {
            if !b.live {
                Expect::Err("conference gone", gone)
            } else if b.acting.is_none() {
                Expect::Err("not connected", |e| matches!(e, P::NotInConference(_)))
            } else {
                let from = b.me?;
                match lifecycle_model(from, event) {
                    Some(_) => Expect::Ok,
                    None => Expect::Err("a move the lifecycle table lacks", |e| {
                        matches!(e, P::Transition(_))
                    }),
                }
            }
        }
        Kind::Create | Kind::Reopen | Kind::Advance => return None,
    })
}

/// The participant lifecycle table (DESIGN "Participant lifecycle"), written
/// out again here for the moves a session makes itself: where `event` takes
/// a participant in `from`, or `None` where the table has no such move.
fn lifecycle_model(from: ParticipantStatus, event: LifecycleEvent) -> Option<ParticipantStatus> {
    use LifecycleEvent as E;
    use ParticipantStatus as S;
    match (from, event) {
        (S::Connecting | S::Inactive, E::Connected) => Some(S::OnAir),
        (S::OnAir, E::MediaTrouble) => Some(S::Warning),
        (S::Warning, E::Recovered) => Some(S::OnAir),
        (S::Connecting | S::OnAir | S::Warning | S::Inactive, E::Failure) => Some(S::Error),
        (S::Connecting | S::OnAir | S::Warning | S::Inactive | S::Error, E::Leave) => Some(S::Left),
        (S::Reserved, E::Decline) => Some(S::Decline),
        _ => None,
    }
}

/// The media report a step makes (`token % 4`).
fn report_event(step: &Step) -> LifecycleEvent {
    [
        LifecycleEvent::Connected,
        LifecycleEvent::MediaTrouble,
        LifecycleEvent::Recovered,
        LifecycleEvent::Failure,
    ][usize::from(step.token) % 4]
}

/// What the model knows of a presented token.
#[derive(Clone, Copy)]
struct TokenFacts {
    /// The newest token the user was handed for the conference (the record
    /// is complete), given after their last leave, decline or kick (or they
    /// own the conference), for them and this conference, with JOIN, and
    /// valid now.
    newest_valid_own: bool,
}

fuzz_target!(|steps: Vec<Step>| {
    let clock = ManualClock::new(START);
    let config = PlatformConfig {
        session_idle_secs: 0,
        ..PlatformConfig::default()
    };
    let p = Platform::with_config(signing_key(), Arc::new(clock.clone()), config);
    let mut sessions: Vec<(ExternalId, SessionId)> = USERS
        .iter()
        .map(|u| {
            let id = eid(u);
            let sid =
                p.open_session(ParticipantInfo::new(id.clone(), u.to_uppercase(), None).unwrap());
            (id, sid)
        })
        .collect();
    let bob2 = p.open_session(ParticipantInfo::new(eid("bob"), "Bob 2", None).unwrap());
    sessions.push((eid("bob"), bob2));
    let ring = KeyRing::from_jwks(&p.jwks()).unwrap();
    let mut run = Run {
        p,
        clock,
        ring,
        sessions,
        confs: Vec::new(),
        tokens: HashMap::new(),
        ended: HashMap::new(),
        step: 0,
    };
    let protected = ConferenceOptions {
        protected: true,
        ..ConferenceOptions::default()
    };
    for (owner, options) in [(0, protected), (1, ConferenceOptions::default())] {
        let (user, sid) = run.sessions[owner].clone();
        let made = run.p.create_conference(sid, USERS[owner], options).unwrap();
        run.confs.push(made.conference.id);
        if let Some(t) = made.owner_token {
            run.tokens
                .entry((user, made.conference.id))
                .or_default()
                .push((t, 0));
        }
    }
    run.drain();

    for step in steps.iter().take(40) {
        run.step += 1;
        let n = run.sessions.len();
        let (user, sid) = run.sessions[usize::from(step.actor) % n].clone();
        let conf = run.confs[usize::from(step.conf) % run.confs.len()];
        let target = eid(USERS[usize::from(step.target) % USERS.len()]);
        let asked = perms_of(step.perms);
        let _ = run.p.expire_conferences();
        let before = run.seen();
        let acting = run.acting(sid, &user, conf);
        let owner = run.owner(conf);
        let is_owner = owner.as_ref() == Some(&user);
        let protected_conf = run.p.conference(conf).is_ok_and(|c| c.is_protected);
        let target_before = run.participant(conf, &target);
        let me_before = run.participant(conf, &user);
        let what = format!(
            "step {}: {user} ({sid}) {:?} in {conf} on {target}",
            run.step, step.kind
        );
        // The token a join or listen presents.
        let token = match step.token % 5 {
            0 => None,
            1 => run
                .tokens
                .get(&(target.clone(), conf))
                .and_then(|l| l.last())
                .map(|t| t.0.clone()),
            2 => run
                .tokens
                .get(&(user.clone(), conf))
                .and_then(|l| l.first())
                .map(|t| t.0.clone()),
            _ => run
                .tokens
                .get(&(user.clone(), conf))
                .and_then(|l| l.last())
                .map(|t| t.0.clone()),
        };
        let invite_perms = (step.token % 2 == 1).then_some(asked);
        let facts = token.as_deref().map(|t| {
            let list = run.tokens.get(&(user.clone(), conf));
            let newest = list.is_some_and(|l| l.len() < 16 && l.last().is_some_and(|x| x.0 == t));
            let given = list.and_then(|l| l.last()).map_or(0, |x| x.1);
            let after_end = is_owner
                || run
                    .ended
                    .get(&(user.clone(), conf))
                    .is_none_or(|ended| given > *ended);
            let valid = run
                .ring
                .verify(t, &Validation::new(run.p.now(), conf))
                .is_ok_and(|c| c.subject == user && c.allows(Permission::Join));
            TokenFacts {
                newest_valid_own: newest && after_end && valid,
            }
        });
        let expect = predict(
            step.kind,
            &Before {
                user: &user,
                target: &target,
                live: run.p.conference(conf).is_ok(),
                protected: protected_conf,
                is_owner,
                target_is_owner: owner.as_ref() == Some(&target),
                acting,
                me: me_before.as_ref().map(|m| m.status),
                target_status: target_before.as_ref().map(|t| t.status),
            },
            invite_perms,
            facts,
            match step.kind {
                Kind::Leave => LifecycleEvent::Leave,
                _ => report_event(&step),
            },
        );
        let result: Result<(), confkit::PlatformError> = match step.kind {
            Kind::Join | Kind::Listen => {
                let token = token.clone();
                let r = if step.kind == Kind::Join {
                    run.p.join(sid, conf, token.as_deref())
                } else {
                    run.p.listen(sid, conf, token.as_deref())
                };
                if r.is_ok() {
                    oracle!(
                        me_before
                            .as_ref()
                            .is_none_or(|m| m.status != ParticipantStatus::Kicked),
                        "{what}: a KICKED participant entered without a new invitation"
                    );
                    if protected_conf {
                        let t = token.as_deref();
                        oracle!(
                            t.is_some(),
                            "{what}: entered a protected conference without a token"
                        );
                        let claims = run.ring.verify(
                            t.unwrap(),
                            &Validation::any_conference(run.p.now()).with_leeway(u64::MAX),
                        );
                        let claims = claims.unwrap_or_else(|e| panic!("oracle violated: {what}: entered with a token that does not verify: {e}"));
                        oracle!(
                            claims.subject == user,
                            "{what}: entered with {}'s token",
                            claims.subject
                        );
                        oracle!(
                            claims.conference == conf,
                            "{what}: entered with a token for {}",
                            claims.conference
                        );
                        oracle!(
                            claims.allows(Permission::Join),
                            "{what}: entered with a token without JOIN"
                        );
                        let given = run
                            .tokens
                            .get(&(user.clone(), conf))
                            .and_then(|l| l.iter().find(|(x, _)| Some(x.as_str()) == t))
                            .map(|x| x.1);
                        if let (Some(given), Some(ended)) =
                            (given, run.ended.get(&(user.clone(), conf)))
                        {
                            oracle!(
                                is_owner || given > *ended,
                                "{what}: entered with a token given at step {given}, before leaving / declining / being kicked at step {ended}"
                            );
                        }
                    }
                }
                r.map(|_| ())
            }
            Kind::Report => {
                let ev = report_event(&step);
                let r = run.p.report(sid, conf, ev);
                if let Ok(to) = &r {
                    oracle!(acting.is_some(), "{what}: reported without being connected");
                    let want = me_before
                        .as_ref()
                        .and_then(|m| lifecycle_model(m.status, ev));
                    oracle!(
                        want == Some(*to),
                        "{what}: {ev} moved {:?} to {to:?}, the lifecycle table says {want:?}",
                        me_before.as_ref().map(|m| m.status)
                    );
                }
                r.map(|_| ())
            }
            Kind::Leave | Kind::Decline => {
                let r = if step.kind == Kind::Leave {
                    run.p.leave(sid, conf)
                } else {
                    run.p.decline(sid, conf)
                };
                if r.is_ok() && !is_owner {
                    run.ended.insert((user.clone(), conf), run.step);
                }
                if r.is_ok() {
                    let ev = if step.kind == Kind::Leave {
                        LifecycleEvent::Leave
                    } else {
                        LifecycleEvent::Decline
                    };
                    let from = me_before.as_ref().map(|m| m.status);
                    let want = from.and_then(|f| lifecycle_model(f, ev));
                    let got = run.participant(conf, &user).map(|m| m.status);
                    oracle!(
                        got == want,
                        "{what}: {ev} moved {from:?} to {got:?}, the lifecycle table says {want:?}"
                    );
                }
                r
            }
            Kind::Invite => {
                let permissions = invite_perms;
                let r = run
                    .p
                    .invite(sid, conf, &[Invitee::new(target.clone(), permissions)])
                    .map(|_| ());
                if r.is_ok() {
                    let (kind, held) = acting.unwrap_or_else(|| {
                        panic!("oracle violated: {what}: invited without being connected")
                    });
                    oracle!(kind == ParticipantType::User, "{what}: a listener invited");
                    oracle!(
                        !protected_conf || held.contains(Permission::Invite),
                        "{what}: invited without INVITE"
                    );
                    let wanted = permissions.unwrap_or(PermissionSet::DEFAULT_INVITEE);
                    oracle!(
                        held.contains(Permission::UpdatePermissions) || wanted.is_subset(held),
                        "{what}: granted {wanted:?} holding {held:?}"
                    );
                    let after = run
                        .participant(conf, &target)
                        .expect("an invitee is a participant");
                    match &target_before {
                        Some(b) if b.status.is_in_conference() => {
                            oracle!(
                                after.status == b.status && after.permissions == b.permissions,
                                "{what}: changed someone in the conference"
                            );
                        }
                        Some(b) => {
                            oracle!(owner.as_ref() != Some(&target), "{what}: invited the owner");
                            oracle!(
                                b.status != ParticipantStatus::Kicked
                                    || held.contains(Permission::Kick)
                                    || held.contains(Permission::Invite),
                                "{what}: re-admitted a KICKED participant without KICK or INVITE"
                            );
                            let expect = match permissions {
                                Some(a) if held.contains(Permission::UpdatePermissions) => a,
                                _ => b.permissions,
                            };
                            oracle!(
                                after.permissions == expect,
                                "{what}: re-invited with {:?}, expected {expect:?}",
                                after.permissions
                            );
                            oracle!(
                                after.status == ParticipantStatus::Reserved,
                                "{what}: re-invited as {:?}",
                                after.status
                            );
                        }
                        None => {
                            oracle!(
                                after.permissions == wanted,
                                "{what}: invited with {:?}, asked {wanted:?}",
                                after.permissions
                            );
                            oracle!(
                                after.status == ParticipantStatus::Reserved,
                                "{what}: invited as {:?}",
                                after.status
                            );
                        }
                    }
                }
                r
            }
            Kind::Kick => {
                let r = run.p.kick(sid, conf, &target);
                if r.is_ok() {
                    let (kind, held) = acting.unwrap_or_else(|| {
                        panic!("oracle violated: {what}: kicked without being connected")
                    });
                    oracle!(kind == ParticipantType::User, "{what}: a listener kicked");
                    oracle!(
                        held.contains(Permission::Kick),
                        "{what}: kicked without KICK"
                    );
                    oracle!(owner.as_ref() != Some(&target), "{what}: kicked the owner");
                    oracle!(target_before.is_some(), "{what}: kicked a stranger");
                    let after = run.participant(conf, &target).unwrap();
                    oracle!(
                        after.status == ParticipantStatus::Kicked,
                        "{what}: the kicked one is {:?}",
                        after.status
                    );
                    run.ended.insert((target.clone(), conf), run.step);
                }
                r
            }
            Kind::Update => {
                let r = run.p.update_permissions(sid, conf, &target, asked);
                if r.is_ok() {
                    let (kind, held) = acting.unwrap_or_else(|| {
                        panic!("oracle violated: {what}: updated without being connected")
                    });
                    oracle!(
                        kind == ParticipantType::User,
                        "{what}: a listener updated permissions"
                    );
                    oracle!(
                        held.contains(Permission::UpdatePermissions),
                        "{what}: updated without UPDATE_PERMISSIONS"
                    );
                    oracle!(
                        owner.as_ref() != Some(&target),
                        "{what}: changed the owner's permissions"
                    );
                    oracle!(target != user, "{what}: changed their own permissions");
                    let after = run
                        .participant(conf, &target)
                        .expect("an updated participant");
                    oracle!(
                        after.permissions == asked,
                        "{what}: now {:?}",
                        after.permissions
                    );
                }
                r
            }
            Kind::Terminate => {
                let r = run.p.terminate(sid, conf);
                if r.is_ok() {
                    oracle!(
                        is_owner,
                        "{what}: terminated by someone else than the owner"
                    );
                }
                r
            }
            Kind::Create => {
                let options = ConferenceOptions {
                    protected: step.token % 2 == 0,
                    ..ConferenceOptions::default()
                };
                let alias = format!("c{}", step.target % 4);
                let r = run.p.create_conference(sid, &alias, options);
                if let Ok(made) = &r {
                    let id = made.conference.id;
                    if !run.confs.contains(&id) && run.confs.len() < 6 {
                        run.confs.push(id);
                    }
                    if let Some(t) = &made.owner_token {
                        run.tokens
                            .entry((user.clone(), id))
                            .or_default()
                            .push((t.clone(), run.step));
                    }
                }
                r.map(|_| ())
            }
            Kind::Reopen => {
                // Closing leaves every conference the session is connected
                // to: read which before it closes.
                let connected: Vec<ConferenceId> = run
                    .confs
                    .iter()
                    .copied()
                    .filter(|c| run.acting(sid, &user, *c).is_some())
                    .collect();
                let r = run.p.close_session(sid);
                if r.is_ok() {
                    for c in connected {
                        run.ended.insert((user.clone(), c), run.step);
                    }
                }
                let i = usize::from(step.actor) % n;
                let name = if i == n - 1 {
                    "Bob 2".to_owned()
                } else {
                    user.as_str().to_uppercase()
                };
                run.sessions[i].1 = run
                    .p
                    .open_session(ParticipantInfo::new(user.clone(), name, None).unwrap());
                run.drain();
                run.invariants();
                continue;
            }
            Kind::Advance => {
                run.clock.advance(u64::from(step.perms) * 4);
                let _ = run.p.expire_conferences();
                run.drain();
                run.invariants();
                continue;
            }
        };
        if std::env::var_os("CONFKIT_FUZZ_DEBUG").is_some() {
            let model = match &expect {
                Some(Expect::Ok) => "ok",
                Some(Expect::Err(why, _)) => why,
                None => "-",
            };
            eprintln!("{what}: {result:?} [model: {model}]");
        }
        match (&expect, &result) {
            (Some(Expect::Ok), Err(e)) => {
                panic!("oracle violated: {what}: the rules allow it, but it was refused: {e:?}")
            }
            (Some(Expect::Err(why, _)), Ok(())) => {
                panic!("oracle violated: {what}: the rules refuse it ({why}), but it succeeded")
            }
            (Some(Expect::Err(why, is)), Err(e)) => {
                oracle!(is(e), "{what}: refused as {e:?}, the rules say: {why}")
            }
            _ => {}
        }
        if let Err(e) = &result {
            let after = run.seen();
            oracle!(
                before == after,
                "{what}: refused ({e}) but the platform changed:\n{before:#?}\n{after:#?}"
            );
        }
        run.drain();
        run.invariants();
    }
});
