//! The device's reader against serde's reading of the same bytes (what the
//! client did before it had its own reader): the server fixtures and the
//! recorded flow's messages, each mutated many times (values replaced by
//! others of every JSON type, members removed, added, given twice, names
//! escaped, whitespace added, members in any order), and every message, event, error body, roster
//! and resync result compared. The three documented differences (see the
//! module) are tested on their own, below.
//!
//! `CONFKIT_WIRE_CASES` sets the number of mutated messages (default 30,000).

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::*;
use crate::snapshot::{ConferenceSnapshot, SessionSnapshot};

// ---- the reference: serde's reading ----

/// The top-level members with every payload raw, a member given twice
/// refused, `null` kept as given.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SerdeTop<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    v: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present", rename = "type")]
    message_type: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    sequence: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    conference_id: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    event: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    error: Option<&'a RawValue>,
}

fn present<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<&'a RawValue>, D::Error> {
    <&'a RawValue>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct SerdeTag<'a> {
    #[serde(default, borrow, rename = "type")]
    tag: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct SerdeEnter {
    conference: ConferenceSnapshot,
    as_of_sequence: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SerdeEventFields<'a> {
    #[serde(default, borrow)]
    sequence: Option<&'a RawValue>,
    #[serde(default, borrow)]
    conference_id: Option<&'a RawValue>,
    #[serde(default, borrow)]
    event: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct SerdeResync<'a> {
    #[serde(default)]
    snapshot: Option<SessionSnapshot>,
    #[serde(default, borrow)]
    events: Option<Vec<SerdeEventFields<'a>>>,
}

fn serde_event(raw: &str) -> Result<EventSlot, WireError> {
    if !raw.starts_with('{') {
        return Err(WireError::Invalid("event must be an object".into()));
    }
    if let Ok(kind) = serde_json::from_str::<EventKind>(raw) {
        return Ok(EventSlot::Known(kind));
    }
    match serde_json::from_str::<SerdeTag<'_>>(raw) {
        Ok(SerdeTag { tag: Some(t) }) => Ok(EventSlot::Unknown(t.into_owned())),
        _ => Err(WireError::Invalid("event.type must be a string".into())),
    }
}

fn serde_incoming(
    sequence: Option<&RawValue>,
    conference_id: Option<&RawValue>,
    event: Option<&RawValue>,
) -> Result<IncomingEvent, WireError> {
    let slot = event.map(|e| serde_event(e.get())).transpose()?;
    let sequence = sequence
        .and_then(|r| serde_json::from_str::<u64>(r.get()).ok())
        .ok_or_else(|| WireError::Invalid("sequence".into()))?;
    let conference_id = match conference_id.map(RawValue::get) {
        None | Some("null") => None,
        Some(raw) => {
            let s = serde_json::from_str::<Cow<'_, str>>(raw)
                .map_err(|_| WireError::Invalid("conferenceId".into()))?;
            Some(ConferenceId::parse(&s).map_err(|_| WireError::Invalid("conferenceId".into()))?)
        }
    };
    let (type_name, kind) = match slot {
        Some(EventSlot::Known(kind)) => (Cow::Borrowed(kind.type_name()), Some(kind)),
        Some(EventSlot::Unknown(t)) => (Cow::Owned(t), None),
        None => return Err(WireError::Invalid("event".into())),
    };
    Ok(IncomingEvent {
        sequence,
        conference_id,
        type_name,
        kind,
    })
}

/// A message in one shape for both readers: a reply's result as its text.
#[derive(Debug, PartialEq)]
enum Read<'a> {
    Event(IncomingEvent),
    Reply(Option<String>, Result<&'a str, ErrorBody>),
}

