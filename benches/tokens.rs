//! Token mint / verify against raw Ed25519 and against `jsonwebtoken`.
//!
//! One criterion group, so the figures are comparable, all on the same
//! realistic claims (9 default permissions, a UUID conference, a 3 h lifetime).
//! After criterion, `ratios()` times the operations interleaved in rounds
//! and prints the ratios that the targets are about (criterion 0.8 does not
//! hand its means back to the caller).

use std::hint::black_box;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use confkit::token::{
    batch, jws, Claims, KeyId, KeyRing, RevocationList, SigningKey, Validation, VerifiedTokens,
    DEFAULT_TOKEN_TTL_SECS, DEFAULT_VERIFIED_TOKENS,
};
use confkit::{ConferenceId, ExternalId, PermissionSet};
use criterion::{criterion_group, Criterion};
use ed25519_dalek::{Signature, Signer, Verifier, VerifyingKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde::{Deserialize, Serialize};

/// The fixed PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410): the DER
/// is this prefix followed by the 32-byte seed.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

const SEED: [u8; 32] = [0x5a; 32];

/// The claims as a `jsonwebtoken` user would declare them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct JwtClaims {
    iss: String,
    sub: String,
    conf: String,
    perms: Vec<String>,
    iat: u64,
    nbf: u64,
    exp: u64,
    jti: String,
}

/// Everything the operations need, built once.
struct Fixture {
    key: SigningKey,
    /// The public key, as the ring holds it (decompressed).
    vk: VerifyingKey,
    ring: KeyRing,
    claims: Claims,
    now: u64,
    /// Our token and its signing input / signature, for the raw baselines.
    token: String,
    signing_input: Vec<u8>,
    signature: Signature,
    /// The same key and signature in ed25519-dalek 2 (curve25519-dalek 4).
    vk2: ed25519_dalek_2::VerifyingKey,
    signature2: ed25519_dalek_2::Signature,
    jwt_claims: JwtClaims,
    jwt_header: Header,
    encoding_key: EncodingKey,
    decoding_key: DecodingKey,
    jwt_validation: jsonwebtoken::Validation,
}

