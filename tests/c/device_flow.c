/*
 * The device half from C, over bytes only: one platform and three clients
 * (Alice, Bob, Carol) that see nothing but the messages their sessions
 * exchange. Invitation received -> token verified offline -> join ->
 * RESERVED -> CONNECTING -> ON_AIR for each participant -> permission update
 * -> a lost event, the gap and the resync -> kick -> the rejoin refused.
 * Then misuse: NULLs, wrong lengths, invalid UTF-8, oversize messages, calls
 * after close; and every object freed (live objects back to 0).
 */
#include <stdbool.h>

#include "check.h"

#define T0 1700000000u

typedef struct {
    const char *who;
    confkit_session *session;
    confkit_client *client;
} phone;

/* Feeds one message to a phone's client (and frees the message). */
static confkit_updates *deliver(phone *p, confkit_buffer message) {
    confkit_updates *u = NULL;
    CHECK_OK(confkit_client_receive(p->client, message.data, message.len, &u, ERR));
    CHECK(u != NULL);
    confkit_buffer_free(message);
    return u;
}

/* Sends a request built by the client to the platform; returns the reply's updates. */
static confkit_updates *round_trip(phone *p, confkit_buffer request) {
    confkit_buffer reply = {0};
    CHECK_OK(confkit_session_handle_message(p->session, request.data, request.len, &reply, ERR));
    CHECK(reply.len > 0);
    confkit_buffer_free(request);
    return deliver(p, reply);
}

/* The next wire message of a phone's session (empty when none). */
static confkit_buffer next_message(phone *p) {
    confkit_buffer m = {(uint8_t *)1, 1};
    CHECK_OK(confkit_session_next_message(p->session, &m, ERR));
    return m;
}

/* Delivers every queued event; returns how many updates of `kind` they made. */
static int pump_count(phone *p, int32_t kind) {
    int n = 0;
    for (;;) {
        confkit_buffer m = next_message(p);
        if (m.len == 0) {
            CHECK(m.data == NULL);
            return n;
        }
        confkit_updates *u = deliver(p, m);
        for (size_t i = 0; i < confkit_updates_len(u); i++) {
            if (confkit_updates_kind(u, i) == kind) n++;
        }
        confkit_updates_free(u);
    }
}

static void pump(phone *p) { (void)pump_count(p, 0); }

/* The index of the first update of `kind`, or -1. */
static long find(const confkit_updates *u, int32_t kind) {
    for (size_t i = 0; i < confkit_updates_len(u); i++) {
        if (confkit_updates_kind(u, i) == kind) return (long)i;
    }
    return -1;
}

static void expect_success(confkit_updates *u, uint64_t request) {
    long i = find(u, CONFKIT_UPDATE_REQUEST_SUCCEEDED);
    if (i < 0) {
        long f = find(u, CONFKIT_UPDATE_REQUEST_FAILED);
        fprintf(stderr, "request %" PRIu64 " failed: %s\n", request,
                f >= 0 ? confkit_updates_text(u, (size_t)f) : "(no reply)");
    }
    CHECK(i >= 0);
    CHECK_EQ_U64(confkit_updates_request_number(u, (size_t)i), request);
}

/* A participant's status in a phone's view of `conf`, or -1. */
static int32_t status_of(phone *p, const char *conf, const char *ext) {
    confkit_view *v = NULL;
    CHECK_OK(confkit_client_view(p->client, SV(conf), &v, ERR));
    int32_t status = -1;
    for (size_t i = 0; i < confkit_view_participant_count(v); i++) {
        if (strcmp(confkit_view_participant_external_id(v, i), ext) == 0) {
            status = confkit_view_participant_status(v, i);
        }
    }
    confkit_view_free(v);
    return status;
}

static int32_t my_status(phone *p, const char *conf) {
    confkit_view *v = NULL;
    CHECK_OK(confkit_client_view(p->client, SV(conf), &v, ERR));
    int32_t s = confkit_view_my_status(v);
    confkit_view_free(v);
    return s;
}