/// A message as serde reads it.
fn serde_message(bytes: &[u8]) -> Result<Read<'_>, WireError> {
    let text = std::str::from_utf8(bytes).map_err(|e| WireError::NotJson(e.to_string()))?;
    // A number beyond f64's range is refused wherever it is (serde_json
    // refused it in every value it built: a result, a buffered event).
    if let Err(e) = serde_json::from_str::<Value>(text) {
        if e.to_string().contains("number out of range") {
            return Err(WireError::NotJson(e.to_string()));
        }
    }
    if !text.starts_with('{') {
        return Err(WireError::NotJson("not an object".into()));
    }
    let m: SerdeTop<'_> =
        serde_json::from_str(text).map_err(|e| WireError::NotJson(e.to_string()))?;
    let v =
        m.v.and_then(|r| serde_json::from_str::<Value>(r.get()).ok())
            .and_then(|v| v.as_u64());
    match v {
        Some(PROTOCOL_VERSION) => {}
        Some(n) => {
            return Err(WireError::UnsupportedVersion {
                found: VersionSeen::Number(n),
            })
        }
        None => {
            return Err(WireError::UnsupportedVersion {
                found: VersionSeen::Missing,
            })
        }
    }
    let t = m
        .message_type
        .and_then(|r| serde_json::from_str::<Cow<'_, str>>(r.get()).ok())
        .ok_or_else(|| WireError::Invalid("type".into()))?;
    match &*t {
        "event" => Ok(Read::Event(serde_incoming(
            m.sequence,
            m.conference_id,
            m.event,
        )?)),
        "reply" => {
            let id = match m.id.map(RawValue::get) {
                None | Some("null") => None,
                Some(raw) => Some(
                    serde_json::from_str::<String>(raw)
                        .map_err(|_| WireError::Invalid("id".into()))?,
                ),
            };
            let outcome = match (m.result, m.error) {
                (Some(r), None) if r.get().starts_with('{') => Ok(r.get()),
                (None, Some(e)) => Err(serde_json::from_str::<ErrorBody>(e.get())
                    .map_err(|_| WireError::Invalid("error".into()))?),
                _ => return Err(WireError::Invalid("either".into())),
            };
            Ok(Read::Reply(id, outcome))
        }
        other => Err(WireError::UnknownType(other.to_owned())),
    }
}

/// The same, from this module's reader.
fn our_message(bytes: &[u8]) -> Result<Read<'_>, WireError> {
    Ok(match server_message(bytes, &|_| Expect::Raw)? {
        ServerRead::Event(e) => Read::Event(e),
        ServerRead::Reply { id, outcome } => Read::Reply(
            id,
            outcome.map(|body| std::str::from_utf8(body.raw).expect("checked UTF-8")),
        ),
    })
}

fn enter_view(e: EnterResult) -> SerdeEnter {
    SerdeEnter {
        conference: e.conference,
        as_of_sequence: e.as_of_sequence,
    }
}

type ResyncView = (
    Option<SessionSnapshot>,
    Option<Vec<(Option<IncomingEvent>, Option<String>)>>,
);

fn resync_view(r: ResyncResult<'_>) -> ResyncView {
    let events = r
        .events
        .map(|list| list.into_iter().map(|e| outcome(e.read())).collect());
    (r.snapshot, events)
}

/// An event as read, its error by kind.
fn outcome(r: Result<IncomingEvent, WireError>) -> (Option<IncomingEvent>, Option<String>) {
    let k = kind(&r);
    (r.ok(), k)
}

/// Errors compare by kind (and the version or type they name), not text.
fn kind<T>(r: &Result<T, WireError>) -> Option<String> {
    r.as_ref().err().map(|e| match e {
        WireError::UnsupportedVersion { found } => format!("version {found}"),
        WireError::UnknownType(t) => format!("type {t}"),
        other => format!("{:?}", std::mem::discriminant(other)),
    })
}

/// Compares a result's reading as a join's and as a resync's; returns how
/// many of the two both readers accepted.
fn compare_results(raw: &str, context: &str) -> usize {
    // As a join's result.
    let ours = enter_result(raw.as_bytes()).ok().map(enter_view);
    let serde = serde_json::from_str::<SerdeEnter>(raw).ok();
    let mut accepted = usize::from(serde.is_some());
    assert_eq!(ours, serde, "as a join result: {context}");
    // As a resync's.
    let ours = resync_result(raw.as_bytes()).map(resync_view);
    let serde = serde_json::from_str::<SerdeResync<'_>>(raw).map(|r| {
        let events = r.events.map(|list| {
            list.iter()
                .map(|e| outcome(serde_incoming(e.sequence, e.conference_id, e.event)))
                .collect::<Vec<_>>()
        });
        (r.snapshot, events)
    });
    match (ours, serde) {
        (Ok(a), Ok(b)) => {
            accepted += usize::from(a.0.is_some() || a.1.is_some());
            assert_eq!(a, b, "as a resync result: {context}");
        }
        (Err(_), Err(_)) => {}
        (a, b) => panic!(
            "as a resync result: ours ok={}, serde ok={}: {context}",
            a.is_ok(),
            b.is_ok()
        ),
    }
    accepted
}