impl Fixture {
    fn new() -> Self {
        // jsonwebtoken checks `exp` against the real clock, so use it.
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let key = SigningKey::from_seed(&SEED, KeyId::new("2025-01-platform-key").unwrap());
        let ring = KeyRing::with_key(key.kid().clone(), key.verifying_key()).unwrap();
        let claims = Claims::new(
            "https://platform.example.com",
            ExternalId::new("user-7f3c9a41@example.com").unwrap(),
            ConferenceId::random(),
            PermissionSet::DEFAULT_INVITEE,
            now,
            DEFAULT_TOKEN_TTL_SECS,
        );
        let token = key.mint(&claims);
        let (signing_input, sig64) = token.rsplit_once('.').unwrap();
        let signature = Signature::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig64)
                .unwrap(),
        )
        .unwrap();

        let jwt_claims = JwtClaims {
            iss: claims.issuer.clone(),
            sub: claims.subject.as_str().to_owned(),
            conf: claims.conference.to_string(),
            perms: claims.permissions.names().map(String::from).collect(),
            iat: claims.issued_at,
            nbf: claims.not_before,
            exp: claims.expires_at,
            jti: claims.token_id.clone(),
        };
        let mut jwt_header = Header::new(Algorithm::EdDSA);
        jwt_header.kid = Some(key.kid().as_str().to_owned());

        let mut der = PKCS8_ED25519_PREFIX.to_vec();
        der.extend_from_slice(&SEED);
        let encoding_key = EncodingKey::from_ed_der(&der);
        let x = ring.to_jwks().keys[0].x.clone();
        let decoding_key = DecodingKey::from_ed_components(&x).unwrap();
        let jwt_validation = jsonwebtoken::Validation::new(Algorithm::EdDSA);
        jwt_dalek3::install();

        let fixture = Fixture {
            signing_input: signing_input.as_bytes().to_vec(),
            signature,
            vk2: ed25519_dalek_2::VerifyingKey::from_bytes(key.verifying_key().as_bytes()).unwrap(),
            signature2: ed25519_dalek_2::Signature::from_bytes(&signature.to_bytes()),
            vk: key.verifying_key(),
            key,
            ring,
            claims,
            now,
            token,
            jwt_claims,
            jwt_header,
            encoding_key,
            decoding_key,
            jwt_validation,
        };
        fixture.check();
        fixture
    }

    /// Every operation succeeds and they agree, outside the timed loops.
    fn check(&self) {
        assert_eq!(
            self.ring.verify(&self.token, &self.validation()),
            Ok(self.claims.clone())
        );
        self.vk
            .verify_strict(&self.signing_input, &self.signature)
            .unwrap();
        assert!(self.raw_verify_strict());
        assert!(self.raw_verify_strict_dalek2());
        assert!(self.strict());
        assert_eq!(self.raw_sign(), self.signature);
        // jsonwebtoken reads our token, with its `exp` check on.
        assert!(self.jwt_validation.validate_exp);
        assert!(self.jwt_validation.required_spec_claims.contains("exp"));
        assert_eq!(self.jsonwebtoken_decode(), self.jwt_claims);
        // On dalek 3 too, and there it still checks the signature.
        assert_eq!(self.jsonwebtoken_decode_dalek3(), self.jwt_claims);
        let (signed, sig) = self.token.rsplit_once('.').unwrap();
        let other = if sig.starts_with('A') { 'B' } else { 'A' };
        let tampered = format!("{signed}.{other}{}", &sig[1..]);
        for dalek3 in [false, true] {
            jwt_dalek3::use_dalek3(dalek3);
            let refused = jsonwebtoken::decode::<JwtClaims>(
                &tampered,
                &self.decoding_key,
                &self.jwt_validation,
            );
            assert!(
                matches!(refused, Err(ref e) if *e.kind() == jsonwebtoken::errors::ErrorKind::InvalidSignature),
                "jsonwebtoken (dalek 3: {dalek3}) accepted a tampered signature: {refused:?}"
            );
        }
        jwt_dalek3::use_dalek3(false);
        // And we read jsonwebtoken's token: same header members, so same size.
        let theirs = self.jsonwebtoken_encode();
        assert_eq!(
            self.ring.verify(&theirs, &self.validation()),
            Ok(self.claims.clone())
        );
        // Same signing-input length for the raw baselines.
        let ours = self.key.mint(&self.claims);
        assert_eq!(ours, self.token);
        assert_eq!(
            ours.rsplit_once('.').unwrap().0.len(),
            self.signing_input.len()
        );
    }

    fn validation(&self) -> Validation<'static> {
        Validation::new(self.now, self.claims.conference)
    }

    fn raw_sign(&self) -> Signature {
        self.key.dalek().sign(black_box(&self.signing_input))
    }

    fn mint(&self) -> String {
        self.key.mint(black_box(&self.claims))
    }

    fn jsonwebtoken_encode(&self) -> String {
        jsonwebtoken::encode(
            black_box(&self.jwt_header),
            black_box(&self.jwt_claims),
            &self.encoding_key,
        )
        .unwrap()
    }

    fn raw_verify_strict(&self) -> bool {
        self.vk
            .verify_strict(black_box(&self.signing_input), black_box(&self.signature))
            .is_ok()
    }

    fn raw_verify_strict_dalek2(&self) -> bool {
        self.vk2
            .verify_strict(black_box(&self.signing_input), black_box(&self.signature2))
            .is_ok()
    }

    /// confkit's strict check (`token::strict`), on the same input.
    fn strict(&self) -> bool {
        confkit::token::strict::verify_strict(
            &self.vk,
            black_box(&self.signing_input),
            black_box(&self.signature.to_bytes()),
        )
    }

    fn verify(&self) -> Claims {
        self.ring
            .verify(black_box(&self.token), &self.validation())
            .unwrap()
    }

    fn jsonwebtoken_decode(&self) -> JwtClaims {
        jwt_dalek3::use_dalek3(false);
        self.jwt_decode()
    }

    fn jsonwebtoken_decode_dalek3(&self) -> JwtClaims {
        jwt_dalek3::use_dalek3(true);
        self.jwt_decode()
    }

    fn jwt_decode(&self) -> JwtClaims {
        jsonwebtoken::decode::<JwtClaims>(
            black_box(&self.token),
            &self.decoding_key,
            &self.jwt_validation,
        )
        .unwrap()
        .claims
    }
}

