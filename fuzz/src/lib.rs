//! What the fuzz targets share: the fixed signing key and time, a platform
//! seeded with conferences and participants, placeholders that let an input
//! name the seeded conferences and tokens, a snapshot of everything a refused
//! operation must leave as it was, and the byte form of the structured inputs
//! (so seeds can be written by hand, see `examples/make_seeds.rs`).

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use confkit::platform::{ConferenceOptions, Invitee, PlatformConfig};
use confkit::token::{Claims, KeyId, KeyRing, SigningKey};
use confkit::{
    ConferenceId, ExternalId, LifecycleEvent, ManualClock, ParticipantInfo, PermissionSet,
    Platform, SessionId,
};

/// 2023-11-14 22:13:20 UTC, the time of every fuzzed platform and verifier.
pub const START: u64 = 1_700_000_000;
/// The seed of the signing key (the same as tests/common).
pub const SEED: [u8; 32] = [42; 32];
/// Its key id.
pub const KID: &str = "test-key-1";

/// The signing key every target's platform and tokens use (a new one: the
/// platform takes its own).
pub fn signing_key() -> SigningKey {
    SigningKey::from_seed(&SEED, KeyId::new(KID).expect("valid kid"))
}

/// [`signing_key`], made once (deriving the public key is a scalar
/// multiplication, slow under coverage instrumentation).
pub fn shared_key() -> &'static SigningKey {
    static KEY: std::sync::OnceLock<SigningKey> = std::sync::OnceLock::new();
    KEY.get_or_init(signing_key)
}

/// A verifier trusting exactly [`signing_key`].
pub fn ring() -> KeyRing {
    let key = shared_key();
    KeyRing::with_key(key.kid().clone(), key.verifying_key()).expect("a fresh ring")
}

pub fn eid(s: &str) -> ExternalId {
    ExternalId::new(s).expect("valid external id")
}

/// A token signed with the fixed key.
pub fn mint(subject: &str, conf: ConferenceId, perms: PermissionSet, iat: u64, ttl: u64) -> String {
    let claims = Claims::new("confkit", eid(subject), conf, perms, iat, ttl);
    shared_key().mint(&claims)
}

// ----- structured inputs -----

/// Bytes of a structured input: a little-endian u16 length (clamped to what
/// is left), then that many bytes. Unlike arbitrary's own `Vec<u8>`, whose
/// length comes from the end of the input, this reads front to back, so a
/// seed is easy to write (see [`Seed`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Blob(pub Vec<u8>);

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

impl<'a> Arbitrary<'a> for Blob {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let len = usize::from(u16::arbitrary(u)?).min(u.len());
        Ok(Blob(u.bytes(len)?.to_vec()))
    }
}

/// Writes the byte form of a structured input, as `arbitrary` reads it:
/// integers little-endian, an enum's variant as a u32, a `Vec` element as a
/// `true` byte before it and `false` after the last one (except at the top
/// level, which takes the rest), a [`Blob`] as its u16 length and bytes.
#[derive(Default, Clone)]
pub struct Seed(pub Vec<u8>);