/* Copies the first JSON string member `"key":"..."` of a reply's result. */
static char *json_member(const char *json, const char *key) {
    char needle[64];
    snprintf(needle, sizeof needle, "\"%s\":\"", key);
    const char *result = strstr(json, "\"result\":");
    CHECK(result != NULL);
    const char *start = strstr(result, needle);
    CHECK(start != NULL);
    start += strlen(needle);
    const char *end = strchr(start, '"');
    CHECK(end != NULL);
    char *out = malloc((size_t)(end - start) + 1);
    CHECK(out != NULL);
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
    return out;
}

static phone open_phone(const confkit_platform *p, const confkit_verifier *v,
                        const confkit_clock *clock, const char *who, const char *name) {
    phone ph = {who, NULL, NULL};
    CHECK_OK(confkit_session_open(p, SV(who), SV(name), NULL, 0, &ph.session, ERR));
    CHECK_OK(confkit_client_new(SV(who), v, clock, &ph.client, ERR));
    return ph;
}

static void close_phone(phone *p) {
    confkit_client_free(p->client);
    confkit_session_free(p->session);
}

static char *inbox_token(phone *p, const char *conf) {
    char *token = NULL;
    for (size_t i = confkit_client_inbox_len(p->client); i-- > 0;) {
        confkit_invitation *inv = NULL;
        CHECK_OK(confkit_client_inbox_at(p->client, i, &inv, ERR));
        if (token == NULL && strcmp(confkit_invitation_conference_id(inv), conf) == 0) {
            token = dup_str(confkit_invitation_token(inv));
        }
        confkit_invitation_free(inv);
    }
    return token;
}

static uint32_t bit_of(const char *name) {
    uint32_t bit = 99;
    CHECK_OK(confkit_permission_from_name(SV(name), &bit, ERR));
    return bit;
}

