/*
 * Misuse of the C ABI: NULL for every pointer argument of every function
 * that takes one, invalid UTF-8 in every kind of string argument, oversize
 * inputs, unknown and malformed IDs, use after close, the panic guard,
 * outputs left alone on failure, error_out left alone on success, and the
 * status / permission / participant-status names.
 */
#include <limits.h>
#include <stdbool.h>

#include "check.h"

#define T0 1700000000u
#define UNKNOWN_CONF "00000000-0000-4000-8000-000000000000"

/* Not UTF-8 (a lone continuation byte after ASCII). */
#define BAD ((const uint8_t *)"ok\x80"), 3
#define NULLARG(call) CHECK_ST_MSG(CONFKIT_STATUS_NULL_ARGUMENT, "must not be NULL", call)
#define BADUTF8(call) CHECK_ST_MSG(CONFKIT_STATUS_INVALID_UTF8, "not UTF-8", call)

/* A recognisable pointer that confkit must never write over an out-parameter
 * on failure. */
static char sentinel_obj;
#define SENT(T) ((T *)(void *)&sentinel_obj)

static int releases;
static void never_called(void *user_data, uint64_t session_id) {
    (void)user_data;
    (void)session_id;
    fail_(__FILE__, __LINE__, "listener called");
}
static void count_release(void *user_data) {
    (void)user_data;
    releases++;
}

