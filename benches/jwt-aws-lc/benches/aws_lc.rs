//! confkit's token mint and verify against jsonwebtoken 11 with its aws-lc
//! backend, on the same claims, key and token shape as `benches/tokens.rs`.
//!
//! A criterion group, then an interleaved pass (rounds alternate the four
//! operations, so load and clock drift hit them alike) that prints medians
//! and the ratios issue 13 sets goals for (verify: jsonwebtoken / confkit
//! ≥ 1.0).

use std::hint::black_box;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use confkit::token::{Claims, KeyId, KeyRing, SigningKey, Validation, DEFAULT_TOKEN_TTL_SECS};
use confkit::{ConferenceId, ExternalId, PermissionSet};
use criterion::{criterion_group, Criterion};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde::{Deserialize, Serialize};

/// The fixed PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410).
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
const SEED: [u8; 32] = [0x5a; 32];

/// The claims as a jsonwebtoken user would declare them.
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

struct Fixture {
    key: SigningKey,
    ring: KeyRing,
    claims: Claims,
    now: u64,
    token: String,
    jwt_claims: JwtClaims,
    jwt_header: Header,
    encoding_key: EncodingKey,
    decoding_key: DecodingKey,
    jwt_validation: jsonwebtoken::Validation,
}

impl Fixture {
    fn new() -> Self {
        // jsonwebtoken checks `exp` against the real clock.
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
        let f = Fixture {
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
        // Both read both: the comparison is on equal work.
        assert_eq!(f.verify(), f.claims);
        assert_eq!(f.jwt_decode(&f.token), f.jwt_claims);
        let theirs = f.jwt_encode();
        assert_eq!(theirs.len(), f.token.len());
        assert!(f.ring.verify(&theirs, &f.validation()).is_ok());
        f
    }

    fn validation(&self) -> Validation<'static> {
        Validation::new(self.now, self.claims.conference)
    }

    fn mint(&self) -> String {
        self.key.mint(&self.claims)
    }

    fn verify(&self) -> Claims {
        self.ring.verify(&self.token, &self.validation()).unwrap()
    }

    fn jwt_encode(&self) -> String {
        jsonwebtoken::encode(&self.jwt_header, &self.jwt_claims, &self.encoding_key).unwrap()
    }

    fn jwt_decode(&self, token: &str) -> JwtClaims {
        jsonwebtoken::decode::<JwtClaims>(token, &self.decoding_key, &self.jwt_validation)
            .unwrap()
            .claims
    }
}

fn benches(c: &mut Criterion) {
    let f = Fixture::new();
    let mut g = c.benchmark_group("tokens_vs_aws_lc");
    g.bench_function("confkit_mint", |b| b.iter(|| black_box(f.mint())));
    g.bench_function("jsonwebtoken_aws_lc_encode", |b| {
        b.iter(|| black_box(f.jwt_encode()))
    });
    g.bench_function("confkit_verify", |b| b.iter(|| black_box(f.verify())));
    g.bench_function("jsonwebtoken_aws_lc_decode", |b| {
        b.iter(|| black_box(f.jwt_decode(&f.token)))
    });
    g.finish();
}

criterion_group!(group, benches);

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// The four operations interleaved: 1,000 rounds of 20 calls each, after 50
/// rounds of warm-up; medians in ns per call.
fn interleaved(f: &Fixture) {
    const WARM_UP: usize = 50;
    const ROUNDS: usize = 1_000;
    const PER_ROUND: usize = 20;
    let ops: [(&str, &dyn Fn()); 4] = [
        ("confkit mint", &|| {
            black_box(f.mint());
        }),
        ("jsonwebtoken (aws-lc) encode", &|| {
            black_box(f.jwt_encode());
        }),
        ("confkit verify", &|| {
            black_box(f.verify());
        }),
        ("jsonwebtoken (aws-lc) decode", &|| {
            black_box(f.jwt_decode(&f.token));
        }),
    ];
    let mut samples = vec![Vec::with_capacity(ROUNDS); ops.len()];
    for round in 0..WARM_UP + ROUNDS {
        for ((_, op), s) in ops.iter().zip(samples.iter_mut()) {
            let t = Instant::now();
            for _ in 0..PER_ROUND {
                op();
            }
            if round >= WARM_UP {
                s.push(t.elapsed().as_nanos() as f64 / PER_ROUND as f64);
            }
        }
    }
    let medians: Vec<f64> = samples.into_iter().map(median).collect();
    println!(
        "\nconfkit against jsonwebtoken 11 with aws-lc (medians of {ROUNDS} interleaved rounds)"
    );
    for ((name, _), m) in ops.iter().zip(&medians) {
        println!("  {name:<30} {m:>9.0} ns");
    }
    println!(
        "  verify: jsonwebtoken (aws-lc) decode / confkit verify = {:.3} (goal >= 1.0)",
        medians[3] / medians[2]
    );
    println!(
        "  mint: jsonwebtoken (aws-lc) encode / confkit mint = {:.3}",
        medians[1] / medians[0]
    );
}

fn main() {
    if std::env::var("CONFKIT_BENCH_ONLY").as_deref() != Ok("ratios") {
        group();
        Criterion::default().configure_from_args().final_summary();
    }
    interleaved(&Fixture::new());
}