/// jsonwebtoken on the newest dalek (issue 13's "jsonwebtoken with the
/// newest dalek built with the same flags"). jsonwebtoken 11 depends on
/// ed25519-dalek 2, but it takes its signature checks from a process-wide
/// `CryptoProvider`: this one is its own RustCrypto provider except that,
/// while [`JWT_ON_DALEK3`] is set, EdDSA keys get [`Dalek3Verifier`], which
/// does what jsonwebtoken's EdDSA verifier does (decompress the key, plain
/// `verify`) on ed25519-dalek 3, compiled with this repository's flags like
/// the rest of the benchmark. Both jsonwebtoken variants then go through the
/// same factory: the flag costs them alike (one atomic load).
mod jwt_dalek3 {
    use std::sync::atomic::{AtomicBool, Ordering};

    use jsonwebtoken::crypto::{rust_crypto::DEFAULT_PROVIDER, CryptoProvider, JwtVerifier};
    use jsonwebtoken::errors::{ErrorKind, Result};
    use jsonwebtoken::signature::{Error, Verifier};
    use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};

    static JWT_ON_DALEK3: AtomicBool = AtomicBool::new(false);

    /// Installs the provider (once per process; later calls do nothing).
    pub fn install() {
        static PROVIDER: std::sync::OnceLock<CryptoProvider> = std::sync::OnceLock::new();
        let provider = PROVIDER.get_or_init(|| CryptoProvider {
            verifier_factory: new_verifier,
            ..DEFAULT_PROVIDER.clone()
        });
        // Err: already installed (by an earlier call); nothing else installs one.
        let _ = provider.install_default();
    }

    /// Whether jsonwebtoken's EdDSA checks run on dalek 3 from now on.
    pub fn use_dalek3(on: bool) {
        JWT_ON_DALEK3.store(on, Ordering::Relaxed);
    }

    fn new_verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
        if *alg == Algorithm::EdDSA && JWT_ON_DALEK3.load(Ordering::Relaxed) {
            Ok(Box::new(Dalek3Verifier::new(key)?))
        } else {
            (DEFAULT_PROVIDER.verifier_factory)(alg, key)
        }
    }

    /// jsonwebtoken's `EdDSAVerifier`, on ed25519-dalek 3.
    struct Dalek3Verifier(ed25519_dalek::VerifyingKey);

    impl Dalek3Verifier {
        fn new(key: &DecodingKey) -> Result<Self> {
            if key.family() != AlgorithmFamily::Ed {
                return Err(ErrorKind::InvalidKeyFormat.into());
            }
            let bytes: &[u8; 32] = key
                .try_get_as_bytes()?
                .get(..32)
                .and_then(|b| b.try_into().ok())
                .ok_or(ErrorKind::InvalidEddsaKey)?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(bytes)
                .map_err(|_| ErrorKind::InvalidEddsaKey)?;
            Ok(Self(key))
        }
    }

    impl Verifier<Vec<u8>> for Dalek3Verifier {
        fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> std::result::Result<(), Error> {
            let signature =
                ed25519_dalek::Signature::from_slice(signature).map_err(|_| Error::new())?;
            ed25519_dalek::Verifier::verify(&self.0, msg, &signature).map_err(|_| Error::new())
        }
    }

    impl JwtVerifier for Dalek3Verifier {
        fn algorithm(&self) -> Algorithm {
            Algorithm::EdDSA
        }
    }
}

fn bench_tokens(c: &mut Criterion) {
    let f = Fixture::new();
    let mut group = c.benchmark_group("tokens");
    group.bench_function("raw_sign", |b| b.iter(|| f.raw_sign()));
    group.bench_function("mint", |b| b.iter(|| f.mint()));
    group.bench_function("jsonwebtoken_encode", |b| {
        b.iter(|| f.jsonwebtoken_encode())
    });
    group.bench_function("raw_verify_strict", |b| b.iter(|| f.raw_verify_strict()));
    group.bench_function("strict", |b| b.iter(|| f.strict()));
    group.bench_function("verify", |b| b.iter(|| f.verify()));
    group.bench_function("jsonwebtoken_decode", |b| {
        b.iter(|| f.jsonwebtoken_decode())
    });
    group.bench_function("jsonwebtoken_decode_dalek3", |b| {
        b.iter(|| f.jsonwebtoken_decode_dalek3())
    });
    group.finish();

    // What a ring costs to build (a phone's Client, a Verifier from a JWK
    // set): a key's torsion check is a scalar multiplication that only a
    // batch needs, so a ring defers it to the key's first batch.
    let mut group = c.benchmark_group("keyring");
    let kid = f.key.kid().clone();
    group.bench_function("with_key", |b| {
        b.iter(|| KeyRing::with_key(kid.clone(), black_box(f.vk)).unwrap())
    });
    group.bench_function("first_batch_torsion_check", |b| {
        b.iter(|| batch::verify_batch(&batch::BatchKey::new(black_box(f.vk)), &[]))
    });
    group.finish();
}