static void flow(void) {
    uint8_t seed[32];
    memset(seed, 7, sizeof seed);
    confkit_clock *clock = NULL;
    CHECK_OK(confkit_clock_new(T0, &clock, ERR));
    confkit_platform *platform = NULL;
    CHECK_OK(confkit_platform_new_with(seed, STR("device-key"), clock, NULL, &platform, ERR));
    confkit_buffer jwks = {0};
    CHECK_OK(confkit_platform_jwks(platform, &jwks, ERR));
    confkit_verifier *verifier = NULL;
    CHECK_OK(confkit_verifier_from_jwks(jwks.data, jwks.len, &verifier, ERR));
    confkit_buffer_free(jwks);

    phone alice = open_phone(platform, verifier, clock, "alice", "Alice");
    phone bob = open_phone(platform, verifier, clock, "bob", "Bob");
    phone carol = open_phone(platform, verifier, clock, "carol", "Carol");

    /* Alice creates a protected conference, joins with her owner token, connects. */
    confkit_conference_options options = {.is_protected = true};
    confkit_buffer req = {0};
    uint64_t n = 0;
    CHECK_OK(confkit_client_create(alice.client, STR("standup"), &options, &req, &n, ERR));
    CHECK(n > 0);
    confkit_updates *u = round_trip(&alice, req);
    expect_success(u, n);
    long ok = find(u, CONFKIT_UPDATE_REQUEST_SUCCEEDED);
    char *conf = json_member(confkit_updates_json(u, (size_t)ok), "id");
    char *owner_token = json_member(confkit_updates_json(u, (size_t)ok), "ownerToken");
    confkit_updates_free(u);
    pump(&alice);

    CHECK_OK(confkit_client_join(alice.client, SV(conf), SV(owner_token), &req, &n, ERR));
    u = round_trip(&alice, req);
    expect_success(u, n);
    confkit_updates_free(u);
    CHECK_OK(confkit_client_media_state(alice.client, SV(conf), CONFKIT_MEDIA_CONNECTED, &req, &n,
                                        ERR));
    confkit_updates_free(round_trip(&alice, req));
    pump(&alice);
    CHECK_EQ_I64(my_status(&alice, conf), CONFKIT_PARTICIPANT_STATUS_ON_AIR);
    CHECK(confkit_client_may(alice.client, SV(conf), bit_of("KICK")));

    /* Alice invites Bob (default set) and Carol (JOIN and SEND_AUDIO). */
    confkit_invite_list *list = NULL;
    CHECK_OK(confkit_invite_list_new(&list, ERR));
    CHECK_OK(confkit_invite_list_add(list, STR("bob"), false, 0, ERR));
    uint32_t carol_perms = (1u << bit_of("JOIN")) | (1u << bit_of("SEND_AUDIO"));
    CHECK_OK(confkit_invite_list_add(list, STR("carol"), true, carol_perms, ERR));
    CHECK_OK(confkit_client_invite(alice.client, SV(conf), list, &req, &n, ERR));
    confkit_invite_list_free(list);
    u = round_trip(&alice, req);
    expect_success(u, n);
    confkit_updates_free(u);
    pump(&alice);
    CHECK_EQ_I64(status_of(&alice, conf, "bob"), CONFKIT_PARTICIPANT_STATUS_RESERVED);

    /* Bob gets the invitation; its token verifies offline. */
    CHECK_EQ_I64(pump_count(&bob, CONFKIT_UPDATE_INVITATION_RECEIVED), 1);
    CHECK_EQ_U64(confkit_client_inbox_len(bob.client), 1);
    confkit_invitation *inv = NULL;
    CHECK_OK(confkit_client_inbox_at(bob.client, 0, &inv, ERR));
    CHECK_STREQ(confkit_invitation_alias(inv), "standup");
    CHECK_STREQ(confkit_invitation_inviter_id(inv), "alice");
    CHECK_STREQ(confkit_invitation_inviter_name(inv), "Alice");
    CHECK(confkit_invitation_has_permissions(inv));
    CHECK_EQ_U64(confkit_invitation_permissions(inv), CONFKIT_PERMISSIONS_DEFAULT);
    confkit_claims *claims = NULL;
    const char *tok = confkit_invitation_token(inv);
    CHECK_OK(confkit_verifier_verify(verifier, SV(tok), T0, SV(conf), CONFKIT_DEFAULT_LEEWAY_SECS,
                                     &claims, ERR));
    CHECK_STREQ(confkit_claims_subject(claims), "bob");
    confkit_claims_free(claims);
    confkit_invitation_free(inv);
    CHECK(!confkit_client_may(bob.client, SV(conf), bit_of("JOIN"))); /* not in it yet */

    /* Bob joins late and sees Alice ON_AIR and Carol RESERVED; then connects. */
    char *bob_token = inbox_token(&bob, conf);
    CHECK(bob_token != NULL);
    CHECK_OK(confkit_client_join(bob.client, SV(conf), SV(bob_token), &req, &n, ERR));
    u = round_trip(&bob, req);
    expect_success(u, n);
    CHECK(find(u, CONFKIT_UPDATE_PARTICIPANT_ADDED) >= 0);
    confkit_updates_free(u);
    pump(&bob);
    CHECK_EQ_I64(status_of(&bob, conf, "alice"), CONFKIT_PARTICIPANT_STATUS_ON_AIR);
    CHECK_EQ_I64(status_of(&bob, conf, "carol"), CONFKIT_PARTICIPANT_STATUS_RESERVED);
    CHECK_EQ_I64(my_status(&bob, conf), CONFKIT_PARTICIPANT_STATUS_CONNECTING);
    CHECK(confkit_client_may(bob.client, SV(conf), bit_of("SEND_VIDEO")));
    CHECK(!confkit_client_may(bob.client, SV(conf), bit_of("INVITE")));
    CHECK_OK(confkit_client_media_state(bob.client, SV(conf), CONFKIT_MEDIA_CONNECTED, &req, &n,
                                        ERR));
    confkit_updates_free(round_trip(&bob, req));
    CHECK_EQ_I64(pump_count(&bob, CONFKIT_UPDATE_MY_STATUS_CHANGED), 1);
    CHECK_EQ_I64(my_status(&bob, conf), CONFKIT_PARTICIPANT_STATUS_ON_AIR);
    pump(&alice);
    CHECK_EQ_I64(status_of(&alice, conf, "bob"), CONFKIT_PARTICIPANT_STATUS_ON_AIR);

    /* Carol: RESERVED -> CONNECTING -> ON_AIR in Bob's and Alice's views. */
    pump(&carol);
    char *carol_token = inbox_token(&carol, conf);
    CHECK_OK(confkit_client_join(carol.client, SV(conf), SV(carol_token), &req, &n, ERR));
    confkit_updates_free(round_trip(&carol, req));
    pump(&carol);
    CHECK(!confkit_client_may(carol.client, SV(conf), bit_of("SEND_VIDEO")));
    CHECK(confkit_client_may(carol.client, SV(conf), bit_of("SEND_AUDIO")));
    confkit_buffer m = next_message(&bob);
    u = deliver(&bob, m);
    CHECK_EQ_U64(confkit_updates_len(u), 1);
    CHECK_EQ_I64(confkit_updates_kind(u, 0), CONFKIT_UPDATE_PARTICIPANT_UPDATED);
    CHECK_STREQ(confkit_updates_external_id(u, 0), "carol");
    CHECK_STREQ(confkit_updates_conference_id(u, 0), conf);
    CHECK_EQ_I64(confkit_updates_old_status(u, 0), CONFKIT_PARTICIPANT_STATUS_RESERVED);
    CHECK_EQ_I64(confkit_updates_new_status(u, 0), CONFKIT_PARTICIPANT_STATUS_CONNECTING);
    CHECK_EQ_U64(confkit_updates_permissions(u, 0), carol_perms);
    CHECK_CONTAINS(confkit_updates_json(u, 0), "\"kind\":\"participantUpdated\"");
    confkit_updates_free(u);
    CHECK_OK(confkit_client_media_state(carol.client, SV(conf), CONFKIT_MEDIA_CONNECTED, &req, &n,
                                        ERR));
    confkit_updates_free(round_trip(&carol, req));
    pump(&bob);
    pump(&alice);
    CHECK_EQ_I64(status_of(&bob, conf, "carol"), CONFKIT_PARTICIPANT_STATUS_ON_AIR);
    CHECK_EQ_I64(status_of(&alice, conf, "carol"), CONFKIT_PARTICIPANT_STATUS_ON_AIR);

    /* A permission update flips Bob's may(INVITE) (a new token, verified offline). */
    CHECK_OK(confkit_client_update_permissions(alice.client, SV(conf), STR("bob"),
                                               CONFKIT_PERMISSIONS_DEFAULT |
                                                   (1u << bit_of("INVITE")),
                                               &req, &n, ERR));
    u = round_trip(&alice, req);
    expect_success(u, n);
    confkit_updates_free(u);
    CHECK_EQ_I64(pump_count(&bob, CONFKIT_UPDATE_MY_PERMISSIONS_CHANGED), 1);
    CHECK(confkit_client_may(bob.client, SV(conf), bit_of("INVITE")));
    /* The view holds the update's token: a new one, with INVITE. */
    confkit_view *tv = NULL;
    CHECK_OK(confkit_client_view(bob.client, SV(conf), &tv, ERR));
    const char *held = confkit_view_token(tv);
    CHECK(held != NULL && strcmp(held, bob_token) != 0);
    CHECK_OK(confkit_verifier_verify(verifier, SV(held), T0, SV(conf), CONFKIT_DEFAULT_LEEWAY_SECS,
                                     &claims, ERR));
    CHECK(confkit_claims_permissions(claims) & (1u << bit_of("INVITE")));
    confkit_claims_free(claims);
    confkit_view_free(tv);
    CHECK(confkit_view_token(NULL) == NULL);

    /* A lost event: the next one shows the gap; one resync brings Bob back. */
    CHECK_OK(confkit_client_media_state(carol.client, SV(conf), CONFKIT_MEDIA_WARNING, &req, &n,
                                        ERR));
    confkit_updates_free(round_trip(&carol, req));
    confkit_buffer_free(next_message(&bob)); /* dropped on the way */
    CHECK_OK(confkit_client_media_state(carol.client, SV(conf), CONFKIT_MEDIA_RECOVERED, &req, &n,
                                        ERR));
    confkit_updates_free(round_trip(&carol, req));
    uint64_t before = confkit_client_last_sequence(bob.client);
    m = next_message(&bob);
    u = deliver(&bob, m);
    CHECK_EQ_I64(confkit_updates_kind(u, 0), CONFKIT_UPDATE_GAP);
    CHECK_EQ_U64(confkit_updates_sequence(u, 0), before + 1);
    confkit_updates_free(u);
    CHECK(confkit_client_is_stalled(bob.client));
    CHECK_EQ_U64(confkit_client_last_sequence(bob.client), before);
    CHECK_OK(confkit_client_resync(bob.client, &req, &n, ERR));
    u = round_trip(&bob, req);
    CHECK(find(u, CONFKIT_UPDATE_RESYNCED) >= 0);
    confkit_updates_free(u);
    CHECK(!confkit_client_is_stalled(bob.client));
    CHECK_EQ_U64(confkit_client_last_sequence(bob.client), before + 2);
    CHECK_EQ_I64(status_of(&bob, conf, "carol"), CONFKIT_PARTICIPANT_STATUS_ON_AIR);
    pump(&carol);
    pump(&alice);

    /* Alice kicks Bob: his view says KICKED; his rejoin is refused. */
    CHECK_OK(confkit_client_kick(alice.client, SV(conf), STR("bob"), &req, &n, ERR));
    u = round_trip(&alice, req);
    expect_success(u, n);
    confkit_updates_free(u);
    CHECK_EQ_I64(pump_count(&bob, CONFKIT_UPDATE_NO_LONGER_IN), 1);
    CHECK_EQ_I64(my_status(&bob, conf), CONFKIT_PARTICIPANT_STATUS_KICKED);
    CHECK_EQ_I64(status_of(&bob, conf, "bob"), CONFKIT_PARTICIPANT_STATUS_KICKED);
    CHECK(!confkit_client_may(bob.client, SV(conf), bit_of("JOIN")));
    confkit_view *v = NULL;
    CHECK_OK(confkit_client_view(bob.client, SV(conf), &v, ERR));
    CHECK(!confkit_view_joined(v));
    CHECK_STREQ(confkit_view_alias(v), "standup");
    CHECK_STREQ(confkit_view_conference_id(v), conf);
    confkit_view_free(v);
    CHECK_OK(confkit_client_join(bob.client, SV(conf), SV(bob_token), &req, &n, ERR));
    u = round_trip(&bob, req);
    long f = find(u, CONFKIT_UPDATE_REQUEST_FAILED);
    CHECK(f >= 0);
    CHECK_EQ_I64(confkit_updates_error_code(u, (size_t)f), CONFKIT_STATUS_TOKEN_REVOKED);
    CHECK_EQ_U64(confkit_updates_request_number(u, (size_t)f), n);
    CHECK(confkit_updates_text(u, (size_t)f) != NULL);
    confkit_updates_free(u);
    pump(&alice);
    CHECK_EQ_I64(status_of(&alice, conf, "bob"), CONFKIT_PARTICIPANT_STATUS_KICKED);

    /* A retransmitted request (same bytes) runs once and answers the same. */
    CHECK_OK(confkit_client_keep_alive(carol.client, &req, &n, ERR));
    confkit_buffer r1 = {0}, r2 = {0};
    CHECK_OK(confkit_session_handle_message(carol.session, req.data, req.len, &r1, ERR));
    CHECK_OK(confkit_session_handle_message(carol.session, req.data, req.len, &r2, ERR));
    CHECK(r1.len == r2.len && memcmp(r1.data, r2.data, r1.len) == 0);
    confkit_buffer_free(req);
    u = deliver(&carol, r1);
    CHECK(find(u, CONFKIT_UPDATE_REQUEST_SUCCEEDED) >= 0);
    confkit_updates_free(u);
    u = deliver(&carol, r2);
    CHECK_EQ_I64(confkit_updates_kind(u, 0), CONFKIT_UPDATE_DUPLICATE_REPLY);
    confkit_updates_free(u);

    /* After close: the wire answers with an error reply, polling fails. */
    CHECK_OK(confkit_session_close(carol.session, ERR));
    CHECK_OK(confkit_client_keep_alive(carol.client, &req, &n, ERR));
    u = round_trip(&carol, req);
    f = find(u, CONFKIT_UPDATE_REQUEST_FAILED);
    CHECK(f >= 0);
    CHECK_EQ_I64(confkit_updates_error_code(u, (size_t)f), CONFKIT_STATUS_SESSION_NOT_FOUND);
    confkit_updates_free(u);
    m = (confkit_buffer){0};
    CHECK_ST(CONFKIT_STATUS_SESSION_NOT_FOUND, confkit_session_next_message(carol.session, &m, ERR));
    CHECK(m.data == NULL && m.len == 0);

    free(conf);
    free(owner_token);
    free(bob_token);
    free(carol_token);
    close_phone(&alice);
    close_phone(&bob);
    close_phone(&carol);
    confkit_verifier_free(verifier);
    confkit_platform_free(platform);
    confkit_clock_free(clock);
}