impl Seed {
    pub fn new() -> Self {
        Self::default()
    }
    /// Variant `i` of an enum with `n` variants (derive(Arbitrary) picks
    /// `(u32 * n) >> 32`).
    pub fn variant(mut self, i: u32, n: u32) -> Self {
        assert!(i < n);
        let x = ((u64::from(i) << 32) + u64::from(n) - 1) / u64::from(n);
        self.0.extend_from_slice(&(x as u32).to_le_bytes());
        self
    }
    pub fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    pub fn bool(self, v: bool) -> Self {
        self.u8(u8::from(v))
    }
    pub fn u16(mut self, v: u16) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn u32(mut self, v: u32) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn u64(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn blob(mut self, bytes: impl AsRef<[u8]>) -> Self {
        let bytes = bytes.as_ref();
        let len = u16::try_from(bytes.len()).expect("a seed blob under 64 KiB");
        self.0.extend_from_slice(&len.to_le_bytes());
        self.0.extend_from_slice(bytes);
        self
    }
    pub fn then(mut self, other: Seed) -> Self {
        self.0.extend_from_slice(&other.0);
        self
    }
}

/// Reads a structured input the way `fuzz_target!` does.
pub fn decode<'a, T: Arbitrary<'a>>(bytes: &'a [u8]) -> arbitrary::Result<T> {
    T::arbitrary_take_rest(Unstructured::new(bytes))
}

// ----- the seeded platform -----

/// A platform on a manual clock at [`START`] with small queues (so overflow
/// and resync-by-snapshot are reachable), and what it was seeded with.
///
/// - `c0` "room", protected, owned by alice (ON_AIR); bob joined (ON_AIR,
///   default permissions plus INVITE); carol invited (RESERVED); dave
///   listening; erin has a session and nothing else; bob has a second
///   session.
/// - `c1` "open-room", unprotected, owned by bob, alice joined.
/// - `c2` "gone", destroyed.
pub struct World {
    pub platform: Platform,
    pub clock: ManualClock,
    /// (name, session): alice, bob, carol, dave, erin, bob (second device).
    pub sessions: Vec<(&'static str, SessionId)>,
    /// Known conferences: c0, c1, c2 (destroyed), then any created later.
    pub conferences: Vec<ConferenceId>,
    /// Aliases to look up: "room", "open-room", "gone", then any created later.
    pub aliases: Vec<String>,
    /// Tokens an input can name: t0 carol's invitation (c0), t1 bob's
    /// current (c0), t2 one for erin that the platform never issued (c0), t3
    /// an expired one for carol (c0), t4 alice's owner token (c0), t5 one for
    /// carol with every permission, for c1 (a wrong conference). t2, t3 and
    /// t5 are signed when an input first names them.
    tokens: std::cell::RefCell<Vec<Option<String>>>,
}

type Res<T> = Result<T, confkit::PlatformError>;

/// What [`World::state`] reads, compared whole.
#[derive(Debug, PartialEq, Eq)]
pub struct State {
    pub conferences: Vec<(
        Res<confkit::platform::ConferenceInfo>,
        Res<Vec<confkit::event::ParticipantView>>,
    )>,
    pub aliases: Vec<Res<ConferenceId>>,
    pub sessions: Vec<(
        Res<ParticipantInfo>,
        Res<confkit::snapshot::SessionSnapshot>,
        Res<usize>,
    )>,
    pub retained: confkit::platform::Retained,
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{:#?}", self)
    }
}

/// A conference id no platform ever made.
pub const UNKNOWN_CONFERENCE: &str = "00000000-0000-4000-8000-000000000000";

pub fn platform_config() -> PlatformConfig {
    PlatformConfig {
        max_queued_events: 8,
        event_retention: 4,
        ..PlatformConfig::default()
    }
}

impl World {
    pub fn new() -> World {
        Self::with_config(platform_config())
    }

