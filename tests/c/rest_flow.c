/*
 * The app-server side from C: confkit_platform_handle_rest for create (with
 * participants and notifications), invite, permissions, kick, participants,
 * DELETE and the JWK set; HTTP statuses, response members and error bodies;
 * and the events the REST requests send to open sessions.
 */
#include <stdbool.h>

#include "check.h"

#define T0 1700000000u

static ev_list alice_ev, bob_ev, erin_ev;

typedef struct {
    uint16_t status;
    char *body; /* NUL-terminated copy of the response body */
} resp;

static resp rest_(const char *file, int line, const confkit_platform *p, const char *method,
                  const char *path, const char *body) {
    uint16_t status = 0xBEEF;
    confkit_buffer out = {(uint8_t *)&status, 3}; /* must be overwritten */
    g_err = NULL;
    confkit_status st = confkit_platform_handle_rest(
        p, SV(method), SV(path), body ? (const uint8_t *)body : NULL, body ? strlen(body) : 0,
        &status, &out, ERR);
    check_status_(file, line, "confkit_platform_handle_rest", st, CONFKIT_STATUS_OK, NULL);
    if (status == 0xBEEF) fail_(file, line, "http_status_out not written");
    if (out.data == (uint8_t *)&status) fail_(file, line, "response_out not written");
    if (status == 204 && (out.data != NULL || out.len != 0)) fail_(file, line, "204 with a body");
    if (status != 204 && (out.data == NULL || out.len == 0)) fail_(file, line, "empty body");
    resp r = {status, buffer_to_cstr(out)};
    confkit_buffer_free(out);
    return r;
}
#define REST(p, m, path, body) rest_(__FILE__, __LINE__, (p), (m), (path), (body))

static void expect_status_(const char *file, int line, resp r, uint16_t http) {
    if (r.status != http) {
        fprintf(stderr, "%s:%d: HTTP %u, expected %u; body: %s\n", file, line, r.status, http,
                r.body);
        exit(1);
    }
}
#define EXPECT_HTTP(r, http) expect_status_(__FILE__, __LINE__, (r), (http))

/* An error answer: its HTTP status and the three members of the error body. */
static void expect_error_(const char *file, int line, resp r, uint16_t http, int code,
                          const char *reason) {
    expect_status_(file, line, r, http);
    char want[128];
    snprintf(want, sizeof want, "\"error_code\":%d", code);
    if (strstr(r.body, want) == NULL) {
        fprintf(stderr, "%s:%d: body lacks %s: %s\n", file, line, want, r.body);
        exit(1);
    }
    snprintf(want, sizeof want, "\"error_reason\":\"%s\"", reason);
    if (strstr(r.body, want) == NULL) {
        fprintf(stderr, "%s:%d: body lacks %s: %s\n", file, line, want, r.body);
        exit(1);
    }
    if (strstr(r.body, "\"error_description\":\"") == NULL || r.body[0] != '{') {
        fprintf(stderr, "%s:%d: body lacks error_description: %s\n", file, line, r.body);
        exit(1);
    }
    free(r.body);
}
#define EXPECT_ERROR(r, http, code, reason)                                \
    expect_error_(__FILE__, __LINE__, (r), (http), (code), (reason))

/* The string value that follows `key` (e.g. "\"conferenceId\":\"") in `json`,
 * searching from `from` (NULL: the start); a fresh copy. */
static char *json_str(const char *json, const char *from_key, const char *key) {
    const char *p = json;
    if (from_key != NULL) {
        p = strstr(p, from_key);
        CHECK(p != NULL);
    }
    p = strstr(p, key);
    if (p == NULL) {
        fprintf(stderr, "no %s in %s\n", key, json);
        exit(1);
    }
    p += strlen(key);
    const char *end = strchr(p, '"');
    CHECK(end != NULL);
    char *out = malloc((size_t)(end - p) + 1);
    CHECK(out != NULL);
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
    return out;
}

static uint32_t mask_of(const char *name) {
    uint32_t bit = 0xDEAD;
    CHECK_OK(confkit_permission_from_name(SV(name), &bit, ERR));
    return 1u << bit;
}