criterion_group!(benches, bench_tokens);

/// Rounds of the interleaved timing pass, and iterations of each op per round
/// (2000 iterations of each op in all). Short rounds, so that preemption by
/// other processes spoils few of them and the median stays put.
const ROUNDS: usize = 1000;
const PER_ROUND: usize = 2;
/// Rounds run first and discarded.
const WARM_UP_ROUNDS: usize = 50;

fn time_n(n: usize, mut op: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        op();
    }
    start.elapsed().as_nanos() as f64 / n as f64
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

/// A named operation of the timing pass.
type Op<'a> = (&'static str, Box<dyn FnMut() + 'a>);

/// Times `ops` interleaved in rounds (so drift in clock speed or load from
/// elsewhere hits them alike); returns each op's median and best-round ns/op.
fn interleaved(ops: &mut [Op<'_>]) -> Vec<(f64, f64)> {
    interleaved_rounds(ops, WARM_UP_ROUNDS, ROUNDS, PER_ROUND)
}

/// As [`interleaved`], with the counts given (for slow operations).
fn interleaved_rounds(
    ops: &mut [Op<'_>],
    warm_up: usize,
    rounds: usize,
    per_round: usize,
) -> Vec<(f64, f64)> {
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); ops.len()];
    for round in 0..warm_up + rounds {
        for ((_, op), s) in ops.iter_mut().zip(samples.iter_mut()) {
            let t = time_n(per_round, op);
            if round >= warm_up {
                s.push(t);
            }
        }
    }
    samples
        .into_iter()
        .map(|s| {
            let best = s.iter().copied().fold(f64::INFINITY, f64::min);
            (median(s), best)
        })
        .collect()
}