    pub fn with_config(config: PlatformConfig) -> World {
        let clock = ManualClock::new(START);
        let p = Platform::with_config(signing_key(), Arc::new(clock.clone()), config);
        let open = |id: &str, name: &str| {
            p.open_session(ParticipantInfo::new(eid(id), name, None).expect("valid info"))
        };
        let alice = open("alice", "Alice");
        let bob = open("bob", "Bob");
        let carol = open("carol", "Carol");
        let dave = open("dave", "Dave");
        let erin = open("erin", "Erin");
        let bob2 = open("bob", "Bob (tablet)");
        let protected = ConferenceOptions {
            protected: true,
            ..ConferenceOptions::default()
        };
        let created = p
            .create_conference(alice, "room", protected)
            .expect("create c0");
        let c0 = created.conference.id;
        let owner_token = created.owner_token.expect("an owner token");
        p.join(alice, c0, Some(&owner_token)).expect("alice joins");
        p.report(alice, c0, LifecycleEvent::Connected)
            .expect("alice connects");
        let bob_perms = PermissionSet::DEFAULT_INVITEE.with(confkit::Permission::Invite);
        p.invite(
            alice,
            c0,
            &[
                Invitee::new(eid("bob"), Some(bob_perms)),
                Invitee::new(eid("carol"), None),
                Invitee::new(eid("dave"), None),
            ],
        )
        .expect("invite");
        let token_of = |sid: SessionId| -> String {
            p.drain_events(sid)
                .expect("drain")
                .iter()
                .rev()
                .find_map(|e| match &*e.kind {
                    confkit::EventKind::InvitationReceived { token, .. } => token.clone(),
                    _ => None,
                })
                .expect("an invitation token")
        };
        let bob_token = token_of(bob);
        let carol_token = token_of(carol);
        let dave_token = token_of(dave);
        let _ = p.drain_events(bob2);
        p.join(bob, c0, Some(&bob_token)).expect("bob joins");
        p.report(bob, c0, LifecycleEvent::Connected)
            .expect("bob connects");
        p.listen(dave, c0, Some(&dave_token)).expect("dave listens");
        let c1 = p
            .create_conference(bob, "open-room", ConferenceOptions::default())
            .expect("create c1")
            .conference
            .id;
        p.join(bob2, c1, None).expect("bob2 joins c1");
        p.join(alice, c1, None).expect("alice joins c1");
        let c2 = p
            .create_conference(erin, "gone", ConferenceOptions::default())
            .expect("create c2")
            .conference
            .id;
        p.terminate(erin, c2).expect("terminate c2");
        let sessions = vec![
            ("alice", alice),
            ("bob", bob),
            ("carol", carol),
            ("dave", dave),
            ("erin", erin),
            ("bob", bob2),
        ];
        // Leave a few events queued, drain the rest.
        for (_, s) in &sessions {
            let _ = p.drain_events(*s);
        }
        p.report(bob, c0, LifecycleEvent::MediaTrouble)
            .expect("bob's trouble");
        World {
            platform: p,
            clock,
            sessions,
            conferences: vec![c0, c1, c2],
            aliases: vec!["room".into(), "open-room".into(), "gone".into()],
            tokens: std::cell::RefCell::new(vec![
                Some(carol_token),
                Some(bob_token),
                None,
                None,
                Some(owner_token),
                None,
            ]),
        }
    }

    /// Token `i` (see [`World::tokens`]), signed now if it was not yet.
    pub fn token(&self, i: usize) -> Option<String> {
        let mut tokens = self.tokens.borrow_mut();
        let slot = tokens.get_mut(i)?;
        if slot.is_none() {
            let (c0, c1) = (self.conferences[0], self.conferences[1]);
            *slot = Some(match i {
                2 => mint("erin", c0, PermissionSet::ALL, START, 3600),
                3 => mint(
                    "carol",
                    c0,
                    PermissionSet::DEFAULT_INVITEE,
                    START - 20_000,
                    3600,
                ),
                _ => mint("carol", c1, PermissionSet::ALL, START, 3600),
            });
        }
        slot.clone()
    }

    pub fn session(&self, index: u8) -> SessionId {
        self.sessions[usize::from(index) % self.sessions.len()].1
    }

    /// Replaces `{c0}`..`{c9}` by the known conferences' ids, `{cx}` by
    /// [`UNKNOWN_CONFERENCE`], `{t0}`..`{t9}` by the tokens; anything else
    /// stays as it is.
    pub fn substitute(&self, input: &[u8]) -> Vec<u8> {
        let confs: Vec<String> = self.conferences.iter().map(ToString::to_string).collect();
        substitute_with(input, &confs, &|i| self.token(i))
    }

