//! A guided tour of confkit, run in one process on a manual clock.
//!
//! ```text
//! cargo run --example walkthrough
//! ```
//!
//! Part 1 is the SDK path (sessions, a protected conference, invitations, joins,
//! a refused escalation, a kick). Part 2 is the app-server path through the
//! REST-style handler (create with participants, tokens for users without a
//! session, the JWK set, offline verification on a device, the empty-conference
//! time to live). Part 3 is the device half: phones that hold a `Client`
//! replica and see nothing but the bytes of the wire protocol (a late joiner
//! sees who is there, a lost message is noticed and repaired, a silent phone
//! leaves instead of haunting the roster).
//!
//! The story is deterministic: the clock is manual and the signing key comes from
//! a fixed seed. Conference IDs and token ids (`jti`) are random UUIDs, so those
//! differ from run to run. Every expectation is asserted, so the example is also
//! a smoke test: it exits non-zero if any step does not go as described.

use std::collections::HashMap;
use std::error::Error;
use std::sync::Arc;

use confkit::client::{Client, Update};
use confkit::event::{EndReason, EventKind, ParticipantView};
use confkit::platform::rest::RestResponse;
use confkit::platform::{ConferenceOptions, Delivery, Invitee, PlatformConfig};
use confkit::wire::message::{MediaState, Op, WireInvitee};
use confkit::{
    ConferenceId, ErrorCode, Event, ExternalId, KeyId, KeyRing, LifecycleEvent, ManualClock,
    ParticipantInfo, ParticipantStatus, Permission, PermissionSet, Platform, PlatformError,
    SessionId, SigningKey, TokenError, Validation,
};
use serde_json::{json, Value};

type Res<T = ()> = Result<T, Box<dyn Error>>;

/// 2023-11-14 22:13:20 UTC, a fixed starting time.
const START: u64 = 1_700_000_000;

