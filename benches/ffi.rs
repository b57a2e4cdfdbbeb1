//! What a call through the C ABI costs over the same work called from Rust.
//!
//! Three pairs, each timed from Rust (the C ABI functions are ordinary
//! `extern "C"` functions of the rlib, called through black-boxed function
//! pointers exactly as a C caller's indirect call would reach them):
//!
//! - `abi_version`: `confkit_abi_version` vs a Rust fn returning the same
//!   constant, both through black-boxed fn pointers (the panic guard and the
//!   C calling convention are the only difference);
//! - `permission_from_name`: `confkit_permission_from_name` (pointer + length
//!   in, UTF-8 check, out-parameter) vs `Permission::from_name`; plus the
//!   error path (an unknown name: error object built and freed vs a Rust
//!   `Err` dropped);
//! - `verify`: `confkit_verifier_verify` + `confkit_claims_free` vs
//!   `KeyRing::verify` on the same token (the C side also checks the
//!   conference ID's UTF-8, parses it, and boxes the claims, whose C strings
//!   are made only when a getter asks);
//! - `verify`, a cache hit: the same on a verifier whose cache is on
//!   (`confkit_verifier_enable_cache`) vs `KeyRing::verify_cached`. A hit
//!   costs tens of nanoseconds instead of tens of microseconds, so the C
//!   ABI's extra work on a verify is measured far above the noise floor.
//!
//! After criterion, `overhead()` times each pair interleaved in rounds (the
//! order alternating, and both sides cycled through the same stack depths
//! over 64 KiB, see `at_depth` and `pair`) and prints, as means over the
//! depths of each depth's median: ns/call from Rust, ns/call through the C
//! ABI, and the difference (target: at most 100 ns), with the difference of
//! the best rounds beside it. Three more lines put the verify row in
//! context: verification timed against itself (the noise floor of the
//! method), the same with one side four frames deeper (the control for where
//! the stack lands, which the C path's extra frames change), and the C
//! side's extra work (the conference ID's UTF-8 check and parse, the claims'
//! box) redone in plain Rust.
//!
//! `CONFKIT_FFI_VERIFY_ROUNDS` sets the rounds of the verify rows (default
//! 2001): the verify's own jitter is microseconds, so a difference of tens
//! of nanoseconds needs many rounds to stand out.

use std::ffi::CString;
use std::hint::black_box;
use std::ptr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use confkit::ffi::names::confkit_permission_from_name;
use confkit::ffi::token::{
    confkit_claims, confkit_claims_free, confkit_verifier, confkit_verifier_enable_cache,
    confkit_verifier_free, confkit_verifier_from_jwks, confkit_verifier_verify,
};
use confkit::ffi::{
    confkit_abi_version, confkit_error, confkit_error_free, confkit_status, CONFKIT_ABI_VERSION,
    CONFKIT_STATUS_OK, CONFKIT_STATUS_UNKNOWN_PERMISSION,
};
use confkit::token::{
    Claims, KeyId, KeyRing, SigningKey, Validation, VerifiedTokens, DEFAULT_TOKEN_TTL_SECS,
};
use confkit::{ConferenceId, ExternalId, Permission, PermissionSet};
use criterion::{criterion_group, Criterion};

type AbiVersionC = extern "C" fn() -> u32;
type AbiVersionRust = fn() -> u32;
type FromNameC =
    unsafe extern "C" fn(*const u8, usize, *mut u32, *mut *mut confkit_error) -> confkit_status;
type VerifyC = unsafe extern "C" fn(
    *const confkit_verifier,
    *const u8,
    usize,
    u64,
    *const u8,
    usize,
    u64,
    *mut *mut confkit_claims,
    *mut *mut confkit_error,
) -> confkit_status;

const NAME: &str = "SHARE_SCREEN";
const UNKNOWN_NAME: &str = "SHARE_SCREENS";
const LEEWAY: u64 = 60;

fn rust_abi_version() -> u32 {
    CONFKIT_ABI_VERSION
}

/// A token, the ring that verifies it, and the same ring as a C verifier;
/// and a second C verifier with its cache of verified tokens on, beside a
/// Rust cache of the same capacity.
struct Fixture {
    ring: KeyRing,
    verifier: *mut confkit_verifier,
    cached_verifier: *mut confkit_verifier,
    cache: VerifiedTokens,
    token: String,
    conference: ConferenceId,
    conference_text: String,
    now: u64,
}