/// Compares the readings of a message; returns how many of its result's
/// readings (as a join's, as a resync's) both readers accepted.
fn compare(bytes: &[u8]) -> usize {
    let context = String::from_utf8_lossy(bytes);
    let ours = our_message(bytes);
    let serde = serde_message(bytes);
    assert_eq!(
        kind(&ours),
        kind(&serde),
        "{context}\nours {ours:?}\nserde {serde:?}"
    );
    // Read as the client reads a join's or a resync's reply (the result
    // straight into its type): the same message, and the same result.
    for expect in [Expect::Enter, Expect::Resync] {
        let typed = server_message(bytes, &|_| expect);
        assert_eq!(kind(&typed), kind(&ours), "{expect:?}: {context}");
        let Ok(ServerRead::Reply {
            outcome: Ok(body), ..
        }) = typed
        else {
            continue;
        };
        match body.typed {
            Typed::Enter(read) => assert_eq!(
                read.ok().map(enter_view),
                enter_result(body.raw).ok().map(enter_view),
                "{context}"
            ),
            Typed::Resync(read) => assert_eq!(
                read.ok().map(resync_view),
                resync_result(body.raw).ok().map(resync_view),
                "{context}"
            ),
            Typed::None => {}
        }
    }
    if let (Ok(a), Ok(b)) = (&ours, &serde) {
        assert_eq!(a, b, "{context}");
        if let Read::Reply(_, Ok(raw)) = a {
            return compare_results(raw, &context);
        }
    }
    0
}

// ---- the inputs ----

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<Value> {
    let fixtures = [
        include_str!("../../tests/fixtures/wire/server/01-reply-join.json"),
        include_str!("../../tests/fixtures/wire/server/02-reply-invite.json"),
        include_str!("../../tests/fixtures/wire/server/03-reply-error.json"),
        include_str!("../../tests/fixtures/wire/server/04-reply-error-no-id.json"),
        include_str!("../../tests/fixtures/wire/server/05-event-participant-updated.json"),
        include_str!("../../tests/fixtures/wire/server/06-event-invitation.json"),
        include_str!("../../tests/fixtures/wire/server/07-event-events-missed.json"),
        include_str!("../../tests/fixtures/wire/server/08-event-unknown-type.json"),
        include_str!("../../tests/fixtures/wire/server/09-reply-resync-events.json"),
        include_str!("../../tests/fixtures/wire/server/10-reply-resync-snapshot.json"),
    ];
    let flow = include_str!("../../tests/fixtures/wire/flows/bob.flow");
    fixtures
        .into_iter()
        .map(str::to_owned)
        .chain(
            flow.lines()
                .filter_map(|l| l.strip_prefix("recv "))
                .map(str::to_owned),
        )
        .map(|t| serde_json::from_str(&t).expect("a seed is JSON"))
        .collect()
}

/// Member names worth adding: those the readers know, and one they do not.
const NAMES: [&str; 24] = [
    "v",
    "type",
    "id",
    "sequence",
    "conferenceId",
    "event",
    "result",
    "error",
    "token",
    "permissions",
    "reason",
    "status",
    "externalId",
    "name",
    "avatarUrl",
    "revision",
    "snapshot",
    "events",
    "participantLimit",
    "isProtected",
    "error_code",
    "oldStatus",
    "expiresAt",
    "future",
];

fn scalar(rng: &mut Rng) -> Value {
    let strings = [
        "",
        "x",
        "bob",
        "ON_AIR",
        "KICKED",
        "USER",
        "LISTENER",
        "JOIN",
        "TELEPORT",
        "TERMINATED",
        "EXPIRED",
        "event",
        "reply",
        "participantAdded",
        "eventsMissed",
        "switched",
        "25649f3b-ebf1-49e9-b982-2d78d2964d37",
        "25649f3bebf149e9b9822d78d2964d37",
        "{25649f3b-ebf1-49e9-b982-2d78d2964d37}",
        "a\u{1}b",
        "é\"\\",
    ];
    match rng.below(16) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::from(rng.below(3) as u64),
        3 => Value::from(-1),
        4 => Value::from(1.5),
        5 => Value::from(u64::MAX),
        6 => Value::from(u64::from(u32::MAX) + rng.below(2) as u64),
        7 => Value::from(i64::from(i32::MIN) - rng.below(2) as i64),
        8 => Value::from(i64::from(i32::MAX) + rng.below(2) as i64),
        9 => Value::from(1e300),
        10 => Value::from(-0.0),
        _ => Value::from(strings[rng.below(strings.len())]),
    }
}

