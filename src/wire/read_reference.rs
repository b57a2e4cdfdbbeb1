//! serde's reading of a server message, as the client did it before it had
//! its own reader (`super`): the reference the unit tests (`read_tests.rs`)
//! and the `wire_client` fuzz target compare the reader with. Built only for
//! tests and fuzzing (`--cfg fuzzing`, which cargo-fuzz sets).

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::Value;

use super::*;
use crate::snapshot::{ConferenceSnapshot, SessionSnapshot};

/// The top-level members with every payload raw, a member given twice
/// refused, `null` kept as given.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SerdeTop<'a> {
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

pub(crate) fn present<'de: 'a, 'a, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<&'a RawValue>, D::Error> {
    <&'a RawValue>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
pub(crate) struct SerdeTag<'a> {
    #[serde(default, borrow, rename = "type")]
    tag: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SerdeEnter {
    conference: ConferenceSnapshot,
    as_of_sequence: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SerdeEventFields<'a> {
    #[serde(default, borrow)]
    sequence: Option<&'a RawValue>,
    #[serde(default, borrow)]
    conference_id: Option<&'a RawValue>,
    #[serde(default, borrow)]
    event: Option<&'a RawValue>,
}

#[derive(Deserialize)]
pub(crate) struct SerdeResync<'a> {
    #[serde(default)]
    snapshot: Option<SessionSnapshot>,
    #[serde(default, borrow)]
    events: Option<Vec<SerdeEventFields<'a>>>,
}