impl Fixture {
    fn new() -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let key = SigningKey::from_seed(&[0x5a; 32], KeyId::new("2025-01-platform-key").unwrap());
        let ring = KeyRing::with_key(key.kid().clone(), key.verifying_key()).unwrap();
        let conference = ConferenceId::random();
        let claims = Claims::new(
            "https://platform.example.com",
            ExternalId::new("user-7f3c9a41@example.com").unwrap(),
            conference,
            PermissionSet::DEFAULT_INVITEE,
            now,
            DEFAULT_TOKEN_TTL_SECS,
        );
        let token = key.mint(&claims);
        let jwks = ring.to_jwks().to_json();
        // Both sides verify with a ring read from the same JWK set, so the
        // key material is laid out alike.
        let ring = KeyRing::from_jwks_json(&jwks).unwrap();
        let mut verifier = ptr::null_mut();
        // SAFETY: valid byte range and out-pointer; no error object requested.
        let st = unsafe {
            confkit_verifier_from_jwks(jwks.as_ptr(), jwks.len(), &mut verifier, ptr::null_mut())
        };
        assert_eq!(st, CONFKIT_STATUS_OK);
        let mut cached_verifier = ptr::null_mut();
        // SAFETY: as above; then a live verifier, its cache turned on once.
        unsafe {
            let st = confkit_verifier_from_jwks(
                jwks.as_ptr(),
                jwks.len(),
                &mut cached_verifier,
                ptr::null_mut(),
            );
            assert_eq!(st, CONFKIT_STATUS_OK);
            let st = confkit_verifier_enable_cache(cached_verifier, CACHE_TOKENS, ptr::null_mut());
            assert_eq!(st, CONFKIT_STATUS_OK);
        }
        let f = Fixture {
            ring,
            verifier,
            cached_verifier,
            cache: VerifiedTokens::new(CACHE_TOKENS),
            token,
            conference,
            conference_text: conference.to_string(),
            now,
        };
        f.check();
        f
    }

    /// Both sides of every pair succeed (or fail) alike, outside the timed loops.
    fn check(&self) {
        assert_eq!(abi_c(confkit_abi_version), abi_rust(rust_abi_version));
        assert_eq!(
            from_name_c(confkit_permission_from_name, NAME),
            Some(from_name_rust(NAME).unwrap())
        );
        assert_eq!(
            from_name_c(confkit_permission_from_name, UNKNOWN_NAME),
            None
        );
        assert!(from_name_rust(UNKNOWN_NAME).is_none());
        let claims = self.verify_rust();
        assert_eq!(claims.permissions, PermissionSet::DEFAULT_INVITEE);
        assert_eq!(self.verify_c(confkit_verifier_verify), CONFKIT_STATUS_OK);
        // The cached pair: the first calls fill the caches, and both answer
        // the same claims again from them.
        assert_eq!(*self.verify_rust_cached(), claims);
        assert_eq!(*self.verify_rust_cached(), claims);
        assert_eq!(self.cache.len(), 1);
        assert_eq!(self.verify_c_cached(), CONFKIT_STATUS_OK);
        assert_eq!(self.verify_c_cached(), CONFKIT_STATUS_OK);
    }

    /// `KeyRing::verify_cached`: after the first call, a hit.
    fn verify_rust_cached(&self) -> std::sync::Arc<Claims> {
        let validation = Validation::new(self.now, self.conference).with_leeway(LEEWAY);
        self.ring
            .verify_cached(&self.cache, black_box(&self.token), &validation)
            .unwrap()
    }

    /// `confkit_verifier_verify` on the verifier whose cache is on.
    fn verify_c_cached(&self) -> confkit_status {
        self.call_verify(confkit_verifier_verify, self.cached_verifier)
    }

    fn verify_rust(&self) -> Claims {
        let validation = Validation::new(self.now, self.conference).with_leeway(LEEWAY);
        self.ring
            .verify(black_box(&self.token), &validation)
            .unwrap()
    }

    /// The work `confkit_verifier_verify` + `confkit_claims_free` do besides
    /// `KeyRing::verify`, done in Rust the way src/ffi does it: the conference
    /// ID's UTF-8 check and parse, and boxing the result with its four
    /// (lazily filled, so empty) C string slots, then freeing it. (A token
    /// that verifies is not checked for UTF-8: see `confkit_verifier_verify`.)
    /// An estimate of where the overhead goes.
    fn verify_c_extras(&self) -> usize {
        let text = black_box(self.conference_text.as_bytes());
        let text = std::str::from_utf8(text).unwrap();
        let conference = ConferenceId::parse(text).unwrap();
        let boxed: Box<(ConferenceId, [std::sync::OnceLock<CString>; 4])> =
            Box::new((conference, Default::default()));
        black_box(boxed).1.len()
    }

    /// `confkit_verifier_verify` then `confkit_claims_free`, as a C caller would.
    fn verify_c(&self, f: VerifyC) -> confkit_status {
        self.call_verify(f, self.verifier)
    }

    fn call_verify(&self, f: VerifyC, verifier: *const confkit_verifier) -> confkit_status {
        let f = black_box(f);
        let token = black_box(self.token.as_bytes());
        let conf = self.conference_text.as_bytes();
        let mut claims: *mut confkit_claims = ptr::null_mut();
        // SAFETY: a live verifier, valid byte ranges and out-pointer.
        let st = unsafe {
            f(
                verifier,
                token.as_ptr(),
                token.len(),
                self.now,
                conf.as_ptr(),
                conf.len(),
                LEEWAY,
                &mut claims,
                ptr::null_mut(),
            )
        };
        // SAFETY: NULL or the claims just made, freed once.
        unsafe { confkit_claims_free(black_box(claims)) };
        st
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // SAFETY: made by confkit_verifier_from_jwks, freed once.
        unsafe {
            confkit_verifier_free(self.verifier);
            confkit_verifier_free(self.cached_verifier);
        }
    }
}