/* A string of `n` copies of `c` (caller frees). */
static char *repeat(char c, size_t n) {
    char *s = malloc(n + 1);
    CHECK(s != NULL);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void names(void) {
    static const struct {
        confkit_status status;
        const char *name;
    } statuses[] = {
        {CONFKIT_STATUS_OK, "OK"},
        {CONFKIT_STATUS_NULL_ARGUMENT, "NULL_ARGUMENT"},
        {CONFKIT_STATUS_INVALID_UTF8, "INVALID_UTF8"},
        {CONFKIT_STATUS_INVALID_ARGUMENT, "INVALID_ARGUMENT"},
        {CONFKIT_STATUS_UNKNOWN_PERMISSION, "UNKNOWN_PERMISSION"},
        {CONFKIT_STATUS_TOKEN_INVALID, "TOKEN_INVALID"},
        {CONFKIT_STATUS_TOKEN_EXPIRED, "TOKEN_EXPIRED"},
        {CONFKIT_STATUS_TOKEN_REVOKED, "TOKEN_REVOKED"},
        {CONFKIT_STATUS_TOKEN_WRONG_CONFERENCE, "TOKEN_WRONG_CONFERENCE"},
        {CONFKIT_STATUS_NOT_ALLOWED, "NOT_ALLOWED"},
        {CONFKIT_STATUS_NOT_IN_CONFERENCE, "NOT_IN_CONFERENCE"},
        {CONFKIT_STATUS_CONFERENCE_NOT_FOUND, "CONFERENCE_NOT_FOUND"},
        {CONFKIT_STATUS_AT_MAX_CAPACITY, "AT_MAX_CAPACITY"},
        {CONFKIT_STATUS_INVALID_TRANSITION, "INVALID_TRANSITION"},
        {CONFKIT_STATUS_SESSION_NOT_FOUND, "SESSION_NOT_FOUND"},
        {CONFKIT_STATUS_PARTICIPANT_NOT_FOUND, "PARTICIPANT_NOT_FOUND"},
        {CONFKIT_STATUS_KEY_INVALID, "KEY_INVALID"},
        {CONFKIT_STATUS_TOO_LARGE, "TOO_LARGE"},
        {CONFKIT_STATUS_CLOSED, "CLOSED"},
        {CONFKIT_STATUS_ALIAS_TAKEN, "ALIAS_TAKEN"},
        {CONFKIT_STATUS_PANIC, "PANIC"},
    };
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        CHECK_STREQ(confkit_status_name(statuses[i].status), statuses[i].name);
    }
    /* The values are stable. */
    CHECK_EQ_I64(CONFKIT_STATUS_OK, 0);
    CHECK_EQ_I64(CONFKIT_STATUS_CLOSED, 18);
    CHECK_EQ_I64(CONFKIT_STATUS_ALIAS_TAKEN, 19);
    CHECK_EQ_I64(CONFKIT_STATUS_STORE_UNAVAILABLE, 20);
    CHECK_STREQ(confkit_status_name(CONFKIT_STATUS_STORE_UNAVAILABLE), "STORE_UNAVAILABLE");
    CHECK_EQ_I64(CONFKIT_STATUS_PANIC, 99);
    const confkit_status unknown[] = {-1, 21, 22, 98, 100, 1000, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        CHECK_STREQ(confkit_status_name(unknown[i]), "UNKNOWN");
    }

    /* Permission names <-> bits. */
    static const char *const perms[12] = {
        "INVITE",      "JOIN",       "SEND_AUDIO",   "SEND_VIDEO", "SHARE_SCREEN", "SHARE_VIDEO",
        "SHARE_FILE",  "SEND_MESSAGE", "RECORD",     "STREAM",     "KICK",         "UPDATE_PERMISSIONS",
    };
    uint32_t all = 0, def = 0;
    for (uint32_t bit = 0; bit < 12; bit++) {
        const char *name = confkit_permission_name(bit);
        CHECK_STREQ(name, perms[bit]);
        uint32_t back = 0xDEAD;
        CHECK_OK(confkit_permission_from_name(SV(name), &back, ERR));
        CHECK_EQ_U64(back, bit);
        all |= 1u << back;
        if (strcmp(name, "INVITE") != 0 && strcmp(name, "KICK") != 0 &&
            strcmp(name, "UPDATE_PERMISSIONS") != 0) {
            def |= 1u << back;
        }
    }
    CHECK_EQ_U64(all, CONFKIT_PERMISSIONS_ALL);
    CHECK_EQ_U64(def, CONFKIT_PERMISSIONS_DEFAULT);
    CHECK(confkit_permission_name(12) == NULL);
    CHECK(confkit_permission_name(UINT32_MAX) == NULL);
    uint32_t bit = 0xDEAD;
    CHECK_ST_MSG(CONFKIT_STATUS_UNKNOWN_PERMISSION, "join",
                 confkit_permission_from_name(STR("join"), &bit, ERR));
    CHECK_ST(CONFKIT_STATUS_UNKNOWN_PERMISSION, confkit_permission_from_name(STR(""), &bit, ERR));
    CHECK_ST(CONFKIT_STATUS_UNKNOWN_PERMISSION,
             confkit_permission_from_name(STR("JOIN "), &bit, ERR));
    CHECK_ST(CONFKIT_STATUS_UNKNOWN_PERMISSION, confkit_permission_from_name(NULL, 0, &bit, ERR));
    NULLARG(confkit_permission_from_name(NULL, 4, &bit, ERR));
    NULLARG(confkit_permission_from_name(STR("JOIN"), NULL, ERR));
    BADUTF8(confkit_permission_from_name(BAD, &bit, ERR));
    CHECK_EQ_U64(bit, 0xDEAD);

    /* Participant status names <-> codes; CONNECTED is another name of ON_AIR. */
    static const char *const statuses_p[9] = {"RESERVED", "CONNECTING", "ON_AIR",
                                              "INACTIVE", "DECLINE",    "LEFT",
                                              "KICKED",   "WARNING",    "ERROR"};
    const int32_t codes[9] = {
        CONFKIT_PARTICIPANT_STATUS_RESERVED, CONFKIT_PARTICIPANT_STATUS_CONNECTING,
        CONFKIT_PARTICIPANT_STATUS_ON_AIR,   CONFKIT_PARTICIPANT_STATUS_INACTIVE,
        CONFKIT_PARTICIPANT_STATUS_DECLINE,  CONFKIT_PARTICIPANT_STATUS_LEFT,
        CONFKIT_PARTICIPANT_STATUS_KICKED,   CONFKIT_PARTICIPANT_STATUS_WARNING,
        CONFKIT_PARTICIPANT_STATUS_ERROR,
    };
    for (int32_t i = 0; i < 9; i++) {
        CHECK_EQ_I64(codes[i], i);
        CHECK_STREQ(confkit_participant_status_name(codes[i]), statuses_p[i]);
        int32_t back = -77;
        CHECK_OK(confkit_participant_status_from_name(SV(statuses_p[i]), &back, ERR));
        CHECK_EQ_I64(back, codes[i]);
    }
    int32_t st = -77;
    CHECK_OK(confkit_participant_status_from_name(STR("CONNECTED"), &st, ERR));
    CHECK_EQ_I64(st, CONFKIT_PARTICIPANT_STATUS_ON_AIR);
    CHECK(confkit_participant_status_name(-1) == NULL);
    CHECK(confkit_participant_status_name(9) == NULL);
    CHECK(confkit_participant_status_name(INT32_MIN) == NULL);
    CHECK(confkit_participant_status_name(INT32_MAX) == NULL);
    st = -77;
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_participant_status_from_name(STR("on_air"), &st, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_participant_status_from_name(STR("FOO"), &st, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_participant_status_from_name(NULL, 0, &st, ERR));
    NULLARG(confkit_participant_status_from_name(NULL, 6, &st, ERR));
    NULLARG(confkit_participant_status_from_name(STR("ON_AIR"), NULL, ERR));
    BADUTF8(confkit_participant_status_from_name(BAD, &st, ERR));
    CHECK_EQ_I64(st, -77);
}

static void errors_and_panics(void) {
    /* Error accessors and frees with NULL. */
    CHECK_EQ_I64(confkit_error_code(NULL), CONFKIT_STATUS_NULL_ARGUMENT);
    CHECK_STREQ(confkit_error_message(NULL), "");
    confkit_error_free(NULL);
    confkit_buffer_free((confkit_buffer){NULL, 0});
    confkit_buffer_free((confkit_buffer){NULL, 5});

    /* The panic guard: a status and an error object, never an unwind. */
    const int64_t live = confkit_live_objects();
    CHECK_ST_MSG(CONFKIT_STATUS_PANIC, "confkit_test_panic called", confkit_test_panic(ERR));
    CHECK_EQ_I64(confkit_test_panic(NULL), CONFKIT_STATUS_PANIC);
    confkit_error *e = NULL;
    CHECK_EQ_I64(confkit_test_panic(&e), CONFKIT_STATUS_PANIC);
    CHECK(e != NULL);
    CHECK_EQ_I64(confkit_error_code(e), CONFKIT_STATUS_PANIC);
    CHECK_CONTAINS(confkit_error_message(e), "panic");
    CHECK_EQ_I64(confkit_live_objects(), live + 1);
    confkit_error_free(e);
    CHECK_EQ_I64(confkit_live_objects(), live);
    /* Still usable afterwards. */
    CHECK_EQ_U64(confkit_abi_version(), CONFKIT_ABI_VERSION);

    /* Failures with error_out NULL still report the status and leak nothing. */
    uint32_t bit = 0;
    CHECK_EQ_I64(confkit_permission_from_name(STR("nope"), &bit, NULL),
                 CONFKIT_STATUS_UNKNOWN_PERMISSION);
    CHECK_EQ_I64(confkit_clock_new(0, NULL, NULL), CONFKIT_STATUS_NULL_ARGUMENT);
    CHECK_EQ_I64(confkit_live_objects(), live);

    /* On success error_out is left alone, whatever it holds. */
    confkit_error *untouched = SENT(confkit_error);
    CHECK_EQ_I64(confkit_permission_from_name(STR("JOIN"), &bit, &untouched), CONFKIT_STATUS_OK);
    CHECK(untouched == SENT(confkit_error));
}

static void clocks_and_platforms(void) {
    confkit_clock *clock = SENT(confkit_clock);
    NULLARG(confkit_clock_new(T0, NULL, ERR));
    NULLARG(confkit_clock_set(NULL, T0, ERR));
    NULLARG(confkit_clock_advance(NULL, 1, ERR));
    CHECK_EQ_U64(confkit_clock_now(NULL), 0);
    confkit_clock_free(NULL);
    CHECK_OK(confkit_clock_new(T0, &clock, ERR));
    CHECK_OK(confkit_clock_advance(clock, UINT64_MAX, ERR)); /* saturates */
    CHECK_EQ_U64(confkit_clock_now(clock), UINT64_MAX);
    CHECK_OK(confkit_clock_set(clock, T0, ERR));
    CHECK_EQ_U64(confkit_clock_now(clock), T0);

    confkit_platform *p = SENT(confkit_platform);
    uint8_t seed[32] = {0};
    NULLARG(confkit_platform_new(seed, NULL, 2, &p, ERR));
    NULLARG(confkit_platform_new(seed, STR("k1"), NULL, ERR));
    BADUTF8(confkit_platform_new(seed, BAD, &p, ERR));
    CHECK_ST(CONFKIT_STATUS_KEY_INVALID, confkit_platform_new(seed, NULL, 0, &p, ERR));
    CHECK_ST(CONFKIT_STATUS_KEY_INVALID, confkit_platform_new(NULL, STR("k\n1"), &p, ERR));
    char *kid = repeat('k', 129);
    CHECK_ST_MSG(CONFKIT_STATUS_KEY_INVALID, "128",
                 confkit_platform_new(seed, SV(kid), &p, ERR));
    NULLARG(confkit_platform_new_with(seed, NULL, 2, clock, NULL, &p, ERR));
    NULLARG(confkit_platform_new_with(seed, STR("k1"), clock, NULL, NULL, ERR));
    BADUTF8(confkit_platform_new_with(seed, BAD, clock, NULL, &p, ERR));
    CHECK_ST(CONFKIT_STATUS_KEY_INVALID,
             confkit_platform_new_with(NULL, SV(kid), NULL, NULL, &p, ERR));
    CHECK(p == SENT(confkit_platform));
    kid[128] = '\0'; /* exactly 128 bytes is fine */
    CHECK_OK(confkit_platform_new(seed, SV(kid), &p, ERR));
    confkit_platform_free(p);
    free(kid);
    /* Optional arguments: no seed (a key is generated), no clock, no options. */
    CHECK_OK(confkit_platform_new_with(NULL, STR("k1"), NULL, NULL, &p, ERR));
    confkit_platform_free(p);
    confkit_platform_free(NULL);
    confkit_clock_free(clock);
}

int main(void) {
    names();
    errors_and_panics();
    clocks_and_platforms();

    /* ---- fixtures --------------------------------------------------------- */
    confkit_clock *clock = NULL;
    CHECK_OK(confkit_clock_new(T0, &clock, ERR));
    uint8_t seed[32];
    memset(seed, 3, sizeof seed);
    confkit_platform *p = NULL;
    CHECK_OK(confkit_platform_new_with(seed, STR("k1"), clock, NULL, &p, ERR));
    confkit_session *alice = NULL, *bob = NULL;
    CHECK_OK(confkit_session_open(p, STR("alice"), STR("Alice"), NULL, 0, &alice, ERR));
    CHECK_OK(confkit_session_open(p, STR("bob"), STR("Bob"), NULL, 0, &bob, ERR));
    confkit_conference_options prot = {0};
    prot.is_protected = true;
    confkit_conference_info *info = NULL;
    confkit_buffer owner = {0};
    CHECK_OK(confkit_conference_create(alice, STR("Misuse"), &prot, &info, &owner, ERR));
    char *conf = dup_str(confkit_conference_info_id(info));
    confkit_conference_info_free(info);
    char *owner_token = buffer_to_cstr(owner);
    confkit_buffer_free(owner);
    CHECK_OK(confkit_conference_join(alice, SV(conf), SV(owner_token), NULL, ERR));
    const int64_t base_live = confkit_live_objects();
    char *long_ext = repeat('x', 300);
    char *max_ext = repeat('x', 256);
    char *big_token = repeat('A', 5000);

    /* ---- sessions --------------------------------------------------------- */
    confkit_session *s = SENT(confkit_session);
    NULLARG(confkit_session_open(NULL, STR("u"), STR("U"), NULL, 0, &s, ERR));
    NULLARG(confkit_session_open(p, NULL, 1, STR("U"), NULL, 0, &s, ERR));
    NULLARG(confkit_session_open(p, STR("u"), NULL, 1, NULL, 0, &s, ERR));
    NULLARG(confkit_session_open(p, STR("u"), STR("U"), NULL, 0, NULL, ERR));
    BADUTF8(confkit_session_open(p, BAD, STR("U"), NULL, 0, &s, ERR));
    BADUTF8(confkit_session_open(p, STR("u"), BAD, NULL, 0, &s, ERR));
    BADUTF8(confkit_session_open(p, STR("u"), STR("U"), BAD, &s, ERR));
    CHECK_ST_MSG(CONFKIT_STATUS_INVALID_ARGUMENT, "256",
                 confkit_session_open(p, SV(long_ext), STR("U"), NULL, 0, &s, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_session_open(p, STR(""), STR("U"), NULL, 0, &s, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_session_open(p, NULL, 0, STR("U"), NULL, 0, &s, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_session_open(p, STR("a\nb"), STR("U"), NULL, 0, &s, ERR));
    char *long_name = repeat('n', 1025);
    char *long_url = repeat('u', 2049);
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_session_open(p, STR("u"), SV(long_name), NULL, 0, &s, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_session_open(p, STR("u"), STR("U"), SV(long_url), &s, ERR));
    free(long_name);
    free(long_url);
    CHECK(s == SENT(confkit_session));
    CHECK_EQ_I64(confkit_live_objects(), base_live);
    /* 256 bytes is the largest external ID; a NULL avatar (any length) is none;
     * a NULL name with length 0 is the empty name. */
    CHECK_OK(confkit_session_open(p, SV(max_ext), NULL, 0, NULL, 99, &s, ERR));
    confkit_session_free(s);

    size_t count = 4242;
    confkit_event *ev = SENT(confkit_event);
    CHECK_EQ_U64(confkit_session_id(NULL), 0);
    NULLARG(confkit_session_close(NULL, ERR));
    confkit_session_free(NULL);
    NULLARG(confkit_session_next_event(NULL, &ev, ERR));
    NULLARG(confkit_session_next_event(bob, NULL, ERR));
    NULLARG(confkit_session_pending_events(NULL, &count, ERR));
    NULLARG(confkit_session_pending_events(bob, NULL, ERR));
    CHECK(ev == SENT(confkit_event));
    CHECK_EQ_U64(count, 4242);
    NULLARG(confkit_session_set_listener(NULL, never_called, &releases, count_release, ERR));
    CHECK_EQ_I64(releases, 0);

    /* Event getters with NULL. */
    CHECK_EQ_I64(confkit_event_kind(NULL), 0);
    CHECK_STREQ(confkit_event_type(NULL), "UNKNOWN");
    CHECK_EQ_U64(confkit_event_sequence(NULL), 0);
    CHECK(confkit_event_conference_id(NULL) == NULL);
    CHECK(confkit_event_json(NULL) == NULL);
    CHECK(confkit_event_external_id(NULL) == NULL);
    CHECK(confkit_event_conference_alias(NULL) == NULL);
    CHECK(confkit_event_token(NULL) == NULL);
    CHECK_EQ_I64(confkit_event_old_status(NULL), -1);
    CHECK_EQ_I64(confkit_event_new_status(NULL), -1);
    CHECK_EQ_U64(confkit_event_permissions(NULL), 0);
    CHECK_EQ_U64(confkit_event_token_expires_at(NULL), 0);
    CHECK_EQ_U64(confkit_event_first_available_sequence(NULL), 0);
    confkit_event_free(NULL);
    /* The kinds are stable; the two ABI 2 getters answer 0 for an event of
     * another kind (here Alice's conference created). */
    CHECK_EQ_I64(CONFKIT_EVENT_PARTICIPANT_REMOVED, 8);
    CHECK_EQ_I64(CONFKIT_EVENT_TOKEN_REFRESHED, 9);
    CHECK_EQ_I64(CONFKIT_EVENT_EVENTS_MISSED, 10);
    CHECK_OK(confkit_session_next_event(alice, &ev, ERR));
    CHECK(ev != NULL && ev != SENT(confkit_event));
    CHECK_EQ_I64(confkit_event_kind(ev), CONFKIT_EVENT_CONFERENCE_CREATED);
    CHECK(confkit_event_conference_id(ev) != NULL);
    CHECK_EQ_U64(confkit_event_token_expires_at(ev), 0);
    CHECK_EQ_U64(confkit_event_first_available_sequence(ev), 0);
    confkit_event_free(ev);
    CHECK_OK(confkit_session_next_event(alice, &ev, ERR));
    CHECK(ev != NULL);
    CHECK_EQ_I64(confkit_event_kind(ev), CONFKIT_EVENT_PARTICIPANT_UPDATED);
    CHECK_EQ_U64(confkit_event_token_expires_at(ev), 0);
    CHECK_EQ_U64(confkit_event_first_available_sequence(ev), 0);
    confkit_event_free(ev);
    ev = SENT(confkit_event);

    /* ---- conferences ------------------------------------------------------ */
    info = SENT(confkit_conference_info);
    confkit_buffer tok = {(uint8_t *)&sentinel_obj, 1};
    NULLARG(confkit_conference_create(NULL, STR("x"), NULL, &info, &tok, ERR));
    NULLARG(confkit_conference_create(bob, NULL, 1, NULL, &info, &tok, ERR));
    NULLARG(confkit_conference_create(bob, STR("Never"), NULL, NULL, &tok, ERR));
    BADUTF8(confkit_conference_create(bob, BAD, NULL, &info, &tok, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_conference_create(bob, STR(""), NULL, &info, &tok, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_conference_create(bob, NULL, 0, NULL, &info, &tok, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_conference_create(bob, STR("a#b"), NULL, &info, &tok, ERR));
    char *long_alias = repeat('a', 251);
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_conference_create(bob, SV(long_alias), NULL, &info, &tok, ERR));
    free(long_alias);
    CHECK(info == SENT(confkit_conference_info));
    CHECK(tok.data == (uint8_t *)&sentinel_obj && tok.len == 1);
    /* Nothing was created by the refused calls. */
    CHECK_ST(CONFKIT_STATUS_CONFERENCE_NOT_FOUND,
             confkit_conference_fetch(bob, NULL, 0, STR("Never"), &info, ERR));

    NULLARG(confkit_conference_fetch(NULL, SV(conf), NULL, 0, &info, ERR));
    NULLARG(confkit_conference_fetch(bob, SV(conf), NULL, 0, NULL, ERR));
    NULLARG(confkit_conference_fetch(bob, NULL, 0, NULL, 0, &info, ERR));
    BADUTF8(confkit_conference_fetch(bob, BAD, NULL, 0, &info, ERR));
    BADUTF8(confkit_conference_fetch(bob, NULL, 0, BAD, &info, ERR));
    CHECK_ST(CONFKIT_STATUS_CONFERENCE_NOT_FOUND,
             confkit_conference_fetch(bob, STR(UNKNOWN_CONF), NULL, 0, &info, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_conference_fetch(bob, STR("nope"), NULL, 0, &info, ERR));
    CHECK_ST(CONFKIT_STATUS_CONFERENCE_NOT_FOUND,
             confkit_conference_fetch(bob, NULL, 0, STR("no such alias"), &info, ERR));
    CHECK(info == SENT(confkit_conference_info));

    CHECK(confkit_conference_info_id(NULL) == NULL);
    CHECK(confkit_conference_info_alias(NULL) == NULL);
    CHECK(confkit_conference_info_owner(NULL) == NULL);
    CHECK(!confkit_conference_info_is_new(NULL));
    CHECK(!confkit_conference_info_is_protected(NULL));
    CHECK_EQ_U64(confkit_conference_info_participant_count(NULL), 0);
    CHECK_EQ_U64(confkit_conference_info_present_count(NULL), 0);
    confkit_conference_info_free(NULL);

    /* join / listen */
    uint32_t perms = 0xDEADBEEF;
    NULLARG(confkit_conference_join(NULL, SV(conf), NULL, 0, &perms, ERR));
    NULLARG(confkit_conference_join(bob, NULL, 36, NULL, 0, &perms, ERR));
    NULLARG(confkit_conference_listen(NULL, SV(conf), NULL, 0, &perms, ERR));
    NULLARG(confkit_conference_listen(bob, NULL, 36, NULL, 0, &perms, ERR));
    BADUTF8(confkit_conference_join(bob, BAD, NULL, 0, &perms, ERR));
    BADUTF8(confkit_conference_join(bob, SV(conf), BAD, &perms, ERR));
    BADUTF8(confkit_conference_listen(bob, BAD, NULL, 0, &perms, ERR));
    BADUTF8(confkit_conference_listen(bob, SV(conf), BAD, &perms, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_conference_join(bob, NULL, 0, NULL, 0, &perms, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_conference_join(bob, STR("nope"), NULL, 0, &perms, ERR));
    CHECK_ST(CONFKIT_STATUS_CONFERENCE_NOT_FOUND,
             confkit_conference_join(bob, STR(UNKNOWN_CONF), NULL, 0, &perms, ERR));
    CHECK_ST(CONFKIT_STATUS_CONFERENCE_NOT_FOUND,
             confkit_conference_listen(bob, STR(UNKNOWN_CONF), NULL, 0, &perms, ERR));
    /* A NULL token (whatever the length) is "no token": a protected conference refuses. */
    CHECK_ST(CONFKIT_STATUS_TOKEN_INVALID,
             confkit_conference_join(bob, SV(conf), NULL, 12, &perms, ERR));
    CHECK_ST(CONFKIT_STATUS_TOKEN_INVALID,
             confkit_conference_join(bob, SV(conf), STR(""), &perms, ERR));
    CHECK_ST_MSG(CONFKIT_STATUS_TOKEN_INVALID, "4096",
                 confkit_conference_join(bob, SV(conf), SV(big_token), &perms, ERR));
    CHECK_ST_MSG(CONFKIT_STATUS_TOKEN_INVALID, "4096",
                 confkit_conference_listen(bob, SV(conf), SV(big_token), &perms, ERR));
    CHECK_EQ_U64(perms, 0xDEADBEEF);

    /* report / leave / decline / terminate */
    int32_t st = -77;
    NULLARG(confkit_conference_report(NULL, SV(conf), CONFKIT_REPORT_CONNECTED, &st, ERR));
    NULLARG(confkit_conference_report(alice, NULL, 36, CONFKIT_REPORT_CONNECTED, &st, ERR));
    BADUTF8(confkit_conference_report(alice, BAD, CONFKIT_REPORT_CONNECTED, &st, ERR));
    const int32_t bad_reports[] = {-1, 0, 1, 7, 8, 99, INT32_MIN};
    for (size_t i = 0; i < sizeof bad_reports / sizeof bad_reports[0]; i++) {
        CHECK_ST_MSG(CONFKIT_STATUS_INVALID_ARGUMENT, "CONFKIT_REPORT_",
                     confkit_conference_report(alice, SV(conf), bad_reports[i], &st, ERR));
    }
    CHECK_ST(CONFKIT_STATUS_NOT_IN_CONFERENCE,
             confkit_conference_report(bob, SV(conf), CONFKIT_REPORT_CONNECTED, &st, ERR));
    CHECK_ST(CONFKIT_STATUS_CONFERENCE_NOT_FOUND,
             confkit_conference_report(alice, STR(UNKNOWN_CONF), CONFKIT_REPORT_CONNECTED, &st,
                                       ERR));
    CHECK_EQ_I64(st, -77);

    NULLARG(confkit_conference_leave(NULL, SV(conf), ERR));
    NULLARG(confkit_conference_leave(bob, NULL, 36, ERR));
    BADUTF8(confkit_conference_leave(bob, BAD, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT, confkit_conference_leave(bob, STR("nope"), ERR));
    CHECK_ST(CONFKIT_STATUS_CONFERENCE_NOT_FOUND,
             confkit_conference_leave(bob, STR(UNKNOWN_CONF), ERR));
    CHECK_ST(CONFKIT_STATUS_NOT_IN_CONFERENCE, confkit_conference_leave(bob, SV(conf), ERR));

    NULLARG(confkit_conference_decline(NULL, SV(conf), ERR));
    NULLARG(confkit_conference_decline(bob, NULL, 36, ERR));
    BADUTF8(confkit_conference_decline(bob, BAD, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT, confkit_conference_decline(bob, STR("nope"), ERR));
    CHECK_ST(CONFKIT_STATUS_CONFERENCE_NOT_FOUND,
             confkit_conference_decline(bob, STR(UNKNOWN_CONF), ERR));
    CHECK_ST(CONFKIT_STATUS_PARTICIPANT_NOT_FOUND, confkit_conference_decline(bob, SV(conf), ERR));

    NULLARG(confkit_conference_terminate(NULL, SV(conf), ERR));
    NULLARG(confkit_conference_terminate(alice, NULL, 36, ERR));
    BADUTF8(confkit_conference_terminate(alice, BAD, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_conference_terminate(alice, STR("nope"), ERR));
    CHECK_ST(CONFKIT_STATUS_CONFERENCE_NOT_FOUND,
             confkit_conference_terminate(alice, STR(UNKNOWN_CONF), ERR));

    /* kick / update_permissions */
    NULLARG(confkit_conference_kick(NULL, SV(conf), STR("bob"), ERR));
    NULLARG(confkit_conference_kick(alice, NULL, 36, STR("bob"), ERR));
    NULLARG(confkit_conference_kick(alice, SV(conf), NULL, 3, ERR));
    BADUTF8(confkit_conference_kick(alice, BAD, STR("bob"), ERR));
    BADUTF8(confkit_conference_kick(alice, SV(conf), BAD, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_conference_kick(alice, SV(conf), SV(long_ext), ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT, confkit_conference_kick(alice, SV(conf), STR(""), ERR));
    CHECK_ST(CONFKIT_STATUS_CONFERENCE_NOT_FOUND,
             confkit_conference_kick(alice, STR(UNKNOWN_CONF), STR("bob"), ERR));
    CHECK_ST(CONFKIT_STATUS_PARTICIPANT_NOT_FOUND,
             confkit_conference_kick(alice, SV(conf), STR("bob"), ERR));

    NULLARG(confkit_conference_update_permissions(NULL, SV(conf), STR("bob"), 2, ERR));
    NULLARG(confkit_conference_update_permissions(alice, NULL, 36, STR("bob"), 2, ERR));
    NULLARG(confkit_conference_update_permissions(alice, SV(conf), NULL, 3, 2, ERR));
    BADUTF8(confkit_conference_update_permissions(alice, BAD, STR("bob"), 2, ERR));
    BADUTF8(confkit_conference_update_permissions(alice, SV(conf), BAD, 2, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_conference_update_permissions(alice, SV(conf), SV(long_ext), 2, ERR));
    CHECK_ST(CONFKIT_STATUS_UNKNOWN_PERMISSION,
             confkit_conference_update_permissions(alice, SV(conf), STR("bob"), 0xFFFFFFFFu, ERR));
    CHECK_ST(CONFKIT_STATUS_PARTICIPANT_NOT_FOUND,
             confkit_conference_update_permissions(alice, SV(conf), STR("bob"), 2, ERR));
    /* Nobody updates their own permissions (the owner neither). */
    CHECK_ST(CONFKIT_STATUS_NOT_ALLOWED,
             confkit_conference_update_permissions(alice, SV(conf), STR("alice"), 2, ERR));

    /* invite lists and invitations */
    confkit_invite_list *list = SENT(confkit_invite_list);
    NULLARG(confkit_invite_list_new(NULL, ERR));
    CHECK(list == SENT(confkit_invite_list));
    CHECK_OK(confkit_invite_list_new(&list, ERR));
    NULLARG(confkit_invite_list_add(NULL, STR("bob"), false, 0, ERR));
    NULLARG(confkit_invite_list_add(list, NULL, 3, false, 0, ERR));
    BADUTF8(confkit_invite_list_add(list, BAD, false, 0, ERR));
    CHECK_ST_MSG(CONFKIT_STATUS_INVALID_ARGUMENT, "256",
                 confkit_invite_list_add(list, SV(long_ext), false, 0, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT, confkit_invite_list_add(list, STR(""), false, 0, ERR));
    CHECK_ST(CONFKIT_STATUS_UNKNOWN_PERMISSION,
             confkit_invite_list_add(list, STR("bob"), true, 1u << 12, ERR));
    confkit_invite_list_free(NULL);

    confkit_invite_results *res = SENT(confkit_invite_results);
    NULLARG(confkit_conference_invite(NULL, SV(conf), list, &res, ERR));
    NULLARG(confkit_conference_invite(alice, NULL, 36, list, &res, ERR));
    NULLARG(confkit_conference_invite(alice, SV(conf), NULL, &res, ERR));
    NULLARG(confkit_conference_invite(alice, SV(conf), list, NULL, ERR));
    BADUTF8(confkit_conference_invite(alice, BAD, list, &res, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_conference_invite(alice, STR("nope"), list, &res, ERR));
    CHECK_ST(CONFKIT_STATUS_CONFERENCE_NOT_FOUND,
             confkit_conference_invite(alice, STR(UNKNOWN_CONF), list, &res, ERR));
    /* Invalid bits are ignored when has_permissions is false (the default set). */
    CHECK_OK(confkit_invite_list_add(list, STR("bob"), false, 0xFFFFFFFFu, ERR));
    CHECK_OK(confkit_invite_list_add(list, STR("bob"), false, 0, ERR));
    size_t alice_pending = 0, before = 0;
    CHECK_OK(confkit_session_pending_events(alice, &before, ERR));
    CHECK_ST_MSG(CONFKIT_STATUS_INVALID_ARGUMENT, "twice",
                 confkit_conference_invite(alice, SV(conf), list, &res, ERR));
    CHECK(res == SENT(confkit_invite_results));
    /* All or nothing: nobody was invited, nothing was sent. */
    CHECK_OK(confkit_session_pending_events(alice, &alice_pending, ERR));
    CHECK_EQ_U64(alice_pending, before);
    CHECK_OK(confkit_session_pending_events(bob, &count, ERR));
    CHECK_EQ_U64(count, 0);
    confkit_invite_list_free(list);
    /* An empty list invites nobody. */
    CHECK_OK(confkit_invite_list_new(&list, ERR));
    CHECK_OK(confkit_conference_invite(alice, SV(conf), list, &res, ERR));
    CHECK_EQ_U64(confkit_invite_results_len(res), 0);
    CHECK(confkit_invite_results_external_id(res, 0) == NULL);
    confkit_invite_results_free(res);
    confkit_invite_list_free(list);

    CHECK_EQ_U64(confkit_invite_results_len(NULL), 0);
    CHECK(confkit_invite_results_external_id(NULL, 0) == NULL);
    CHECK_EQ_I64(confkit_invite_results_delivery(NULL, 0), -1);
    CHECK_EQ_U64(confkit_invite_results_sessions(NULL, 0), 0);
    CHECK_EQ_U64(confkit_invite_results_permissions(NULL, 0), 0);
    CHECK_EQ_I64(confkit_invite_results_delivery(NULL, SIZE_MAX), -1);
    CHECK_EQ_U64(confkit_invite_results_permissions(NULL, SIZE_MAX), 0);
    confkit_invite_results_free(NULL);

    /* ---- platform --------------------------------------------------------- */
    uint16_t http = 0xBEEF;
    confkit_buffer body = {(uint8_t *)&sentinel_obj, 1};
    NULLARG(confkit_platform_handle_rest(NULL, STR("GET"), STR("/.well-known/jwks.json"), NULL, 0,
                                         &http, &body, ERR));
    NULLARG(confkit_platform_handle_rest(p, NULL, 3, STR("/.well-known/jwks.json"), NULL, 0, &http,
                                         &body, ERR));
    NULLARG(confkit_platform_handle_rest(p, STR("GET"), NULL, 5, NULL, 0, &http, &body, ERR));
    NULLARG(confkit_platform_handle_rest(p, STR("POST"), STR("/v2/conferences/create"), NULL, 2,
                                         &http, &body, ERR));
    NULLARG(confkit_platform_handle_rest(p, STR("GET"), STR("/.well-known/jwks.json"), NULL, 0,
                                         NULL, &body, ERR));
    NULLARG(confkit_platform_handle_rest(p, STR("GET"), STR("/.well-known/jwks.json"), NULL, 0,
                                         &http, NULL, ERR));
    BADUTF8(confkit_platform_handle_rest(p, BAD, STR("/.well-known/jwks.json"), NULL, 0, &http,
                                         &body, ERR));
    BADUTF8(confkit_platform_handle_rest(p, STR("GET"), BAD, NULL, 0, &http, &body, ERR));
    CHECK_EQ_U64(http, 0xBEEF);
    CHECK(body.data == (uint8_t *)&sentinel_obj && body.len == 1);
    /* A body that is not UTF-8 is an HTTP answer (400), not a C failure. */
    CHECK_OK(confkit_platform_handle_rest(p, STR("POST"), STR("/v2/conferences/create"), BAD,
                                          &http, &body, ERR));
    CHECK_EQ_U64(http, 400);
    confkit_buffer_free(body);
    /* Over 16 MiB: 413 with an error body. */
    const size_t huge_len = 16u * 1024 * 1024 + 1;
    uint8_t *huge = malloc(huge_len);
    CHECK(huge != NULL);
    memset(huge, ' ', huge_len);
    CHECK_OK(confkit_platform_handle_rest(p, STR("POST"), STR("/v2/conferences/create"), huge,
                                          huge_len, &http, &body, ERR));
    free(huge);
    CHECK_EQ_U64(http, 413);
    char *text = buffer_to_cstr(body);
    confkit_buffer_free(body);
    CHECK_CONTAINS(text, "\"error_code\":17");
    CHECK_CONTAINS(text, "\"error_reason\":\"TOO_LARGE\"");
    CHECK_CONTAINS(text, "\"error_description\":\"");
    free(text);

    confkit_buffer jwks = {(uint8_t *)&sentinel_obj, 1};
    NULLARG(confkit_platform_jwks(NULL, &jwks, ERR));
    NULLARG(confkit_platform_jwks(p, NULL, ERR));
    CHECK(jwks.data == (uint8_t *)&sentinel_obj && jwks.len == 1);
    count = 4242;
    NULLARG(confkit_platform_expire_conferences(NULL, &count, ERR));
    CHECK_EQ_U64(count, 4242);

    /* ---- verifiers -------------------------------------------------------- */
    CHECK_OK(confkit_platform_jwks(p, &jwks, ERR));
    confkit_verifier *v = SENT(confkit_verifier);
    NULLARG(confkit_verifier_from_jwks(NULL, 5, &v, ERR));
    NULLARG(confkit_verifier_from_jwks(jwks.data, jwks.len, NULL, ERR));
    BADUTF8(confkit_verifier_from_jwks(BAD, &v, ERR));
    uint8_t key[32] = {0};
    NULLARG(confkit_verifier_from_public_key(NULL, 2, key, &v, ERR));
    NULLARG(confkit_verifier_from_public_key(STR("k1"), NULL, &v, ERR));
    NULLARG(confkit_verifier_from_public_key(STR("k1"), key, NULL, ERR));
    BADUTF8(confkit_verifier_from_public_key(BAD, key, &v, ERR));
    CHECK(v == SENT(confkit_verifier));
    CHECK_OK(confkit_verifier_from_jwks(jwks.data, jwks.len, &v, ERR));
    confkit_buffer_free(jwks);

    confkit_claims *claims = SENT(confkit_claims);
    NULLARG(confkit_verifier_verify(NULL, SV(owner_token), T0, SV(conf), 60, &claims, ERR));
    NULLARG(confkit_verifier_verify(v, NULL, 5, T0, SV(conf), 60, &claims, ERR));
    NULLARG(confkit_verifier_verify(v, SV(owner_token), T0, SV(conf), 60, NULL, ERR));
    BADUTF8(confkit_verifier_verify(v, BAD, T0, SV(conf), 60, &claims, ERR));
    BADUTF8(confkit_verifier_verify(v, SV(owner_token), T0, BAD, 60, &claims, ERR));
    CHECK_ST(CONFKIT_STATUS_INVALID_ARGUMENT,
             confkit_verifier_verify(v, SV(owner_token), T0, STR("nope"), 60, &claims, ERR));
    CHECK_ST_MSG(CONFKIT_STATUS_TOKEN_INVALID, "cap",
                 confkit_verifier_verify(v, SV(big_token), T0, SV(conf), 60, &claims, ERR));
    /* The token's UTF-8 is checked only when a call fails, but a token that
     * is not UTF-8 is still the error reported first, before the conference
     * ID's and claims_out's. */
    CHECK_ST_MSG(CONFKIT_STATUS_INVALID_UTF8, "token is not UTF-8",
                 confkit_verifier_verify(v, BAD, T0, BAD, 60, &claims, ERR));
    CHECK_ST_MSG(CONFKIT_STATUS_INVALID_UTF8, "token is not UTF-8",
                 confkit_verifier_verify(v, BAD, T0, STR("nope"), 60, &claims, ERR));
    CHECK_ST_MSG(CONFKIT_STATUS_INVALID_UTF8, "token is not UTF-8",
                 confkit_verifier_verify(v, BAD, T0, SV(conf), 60, NULL, ERR));
    {
        /* A good token with one byte more: not UTF-8 (0x80), or UTF-8 that
         * is not base64url ("é"). Neither verifies. */
        size_t n = strlen(owner_token);
        char *t = malloc(n + 3);
        CHECK(t != NULL);
        memcpy(t, owner_token, n);
        t[n] = (char)0x80;
        CHECK_ST_MSG(CONFKIT_STATUS_INVALID_UTF8, "token is not UTF-8",
                     confkit_verifier_verify(v, (const uint8_t *)t, n + 1, T0, SV(conf), 60,
                                             &claims, ERR));
        t[n] = (char)0xc3;
        t[n + 1] = (char)0xa9;
        CHECK_ST(CONFKIT_STATUS_TOKEN_INVALID,
                 confkit_verifier_verify(v, (const uint8_t *)t, n + 2, T0, SV(conf), 60, &claims,
                                         ERR));
        /* The same bytes in the middle of the signature. */
        memcpy(t, owner_token, n);
        t[n - 4] = (char)0xc3;
        t[n - 3] = (char)0xa9;
        CHECK_ST(CONFKIT_STATUS_TOKEN_INVALID,
                 confkit_verifier_verify(v, (const uint8_t *)t, n, T0, SV(conf), 60, &claims,
                                         ERR));
        free(t);
    }
    CHECK(claims == SENT(confkit_claims));
    /* A NULL conference ID (whatever the length) means any conference. */
    CHECK_OK(confkit_verifier_verify(v, SV(owner_token), T0, NULL, 7, 60, &claims, ERR));
    confkit_claims_free(claims);
    confkit_verifier_free(v);
    confkit_verifier_free(NULL);

    CHECK(confkit_claims_subject(NULL) == NULL);
    CHECK(confkit_claims_conference_id(NULL) == NULL);
    CHECK(confkit_claims_issuer(NULL) == NULL);
    CHECK(confkit_claims_token_id(NULL) == NULL);
    CHECK_EQ_U64(confkit_claims_permissions(NULL), 0);
    CHECK_EQ_U64(confkit_claims_issued_at(NULL), 0);
    CHECK_EQ_U64(confkit_claims_not_before(NULL), 0);
    CHECK_EQ_U64(confkit_claims_expires_at(NULL), 0);
    confkit_claims_free(NULL);

    /* ---- after close ------------------------------------------------------ */
    const uint64_t bob_id = confkit_session_id(bob);
    CHECK_OK(confkit_session_set_listener(bob, never_called, &releases, count_release, ERR));
    CHECK_OK(confkit_session_close(bob, ERR));
    CHECK_EQ_I64(releases, 1);
    CHECK_EQ_U64(confkit_session_id(bob), bob_id);
#define CLOSED(call) CHECK_ST(CONFKIT_STATUS_SESSION_NOT_FOUND, call)
    CLOSED(confkit_session_close(bob, ERR));
    CHECK_EQ_I64(confkit_session_close(bob, NULL), CONFKIT_STATUS_SESSION_NOT_FOUND);
    ev = SENT(confkit_event);
    count = 4242;
    CLOSED(confkit_session_next_event(bob, &ev, ERR));
    CLOSED(confkit_session_pending_events(bob, &count, ERR));
    CHECK(ev == SENT(confkit_event));
    CHECK_EQ_U64(count, 4242);
    CLOSED(confkit_session_set_listener(bob, never_called, &releases, count_release, ERR));
    CLOSED(confkit_session_set_listener(bob, NULL, NULL, NULL, ERR));
    CHECK_EQ_I64(releases, 1);
    info = SENT(confkit_conference_info);
    tok = (confkit_buffer){(uint8_t *)&sentinel_obj, 1};
    CLOSED(confkit_conference_create(bob, STR("Closed"), NULL, &info, &tok, ERR));
    CLOSED(confkit_conference_create(bob, STR("Misuse"), NULL, &info, &tok, ERR));
    CLOSED(confkit_conference_fetch(bob, SV(conf), NULL, 0, &info, ERR));
    CLOSED(confkit_conference_fetch(bob, NULL, 0, STR("Misuse"), &info, ERR));
    CHECK(info == SENT(confkit_conference_info));
    CHECK(tok.data == (uint8_t *)&sentinel_obj && tok.len == 1);
    perms = 0xDEADBEEF;
    st = -77;
    CLOSED(confkit_conference_join(bob, SV(conf), SV(owner_token), &perms, ERR));
    CLOSED(confkit_conference_listen(bob, SV(conf), SV(owner_token), &perms, ERR));
    CLOSED(confkit_conference_report(bob, SV(conf), CONFKIT_REPORT_CONNECTED, &st, ERR));
    CLOSED(confkit_conference_leave(bob, SV(conf), ERR));
    CLOSED(confkit_conference_decline(bob, SV(conf), ERR));
    CLOSED(confkit_conference_terminate(bob, SV(conf), ERR));
    CLOSED(confkit_conference_kick(bob, SV(conf), STR("alice"), ERR));
    CLOSED(confkit_conference_update_permissions(bob, SV(conf), STR("alice"), 2, ERR));
    CHECK_OK(confkit_invite_list_new(&list, ERR));
    CHECK_OK(confkit_invite_list_add(list, STR("carol"), false, 0, ERR));
    res = SENT(confkit_invite_results);
    CLOSED(confkit_conference_invite(bob, SV(conf), list, &res, ERR));
    confkit_invite_list_free(list);
    CHECK(res == SENT(confkit_invite_results));
    CHECK_EQ_U64(perms, 0xDEADBEEF);
    CHECK_EQ_I64(st, -77);
    CHECK(tok.data == (uint8_t *)&sentinel_obj && tok.len == 1);
#undef CLOSED
    confkit_session_free(bob); /* free after close is fine */

    /* Nothing of the above left an object behind (Bob's session is gone). */
    CHECK_EQ_I64(confkit_live_objects(), base_live - 1);

    free(long_ext);
    free(max_ext);
    free(big_token);
    free(conf);
    free(owner_token);
    confkit_session_free(alice);
    confkit_platform_free(p);
    confkit_clock_free(clock);
    FINISH("misuse");
    return 0;
}
