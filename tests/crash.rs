//! Crash test with real processes: a child process runs random operations
//! on a platform over an SQLite file (`synchronous=FULL`) and prints each
//! one as it is acknowledged; the parent kills it with SIGKILL at a random
//! moment, reopens a copy of the file and checks that it opens, that every
//! acknowledged operation is there, that the one in flight is there whole
//! or not at all, that kicked participants' and revoked tokens still fail,
//! and that the invariants hold. Then the next child goes on on the same file.
//!
//! `CONFKIT_CRASH_KILLS` sets the number of kills (default 200; 10,000 for
//! the long run: `CONFKIT_CRASH_KILLS=10000 cargo test --release --features
//! sqlite --test crash`).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{env_count, TestRng};
use confkit::platform::{ConferenceOptions, Invitee, PlatformConfig};
use confkit::token::{KeyId, SigningKey};
use confkit::{
    Alias, ConferenceId, ErrorCode, ExternalId, ManualClock, ParticipantInfo, ParticipantStatus,
    PermissionSet, Platform,
};

const START: u64 = 1_700_000_000;
const TOKEN_TTL: u64 = 3 * 60 * 60;
const USERS: usize = 12;

fn key() -> SigningKey {
    SigningKey::from_seed(&[7; 32], KeyId::new("crash-key").unwrap())
}

fn platform(path: &Path, now: u64) -> Platform {
    Platform::open(
        path,
        key(),
        Arc::new(ManualClock::new(now)),
        PlatformConfig::default(),
    )
    .expect("the store opens")
}

fn eid(s: &str) -> ExternalId {
    ExternalId::new(s).unwrap()
}