fn abi_c(f: AbiVersionC) -> u32 {
    black_box(f)()
}

fn abi_rust(f: AbiVersionRust) -> u32 {
    black_box(f)()
}

/// The bit of a permission name through the C ABI; on an unknown name the
/// error object is requested and freed, as a careful C caller does.
fn from_name_c(f: FromNameC, name: &str) -> Option<u32> {
    let f = black_box(f);
    let name = black_box(name);
    let mut bit = 0u32;
    let mut err: *mut confkit_error = ptr::null_mut();
    // SAFETY: valid byte range and out-pointers.
    let st = unsafe { f(name.as_ptr(), name.len(), &mut bit, &mut err) };
    if st == CONFKIT_STATUS_OK {
        Some(bit)
    } else {
        assert_eq!(st, CONFKIT_STATUS_UNKNOWN_PERMISSION);
        // SAFETY: the error object just made, freed once.
        unsafe { confkit_error_free(black_box(err)) };
        None
    }
}

fn from_name_rust(name: &str) -> Option<u32> {
    Permission::from_name(black_box(name))
        .ok()
        .map(Permission::bit)
}

fn bench_ffi(c: &mut Criterion) {
    let f = Fixture::new();
    let mut group = c.benchmark_group("ffi");
    group.bench_function("abi_version/rust", |b| {
        b.iter(|| abi_rust(rust_abi_version))
    });
    group.bench_function("abi_version/c_abi", |b| {
        b.iter(|| abi_c(confkit_abi_version))
    });
    group.bench_function("permission_from_name/rust", |b| {
        b.iter(|| from_name_rust(NAME))
    });
    group.bench_function("permission_from_name/c_abi", |b| {
        b.iter(|| from_name_c(confkit_permission_from_name, NAME))
    });
    group.bench_function("permission_from_name_unknown/rust", |b| {
        b.iter(|| from_name_rust(UNKNOWN_NAME))
    });
    group.bench_function("permission_from_name_unknown/c_abi", |b| {
        b.iter(|| from_name_c(confkit_permission_from_name, UNKNOWN_NAME))
    });
    group.bench_function("verify/rust", |b| b.iter(|| f.verify_rust()));
    group.bench_function("verify/c_abi", |b| {
        b.iter(|| f.verify_c(confkit_verifier_verify))
    });
    group.finish();
}

criterion_group!(benches, bench_ffi);

/// Rounds of the interleaved pass for the cheap calls; each round times
/// `iters` calls of one side, then of the other (the order alternates
/// between rounds). Verification (~60 µs, noisy to ~1 %) gets more, shorter
/// rounds so the median difference settles.
const ROUNDS: usize = 101;
/// The capacity of both caches in the cached pair (one token is used).
const CACHE_TOKENS: usize = 1024;
const VERIFY_ROUNDS: usize = 2001;

