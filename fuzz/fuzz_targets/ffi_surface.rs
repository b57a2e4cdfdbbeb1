//! The C ABI, called as a C program would (through the `extern "C"`
//! functions of `confkit::ffi`): a sequence of calls with NULLs, lengths
//! shorter than the text, invalid UTF-8 and oversize inputs, within the
//! documented contract (only NULL or live objects and buffers the run owns
//! are passed; nothing is freed twice; clocks outlive what uses them).
//!
//! Input: `Vec<ffi::Call>` (structured with `arbitrary`, see
//! `confkit_fuzz::ffi`). `{c0}`.. in a text are the ids of conferences the
//! run created, `{t0}`.. the tokens (and JWK sets) it was handed.
//!
//! Oracle:
//! - every status is one of the `CONFKIT_STATUS_*` values and never PANIC
//!   (except from `confkit_test_panic`, which documents it);
//! - with `error_out`, a failure leaves an error whose code is the status
//!   and whose message is UTF-8, a success leaves `error_out` untouched;
//! - outputs are written on success only (sentinels are checked);
//! - what the header promises for particular calls: `handle_message` and
//!   `handle_rest` answer OK whenever their arguments are usable,
//!   `view_at` / `inbox_at` past the end fail with INVALID_ARGUMENT, a
//!   status name is never NULL, borrowed strings are NUL-terminated UTF-8;
//! - listeners are released exactly once, and only once registered;
//! - after everything is freed, `confkit_live_objects()` is back where it
//!   started.
#![no_main]

use std::cell::Cell;
use std::ffi::{c_char, c_void, CStr};
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

use confkit::ffi::client::*;
use confkit::ffi::clock::*;
use confkit::ffi::conference::*;
use confkit::ffi::names::*;
use confkit::ffi::platform::*;
use confkit::ffi::requests::*;
use confkit::ffi::session::*;
use confkit::ffi::token::*;
use confkit::ffi::*;
use confkit_fuzz::ffi::{Call, ConfOptions, Op, PlatformOptions, Source, Str};
use confkit_fuzz::{oracle, substitute, SEED};
use libfuzzer_sys::fuzz_target;

const SENTINEL_LEN: usize = 0xDEAD_BEEF;
const SENTINEL_U64: u64 = 0xDEAD_BEEF_0000_0001;
const SENTINEL_STATUS: confkit_status = -7777;
const CAP: usize = 8;

fn oversize() -> &'static [u8] {
    static BIG: OnceLock<Vec<u8>> = OnceLock::new();
    BIG.get_or_init(|| vec![b'a'; 300 * 1024])
}

/// What a listener's `user_data` points to.
struct ListenerData {
    calls: Cell<u64>,
    released: Cell<u32>,
    /// Whether confkit kept it (the set call succeeded with a callback and a
    /// release function).
    registered: Cell<bool>,
}

unsafe extern "C" fn on_wake(user_data: *mut c_void, _session: u64) {
    // SAFETY: user_data is a ListenerData the harness keeps alive to the end.
    let d = unsafe { &*(user_data as *const ListenerData) };
    d.calls.set(d.calls.get() + 1);
    // Calls back into confkit, as hosts do.
    let _ = confkit_live_objects();
}

unsafe extern "C" fn on_release(user_data: *mut c_void) {
    // SAFETY: as above.
    let d = unsafe { &*(user_data as *const ListenerData) };
    d.released.set(d.released.get() + 1);
}

/// An argument's bytes, kept alive for the call.
struct Arg {
    _own: Option<Vec<u8>>,
    ptr: *const u8,
    len: usize,
}

impl Arg {
    fn owned(bytes: Vec<u8>) -> Arg {
        let ptr = bytes.as_ptr();
        let len = bytes.len();
        Arg {
            _own: Some(bytes),
            ptr,
            len,
        }
    }
}

#[derive(Default)]
struct H {
    clocks: Vec<*mut confkit_clock>,
    platforms: Vec<*mut confkit_platform>,
    sessions: Vec<*mut confkit_session>,
    verifiers: Vec<*mut confkit_verifier>,
    clients: Vec<*mut confkit_client>,
    lists: Vec<*mut confkit_invite_list>,
    events: Vec<*mut confkit_event>,
    claims: Vec<*mut confkit_claims>,
    infos: Vec<*mut confkit_conference_info>,
    results: Vec<*mut confkit_invite_results>,
    updates: Vec<*mut confkit_updates>,
    views: Vec<*mut confkit_view>,
    invitations: Vec<*mut confkit_invitation>,
    buffers: Vec<confkit_buffer>,
    /// The last request each client built (by its pointer).
    requests: Vec<(*mut confkit_client, Vec<u8>)>,
    confs: Vec<String>,
    tokens: Vec<String>,
    listeners: Vec<Box<ListenerData>>,
    want_error: bool,
    panic_allowed: bool,
}

fn pick<T>(v: &[*mut T], k: u8) -> *mut T {
    if k == 0 || v.is_empty() {
        null_mut()
    } else {
        v[usize::from(k - 1) % v.len()]
    }
}

/// A borrowed C string getter's result: NULL, or NUL-terminated UTF-8.
unsafe fn text(p: *const c_char, what: &str) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: confkit promises a NUL-terminated string valid until its owner is freed.
    let s = unsafe { CStr::from_ptr(p) };
    match s.to_str() {
        Ok(t) => Some(t.to_owned()),
        Err(e) => panic!("oracle violated: {what} is not UTF-8: {e}"),
    }
}

fn remember(list: &mut Vec<String>, s: String) {
    if !list.contains(&s) && list.len() < 10 {
        list.push(s);
    }
}

/// Keeps an object, freeing the oldest of its kind beyond [`CAP`].
fn keep_obj<T>(vec: &mut Vec<*mut T>, p: *mut T, free: unsafe extern "C" fn(*mut T)) {
    if vec.len() >= CAP {
        let old = vec.remove(0);
        // SAFETY: a live object of that kind, freed once.
        unsafe { free(old) };
    }
    vec.push(p);
}

macro_rules! keep {
    ($vec:expr, $p:expr, $free:ident) => {
        keep_obj(&mut $vec, $p, $free)
    };
}