    /// Runs the platform's housekeeping now (expiry, refreshes, idle
    /// sessions), so that what follows at the same time is not mixed with
    /// what the sweep does.
    pub fn settle(&self) {
        let _ = self.platform.expire_conferences();
    }

    /// Everything observable about the platform that a refused request must
    /// leave as it was: each known conference (info, participants, lookup by
    /// alias), each session (identity, snapshot, queued events), the retained
    /// revocations. Read at one time: call [`World::settle`] first.
    pub fn state(&self) -> State {
        let p = &self.platform;
        State {
            conferences: self
                .conferences
                .iter()
                .map(|c| (p.conference(*c), p.participants(*c)))
                .collect(),
            aliases: self
                .aliases
                .iter()
                .map(|a| p.conference_by_alias(a).map(|c| c.id))
                .collect(),
            sessions: self
                .sessions
                .iter()
                .map(|(_, sid)| {
                    (
                        p.session_info(*sid),
                        p.snapshot(*sid),
                        p.pending_events(*sid),
                    )
                })
                .collect(),
            retained: p.retained(),
        }
    }

    /// Remembers a conference created while fuzzing, so that later checks
    /// cover it.
    pub fn learn_conference(&mut self, id: ConferenceId, alias: &str) {
        if !self.conferences.contains(&id) && self.conferences.len() < 10 {
            self.conferences.push(id);
            self.aliases.push(alias.to_owned());
        }
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

/// Replaces `{c0}`..`{c9}` by `confs`, `{cx}` by [`UNKNOWN_CONFERENCE`],
/// `{t0}`..`{t9}` by `tokens`; anything else (an unknown index too) stays.
pub fn substitute(input: &[u8], confs: &[String], tokens: &[String]) -> Vec<u8> {
    substitute_with(input, confs, &|i| tokens.get(i).cloned())
}

/// [`substitute`] with the tokens given by a function.
pub fn substitute_with(
    input: &[u8],
    confs: &[String],
    token: &dyn Fn(usize) -> Option<String>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + 64);
    let mut i = 0;
    while i < input.len() {
        let found = match &input[i..] {
            [b'{', b'c', b'x', b'}', ..] => Some(UNKNOWN_CONFERENCE.to_owned()),
            [b'{', b'c', d @ b'0'..=b'9', b'}', ..] => confs.get(usize::from(d - b'0')).cloned(),
            [b'{', b't', d @ b'0'..=b'9', b'}', ..] => token(usize::from(d - b'0')),
            _ => None,
        };
        match found {
            Some(text) => {
                out.extend_from_slice(text.as_bytes());
                i += 4;
            }
            None => {
                out.push(input[i]);
                i += 1;
            }
        }
    }
    out
}

/// The structured input of `rest_handler`.
pub mod rest {
    use super::Blob;
    use arbitrary::Arbitrary;

    #[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
    pub enum Method {
        Get,
        Post,
        Delete,
        Put,
        Other(Blob),
    }

    #[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
    pub enum Step {
        /// A request.
        Call {
            method: Method,
            path: Blob,
            body: Blob,
        },
        /// The clock moves on.
        Advance { secs: u16 },
        /// A POST whose body is over the size cap.
        Huge { path: Blob },
    }
}

/// The structured input of `wire_server`.
pub mod wire {
    use super::Blob;
    use arbitrary::Arbitrary;

    #[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
    pub enum Step {
        /// A message from session `session % 6`.
        Send { session: u8, message: Blob },
        /// That session's last message again.
        Resend { session: u8 },
        /// Take that session's queued events.
        Drain { session: u8 },
        /// The clock moves on.
        Advance { secs: u8 },
    }
}

/// The structured input of `platform_ops`.
pub mod ops {
    use arbitrary::Arbitrary;

    #[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Kind {
        Join,
        Listen,
        Report,
        Leave,
        Decline,
        Invite,
        Kick,
        Update,
        Terminate,
        Create,
        /// Close the session and open another for the same user.
        Reopen,
        /// The clock moves `perms * 4` seconds.
        Advance,
    }

