/*
 * A platform on an SQLite file survives a restart: confkit_platform_open,
 * a conference created and a participant kicked over REST, the platform
 * freed, opened again on the same file: the conference is there with its
 * participants (the kick held), and a kicked participant's token still fails.
 * Also: the argument checks of confkit_platform_open.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

#define T0 1700000000u

/* One REST call: the HTTP status, and the body as a fresh C string. */
static uint16_t rest(const confkit_platform *p, const char *method, const char *path,
                     const char *body, char **body_out) {
    uint16_t status = 0;
    confkit_buffer out = {NULL, 0};
    CHECK_OK(confkit_platform_handle_rest(p, SV(method), SV(path),
                                          body ? (const uint8_t *)body : NULL,
                                          body ? strlen(body) : 0, &status, &out, ERR));
    *body_out = buffer_to_cstr(out);
    confkit_buffer_free(out);
    return status;
}

/* The string value after `key` in `json`, as a fresh copy. */
static char *after(const char *json, const char *key) {
    const char *p = strstr(json, key);
    CHECK(p != NULL);
    p += strlen(key);
    const char *end = strchr(p, '"');
    CHECK(end != NULL);
    char *out = calloc((size_t)(end - p) + 1, 1);
    CHECK(out != NULL);
    memcpy(out, p, (size_t)(end - p));
    return out;
}

static confkit_platform *open_at(const char *path, const uint8_t *seed, confkit_clock *clock) {
    confkit_platform *p = NULL;
    CHECK_OK(confkit_platform_open(SV(path), seed, STR("restart-key"), clock, NULL, &p, ERR));
    CHECK(p != NULL);
    return p;
}

int main(void) {
    char dir[] = "/tmp/confkit-c-restart-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/platform.db", dir);
    uint8_t seed[32];
    for (int i = 0; i < 32; i++) seed[i] = (uint8_t)(i * 5 + 3);
    confkit_clock *clock = NULL;
    CHECK_OK(confkit_clock_new(T0, &clock, ERR));

    /* Argument checks: nothing is written on failure. */
    confkit_platform *p = (confkit_platform *)&seed; /* must stay untouched */
    CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT,
             confkit_platform_open(SV(path), NULL, STR("k"), clock, NULL, &p, ERR));
    CHECK(p == (confkit_platform *)&seed);
    CHECK_ST(CONFKIT_STATUS_NULL_ARGUMENT,
             confkit_platform_open(NULL, 3, seed, STR("k"), clock, NULL, &p, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_UTF8,
             confkit_platform_open((const uint8_t *)"\xff\xfe", 2, seed, STR("k"), clock, NULL,
                                   &p, ERR));
    CHECK_ST_MSG(CONFKIT_STATUS_STORE_UNAVAILABLE, "store",
                 confkit_platform_open(STR("/nonexistent-dir/x/platform.db"), seed, STR("k"),
                                       clock, NULL, &p, ERR));
    CHECK(p == (confkit_platform *)&seed);

    /* ---- first life ----------------------------------------------------- */
    p = open_at(path, seed, clock);
    char *body = NULL;
    uint16_t http = rest(p, "POST", "/v2/conferences/create",
                         "{\"ownerExternalId\":\"alice\",\"alias\":\"Weekly\","
                         "\"participants\":{\"bob\":{},\"carol\":{}}}",
                         &body);
    CHECK_EQ_U64(http, 200);
    char *conf_id = after(body, "\"conferenceId\":\"");
    char *bob_token = after(body, "\"bob\":\"");
    free(body);
    char req[256];
    snprintf(req, sizeof req, "/v2/conferences/%s/kick", conf_id);
    http = rest(p, "POST", req, "{\"externalIds\":[\"bob\"]}", &body);
    CHECK_EQ_U64(http, 204);
    free(body);
    confkit_platform_free(p);

    /* ---- second life: same file ------------------------------------------ */
    p = open_at(path, seed, clock);
    snprintf(req, sizeof req, "/v2/conferences/%s/participants", conf_id);
    http = rest(p, "GET", req, NULL, &body);
    CHECK_EQ_U64(http, 200);
    CHECK_CONTAINS(body, "\"externalId\":\"alice\"");
    CHECK_CONTAINS(body, "\"externalId\":\"carol\"");
    CHECK_CONTAINS(body, "\"status\":\"KICKED\"");
    free(body);
    /* Bob's old token still fails after the restart. */
    confkit_session *bob = NULL;
    CHECK_OK(confkit_session_open(p, STR("bob"), STR("Bob"), NULL, 0, &bob, ERR));
    CHECK_ST(CONFKIT_STATUS_TOKEN_REVOKED,
             confkit_conference_join(bob, SV(conf_id), SV(bob_token), NULL, ERR));
    confkit_session_free(bob);
    confkit_platform_free(p);
    confkit_clock_free(clock);

    free(conf_id);
    free(bob_token);
    unlink(path);
    char side[300];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    rmdir(dir);
    puts("platform_restart: ok");
    return 0;
}