fn print_times(ops: &[Op<'_>], times: &[(f64, f64)]) {
    println!("  {:<34} {:>10} {:>11}", "op", "median", "best round");
    for ((name, _), (median, best)) in ops.iter().zip(times) {
        println!("  {name:<34} {median:>7.0} ns {best:>8.0} ns");
    }
}

/// Whether curve25519-dalek's AVX-512 IFMA backend is compiled in and this
/// CPU has what it needs (IFMA and VL), so that dalek picks it at run time.
#[allow(unexpected_cfgs)]
fn ifma_runs() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        cfg!(curve25519_dalek_backend = "avx512")
            && std::arch::is_x86_feature_detected!("avx512ifma")
            && std::arch::is_x86_feature_detected!("avx512vl")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The CPU features that decide curve25519-dalek's backend, for the record.
#[allow(unexpected_cfgs)]
fn cpu_line(ifma: bool) -> String {
    #[cfg(target_arch = "x86_64")]
    let cpu = format!(
        "CPU: avx2 {}, avx512ifma {}, avx512vl {}",
        std::arch::is_x86_feature_detected!("avx2"),
        std::arch::is_x86_feature_detected!("avx512ifma"),
        std::arch::is_x86_feature_detected!("avx512vl")
    );
    #[cfg(not(target_arch = "x86_64"))]
    let cpu = String::from("CPU: not x86_64");
    format!(
        "{cpu}; IFMA backend compiled in: {}; IFMA code runs: {ifma}",
        cfg!(curve25519_dalek_backend = "avx512")
    )
}

/// Times the operations interleaved in rounds, takes each one's median
/// ns/op over the rounds, and prints the ratios the targets are about; then a
/// breakdown of where verification time goes.
fn ratios() {
    let f = Fixture::new();
    let mut ops: Vec<Op<'_>> = vec![
        (
            "raw_sign",
            Box::new(|| {
                black_box(f.raw_sign());
            }),
        ),
        (
            "mint",
            Box::new(|| {
                black_box(f.mint());
            }),
        ),
        (
            "jsonwebtoken_encode",
            Box::new(|| {
                black_box(f.jsonwebtoken_encode());
            }),
        ),
        (
            "raw_verify_strict",
            Box::new(|| {
                black_box(f.raw_verify_strict());
            }),
        ),
        (
            "raw_verify_strict (dalek 2)",
            Box::new(|| {
                black_box(f.raw_verify_strict_dalek2());
            }),
        ),
        (
            "strict",
            Box::new(|| {
                black_box(f.strict());
            }),
        ),
        (
            "verify",
            Box::new(|| {
                black_box(f.verify());
            }),
        ),
        (
            "jsonwebtoken_decode",
            Box::new(|| {
                black_box(f.jsonwebtoken_decode());
            }),
        ),
        (
            "jsonwebtoken_decode (dalek 3)",
            Box::new(|| {
                black_box(f.jsonwebtoken_decode_dalek3());
            }),
        ),
    ];
    let times = interleaved(&mut ops);
    let m: Vec<f64> = times.iter().map(|t| t.0).collect();
    let [raw_sign, mint, jwt_encode, raw_verify, raw_verify2, strict, verify, jwt_decode, jwt_decode3] =
        m[..]
    else {
        unreachable!()
    };

    println!();
    println!(
        "Interleaved timing: median ns/op over {ROUNDS} rounds of {PER_ROUND} iterations each"
    );
    print_times(&ops, &times);
    println!();
    // The goal for a cold verify against jsonwebtoken 11 depends on whether
    // curve25519-dalek's AVX-512 IFMA code runs: compiled in (the
    // `curve25519_dalek_backend="avx512"` cfg of .cargo/config.toml) and
    // chosen at run time on a CPU with IFMA.
    let ifma = ifma_runs();
    println!("  {}", cpu_line(ifma));
    let (decode_goal, decode_target) = if ifma {
        (1.70, ">= 1.70")
    } else {
        (1.12, ">= 1.12")
    };
    println!(
        "  {:<30} {:>8}  {:<8} result",
        "ratio", "measured", "target"
    );
    let rows = [
        (
            "mint / raw_sign",
            mint / raw_sign,
            "<= 1.10",
            mint / raw_sign <= 1.10,
        ),
        (
            "verify / raw_verify_strict",
            verify / raw_verify,
            "<= 1.10",
            verify / raw_verify <= 1.10,
        ),
        (
            "verify_strict: dalek 2 / dalek 3",
            raw_verify2 / raw_verify,
            "report",
            true,
        ),
        (
            "raw_verify_strict / strict",
            raw_verify / strict,
            ">= 1.00",
            raw_verify / strict >= 1.00,
        ),
        (
            "jsonwebtoken_encode / mint",
            jwt_encode / mint,
            ">= 1.80",
            jwt_encode / mint >= 1.80,
        ),
        (
            "jsonwebtoken_decode / verify",
            jwt_decode / verify,
            decode_target,
            jwt_decode / verify >= decode_goal,
        ),
        (
            "jwt (dalek 3) decode / verify",
            jwt_decode3 / verify,
            ">= 1.15",
            jwt_decode3 / verify >= 1.15,
        ),
    ];
    for (name, ratio, target, met) in rows {
        println!(
            "  {name:<30} {ratio:>8.3}  {target:<8} {}",
            match (target, met) {
                ("report", _) => "",
                (_, true) => "met",
                (_, false) => "MISSED",
            }
        );
    }
    drop(ops);
    breakdown(&f);
}