    /// One operation: who (session `actor % 7`), what, in which conference
    /// (`conf % known`), on whom (`target % 6`), with which permission bits
    /// (`perms & 0xfff`), and `token` choosing the token (join: none, the
    /// target's, the user's oldest, the user's newest), the media report, or
    /// whether an invitation names a set.
    #[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
    pub struct Step {
        pub actor: u8,
        pub kind: Kind,
        pub conf: u8,
        pub target: u8,
        pub perms: u16,
        pub token: u8,
    }
}

/// The structured input of `client_sync`.
pub mod sync {
    use arbitrary::Arbitrary;

    #[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
    pub enum Step {
        /// Device `who` does operation `op` (mod 12) on user `target`.
        Act { who: u8, op: u8, target: u8 },
        /// The session's queued events go onto the wire.
        Pump { who: u8 },
        /// The wire delivers (4..), drops (0), delays (1), duplicates (2) or
        /// swaps (3) the next message of `who`.
        Wire { who: u8, fault: u8 },
        /// `who` loses what is in flight (a disconnect), resumes, resyncs.
        Reconnect { who: u8 },
        /// `who`'s app restarts: a fresh Client for the same session, which
        /// resyncs.
        Restart { who: u8 },
    }

    /// How many devices (3 + n % 4) and whether the conference is protected,
    /// then the schedule.
    #[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
    pub struct Input {
        pub n: u8,
        pub protected: bool,
        pub steps: Vec<Step>,
    }
}

/// The structured input of `ffi_surface`: a sequence of C calls.
pub mod ffi {
    use super::Blob;
    use arbitrary::Arbitrary;

    /// A string argument: pointer + length.
    #[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
    pub enum Str {
        /// NULL, length 0.
        Null,
        /// NULL with a length (documented: NULL_ARGUMENT).
        NullWithLen(u16),
        /// These bytes (placeholders substituted; may be invalid UTF-8).
        Text(Blob),
        /// A valid pointer with a shorter length than the text (may cut a
        /// UTF-8 sequence).
        Prefix(Blob, u16),
        /// Bytes that are not UTF-8.
        InvalidUtf8,
        /// 300 KiB, over every cap but REST's.
        Oversize,
    }

    /// Bytes to pass: a string, or a buffer the run holds (a reply, an
    /// event message, a request, a JWK set...).
    #[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
    pub enum Source {
        Str(Str),
        Kept(u8),
    }

    #[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
    pub struct ConfOptions {
        pub is_protected: bool,
        pub audio_only: bool,
        pub participant_limit: u32,
        pub empty_ttl_secs: u64,
        pub token_ttl_secs: u64,
    }

    #[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
    pub struct PlatformOptions {
        pub token_ttl_secs: u64,
        pub leeway_secs: u64,
        pub empty_ttl_secs: u64,
        pub max_queued_events: u64,
        pub token_refresh_lead_secs: u64,
    }