static void misuse(void) {
    uint8_t seed[32] = {1};
    confkit_platform *platform = NULL;
    CHECK_OK(confkit_platform_new(seed, STR("k"), &platform, ERR));
    confkit_buffer jwks = {0};
    CHECK_OK(confkit_platform_jwks(platform, &jwks, ERR));
    confkit_verifier *verifier = NULL;
    CHECK_OK(confkit_verifier_from_jwks(jwks.data, jwks.len, &verifier, ERR));
    confkit_buffer_free(jwks);
    confkit_client *c = NULL;

    /* Construction. */
    CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT, confkit_client_new(NULL, 3, verifier, NULL, &c, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT, confkit_client_new(NULL, 0, verifier, NULL, &c, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_UTF8,
             confkit_client_new((const uint8_t *)"b\xff", 2, verifier, NULL, &c, ERR));
    CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT, confkit_client_new(STR("bob"), NULL, NULL, &c, ERR));
    CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT, confkit_client_new(STR("bob"), verifier, NULL, NULL, ERR));
    CHECK(c == NULL);
    CHECK_OK(confkit_client_new(STR("bob"), verifier, NULL, &c, ERR));
    confkit_verifier_free(verifier); /* the client keeps its own copy of the keys */

    /* Request numbering: a fresh client starts at a random number; it can be set. */
    CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT, confkit_client_set_next_request_number(NULL, 5, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT, confkit_client_set_next_request_number(c, 0, ERR));
    {
        confkit_buffer r = {0};
        uint64_t first = 0, second = 0;
        CHECK_OK(confkit_client_resync(c, &r, &first, ERR));
        confkit_buffer_free(r);
        CHECK(first >= 1 && first <= ((uint64_t)1 << 40));
        CHECK_OK(confkit_client_set_next_request_number(c, 41, ERR));
        CHECK_OK(confkit_client_resync(c, &r, &second, ERR));
        CHECK_EQ_U64(second, 41);
        char *text = buffer_to_cstr(r);
        confkit_buffer_free(r);
        CHECK_CONTAINS(text, "\"id\":\"c41\"");
        free(text);
    }

    /* Requests: NULLs, wrong lengths, bad values; nothing is written on failure. */
    confkit_buffer req = {(uint8_t *)1, 77};
    uint64_t n = 4242;
    const char *conf = "8b0f7c64-3f8c-4b5e-9a57-2f1d3c6b9e01";
    CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT,
             confkit_client_join(NULL, SV(conf), NULL, 0, &req, &n, ERR));
    CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT,
             confkit_client_join(c, SV(conf), NULL, 0, NULL, &n, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_client_join(c, (const uint8_t *)conf, 10, NULL, 0, &req, &n, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_UTF8,
             confkit_client_join(c, SV(conf), (const uint8_t *)"\xc3", 1, &req, &n, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_client_media_state(c, SV(conf), 9, &req, &n, ERR));
    CHECK_ST(CONFKIT_STATUS_UNKNOWN_PERMISSION,
             confkit_client_update_permissions(c, SV(conf), STR("al"), 1u << 12, &req, &n, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_client_kick(c, SV(conf), NULL, 0, &req, &n, ERR));
    CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT,
             confkit_client_invite(c, SV(conf), NULL, &req, &n, ERR));
    CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT, confkit_client_resync(c, NULL, &n, ERR));
    CHECK(req.data == (uint8_t *)1 && req.len == 77 && n == 4242);
    /* The request number is optional. */
    CHECK_OK(confkit_client_leave(c, SV(conf), &req, NULL, ERR));
    char *text = buffer_to_cstr(req);
    CHECK_CONTAINS(text, "\"type\":\"leave\"");
    free(text);
    confkit_buffer_free(req);

    /* Receive: NULLs, not this protocol, invalid UTF-8, oversize: typed errors, no change. */
    confkit_updates *u = (confkit_updates *)1;
    CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT, confkit_client_receive(NULL, STR("{}"), &u, ERR));
    CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT, confkit_client_receive(c, NULL, 5, &u, ERR));
    CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT, confkit_client_receive(c, STR("{}"), NULL, ERR));
    CHECK_ST_MSG(CONFKIT_STATUS_INVALID_ARGUMENT, "not a JSON object",
                 confkit_client_receive(c, STR("not json"), &u, ERR));
    CHECK_ST_MSG(CONFKIT_STATUS_INVALID_ARGUMENT, "unterminated string",
                 confkit_client_receive(c, STR("{\"v\":1,\"type\":\"ev"), &u, ERR));
    CHECK_ST_MSG(CONFKIT_STATUS_INVALID_ARGUMENT, "version 2 is not supported",
                 confkit_client_receive(c, STR("{\"v\":2,\"type\":\"event\",\"sequence\":1}"), &u, ERR));
    CHECK_ST_MSG(CONFKIT_STATUS_INVALID_ARGUMENT, "unknown message type",
                 confkit_client_receive(c, STR("{\"v\":1,\"type\":\"teleport\"}"), &u, ERR));
    CHECK_ST_MSG(CONFKIT_STATUS_INVALID_ARGUMENT, "utf-8",
                 confkit_client_receive(c, STR("{\"v\":1,\"type\":\"\xff\"}"), &u, ERR));
    size_t big_len = CONFKIT_MAX_MESSAGE_BYTES + 1;
    uint8_t *big = malloc(big_len);
    CHECK(big != NULL);
    memset(big, ' ', big_len);
    big[0] = '{';
    big[big_len - 1] = '}';
    CHECK_ST(CONFKIT_STATUS_TOO_LARGE, confkit_client_receive(c, big, big_len, &u, ERR));
    free(big);
    CHECK(u == (confkit_updates *)1);
    CHECK_EQ_U64(confkit_client_last_sequence(c), 0);
    CHECK_EQ_U64(confkit_client_view_count(c), 0);

    /* An unknown event type is skipped and still counted. */
    u = NULL;
    CHECK_OK(confkit_client_receive(
        c, STR("{\"v\":1,\"type\":\"event\",\"sequence\":1,\"conferenceId\":\"8b0f7c64-3f8c-4b5e-9a57-2f1d3c6b9e01\",\"event\":{\"type\":\"handRaised\"}}"),
        &u, ERR));
    CHECK_EQ_U64(confkit_updates_len(u), 1);
    CHECK_EQ_I64(confkit_updates_kind(u, 0), CONFKIT_UPDATE_SKIPPED);
    CHECK_STREQ(confkit_updates_text(u, 0), "handRaised");
    CHECK_EQ_U64(confkit_updates_sequence(u, 0), 1);
    /* Past the end, and NULL lists: the getters' "none" values. */
    CHECK_EQ_I64(confkit_updates_kind(u, 1), 0);
    CHECK(confkit_updates_conference_id(u, 1) == NULL);
    CHECK(confkit_updates_json(u, 5) == NULL);
    CHECK_EQ_I64(confkit_updates_old_status(u, 1), -1);
    CHECK_EQ_U64(confkit_updates_len(NULL), 0);
    CHECK(confkit_updates_external_id(NULL, 0) == NULL);
    confkit_updates_free(u);
    CHECK_EQ_U64(confkit_client_last_sequence(c), 1);

    /* Views and the inbox. */
    confkit_view *v = (confkit_view *)1;
    CHECK_ST(CONFKIT_STATUS_CONFERENCE_NOT_FOUND, confkit_client_view(c, SV(conf), &v, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT, confkit_client_view_at(c, 0, &v, ERR));
    CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT, confkit_client_view_at(NULL, 0, &v, ERR));
    CHECK(v == (confkit_view *)1);
    confkit_invitation *inv = (confkit_invitation *)1;
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT, confkit_client_inbox_at(c, 0, &inv, ERR));
    CHECK(inv == (confkit_invitation *)1);
    CHECK_EQ_U64(confkit_client_inbox_len(NULL), 0);
    CHECK(!confkit_client_may(NULL, SV(conf), 1));
    CHECK(!confkit_client_may(c, NULL, 0, 1));
    CHECK(!confkit_client_may(c, SV(conf), 40));
    CHECK(!confkit_client_is_stalled(NULL));
    CHECK(confkit_view_conference_id(NULL) == NULL);
    CHECK_EQ_I64(confkit_view_my_status(NULL), -1);
    CHECK_EQ_I64(confkit_view_participant_status(NULL, 0), -1);
    CHECK(confkit_invitation_token(NULL) == NULL);

    /* The server side: NULLs are statuses, a broken request is an error reply. */
    confkit_session *s = NULL;
    CHECK_OK(confkit_session_open(platform, STR("bob"), STR("Bob"), NULL, 0, &s, ERR));
    confkit_buffer reply = {0};
    CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT,
             confkit_session_handle_message(NULL, STR("{}"), &reply, ERR));
    CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT,
             confkit_session_handle_message(s, STR("{}"), NULL, ERR));
    CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT, confkit_session_handle_message(s, NULL, 3, &reply, ERR));
    CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT, confkit_session_next_message(s, NULL, ERR));
    size_t huge_len = CONFKIT_MAX_MESSAGE_BYTES + 1;
    uint8_t *huge = calloc(huge_len, 1);
    CHECK(huge != NULL);
    reply = (confkit_buffer){(uint8_t *)1, 3};
    CHECK_ST(CONFKIT_STATUS_TOO_LARGE, confkit_session_handle_message(s, huge, huge_len, &reply, ERR));
    CHECK(reply.data == (uint8_t *)1 && reply.len == 3);
    free(huge);
    CHECK_OK(confkit_session_handle_message(s, (const uint8_t *)"\xff\xfe", 2, &reply, ERR));
    u = NULL;
    CHECK_OK(confkit_client_receive(c, reply.data, reply.len, &u, ERR));
    CHECK_EQ_I64(confkit_updates_kind(u, 0), CONFKIT_UPDATE_REQUEST_FAILED);
    CHECK(confkit_updates_request_id(u, 0) == NULL);
    CHECK_EQ_I64(confkit_updates_error_code(u, 0), CONFKIT_STATUS_INVALID_ARGUMENT);
    confkit_updates_free(u);
    confkit_buffer_free(reply);

    /* Every _free accepts NULL. */
    confkit_client_free(NULL);
    confkit_updates_free(NULL);
    confkit_view_free(NULL);
    confkit_invitation_free(NULL);

    confkit_session_free(s);
    confkit_client_free(c);
    confkit_platform_free(platform);
}

int main(void) {
    flow();
    misuse();
    CHECK_EQ_I64(confkit_live_objects(), 0);
    printf("device_flow: ok\n");
    return 0;
}