/// The child: runs operations until it is killed. Not a test on its own
/// (ignored; the parent runs it).
#[test]
#[ignore = "the crash test's child process, run by crash_recovery"]
fn crash_child() {
    let (Ok(path), Ok(seed), Ok(now)) = (
        std::env::var("CONFKIT_CRASH_DB"),
        std::env::var("CONFKIT_CRASH_SEED"),
        std::env::var("CONFKIT_CRASH_NOW"),
    ) else {
        return;
    };
    let mut rng = TestRng(seed.parse::<u64>().unwrap());
    let now: u64 = now.parse().unwrap();
    let p = platform(Path::new(&path), now);
    let mut confs: Vec<ConferenceId> = p.durable_image().conferences.keys().copied().collect();
    let mut tokens: BTreeMap<(ConferenceId, String), String> = BTreeMap::new();
    let out = std::io::stdout();
    // The harness may print on the same line first: the parent reads what
    // follows the marker.
    let say = |line: String| {
        let mut o = out.lock();
        let _ = writeln!(o, "\u{a7}{line}");
        let _ = o.flush();
    };
    say("ready".into());
    for n in 0.. {
        let pick = rng.below(100);
        if confs.is_empty() || pick < 12 {
            let alias = format!("c{seed}-{n}");
            let owner = format!("o{}", rng.below(4));
            let protected = rng.below(2) == 0;
            say(format!("begin create {alias} {owner}"));
            let made = p
                .app_create(
                    &eid(&owner),
                    Alias::new(alias).unwrap(),
                    ConferenceOptions {
                        protected,
                        ..ConferenceOptions::default()
                    },
                    &[],
                )
                .unwrap();
            let id = made.created.conference.id;
            confs.push(id);
            say(format!("ack create {id} {owner}"));
            continue;
        }
        let id = confs[rng.index(confs.len())];
        let Ok(people) = p.participants(id) else {
            confs.retain(|c| *c != id);
            continue;
        };
        let owner = p.conference(id).unwrap().owner;
        let others: Vec<String> = people
            .iter()
            .filter(|v| v.external_id != owner && v.status != ParticipantStatus::Kicked)
            .map(|v| v.external_id.to_string())
            .collect();
        match pick {
            12..=49 => {
                let k = 1 + rng.below(4);
                let mut whom = BTreeSet::new();
                for _ in 0..k {
                    whom.insert(format!("u{}", rng.below(USERS as u64)));
                }
                let list: Vec<String> = whom.into_iter().collect();
                let invitees: Vec<Invitee> =
                    list.iter().map(|u| Invitee::new(eid(u), None)).collect();
                say(format!("begin invite {id} {}", list.join(",")));
                let Ok(done) = p.app_invite(id, &invitees) else {
                    say("refused".into());
                    continue;
                };
                let mut line = format!("ack invite {id}");
                for d in done {
                    let user = d.result.external_id.to_string();
                    if let Some(t) = d.token {
                        line.push_str(&format!(" {user}={t}"));
                        tokens.insert((id, user), t);
                    }
                }
                say(line);
            }
            50..=64 if !others.is_empty() => {
                let user = others[rng.index(others.len())].clone();
                say(format!("begin kick {id} {user}"));
                p.app_kick(id, &[eid(&user)]).unwrap();
                say(format!("ack kick {id} {user}"));
            }
            65..=74 => {
                let mine: Vec<_> = tokens.iter().filter(|((c, _), _)| *c == id).collect();
                if mine.is_empty() {
                    continue;
                }
                let ((_, user), token) = mine[rng.index(mine.len())];
                let (user, token) = (user.clone(), token.clone());
                let ring = confkit::KeyRing::from_jwks(&p.jwks()).unwrap();
                let claims = ring
                    .verify(&token, &confkit::Validation::new(now, id))
                    .unwrap();
                say(format!("begin revoke {id} {user}"));
                p.revoke_token(&claims.token_id).unwrap();
                say(format!("ack revoke {id} {user} {token}"));
            }
            75..=89 if !others.is_empty() => {
                let user = others[rng.index(others.len())].clone();
                let token = tokens.get(&(id, user.clone())).cloned();
                let sid = p.open_session(ParticipantInfo::anonymous(eid(&user)));
                say(format!("begin join {id} {user}"));
                if p.join(sid, id, token.as_deref()).is_ok() {
                    say(format!("ack join {id} {user}"));
                } else {
                    say("refused".into());
                }
            }
            90..=94 if !others.is_empty() => {
                let user = others[rng.index(others.len())].clone();
                say(format!("begin update {id} {user}"));
                if p.app_update_permissions(id, &[(eid(&user), PermissionSet::DEFAULT_INVITEE)])
                    .is_ok()
                {
                    say(format!("ack update {id} {user}"));
                } else {
                    say("refused".into());
                }
            }
            95..=99 => {
                say(format!("begin terminate {id}"));
                p.app_terminate(id).unwrap();
                confs.retain(|c| *c != id);
                say(format!("ack terminate {id}"));
            }
            _ => {}
        }
    }
}

/// What the parent knows from the acknowledgements so far.
#[derive(Default)]
struct Model {
    /// Live conferences and their owners.
    alive: BTreeMap<ConferenceId, String>,
    terminated: BTreeSet<ConferenceId>,
    /// Participants that must exist, and whether they must be KICKED.
    members: BTreeMap<(ConferenceId, String), bool>,
    /// Tokens that must no longer admit (kicked or revoked), with the time
    /// they were issued.
    dead_tokens: Vec<(ConferenceId, String, String, u64)>,
    /// Tokens handed out, by (conference, user), with their issue time.
    tokens: BTreeMap<(ConferenceId, String), Vec<(String, u64)>>,
    acked: usize,
}

fn conf_id(s: &str) -> ConferenceId {
    ConferenceId::parse(s).unwrap()
}

impl Model {
    fn kick(&mut self, id: ConferenceId, user: &str) {
        self.members.insert((id, user.to_owned()), true);
        for (t, at) in self
            .tokens
            .remove(&(id, user.to_owned()))
            .unwrap_or_default()
        {
            self.dead_tokens.push((id, user.to_owned(), t, at));
        }
    }