pub(crate) fn serde_event(raw: &str) -> Result<EventSlot, WireError> {
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

pub(crate) fn serde_incoming(
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
pub(crate) enum Read<'a> {
    Event(IncomingEvent),
    Reply(Option<String>, Result<&'a str, ErrorBody>),
}

/// A message as serde reads it.
pub(crate) fn serde_message(bytes: &[u8]) -> Result<Read<'_>, WireError> {
    let text = std::str::from_utf8(bytes).map_err(|e| WireError::NotJson(e.to_string()))?;
    // A number beyond f64's range is refused wherever it is (serde_json
    // refused it in every value it built: a result, a buffered event).
    if let Err(e) = serde_json::from_str::<Value>(text) {
        if e.to_string().contains("number out of range") {
            return Err(WireError::NotJson(e.to_string()));
        }
    }
    // Not serde's own check: the reader reads a struct only from an object
    // (a documented difference), after any JSON whitespace, as serde does.
    if !text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .starts_with('{')
    {
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
pub(crate) fn our_message(bytes: &[u8]) -> Result<Read<'_>, WireError> {
    Ok(match server_message(bytes, &|_| Expect::Raw)? {
        ServerRead::Event(e) => Read::Event(e),
        ServerRead::Reply { id, outcome } => Read::Reply(
            id,
            outcome.map(|body| std::str::from_utf8(body.raw).expect("checked UTF-8")),
        ),
    })
}

pub(crate) fn enter_view(e: EnterResult) -> SerdeEnter {
    SerdeEnter {
        conference: e.conference,
        as_of_sequence: e.as_of_sequence,
    }
}

pub(crate) type ResyncView = (
    Option<SessionSnapshot>,
    Option<Vec<(Option<IncomingEvent>, Option<String>)>>,
);

pub(crate) fn resync_view(r: ResyncResult<'_>) -> ResyncView {
    let events = r
        .events
        .map(|list| list.into_iter().map(|e| outcome(e.read())).collect());
    (r.snapshot, events)
}

/// An event as read, its error by kind.
pub(crate) fn outcome(
    r: Result<IncomingEvent, WireError>,
) -> (Option<IncomingEvent>, Option<String>) {
    let k = kind(&r);
    (r.ok(), k)
}

/// Errors compare by kind (and the version or type they name), not text.
pub(crate) fn kind<T>(r: &Result<T, WireError>) -> Option<String> {
    r.as_ref().err().map(|e| match e {
        WireError::UnsupportedVersion { found } => format!("version {found}"),
        WireError::UnknownType(t) => format!("type {t}"),
        other => format!("{:?}", std::mem::discriminant(other)),
    })
}

/// Compares a result's reading as a join's and as a resync's; returns how
/// many of the two both readers accepted.
#[cfg(test)]
pub(crate) fn compare_results(raw: &str, context: &str) -> usize {
    // As a join's result.
    let ours = enter_result(raw.as_bytes()).ok().map(enter_view);
    let serde = serde_json::from_str::<SerdeEnter>(raw).ok();
    let mut accepted = usize::from(serde.is_some());
    assert_eq!(ours, serde, "as a join result: {context}");
    // As a resync's.
    let ours = resync_result(raw.as_bytes()).map(resync_view);
    let serde = serde_resync(raw);
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
#[cfg(test)]
pub(crate) fn compare(bytes: &[u8]) -> usize {
    let context = String::from_utf8_lossy(bytes);
    let ours = our_message(bytes);
    let serde = serde_message(bytes);
    assert_eq!(
        kind(&ours),
        kind(&serde),
        "{context}\nours {ours:?}\nserde {serde:?}"
    );
    typed_paths_agree(bytes, &ours, &context);
    if let (Ok(a), Ok(b)) = (&ours, &serde) {
        assert_eq!(a, b, "{context}");
        if let Read::Reply(_, Ok(raw)) = a {
            return compare_results(raw, &context);
        }
    }
    0
}

/// A result as serde reads it as a resync's.
fn serde_resync(raw: &str) -> Result<ResyncView, serde_json::Error> {
    serde_json::from_str::<SerdeResync<'_>>(raw).map(|r| {
        let events = r.events.map(|list| {
            list.iter()
                .map(|e| outcome(serde_incoming(e.sequence, e.conference_id, e.event)))
                .collect::<Vec<_>>()
        });
        (r.snapshot, events)
    })
}

/// The fuzz targets' oracle (`wire_client`), one-sided because the reader
/// is stricter than serde in the documented places (`super`'s module
/// documentation), where it refuses what serde read: whatever the reader
/// accepts, serde reads the same way, a message and a reply's result read as
/// a join's or a resync's (and in a resync, each event the reader accepts);
/// and a result read straight into its type during the message's pass agrees
/// with reading it afterwards. Panics where any of that fails.
#[doc(hidden)]
pub fn check_against_serde(bytes: &[u8]) {
    let context = String::from_utf8_lossy(bytes);
    let ours = our_message(bytes);
    typed_paths_agree(bytes, &ours, &context);
    let Ok(a) = &ours else {
        return;
    };
    match (a, serde_message(bytes)) {
        (Read::Event(a), Ok(Read::Event(b))) => {
            assert!(same_event(a, &b), "{context}\nours {a:?}\nserde {b:?}");
        }
        (a, Ok(b)) => assert_eq!(a, &b, "{context}"),
        (_, Err(e)) => panic!("the reader accepted what serde refuses ({e:?}): {context}"),
    }
    let Read::Reply(_, Ok(raw)) = a else {
        return;
    };
    if let Ok(enter) = enter_result(raw.as_bytes()) {
        let serde = serde_json::from_str::<SerdeEnter>(raw).ok();
        assert_eq!(
            Some(enter_view(enter)),
            serde,
            "as a join result: {context}"
        );
    }
    if let Ok(resync) = resync_result(raw.as_bytes()) {
        let (snapshot, events) = resync_view(resync);
        let (serde_snapshot, serde_events) = match serde_resync(raw) {
            Ok(view) => view,
            Err(e) => panic!("as a resync result, serde refuses ({e}): {context}"),
        };
        assert_eq!(snapshot, serde_snapshot, "a resync's snapshot: {context}");
        match (events, serde_events) {
            (None, None) => {}
            (Some(ours), Some(theirs)) => {
                assert_eq!(ours.len(), theirs.len(), "a resync's events: {context}");
                for (a, b) in ours.iter().zip(&theirs) {
                    if let (Some(a), b) = (&a.0, &b.0) {
                        let agrees = b.as_ref().is_some_and(|b| same_event(a, b));
                        assert!(
                            agrees,
                            "a resync's event: {context}\nours {a:?}\nserde {b:?}"
                        );
                    }
                }
            }
            (a, b) => panic!(
                "a resync's events: ours {}, serde {}: {context}",
                a.is_some(),
                b.is_some()
            ),
        }
    }
}

/// The same event, or one the reader skips as unknown (its kind `None`)
/// where serde read a known kind from a shape the reader refuses (a struct
/// from an array, a name from a map): the same type, sequence and
/// conference either way.
fn same_event(ours: &IncomingEvent, serde: &IncomingEvent) -> bool {
    ours == serde
        || (ours.kind.is_none()
            && serde.kind.is_some()
            && ours.type_name == serde.type_name
            && ours.sequence == serde.sequence
            && ours.conference_id == serde.conference_id)
}

/// Reading a join's or a resync's reply as the client does (the result
/// straight into its type) gives the same message as reading it raw, and
/// the same result as reading the raw result afterwards.
fn typed_paths_agree(bytes: &[u8], ours: &Result<Read<'_>, WireError>, context: &str) {
    for expect in [Expect::Enter, Expect::Resync] {
        let typed = server_message(bytes, &|_| expect);
        assert_eq!(kind(&typed), kind(ours), "{expect:?}: {context}");
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
}