fn any_value(rng: &mut Rng, array_allowed: bool) -> Value {
    match rng.below(10) {
        0 if array_allowed => Value::Array(vec![]),
        1 if array_allowed => Value::Array(vec![scalar(rng), scalar(rng)]),
        2 if array_allowed => Value::from(vec!["JOIN", "KICK"]),
        3 => Value::Object(Map::new()),
        4 => {
            let mut m = Map::new();
            m.insert(NAMES[rng.below(NAMES.len())].into(), scalar(rng));
            Value::Object(m)
        }
        _ => scalar(rng),
    }
}

/// Every node's path (indices into objects' members and arrays).
fn paths(v: &Value, here: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    out.push(here.clone());
    let children: Vec<&Value> = match v {
        Value::Object(m) => m.values().collect(),
        Value::Array(a) => a.iter().collect(),
        _ => return,
    };
    for (i, c) in children.into_iter().enumerate() {
        here.push(i);
        paths(c, here, out);
        here.pop();
    }
}

fn node<'v>(v: &'v mut Value, path: &[usize]) -> &'v mut Value {
    match path.split_first() {
        None => v,
        Some((&i, rest)) => match v {
            Value::Object(m) => node(m.values_mut().nth(i).expect("a path is valid"), rest),
            Value::Array(a) => node(&mut a[i], rest),
            _ => unreachable!("a path is valid"),
        },
    }
}

/// A member's name whose value a serde struct reads (never given an array
/// here: serde would read the struct from it, which this reader refuses on
/// purpose).
fn struct_member(name: &str) -> bool {
    matches!(
        name,
        "event" | "result" | "error" | "inviter" | "participant" | "conference" | "snapshot"
    )
}

fn mutate(rng: &mut Rng, v: &mut Value) {
    let mut all = Vec::new();
    paths(v, &mut Vec::new(), &mut all);
    let path = &all[rng.below(all.len())];
    let target = node(v, path);
    match rng.below(6) {
        // A value of the same JSON type (a boundary number, another name).
        0..=2 => tweak(rng, target),
        // A value of any type.
        3 => {
            let was_object = target.is_object();
            *target = any_value(rng, !was_object);
        }
        // Remove a member.
        4 => {
            if let Value::Object(m) = target {
                if let Some(k) = m.keys().nth(rng.below(m.len())).cloned() {
                    m.remove(&k);
                }
            }
        }
        // Add (or overwrite) a member.
        _ => {
            if let Value::Object(m) = target {
                let name = NAMES[rng.below(NAMES.len())];
                let value = any_value(rng, !struct_member(name));
                m.insert(name.into(), value);
            }
        }
    }
}

/// Replaces a value by another of its JSON type, where readers are most
/// likely to differ (ranges, names, list contents).
fn tweak(rng: &mut Rng, target: &mut Value) {
    match target {
        Value::Number(_) | Value::Bool(_) | Value::Null => loop {
            let v = scalar(rng);
            if !v.is_string() {
                *target = v;
                break;
            }
        },
        Value::String(_) => loop {
            let v = scalar(rng);
            if v.is_string() {
                *target = v;
                break;
            }
        },
        Value::Array(a) => {
            if a.is_empty() || rng.below(2) == 0 {
                a.push(scalar(rng));
            } else {
                a.remove(rng.below(a.len()));
            }
        }
        Value::Object(m) => {
            let name = NAMES[rng.below(NAMES.len())];
            m.insert(name.into(), scalar(rng));
        }
    }
}