static confkit_session *open_session(const confkit_platform *p, const char *ext,
                                     const char *name) {
    confkit_session *s = NULL;
    CHECK_OK(confkit_session_open(p, SV(ext), SV(name), NULL, 0, &s, ERR));
    return s;
}

int main(void) {
    confkit_clock *clock = NULL;
    CHECK_OK(confkit_clock_new(T0, &clock, ERR));
    uint8_t seed[32];
    for (int i = 0; i < 32; i++) seed[i] = (uint8_t)(i * 7 + 1);
    confkit_platform *p = NULL;
    CHECK_OK(confkit_platform_new_with(seed, STR("rest-key"), clock, NULL, &p, ERR));
    /* The platform keeps its own reference to the clock. */
    confkit_clock_free(clock);
    clock = NULL;
    confkit_session *alice = open_session(p, "alice", "Alice");
    confkit_session *bob = open_session(p, "bob", "Bob");
    confkit_session *erin = open_session(p, "erin", "Erin");
    char path[256];

    /* ---- create with participants ------------------------------------ */
    resp r = REST(p, "POST", "/v2/conferences/create",
                  "{\"ownerExternalId\":\"alice\",\"alias\":\"Board Meeting\","
                  "\"parameters\":{\"ttl\":600,\"audioOnly\":true,\"participantLimit\":10,"
                  "\"tokenTtl\":7200},"
                  "\"participants\":{"
                  "\"bob\":{\"permissions\":[\"JOIN\",\"SEND_AUDIO\"],\"notification\":true},"
                  "\"carol\":{\"notification\":true},"
                  "\"dave\":{\"permissions\":[\"JOIN\"]}}}");
    EXPECT_HTTP(r, 200);
    CHECK_CONTAINS(r.body, "\"conferenceAlias\":\"Board Meeting\"");
    CHECK_CONTAINS(r.body, "\"isProtected\":true");
    CHECK_CONTAINS(r.body, "\"isNew\":true");
    CHECK_CONTAINS(r.body, "\"usersTokens\":{");
    CHECK_CONTAINS(r.body, "\"delivery\":{");
    CHECK_CONTAINS(r.body, "\"bob\":\"DELIVERED\"");
    CHECK_CONTAINS(r.body, "\"carol\":\"NO_OPEN_SESSION\"");
    CHECK_CONTAINS(r.body, "\"dave\":\"NOT_REQUESTED\"");
    char *conf_id = json_str(r.body, NULL, "\"conferenceId\":\"");
    CHECK_EQ_U64(strlen(conf_id), 36);
    char *owner_token = json_str(r.body, NULL, "\"ownerToken\":\"");
    char *bob_token = json_str(r.body, "\"usersTokens\":{", "\"bob\":\"");
    char *carol_token = json_str(r.body, "\"usersTokens\":{", "\"carol\":\"");
    char *dave_token = json_str(r.body, "\"usersTokens\":{", "\"dave\":\"");
    CHECK(strlen(owner_token) > 100 && strlen(bob_token) > 100);
    CHECK(strlen(carol_token) > 100 && strlen(dave_token) > 100);
    CHECK(strcmp(bob_token, carol_token) != 0);
    free(r.body);

    /* The owner's session hears that the conference exists; Bob (open
     * session, notification asked) gets his invitation with his token. */
    DRAIN(alice, &alice_ev);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_CONFERENCE_CREATED, NULL, -1);
    CHECK_STREQ(alice_ev.ev[0].conf, conf_id);
    DRAIN(bob, &bob_ev);
    CHECK_EQ_U64(bob_ev.n, 1);
    CHECK_EQ_I64(bob_ev.ev[0].kind, CONFKIT_EVENT_INVITATION_RECEIVED);
    CHECK_STREQ(bob_ev.ev[0].conf, conf_id);
    CHECK_STREQ(bob_ev.ev[0].alias, "Board Meeting");
    CHECK_STREQ(bob_ev.ev[0].ext, "alice");
    CHECK_STREQ(bob_ev.ev[0].token, bob_token);
    CHECK_EQ_U64(bob_ev.ev[0].perms, mask_of("JOIN") | mask_of("SEND_AUDIO"));

    /* The same alias again by its owner: not new, a fresh owner token,
     * nobody else invited (none listed). */
    r = REST(p, "POST", "/v2/conferences/create",
             "{\"ownerExternalId\":\"alice\",\"alias\":\"board meeting\"}");
    EXPECT_HTTP(r, 200);
    CHECK_CONTAINS(r.body, "\"isNew\":false");
    CHECK_CONTAINS(r.body, "\"usersTokens\":{}");
    CHECK_CONTAINS(r.body, conf_id);
    char *owner_token_again = json_str(r.body, NULL, "\"ownerToken\":\"");
    CHECK(strlen(owner_token_again) > 100);
    CHECK(strcmp(owner_token_again, owner_token) != 0);
    free(owner_token_again);
    free(r.body);
    /* By anyone else it is a conflict (ALIAS_TAKEN), and changes nothing. */
    r = REST(p, "POST", "/v2/conferences/create",
             "{\"ownerExternalId\":\"mallory\",\"alias\":\"BOARD MEETING\","
             "\"participants\":{\"erin\":{\"notification\":true}}}");
    CHECK_CONTAINS(r.body, "someone else owns");
    EXPECT_ERROR(r, 409, CONFKIT_STATUS_ALIAS_TAKEN, "ALIAS_TAKEN");
    CHECK_STREQ(confkit_status_name(CONFKIT_STATUS_ALIAS_TAKEN), "ALIAS_TAKEN");
    size_t pending = 99;
    CHECK_OK(confkit_session_pending_events(erin, &pending, ERR));
    CHECK_EQ_U64(pending, 0);
    CHECK_OK(confkit_session_pending_events(alice, &pending, ERR));
    CHECK_EQ_U64(pending, 0);
    /* An unprotected conference's alias is taken for every REST create, its
     * owner's included. */
    confkit_conference_info *open_info = NULL;
    CHECK_OK(confkit_conference_create(alice, STR("Open Lobby"), NULL, &open_info, NULL, ERR));
    CHECK(!confkit_conference_info_is_protected(open_info));
    confkit_conference_info_free(open_info);
    DRAIN(alice, &alice_ev);
    r = REST(p, "POST", "/v2/conferences/create",
             "{\"ownerExternalId\":\"alice\",\"alias\":\"open lobby\"}");
    CHECK_CONTAINS(r.body, "not protected");
    EXPECT_ERROR(r, 409, CONFKIT_STATUS_ALIAS_TAKEN, "ALIAS_TAKEN");

    /* The owner joins with the owner token from the REST answer. */
    uint32_t perms = 0;
    CHECK_OK(confkit_conference_join(alice, SV(conf_id), SV(owner_token), &perms, ERR));
    CHECK_EQ_U64(perms, CONFKIT_PERMISSIONS_ALL);
    DRAIN(alice, &alice_ev);

    /* ---- invite -------------------------------------------------------- */
    snprintf(path, sizeof path, "/v2/conferences/%s/invite", conf_id);
    r = REST(p, "POST", path,
             "{\"participants\":{\"erin\":{\"permissions\":[\"JOIN\",\"RECORD\"],"
             "\"notification\":true},\"frank\":{}}}");
    EXPECT_HTTP(r, 200);
    CHECK_CONTAINS(r.body, "\"erin\":\"DELIVERED\"");
    CHECK_CONTAINS(r.body, "\"frank\":\"NOT_REQUESTED\"");
    char *erin_token = json_str(r.body, "\"usersTokens\":{", "\"erin\":\"");
    free(r.body);
    DRAIN(erin, &erin_ev);
    CHECK_EQ_U64(erin_ev.n, 1);
    CHECK_EQ_I64(erin_ev.ev[0].kind, CONFKIT_EVENT_INVITATION_RECEIVED);
    CHECK_STREQ(erin_ev.ev[0].token, erin_token);
    CHECK_EQ_U64(erin_ev.ev[0].perms, mask_of("JOIN") | mask_of("RECORD"));
    CHECK_STREQ(erin_ev.ev[0].ext, "alice"); /* the inviter is the owner */
    DRAIN(alice, &alice_ev);                  /* Alice is in: she hears of both */
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_PARTICIPANT_ADDED, "erin",
                CONFKIT_PARTICIPANT_STATUS_RESERVED);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_PARTICIPANT_ADDED, "frank",
                CONFKIT_PARTICIPANT_STATUS_RESERVED);
    /* Unknown permission names are an error, never dropped. */
    r = REST(p, "POST", path, "{\"participants\":{\"gina\":{\"permissions\":[\"FLY\"]}}}");
    EXPECT_ERROR(r, 400, CONFKIT_STATUS_UNKNOWN_PERMISSION, "UNKNOWN_PERMISSION");
    /* A typo in a member name is refused, not ignored. */
    r = REST(p, "POST", path, "{\"participants\":{\"gina\":{\"notifcation\":true}}}");
    EXPECT_ERROR(r, 400, CONFKIT_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT");
    /* The owner is in the conference already: no token, nothing sent. */
    r = REST(p, "POST", path, "{\"participants\":{\"alice\":{\"notification\":true}}}");
    EXPECT_HTTP(r, 200);
    CHECK_CONTAINS(r.body, "\"usersTokens\":{}");
    CHECK_CONTAINS(r.body, "\"alice\":\"ALREADY_IN_CONFERENCE\"");
    free(r.body);

    /* ---- permissions ----------------------------------------------------- */
    snprintf(path, sizeof path, "/v2/conferences/%s/permissions", conf_id);
    r = REST(p, "POST", path,
             "{\"participants\":{\"bob\":{\"permissions\":[\"JOIN\",\"SEND_VIDEO\"]}}}");
    EXPECT_HTTP(r, 200);
    char *bob_token2 = json_str(r.body, "\"usersTokens\":{", "\"bob\":\"");
    CHECK(strcmp(bob_token2, bob_token) != 0);
    free(r.body);
    DRAIN(bob, &bob_ev);
    CHECK_EQ_U64(bob_ev.n, 1);
    CHECK_EQ_I64(bob_ev.ev[0].kind, CONFKIT_EVENT_PERMISSIONS_UPDATED);
    CHECK_STREQ(bob_ev.ev[0].token, bob_token2);
    CHECK_EQ_U64(bob_ev.ev[0].perms, mask_of("JOIN") | mask_of("SEND_VIDEO"));
    /* The replaced token is revoked; the new one admits Bob. */
    CHECK_ST(CONFKIT_STATUS_TOKEN_REVOKED,
             confkit_conference_join(bob, SV(conf_id), SV(bob_token), NULL, ERR));
    CHECK_OK(confkit_conference_join(bob, SV(conf_id), SV(bob_token2), &perms, ERR));
    CHECK_EQ_U64(perms, mask_of("JOIN") | mask_of("SEND_VIDEO"));
    r = REST(p, "POST", path, "{\"participants\":{\"zed\":{\"permissions\":[\"JOIN\"]}}}");
    EXPECT_ERROR(r, 404, CONFKIT_STATUS_PARTICIPANT_NOT_FOUND, "PARTICIPANT_NOT_FOUND");
    r = REST(p, "POST", path, "{\"participants\":{\"bob\":{}}}"); /* permissions required */
    EXPECT_ERROR(r, 400, CONFKIT_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT");

    /* ---- participants ---------------------------------------------------- */
    snprintf(path, sizeof path, "/v2/conferences/%s/participants", conf_id);
    r = REST(p, "GET", path, NULL);
    EXPECT_HTTP(r, 200);
    CHECK_CONTAINS(r.body, "{\"participants\":[");
    CHECK_CONTAINS(r.body, "\"externalId\":\"alice\"");
    CHECK_CONTAINS(r.body, "\"name\":\"Bob\"");
    CHECK_CONTAINS(r.body, "\"status\":\"CONNECTING\"");
    CHECK_CONTAINS(r.body, "\"status\":\"RESERVED\"");
    CHECK_CONTAINS(r.body, "\"type\":\"USER\"");
    CHECK_CONTAINS(r.body, "\"permissions\":[\"JOIN\",\"SEND_VIDEO\"]");
    CHECK_CONTAINS(r.body, "\"externalId\":\"frank\"");
    free(r.body);
    /* A query string is ignored. */
    strcat(path, "?page=1");
    r = REST(p, "GET", path, NULL);
    EXPECT_HTTP(r, 200);
    free(r.body);

    /* ---- kick ------------------------------------------------------------ */
    snprintf(path, sizeof path, "/v2/conferences/%s/kick", conf_id);
    r = REST(p, "POST", path, "{\"externalIds\":[\"bob\"]}");
    EXPECT_HTTP(r, 204);
    CHECK_STREQ(r.body, "");
    free(r.body);
    DRAIN(bob, &bob_ev);
    CHECK_EVENT(&bob_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "bob", CONFKIT_PARTICIPANT_STATUS_KICKED);
    DRAIN(alice, &alice_ev);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "bob",
                CONFKIT_PARTICIPANT_STATUS_KICKED);
    CHECK_ST(CONFKIT_STATUS_TOKEN_REVOKED,
             confkit_conference_join(bob, SV(conf_id), SV(bob_token2), NULL, ERR));
    r = REST(p, "POST", path, "{\"externalIds\":[\"alice\"]}");
    EXPECT_ERROR(r, 403, CONFKIT_STATUS_NOT_ALLOWED, "NOT_ALLOWED");
    r = REST(p, "POST", path, "{\"externalIds\":[\"zed\"]}");
    EXPECT_ERROR(r, 404, CONFKIT_STATUS_PARTICIPANT_NOT_FOUND, "PARTICIPANT_NOT_FOUND");
    r = REST(p, "POST", path, "{\"externalIds\":[\"bob\"]}"); /* KICKED cannot be kicked */
    EXPECT_ERROR(r, 409, CONFKIT_STATUS_INVALID_TRANSITION, "INVALID_TRANSITION");
    r = REST(p, "POST", path, "{\"externalIds\":[\"erin\",\"erin\"]}");
    EXPECT_ERROR(r, 400, CONFKIT_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT");
    snprintf(path, sizeof path, "/v2/conferences/%s/participants", conf_id);
    r = REST(p, "GET", path, NULL);
    CHECK_CONTAINS(r.body, "\"status\":\"KICKED\"");
    free(r.body);

    /* ---- fresh tokens ------------------------------------------------------ */
    snprintf(path, sizeof path, "/v2/conferences/%s/tokens", conf_id);
    DRAIN(alice, &alice_ev);
    DRAIN(erin, &erin_ev);
    r = REST(p, "POST", path, "{\"externalIds\":[\"alice\",\"erin\"]}");
    EXPECT_HTTP(r, 200);
    CHECK_CONTAINS(r.body, "{\"usersTokens\":{");
    char *alice_fresh = json_str(r.body, "\"usersTokens\":{", "\"alice\":\"");
    char *erin_fresh = json_str(r.body, "\"usersTokens\":{", "\"erin\":\"");
    free(r.body);
    CHECK(strcmp(alice_fresh, owner_token) != 0);
    CHECK(strcmp(erin_fresh, erin_token) != 0);
    /* Alice is connected: she also gets hers as token refreshed (same
     * permissions, the conference's 2-hour token lifetime). Erin is only
     * RESERVED: nothing is pushed to her. */
    DRAIN(alice, &alice_ev);
    CHECK_EQ_U64(alice_ev.n, 1);
    CHECK_EQ_I64(alice_ev.ev[0].kind, CONFKIT_EVENT_TOKEN_REFRESHED);
    CHECK_STREQ(alice_ev.ev[0].type, "tokenRefreshed");
    CHECK_STREQ(alice_ev.ev[0].conf, conf_id);
    CHECK_STREQ(alice_ev.ev[0].token, alice_fresh);
    CHECK_EQ_U64(alice_ev.ev[0].perms, CONFKIT_PERMISSIONS_ALL);
    CHECK_EQ_U64(alice_ev.ev[0].expires_at, T0 + 7200);
    CHECK(!carries_token(&alice_ev, erin_fresh));
    DRAIN(erin, &erin_ev);
    CHECK_EQ_U64(erin_ev.n, 0);
    /* Erin's fresh token carries her permissions and admits her. */
    CHECK_OK(confkit_conference_join(erin, SV(conf_id), SV(erin_fresh), &perms, ERR));
    CHECK_EQ_U64(perms, mask_of("JOIN") | mask_of("RECORD"));
    CHECK_OK(confkit_conference_leave(erin, SV(conf_id), ERR));
    DRAIN(alice, &alice_ev);
    DRAIN(erin, &erin_ev);
    /* A KICKED participant gets none (only a new invitation brings them
     * back), an unknown one is not found; either refuses the whole request. */
    r = REST(p, "POST", path, "{\"externalIds\":[\"alice\",\"bob\"]}");
    EXPECT_ERROR(r, 403, CONFKIT_STATUS_NOT_ALLOWED, "NOT_ALLOWED");
    r = REST(p, "POST", path, "{\"externalIds\":[\"zed\"]}");
    EXPECT_ERROR(r, 404, CONFKIT_STATUS_PARTICIPANT_NOT_FOUND, "PARTICIPANT_NOT_FOUND");
    r = REST(p, "POST", path, "{\"externalIds\":[\"erin\",\"erin\"]}");
    EXPECT_ERROR(r, 400, CONFKIT_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT");
    r = REST(p, "POST", "/v2/conferences/00000000-0000-4000-8000-000000000000/tokens",
             "{\"externalIds\":[\"alice\"]}");
    EXPECT_ERROR(r, 404, CONFKIT_STATUS_CONFERENCE_NOT_FOUND, "CONFERENCE_NOT_FOUND");
    r = REST(p, "GET", path, NULL);
    EXPECT_ERROR(r, 405, CONFKIT_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT");
    CHECK_OK(confkit_session_pending_events(alice, &pending, ERR));
    CHECK_EQ_U64(pending, 0);
    free(alice_fresh);
    free(erin_fresh);

    /* Inviting someone RESERVED again refreshes the token and revokes the old one. */
    snprintf(path, sizeof path, "/v2/conferences/%s/invite", conf_id);
    r = REST(p, "POST", path, "{\"participants\":{\"carol\":{\"permissions\":[\"JOIN\"]}}}");
    EXPECT_HTTP(r, 200);
    CHECK_CONTAINS(r.body, "\"carol\":\"NOT_REQUESTED\"");
    char *carol_token2 = json_str(r.body, "\"usersTokens\":{", "\"carol\":\"");
    free(r.body);
    CHECK(strcmp(carol_token2, carol_token) != 0);
    confkit_session *carol = open_session(p, "carol", "Carol");
    CHECK_ST(CONFKIT_STATUS_TOKEN_REVOKED,
             confkit_conference_join(carol, SV(conf_id), SV(carol_token), NULL, ERR));
    CHECK_OK(confkit_conference_join(carol, SV(conf_id), SV(carol_token2), &perms, ERR));
    CHECK_EQ_U64(perms, mask_of("JOIN"));
    /* Someone else's token does not admit Carol. */
    CHECK_ST_MSG(CONFKIT_STATUS_TOKEN_INVALID, "dave",
                 confkit_conference_join(carol, SV(conf_id), SV(dave_token), NULL, ERR));
    confkit_session_free(carol);
    free(carol_token2);

    /* ---- errors ------------------------------------------------------------ */
    r = REST(p, "POST", "/v2/conferences/00000000-0000-4000-8000-000000000000/invite",
             "{\"participants\":{}}");
    EXPECT_ERROR(r, 404, CONFKIT_STATUS_CONFERENCE_NOT_FOUND, "CONFERENCE_NOT_FOUND");
    r = REST(p, "POST", "/v2/conferences/not-a-uuid/invite", "{\"participants\":{}}");
    EXPECT_ERROR(r, 400, CONFKIT_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT");
    r = REST(p, "POST", "/v2/conferences/create", "{");
    EXPECT_ERROR(r, 400, CONFKIT_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT");
    r = REST(p, "POST", "/v2/conferences/create", NULL);
    EXPECT_ERROR(r, 400, CONFKIT_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT");
    r = REST(p, "POST", "/v2/conferences/create", "{\"alias\":\"x\"}");
    EXPECT_ERROR(r, 400, CONFKIT_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT");
    r = REST(p, "POST", "/v2/conferences/create",
             "{\"ownerExternalId\":\"alice\",\"alias\":\"x\",\"bogus\":1}");
    EXPECT_ERROR(r, 400, CONFKIT_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT");
    r = REST(p, "POST", "/v2/conferences/create",
             "{\"ownerExternalId\":\"alice\",\"alias\":\"Other\","
             "\"participants\":{\"alice\":{}}}");
    EXPECT_ERROR(r, 400, CONFKIT_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT");
    r = REST(p, "POST", "/v2/conferences/create", "\xff\xfe{}");
    EXPECT_ERROR(r, 400, CONFKIT_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT");
    r = REST(p, "PUT", "/v2/conferences/create", "{}");
    EXPECT_ERROR(r, 405, CONFKIT_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT");
    r = REST(p, "GET", "/v2/conferences/create", NULL);
    EXPECT_ERROR(r, 405, CONFKIT_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT");
    r = REST(p, "POST", "/.well-known/jwks.json", NULL);
    EXPECT_ERROR(r, 405, CONFKIT_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT");
    r = REST(p, "GET", "/v3/nothing/here", NULL);
    EXPECT_ERROR(r, 404, CONFKIT_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT");
    r = REST(p, "", "", NULL);
    EXPECT_ERROR(r, 404, CONFKIT_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT");

    /* ---- jwks -------------------------------------------------------------- */
    r = REST(p, "GET", "/.well-known/jwks.json", NULL);
    EXPECT_HTTP(r, 200);
    CHECK_CONTAINS(r.body, "{\"keys\":[");
    CHECK_CONTAINS(r.body, "\"kty\":\"OKP\"");
    CHECK_CONTAINS(r.body, "\"crv\":\"Ed25519\"");
    CHECK_CONTAINS(r.body, "\"kid\":\"rest-key\"");
    CHECK_CONTAINS(r.body, "\"x\":\"");
    confkit_buffer jwks = {0};
    CHECK_OK(confkit_platform_jwks(p, &jwks, ERR));
    CHECK_EQ_U64(jwks.len, strlen(r.body));
    CHECK(memcmp(jwks.data, r.body, jwks.len) == 0);
    confkit_buffer_free(jwks);
    free(r.body);
    r = REST(p, "GET", "/.well-known/jwks.json?fresh=1", NULL);
    EXPECT_HTTP(r, 200);
    free(r.body);

    /* ---- delete ------------------------------------------------------------ */
    snprintf(path, sizeof path, "/v2/conferences/%s", conf_id);
    r = REST(p, "DELETE", path, NULL);
    EXPECT_HTTP(r, 204);
    free(r.body);
    DRAIN(alice, &alice_ev);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_CONFERENCE_ENDED, NULL, -1);
    DRAIN(bob, &bob_ev);
    CHECK_EVENT(&bob_ev, CONFKIT_EVENT_CONFERENCE_ENDED, NULL, -1);
    DRAIN(erin, &erin_ev);
    CHECK_EVENT(&erin_ev, CONFKIT_EVENT_CONFERENCE_ENDED, NULL, -1);
    r = REST(p, "DELETE", path, NULL);
    EXPECT_ERROR(r, 404, CONFKIT_STATUS_CONFERENCE_NOT_FOUND, "CONFERENCE_NOT_FOUND");
    r = REST(p, "GET", path, NULL);
    EXPECT_ERROR(r, 405, CONFKIT_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT");
    snprintf(path, sizeof path, "/v2/conferences/%s/participants", conf_id);
    r = REST(p, "GET", path, NULL);
    CHECK_CONTAINS(r.body, "destroyed");
    EXPECT_ERROR(r, 404, CONFKIT_STATUS_CONFERENCE_NOT_FOUND, "CONFERENCE_NOT_FOUND");
    CHECK_ST_MSG(CONFKIT_STATUS_CONFERENCE_NOT_FOUND, "destroyed",
                 confkit_conference_join(erin, SV(conf_id), SV(erin_token), NULL, ERR));

    /* A conference made over REST with no participants at all. */
    r = REST(p, "POST", "/v2/conferences/create",
             "{\"ownerExternalId\":\"nobody-online\",\"alias\":\"Solo\"}");
    EXPECT_HTTP(r, 200);
    CHECK_CONTAINS(r.body, "\"usersTokens\":{}");
    CHECK_CONTAINS(r.body, "\"ownerToken\":\"");
    free(r.body);

    free(conf_id);
    free(owner_token);
    free(bob_token);
    free(bob_token2);
    free(carol_token);
    free(dave_token);
    free(erin_token);
    confkit_session_free(alice);
    confkit_session_free(bob);
    confkit_session_free(erin);
    confkit_platform_free(p);
    confkit_clock_free(clock);
    FINISH("rest_flow");
    return 0;
}