/// Where the time of a verification goes: the pieces jsonwebtoken and confkit
/// do differently (point decompression, strict vs plain equation, parsing).
fn breakdown(f: &Fixture) {
    let public = *f.vk.as_bytes();
    let (_, payload) = jws::verify(&f.token, |_| Ok(&f.vk)).unwrap();
    let validation = f.validation();
    let mut ops: Vec<Op<'_>> = vec![
        (
            "raw_verify_strict",
            Box::new(|| {
                black_box(f.raw_verify_strict());
            }),
        ),
        (
            "raw_verify (plain, non-strict)",
            Box::new(|| {
                black_box(
                    f.vk.verify(black_box(&f.signing_input), black_box(&f.signature))
                        .is_ok(),
                );
            }),
        ),
        (
            "VerifyingKey::from_bytes",
            Box::new(|| {
                black_box(VerifyingKey::from_bytes(black_box(&public)).is_ok());
            }),
        ),
        (
            "jws::verify (no claims)",
            Box::new(|| {
                black_box(jws::verify(black_box(&f.token), |_| Ok(&f.vk)).is_ok());
            }),
        ),
        (
            "Claims::from_json + check",
            Box::new(|| {
                let c = Claims::from_json(black_box(&payload)).unwrap();
                {
                    black_box(validation.check(&c).is_ok());
                };
            }),
        ),
        (
            // What the payload costs serde_json, read into a plain derived
            // struct (no id or permission checks): the reference for
            // confkit's own reader (src/token/json.rs).
            "serde_json JwtClaims (reference)",
            Box::new(|| {
                black_box(serde_json::from_slice::<JwtClaims>(black_box(&payload)).is_ok());
            }),
        ),
        (
            "Claims::to_json",
            Box::new(|| {
                black_box(f.claims.to_json());
            }),
        ),
    ];
    let times = interleaved(&mut ops);
    println!();
    println!("Breakdown (same method):");
    print_times(&ops, &times);
}

/// A second verify of the same token through the cache of verified tokens
/// (with a revocation list of 1,000 token ids and 1,000 subjects to check),
/// against a full verify, interleaved.
fn cached(f: &Fixture) {
    let cache = VerifiedTokens::new(DEFAULT_VERIFIED_TOKENS);
    let mut revoked = RevocationList::new();
    for i in 0..1_000 {
        revoked.revoke_token(format!("revoked-{i}"), f.now + 3_600);
        revoked.revoke_subject(
            f.claims.conference,
            ExternalId::new(format!("kicked-{i}")).unwrap(),
            f.now,
            f.now + 3_600,
        );
    }
    let validation = f.validation().with_revocations(&revoked);
    f.ring.verify_cached(&cache, &f.token, &validation).unwrap();
    let mut ops: Vec<Op<'_>> = vec![
        (
            "verify (no cache)",
            Box::new(|| {
                black_box(f.ring.verify(black_box(&f.token), &validation).unwrap());
            }),
        ),
        (
            "verify_cached, a hit",
            Box::new(|| {
                black_box(
                    f.ring
                        .verify_cached(&cache, black_box(&f.token), &validation)
                        .unwrap(),
                );
            }),
        ),
    ];
    let times = interleaved(&mut ops);
    println!();
    println!("Cache of verified tokens (revocations checked on every hit, looked up again only after the lists changed):");
    print_times(&ops, &times);
    println!(
        "  interleaved with a verify, a hit measures {:.0} ns, {:.4} of a verify",
        times[1].0,
        times[1].0 / times[0].0
    );
    drop(ops);
    // A hit is too short to time two at a time (the clock's own cost is
    // tens of ns on a VM): time it in rounds of 2,000, with its parts.
    let plain = f.validation();
    let claims = f.ring.verify(&f.token, &plain).unwrap();
    // Two versions of the lists: a hit alternating between them never finds
    // the token checked under the version it sees (what the first hit after
    // each revocation pays).
    let mut changed = revoked.clone();
    changed.revoke_token("one-more", f.now + 3_600);
    let other = f.validation().with_revocations(&changed);
    let flip = std::cell::Cell::new(false);
    let mut parts: Vec<Op<'_>> = vec![
        (
            "a hit, with the revocation lists",
            Box::new(|| {
                black_box(
                    f.ring
                        .verify_cached(&cache, black_box(&f.token), &validation)
                        .unwrap(),
                );
            }),
        ),
        (
            "a hit, the lists changed since",
            Box::new(|| {
                flip.set(!flip.get());
                let v = if flip.get() { &validation } else { &other };
                black_box(
                    f.ring
                        .verify_cached(&cache, black_box(&f.token), v)
                        .unwrap(),
                );
            }),
        ),
        (
            "a hit, no revocation list",
            Box::new(|| {
                black_box(
                    f.ring
                        .verify_cached(&cache, black_box(&f.token), &plain)
                        .unwrap(),
                );
            }),
        ),
        (
            "the lookup alone (VerifiedTokens::get)",
            Box::new(|| {
                black_box(cache.get(black_box(&f.token)));
            }),
        ),
        (
            "the revocation check alone",
            Box::new(|| {
                black_box(revoked.check(black_box(&claims)).is_ok());
            }),
        ),
    ];
    let times = interleaved_rounds(&mut parts, 20, 200, 2_000);
    print_times(&parts, &times);
    println!(
        "  a hit costs {:.0} ns with the lists unchanged since the token was last checked, \
         {:.0} ns after they changed (target <= 100 ns, including the revocation check)",
        times[0].0, times[1].0
    );
}

