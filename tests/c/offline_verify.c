/*
 * Offline verification on a device: a verifier from the platform's JWK set
 * and from one raw public key; verify a token and read its claims; wrong
 * conference, expiry (beyond the leeway), not-yet-valid, tampering, other
 * algorithms, garbage and bad key material each give the right status, and
 * a failed verification writes nothing. Many tokens at once
 * (confkit_verifier_verify_batch) get exactly what each gets alone, and a
 * verifier with its cache on (confkit_verifier_enable_cache) gives every
 * verdict a verifier without one gives.
 */
#include <stdbool.h>

#include "check.h"

#define T0 1700000000u
#define TTL 3600u
#define OTHER_CONF "00000000-0000-4000-8000-000000000000"

/* Unpadded base64url decoding (what a JWK's "x" holds); returns the length. */
static size_t b64url_decode(const char *in, uint8_t *out, size_t cap) {
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (const char *c = in; *c && *c != '"'; c++) {
        int v;
        if (*c >= 'A' && *c <= 'Z') v = *c - 'A';
        else if (*c >= 'a' && *c <= 'z') v = *c - 'a' + 26;
        else if (*c >= '0' && *c <= '9') v = *c - '0' + 52;
        else if (*c == '-') v = 62;
        else if (*c == '_') v = 63;
        else fail_(__FILE__, __LINE__, "not base64url");
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            CHECK(n < cap);
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return n;
}

static char *concat3(const char *a, const char *b, const char *c) {
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = malloc(n);
    CHECK(s != NULL);
    snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

static confkit_claims *verify_ok(const confkit_verifier *v, const char *token, uint64_t now,
                                 const char *conf, uint64_t leeway) {
    confkit_claims *c = NULL;
    CHECK_OK(confkit_verifier_verify(v, SV(token), now, conf ? (const uint8_t *)conf : NULL,
                                     conf ? strlen(conf) : 0, leeway, &c, ERR));
    CHECK(c != NULL);
    return c;
}

/* A refused verification: the status, a message containing `needle`, and
 * claims_out left alone. */
static void verify_fails_(const char *file, int line, const confkit_verifier *v,
                          const uint8_t *token, size_t token_len, uint64_t now, const char *conf,
                          uint64_t leeway, confkit_status want, const char *needle) {
    confkit_claims *sentinel = (confkit_claims *)&sentinel;
    confkit_claims *c = sentinel;
    g_err = NULL;
    confkit_status st = confkit_verifier_verify(v, token, token_len, now,
                                                conf ? (const uint8_t *)conf : NULL,
                                                conf ? strlen(conf) : 0, leeway, &c, ERR);
    check_status_(file, line, "confkit_verifier_verify", st, want, needle);
    if (c != sentinel) fail_(file, line, "claims_out written on failure");
}
#define VERIFY_FAILS(v, tok, now, conf, leeway, want, needle)                            \
    verify_fails_(__FILE__, __LINE__, (v), (const uint8_t *)(tok), strlen(tok), (now), (conf), \
                  (leeway), (want), (needle))

int main(void) {
    confkit_clock *clock = NULL;
    CHECK_OK(confkit_clock_new(T0, &clock, ERR));
    uint8_t seed[32];
    memset(seed, 0x11, sizeof seed);
    confkit_platform_options opts = {0};
    opts.token_ttl_secs = TTL;
    confkit_platform *p = NULL;
    CHECK_OK(confkit_platform_new_with(seed, STR("k1"), clock, &opts, &p, ERR));

    /* Tokens to check: the owner's (every permission) and Bob's (chosen bits). */
    confkit_session *alice = NULL, *bob = NULL;
    CHECK_OK(confkit_session_open(p, STR("alice"), STR("Alice"), NULL, 0, &alice, ERR));
    CHECK_OK(confkit_session_open(p, STR("bob"), STR("Bob"), NULL, 0, &bob, ERR));
    confkit_conference_options o = {0};
    o.is_protected = true;
    confkit_conference_info *info = NULL;
    confkit_buffer owner_buf = {0};
    CHECK_OK(confkit_conference_create(alice, STR("Offline"), &o, &info, &owner_buf, ERR));
    char *conf = dup_str(confkit_conference_info_id(info));
    confkit_conference_info_free(info);
    char *owner_token = buffer_to_cstr(owner_buf);
    confkit_buffer_free(owner_buf);
    CHECK_OK(confkit_conference_join(alice, SV(conf), SV(owner_token), NULL, ERR));
    uint32_t bob_bits = 0, bit = 0;
    const char *names[] = {"JOIN", "SEND_AUDIO", "SHARE_SCREEN", "STREAM"};
    for (size_t i = 0; i < 4; i++) {
        CHECK_OK(confkit_permission_from_name(SV(names[i]), &bit, ERR));
        bob_bits |= 1u << bit;
    }
    confkit_invite_list *list = NULL;
    confkit_invite_results *res = NULL;
    CHECK_OK(confkit_invite_list_new(&list, ERR));
    CHECK_OK(confkit_invite_list_add(list, STR("bob"), true, bob_bits, ERR));
    CHECK_OK(confkit_conference_invite(alice, SV(conf), list, &res, ERR));
    confkit_invite_list_free(list);
    CHECK_EQ_U64(confkit_invite_results_permissions(res, 0), bob_bits);
    confkit_invite_results_free(res);
    /* Bob's token reaches Bob, in his invitation (never the inviter). */
    char *bob_token = NULL;
    for (;;) {
        confkit_event *e = NULL;
        CHECK_OK(confkit_session_next_event(bob, &e, ERR));
        if (e == NULL) break;
        if (confkit_event_kind(e) == CONFKIT_EVENT_INVITATION_RECEIVED) {
            CHECK(bob_token == NULL);
            bob_token = dup_str(confkit_event_token(e));
        }
        confkit_event_free(e);
    }
    CHECK(bob_token != NULL);
    for (;;) {
        confkit_event *e = NULL;
        CHECK_OK(confkit_session_next_event(alice, &e, ERR));
        if (e == NULL) break;
        CHECK(confkit_event_token(e) == NULL || strcmp(confkit_event_token(e), bob_token) != 0);
        CHECK(strstr(confkit_event_json(e), bob_token) == NULL);
        confkit_event_free(e);
    }

    /* ---- verifiers ------------------------------------------------------- */
    confkit_buffer jwks = {0};
    CHECK_OK(confkit_platform_jwks(p, &jwks, ERR));
    char *jwks_text = buffer_to_cstr(jwks);
    confkit_verifier *from_jwks = NULL;
    CHECK_OK(confkit_verifier_from_jwks(jwks.data, jwks.len, &from_jwks, ERR));
    confkit_buffer_free(jwks);
    const char *x = strstr(jwks_text, "\"x\":\"");
    CHECK(x != NULL);
    uint8_t public_key[64];
    CHECK_EQ_U64(b64url_decode(x + 5, public_key, sizeof public_key), 32);
    confkit_verifier *from_key = NULL;
    CHECK_OK(confkit_verifier_from_public_key(STR("k1"), public_key, &from_key, ERR));
    confkit_verifier *wrong_kid = NULL;
    CHECK_OK(confkit_verifier_from_public_key(STR("k2"), public_key, &wrong_kid, ERR));

    /* ---- good tokens and their claims ------------------------------------ */
    const confkit_verifier *verifiers[] = {from_jwks, from_key};
    for (size_t i = 0; i < 2; i++) {
        confkit_claims *c =
            verify_ok(verifiers[i], bob_token, T0, conf, CONFKIT_DEFAULT_LEEWAY_SECS);
        CHECK_STREQ(confkit_claims_subject(c), "bob");
        CHECK_STREQ(confkit_claims_conference_id(c), conf);
        CHECK_STREQ(confkit_claims_issuer(c), "confkit");
        CHECK(strlen(confkit_claims_token_id(c)) > 0);
        CHECK_EQ_U64(confkit_claims_permissions(c), bob_bits);
        CHECK_EQ_U64(confkit_claims_issued_at(c), T0);
        CHECK_EQ_U64(confkit_claims_not_before(c), T0);
        CHECK_EQ_U64(confkit_claims_expires_at(c), T0 + TTL);
        confkit_claims_free(c);

        c = verify_ok(verifiers[i], owner_token, T0 + 5, conf, CONFKIT_DEFAULT_LEEWAY_SECS);
        CHECK_STREQ(confkit_claims_subject(c), "alice");
        CHECK_EQ_U64(confkit_claims_permissions(c), CONFKIT_PERMISSIONS_ALL);
        confkit_claims_free(c);
        /* Any conference when none is given. */
        c = verify_ok(verifiers[i], bob_token, T0, NULL, CONFKIT_DEFAULT_LEEWAY_SECS);
        CHECK_STREQ(confkit_claims_conference_id(c), conf);
        confkit_claims_free(c);
    }
    /* Two tokens, two token ids. */
    confkit_claims *c1 = verify_ok(from_key, bob_token, T0, conf, 60);
    confkit_claims *c2 = verify_ok(from_key, owner_token, T0, conf, 60);
    CHECK(strcmp(confkit_claims_token_id(c1), confkit_claims_token_id(c2)) != 0);
    confkit_claims_free(c1);
    confkit_claims_free(c2);

    /* ---- the checks ------------------------------------------------------ */
    const uint64_t exp = T0 + TTL;
    /* Wrong conference. */
    VERIFY_FAILS(from_jwks, bob_token, T0, OTHER_CONF, 60, CONFKIT_STATUS_TOKEN_WRONG_CONFERENCE,
                 OTHER_CONF);
    VERIFY_FAILS(from_jwks, bob_token, T0, "not-a-conference-id", 60,
                 CONFKIT_STATUS_INVALID_ARGUMENT, NULL);
    /* Expiry: accepted up to exp + leeway, refused one second later. */
    confkit_claims_free(verify_ok(from_jwks, bob_token, exp + 60, conf, 60));
    VERIFY_FAILS(from_jwks, bob_token, exp + 61, conf, 60, CONFKIT_STATUS_TOKEN_EXPIRED, "expired");
    VERIFY_FAILS(from_jwks, bob_token, exp + 1, conf, 0, CONFKIT_STATUS_TOKEN_EXPIRED, "expired");
    confkit_claims_free(verify_ok(from_jwks, bob_token, exp + 500, conf, 1000));
    /* Not yet valid (beyond the leeway) is refused as well. */
    confkit_claims_free(verify_ok(from_jwks, bob_token, T0 - 60, conf, 60));
    VERIFY_FAILS(from_jwks, bob_token, T0 - 61, conf, 60, CONFKIT_STATUS_TOKEN_EXPIRED, NULL);
    /* Time moves on the platform's clock: the device and the platform agree. */
    CHECK_OK(confkit_clock_advance(clock, TTL + CONFKIT_DEFAULT_LEEWAY_SECS + 1, ERR));
    const uint64_t later = confkit_clock_now(clock);
    CHECK_EQ_U64(later, exp + CONFKIT_DEFAULT_LEEWAY_SECS + 1);
    VERIFY_FAILS(from_key, bob_token, later, conf, CONFKIT_DEFAULT_LEEWAY_SECS,
                 CONFKIT_STATUS_TOKEN_EXPIRED, NULL);
    CHECK_ST(CONFKIT_STATUS_TOKEN_EXPIRED,
             confkit_conference_join(bob, SV(conf), SV(bob_token), NULL, ERR));

    /* Unknown key id, other key. */
    VERIFY_FAILS(wrong_kid, bob_token, T0, conf, 60, CONFKIT_STATUS_TOKEN_INVALID, "k1");
    uint8_t other_seed[32];
    memset(other_seed, 0x22, sizeof other_seed);
    confkit_platform *other = NULL;
    CHECK_OK(confkit_platform_new(other_seed, STR("k1"), &other, ERR));
    CHECK_OK(confkit_platform_jwks(other, &jwks, ERR));
    confkit_verifier *other_v = NULL;
    CHECK_OK(confkit_verifier_from_jwks(jwks.data, jwks.len, &other_v, ERR));
    confkit_buffer_free(jwks);
    confkit_platform_free(other);
    VERIFY_FAILS(other_v, bob_token, T0, conf, 60, CONFKIT_STATUS_TOKEN_INVALID, "signature");

    /* Tampering: signature, payload, header; structure. */
    char *t = dup_str(bob_token);
    size_t n = strlen(t);
    t[n - 2] = t[n - 2] == 'A' ? 'B' : 'A';
    VERIFY_FAILS(from_jwks, t, T0, conf, 60, CONFKIT_STATUS_TOKEN_INVALID, NULL);
    free(t);
    t = dup_str(bob_token);
    char *dot1 = strchr(t, '.');
    dot1[5] = dot1[5] == 'A' ? 'B' : 'A';
    VERIFY_FAILS(from_jwks, t, T0, conf, 60, CONFKIT_STATUS_TOKEN_INVALID, NULL);
    free(t);
    t = concat3(bob_token, ".", "");
    VERIFY_FAILS(from_jwks, t, T0, conf, 60, CONFKIT_STATUS_TOKEN_INVALID, "compact JWS");
    free(t);
    /* Other algorithms and a crit header, on Bob's real payload and signature. */
    const char *rest_of_token = strchr(bob_token, '.');
    const char *headers[][2] = {
        {"eyJhbGciOiJub25lIiwidHlwIjoiSldUIiwia2lkIjoiazEifQ", "none"},
        {"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0", "HS256"},
        {"eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCIsImtpZCI6ImsxIiwiY3JpdCI6WyJleHAiXX0", "crit"},
    };
    for (size_t i = 0; i < 3; i++) {
        t = concat3(headers[i][0], rest_of_token, "");
        VERIFY_FAILS(from_jwks, t, T0, conf, 60, CONFKIT_STATUS_TOKEN_INVALID, headers[i][1]);
        free(t);
    }
    /* alg none with an empty signature. */
    char *payload = dup_str(rest_of_token + 1);
    *strchr(payload, '.') = '\0';
    t = concat3(headers[0][0], ".", payload);
    char *t2 = concat3(t, ".", "");
    VERIFY_FAILS(from_jwks, t2, T0, conf, 60, CONFKIT_STATUS_TOKEN_INVALID, NULL);
    free(t);
    free(t2);
    free(payload);
    /* Garbage. */
    const char *garbage[] = {"garbage", "a.b.c", "...", "", "eyJ.eyJ.", "\xc3\xa9.\xc3\xa9.x"};
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        VERIFY_FAILS(from_jwks, garbage[i], T0, conf, 60, CONFKIT_STATUS_TOKEN_INVALID, NULL);
    }
    verify_fails_(__FILE__, __LINE__, from_jwks, NULL, 0, T0, conf, 60,
                  CONFKIT_STATUS_TOKEN_INVALID, NULL);
    /* Over the size cap: refused before any parsing, and the message says why. */
    char *big = malloc(5001);
    CHECK(big != NULL);
    memset(big, 'A', 5000);
    big[5000] = '\0';
    VERIFY_FAILS(from_jwks, big, T0, conf, 60, CONFKIT_STATUS_TOKEN_INVALID, "4096");
    /* A token of exactly the cap is parsed (and is garbage). */
    big[4096] = '\0';
    VERIFY_FAILS(from_jwks, big, T0, conf, 60, CONFKIT_STATUS_TOKEN_INVALID, NULL);
    free(big);

    /* ---- many tokens at once ---------------------------------------------- */
    {
        /* Bob's and the owner's tokens with a tampered one, garbage, an
         * oversize one, invalid UTF-8 and NULLs among them: each gets the
         * status and the claims confkit_verifier_verify gives it alone. */
        enum { N = 70 };
        const uint8_t *toks[N];
        size_t lens[N];
        for (size_t i = 0; i < N; i++) {
            const char *s = i % 2 ? bob_token : owner_token;
            toks[i] = (const uint8_t *)s;
            lens[i] = strlen(s);
        }
        char *tampered = dup_str(bob_token);
        size_t tn = strlen(tampered);
        tampered[tn - 2] = tampered[tn - 2] == 'A' ? 'B' : 'A';
        char *oversize = malloc(5000);
        CHECK(oversize != NULL);
        memset(oversize, 'A', 5000);
        toks[3] = (const uint8_t *)tampered;
        lens[3] = tn;
        toks[10] = (const uint8_t *)"a.b.c";
        lens[10] = 5;
        toks[20] = (const uint8_t *)oversize;
        lens[20] = 5000;
        toks[30] = (const uint8_t *)"\xff.x.y";
        lens[30] = 5;
        toks[40] = NULL;
        lens[40] = 8;
        toks[50] = NULL;
        lens[50] = 0;
        confkit_status statuses[N];
        confkit_claims *claims[N];
        CHECK_OK(confkit_verifier_verify_batch(from_jwks, toks, lens, N, T0, SV(conf), 60,
                                               statuses, claims, ERR));
        size_t ok = 0;
        for (size_t i = 0; i < N; i++) {
            confkit_claims *alone = NULL;
            confkit_status st = confkit_verifier_verify(from_jwks, toks[i], lens[i], T0, SV(conf),
                                                        60, &alone, NULL);
            CHECK_EQ_U64((uint64_t)statuses[i], (uint64_t)st);
            CHECK((st == CONFKIT_STATUS_OK) == (claims[i] != NULL));
            if (alone != NULL) {
                CHECK_STREQ(confkit_claims_token_id(claims[i]), confkit_claims_token_id(alone));
                CHECK_EQ_U64(confkit_claims_permissions(claims[i]),
                             confkit_claims_permissions(alone));
                confkit_claims_free(alone);
                ok++;
            }
            confkit_claims_free(claims[i]);
        }
        CHECK_EQ_U64(ok, N - 6);
        CHECK(statuses[3] == CONFKIT_STATUS_TOKEN_INVALID);
        CHECK(statuses[20] == CONFKIT_STATUS_TOKEN_INVALID);
        CHECK(statuses[30] == CONFKIT_STATUS_INVALID_UTF8);
        CHECK(statuses[40] == CONFKIT_STATUS_NULL_ARGUMENT);
        CHECK(statuses[50] == CONFKIT_STATUS_TOKEN_INVALID);
        /* Another conference: every token says so. */
        CHECK_OK(confkit_verifier_verify_batch(from_key, toks, lens, 8, T0, STR(OTHER_CONF), 60,
                                               statuses, claims, ERR));
        for (size_t i = 0; i < 8; i++) {
            if (i == 3) continue;
            CHECK(statuses[i] == CONFKIT_STATUS_TOKEN_WRONG_CONFERENCE);
            CHECK(claims[i] == NULL);
        }
        CHECK(statuses[3] == CONFKIT_STATUS_TOKEN_INVALID);
        /* The call's own errors write nothing. */
        statuses[0] = 12345;
        claims[0] = (confkit_claims *)&claims;
        CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT,
                 confkit_verifier_verify_batch(NULL, toks, lens, N, T0, SV(conf), 60, statuses,
                                               claims, ERR));
        CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT,
                 confkit_verifier_verify_batch(from_jwks, NULL, lens, N, T0, SV(conf), 60,
                                               statuses, claims, ERR));
        CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT,
                 confkit_verifier_verify_batch(from_jwks, toks, NULL, N, T0, SV(conf), 60,
                                               statuses, claims, ERR));
        CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT,
                 confkit_verifier_verify_batch(from_jwks, toks, lens, N, T0, SV(conf), 60, NULL,
                                               claims, ERR));
        CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT,
                 confkit_verifier_verify_batch(from_jwks, toks, lens, N, T0, SV(conf), 60,
                                               statuses, NULL, ERR));
        CHECK_ST_MSG(CONFKIT_STATUS_TOO_LARGE, "4096",
                     confkit_verifier_verify_batch(from_jwks, toks, lens,
                                                   CONFKIT_MAX_BATCH_TOKENS + 1, T0, SV(conf), 60,
                                                   statuses, claims, ERR));
        CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
                 confkit_verifier_verify_batch(from_jwks, toks, lens, N, T0,
                                               STR("not-a-conference-id"), 60, statuses, claims,
                                               ERR));
        CHECK(statuses[0] == 12345 && claims[0] == (confkit_claims *)&claims);
        /* An empty batch: nothing to read or write, so the arrays may be NULL. */
        CHECK_OK(confkit_verifier_verify_batch(from_jwks, NULL, NULL, 0, T0, NULL, 0, 60, NULL,
                                               NULL, ERR));
        free(tampered);
        free(oversize);
    }

    /* ---- a verifier's cache of verified tokens --------------------------- */
    {
        confkit_verifier *cached = NULL;
        CHECK_OK(confkit_verifier_from_jwks(SV(jwks_text), &cached, ERR));
        CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT, confkit_verifier_enable_cache(NULL, 8, ERR));
        CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT, confkit_verifier_enable_cache(cached, 0, ERR));
        CHECK_ST(CONFKIT_STATUS_TOO_LARGE,
                 confkit_verifier_enable_cache(cached, CONFKIT_MAX_VERIFIER_CACHE_TOKENS + 1,
                                               ERR));
        CHECK_OK(confkit_verifier_enable_cache(cached, 2, ERR));
        /* Once only: the second call changes nothing and says what is on. */
        CHECK_ST_MSG(CONFKIT_STATUS_INVALID_ARGUMENT, "already on (2 tokens)",
                     confkit_verifier_enable_cache(cached, 4, ERR));
        /* The cache changes no verdict: every case twice (the second time
         * the valid tokens are cached), against a verifier without one. */
        char *tampered = dup_str(owner_token);
        size_t tn = strlen(tampered);
        tampered[tn - 3] = tampered[tn - 3] == 'A' ? 'B' : 'A';
        const uint64_t exp = T0 + TTL;
        struct {
            const char *token;
            uint64_t now;
            const char *conf;
            uint64_t leeway;
        } cases[] = {
            {bob_token, T0, conf, 60},         {owner_token, T0 + 5, conf, 60},
            {bob_token, T0, NULL, 60},         {bob_token, T0, OTHER_CONF, 60},
            {bob_token, exp + 60, conf, 60},   {bob_token, exp + 61, conf, 60},
            {bob_token, exp + 1, conf, 0},     {bob_token, T0 - 61, conf, 60},
            {owner_token, exp + 61, NULL, 60}, {tampered, T0, conf, 60},
            {bob_token, T0, "not-a-conference-id", 60},
        };
        const size_t n_cases = sizeof cases / sizeof cases[0];
        size_t hits_ok = 0;
        for (int round = 0; round < 2; round++) {
            for (size_t i = 0; i < n_cases; i++) {
                confkit_claims *want = NULL, *got = NULL;
                const uint8_t *cp = cases[i].conf ? (const uint8_t *)cases[i].conf : NULL;
                size_t cl = cases[i].conf ? strlen(cases[i].conf) : 0;
                confkit_status sw = confkit_verifier_verify(from_jwks, SV(cases[i].token),
                                                            cases[i].now, cp, cl,
                                                            cases[i].leeway, &want, NULL);
                confkit_status sg = confkit_verifier_verify(cached, SV(cases[i].token),
                                                            cases[i].now, cp, cl,
                                                            cases[i].leeway, &got, NULL);
                CHECK_EQ_U64((uint64_t)sg, (uint64_t)sw);
                CHECK((want == NULL) == (got == NULL));
                if (got != NULL) {
                    CHECK_STREQ(confkit_claims_token_id(got), confkit_claims_token_id(want));
                    CHECK_STREQ(confkit_claims_subject(got), confkit_claims_subject(want));
                    CHECK_STREQ(confkit_claims_conference_id(got),
                                confkit_claims_conference_id(want));
                    CHECK_EQ_U64(confkit_claims_permissions(got),
                                 confkit_claims_permissions(want));
                    CHECK_EQ_U64(confkit_claims_expires_at(got), confkit_claims_expires_at(want));
                    hits_ok += round;
                }
                confkit_claims_free(want);
                confkit_claims_free(got);
            }
        }
        CHECK_EQ_U64(hits_ok, 4);
        /* A batch through the cache: what each token gets alone. */
        const uint8_t *toks[6] = {(const uint8_t *)bob_token, (const uint8_t *)owner_token,
                                  (const uint8_t *)tampered, (const uint8_t *)bob_token,
                                  (const uint8_t *)owner_token, (const uint8_t *)bob_token};
        size_t lens[6];
        for (size_t i = 0; i < 6; i++) lens[i] = strlen((const char *)toks[i]);
        confkit_status statuses[6];
        confkit_claims *claims[6];
        CHECK_OK(confkit_verifier_verify_batch(cached, toks, lens, 6, T0, SV(conf), 60, statuses,
                                               claims, ERR));
        for (size_t i = 0; i < 6; i++) {
            CHECK((statuses[i] == CONFKIT_STATUS_OK) == (i != 2));
            CHECK((claims[i] != NULL) == (i != 2));
        }
        CHECK(statuses[2] == CONFKIT_STATUS_TOKEN_INVALID);
        CHECK_STREQ(confkit_claims_subject(claims[1]), "alice");
        /* Claims from the cache outlive the verifier. */
        confkit_claims *kept = verify_ok(cached, bob_token, T0, conf, 60);
        confkit_verifier_free(cached);
        CHECK_STREQ(confkit_claims_subject(kept), "bob");
        CHECK_STREQ(confkit_claims_subject(claims[5]), "bob");
        confkit_claims_free(kept);
        for (size_t i = 0; i < 6; i++) confkit_claims_free(claims[i]);
        free(tampered);
    }

    /* ---- bad key material ------------------------------------------------- */
    const char *bad_sets[] = {
        "",
        "{}",
        "not json",
        "{\"keys\":[{\"kty\":\"RSA\",\"crv\":\"Ed25519\",\"kid\":\"a\","
        "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}",
        "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
        "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}",
        "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"a\",\"x\":\"AAAA\"}]}",
        /* the identity point: a weak (small-order) key */
        "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"a\","
        "\"x\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}",
    };
    for (size_t i = 0; i < sizeof bad_sets / sizeof bad_sets[0]; i++) {
        confkit_verifier *v = (confkit_verifier *)&v;
        CHECK_ST(CONFKIT_STATUS_KEY_INVALID,
                 confkit_verifier_from_jwks(SV(bad_sets[i]), &v, ERR));
        CHECK(v == (confkit_verifier *)&v);
    }
    uint8_t weak[32] = {1}; /* the identity point */
    confkit_verifier *v = (confkit_verifier *)&v;
    CHECK_ST(CONFKIT_STATUS_KEY_INVALID, confkit_verifier_from_public_key(STR("k1"), weak, &v, ERR));
    CHECK_ST(CONFKIT_STATUS_KEY_INVALID,
             confkit_verifier_from_public_key(NULL, 0, public_key, &v, ERR));
    CHECK(v == (confkit_verifier *)&v);
    /* A JWK set over 1 MiB is refused. */
    size_t huge_len = 1024 * 1024 + 1;
    char *huge = malloc(huge_len);
    CHECK(huge != NULL);
    memset(huge, ' ', huge_len);
    CHECK_ST(CONFKIT_STATUS_TOO_LARGE,
             confkit_verifier_from_jwks((const uint8_t *)huge, huge_len, &v, ERR));
    free(huge);
    CHECK(v == (confkit_verifier *)&v);

    confkit_verifier_free(from_jwks);
    confkit_verifier_free(from_key);
    confkit_verifier_free(wrong_kid);
    confkit_verifier_free(other_v);
    free(jwks_text);
    free(conf);
    free(owner_token);
    free(bob_token);
    confkit_session_free(alice);
    confkit_session_free(bob);
    confkit_platform_free(p);
    confkit_clock_free(clock);
    FINISH("offline_verify");
    return 0;
}
