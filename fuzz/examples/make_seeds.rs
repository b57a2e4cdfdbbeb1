//! Writes the committed seed corpora, `fuzz/corpus/<target>/seed-*`, from
//! the test fixtures (`tests/fixtures/wire/`), tokens minted with the fixed
//! key and hand-written REST bodies and C call sequences. Each structured
//! seed is decoded again with `arbitrary` and compared with what it was
//! written from, so a seed always means what it says.
//!
//!     cargo run --manifest-path fuzz/Cargo.toml --target-dir fuzz/target --example make_seeds
//!
//! Seeds the fuzzer found (crashes turned regression seeds) are named
//! `crash-*` / `regression-*` and are not touched.

use std::fmt::Debug;
use std::fs;
use std::path::{Path, PathBuf};

use arbitrary::Arbitrary;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use confkit::token::{Claims, KeyId, SigningKey};
use confkit::{ConferenceId, PermissionSet};
use confkit_fuzz::ffi::{Call, ConfOptions, Op, PlatformOptions, Source, Str};
use confkit_fuzz::rest::{Method, Step as RestStep};
use confkit_fuzz::wire::Step as WireStep;
use confkit_fuzz::{decode, eid, signing_key, Blob, Encode, Seed, START};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

struct Corpus {
    dir: PathBuf,
    n: usize,
}

impl Corpus {
    fn new(target: &str) -> Corpus {
        let dir = root().join("corpus").join(target);
        fs::create_dir_all(&dir).unwrap();
        for e in fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("seed-")
            {
                fs::remove_file(p).unwrap();
            }
        }
        Corpus { dir, n: 0 }
    }

    fn add(&mut self, name: &str, bytes: impl AsRef<[u8]>) {
        self.n += 1;
        let file = format!("seed-{:03}-{name}", self.n);
        fs::write(self.dir.join(file), bytes).unwrap();
    }

    /// The input of a fixed defect (kept by name; tests/fuzz_regressions.rs
    /// has its test).
    fn regression(&mut self, name: &str, bytes: impl AsRef<[u8]>) {
        fs::write(self.dir.join(format!("regression-{name}")), bytes).unwrap();
    }

    /// A structured seed, checked to decode to `value`.
    fn structured<T>(&mut self, name: &str, value: &Vec<T>)
    where
        T: Encode + Debug + PartialEq + for<'a> Arbitrary<'a>,
    {
        let bytes = value.encode(Seed::new()).0;
        let back: Vec<T> = decode(&bytes).expect("a seed decodes");
        assert_eq!(&back, value, "seed {name} does not decode to itself");
        self.add(name, bytes);
    }
}

fn fixture(rel: &str) -> String {
    fs::read_to_string(root().join("../tests/fixtures/wire").join(rel))
        .unwrap()
        .trim_end()
        .to_owned()
}

fn fixtures(dir: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> =
        fs::read_dir(root().join("../tests/fixtures/wire").join(dir))
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                let name = p.file_stem().unwrap().to_string_lossy().into_owned();
                (name, fs::read_to_string(&p).unwrap().trim_end().to_owned())
            })
            .collect();
    v.sort();
    v
}

const FIXTURE_CONF: &str = "6f1c2e0a-8a3b-4c1d-9e2f-0123456789ab";
const FIXTURE_TOKEN: &str = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCIsImtpZCI6ImtleS0xIn0.e30.c2ln";