impl H {
    fn arg(&self, s: &Str) -> Arg {
        match s {
            Str::Null => Arg {
                _own: None,
                ptr: null(),
                len: 0,
            },
            Str::NullWithLen(n) => Arg {
                _own: None,
                ptr: null(),
                len: usize::from(*n).max(1),
            },
            Str::Text(b) => Arg::owned(substitute(&b.0, &self.confs, &self.tokens)),
            Str::Prefix(b, n) => {
                let bytes = substitute(&b.0, &self.confs, &self.tokens);
                let len = usize::from(*n) % (bytes.len() + 1);
                let mut a = Arg::owned(bytes);
                a.len = len;
                a
            }
            Str::InvalidUtf8 => Arg::owned(b"bad \xff\xfe utf-8 \xc3".to_vec()),
            Str::Oversize => Arg {
                _own: None,
                ptr: oversize().as_ptr(),
                len: oversize().len(),
            },
        }
    }

    fn source(&self, s: &Source) -> Arg {
        match s {
            Source::Str(s) => self.arg(s),
            Source::Kept(k) => match self.buffers.len() {
                0 => Arg {
                    _own: None,
                    ptr: null(),
                    len: 0,
                },
                n => {
                    let b = &self.buffers[usize::from(*k) % n];
                    Arg {
                        _own: None,
                        ptr: b.data,
                        len: b.len,
                    }
                }
            },
        }
    }

    fn err_slot(&self, err: &mut *mut confkit_error) -> *mut *mut confkit_error {
        if self.want_error {
            err
        } else {
            null_mut()
        }
    }

    /// The status oracle; frees the error. Returns whether it is OK.
    fn check(&self, status: confkit_status, err: *mut confkit_error, what: &str) -> bool {
        let known = confkit::ErrorCode::from_value(status).is_some();
        oracle!(known, "{what}: undocumented status {status}");
        oracle!(
            status != CONFKIT_STATUS_PANIC || self.panic_allowed,
            "{what}: PANIC: {:?}",
            // SAFETY: NULL or a live error.
            unsafe { text(confkit_error_message(err), "error message") }
        );
        if self.want_error {
            if status == CONFKIT_STATUS_OK {
                oracle!(err.is_null(), "{what}: OK but error_out was written");
            } else {
                oracle!(
                    !err.is_null(),
                    "{what}: status {status} without an error object"
                );
                // SAFETY: a live error from confkit.
                unsafe {
                    oracle!(
                        confkit_error_code(err) == status,
                        "{what}: error code differs from the status"
                    );
                    let msg = text(confkit_error_message(err), "error message").unwrap_or_default();
                    oracle!(!msg.is_empty(), "{what}: empty error message");
                    confkit_error_free(err);
                }
            }
        } else {
            oracle!(err.is_null(), "{what}: error written without error_out");
        }
        status == CONFKIT_STATUS_OK
    }

    /// A buffer output: written on success only; kept.
    fn take_buffer(&mut self, ok: bool, b: confkit_buffer, what: &str) -> Option<Vec<u8>> {
        if !ok {
            oracle!(
                b.data.is_null() && b.len == SENTINEL_LEN,
                "{what}: buffer written on failure"
            );
            return None;
        }
        oracle!(
            b.len != SENTINEL_LEN,
            "{what}: OK without writing the buffer"
        );
        oracle!(
            b.data.is_null() == (b.len == 0),
            "{what}: buffer {:?}/{}",
            b.data,
            b.len
        );
        if b.data.is_null() {
            return Some(Vec::new());
        }
        // SAFETY: confkit's buffer: len readable bytes.
        let bytes = unsafe { std::slice::from_raw_parts(b.data, b.len) }.to_vec();
        if self.buffers.len() >= CAP {
            let old = self.buffers.remove(0);
            // SAFETY: a live buffer, freed once.
            unsafe { confkit_buffer_free(old) };
        }
        self.buffers.push(b);
        Some(bytes)
    }