/// `v` as text with each object's members in a random order (the server
/// writes `type` first; serde_json's own text would sort them).
fn shuffled(rng: &mut Rng, v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut members: Vec<(&String, &Value)> = m.iter().collect();
            for i in (1..members.len()).rev() {
                members.swap(i, rng.below(i + 1));
            }
            out.push('{');
            for (n, (k, v)) in members.into_iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(k.as_str()).to_string());
                out.push(':');
                shuffled(rng, v, out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (n, v) in a.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                shuffled(rng, v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Text-level changes: members in any order, a member given twice, an
/// escaped name, whitespace.
fn retext(rng: &mut Rng, v: &Value) -> String {
    let mut text = String::new();
    shuffled(rng, v, &mut text);
    match rng.below(6) {
        0 => {
            // Give the first member of some object twice.
            let starts: Vec<usize> = text.match_indices("{\"").map(|(i, _)| i).collect();
            let Some(&at) = starts.get(rng.below(starts.len())) else {
                return text;
            };
            match first_object(&text[at..]) {
                Ok(Value::Object(m)) => match m.iter().next() {
                    Some((k, val)) => format!(
                        "{}{}:{val},{}",
                        &text[..=at],
                        Value::from(k.as_str()),
                        &text[at + 1..]
                    ),
                    None => text,
                },
                _ => text,
            }
        }
        1 => text.replacen("\"type\":", "\"\\u0074ype\":", 1),
        // A number beyond f64's range (which a `Value` cannot hold), in a
        // member of its own or in place of a number.
        3 => {
            let big = ["1e400", "-1e400", "1.8e308"][rng.below(3)];
            let numbers: Vec<usize> = text
                .match_indices("\":")
                .map(|(i, _)| i + 2)
                .filter(|&i| matches!(text.as_bytes().get(i), Some(b'0'..=b'9' | b'-')))
                .collect();
            match numbers.get(rng.below(numbers.len())) {
                Some(&at) if rng.below(2) == 0 => {
                    let len = text[at..]
                        .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
                        .unwrap_or(text.len() - at);
                    format!("{}{big}{}", &text[..at], &text[at + len..])
                }
                _ => text.replacen('{', &format!("{{\"future\":{big},"), 1),
            }
        }
        2 => text.replace(',', " ,\n\t").replace(':', " : "),
        _ => text,
    }
}

/// The object at the start of `text` (which goes on after it).
fn first_object(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    de.next().unwrap_or(Ok(Value::Null))
}

#[test]
fn the_reader_agrees_with_serde_on_mutated_messages() {
    let cases: usize = std::env::var("CONFKIT_WIRE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30_000);
    let seeds = seeds();
    for s in &seeds {
        compare(s.to_string().as_bytes());
    }
    let mut rng = Rng(0x5eed_2026_1207);
    let (mut accepted, mut refused, mut results) = (0, 0, 0);
    for _ in 0..cases {
        let mut v = seeds[rng.below(seeds.len())].clone();
        for _ in 0..=rng.below(3) {
            mutate(&mut rng, &mut v);
        }
        let text = retext(&mut rng, &v);
        results += compare(text.as_bytes());
        if server_message(text.as_bytes(), &|_| Expect::Raw).is_ok() {
            accepted += 1;
        } else {
            refused += 1;
        }
    }
    // Both outcomes are well represented, and results were read deeply (a
    // roster or a resync accepted), or the comparison says little.
    println!("{cases} messages: {accepted} read, {refused} refused; {results} results read as a roster or a resync");
    assert!(
        accepted > cases / 5 && refused > cases / 5,
        "{accepted} / {refused}"
    );
    assert!(results > cases / 20, "{results}");
}

// ---- the documented differences, and the bounds ----

#[test]
fn a_result_nests_at_most_as_deep_as_serde_json_reads_values() {
    let max = MAX_NESTING - 1;
    for depth in [1, max - 1, max, max + 1, 10_000] {
        let result = format!(
            "{}{}{}",
            "{\"a\":".repeat(depth - 1),
            "{}",
            "}".repeat(depth - 1)
        );
        let message = format!(r#"{{"v":1,"type":"reply","id":"c1","result":{result}}}"#);
        let serde = serde_json::from_str::<Value>(&result);
        for expect in [Expect::Raw, Expect::Enter, Expect::Resync] {
            let ours = server_message(message.as_bytes(), &|_| expect);
            assert_eq!(ours.is_ok(), serde.is_ok(), "depth {depth}");
            assert_eq!(ours.is_ok(), depth <= max, "depth {depth}");
            if let Err(e) = ours {
                assert!(matches!(e, WireError::NotJson(_)), "{e:?}");
            }
        }
    }
    // The bound holds also in members this library skips.
    for (depth, ok) in [(max, true), (max + 1, false), (5_000, false)] {
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let message = format!(
            r#"{{"v":1,"type":"event","sequence":1,"future":{deep},"event":{{"type":"x"}}}}"#
        );
        assert_eq!(
            server_message(message.as_bytes(), &|_| Expect::Raw).is_ok(),
            ok,
            "{depth}"
        );
    }
}

#[test]
fn a_lone_surrogate_is_refused_even_where_it_is_skipped() {
    let message = r#"{"v":1,"type":"event","sequence":1,"future":"\ud800","event":{"type":"x"}}"#;
    // serde_json skipped it; this reader refuses it (RFC 8259 section 8.1).
    assert!(serde_message(message.as_bytes()).is_ok());
    assert!(matches!(
        server_message(message.as_bytes(), &|_| Expect::Raw),
        Err(WireError::NotJson(_))
    ));
}

#[test]
fn a_struct_is_read_only_from_an_object() {
    // serde reads a struct from an array of its members in order.
    let message = r#"{"v":1,"type":"event","sequence":1,"conferenceId":"25649f3b-ebf1-49e9-b982-2d78d2964d37","event":{"type":"invitationReceived","conferenceAlias":"a","inviter":["bob"]}}"#;
    let Ok(ServerRead::Event(ours)) = server_message(message.as_bytes(), &|_| Expect::Raw) else {
        panic!("the message reads");
    };
    assert_eq!(
        ours.kind, None,
        "an event in a shape it cannot read is skipped"
    );
    assert_eq!(ours.type_name, "invitationReceived");
    let Ok(Read::Event(serde)) = serde_message(message.as_bytes()) else {
        panic!("serde reads it");
    };
    assert!(matches!(
        serde.kind,
        Some(EventKind::InvitationReceived { .. })
    ));
    // Nor a name (here an end reason) from a map, as serde reads an enum.
    let message = r#"{"v":1,"type":"event","sequence":1,"conferenceId":"25649f3b-ebf1-49e9-b982-2d78d2964d37","event":{"type":"conferenceEnded","reason":{"EXPIRED":null}}}"#;
    let Ok(ServerRead::Event(ours)) = server_message(message.as_bytes(), &|_| Expect::Raw) else {
        panic!("the message reads");
    };
    assert_eq!(ours.kind, None);
    let Ok(Read::Event(serde)) = serde_message(message.as_bytes()) else {
        panic!("serde reads it");
    };
    assert!(matches!(
        serde.kind,
        Some(EventKind::ConferenceEnded { .. })
    ));
}

#[test]
fn members_given_twice_are_refused_where_they_are_read() {
    let base = r#"{"v":1,"type":"event","sequence":1,"conferenceId":"25649f3b-ebf1-49e9-b982-2d78d2964d37","event":{"type":"switched","externalId":"bob"}}"#;
    let twice = base.replace(r#""sequence":1"#, r#""sequence":1,"sequence":1"#);
    assert!(matches!(
        server_message(twice.as_bytes(), &|_| Expect::Raw),
        Err(WireError::NotJson(_))
    ));
    // In the event: its type's member twice makes it unreadable (skipped);
    // another type's member twice is skipped with it.
    let in_event = base.replace(
        r#""externalId":"bob""#,
        r#""externalId":"bob","externalId":"bob""#,
    );
    let Ok(ServerRead::Event(e)) = server_message(in_event.as_bytes(), &|_| Expect::Raw) else {
        panic!("the message reads");
    };
    assert_eq!(e.kind, None);
    let other = base.replace(
        r#""externalId":"bob""#,
        r#""externalId":"bob","reason":1,"reason":2"#,
    );
    let Ok(ServerRead::Event(e)) = server_message(other.as_bytes(), &|_| Expect::Raw) else {
        panic!("the message reads");
    };
    assert!(e.kind.is_some());
    let type_twice = base.replace(
        r#""type":"switched""#,
        r#""type":"switched","type":"switched""#,
    );
    assert!(matches!(
        server_message(type_twice.as_bytes(), &|_| Expect::Raw),
        Err(WireError::Invalid(_))
    ));
    for m in [twice, in_event, other, type_twice] {
        compare(m.as_bytes());
    }
}

#[test]
fn a_roster_or_a_resync_is_read_in_the_same_pass_as_its_message() {
    let join = include_bytes!("../../tests/fixtures/wire/server/01-reply-join.json");
    let resync = include_bytes!("../../tests/fixtures/wire/server/10-reply-resync-snapshot.json");
    let events = include_bytes!("../../tests/fixtures/wire/server/09-reply-resync-events.json");
    let Ok(ServerRead::Reply {
        outcome: Ok(ResultBody {
            typed: Typed::Enter(Ok(_)),
            ..
        }),
        ..
    }) = server_message(join, &|_| Expect::Enter)
    else {
        panic!("a join's roster reads in one pass");
    };
    for m in [&resync[..], &events[..]] {
        let Ok(ServerRead::Reply {
            outcome:
                Ok(ResultBody {
                    typed: Typed::Resync(Ok(_)),
                    ..
                }),
            ..
        }) = server_message(m, &|_| Expect::Resync)
        else {
            panic!("a resync's result reads in one pass");
        };
    }
}