/// The tokens in the recorded flow.
fn flow_tokens() -> Vec<String> {
    let flow = fixture("flows/bob.flow");
    let mut out = Vec::new();
    for part in flow.split("\"token\":\"").skip(1) {
        let t = part.split('"').next().unwrap().to_owned();
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// A token signed with the fixed key, with a fixed `jti` (so the seeds are
/// the same on every run).
fn mint(subject: &str, conf: ConferenceId, perms: PermissionSet, iat: u64, ttl: u64) -> String {
    signing_key().mint(&fixed(Claims::new(
        "confkit",
        eid(subject),
        conf,
        perms,
        iat,
        ttl,
    )))
}

fn fixed(mut claims: Claims) -> Claims {
    claims.token_id = format!("seed-{}-{}", claims.subject, claims.issued_at);
    claims
}

fn b64(s: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

fn token_verify() {
    let mut c = Corpus::new("token_verify");
    let conf = ConferenceId::parse("25649f3b-ebf1-49e9-b982-2d78d2964d37").unwrap();
    for (i, t) in flow_tokens().iter().enumerate() {
        c.add(&format!("flow-token-{i}"), t);
    }
    let key = signing_key();
    let good = fixed(Claims::new(
        "confkit",
        eid("bob"),
        conf,
        PermissionSet::DEFAULT_INVITEE,
        START,
        3600,
    ));
    let valid = key.mint(&good);
    c.add("valid", &valid);
    c.add(
        "all-permissions",
        mint("alice", conf, PermissionSet::ALL, START, 10_800),
    );
    c.add(
        "expired",
        mint("bob", conf, PermissionSet::ALL, START - 20_000, 3600),
    );
    c.add(
        "within-leeway",
        mint("bob", conf, PermissionSet::ALL, START - 3630, 3600),
    );
    c.add(
        "not-yet-valid",
        mint("bob", conf, PermissionSet::ALL, START + 1000, 3600),
    );
    let other = SigningKey::from_seed(&[7; 32], KeyId::new("other-key").unwrap());
    c.add("other-known-key", other.mint(&good));
    let stranger = SigningKey::from_seed(&[9; 32], KeyId::new("test-key-1").unwrap());
    c.add("right-kid-wrong-key", stranger.mint(&good));
    let unknown = SigningKey::from_seed(&[9; 32], KeyId::new("nobody").unwrap());
    c.add("unknown-kid", unknown.mint(&good));
    let parts: Vec<&str> = valid.split('.').collect();
    c.add("padded", format!("{}=.{}.{}", parts[0], parts[1], parts[2]));
    c.add("four-segments", format!("{valid}.x"));
    c.add("two-segments", format!("{}.{}", parts[0], parts[1]));
    c.add("empty-signature", format!("{}.{}.", parts[0], parts[1]));
    c.add("fixture-token", FIXTURE_TOKEN);
    c.add("oversize", "a".repeat(5000));
    // A malleated signature: S + L.
    let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    let l: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for i in 0..32 {
        let v = u16::from(sig[32 + i]) + u16::from(l[i]) + carry;
        sig[32 + i] = v as u8;
        carry = v >> 8;
    }
    c.add(
        "malleated-signature",
        format!("{}.{}.{}", parts[0], parts[1], b64(&sig)),
    );
    // Headers signed by the right key, claims as given: `{header}\n{payload}`.
    let h = r#"{"alg":"EdDSA","typ":"JWT","kid":"test-key-1"}"#;
    let claims = format!(
        r#"{{"iss":"confkit","sub":"bob","conf":"{conf}","perms":["JOIN","SEND_AUDIO"],"iat":{START},"nbf":{START},"exp":{},"jti":"abc"}}"#,
        START + 3600
    );
    let signed = |c: &mut Corpus, name: &str, header: &str, payload: &str| {
        c.add(name, format!("{header}\n{payload}"));
    };
    signed(&mut c, "signed-valid", h, &claims);
    signed(
        &mut c,
        "signed-ed25519-alg",
        r#"{"alg":"Ed25519","kid":"test-key-1"}"#,
        &claims,
    );
    signed(
        &mut c,
        "signed-alg-none",
        r#"{"alg":"none","kid":"test-key-1"}"#,
        &claims,
    );
    signed(
        &mut c,
        "signed-alg-hs256",
        r#"{"alg":"HS256","kid":"test-key-1"}"#,
        &claims,
    );
    signed(
        &mut c,
        "signed-crit",
        r#"{"alg":"EdDSA","kid":"test-key-1","crit":["exp"]}"#,
        &claims,
    );
    signed(&mut c, "signed-no-kid", r#"{"alg":"EdDSA"}"#, &claims);
    signed(
        &mut c,
        "signed-kid-null",
        r#"{"alg":"EdDSA","kid":null}"#,
        &claims,
    );
    signed(
        &mut c,
        "signed-dup-alg",
        r#"{"alg":"none","alg":"EdDSA","kid":"test-key-1"}"#,
        &claims,
    );
    signed(
        &mut c,
        "signed-typ-number",
        r#"{"alg":"EdDSA","kid":"test-key-1","typ":5}"#,
        &claims,
    );
    signed(
        &mut c,
        "signed-header-array",
        r#"["EdDSA","test-key-1"]"#,
        &claims,
    );
    signed(
        &mut c,
        "signed-claims-array",
        h,
        &format!(r#"["confkit","bob","{conf}",[],1,2,3,"j"]"#),
    );
    signed(
        &mut c,
        "signed-no-nbf",
        h,
        &claims.replace(&format!(r#""nbf":{START},"#), ""),
    );
    signed(
        &mut c,
        "signed-nbf-null",
        h,
        &claims.replace(&format!(r#""nbf":{START}"#), r#""nbf":null"#),
    );
    signed(
        &mut c,
        "signed-iat-string",
        h,
        &claims.replace(&format!(r#""iat":{START}"#), r#""iat":"1700000000""#),
    );
    signed(
        &mut c,
        "signed-exp-float",
        h,
        &claims.replace(&format!(r#""exp":{}"#, START + 3600), r#""exp":1.7e9"#),
    );
    signed(
        &mut c,
        "signed-exp-negative",
        h,
        &claims.replace(&format!(r#""exp":{}"#, START + 3600), r#""exp":-1"#),
    );
    signed(
        &mut c,
        "signed-exp-max",
        h,
        &claims.replace(
            &format!(r#""exp":{}"#, START + 3600),
            r#""exp":18446744073709551615"#,
        ),
    );
    signed(
        &mut c,
        "signed-unknown-permission",
        h,
        &claims.replace("SEND_AUDIO", "FLY"),
    );
    signed(
        &mut c,
        "signed-conf-uppercase",
        h,
        &claims.replace(&conf.to_string(), &conf.to_string().to_uppercase()),
    );
    signed(
        &mut c,
        "signed-conf-braces",
        h,
        &claims.replace(&conf.to_string(), &format!("{{{conf}}}")),
    );
    signed(
        &mut c,
        "signed-empty-jti",
        h,
        &claims.replace(r#""jti":"abc""#, r#""jti":"""#),
    );
    signed(
        &mut c,
        "signed-empty-sub",
        h,
        &claims.replace(r#""sub":"bob""#, r#""sub":"""#),
    );
    signed(
        &mut c,
        "signed-sub-escaped",
        h,
        &claims.replace(r#""sub":"bob""#, r#""sub":"b\u006fb""#),
    );
    signed(
        &mut c,
        "signed-dup-sub",
        h,
        &claims.replace(r#""sub":"bob""#, r#""sub":"bob","sub":"eve""#),
    );
    signed(
        &mut c,
        "signed-extra-member",
        h,
        &claims.replace(r#""jti""#, r#""extra":{"a":[1,2]},"jti""#),
    );
    signed(
        &mut c,
        "signed-whitespace",
        &format!(" \n{h}"),
        &format!("\t{claims} "),
    );
    signed(&mut c, "signed-trailing", h, &format!("{claims}x"));
    // The header as minted, to show the layout.
    let header = URL_SAFE_NO_PAD.decode(parts[0]).unwrap();
    let payload = URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
    signed(
        &mut c,
        "signed-as-minted",
        std::str::from_utf8(&header).unwrap(),
        std::str::from_utf8(&payload).unwrap(),
    );
    println!("token_verify: {} seeds", c.n);
}

fn jwks_parse() {
    let mut c = Corpus::new("jwks_parse");
    let key = signing_key();
    let x = b64(key.verifying_key().as_bytes());
    let other = SigningKey::from_seed(&[7; 32], KeyId::new("other-key").unwrap());
    let x2 = b64(other.verifying_key().as_bytes());
    let flow = fixture("flows/bob.flow");
    let jwks_line = flow.lines().find(|l| l.starts_with("jwks ")).unwrap();
    c.add("flow", &jwks_line[5..]);
    let k = |kty: &str, crv: &str, x: &str, kid: &str| {
        format!(r#"{{"kty":"{kty}","crv":"{crv}","x":"{x}"{kid}}}"#)
    };
    let set = |keys: &[String]| format!(r#"{{"keys":[{}]}}"#, keys.join(","));
    c.add(
        "one",
        set(&[k("OKP", "Ed25519", &x, r#","kid":"test-key-1""#)]),
    );
    c.add(
        "two",
        set(&[
            k(
                "OKP",
                "Ed25519",
                &x,
                r#","kid":"test-key-1","alg":"EdDSA","use":"sig""#,
            ),
            k("OKP", "Ed25519", &x2, r#","kid":"other-key""#),
        ]),
    );
    c.add("empty", r#"{"keys":[]}"#);
    c.add("no-keys", r#"{}"#);
    c.add("keys-null", r#"{"keys":null}"#);
    c.add("array", r#"[{"kty":"OKP"}]"#);
    c.add("no-kid", set(&[k("OKP", "Ed25519", &x, "")]));
    c.add(
        "kid-null",
        set(&[k("OKP", "Ed25519", &x, r#","kid":null"#)]),
    );
    c.add("empty-kid", set(&[k("OKP", "Ed25519", &x, r#","kid":"""#)]));
    c.add(
        "long-kid",
        set(&[k(
            "OKP",
            "Ed25519",
            &x,
            &format!(r#","kid":"{}""#, "k".repeat(129)),
        )]),
    );
    c.add(
        "control-kid",
        set(&[k("OKP", "Ed25519", &x, r#","kid":"a\u0007b""#)]),
    );
    c.add("rsa", set(&[k("RSA", "Ed25519", &x, r#","kid":"r""#)]));
    c.add("x25519", set(&[k("OKP", "X25519", &x, r#","kid":"x""#)]));
    c.add(
        "padded-x",
        set(&[k("OKP", "Ed25519", &format!("{x}="), r#","kid":"p""#)]),
    );
    c.add(
        "short-x",
        set(&[k("OKP", "Ed25519", &b64(&[1; 31]), r#","kid":"s""#)]),
    );
    c.add(
        "dup-kid",
        set(&[
            k("OKP", "Ed25519", &x, r#","kid":"d""#),
            k("OKP", "Ed25519", &x2, r#","kid":"d""#),
        ]),
    );
    let mut identity = [0u8; 32];
    identity[0] = 1;
    c.add(
        "weak-identity",
        set(&[k("OKP", "Ed25519", &b64(&identity), r#","kid":"w""#)]),
    );
    c.add(
        "weak-zero",
        set(&[k("OKP", "Ed25519", &b64(&[0; 32]), r#","kid":"z""#)]),
    );
    let mut order8 = [0u8; 32];
    order8[..].copy_from_slice(&[
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ]);
    c.add(
        "weak-order-8",
        set(&[k("OKP", "Ed25519", &b64(&order8), r#","kid":"o""#)]),
    );
    c.add(
        "not-a-point",
        set(&[k("OKP", "Ed25519", &b64(&[0xff; 32]), r#","kid":"n""#)]),
    );
    c.add(
        "dup-member",
        r#"{"keys":[{"kty":"OKP","kty":"RSA","crv":"Ed25519","x":"AA","kid":"a"}]}"#,
    );
    c.add(
        "extra-member",
        set(&[k(
            "OKP",
            "Ed25519",
            &x,
            r#","kid":"e","d":"secret","x5c":[]"#,
        )]),
    );
    c.add(
        "use-enc",
        set(&[k(
            "OKP",
            "Ed25519",
            &x,
            r#","kid":"u","use":"enc","alg":"RS256""#,
        )]),
    );
    println!("jwks_parse: {} seeds", c.n);
}

fn call(method: Method, path: &str, body: &str) -> RestStep {
    RestStep::Call {
        method,
        path: Blob(path.as_bytes().to_vec()),
        body: Blob(body.as_bytes().to_vec()),
    }
}

fn rest_handler() {
    let mut c = Corpus::new("rest_handler");
    use Method::*;
    let create = r#"{"ownerExternalId":"alice","alias":"new-room","parameters":{"ttl":600,"audioOnly":true,"participantLimit":3,"tokenTtl":900},"participants":{"bob":{"permissions":["JOIN","SEND_AUDIO"],"notification":true},"erin":{}}}"#;
    let one = |c: &mut Corpus, name: &str, s: RestStep| c.structured(name, &vec![s]);
    one(
        &mut c,
        "create",
        call(Post, "/v2/conferences/create", create),
    );
    one(
        &mut c,
        "create-again-owner",
        call(
            Post,
            "/v2/conferences/create",
            r#"{"ownerExternalId":"alice","alias":"ROOM","participants":{"erin":{}}}"#,
        ),
    );
    one(
        &mut c,
        "create-alias-taken",
        call(
            Post,
            "/v2/conferences/create",
            r#"{"ownerExternalId":"carol","alias":"room"}"#,
        ),
    );
    one(
        &mut c,
        "create-unprotected-alias",
        call(
            Post,
            "/v2/conferences/create",
            r#"{"ownerExternalId":"bob","alias":"open-room"}"#,
        ),
    );
    one(
        &mut c,
        "create-unknown-member",
        call(
            Post,
            "/v2/conferences/create",
            r#"{"ownerExternalId":"alice","alias":"x","notifcation":true}"#,
        ),
    );
    one(
        &mut c,
        "create-array",
        call(Post, "/v2/conferences/create", r#"["alice","x"]"#),
    );
    one(
        &mut c,
        "create-dup-participant",
        call(
            Post,
            "/v2/conferences/create",
            r#"{"ownerExternalId":"alice","alias":"x","participants":{"bob":{},"bob":{}}}"#,
        ),
    );
    one(
        &mut c,
        "create-ttl-zero",
        call(
            Post,
            "/v2/conferences/create",
            r#"{"ownerExternalId":"alice","alias":"x","parameters":{"ttl":0}}"#,
        ),
    );
    one(
        &mut c,
        "create-ttl-huge",
        call(
            Post,
            "/v2/conferences/create",
            r#"{"ownerExternalId":"alice","alias":"x","parameters":{"ttl":18446744073709551615,"tokenTtl":86401}}"#,
        ),
    );
    one(
        &mut c,
        "invite",
        call(
            Post,
            "/v2/conferences/{c0}/invite",
            r#"{"participants":{"erin":{"notification":true},"carol":{"permissions":["JOIN","INVITE"]}}}"#,
        ),
    );
    one(
        &mut c,
        "invite-kicked-later",
        call(
            Post,
            "/v2/conferences/{c0}/invite",
            r#"{"participants":{"bob":{"permissions":["JOIN"]}}}"#,
        ),
    );
    one(
        &mut c,
        "invite-unknown-permission",
        call(
            Post,
            "/v2/conferences/{c0}/invite",
            r#"{"participants":{"erin":{"permissions":["FLY"]}}}"#,
        ),
    );
    one(
        &mut c,
        "invite-unprotected",
        call(
            Post,
            "/v2/conferences/{c1}/invite",
            r#"{"participants":{"carol":{}}}"#,
        ),
    );
    one(
        &mut c,
        "invite-destroyed",
        call(
            Post,
            "/v2/conferences/{c2}/invite",
            r#"{"participants":{"carol":{}}}"#,
        ),
    );
    one(
        &mut c,
        "invite-unknown",
        call(
            Post,
            "/v2/conferences/{cx}/invite",
            r#"{"participants":{"carol":{}}}"#,
        ),
    );
    one(
        &mut c,
        "permissions",
        call(
            Post,
            "/v2/conferences/{c0}/permissions",
            r#"{"participants":{"bob":{"permissions":["JOIN","KICK"]},"carol":{"permissions":[]}}}"#,
        ),
    );
    one(
        &mut c,
        "permissions-owner",
        call(
            Post,
            "/v2/conferences/{c0}/permissions",
            r#"{"participants":{"alice":{"permissions":["JOIN"]}}}"#,
        ),
    );
    one(
        &mut c,
        "permissions-stranger",
        call(
            Post,
            "/v2/conferences/{c0}/permissions",
            r#"{"participants":{"zed":{"permissions":["JOIN"]}}}"#,
        ),
    );
    one(
        &mut c,
        "kick",
        call(
            Post,
            "/v2/conferences/{c0}/kick",
            r#"{"externalIds":["bob","carol"]}"#,
        ),
    );
    one(
        &mut c,
        "kick-owner",
        call(
            Post,
            "/v2/conferences/{c0}/kick",
            r#"{"externalIds":["alice"]}"#,
        ),
    );
    one(
        &mut c,
        "kick-array-body",
        call(Post, "/v2/conferences/{c0}/kick", r#"[["bob"]]"#),
    );
    one(
        &mut c,
        "tokens",
        call(
            Post,
            "/v2/conferences/{c0}/tokens",
            r#"{"externalIds":["alice","bob","dave"]}"#,
        ),
    );
    one(
        &mut c,
        "tokens-unprotected",
        call(
            Post,
            "/v2/conferences/{c1}/tokens",
            r#"{"externalIds":["bob"]}"#,
        ),
    );
    one(&mut c, "delete", call(Delete, "/v2/conferences/{c0}", ""));
    one(
        &mut c,
        "delete-destroyed",
        call(Delete, "/v2/conferences/{c2}", ""),
    );
    one(
        &mut c,
        "participants",
        call(Get, "/v2/conferences/{c0}/participants", ""),
    );
    one(
        &mut c,
        "participants-query",
        call(Get, "/v2/conferences/{c1}/participants?x=1", ""),
    );
    one(&mut c, "jwks", call(Get, "/.well-known/jwks.json", ""));
    one(
        &mut c,
        "method-not-allowed",
        call(Put, "/v2/conferences/create", "{}"),
    );
    one(
        &mut c,
        "method-lowercase",
        call(
            Other(Blob(b"post".to_vec())),
            "/v2/conferences/{c0}/kick",
            r#"{"externalIds":["bob"]}"#,
        ),
    );
    one(&mut c, "no-endpoint", call(Get, "/v3/nothing", ""));
    one(
        &mut c,
        "bad-id",
        call(
            Post,
            "/v2/conferences/not-a-uuid/kick",
            r#"{"externalIds":["bob"]}"#,
        ),
    );
    one(
        &mut c,
        "not-json",
        call(Post, "/v2/conferences/{c0}/invite", "{\"participants\":"),
    );
    c.structured(
        "create-then-use",
        &vec![
            call(Post, "/v2/conferences/create", create),
            call(
                Post,
                "/v2/conferences/{c3}/invite",
                r#"{"participants":{"carol":{}}}"#,
            ),
            call(
                Post,
                "/v2/conferences/{c3}/permissions",
                r#"{"participants":{"carol":{"permissions":["JOIN","RECORD"]}}}"#,
            ),
            call(
                Post,
                "/v2/conferences/{c3}/kick",
                r#"{"externalIds":["carol"]}"#,
            ),
            call(
                Post,
                "/v2/conferences/{c3}/tokens",
                r#"{"externalIds":["carol"]}"#,
            ),
            call(Delete, "/v2/conferences/{c3}", ""),
            call(Delete, "/v2/conferences/{c3}", ""),
        ],
    );
    c.structured(
        "time-passes",
        &vec![
            call(Post, "/v2/conferences/create", create),
            RestStep::Advance { secs: 601 },
            call(Get, "/v2/conferences/{c3}/participants", ""),
            RestStep::Advance { secs: 10_000 },
            call(
                Post,
                "/v2/conferences/{c0}/tokens",
                r#"{"externalIds":["bob"]}"#,
            ),
        ],
    );
    c.structured(
        "huge",
        &vec![RestStep::Huge {
            path: Blob(b"/v2/conferences/create".to_vec()),
        }],
    );
    println!("rest_handler: {} seeds", c.n);
}

fn send(session: u8, message: &str) -> WireStep {
    WireStep::Send {
        session,
        message: Blob(message.as_bytes().to_vec()),
    }
}

/// alice 0, bob 1, carol 2, dave (listener) 3, erin 4, bob's tablet 5.
fn wire_server() {
    let mut c = Corpus::new("wire_server");
    let placeholders = |text: &str| {
        text.replace(FIXTURE_CONF, "{c0}")
            .replace(FIXTURE_TOKEN, "{t0}")
    };
    for (name, text) in fixtures("requests") {
        let text = placeholders(&text);
        let who = match name.as_str() {
            n if n.contains("join") || n.contains("decline") || n.contains("listen") => 2,
            n if n.contains("invite")
                || n.contains("kick")
                || n.contains("update")
                || n.contains("terminate") =>
            {
                0
            }
            _ => 1,
        };
        c.structured(
            &name,
            &vec![send(who, &text), WireStep::Drain { session: who }],
        );
    }
    c.structured(
        "carol-joins-and-connects",
        &vec![
            send(
                2,
                r#"{"v":1,"id":"a","type":"join","conferenceId":"{c0}","token":"{t0}"}"#,
            ),
            send(
                2,
                r#"{"v":1,"id":"b","type":"mediaState","conferenceId":"{c0}","state":"CONNECTED"}"#,
            ),
            WireStep::Drain { session: 0 },
            WireStep::Drain { session: 2 },
            send(
                2,
                r#"{"v":1,"id":"c","type":"mediaState","conferenceId":"{c0}","state":"WARNING"}"#,
            ),
            send(
                2,
                r#"{"v":1,"id":"d","type":"leave","conferenceId":"{c0}"}"#,
            ),
            WireStep::Drain { session: 1 },
        ],
    );
    c.structured(
        "wrong-tokens",
        &vec![
            send(
                2,
                r#"{"v":1,"id":"a","type":"join","conferenceId":"{c0}","token":"{t3}"}"#,
            ),
            send(
                2,
                r#"{"v":1,"id":"b","type":"join","conferenceId":"{c0}","token":"{t1}"}"#,
            ),
            send(
                4,
                r#"{"v":1,"id":"c","type":"join","conferenceId":"{c0}","token":"{t2}"}"#,
            ),
            send(
                2,
                r#"{"v":1,"id":"d","type":"join","conferenceId":"{c0}","token":"{t5}"}"#,
            ),
            send(2, r#"{"v":1,"id":"e","type":"join","conferenceId":"{c0}"}"#),
        ],
    );
    c.structured(
        "listener-acts",
        &vec![
            send(3, r#"{"v":1,"id":"a","type":"invite","conferenceId":"{c0}","invitees":[{"externalId":"erin"}]}"#),
            send(3, r#"{"v":1,"id":"b","type":"kick","conferenceId":"{c0}","externalId":"bob"}"#),
            send(3, r#"{"v":1,"id":"c","type":"updatePermissions","conferenceId":"{c0}","externalId":"carol","permissions":["JOIN"]}"#),
        ],
    );
    c.structured(
        "bob-invites-and-escalates",
        &vec![
            send(1, r#"{"v":1,"id":"a","type":"invite","conferenceId":"{c0}","invitees":[{"externalId":"erin","permissions":["JOIN","KICK"]}]}"#),
            send(1, r#"{"v":1,"id":"b","type":"invite","conferenceId":"{c0}","invitees":[{"externalId":"erin"},{"externalId":"erin"}]}"#),
            send(1, r#"{"v":1,"id":"c","type":"invite","conferenceId":"{c0}","invitees":[{"externalId":"erin","permissions":["JOIN"]}]}"#),
            WireStep::Drain { session: 4 },
        ],
    );
    c.structured(
        "kick-and-rejoin",
        &vec![
            send(0, r#"{"v":1,"id":"a","type":"kick","conferenceId":"{c0}","externalId":"bob"}"#),
            send(1, r#"{"v":1,"id":"b","type":"join","conferenceId":"{c0}","token":"{t1}"}"#),
            send(0, r#"{"v":1,"id":"c","type":"invite","conferenceId":"{c0}","invitees":[{"externalId":"bob"}]}"#),
            WireStep::Drain { session: 1 },
            send(5, r#"{"v":1,"id":"d","type":"resync","lastSequence":0,"snapshot":true}"#),
        ],
    );
    c.structured(
        "retransmission",
        &vec![
            send(
                0,
                r#"{"v":1,"id":"same","type":"create","alias":"again","protected":true}"#,
            ),
            WireStep::Resend { session: 0 },
            send(
                0,
                r#"{"v":1,"id":"same","type":"terminate","conferenceId":"{c3}"}"#,
            ),
            WireStep::Resend { session: 0 },
        ],
    );
    c.structured(
        "overflow-and-resync",
        &vec![
            send(
                2,
                r#"{"v":1,"id":"a","type":"join","conferenceId":"{c0}","token":"{t0}"}"#,
            ),
            send(
                2,
                r#"{"v":1,"id":"b","type":"mediaState","conferenceId":"{c0}","state":"CONNECTED"}"#,
            ),
            send(
                2,
                r#"{"v":1,"id":"c","type":"mediaState","conferenceId":"{c0}","state":"WARNING"}"#,
            ),
            send(
                2,
                r#"{"v":1,"id":"d","type":"mediaState","conferenceId":"{c0}","state":"RECOVERED"}"#,
            ),
            send(
                2,
                r#"{"v":1,"id":"e","type":"mediaState","conferenceId":"{c0}","state":"WARNING"}"#,
            ),
            send(
                2,
                r#"{"v":1,"id":"f","type":"mediaState","conferenceId":"{c0}","state":"RECOVERED"}"#,
            ),
            send(
                2,
                r#"{"v":1,"id":"g","type":"mediaState","conferenceId":"{c0}","state":"FAILURE"}"#,
            ),
            WireStep::Drain { session: 1 },
            send(1, r#"{"v":1,"id":"h","type":"resync","lastSequence":3}"#),
            send(0, r#"{"v":1,"id":"i","type":"resync","lastSequence":99}"#),
            WireStep::Drain { session: 0 },
        ],
    );
    c.structured(
        "idle-sweep",
        &vec![
            send(1, r#"{"v":1,"id":"a","type":"keepAlive"}"#),
            WireStep::Advance { secs: 31 },
            send(0, r#"{"v":1,"id":"b","type":"keepAlive"}"#),
            WireStep::Drain { session: 0 },
            send(1, r#"{"v":1,"id":"c","type":"keepAlive"}"#),
        ],
    );
    c.structured(
        "broken-messages",
        &vec![
            send(0, r#"{"v":2,"id":"a","type":"keepAlive"}"#),
            send(0, r#"{"v":1,"id":"b","type":"teleport"}"#),
            send(0, r#"{"v":1,"type":"keepAlive"}"#),
            send(0, r#"{"v":1,"id":"","type":"keepAlive"}"#),
            send(0, r#"[1,2,3]"#),
            send(0, r#"{"v":1,"id":"c","type":"join","conferenceId":"nope"}"#),
            send(0, r#"{"v":1,"id":"d","type":"invite","conferenceId":"{c0}","invitees":[["bob"]]}"#),
            send(0, r#"{"v":1,"id":"e","type":"updatePermissions","conferenceId":"{c0}","externalId":"bob","permissions":["FLY"]}"#),
            send(0, "{\"v\":1,"),
        ],
    );
    c.structured(
        "switch-devices",
        &vec![
            send(
                5,
                r#"{"v":1,"id":"a","type":"join","conferenceId":"{c0}","token":"{t1}"}"#,
            ),
            WireStep::Drain { session: 1 },
            send(
                1,
                r#"{"v":1,"id":"b","type":"mediaState","conferenceId":"{c0}","state":"CONNECTED"}"#,
            ),
            send(
                5,
                r#"{"v":1,"id":"c","type":"fetch","conferenceId":"{c1}"}"#,
            ),
        ],
    );
    println!("wire_server: {} seeds", c.n);
}

fn wire_client() {
    let mut c = Corpus::new("wire_client");
    // The client's conference is the flow's; its waiting requests are c4
    // (join), c5 (resync), c6 (keep-alive).
    let ours = |text: &str, id: &str| {
        text.replace(FIXTURE_CONF, "{c0}")
            .replace(FIXTURE_TOKEN, "{t0}")
            .replace("\"id\":\"r3\"", &format!("\"id\":\"{id}\""))
            .replace("\"id\":\"r13\"", &format!("\"id\":\"{id}\""))
            .replace("\"id\":\"r8\"", "\"id\":\"c6\"")
            .replace("\"id\":\"r9\"", "\"id\":\"c6\"")
    };
    for (name, text) in fixtures("server") {
        let id = if name.contains("join") { "c4" } else { "c5" };
        c.add(&name, ours(&text, id));
        c.add(&format!("{name}-as-is"), &text);
    }
    // The flow's own messages after the kick (sequence numbers the client
    // has not seen), and the whole flow again (duplicates).
    let flow = fixture("flows/bob.flow");
    let recv: Vec<&str> = flow
        .lines()
        .filter_map(|l| l.strip_prefix("recv "))
        .collect();
    c.add("flow-replayed", recv.join("\n"));
    c.add("flow-tail", recv[recv.len().saturating_sub(3)..].join("\n"));
    let ev = |seq: u64, body: &str| {
        format!(
            r#"{{"v":1,"type":"event","sequence":{seq},"conferenceId":"{{c0}}","event":{body}}}"#
        )
    };
    let perms = |token: &str| {
        format!(
            r#"{{"type":"permissionsUpdated","permissions":["JOIN","INVITE","KICK"],"token":"{token}"}}"#
        )
    };
    c.add("permissions-valid", ev(10, &perms("{t0}")));
    c.add("permissions-someone-else", ev(10, &perms("{t1}")));
    c.add("permissions-expired", ev(10, &perms("{t2}")));
    c.add("permissions-unknown-key", ev(10, &perms("{t3}")));
    c.add(
        "refresh",
        ev(
            10,
            r#"{"type":"tokenRefreshed","token":"{t0}","expiresAt":1700003600}"#,
        ),
    );
    c.add(
        "conference-ended",
        ev(10, r#"{"type":"conferenceEnded","reason":"TERMINATED"}"#),
    );
    c.add("switched", ev(10, r#"{"type":"switched"}"#));
    c.add(
        "participant-removed-then-gap",
        [
            ev(10, r#"{"type":"participantRemoved","externalId":"carol"}"#),
            ev(12, r#"{"type":"switched"}"#),
        ]
        .join("\n"),
    );
    c.add(
        "unknown-type",
        ev(10, r#"{"type":"reactionSent","emoji":"x"}"#),
    );
    c.regression(
        "resync-events-bad-token",
        format!(
            r#"{{"v":1,"type":"reply","id":"c5","result":{{"events":[{{"sequence":10,"conferenceId":"{{c0}}","event":{{"type":"participantRemoved","externalId":"carol"}}}},{{"sequence":11,"conferenceId":"{{c0}}","event":{}}}]}}}}"#,
            perms("{t1}")
        ),
    );
    c.add(
        "resync-snapshot-bad-token",
        r#"{"v":1,"type":"reply","id":"c5","result":{"snapshot":{"asOfSequence":20,"conferences":[{"conferenceId":"{c0}","alias":"standup","owner":"alice","isProtected":true,"audioOnly":false,"myStatus":"ON_AIR","myType":"USER","myPermissions":["JOIN"],"token":"{t1}","participants":[]}]}}}"#,
    );
    c.add(
        "reply-unknown-id",
        r#"{"v":1,"type":"reply","id":"c99","result":{}}"#,
    );
    c.add("reply-both", r#"{"v":1,"type":"reply","id":"c6","result":{},"error":{"error_code":3,"error_reason":"INVALID_ARGUMENT","error_description":"x"}}"#);
    c.add("not-json", "{\"v\":1,");
    c.add(
        "version-2",
        r#"{"v":2,"type":"event","sequence":11,"event":{"type":"switched"}}"#,
    );
    println!("wire_client: {} seeds", c.n);
}

fn s(text: &str) -> Str {
    Str::Text(Blob(text.as_bytes().to_vec()))
}

fn op(op: Op) -> Call {
    Call {
        op,
        error_out: true,
    }
}

fn ffi_surface() {
    let mut c = Corpus::new("ffi_surface");
    let platform = |with: bool| Op::PlatformNew {
        fixed_seed: true,
        kid: s("test-key-1"),
        clock: 1,
        options: with.then_some(PlatformOptions {
            token_ttl_secs: 3600,
            leeway_secs: 0,
            empty_ttl_secs: 0,
            max_queued_events: 4,
            token_refresh_lead_secs: 0,
        }),
        with,
    };
    let open = |who: &str| Op::SessionOpen {
        platform: 1,
        external_id: s(who),
        name: s(&who.to_uppercase()),
        avatar: Str::Null,
    };
    let server_flow = vec![
        op(Op::ClockNew { now: START }),
        op(platform(true)),
        op(open("alice")),
        op(open("bob")),
        op(Op::Create {
            session: 1,
            alias: s("room"),
            options: Some(ConfOptions {
                is_protected: true,
                audio_only: false,
                participant_limit: 0,
                empty_ttl_secs: 0,
                token_ttl_secs: 0,
            }),
            token_out: true,
        }),
        op(Op::Enter {
            session: 1,
            conference: s("{c0}"),
            token: Source::Str(s("{t0}")),
            listen: false,
        }),
        op(Op::Report {
            session: 1,
            conference: s("{c0}"),
            report: 0,
        }),
        op(Op::InviteListNew),
        op(Op::InviteListAdd {
            list: 1,
            external_id: s("bob"),
            has_permissions: true,
            permissions: 0x6,
        }),
        op(Op::Invite {
            session: 1,
            conference: s("{c0}"),
            list: 1,
        }),
        op(Op::SessionQuery {
            session: 2,
            what: 1,
        }),
        op(Op::Enter {
            session: 2,
            conference: s("{c0}"),
            token: Source::Str(s("{t1}")),
            listen: false,
        }),
        op(Op::Kick {
            session: 1,
            conference: s("{c0}"),
            external_id: s("bob"),
        }),
        op(Op::UpdatePermissions {
            session: 1,
            conference: s("{c0}"),
            external_id: s("bob"),
            permissions: 0xfff,
        }),
        op(Op::Inspect {
            kind: 0,
            slot: 1,
            index: 0,
        }),
        op(Op::Inspect {
            kind: 2,
            slot: 1,
            index: 0,
        }),
        op(Op::Inspect {
            kind: 3,
            slot: 1,
            index: 0,
        }),
        op(Op::Rest {
            platform: 1,
            method: s("GET"),
            path: s("/v2/conferences/{c0}/participants"),
            body: Source::Str(Str::Null),
        }),
        op(Op::Exit {
            session: 1,
            conference: s("{c0}"),
            how: 2,
        }),
        op(Op::PlatformQuery {
            platform: 1,
            jwks: false,
        }),
    ];
    c.structured("server-flow", &server_flow);
    let device_flow = vec![
        op(Op::ClockNew { now: START }),
        op(platform(false)),
        op(Op::PlatformQuery {
            platform: 1,
            jwks: true,
        }),
        op(Op::VerifierFromJwks {
            json: Source::Kept(0),
        }),
        op(open("alice")),
        op(open("bob")),
        op(Op::ClientNew {
            external_id: s("alice"),
            verifier: 1,
            clock: 1,
        }),
        op(Op::ClientNew {
            external_id: s("bob"),
            verifier: 1,
            clock: 1,
        }),
        op(Op::ClientRequest {
            client: 1,
            kind: 0,
            conference: Str::Null,
            text: Source::Str(s("standup")),
            number: 5,
            list: 0,
        }),
        op(Op::Relay {
            client: 1,
            session: 1,
        }),
        op(Op::ClientRequest {
            client: 1,
            kind: 2,
            conference: s("{c0}"),
            text: Source::Str(s("{t1}")),
            number: 0,
            list: 0,
        }),
        op(Op::Relay {
            client: 1,
            session: 1,
        }),
        op(Op::ClientRequest {
            client: 1,
            kind: 4,
            conference: s("{c0}"),
            text: Source::Str(Str::Null),
            number: 0,
            list: 0,
        }),
        op(Op::Relay {
            client: 1,
            session: 1,
        }),
        op(Op::InviteListNew),
        op(Op::InviteListAdd {
            list: 1,
            external_id: s("bob"),
            has_permissions: false,
            permissions: 0,
        }),
        op(Op::ClientRequest {
            client: 1,
            kind: 8,
            conference: s("{c0}"),
            text: Source::Str(Str::Null),
            number: 0,
            list: 1,
        }),
        op(Op::Relay {
            client: 1,
            session: 1,
        }),
        op(Op::Relay {
            client: 2,
            session: 2,
        }),
        op(Op::ClientQuery {
            client: 2,
            conference: s("{c0}"),
            bit: 2,
            index: 0,
        }),
        op(Op::ClientRequest {
            client: 2,
            kind: 2,
            conference: s("{c0}"),
            text: Source::Str(s("{t2}")),
            number: 0,
            list: 0,
        }),
        op(Op::Relay {
            client: 2,
            session: 2,
        }),
        op(Op::ClientRequest {
            client: 2,
            kind: 12,
            conference: Str::Null,
            text: Source::Str(Str::Null),
            number: 0,
            list: 0,
        }),
        op(Op::Relay {
            client: 2,
            session: 2,
        }),
        op(Op::ClientQuery {
            client: 1,
            conference: s("{c0}"),
            bit: 1,
            index: 0,
        }),
        op(Op::Inspect {
            kind: 4,
            slot: 1,
            index: 0,
        }),
        op(Op::Inspect {
            kind: 5,
            slot: 1,
            index: 1,
        }),
        op(Op::Inspect {
            kind: 6,
            slot: 1,
            index: 0,
        }),
        op(Op::ClockMove {
            clock: 1,
            set: false,
            value: 31,
        }),
        op(Op::PlatformQuery {
            platform: 1,
            jwks: false,
        }),
    ];
    c.structured("device-flow", &device_flow);
    let misuse = vec![
        op(Op::SessionOpen {
            platform: 0,
            external_id: s("alice"),
            name: s("A"),
            avatar: Str::Null,
        }),
        op(Op::ClockNew { now: 0 }),
        op(Op::PlatformNew {
            fixed_seed: false,
            kid: Str::InvalidUtf8,
            clock: 0,
            options: None,
            with: false,
        }),
        op(Op::PlatformNew {
            fixed_seed: true,
            kid: Str::Null,
            clock: 0,
            options: None,
            with: false,
        }),
        op(Op::PlatformNew {
            fixed_seed: true,
            kid: s("k"),
            clock: 1,
            options: Some(PlatformOptions {
                token_ttl_secs: u64::MAX,
                leeway_secs: u64::MAX,
                empty_ttl_secs: u64::MAX,
                max_queued_events: u64::MAX,
                token_refresh_lead_secs: u64::MAX,
            }),
            with: true,
        }),
        op(Op::SessionOpen {
            platform: 1,
            external_id: Str::NullWithLen(5),
            name: s("A"),
            avatar: Str::Null,
        }),
        op(Op::SessionOpen {
            platform: 1,
            external_id: Str::Prefix(Blob("é".as_bytes().to_vec()), 1),
            name: s("A"),
            avatar: Str::Null,
        }),
        op(Op::SessionOpen {
            platform: 1,
            external_id: Str::Oversize,
            name: Str::Oversize,
            avatar: Str::Oversize,
        }),
        op(Op::SessionOpen {
            platform: 1,
            external_id: s("alice"),
            name: s("A"),
            avatar: s("https://a/b.png"),
        }),
        op(Op::Create {
            session: 1,
            alias: s("r"),
            options: None,
            token_out: false,
        }),
        op(Op::Create {
            session: 1,
            alias: Str::Oversize,
            options: None,
            token_out: true,
        }),
        op(Op::Enter {
            session: 1,
            conference: s("{c0}"),
            token: Source::Str(Str::NullWithLen(3)),
            listen: true,
        }),
        op(Op::Enter {
            session: 1,
            conference: s("{c0}"),
            token: Source::Str(Str::Null),
            listen: false,
        }),
        op(Op::Report {
            session: 1,
            conference: s("{c0}"),
            report: 77,
        }),
        op(Op::Report {
            session: 1,
            conference: s("{c0}"),
            report: -1,
        }),
        op(Op::HandleMessage {
            session: 1,
            message: Source::Str(Str::Oversize),
        }),
        op(Op::HandleMessage {
            session: 1,
            message: Source::Str(Str::InvalidUtf8),
        }),
        op(Op::HandleMessage {
            session: 0,
            message: Source::Str(s("{}")),
        }),
        op(Op::Rest {
            platform: 1,
            method: Str::InvalidUtf8,
            path: s("/"),
            body: Source::Str(Str::Null),
        }),
        op(Op::Rest {
            platform: 1,
            method: s("POST"),
            path: s("/v2/conferences/create"),
            body: Source::Str(Str::Oversize),
        }),
        op(Op::VerifierFromKey {
            kid: s("k"),
            key: Some([0; 32]),
        }),
        op(Op::VerifierFromKey {
            kid: s("k"),
            key: None,
        }),
        op(Op::VerifierFromJwks {
            json: Source::Str(Str::InvalidUtf8),
        }),
        op(Op::Verify {
            verifier: 1,
            token: Source::Str(Str::Oversize),
            now: START,
            conference: Str::Null,
            leeway: u64::MAX,
        }),
        op(Op::ClientNew {
            external_id: s("bob"),
            verifier: 0,
            clock: 0,
        }),
        op(Op::ClientReceive {
            client: 0,
            message: Source::Str(s("{}")),
        }),
        op(Op::ClientQuery {
            client: 0,
            conference: Str::Null,
            bit: 0,
            index: 0,
        }),
        op(Op::Inspect {
            kind: 0,
            slot: 0,
            index: 0,
        }),
        op(Op::Inspect {
            kind: 4,
            slot: 0,
            index: 9,
        }),
        op(Op::Names {
            bit: 0xffff_ffff,
            status: i32::MIN,
            name: s("JOIN"),
        }),
        op(Op::Names {
            bit: 1,
            status: 3,
            name: s("ON_AIR"),
        }),
        op(Op::Free { kind: 0, slot: 0 }),
        op(Op::Free { kind: 12, slot: 0 }),
        op(Op::Free { kind: 0, slot: 1 }),
        op(Op::Create {
            session: 1,
            alias: s("after-free"),
            options: None,
            token_out: false,
        }),
        op(Op::SessionQuery {
            session: 1,
            what: 0,
        }),
        op(Op::SessionQuery {
            session: 1,
            what: 0,
        }),
        op(Op::SetListener {
            session: 1,
            callback: true,
            release: true,
        }),
        op(Op::TestPanic),
        Call {
            op: Op::SessionOpen {
                platform: 0,
                external_id: Str::Null,
                name: Str::Null,
                avatar: Str::Null,
            },
            error_out: false,
        },
    ];
    c.structured("misuse", &misuse);
    let listeners = vec![
        op(platform(false)),
        op(open("alice")),
        op(open("bob")),
        op(Op::SetListener {
            session: 1,
            callback: true,
            release: true,
        }),
        op(Op::SetListener {
            session: 2,
            callback: true,
            release: true,
        }),
        op(Op::SetListener {
            session: 2,
            callback: true,
            release: false,
        }),
        op(Op::SetListener {
            session: 2,
            callback: true,
            release: true,
        }),
        op(Op::Create {
            session: 1,
            alias: s("r"),
            options: None,
            token_out: false,
        }),
        op(Op::Enter {
            session: 1,
            conference: s("{c0}"),
            token: Source::Str(Str::Null),
            listen: false,
        }),
        op(Op::Enter {
            session: 2,
            conference: s("{c0}"),
            token: Source::Str(Str::Null),
            listen: false,
        }),
        op(Op::SetListener {
            session: 1,
            callback: false,
            release: true,
        }),
        op(Op::Free { kind: 1, slot: 2 }),
        op(Op::Report {
            session: 1,
            conference: s("{c0}"),
            report: 0,
        }),
    ];
    c.structured("listeners", &listeners);
    let oversize = vec![
        op(platform(false)),
        op(open("alice")),
        op(Op::HandleMessage {
            session: 1,
            message: Source::Str(Str::Oversize),
        }),
    ];
    let bytes = oversize.encode(Seed::new()).0;
    assert_eq!(decode::<Vec<Call>>(&bytes).unwrap(), oversize);
    c.regression("handle-message-oversize", bytes);
    println!("ffi_surface: {} seeds", c.n);
}

fn client_sync() {
    use confkit_fuzz::sync::{Input, Step::*};
    let mut c = Corpus::new("client_sync");
    let mut one = |name: &str, input: Input| {
        let bytes = input.encode(Seed::new()).0;
        assert_eq!(decode::<Input>(&bytes).unwrap(), input, "seed {name}");
        c.add(name, bytes);
    };
    // Everyone joins (the owner first), the owner invites and connects.
    let mut flow = vec![
        Act {
            who: 0,
            op: 0,
            target: 0,
        },
        Act {
            who: 0,
            op: 3,
            target: 0,
        },
    ];
    for who in 1..4 {
        flow.push(Act {
            who: 0,
            op: 5,
            target: who,
        });
        flow.push(Pump { who });
        flow.push(Wire { who, fault: 4 });
        flow.push(Wire { who, fault: 4 });
        flow.push(Act {
            who,
            op: 0,
            target: 0,
        });
        flow.push(Act {
            who,
            op: 3,
            target: 0,
        });
    }
    for who in 0..4 {
        flow.push(Pump { who });
        for _ in 0..6 {
            flow.push(Wire { who, fault: 4 });
        }
    }
    one(
        "everyone-joins",
        Input {
            n: 1,
            protected: false,
            steps: flow.clone(),
        },
    );
    one(
        "everyone-joins-protected",
        Input {
            n: 1,
            protected: true,
            steps: flow.clone(),
        },
    );
    let mut faults = flow.clone();
    faults.extend([
        Act {
            who: 0,
            op: 7,
            target: 1,
        },
        Act {
            who: 1,
            op: 6,
            target: 2,
        },
        Act {
            who: 0,
            op: 6,
            target: 2,
        },
        Pump { who: 1 },
        Wire { who: 1, fault: 0 },
        Wire { who: 1, fault: 2 },
        Wire { who: 1, fault: 3 },
        Act {
            who: 3,
            op: 2,
            target: 0,
        },
        Act {
            who: 3,
            op: 9,
            target: 0,
        },
        Pump { who: 3 },
        Reconnect { who: 3 },
        Act {
            who: 0,
            op: 11,
            target: 3,
        },
        Restart { who: 1 },
        Act {
            who: 1,
            op: 0,
            target: 0,
        },
        Act {
            who: 0,
            op: 10,
            target: 2,
        },
        Pump { who: 2 },
        Wire { who: 2, fault: 1 },
        Act {
            who: 2,
            op: 8,
            target: 0,
        },
        Act {
            who: 0,
            op: 4,
            target: 0,
        },
    ]);
    one(
        "faults",
        Input {
            n: 1,
            protected: false,
            steps: faults.clone(),
        },
    );
    one(
        "faults-protected",
        Input {
            n: 1,
            protected: true,
            steps: faults,
        },
    );
    let mut overflow = flow;
    for _ in 0..20 {
        overflow.push(Act {
            who: 1,
            op: 9,
            target: 0,
        });
        overflow.push(Act {
            who: 1,
            op: 3,
            target: 0,
        });
    }
    overflow.push(Pump { who: 2 });
    overflow.push(Wire { who: 2, fault: 4 });
    one(
        "queue-overflow",
        Input {
            n: 3,
            protected: true,
            steps: overflow,
        },
    );
    println!("client_sync: {} seeds", c.n);
}

fn platform_ops() {
    use confkit_fuzz::ops::{Kind::*, Step};
    let mut c = Corpus::new("platform_ops");
    // Users: alice 0, bob 1, carol 2, dave 3, erin 4, frank 5, bob's tablet 6.
    // Conferences: 0 protected (alice), 1 unprotected (bob).
    let s = |actor: u8, kind, conf: u8, target: u8, perms: u16, token: u8| Step {
        actor,
        kind,
        conf,
        target,
        perms,
        token,
    };
    let all = 0xfff;
    let join_invite = 0b11; // INVITE, JOIN
    c.structured(
        "protected-flow",
        &vec![
            s(0, Join, 0, 0, 0, 3),
            s(0, Report, 0, 0, 0, 0),
            s(0, Invite, 0, 1, 0, 0),
            s(0, Invite, 0, 2, join_invite, 1),
            s(1, Join, 0, 0, 0, 3),
            s(2, Join, 0, 0, 0, 3),
            s(2, Invite, 0, 3, 0b10, 1),
            s(2, Invite, 0, 4, all, 1),
            s(3, Listen, 0, 0, 0, 3),
            s(0, Update, 0, 1, all, 0),
            s(1, Kick, 0, 2, 0, 0),
            s(2, Join, 0, 0, 0, 3),
            s(0, Invite, 0, 2, 0, 0),
            s(2, Join, 0, 0, 0, 2),
            s(2, Join, 0, 0, 0, 3),
            s(1, Leave, 0, 0, 0, 0),
            s(1, Join, 0, 0, 0, 3),
            s(3, Kick, 0, 1, 0, 0),
            s(0, Update, 0, 0, 1, 0),
            s(1, Update, 0, 1, 1, 0),
            s(0, Terminate, 0, 0, 0, 0),
        ],
    );
    c.structured(
        "unprotected-flow",
        &vec![
            s(1, Join, 1, 0, 0, 0),
            s(0, Join, 1, 0, 0, 0),
            s(0, Invite, 1, 2, all, 1),
            s(1, Invite, 1, 2, all, 1),
            s(2, Listen, 1, 0, 0, 0),
            s(3, Listen, 1, 0, 0, 0),
            s(6, Join, 1, 0, 0, 0),
            s(1, Kick, 1, 3, 0, 0),
            s(3, Join, 1, 0, 0, 0),
            s(1, Invite, 1, 3, 0, 0),
            s(3, Join, 1, 0, 0, 0),
            s(0, Terminate, 1, 0, 0, 0),
            s(1, Reopen, 1, 0, 0, 0),
        ],
    );
    c.structured(
        "create-expire",
        &vec![
            s(4, Create, 2, 1, 0, 0),
            s(4, Join, 2, 4, 0, 3),
            s(4, Invite, 2, 5, 0, 0),
            s(5, Join, 2, 0, 0, 3),
            s(4, Leave, 2, 0, 0, 0),
            s(5, Decline, 2, 0, 0, 0),
            s(5, Join, 2, 0, 0, 3),
            s(0, Advance, 0, 0, 1000, 0),
            s(4, Join, 2, 4, 0, 3),
        ],
    );
    println!("platform_ops: {} seeds", c.n);
}

fn main() {
    token_verify();
    jwks_parse();
    rest_handler();
    wire_server();
    wire_client();
    ffi_surface();
    client_sync();
    platform_ops();
}