fn main() -> Res {
    let clock = ManualClock::new(START);
    let key = SigningKey::from_seed(&[42; 32], KeyId::new("demo-key-1")?);
    let platform = Platform::with_config(
        key,
        Arc::new(clock.clone()),
        PlatformConfig {
            issuer: "confkit-demo".into(),
            ..PlatformConfig::default()
        },
    );
    let mut story = Story {
        platform,
        clock,
        sessions: HashMap::new(),
        aliases: HashMap::new(),
        events_seen: 0,
        shown_json: false,
    };
    sdk_path(&mut story)?;
    rest_path(&mut story)?;
    device_path()?;
    println!();
    println!(
        "walkthrough finished: every step went as expected ({} events received).",
        story.events_seen
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Part 1: the SDK path
// ---------------------------------------------------------------------------

fn sdk_path(s: &mut Story) -> Res {
    heading("Part 1 — SDK path: a protected conference run by Alice");

    step("Alice opens a session");
    let alice = s.open("alice", "Alice", Some("https://example.com/alice.png"))?;

    step("Alice creates the protected conference \"team-sync\"");
    let options = ConferenceOptions {
        protected: true,
        ..ConferenceOptions::default()
    };
    let created = s.platform.create_conference(alice, "team-sync", options)?;
    assert!(created.is_new, "a fresh alias makes a new conference");
    let conf = created.conference.id;
    s.aliases.insert(conf, created.conference.alias.clone());
    let owner_token = created
        .owner_token
        .ok_or("a protected conference gives its owner a token")?;
    say(&format!(
        "conference {conf} (protected: {}), owner token {}",
        created.conference.is_protected,
        short(&owner_token)
    ));

    step("Creating \"Team-Sync\" again returns the same conference, marked not new");
    let again = s.platform.create_conference(alice, "Team-Sync", options)?;
    assert!(!again.is_new);
    assert_eq!(again.conference.id, conf);
    let fresh = again
        .owner_token
        .ok_or("its owner gets a fresh owner token")?;
    say(&format!(
        "same ID, nobody notified; Alice (the owner) gets a fresh owner token {}",
        short(&fresh)
    ));

    step("Alice joins with her owner token; her host reports the media connected");
    let joined = s.platform.join(alice, conf, Some(&owner_token))?;
    assert_eq!(joined.status, ParticipantStatus::Connecting);
    assert_eq!(joined.permissions, PermissionSet::ALL);
    say(&format!(
        "join → {} with permissions {}",
        joined.status, joined.permissions
    ));
    let status = s.platform.report(alice, conf, LifecycleEvent::Connected)?;
    assert_eq!(status, ParticipantStatus::OnAir);
    say(&format!("connected → {status}"));
    s.show_events(&[alice])?;

    step("Bob and Carol open sessions");
    let bob = s.open("bob", "Bob", None)?;
    let carol = s.open("carol", "Carol", None)?;

    step("Alice invites Bob (default permissions) and Carol (JOIN, SEND_AUDIO)");
    let carol_perms = PermissionSet::of(&[Permission::Join, Permission::SendAudio]);
    let results = s.platform.invite(
        alice,
        conf,
        &[
            Invitee::new(ExternalId::new("bob")?, None),
            Invitee::new(ExternalId::new("carol")?, Some(carol_perms)),
        ],
    )?;
    for r in &results {
        say(&format!(
            "{}: {} — permissions {}",
            r.external_id,
            delivery(r.delivery),
            r.permissions
        ));
        assert_eq!(r.delivery, Delivery::Delivered(1));
    }
    assert_eq!(results[0].permissions, PermissionSet::DEFAULT_INVITEE);
    assert_eq!(results[1].permissions, carol_perms);
    let events = s.show_events(&[alice, bob, carol])?;
    let bob_token = invitation_token(&events[1]).ok_or("Bob's invitation carries a token")?;
    assert!(invitation_token(&events[2]).is_some());
    s.show_json_once(&events[1][0]);

    step("Bob joins with the token from his invitation");
    let joined = s.platform.join(bob, conf, Some(&bob_token))?;
    assert_eq!(joined.status, ParticipantStatus::Connecting);
    say(&format!("join → {}", joined.status));
    let status = s.platform.report(bob, conf, LifecycleEvent::Connected)?;
    assert_eq!(status, ParticipantStatus::OnAir);
    say(&format!("connected → {status}"));
    s.show_events(&[alice, bob])?;

    step("Carol declines");
    s.platform.decline(carol, conf)?;
    s.show_events(&[alice, bob, carol])?;

    step("Alice invites Dave (no open session) and Bob again (already on air)");
    let results = s.platform.invite(
        alice,
        conf,
        &[
            Invitee::new(ExternalId::new("dave")?, None),
            Invitee::new(ExternalId::new("bob")?, None),
        ],
    )?;
    for r in &results {
        // The result never carries the invitee's token: only the invitee
        // (in the invitation) and the app server (over REST) see it.
        say(&format!("{}: {}", r.external_id, delivery(r.delivery)));
    }
    assert_eq!(results[0].delivery, Delivery::NoOpenSession);
    assert_eq!(results[1].delivery, Delivery::AlreadyInConference);
    s.show_events(&[alice, bob])?;

    step("Bob (no INVITE permission) tries to invite Frank");
    let frank = Invitee::new(ExternalId::new("frank")?, None);
    let r = s.platform.invite(bob, conf, std::slice::from_ref(&frank));
    let e = refused(r, ErrorCode::NotAllowed)?;
    assert!(matches!(
        e,
        PlatformError::MissingPermission {
            permission: Permission::Invite,
            ..
        }
    ));

    step("Alice gives Bob INVITE on top of the default set");
    let bob_perms = PermissionSet::DEFAULT_INVITEE.with(Permission::Invite);
    s.platform
        .update_permissions(alice, conf, &ExternalId::new("bob")?, bob_perms)?;
    let events = s.show_events(&[alice, bob])?;
    let pushed = events[1].iter().find_map(|e| match &*e.kind {
        EventKind::PermissionsUpdated { token, .. } => token.clone(),
        _ => None,
    });
    let new_token = pushed.ok_or("a protected conference issues a new token")?;
    say(&format!(
        "Bob's new token {} (only Bob sees it)",
        short(&new_token)
    ));

    step("Bob tries to invite Frank with KICK, which he does not hold (escalation)");
    let greedy = Invitee::new(
        ExternalId::new("frank")?,
        Some(PermissionSet::of(&[Permission::Join, Permission::Kick])),
    );
    let r = s.platform.invite(bob, conf, &[greedy]);
    let e = refused(r, ErrorCode::NotAllowed)?;
    assert!(matches!(e, PlatformError::Escalation { .. }));
    assert_eq!(
        s.platform.pending_events(alice)?,
        0,
        "a refusal sends nothing"
    );

    step("Alice kicks Bob");
    s.clock.advance(30);
    s.platform.kick(alice, conf, &ExternalId::new("bob")?)?;
    s.show_events(&[alice, bob])?;

    step("Bob tries to rejoin with his latest token");
    let r = s.platform.join(bob, conf, Some(&new_token));
    let e = refused(r, ErrorCode::TokenRevoked)?;
    assert!(matches!(
        e,
        PlatformError::Token(TokenError::Revoked { .. })
    ));
    step("... and with the token from his first invitation");
    let r = s.platform.join(bob, conf, Some(&bob_token));
    refused(r, ErrorCode::TokenRevoked)?;

    let info = s.platform.conference(conf)?;
    say(&format!(
        "\"team-sync\" now has {} participants, {} in the conference",
        info.participant_count, info.present_count
    ));
    assert_eq!((info.participant_count, info.present_count), (4, 1));
    Ok(())
}

// ---------------------------------------------------------------------------
// Part 2: the app-server (REST) path
// ---------------------------------------------------------------------------

fn rest_path(s: &mut Story) -> Res {
    heading("Part 2 — REST path: the app server creates \"all-hands\"");
    let alice = s.session("alice")?;
    let bob = s.session("bob")?;
    let carol = s.session("carol")?;

    step("POST /v2/conferences/create with three participants");
    let body = json!({
        "ownerExternalId": "alice",
        "alias": "all-hands",
        "parameters": { "ttl": 600, "audioOnly": false, "participantLimit": 100 },
        "participants": {
            "bob":   { "notification": true },
            "carol": { "permissions": ["JOIN", "SEND_AUDIO"], "notification": false },
            "erin":  { "permissions": ["JOIN", "SEND_AUDIO", "SEND_VIDEO"], "notification": true }
        }
    });
    let created = s.rest("POST", "/v2/conferences/create", Some(&body))?;
    assert_eq!(created.status, 200);
    let created: Value = serde_json::from_str(&created.body)?;
    let conf = ConferenceId::parse(created["conferenceId"].as_str().ok_or("conferenceId")?)?;
    s.aliases.insert(conf, "all-hands".into());
    assert_eq!(created["isProtected"], true);
    let tokens = &created["usersTokens"];
    let erin_token = tokens["erin"]
        .as_str()
        .ok_or("a token for Erin")?
        .to_owned();
    assert!(tokens["bob"].is_string() && tokens["carol"].is_string());
    let delivery = &created["delivery"];
    assert_eq!(delivery["bob"], "DELIVERED");
    assert_eq!(delivery["carol"], "NOT_REQUESTED");
    assert_eq!(delivery["erin"], "NO_OPEN_SESSION");
    say("bob has a session and was notified; carol asked for no notification;");
    say("erin has no session, so nothing reached her and nothing is kept for her:");
    say("the app server hands her the token from usersTokens over its own channel");
    s.show_events(&[alice, bob, carol])?;

    step("A request naming an unknown permission is refused, nothing changes");
    let bad = json!({ "participants": { "frank": { "permissions": ["TELEPORT"] } } });
    let r = s.rest(
        "POST",
        &format!("/v2/conferences/{conf}/invite"),
        Some(&bad),
    )?;
    assert_eq!(r.status, 400);

    step("Later, Erin opens a session and joins with her token from usersTokens");
    let erin = s.open("erin", "Erin", None)?;
    let joined = s.platform.join(erin, conf, Some(&erin_token))?;
    assert_eq!(joined.status, ParticipantStatus::Connecting);
    assert!(joined.permissions.contains(Permission::SendVideo));
    say(&format!(
        "join → {} with permissions {}",
        joined.status, joined.permissions
    ));
    s.platform.report(erin, conf, LifecycleEvent::Connected)?;
    s.show_events(&[alice, bob, carol, erin])?;

    step("GET the participants");
    let r = s.rest_quiet("GET", &format!("/v2/conferences/{conf}/participants"))?;
    assert_eq!(r.status, 200);
    let list: Value = serde_json::from_str(&r.body)?;
    let list = list["participants"].as_array().ok_or("participants")?;
    println!(
        "    {:<8} {:<8} {:<10} {:<6} permissions",
        "id", "name", "status", "type"
    );
    for p in list {
        let perms: Vec<&str> = p["permissions"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        println!(
            "    {:<8} {:<8} {:<10} {:<6} {}",
            p["externalId"].as_str().unwrap_or("?"),
            p["name"].as_str().unwrap_or(""),
            p["status"].as_str().unwrap_or("?"),
            p["type"].as_str().unwrap_or("?"),
            perms.join(" ")
        );
    }
    assert_eq!(list.len(), 4, "alice (owner), bob, carol, erin");

    step("GET /.well-known/jwks.json");
    let jwks = s.rest("GET", "/.well-known/jwks.json", None)?;
    assert_eq!(jwks.status, 200);

    step("On Erin's phone: verify her token offline with the downloaded JWK set");
    let ring = KeyRing::from_jwks_json(&jwks.body)?;
    let device_now = s.platform.now();
    let claims = ring.verify(&erin_token, &Validation::new(device_now, conf))?;
    say("signature and claims check out:");
    println!("      iss   {}", claims.issuer);
    println!("      sub   {}", claims.subject);
    println!("      conf  {}", claims.conference);
    println!("      perms {}", claims.permissions);
    println!(
        "      iat   {} (nbf {})",
        claims.issued_at, claims.not_before
    );
    println!(
        "      exp   {} ({} h later)",
        claims.expires_at,
        (claims.expires_at - claims.issued_at) / 3600
    );
    println!("      jti   {}", claims.token_id);
    assert_eq!(claims.subject.as_str(), "erin");
    say(&format!(
        "may send video: {}; may share the screen: {}",
        yes(claims.allows(Permission::SendVideo)),
        yes(claims.allows(Permission::ShareScreen))
    ));
    let tampered = tamper(&erin_token);
    match ring.verify(&tampered, &Validation::new(device_now, conf)) {
        Err(e) => {
            say(&format!("a tampered copy is refused: {e}"));
            assert_eq!(e.code(), ErrorCode::TokenInvalid);
        }
        Ok(_) => return Err("a tampered token verified".into()),
    }
    let other = s.platform.conference_by_alias("team-sync")?.id;
    match ring.verify(&erin_token, &Validation::new(device_now, other)) {
        Err(e) => {
            say(&format!("checked against \"team-sync\" it is refused: {e}"));
            assert_eq!(e.code(), ErrorCode::TokenWrongConference);
        }
        Ok(_) => return Err("a token admitted to the wrong conference".into()),
    }

    step("Erin leaves; \"all-hands\" is now empty (time to live: 600 s)");
    s.platform.leave(erin, conf)?;
    s.show_events(&[alice, erin])?;

    step("599 s later nothing has happened yet");
    s.clock.advance(599);
    assert_eq!(s.platform.expire_conferences(), 0);
    say("still alive");

    step("2 s later the conference is past its time to live");
    s.clock.advance(2);
    assert_eq!(s.platform.expire_conferences(), 1);
    say("1 conference destroyed");
    s.show_events(&[alice, bob, carol, erin])?;

    step("Erin tries to join again; the app server asks for the participants");
    let r = s.platform.join(erin, conf, Some(&erin_token));
    let e = refused(r, ErrorCode::ConferenceNotFound)?;
    assert!(matches!(e, PlatformError::ConferenceDestroyed(_)));
    let r = s.rest("GET", &format!("/v2/conferences/{conf}/participants"), None)?;
    assert_eq!(r.status, 404);

    let team_sync = s.platform.conference_by_alias("team-sync")?;
    say(&format!(
        "\"team-sync\" lives on: Alice is still in it ({} present)",
        team_sync.present_count
    ));
    assert_eq!(team_sync.present_count, 1);

    step("Hours later Alice is still on air: before her token expires she gets a fresh one");
    let due = team_sync.created_at + team_sync.token_ttl_secs - 300;
    s.clock.set(due);
    s.platform.expire_conferences();
    let events = s.show_events(&[alice])?;
    assert!(events[0]
        .iter()
        .any(|e| matches!(&*e.kind, EventKind::TokenRefreshed { .. })));
    Ok(())
}

// ---------------------------------------------------------------------------
// Part 3: the device half, over bytes only
// ---------------------------------------------------------------------------

/// A phone: its session id (the transport knows it) and its replica.
struct Phone {
    name: &'static str,
    sid: SessionId,
    client: Client,
}

impl Phone {
    /// Sends a request as bytes, hands the reply and the queued events back
    /// as bytes, and prints what the replica says changed.
    fn send(&mut self, p: &Platform, op: Op) -> Res<Vec<Update>> {
        let out = self.client.request(op);
        let reply = p.handle_message(self.sid, &out.bytes);
        let mut updates = self.client.receive(&reply)?;
        updates.extend(self.pump(p)?);
        Ok(updates)
    }

    fn pump(&mut self, p: &Platform) -> Res<Vec<Update>> {
        let mut updates = Vec::new();
        for bytes in p.drain_messages(self.sid)? {
            updates.extend(self.client.receive(&bytes)?);
        }
        for u in &updates {
            if let Some(text) = describe_update(u) {
                say(&format!("[{} phone] {text}", self.name));
            }
        }
        Ok(updates)
    }

    fn status_of(&self, conf: ConferenceId, who: &str) -> Option<ParticipantStatus> {
        let id = ExternalId::new(who).ok()?;
        self.client
            .conference(conf)?
            .participants
            .get(&id)
            .map(|v| v.status)
    }
}

fn describe_update(u: &Update) -> Option<String> {
    Some(match u {
        Update::ParticipantAdded { participant, .. } => {
            format!(
                "{} appears ({})",
                participant.external_id, participant.status
            )
        }
        Update::ParticipantUpdated {
            participant,
            old_status,
            ..
        } if *old_status != participant.status => format!(
            "{} {old_status} → {}",
            participant.external_id, participant.status
        ),
        Update::InvitationReceived(i) => format!(
            "invitation to \"{}\" from {} (token verified offline)",
            i.alias,
            i.inviter.external_id()
        ),
        Update::Gap { expected, received } => {
            format!("expected event #{expected}, got #{received}: stop and resync")
        }
        Update::Resynced { snapshot } => format!(
            "back in step ({})",
            if *snapshot {
                "snapshot"
            } else {
                "missed events resent"
            }
        ),
        Update::RequestFailed { error, .. } => format!("refused: {}", error.error_reason),
        _ => return None,
    })
}

fn device_path() -> Res {
    heading("Part 3 — the device half: phones that see only bytes");
    let clock = ManualClock::new(START);
    let key = SigningKey::from_seed(&[43; 32], KeyId::new("demo-key-2")?);
    let p = Platform::with_config(key, Arc::new(clock.clone()), PlatformConfig::default());
    let phone = |name: &'static str| -> Res<Phone> {
        let sid = p.open_session(ParticipantInfo::new(ExternalId::new(name)?, name, None)?);
        let ring = KeyRing::from_jwks(&p.jwks())?;
        let client = Client::new(ExternalId::new(name)?, ring, Arc::new(clock.clone()));
        Ok(Phone { name, sid, client })
    };
    let mut alice = phone("alice")?;
    let mut bob = phone("bob")?;

    step("Alice's phone creates \"stand-up\" and joins it, all over the wire");
    let created = alice.send(
        &p,
        Op::Create {
            alias: "stand-up".into(),
            protected: true,
            audio_only: false,
            participant_limit: None,
            empty_ttl_secs: None,
            token_ttl_secs: None,
        },
    )?;
    let result = created
        .iter()
        .find_map(|u| match u {
            Update::RequestSucceeded { result, .. } => result.to_value().ok(),
            _ => None,
        })
        .ok_or("create failed")?;
    let conf = ConferenceId::parse(result["conference"]["id"].as_str().ok_or("no id")?)?;
    let owner_token = result["ownerToken"].as_str().map(str::to_owned);
    alice.send(
        &p,
        Op::Join {
            conference_id: conf.to_string(),
            token: owner_token,
        },
    )?;
    alice.send(
        &p,
        Op::MediaState {
            conference_id: conf.to_string(),
            state: MediaState::Connected,
        },
    )?;
    assert_eq!(
        alice.status_of(conf, "alice"),
        Some(ParticipantStatus::OnAir)
    );

    step("Alice invites Bob; Bob's phone verifies the invitation's token offline and joins late");
    alice.send(
        &p,
        Op::Invite {
            conference_id: conf.to_string(),
            invitees: vec![WireInvitee {
                external_id: ExternalId::new("bob")?,
                permissions: None,
            }],
        },
    )?;
    bob.pump(&p)?;
    let token = bob.client.inbox().last().and_then(|i| i.token.clone());
    bob.send(
        &p,
        Op::Join {
            conference_id: conf.to_string(),
            token,
        },
    )?;
    assert_eq!(bob.status_of(conf, "alice"), Some(ParticipantStatus::OnAir));
    say("Bob's phone shows Alice ON_AIR at once: the join's reply carries the roster");
    bob.send(
        &p,
        Op::MediaState {
            conference_id: conf.to_string(),
            state: MediaState::Connected,
        },
    )?;
    alice.pump(&p)?;

    step("One message to Alice's phone is lost on the way; the next one shows the gap");
    bob.send(
        &p,
        Op::MediaState {
            conference_id: conf.to_string(),
            state: MediaState::Warning,
        },
    )?;
    bob.send(
        &p,
        Op::MediaState {
            conference_id: conf.to_string(),
            state: MediaState::Recovered,
        },
    )?;
    let messages = p.drain_messages(alice.sid)?;
    for u in alice.client.receive(&messages[1])? {
        if let Some(text) = describe_update(&u) {
            say(&format!("[alice phone] {text}"));
        }
    }
    assert!(alice.client.is_stalled());
    let resync = alice.client.resync_request();
    let reply = p.handle_message(alice.sid, &resync.bytes);
    for u in alice.client.receive(&reply)? {
        if let Some(text) = describe_update(&u) {
            say(&format!("[alice phone] {text}"));
        }
    }
    assert_eq!(alice.status_of(conf, "bob"), Some(ParticipantStatus::OnAir));

    step("Bob's phone goes silent; 30 s later he is LEFT in Alice's view, not a ghost");
    clock.advance(20);
    alice.send(&p, Op::KeepAlive {})?;
    clock.advance(15);
    p.expire_conferences();
    alice.pump(&p)?;
    assert_eq!(alice.status_of(conf, "bob"), Some(ParticipantStatus::Left));
    Ok(())
}

// ---------------------------------------------------------------------------
// Presentation
// ---------------------------------------------------------------------------

struct Story {
    platform: Platform,
    clock: ManualClock,
    /// Session → the user's external ID, for labels.
    sessions: HashMap<SessionId, String>,
    /// Conference → alias, for readable events.
    aliases: HashMap<ConferenceId, String>,
    events_seen: usize,
    shown_json: bool,
}

impl Story {
    fn open(&mut self, id: &str, name: &str, avatar: Option<&str>) -> Res<SessionId> {
        let info = ParticipantInfo::new(ExternalId::new(id)?, name, avatar.map(str::to_owned))?;
        let sid = self.platform.open_session(info);
        self.sessions.insert(sid, id.to_owned());
        say(&format!("{name} ({id}) has session {sid}"));
        Ok(sid)
    }

    fn session(&self, id: &str) -> Res<SessionId> {
        self.sessions
            .iter()
            .find(|(_, v)| v.as_str() == id)
            .map(|(k, _)| *k)
            .ok_or_else(|| format!("no session for {id}").into())
    }

    /// Drains and prints every listed session's events; returns them per session.
    fn show_events(&mut self, sids: &[SessionId]) -> Res<Vec<Vec<Event>>> {
        let mut all = Vec::with_capacity(sids.len());
        for &sid in sids {
            let who = self.sessions.get(&sid).cloned().unwrap_or_default();
            let events = self.platform.drain_events(sid)?;
            if events.is_empty() {
                println!("    [{who}] (no events)");
            }
            for e in &events {
                println!("    [{who} #{}] {}", e.sequence, self.describe(e));
            }
            self.events_seen += events.len();
            all.push(events);
        }
        Ok(all)
    }

    fn show_json_once(&mut self, event: &Event) {
        if !self.shown_json {
            self.shown_json = true;
            let mut v: Value = serde_json::from_str(&event.to_json()).unwrap_or(Value::Null);
            shorten_tokens(&mut v);
            say("on the wire, that invitation is this JSON (token shortened):");
            println!("      {v}");
        }
    }

    fn alias(&self, id: ConferenceId) -> String {
        self.aliases
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    fn describe(&self, e: &Event) -> String {
        let conf = e
            .conference_id
            .map_or_else(String::new, |id| self.alias(id));
        match &*e.kind {
            EventKind::ConferenceCreated { is_protected, .. } => format!(
                "conference \"{conf}\" created ({})",
                if *is_protected {
                    "protected"
                } else {
                    "unprotected"
                }
            ),
            EventKind::ConferenceEnded { reason } => format!(
                "conference \"{conf}\" ended ({})",
                match reason {
                    EndReason::Expired => "empty past its time to live",
                    EndReason::Terminated => "terminated",
                }
            ),
            EventKind::InvitationReceived {
                conference_alias,
                inviter,
                token,
                permissions,
            } => {
                let from = if inviter.name().is_empty() {
                    inviter.external_id().as_str()
                } else {
                    inviter.name()
                };
                let extra = match (token, permissions) {
                    (Some(t), Some(p)) => {
                        format!(" (token {}, permissions {})", short(t), names(*p))
                    }
                    _ => " (unprotected: no token needed)".to_owned(),
                };
                format!("invitation received to \"{conference_alias}\" from {from}{extra}")
            }
            EventKind::ParticipantAdded { participant } => format!(
                "\"{conf}\": participant added: {} ({}, {})",
                who(participant),
                participant.status,
                participant.participant_type.name()
            ),
            EventKind::ParticipantUpdated {
                participant,
                old_status,
                new_status,
            } => format!(
                "\"{conf}\": {} {old_status} → {new_status}",
                who(participant)
            ),
            EventKind::PermissionsUpdated { permissions, token } => format!(
                "\"{conf}\": my permissions are now {}{}",
                names(*permissions),
                token
                    .as_deref()
                    .map_or_else(String::new, |t| format!(" (new token {})", short(t)))
            ),
            EventKind::Switched { external_id } => {
                format!("\"{conf}\": {external_id} joined from another device; this one is out")
            }
            EventKind::ParticipantRemoved { external_id } => {
                format!("\"{conf}\": {external_id} is no longer visible here")
            }
            EventKind::TokenRefreshed { token, .. } => {
                format!("\"{conf}\": my token was refreshed (new token {})", short(token))
            }
            EventKind::EventsMissed {
                first_available_sequence,
                ..
            } => format!(
                "events were dropped (queue full): resynchronise; next is #{first_available_sequence}"
            ),
        }
    }

    /// Sends a REST request and prints the status and (shortened) body.
    fn rest(&self, method: &str, path: &str, body: Option<&Value>) -> Res<RestResponse> {
        let bytes = body.map(Value::to_string).unwrap_or_default();
        let r = self.platform.handle_rest(method, path, bytes.as_bytes());
        println!("    {method} {path} → {}", r.status);
        if !r.body.is_empty() {
            let mut v: Value = serde_json::from_str(&r.body)?;
            shorten_tokens(&mut v);
            for line in serde_json::to_string_pretty(&v)?.lines() {
                println!("      {line}");
            }
        }
        Ok(r)
    }

    /// Sends a body-less REST request and prints only the status.
    fn rest_quiet(&self, method: &str, path: &str) -> Res<RestResponse> {
        let r = self.platform.handle_rest(method, path, b"");
        println!("    {method} {path} → {}", r.status);
        Ok(r)
    }
}

/// Expects a refusal with `code`; prints it. An unexpected success or another
/// code fails the walkthrough.
fn refused<T: std::fmt::Debug>(r: Result<T, PlatformError>, code: ErrorCode) -> Res<PlatformError> {
    match r {
        Ok(v) => Err(format!("expected a refusal ({}), got {v:?}", code.name()).into()),
        Err(e) if e.code() == code => {
            say(&format!(
                "refused: {e} [{}, HTTP {}]",
                code.name(),
                code.http_status()
            ));
            Ok(e)
        }
        Err(e) => Err(format!("expected {}, got {} ({e})", code.name(), e.code().name()).into()),
    }
}

fn invitation_token(events: &[Event]) -> Option<String> {
    events.iter().find_map(|e| match &*e.kind {
        EventKind::InvitationReceived { token, .. } => token.clone(),
        _ => None,
    })
}

fn delivery(d: Delivery) -> String {
    match d {
        Delivery::Delivered(1) => "invitation delivered to 1 session".into(),
        Delivery::Delivered(n) => format!("invitation delivered to {n} sessions"),
        Delivery::NoOpenSession => {
            "NOT delivered: no open session (not kept; invite again later)".into()
        }
        Delivery::NotRequested => "not notified, as asked".into(),
        Delivery::AlreadyInConference => "already in the conference: nothing sent".into(),
    }
}

fn who(p: &ParticipantView) -> String {
    if p.name.is_empty() {
        p.external_id.to_string()
    } else {
        p.name.clone()
    }
}

fn names(p: PermissionSet) -> String {
    p.names().collect::<Vec<_>>().join(" ")
}

/// `eyJhbGciOi…<last 8>`: the header is the same for every token, the tail differs.
fn short(token: &str) -> String {
    if token.len() <= 24 {
        return token.to_owned();
    }
    format!("{}…{}", &token[..10], &token[token.len() - 8..])
}

fn looks_like_token(s: &str) -> bool {
    s.starts_with("eyJ") && s.matches('.').count() == 2
}

fn shorten_tokens(v: &mut Value) {
    match v {
        Value::String(s) if looks_like_token(s) => *s = short(s),
        Value::Array(a) => a.iter_mut().for_each(shorten_tokens),
        Value::Object(o) => o.values_mut().for_each(shorten_tokens),
        _ => {}
    }
}

/// The token with one signature character changed.
fn tamper(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let i = token.rfind('.').map_or(0, |d| d + 10);
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap_or_default()
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn heading(text: &str) {
    println!();
    println!("=== {text} ===");
}

fn step(text: &str) {
    println!();
    println!("» {text}");
}

fn say(text: &str) {
    println!("    {text}");
}