    /// One C call (or a few, for `Relay` and `Inspect`). An object argument
    /// `u8` is 0 for NULL, else one of the live objects of that kind.
    #[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
    pub enum Op {
        ClockNew {
            now: u64,
        },
        ClockMove {
            clock: u8,
            set: bool,
            value: u64,
        },
        PlatformNew {
            fixed_seed: bool,
            kid: Str,
            clock: u8,
            options: Option<PlatformOptions>,
            with: bool,
        },
        Rest {
            platform: u8,
            method: Str,
            path: Str,
            body: Source,
        },
        PlatformQuery {
            platform: u8,
            jwks: bool,
        },
        SessionOpen {
            platform: u8,
            external_id: Str,
            name: Str,
            avatar: Str,
        },
        SessionQuery {
            session: u8,
            what: u8,
        },
        SetListener {
            session: u8,
            callback: bool,
            release: bool,
        },
        HandleMessage {
            session: u8,
            message: Source,
        },
        Create {
            session: u8,
            alias: Str,
            options: Option<ConfOptions>,
            token_out: bool,
        },
        Fetch {
            session: u8,
            conference: Str,
            alias: Str,
        },
        Enter {
            session: u8,
            conference: Str,
            token: Source,
            listen: bool,
        },
        Report {
            session: u8,
            conference: Str,
            report: i32,
        },
        Exit {
            session: u8,
            conference: Str,
            how: u8,
        },
        Kick {
            session: u8,
            conference: Str,
            external_id: Str,
        },
        UpdatePermissions {
            session: u8,
            conference: Str,
            external_id: Str,
            permissions: u32,
        },
        InviteListNew,
        InviteListAdd {
            list: u8,
            external_id: Str,
            has_permissions: bool,
            permissions: u32,
        },
        Invite {
            session: u8,
            conference: Str,
            list: u8,
        },
        VerifierFromJwks {
            json: Source,
        },
        VerifierFromKey {
            kid: Str,
            key: Option<[u8; 32]>,
        },
        Verify {
            verifier: u8,
            token: Source,
            now: u64,
            conference: Str,
            leeway: u64,
        },
        ClientNew {
            external_id: Str,
            verifier: u8,
            clock: u8,
        },
        ClientRequest {
            client: u8,
            kind: u8,
            conference: Str,
            text: Source,
            number: u32,
            list: u8,
        },
        ClientReceive {
            client: u8,
            message: Source,
        },
        ClientQuery {
            client: u8,
            conference: Str,
            bit: u32,
            index: u16,
        },
        Relay {
            client: u8,
            session: u8,
        },
        Inspect {
            kind: u8,
            slot: u8,
            index: u16,
        },
        Free {
            kind: u8,
            slot: u8,
        },
        Names {
            bit: u32,
            status: i32,
            name: Str,
        },
        TestPanic,
    }

    /// A call, with or without an `error_out`.
    #[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
    pub struct Call {
        pub op: Op,
        pub error_out: bool,
    }
}

/// Writing the structured inputs' byte form (for seeds).
pub trait Encode {
    fn encode(&self, s: Seed) -> Seed;
}

impl Encode for Blob {
    fn encode(&self, s: Seed) -> Seed {
        s.blob(&self.0)
    }
}
impl Encode for u8 {
    fn encode(&self, s: Seed) -> Seed {
        s.u8(*self)
    }
}
impl Encode for bool {
    fn encode(&self, s: Seed) -> Seed {
        s.bool(*self)
    }
}
impl Encode for u16 {
    fn encode(&self, s: Seed) -> Seed {
        s.u16(*self)
    }
}
impl Encode for u32 {
    fn encode(&self, s: Seed) -> Seed {
        s.u32(*self)
    }
}
impl Encode for i32 {
    fn encode(&self, s: Seed) -> Seed {
        s.u32(*self as u32)
    }
}
impl Encode for u64 {
    fn encode(&self, s: Seed) -> Seed {
        s.u64(*self)
    }
}
impl Encode for [u8; 32] {
    fn encode(&self, mut s: Seed) -> Seed {
        s.0.extend_from_slice(self);
        s
    }
}
impl<T: Encode> Encode for Option<T> {
    fn encode(&self, s: Seed) -> Seed {
        match self {
            None => s.bool(false),
            Some(v) => v.encode(s.bool(true)),
        }
    }
}
/// A top-level sequence (`arbitrary_take_rest`): each element after a
/// `true` byte.
impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, mut s: Seed) -> Seed {
        for v in self {
            s = v.encode(s.bool(true));
        }
        s
    }
}

/// `encode!(s; variant i of n; field, field...)`.
macro_rules! fields {
    ($s:expr; $i:expr, $n:expr; $($f:expr),*) => {{
        let s = $s.variant($i, $n);
        $( let s = $f.encode(s); )*
        s
    }};
}