    fn learn_from_json(&mut self, bytes: &[u8]) {
        // Tokens and conference ids anywhere in a JSON answer.
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) else {
            return;
        };
        let mut stack = vec![&v];
        while let Some(v) = stack.pop() {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, x) in m {
                        match (k.as_str(), x.as_str()) {
                            ("conferenceId" | "id", Some(s))
                                if confkit::ConferenceId::parse(s).is_ok() =>
                            {
                                remember(&mut self.confs, s.to_owned())
                            }
                            ("token" | "ownerToken", Some(s)) => {
                                remember(&mut self.tokens, s.to_owned())
                            }
                            _ => stack.push(x),
                        }
                    }
                }
                serde_json::Value::Array(a) => stack.extend(a.iter()),
                _ => {}
            }
        }
    }

    fn keep_updates(&mut self, ok: bool, u: *mut confkit_updates, what: &str) {
        if !ok {
            oracle!(u.is_null(), "{what}: updates written on failure");
            return;
        }
        oracle!(!u.is_null(), "{what}: OK without updates");
        keep!(self.updates, u, confkit_updates_free);
    }

    fn receive(&mut self, client: *mut confkit_client, a: &Arg) {
        let mut err = null_mut();
        let mut updates = null_mut();
        // SAFETY: NULL or live objects; a readable range.
        let st = unsafe {
            confkit_client_receive(client, a.ptr, a.len, &mut updates, self.err_slot(&mut err))
        };
        let ok = self.check(st, err, "client_receive");
        self.keep_updates(ok, updates, "client_receive");
    }

    unsafe fn run(&mut self, op: &Op) {
        let mut err: *mut confkit_error = null_mut();
        macro_rules! e {
            () => {
                self.err_slot(&mut err)
            };
        }
        match op {
            Op::ClockNew { now } => {
                let mut c = null_mut();
                let st = unsafe { confkit_clock_new(*now, &mut c, e!()) };
                if self.check(st, err, "clock_new") {
                    oracle!(!c.is_null(), "clock_new: OK without a clock");
                    if self.clocks.len() < 3 {
                        self.clocks.push(c);
                    } else {
                        unsafe { confkit_clock_free(c) };
                    }
                } else {
                    oracle!(c.is_null(), "clock_new: written on failure");
                }
            }
            Op::ClockMove { clock, set, value } => {
                let c = pick(&self.clocks, *clock);
                let st = unsafe {
                    if *set {
                        confkit_clock_set(c, *value, e!())
                    } else {
                        confkit_clock_advance(c, *value, e!())
                    }
                };
                let ok = self.check(st, err, "clock_move");
                oracle!(ok == !c.is_null(), "clock_move on {c:?}: status {st}");
                let _ = unsafe { confkit_clock_now(c) };
            }
            Op::PlatformNew {
                fixed_seed,
                kid,
                clock,
                options,
                with,
            } => {
                let kid = self.arg(kid);
                let seed = if *fixed_seed { SEED.as_ptr() } else { null() };
                let mut p = null_mut();
                let st = if *with {
                    let opts =
                        options
                            .as_ref()
                            .map(|o: &PlatformOptions| confkit_platform_options {
                                token_ttl_secs: o.token_ttl_secs,
                                leeway_secs: o.leeway_secs,
                                empty_ttl_secs: o.empty_ttl_secs,
                                max_queued_events: o.max_queued_events,
                                token_refresh_lead_secs: o.token_refresh_lead_secs,
                            });
                    let opts_ptr = opts.as_ref().map_or(null(), |o| o as *const _);
                    unsafe {
                        confkit_platform_new_with(
                            seed,
                            kid.ptr,
                            kid.len,
                            pick(&self.clocks, *clock),
                            opts_ptr,
                            &mut p,
                            e!(),
                        )
                    }
                } else {
                    unsafe { confkit_platform_new(seed, kid.ptr, kid.len, &mut p, e!()) }
                };
                if self.check(st, err, "platform_new") {
                    oracle!(!p.is_null(), "platform_new: OK without a platform");
                    keep!(self.platforms, p, confkit_platform_free);
                } else {
                    oracle!(p.is_null(), "platform_new: written on failure");
                }
            }
            Op::Rest {
                platform,
                method,
                path,
                body,
            } => {
                let p = pick(&self.platforms, *platform);
                let (m, pa, b) = (self.arg(method), self.arg(path), self.source(body));
                let mut status: u16 = 0xBEEF;
                let mut out = confkit_buffer {
                    data: null_mut(),
                    len: SENTINEL_LEN,
                };
                let st = unsafe {
                    confkit_platform_handle_rest(
                        p,
                        m.ptr,
                        m.len,
                        pa.ptr,
                        pa.len,
                        b.ptr,
                        b.len,
                        &mut status,
                        &mut out,
                        e!(),
                    )
                };
                let ok = self.check(st, err, "handle_rest");
                let usable =
                    !p.is_null() && utf8(&m) && utf8(&pa) && !(b.ptr.is_null() && b.len > 0);
                oracle!(
                    ok == usable,
                    "handle_rest: status {st}, arguments usable: {usable}"
                );
                if ok {
                    oracle!(
                        (200..600).contains(&status),
                        "handle_rest: HTTP status {status}"
                    );
                } else {
                    oracle!(status == 0xBEEF, "handle_rest: status written on failure");
                }
                if let Some(bytes) = self.take_buffer(ok, out, "handle_rest") {
                    self.learn_from_json(&bytes);
                }
            }
            Op::PlatformQuery { platform, jwks } => {
                let p = pick(&self.platforms, *platform);
                if *jwks {
                    let mut out = confkit_buffer {
                        data: null_mut(),
                        len: SENTINEL_LEN,
                    };
                    let st = unsafe { confkit_platform_jwks(p, &mut out, e!()) };
                    let ok = self.check(st, err, "platform_jwks");
                    if let Some(bytes) = self.take_buffer(ok, out, "platform_jwks") {
                        remember(
                            &mut self.tokens,
                            String::from_utf8(bytes).expect("a JWK set is UTF-8"),
                        );
                    }
                } else {
                    let mut n = SENTINEL_LEN;
                    let st = unsafe { confkit_platform_expire_conferences(p, &mut n, e!()) };
                    let ok = self.check(st, err, "expire_conferences");
                    oracle!(
                        ok == (n != SENTINEL_LEN),
                        "expire_conferences: count written iff OK"
                    );
                }
            }
            Op::SessionOpen {
                platform,
                external_id,
                name,
                avatar,
            } => {
                let p = pick(&self.platforms, *platform);
                let (x, n, a) = (self.arg(external_id), self.arg(name), self.arg(avatar));
                let mut s = null_mut();
                let st = unsafe {
                    confkit_session_open(p, x.ptr, x.len, n.ptr, n.len, a.ptr, a.len, &mut s, e!())
                };
                if self.check(st, err, "session_open") {
                    oracle!(!s.is_null(), "session_open: OK without a session");
                    keep!(self.sessions, s, confkit_session_free);
                } else {
                    oracle!(s.is_null(), "session_open: written on failure");
                }
            }
            Op::SessionQuery { session, what } => {
                let s = pick(&self.sessions, *session);
                match what % 5 {
                    0 => {
                        let st = unsafe { confkit_session_close(s, e!()) };
                        self.check(st, err, "session_close");
                    }
                    1 => {
                        let mut ev = null_mut();
                        let st = unsafe { confkit_session_next_event(s, &mut ev, e!()) };
                        if self.check(st, err, "next_event") {
                            if !ev.is_null() {
                                if let Some(t) =
                                    unsafe { text(confkit_event_token(ev), "event token") }
                                {
                                    remember(&mut self.tokens, t);
                                }
                                if let Some(c) = unsafe {
                                    text(confkit_event_conference_id(ev), "event conference")
                                } {
                                    remember(&mut self.confs, c);
                                }
                                keep!(self.events, ev, confkit_event_free);
                            }
                        } else {
                            oracle!(ev.is_null(), "next_event: written on failure");
                        }
                    }
                    2 => {
                        let mut n = SENTINEL_LEN;
                        let st = unsafe { confkit_session_pending_events(s, &mut n, e!()) };
                        let ok = self.check(st, err, "pending_events");
                        oracle!(
                            ok == (n != SENTINEL_LEN),
                            "pending_events: count written iff OK"
                        );
                    }
                    3 => {
                        let mut out = confkit_buffer {
                            data: null_mut(),
                            len: SENTINEL_LEN,
                        };
                        let st = unsafe { confkit_session_next_message(s, &mut out, e!()) };
                        let ok = self.check(st, err, "next_message");
                        if let Some(bytes) = self.take_buffer(ok, out, "next_message") {
                            self.learn_from_json(&bytes);
                        }
                    }
                    _ => {
                        let _ = unsafe { confkit_session_id(s) };
                    }
                }
            }
            Op::SetListener {
                session,
                callback,
                release,
            } => {
                let s = pick(&self.sessions, *session);
                let data = Box::new(ListenerData {
                    calls: Cell::new(0),
                    released: Cell::new(0),
                    registered: Cell::new(false),
                });
                let ud = &*data as *const ListenerData as *mut c_void;
                let cb: confkit_listener_fn = if *callback { Some(on_wake) } else { None };
                let rel: confkit_release_fn = if *release { Some(on_release) } else { None };
                let st = unsafe { confkit_session_set_listener(s, cb, ud, rel, e!()) };
                let ok = self.check(st, err, "set_listener");
                oracle!(
                    data.released.get() == 0,
                    "set_listener released the new user data at once"
                );
                data.registered.set(ok && *callback && *release);
                self.listeners.push(data);
            }
            Op::HandleMessage { session, message } => {
                let s = pick(&self.sessions, *session);
                let m = self.source(message);
                self.handle(s, &m);
            }
            Op::Create {
                session,
                alias,
                options,
                token_out,
            } => {
                let s = pick(&self.sessions, *session);
                let a = self.arg(alias);
                let opts = options
                    .as_ref()
                    .map(|o: &ConfOptions| confkit_conference_options {
                        is_protected: o.is_protected,
                        audio_only: o.audio_only,
                        participant_limit: o.participant_limit,
                        empty_ttl_secs: o.empty_ttl_secs,
                        token_ttl_secs: o.token_ttl_secs,
                    });
                let opts_ptr = opts.as_ref().map_or(null(), |o| o as *const _);
                let mut info = null_mut();
                let mut tok = confkit_buffer {
                    data: null_mut(),
                    len: SENTINEL_LEN,
                };
                let tok_ptr = if *token_out {
                    &mut tok as *mut _
                } else {
                    null_mut()
                };
                let st = unsafe {
                    confkit_conference_create(s, a.ptr, a.len, opts_ptr, &mut info, tok_ptr, e!())
                };
                let ok = self.check(st, err, "conference_create");
                self.keep_info(ok, info, "conference_create");
                if *token_out {
                    if let Some(bytes) = self.take_buffer(ok, tok, "owner token") {
                        if !bytes.is_empty() {
                            remember(
                                &mut self.tokens,
                                String::from_utf8(bytes).expect("a token is UTF-8"),
                            );
                        }
                    }
                }
            }
            Op::Fetch {
                session,
                conference,
                alias,
            } => {
                let s = pick(&self.sessions, *session);
                let (c, a) = (self.arg(conference), self.arg(alias));
                let mut info = null_mut();
                let st = unsafe {
                    confkit_conference_fetch(s, c.ptr, c.len, a.ptr, a.len, &mut info, e!())
                };
                let ok = self.check(st, err, "conference_fetch");
                self.keep_info(ok, info, "conference_fetch");
            }
            Op::Enter {
                session,
                conference,
                token,
                listen,
            } => {
                let s = pick(&self.sessions, *session);
                let (c, t) = (self.arg(conference), self.source(token));
                let mut perms = 0xDEAD_u32;
                let st = unsafe {
                    if *listen {
                        confkit_conference_listen(s, c.ptr, c.len, t.ptr, t.len, &mut perms, e!())
                    } else {
                        confkit_conference_join(s, c.ptr, c.len, t.ptr, t.len, &mut perms, e!())
                    }
                };
                let ok = self.check(st, err, "conference_join");
                oracle!(ok == (perms != 0xDEAD), "join: permissions written iff OK");
            }
            Op::Report {
                session,
                conference,
                report,
            } => {
                let s = pick(&self.sessions, *session);
                let c = self.arg(conference);
                let mut status = -77;
                let st = unsafe {
                    confkit_conference_report(s, c.ptr, c.len, *report, &mut status, e!())
                };
                let ok = self.check(st, err, "conference_report");
                oracle!(ok == (status != -77), "report: status written iff OK");
                if ok {
                    oracle!(
                        (0..9).contains(&status),
                        "report: participant status {status}"
                    );
                }
            }
            Op::Exit {
                session,
                conference,
                how,
            } => {
                let s = pick(&self.sessions, *session);
                let c = self.arg(conference);
                let st = unsafe {
                    match how % 3 {
                        0 => confkit_conference_leave(s, c.ptr, c.len, e!()),
                        1 => confkit_conference_decline(s, c.ptr, c.len, e!()),
                        _ => confkit_conference_terminate(s, c.ptr, c.len, e!()),
                    }
                };
                self.check(st, err, "conference_exit");
            }
            Op::Kick {
                session,
                conference,
                external_id,
            } => {
                let s = pick(&self.sessions, *session);
                let (c, x) = (self.arg(conference), self.arg(external_id));
                let st = unsafe { confkit_conference_kick(s, c.ptr, c.len, x.ptr, x.len, e!()) };
                self.check(st, err, "conference_kick");
            }
            Op::UpdatePermissions {
                session,
                conference,
                external_id,
                permissions,
            } => {
                let s = pick(&self.sessions, *session);
                let (c, x) = (self.arg(conference), self.arg(external_id));
                let st = unsafe {
                    confkit_conference_update_permissions(
                        s,
                        c.ptr,
                        c.len,
                        x.ptr,
                        x.len,
                        *permissions,
                        e!(),
                    )
                };
                self.check(st, err, "update_permissions");
            }
            Op::InviteListNew => {
                let mut l = null_mut();
                let st = unsafe { confkit_invite_list_new(&mut l, e!()) };
                if self.check(st, err, "invite_list_new") {
                    oracle!(!l.is_null(), "invite_list_new: OK without a list");
                    keep!(self.lists, l, confkit_invite_list_free);
                } else {
                    oracle!(l.is_null(), "invite_list_new: written on failure");
                }
            }
            Op::InviteListAdd {
                list,
                external_id,
                has_permissions,
                permissions,
            } => {
                let l = pick(&self.lists, *list);
                let x = self.arg(external_id);
                let st = unsafe {
                    confkit_invite_list_add(l, x.ptr, x.len, *has_permissions, *permissions, e!())
                };
                self.check(st, err, "invite_list_add");
            }
            Op::Invite {
                session,
                conference,
                list,
            } => {
                let s = pick(&self.sessions, *session);
                let c = self.arg(conference);
                let l = pick(&self.lists, *list);
                let mut r = null_mut();
                let st = unsafe { confkit_conference_invite(s, c.ptr, c.len, l, &mut r, e!()) };
                if self.check(st, err, "conference_invite") {
                    oracle!(!r.is_null(), "invite: OK without results");
                    keep!(self.results, r, confkit_invite_results_free);
                } else {
                    oracle!(r.is_null(), "invite: written on failure");
                }
            }
            Op::VerifierFromJwks { json } => {
                let j = self.source(json);
                let mut v = null_mut();
                let st = unsafe { confkit_verifier_from_jwks(j.ptr, j.len, &mut v, e!()) };
                self.keep_verifier(st, err, v);
            }
            Op::VerifierFromKey { kid, key } => {
                let k = self.arg(kid);
                let key_ptr = key.as_ref().map_or(null(), |k| k.as_ptr());
                let mut v = null_mut();
                let st = unsafe {
                    confkit_verifier_from_public_key(k.ptr, k.len, key_ptr, &mut v, e!())
                };
                self.keep_verifier(st, err, v);
            }
            Op::Verify {
                verifier,
                token,
                now,
                conference,
                leeway,
            } => {
                let v = pick(&self.verifiers, *verifier);
                let (t, c) = (self.source(token), self.arg(conference));
                // A third of the calls first try to turn the verifier's
                // cache on (capacity 0 to 3): refused for 0, NULL or a cache
                // already on, and a second call right after never succeeds.
                if *leeway % 3 == 1 {
                    let capacity = (*now % 4) as usize;
                    let mut cache_err = null_mut();
                    let st = unsafe {
                        confkit_verifier_enable_cache(v, capacity, self.err_slot(&mut cache_err))
                    };
                    let ok = self.check(st, cache_err, "verifier_enable_cache");
                    oracle!(
                        !ok || (!v.is_null() && capacity != 0),
                        "enable_cache({capacity}): OK"
                    );
                    let mut again_err = null_mut();
                    let again = unsafe {
                        confkit_verifier_enable_cache(v, 2, self.err_slot(&mut again_err))
                    };
                    let again_ok = self.check(again, again_err, "verifier_enable_cache");
                    oracle!(!(ok && again_ok), "enable_cache: on twice");
                }
                let mut claims = null_mut();
                let st = unsafe {
                    confkit_verifier_verify(
                        v,
                        t.ptr,
                        t.len,
                        *now,
                        c.ptr,
                        c.len,
                        *leeway,
                        &mut claims,
                        e!(),
                    )
                };
                if self.check(st, err, "verifier_verify") {
                    oracle!(!claims.is_null(), "verify: OK without claims");
                    keep!(self.claims, claims, confkit_claims_free);
                } else {
                    oracle!(claims.is_null(), "verify: written on failure");
                }
                // A token's status on its own (its claims freed, no error).
                let alone = |ptr: *const u8, len: usize| unsafe {
                    let mut cl = null_mut();
                    let st = confkit_verifier_verify(
                        v,
                        ptr,
                        len,
                        *now,
                        c.ptr,
                        c.len,
                        *leeway,
                        &mut cl,
                        null_mut(),
                    );
                    confkit_claims_free(cl);
                    st
                };
                // Again: with the verifier's cache on, from the cache; the
                // verdict must not change.
                let st_again = alone(t.ptr, t.len);
                oracle!(
                    st_again == st,
                    "verify again: {st_again}, the first time {st}"
                );
                // The same token twice and a platform's token in one batch:
                // each status must be the one verifying it alone gives.
                let other = self
                    .tokens
                    .first()
                    .map(|t| Arg::owned(t.as_bytes().to_vec()));
                let mut want = vec![st, st];
                let mut ptrs = vec![t.ptr, t.ptr];
                let mut lens = vec![t.len, t.len];
                if let Some(o) = &other {
                    want.push(alone(o.ptr, o.len));
                    ptrs.push(o.ptr);
                    lens.push(o.len);
                }
                // Every fifth call asks for more than the cap, which must be
                // refused before the (shorter) arrays are read.
                let over = *leeway % 5 == 0;
                let count = if over {
                    CONFKIT_MAX_BATCH_TOKENS + 1
                } else {
                    want.len()
                };
                let mut statuses = vec![SENTINEL_STATUS; want.len()];
                let mut all_claims = vec![null_mut(); want.len()];
                let mut batch_err = null_mut();
                let bst = unsafe {
                    confkit_verifier_verify_batch(
                        v,
                        ptrs.as_ptr(),
                        lens.as_ptr(),
                        count,
                        *now,
                        c.ptr,
                        c.len,
                        *leeway,
                        statuses.as_mut_ptr(),
                        all_claims.as_mut_ptr(),
                        self.err_slot(&mut batch_err),
                    )
                };
                let ok = self.check(bst, batch_err, "verifier_verify_batch");
                oracle!(!(ok && over), "verify_batch: OK over the cap");
                if ok {
                    for i in 0..want.len() {
                        oracle!(
                            statuses[i] == want[i],
                            "verify_batch: token {i} got {} alone {}",
                            statuses[i],
                            want[i]
                        );
                        oracle!(
                            all_claims[i].is_null() == (statuses[i] != CONFKIT_STATUS_OK),
                            "verify_batch: claims {i} iff OK"
                        );
                        unsafe { confkit_claims_free(all_claims[i]) };
                    }
                } else {
                    oracle!(
                        statuses.iter().all(|s| *s == SENTINEL_STATUS)
                            && all_claims.iter().all(|c| c.is_null()),
                        "verify_batch: written on failure"
                    );
                }
            }
            Op::ClientNew {
                external_id,
                verifier,
                clock,
            } => {
                let x = self.arg(external_id);
                let v = pick(&self.verifiers, *verifier);
                let mut c = null_mut();
                let st = unsafe {
                    confkit_client_new(x.ptr, x.len, v, pick(&self.clocks, *clock), &mut c, e!())
                };
                if self.check(st, err, "client_new") {
                    oracle!(!c.is_null(), "client_new: OK without a client");
                    if self.clients.len() >= 4 {
                        let old = self.clients.remove(0);
                        self.requests.retain(|(p, _)| *p != old);
                        unsafe { confkit_client_free(old) };
                    }
                    self.clients.push(c);
                } else {
                    oracle!(c.is_null(), "client_new: written on failure");
                }
            }
            Op::ClientRequest {
                client,
                kind,
                conference,
                text: t,
                number,
                list,
            } => {
                let c = pick(&self.clients, *client);
                let conf = self.arg(conference);
                let t = self.source(t);
                let l = pick(&self.lists, *list);
                let mut out = confkit_buffer {
                    data: null_mut(),
                    len: SENTINEL_LEN,
                };
                let mut n = SENTINEL_U64;
                let (o, np) = (&mut out as *mut confkit_buffer, &mut n as *mut u64);
                let opts = confkit_conference_options {
                    is_protected: number & 1 == 1,
                    audio_only: number & 2 == 2,
                    participant_limit: number >> 8,
                    empty_ttl_secs: 0,
                    token_ttl_secs: 0,
                };
                let st = unsafe {
                    match kind % 13 {
                        0 => confkit_client_create(
                            c,
                            t.ptr,
                            t.len,
                            if number & 4 == 4 { &opts } else { null() },
                            o,
                            np,
                            e!(),
                        ),
                        1 => confkit_client_fetch(c, t.ptr, t.len, o, np, e!()),
                        2 => confkit_client_join(c, conf.ptr, conf.len, t.ptr, t.len, o, np, e!()),
                        3 => {
                            confkit_client_listen(c, conf.ptr, conf.len, t.ptr, t.len, o, np, e!())
                        }
                        4 => confkit_client_media_state(
                            c,
                            conf.ptr,
                            conf.len,
                            *number as i32,
                            o,
                            np,
                            e!(),
                        ),
                        5 => confkit_client_leave(c, conf.ptr, conf.len, o, np, e!()),
                        6 => confkit_client_decline(c, conf.ptr, conf.len, o, np, e!()),
                        7 => confkit_client_terminate(c, conf.ptr, conf.len, o, np, e!()),
                        8 => confkit_client_invite(c, conf.ptr, conf.len, l, o, np, e!()),
                        9 => confkit_client_kick(c, conf.ptr, conf.len, t.ptr, t.len, o, np, e!()),
                        10 => confkit_client_update_permissions(
                            c,
                            conf.ptr,
                            conf.len,
                            t.ptr,
                            t.len,
                            *number,
                            o,
                            np,
                            e!(),
                        ),
                        11 => confkit_client_keep_alive(c, o, np, e!()),
                        _ => confkit_client_resync(c, o, np, e!()),
                    }
                };
                let ok = self.check(st, err, "client_request");
                oracle!(
                    ok == (n != SENTINEL_U64),
                    "client request: number written iff OK"
                );
                if let Some(bytes) = self.take_buffer(ok, out, "client request") {
                    oracle!(!bytes.is_empty(), "client request: an empty message");
                    self.requests.retain(|(p, _)| *p != c);
                    self.requests.push((c, bytes));
                }
            }
            Op::ClientReceive { client, message } => {
                let c = pick(&self.clients, *client);
                let m = self.source(message);
                self.receive(c, &m);
            }
            Op::ClientQuery {
                client,
                conference,
                bit,
                index,
            } => {
                let c = pick(&self.clients, *client);
                let conf = self.arg(conference);
                let index = usize::from(*index);
                unsafe {
                    // The index doubles as a request number (0 is refused).
                    let mut number_err = null_mut();
                    let number = index as u64;
                    let st = confkit_client_set_next_request_number(
                        c,
                        number,
                        self.err_slot(&mut number_err),
                    );
                    let ok = self.check(st, number_err, "client_set_next_request_number");
                    oracle!(
                        ok == (!c.is_null() && number != 0),
                        "set_next_request_number({number}): {st}"
                    );
                    let _ = confkit_client_last_sequence(c);
                    let _ = confkit_client_is_stalled(c);
                    let _ = confkit_client_may(c, conf.ptr, conf.len, *bit);
                    let count = confkit_client_view_count(c);
                    let inbox = confkit_client_inbox_len(c);
                    let mut v = null_mut();
                    let st = confkit_client_view_at(c, index, &mut v, e!());
                    let ok = self.check(st, err, "client_view_at");
                    if !c.is_null() && index >= count {
                        oracle!(
                            st == CONFKIT_STATUS_INVALID_ARGUMENT,
                            "view_at past the end: {st}"
                        );
                    }
                    self.keep_view(ok, v, "client_view_at");
                    let mut err = null_mut();
                    let mut v = null_mut();
                    let st =
                        confkit_client_view(c, conf.ptr, conf.len, &mut v, self.err_slot(&mut err));
                    let ok = self.check(st, err, "client_view");
                    self.keep_view(ok, v, "client_view");
                    let mut err = null_mut();
                    let mut i = null_mut();
                    let st = confkit_client_inbox_at(c, index, &mut i, self.err_slot(&mut err));
                    let ok = self.check(st, err, "client_inbox_at");
                    if !c.is_null() && index >= inbox {
                        oracle!(
                            st == CONFKIT_STATUS_INVALID_ARGUMENT,
                            "inbox_at past the end: {st}"
                        );
                    }
                    if ok {
                        oracle!(!i.is_null(), "inbox_at: OK without an invitation");
                        if let Some(t) = text(confkit_invitation_token(i), "invitation token") {
                            remember(&mut self.tokens, t);
                        }
                        keep!(self.invitations, i, confkit_invitation_free);
                    } else {
                        oracle!(i.is_null(), "inbox_at: written on failure");
                    }
                }
            }
            Op::Relay { client, session } => {
                let c = pick(&self.clients, *client);
                let s = pick(&self.sessions, *session);
                if let Some((_, bytes)) = self.requests.iter().find(|(p, _)| *p == c).cloned() {
                    let reply = self.handle(s, &Arg::owned(bytes));
                    if let Some(reply) = reply {
                        self.receive(c, &Arg::owned(reply));
                    }
                }
                for _ in 0..16 {
                    let mut err = null_mut();
                    let mut out = confkit_buffer {
                        data: null_mut(),
                        len: SENTINEL_LEN,
                    };
                    let st = unsafe {
                        confkit_session_next_message(s, &mut out, self.err_slot(&mut err))
                    };
                    let ok = self.check(st, err, "next_message");
                    let Some(bytes) = self.take_buffer(ok, out, "next_message") else {
                        break;
                    };
                    if bytes.is_empty() {
                        break;
                    }
                    self.learn_from_json(&bytes);
                    self.receive(c, &Arg::owned(bytes));
                }
            }
            Op::Inspect { kind, slot, index } => unsafe {
                self.inspect(*kind, *slot, usize::from(*index))
            },
            Op::Free { kind, slot } => unsafe { self.free_one(*kind, *slot) },
            Op::Names { bit, status, name } => unsafe {
                let _ = text(confkit_permission_name(*bit), "permission name");
                let n = text(confkit_status_name(*status), "status name");
                oracle!(n.is_some(), "status_name returned NULL");
                let _ = text(
                    confkit_participant_status_name(*status),
                    "participant status name",
                );
                let a = self.arg(name);
                let mut b = 0xDEAD_u32;
                let st = confkit_permission_from_name(a.ptr, a.len, &mut b, e!());
                let ok = self.check(st, err, "permission_from_name");
                oracle!(ok == (b != 0xDEAD), "permission_from_name: written iff OK");
                let given = utf8(&a).then(|| String::from_utf8_lossy(bytes_of(&a)).into_owned());
                if ok {
                    // A bit index, 0..=11, whose name is the one given.
                    let back = text(confkit_permission_name(b), "permission name");
                    oracle!(
                        back == given,
                        "permission_from_name({given:?}) = {b}, named {back:?}"
                    );
                }
                let mut err = null_mut();
                let mut s = -77;
                let st = confkit_participant_status_from_name(
                    a.ptr,
                    a.len,
                    &mut s,
                    self.err_slot(&mut err),
                );
                let ok = self.check(st, err, "participant_status_from_name");
                oracle!(
                    ok == (s != -77),
                    "participant_status_from_name: written iff OK"
                );
                if ok {
                    let back = text(
                        confkit_participant_status_name(s),
                        "participant status name",
                    );
                    let alias =
                        given.as_deref() == Some("CONNECTED") && back.as_deref() == Some("ON_AIR");
                    oracle!(
                        back == given || alias,
                        "participant_status_from_name({given:?}) = {s}, named {back:?}"
                    );
                }
                let _ = text(confkit_version(), "version");
                oracle!(confkit_abi_version() == CONFKIT_ABI_VERSION, "abi version");
            },
            Op::TestPanic => {
                // libfuzzer-sys aborts on any panic, caught or not (so a
                // panic behind the FFI guard is a finding); this one is
                // documented.
                self.panic_allowed = true;
                let hook = std::panic::take_hook();
                std::panic::set_hook(Box::new(|_| {}));
                let st = unsafe { confkit_test_panic(e!()) };
                std::panic::set_hook(hook);
                self.check(st, err, "test_panic");
                self.panic_allowed = false;
                oracle!(st == CONFKIT_STATUS_PANIC, "test_panic returned {st}");
            }
        }
    }

    fn handle(&mut self, s: *mut confkit_session, m: &Arg) -> Option<Vec<u8>> {
        let mut err = null_mut();
        let mut out = confkit_buffer {
            data: null_mut(),
            len: SENTINEL_LEN,
        };
        // SAFETY: NULL or a live session; a readable range.
        let st = unsafe {
            confkit_session_handle_message(s, m.ptr, m.len, &mut out, self.err_slot(&mut err))
        };
        let ok = self.check(st, err, "handle_message");
        let usable = !s.is_null()
            && !(m.ptr.is_null() && m.len > 0)
            && m.len <= confkit::wire::MAX_MESSAGE_BYTES;
        oracle!(
            ok == usable,
            "handle_message: status {st}, arguments usable: {usable}"
        );
        let reply = self.take_buffer(ok, out, "handle_message")?;
        oracle!(!reply.is_empty(), "handle_message: an empty reply");
        self.learn_from_json(&reply);
        Some(reply)
    }

    fn keep_info(&mut self, ok: bool, info: *mut confkit_conference_info, what: &str) {
        if !ok {
            oracle!(info.is_null(), "{what}: written on failure");
            return;
        }
        oracle!(!info.is_null(), "{what}: OK without info");
        // SAFETY: a live info.
        if let Some(id) = unsafe { text(confkit_conference_info_id(info), "info id") } {
            remember(&mut self.confs, id);
        }
        keep!(self.infos, info, confkit_conference_info_free);
    }

    fn keep_view(&mut self, ok: bool, v: *mut confkit_view, what: &str) {
        if !ok {
            oracle!(v.is_null(), "{what}: written on failure");
            return;
        }
        oracle!(!v.is_null(), "{what}: OK without a view");
        keep!(self.views, v, confkit_view_free);
    }

    fn keep_verifier(
        &mut self,
        st: confkit_status,
        err: *mut confkit_error,
        v: *mut confkit_verifier,
    ) {
        if self.check(st, err, "verifier_new") {
            oracle!(!v.is_null(), "verifier: OK without a verifier");
            keep!(self.verifiers, v, confkit_verifier_free);
        } else {
            oracle!(v.is_null(), "verifier: written on failure");
        }
    }

    /// Every getter of one kept object (or of NULL, slot 0).
    unsafe fn inspect(&mut self, kind: u8, slot: u8, i: usize) {
        unsafe {
            match kind % 7 {
                0 => {
                    let ev = pick(&self.events, slot);
                    let _ = confkit_event_kind(ev);
                    let _ = text(confkit_event_type(ev), "event type");
                    let _ = confkit_event_sequence(ev);
                    let _ = text(confkit_event_conference_id(ev), "event conference");
                    let json = text(confkit_event_json(ev), "event json");
                    if let Some(j) = json.filter(|_| !ev.is_null()) {
                        oracle!(
                            serde_json::from_str::<serde_json::Value>(&j).is_ok(),
                            "event json {j}"
                        );
                    }
                    let _ = text(confkit_event_external_id(ev), "event external id");
                    let _ = text(confkit_event_conference_alias(ev), "event alias");
                    let _ = text(confkit_event_token(ev), "event token");
                    let _ = confkit_event_old_status(ev);
                    let _ = confkit_event_new_status(ev);
                    let _ = confkit_event_permissions(ev);
                    let _ = confkit_event_token_expires_at(ev);
                    let _ = confkit_event_first_available_sequence(ev);
                }
                1 => {
                    let c = pick(&self.claims, slot);
                    let _ = text(confkit_claims_subject(c), "claims subject");
                    let _ = text(confkit_claims_conference_id(c), "claims conference");
                    let _ = text(confkit_claims_issuer(c), "claims issuer");
                    let _ = text(confkit_claims_token_id(c), "claims jti");
                    let _ = confkit_claims_permissions(c);
                    let _ = confkit_claims_issued_at(c);
                    let _ = confkit_claims_not_before(c);
                    let _ = confkit_claims_expires_at(c);
                }
                2 => {
                    let f = pick(&self.infos, slot);
                    let _ = text(confkit_conference_info_id(f), "info id");
                    let _ = text(confkit_conference_info_alias(f), "info alias");
                    let _ = text(confkit_conference_info_owner(f), "info owner");
                    let _ = confkit_conference_info_is_new(f);
                    let _ = confkit_conference_info_is_protected(f);
                    let n = confkit_conference_info_participant_count(f);
                    let m = confkit_conference_info_present_count(f);
                    oracle!(m <= n, "present {m} of {n}");
                }
                3 => {
                    let r = pick(&self.results, slot);
                    let n = confkit_invite_results_len(r);
                    for j in [i, n, n.wrapping_sub(1)] {
                        let _ = text(confkit_invite_results_external_id(r, j), "result id");
                        let _ = confkit_invite_results_delivery(r, j);
                        let _ = confkit_invite_results_sessions(r, j);
                        let _ = confkit_invite_results_permissions(r, j);
                    }
                }
                4 => {
                    let u = pick(&self.updates, slot);
                    let n = confkit_updates_len(u);
                    for j in [i, n, n.wrapping_sub(1)] {
                        let _ = confkit_updates_kind(u, j);
                        let _ = text(confkit_updates_conference_id(u, j), "update conference");
                        let _ = text(confkit_updates_external_id(u, j), "update external id");
                        let _ = confkit_updates_old_status(u, j);
                        let _ = confkit_updates_new_status(u, j);
                        let _ = confkit_updates_permissions(u, j);
                        let _ = text(confkit_updates_request_id(u, j), "update request id");
                        let _ = confkit_updates_request_number(u, j);
                        let code = confkit_updates_error_code(u, j);
                        oracle!(
                            confkit::ErrorCode::from_value(code).is_some(),
                            "update error code {code}"
                        );
                        let _ = text(confkit_updates_text(u, j), "update text");
                        let _ = confkit_updates_sequence(u, j);
                        if let Some(j) = text(confkit_updates_json(u, j), "update json") {
                            oracle!(
                                j.is_empty()
                                    || serde_json::from_str::<serde_json::Value>(&j).is_ok(),
                                "update json {j}"
                            );
                        }
                    }
                }
                5 => {
                    let v = pick(&self.views, slot);
                    let _ = text(confkit_view_conference_id(v), "view conference");
                    let _ = text(confkit_view_alias(v), "view alias");
                    if let Some(t) = text(confkit_view_token(v), "view token") {
                        remember(&mut self.tokens, t);
                    }
                    let _ = confkit_view_joined(v);
                    let _ = confkit_view_ended(v);
                    let _ = confkit_view_my_status(v);
                    let _ = confkit_view_my_permissions(v);
                    let n = confkit_view_participant_count(v);
                    for j in [i, n, n.wrapping_sub(1)] {
                        let _ = text(
                            confkit_view_participant_external_id(v, j),
                            "view participant",
                        );
                        let _ = text(confkit_view_participant_name(v, j), "view participant name");
                        let _ = text(confkit_view_participant_avatar_url(v, j), "view avatar");
                        let _ = confkit_view_participant_status(v, j);
                        let _ = confkit_view_participant_type(v, j);
                        let _ = confkit_view_participant_permissions(v, j);
                    }
                }
                _ => {
                    let inv = pick(&self.invitations, slot);
                    let _ = text(
                        confkit_invitation_conference_id(inv),
                        "invitation conference",
                    );
                    let _ = text(confkit_invitation_alias(inv), "invitation alias");
                    let _ = text(confkit_invitation_inviter_id(inv), "inviter id");
                    let _ = text(confkit_invitation_inviter_name(inv), "inviter name");
                    let _ = text(confkit_invitation_token(inv), "invitation token");
                    let _ = confkit_invitation_has_permissions(inv);
                    let _ = confkit_invitation_permissions(inv);
                }
            }
        }
    }

    /// Frees one object (slot 0: the kind's free with NULL, which is accepted).
    unsafe fn free_one(&mut self, kind: u8, slot: u8) {
        macro_rules! free_from {
            ($vec:expr, $free:ident) => {{
                if slot == 0 || $vec.is_empty() {
                    unsafe { $free(null_mut()) };
                } else {
                    let i = usize::from(slot - 1) % $vec.len();
                    let p = $vec.remove(i);
                    unsafe { $free(p) };
                }
            }};
        }
        match kind % 13 {
            0 => free_from!(self.platforms, confkit_platform_free),
            1 => free_from!(self.sessions, confkit_session_free),
            2 => free_from!(self.verifiers, confkit_verifier_free),
            3 => {
                if slot != 0 && !self.clients.is_empty() {
                    let c = self.clients[usize::from(slot - 1) % self.clients.len()];
                    self.requests.retain(|(p, _)| *p != c);
                }
                free_from!(self.clients, confkit_client_free)
            }
            4 => free_from!(self.lists, confkit_invite_list_free),
            5 => free_from!(self.events, confkit_event_free),
            6 => free_from!(self.claims, confkit_claims_free),
            7 => free_from!(self.infos, confkit_conference_info_free),
            8 => free_from!(self.results, confkit_invite_results_free),
            9 => free_from!(self.updates, confkit_updates_free),
            10 => free_from!(self.views, confkit_view_free),
            11 => free_from!(self.invitations, confkit_invitation_free),
            _ => {
                if slot == 0 || self.buffers.is_empty() {
                    unsafe {
                        confkit_buffer_free(confkit_buffer {
                            data: null_mut(),
                            len: 0,
                        })
                    };
                } else {
                    let i = usize::from(slot - 1) % self.buffers.len();
                    let b = self.buffers.remove(i);
                    unsafe { confkit_buffer_free(b) };
                }
            }
        }
    }

    /// Frees everything, clocks last (they must outlive their users).
    unsafe fn free_all(&mut self) {
        unsafe {
            for p in self.clients.drain(..) {
                confkit_client_free(p);
            }
            for p in self.sessions.drain(..) {
                confkit_session_free(p);
            }
            for p in self.platforms.drain(..) {
                confkit_platform_free(p);
            }
            for p in self.verifiers.drain(..) {
                confkit_verifier_free(p);
            }
            for p in self.lists.drain(..) {
                confkit_invite_list_free(p);
            }
            for p in self.events.drain(..) {
                confkit_event_free(p);
            }
            for p in self.claims.drain(..) {
                confkit_claims_free(p);
            }
            for p in self.infos.drain(..) {
                confkit_conference_info_free(p);
            }
            for p in self.results.drain(..) {
                confkit_invite_results_free(p);
            }
            for p in self.updates.drain(..) {
                confkit_updates_free(p);
            }
            for p in self.views.drain(..) {
                confkit_view_free(p);
            }
            for p in self.invitations.drain(..) {
                confkit_invitation_free(p);
            }
            for b in self.buffers.drain(..) {
                confkit_buffer_free(b);
            }
            for p in self.clocks.drain(..) {
                confkit_clock_free(p);
            }
        }
    }
}