    /// Learns from an acknowledged operation.
    fn ack(&mut self, begin: &[&str], ack: &[&str], now: u64) {
        self.acked += 1;
        match (begin.first(), ack.first()) {
            (Some(&"create"), _) => {
                self.alive.insert(conf_id(ack[1]), ack[2].to_owned());
            }
            (Some(&"invite"), _) => {
                let id = conf_id(begin[1]);
                self.alive.entry(id).or_default();
                for user in begin[2].split(',') {
                    self.members.entry((id, user.to_owned())).or_insert(false);
                    self.members.insert((id, user.to_owned()), false);
                }
                for pair in &ack[2..] {
                    let (user, token) = pair.split_once('=').unwrap();
                    self.tokens
                        .entry((id, user.to_owned()))
                        .or_default()
                        .push((token.to_owned(), now));
                }
            }
            (Some(&"kick"), _) => self.kick(conf_id(begin[1]), begin[2]),
            (Some(&"revoke"), _) => {
                let id = conf_id(begin[1]);
                self.dead_tokens
                    .push((id, begin[2].to_owned(), ack[3].to_owned(), now));
            }
            (Some(&"terminate"), _) => {
                let id = conf_id(begin[1]);
                self.alive.remove(&id);
                self.terminated.insert(id);
            }
            _ => {}
        }
    }

    /// Learns what the operation in flight when the child died did, from
    /// the reopened platform: it is there whole or not at all.
    fn in_flight(&mut self, begin: &[&str], p: &Platform) {
        match begin.first() {
            Some(&"invite") => {
                let id = conf_id(begin[1]);
                let Ok(people) = p.participants(id) else {
                    return;
                };
                let users: Vec<&str> = begin[2].split(',').collect();
                let known: Vec<bool> = users
                    .iter()
                    .map(|u| people.iter().any(|v| v.external_id.as_str() == *u))
                    .collect();
                let new: Vec<&&str> = users
                    .iter()
                    .filter(|u| !self.members.contains_key(&(id, (**u).to_owned())))
                    .collect();
                if !new.is_empty() {
                    let present = new
                        .iter()
                        .filter(|u| people.iter().any(|v| v.external_id.as_str() == ***u))
                        .count();
                    assert!(
                        present == 0 || present == new.len(),
                        "half an invitation is there: {present} of {} ({begin:?})",
                        new.len()
                    );
                }
                for (u, k) in users.iter().zip(known) {
                    if k {
                        let status = people
                            .iter()
                            .find(|v| v.external_id.as_str() == *u)
                            .map(|v| v.status);
                        if status != Some(ParticipantStatus::Kicked) {
                            self.members.insert((id, (*u).to_owned()), false);
                        }
                    }
                }
            }
            Some(&"kick") => {
                let id = conf_id(begin[1]);
                let kicked = p.participants(id).is_ok_and(|people| {
                    people.iter().any(|v| {
                        v.external_id.as_str() == begin[2] && v.status == ParticipantStatus::Kicked
                    })
                });
                if kicked {
                    self.kick(id, begin[2]);
                }
            }
            Some(&"terminate") => {
                let id = conf_id(begin[1]);
                if p.conference(id).is_err() {
                    self.alive.remove(&id);
                    self.terminated.insert(id);
                }
            }
            Some(&"create") => {
                if let Ok(c) = p.conference_by_alias(begin[1]) {
                    self.alive.insert(c.id, begin[2].to_owned());
                }
            }
            _ => {}
        }
    }