impl Encode for rest::Method {
    fn encode(&self, s: Seed) -> Seed {
        use rest::Method::*;
        match self {
            Get => fields!(s; 0, 5;),
            Post => fields!(s; 1, 5;),
            Delete => fields!(s; 2, 5;),
            Put => fields!(s; 3, 5;),
            Other(b) => fields!(s; 4, 5; b),
        }
    }
}

impl Encode for rest::Step {
    fn encode(&self, s: Seed) -> Seed {
        use rest::Step::*;
        match self {
            Call { method, path, body } => fields!(s; 0, 3; method, path, body),
            Advance { secs } => fields!(s; 1, 3; secs),
            Huge { path } => fields!(s; 2, 3; path),
        }
    }
}

impl Encode for wire::Step {
    fn encode(&self, s: Seed) -> Seed {
        use wire::Step::*;
        match self {
            Send { session, message } => fields!(s; 0, 4; session, message),
            Resend { session } => fields!(s; 1, 4; session),
            Drain { session } => fields!(s; 2, 4; session),
            Advance { secs } => fields!(s; 3, 4; secs),
        }
    }
}

impl Encode for ops::Kind {
    fn encode(&self, s: Seed) -> Seed {
        s.variant(*self as u32, 12)
    }
}

impl Encode for ops::Step {
    fn encode(&self, s: Seed) -> Seed {
        let s = self.actor.encode(s);
        let s = self.kind.encode(s);
        let s = self.conf.encode(s);
        let s = self.target.encode(s);
        let s = self.perms.encode(s);
        self.token.encode(s)
    }
}

impl Encode for sync::Step {
    fn encode(&self, s: Seed) -> Seed {
        use sync::Step::*;
        match self {
            Act { who, op, target } => fields!(s; 0, 5; who, op, target),
            Pump { who } => fields!(s; 1, 5; who),
            Wire { who, fault } => fields!(s; 2, 5; who, fault),
            Reconnect { who } => fields!(s; 3, 5; who),
            Restart { who } => fields!(s; 4, 5; who),
        }
    }
}

/// The top level (`arbitrary_take_rest`): the steps take the rest.
impl Encode for sync::Input {
    fn encode(&self, s: Seed) -> Seed {
        let s = self.n.encode(s);
        let s = self.protected.encode(s);
        self.steps.encode(s)
    }
}

impl Encode for ffi::Str {
    fn encode(&self, s: Seed) -> Seed {
        use ffi::Str::*;
        match self {
            Null => fields!(s; 0, 6;),
            NullWithLen(n) => fields!(s; 1, 6; n),
            Text(b) => fields!(s; 2, 6; b),
            Prefix(b, n) => fields!(s; 3, 6; b, n),
            InvalidUtf8 => fields!(s; 4, 6;),
            Oversize => fields!(s; 5, 6;),
        }
    }
}

impl Encode for ffi::Source {
    fn encode(&self, s: Seed) -> Seed {
        match self {
            ffi::Source::Str(x) => fields!(s; 0, 2; x),
            ffi::Source::Kept(k) => fields!(s; 1, 2; k),
        }
    }
}

impl Encode for ffi::ConfOptions {
    fn encode(&self, s: Seed) -> Seed {
        let s = self.is_protected.encode(s);
        let s = self.audio_only.encode(s);
        let s = self.participant_limit.encode(s);
        let s = self.empty_ttl_secs.encode(s);
        self.token_ttl_secs.encode(s)
    }
}

impl Encode for ffi::PlatformOptions {
    fn encode(&self, s: Seed) -> Seed {
        let s = self.token_ttl_secs.encode(s);
        let s = self.leeway_secs.encode(s);
        let s = self.empty_ttl_secs.encode(s);
        let s = self.max_queued_events.encode(s);
        self.token_refresh_lead_secs.encode(s)
    }
}