/// Distinct tokens by the fixture's key (one per user, as in a join storm).
fn storm_tokens(f: &Fixture, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let mut c = f.claims.clone();
            c.subject = ExternalId::new(format!("user-{i}@example.com")).unwrap();
            c.token_id = format!("jti-{i}");
            f.key.mint(&c)
        })
        .collect()
}

/// Batch verification against one verify per token, per token, for batches
/// of 16, 64 and 256 distinct tokens by one key, interleaved; and the
/// signature check alone (`batch::verify_batch` against `verify_strict`).
fn batched(f: &Fixture) {
    let validation = f.validation();
    println!();
    println!("Batch verification (per token; one key, distinct tokens):");
    println!(
        "  {:<6} {:>12} {:>12} {:>8} {:>14} {:>14} {:>8}",
        "batch", "verify", "verify_batch", "ratio", "strict", "batch::verify", "ratio"
    );
    for n in [16usize, 64, 256] {
        let tokens = storm_tokens(f, n);
        let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
        let sigs: Vec<(Vec<u8>, [u8; 64])> = tokens
            .iter()
            .map(|t| {
                let (input, s64) = t.rsplit_once('.').unwrap();
                let sig = jws::b64_decode(s64, confkit::token::Segment::Signature).unwrap();
                (input.as_bytes().to_vec(), sig.try_into().unwrap())
            })
            .collect();
        let items: Vec<batch::Item<'_>> = sigs
            .iter()
            .map(|(m, s)| batch::Item {
                message: m,
                signature: s,
            })
            .collect();
        assert!(f
            .ring
            .verify_batch(&refs, &validation)
            .iter()
            .all(Result::is_ok));
        let batch_key = batch::BatchKey::new(f.vk);
        assert!(batch::verify_batch(&batch_key, &items).iter().all(|&ok| ok));
        let mut ops: Vec<Op<'_>> = vec![
            (
                "verify, one by one",
                Box::new(|| {
                    for t in &refs {
                        black_box(f.ring.verify(black_box(t), &validation).unwrap());
                    }
                }),
            ),
            (
                "verify_batch",
                Box::new(|| {
                    black_box(f.ring.verify_batch(black_box(&refs), &validation));
                }),
            ),
            (
                "strict, one by one",
                Box::new(|| {
                    for (m, s) in &sigs {
                        black_box(confkit::token::strict::verify_strict(
                            &f.vk,
                            black_box(m),
                            black_box(s),
                        ));
                    }
                }),
            ),
            (
                "batch::verify_batch",
                Box::new(|| {
                    black_box(batch::verify_batch(&batch_key, black_box(&items)));
                }),
            ),
        ];
        let rounds = (6_000 / n).max(10);
        let t = interleaved_rounds(&mut ops, rounds / 10, rounds, 1);
        let per = |i: usize| t[i].0 / n as f64;
        println!(
            "  {n:<6} {:>9.0} ns {:>9.0} ns {:>8.3} {:>11.0} ns {:>11.0} ns {:>8.3}",
            per(0),
            per(1),
            per(1) / per(0),
            per(2),
            per(3),
            per(3) / per(2)
        );
    }
    println!("  target: verify_batch / verify <= 0.30 for batches of 64 or more");
}

fn main() {
    // CONFKIT_BENCH_ONLY=batch, =cached or =ratios runs that part alone (no
    // criterion): e.g. to compare builds with other profiles.
    match std::env::var("CONFKIT_BENCH_ONLY").as_deref() {
        Ok("ratios") => return ratios(),
        Ok("batch") => return batched(&Fixture::new()),
        Ok("cached") => return cached(&Fixture::new()),
        _ => {}
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo bench` passes `--bench`; `cargo test --benches` runs each
    // benchmark once as a test and does not need the timing pass.
    if std::env::args().any(|a| a == "--bench") {
        ratios();
        let f = Fixture::new();
        cached(&f);
        batched(&f);
    }
}