fn bytes_of(a: &Arg) -> &[u8] {
    if a.ptr.is_null() {
        return &[];
    }
    // SAFETY: the harness's own bytes.
    unsafe { std::slice::from_raw_parts(a.ptr, a.len) }
}

fn utf8(a: &Arg) -> bool {
    if a.ptr.is_null() {
        return a.len == 0;
    }
    // SAFETY: the harness's own bytes.
    std::str::from_utf8(unsafe { std::slice::from_raw_parts(a.ptr, a.len) }).is_ok()
}

fuzz_target!(|calls: Vec<Call>| {
    let start = confkit_live_objects();
    let mut h = H::default();
    for call in calls.iter().take(48) {
        h.want_error = call.error_out;
        // SAFETY: the harness passes only NULL or live objects it owns.
        unsafe { h.run(&call.op) };
    }
    // SAFETY: as above; every object is freed once.
    unsafe { h.free_all() };
    for l in &h.listeners {
        let expected = u32::from(l.registered.get());
        oracle!(
            l.released.get() == expected,
            "a listener was released {} times, registered: {}",
            l.released.get(),
            l.registered.get()
        );
    }
    let end = confkit_live_objects();
    oracle!(
        end == start,
        "live objects: {start} before, {end} after freeing everything"
    );
});