impl Encode for ffi::Op {
    fn encode(&self, s: Seed) -> Seed {
        use ffi::Op::*;
        const N: u32 = 31;
        match self {
            ClockNew { now } => fields!(s; 0, N; now),
            ClockMove { clock, set, value } => fields!(s; 1, N; clock, set, value),
            PlatformNew {
                fixed_seed,
                kid,
                clock,
                options,
                with,
            } => {
                fields!(s; 2, N; fixed_seed, kid, clock, options, with)
            }
            Rest {
                platform,
                method,
                path,
                body,
            } => fields!(s; 3, N; platform, method, path, body),
            PlatformQuery { platform, jwks } => fields!(s; 4, N; platform, jwks),
            SessionOpen {
                platform,
                external_id,
                name,
                avatar,
            } => {
                fields!(s; 5, N; platform, external_id, name, avatar)
            }
            SessionQuery { session, what } => fields!(s; 6, N; session, what),
            SetListener {
                session,
                callback,
                release,
            } => fields!(s; 7, N; session, callback, release),
            HandleMessage { session, message } => fields!(s; 8, N; session, message),
            Create {
                session,
                alias,
                options,
                token_out,
            } => {
                fields!(s; 9, N; session, alias, options, token_out)
            }
            Fetch {
                session,
                conference,
                alias,
            } => fields!(s; 10, N; session, conference, alias),
            Enter {
                session,
                conference,
                token,
                listen,
            } => {
                fields!(s; 11, N; session, conference, token, listen)
            }
            Report {
                session,
                conference,
                report,
            } => fields!(s; 12, N; session, conference, report),
            Exit {
                session,
                conference,
                how,
            } => fields!(s; 13, N; session, conference, how),
            Kick {
                session,
                conference,
                external_id,
            } => fields!(s; 14, N; session, conference, external_id),
            UpdatePermissions {
                session,
                conference,
                external_id,
                permissions,
            } => {
                fields!(s; 15, N; session, conference, external_id, permissions)
            }
            InviteListNew => fields!(s; 16, N;),
            InviteListAdd {
                list,
                external_id,
                has_permissions,
                permissions,
            } => {
                fields!(s; 17, N; list, external_id, has_permissions, permissions)
            }
            Invite {
                session,
                conference,
                list,
            } => fields!(s; 18, N; session, conference, list),
            VerifierFromJwks { json } => fields!(s; 19, N; json),
            VerifierFromKey { kid, key } => fields!(s; 20, N; kid, key),
            Verify {
                verifier,
                token,
                now,
                conference,
                leeway,
            } => {
                fields!(s; 21, N; verifier, token, now, conference, leeway)
            }
            ClientNew {
                external_id,
                verifier,
                clock,
            } => fields!(s; 22, N; external_id, verifier, clock),
            ClientRequest {
                client,
                kind,
                conference,
                text,
                number,
                list,
            } => {
                fields!(s; 23, N; client, kind, conference, text, number, list)
            }
            ClientReceive { client, message } => fields!(s; 24, N; client, message),
            ClientQuery {
                client,
                conference,
                bit,
                index,
            } => {
                fields!(s; 25, N; client, conference, bit, index)
            }
            Relay { client, session } => fields!(s; 26, N; client, session),
            Inspect { kind, slot, index } => fields!(s; 27, N; kind, slot, index),
            Free { kind, slot } => fields!(s; 28, N; kind, slot),
            Names { bit, status, name } => fields!(s; 29, N; bit, status, name),
            TestPanic => fields!(s; 30, N;),
        }
    }
}

impl Encode for ffi::Call {
    fn encode(&self, s: Seed) -> Seed {
        let s = self.op.encode(s);
        self.error_out.encode(s)
    }
}

/// Fails the run with the input's context: an oracle violation.
#[macro_export]
macro_rules! oracle {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            panic!("oracle violated: {}", format!($($arg)+));
        }
    };
}