/// The verify rows' rounds: `CONFKIT_FFI_VERIFY_ROUNDS`, or [`VERIFY_ROUNDS`].
fn verify_rounds() -> usize {
    std::env::var("CONFKIT_FFI_VERIFY_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(VERIFY_ROUNDS)
}

fn time_per_call(iters: usize, mut op: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..iters {
        op();
    }
    start.elapsed().as_nanos() as f64 / iters as f64
}

/// Runs `f` `depth` frames of `at_depth` further down the stack. The C ABI
/// path runs the shared work a few frames deeper than the Rust path; where
/// that lands relative to 4 KiB boundaries changes with the process's random
/// stack offset and was seen to move a ~60 µs verification by several µs
/// either way from one run to the next. Cycling both sides through the same
/// depths, round by round, over a span of whole 4 KiB periods, and averaging
/// over the depths (see [`pair`]), cancels that out.
#[inline(never)]
fn at_depth(depth: usize, f: &mut dyn FnMut() -> f64) -> f64 {
    let pad = black_box([0u8; 64]);
    let t = if depth == 0 {
        f()
    } else {
        at_depth(depth - 1, f)
    };
    black_box(&pad);
    t
}

/// The address of a local of the calling frame's callee: where the stack is.
#[inline(never)]
fn stack_here() -> usize {
    let local = 0u8;
    black_box(&local) as *const u8 as usize
}

/// Stack span the depths cover: 16 periods of 4 KiB.
const DEPTH_SPAN: usize = 64 * 1024;

/// Fewest rounds per depth: a median needs a few (a round preempted by the
/// host is an outlier), so a row of few rounds uses fewer depths, still
/// spread over the whole span.
const MIN_ROUNDS_PER_DEPTH: usize = 8;

/// How many depths of `at_depth` make [`DEPTH_SPAN`] bytes of stack (to
/// within one frame), measured: frame sizes depend on the compiler.
fn depths() -> usize {
    let mut shallow = 0;
    let mut deep = 0;
    at_depth(0, &mut || {
        shallow = stack_here();
        0.0
    });
    at_depth(100, &mut || {
        deep = stack_here();
        0.0
    });
    let frame = (shallow.abs_diff(deep) / 100).max(1);
    DEPTH_SPAN.div_ceil(frame)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Interleaved rounds of `rust` and `c`, each pair of rounds at one stack
/// depth (both orders in turn), the depths cycled: ns/call of `rust`, of
/// `c`, and their difference, each the mean over the depths of that depth's
/// median (the median shrugs off a preempted round; the mean over a span of
/// whole 4 KiB periods cancels where the stack happens to land); and the
/// difference of the best rounds (noise on a shared machine only ever adds
/// time, so the minima estimate the true cost).
struct Pair {
    rust: f64,
    c: f64,
    diff: f64,
    best_diff: f64,
}

fn pair(rounds: usize, iters: usize, mut rust: impl FnMut(), mut c: impl FnMut()) -> Pair {
    // The depths used: spread evenly over the whole span, as many as give
    // each at least `MIN_ROUNDS_PER_DEPTH` rounds (both orders alike).
    let span = depths();
    let used = span.min((rounds / MIN_ROUNDS_PER_DEPTH).max(1));
    let mut rs = vec![Vec::new(); used];
    let mut cs = vec![Vec::new(); used];
    let mut ds = vec![Vec::new(); used];
    // One warm-up call of each side, discarded.
    time_per_call(iters, &mut rust);
    time_per_call(iters, &mut c);
    for round in 0..rounds {
        // Rounds 2k and 2k + 1 share a depth, one in each order.
        let slot = (round / 2) % used;
        let depth = slot * span / used;
        let mut time_rust = || time_per_call(iters, &mut rust);
        let mut time_c = || time_per_call(iters, &mut c);
        let (r, c) = if round % 2 == 0 {
            let r = at_depth(depth, &mut time_rust);
            (r, at_depth(depth, &mut time_c))
        } else {
            let c = at_depth(depth, &mut time_c);
            (at_depth(depth, &mut time_rust), c)
        };
        rs[slot].push(r);
        cs[slot].push(c);
        ds[slot].push(c - r);
    }
    let min = |xs: &[Vec<f64>]| xs.iter().flatten().copied().fold(f64::INFINITY, f64::min);
    let best_diff = min(&cs) - min(&rs);
    let mean_of_medians = |xs: Vec<Vec<f64>>| {
        let medians: Vec<f64> = xs
            .into_iter()
            .filter(|x| !x.is_empty())
            .map(median)
            .collect();
        medians.iter().sum::<f64>() / medians.len() as f64
    };
    Pair {
        best_diff,
        rust: mean_of_medians(rs),
        c: mean_of_medians(cs),
        diff: mean_of_medians(ds),
    }
}

fn overhead() {
    let f = Fixture::new();
    let verify_rounds = verify_rounds();
    let rows = [
        (
            "abi_version",
            pair(
                ROUNDS,
                100_000,
                || {
                    black_box(abi_rust(rust_abi_version));
                },
                || {
                    black_box(abi_c(confkit_abi_version));
                },
            ),
        ),
        (
            "permission_from_name",
            pair(
                ROUNDS,
                20_000,
                || {
                    black_box(from_name_rust(NAME));
                },
                || {
                    black_box(from_name_c(confkit_permission_from_name, NAME));
                },
            ),
        ),
        (
            "permission_from_name (unknown)",
            pair(
                ROUNDS,
                5_000,
                || {
                    black_box(from_name_rust(UNKNOWN_NAME));
                },
                || {
                    black_box(from_name_c(confkit_permission_from_name, UNKNOWN_NAME));
                },
            ),
        ),
        (
            "verify (+ claims_free)",
            pair(
                verify_rounds,
                4,
                || {
                    black_box(f.verify_rust());
                },
                || {
                    black_box(f.verify_c(confkit_verifier_verify));
                },
            ),
        ),
        (
            "verify, a cache hit (+ free)",
            pair(
                ROUNDS,
                20_000,
                || {
                    black_box(f.verify_rust_cached());
                },
                || {
                    black_box(f.verify_c_cached());
                },
            ),
        ),
        (
            "verify vs itself (noise floor)",
            pair(
                verify_rounds,
                4,
                || {
                    black_box(f.verify_rust());
                },
                || {
                    black_box(f.verify_rust());
                },
            ),
        ),
        // The control for the stack: the same verify, one side four frames
        // deeper, as the C ABI path is. Near zero when the depths cancel.
        (
            "verify vs itself, 4 frames deeper",
            pair(
                verify_rounds,
                4,
                || {
                    black_box(f.verify_rust());
                },
                || {
                    at_depth(4, &mut || {
                        black_box(f.verify_rust());
                        0.0
                    });
                },
            ),
        ),
    ];
    let extras = pair(
        ROUNDS,
        200,
        || {},
        || {
            black_box(f.verify_c_extras());
        },
    )
    .c;
    // The same extra work right after a verify, whose curve arithmetic has
    // pushed the allocator's and the parser's data out of the nearest caches.
    let extras_after_verify = pair(
        verify_rounds,
        4,
        || {
            black_box(f.verify_rust());
        },
        || {
            black_box(f.verify_rust());
            black_box(f.verify_c_extras());
        },
    )
    .diff;
    println!();
    println!(
        "C ABI overhead: {ROUNDS} ({verify_rounds} for verify) interleaved rounds at up to {} stack depths over {} KiB (at least {MIN_ROUNDS_PER_DEPTH} rounds a depth); means over the depths of each depth's median",
        depths(),
        DEPTH_SPAN / 1024
    );
    println!(
        "  {:<32} {:>12} {:>13} {:>12} {:>12}  {:<7} result",
        "call", "Rust ns/call", "C ABI ns/call", "overhead ns", "(best rnds)", "target"
    );
    for (name, p) in rows {
        // The two "verify vs itself" rows have no target: they show how far
        // apart two identical calls measure, at the same depth and with one
        // side deeper (its five extra calls a few ns of bias of their own).
        let noise = name.contains("verify vs itself");
        println!(
            "  {name:<32} {:>12.1} {:>13.1} {:>12.1} {:>12.1}  {:<7} {}",
            p.rust,
            p.c,
            p.diff,
            p.best_diff,
            if noise { "-" } else { "<= 100" },
            match (noise, p.diff <= 100.0) {
                (true, _) => "-",
                (false, true) => "met",
                (false, false) => "MISSED",
            }
        );
    }
    println!(
        "  verify's extra work in the C ABI, redone in Rust (the conference ID's UTF-8 check and parse,"
    );
    println!("  the claims' box and its free): {extras:.1} ns/call alone, {extras_after_verify:.1} ns/call right after a verify");
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo bench` passes `--bench`; `cargo test --benches` runs each
    // benchmark once as a test and does not need the timing pass.
    if std::env::args().any(|a| a == "--bench") {
        overhead();
    }
}