    /// Everything acknowledged is there, and the rules still hold.
    fn check(&self, p: &Platform, now: u64) {
        for (id, owner) in &self.alive {
            let info = p
                .conference(*id)
                .unwrap_or_else(|e| panic!("acknowledged conference {id} is gone: {e}"));
            if !owner.is_empty() {
                assert_eq!(info.owner.as_str(), owner);
            }
        }
        for id in &self.terminated {
            assert!(p.conference(*id).is_err(), "terminated {id} came back");
        }
        for ((id, user), kicked) in &self.members {
            if !self.alive.contains_key(id) {
                continue;
            }
            let people = p.participants(*id).unwrap();
            let found = people
                .iter()
                .find(|v| v.external_id.as_str() == user)
                .unwrap_or_else(|| panic!("acknowledged participant {user} of {id} is gone"));
            assert_eq!(
                found.status == ParticipantStatus::Kicked,
                *kicked,
                "{user} in {id}: {}",
                found.status
            );
        }
        for (id, user, token, issued) in &self.dead_tokens {
            let sid = p.open_session(ParticipantInfo::anonymous(eid(user)));
            let refused = p
                .join(sid, *id, Some(token))
                .expect_err("a kicked participant's or a revoked token admitted");
            if self.alive.contains_key(id) && now + 60 < issued + TOKEN_TTL {
                assert_eq!(refused.code(), ErrorCode::TokenRevoked, "{user} in {id}");
            }
        }
        // Invariants: no duplicate participant, nobody in a conference after
        // a restart, every owner a participant.
        for (id, stored) in &p.durable_image().conferences {
            let mut seen = BTreeSet::new();
            for rec in stored.participants.values() {
                assert!(
                    seen.insert(rec.info.external_id().clone()),
                    "duplicate in {id}"
                );
                assert!(
                    !rec.status.is_in_conference(),
                    "{} still {} in {id} after a restart",
                    rec.info.external_id(),
                    rec.status
                );
            }
            assert!(seen.contains(&stored.record.owner), "{id} lost its owner");
        }
    }
}

fn copy_db(from: &Path, to_dir: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(to_dir);
    std::fs::create_dir_all(to_dir).unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let src = PathBuf::from(format!("{}{suffix}", from.display()));
        if src.exists() {
            let dst = to_dir.join(format!("platform.db{suffix}"));
            std::fs::copy(&src, dst).unwrap();
        }
    }
    to_dir.join("platform.db")
}

#[test]
fn crash_recovery() {
    let kills: usize = env_count("CONFKIT_CRASH_KILLS", 200) as usize;
    let dir = std::env::temp_dir().join(format!("confkit-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("platform.db");
    let exe = std::env::current_exe().unwrap();
    let mut model = Model::default();
    let mut rng = TestRng(0x5eed_cafe);
    let mut in_flight_seen = 0;
    for run in 0..kills {
        let now = START + run as u64 * 5;
        let mut child = Command::new(&exe)
            .args([
                "crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("CONFKIT_CRASH_DB", &db)
            .env("CONFKIT_CRASH_SEED", (run as u64 + 1).to_string())
            .env("CONFKIT_CRASH_NOW", now.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let Some((_, said)) = line.split_once('\u{a7}') else {
                    continue;
                };
                if tx.send(said.to_owned()).is_err() {
                    break;
                }
            }
        });
        let mut lines = Vec::new();
        // Wait until it is running operations, then kill it at a random moment.
        loop {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(l) if l == "ready" => break,
                Ok(l) => lines.push(l),
                Err(e) => panic!("run {run}: the child never got ready ({e})"),
            }
        }
        std::thread::sleep(Duration::from_micros(rng.next() % 25_000));
        child.kill().unwrap();
        let _ = child.wait();
        reader.join().unwrap();
        lines.extend(rx.try_iter());

        let mut begin: Option<String> = None;
        for line in &lines {
            if let Some(rest) = line.strip_prefix("begin ") {
                begin = Some(rest.to_owned());
            } else if let Some(rest) = line.strip_prefix("ack ") {
                let b = begin.take().expect("an ack follows a begin");
                let bw: Vec<&str> = b.split(' ').collect();
                let aw: Vec<&str> = rest.split(' ').collect();
                model.ack(&bw, &aw, now);
            } else if line == "refused" {
                begin = None;
            }
        }
        let check = copy_db(&db, &dir.join("check"));
        let p = platform(&check, now);
        if let Some(b) = &begin {
            in_flight_seen += 1;
            let bw: Vec<&str> = b.split(' ').collect();
            model.in_flight(&bw, &p);
        }
        let checked =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| model.check(&p, now)));
        if let Err(e) = checked {
            panic!("run {run} (file kept in {}): {e:?}", dir.display());
        }
    }
    eprintln!(
        "crash test: {kills} kills, {} operations acknowledged, {in_flight_seen} killed in flight",
        model.acked
    );
    assert!(
        model.acked > kills,
        "the children hardly ran: {} acks",
        model.acked
    );
    assert!(
        in_flight_seen > 0,
        "no kill ever hit an operation in flight"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
