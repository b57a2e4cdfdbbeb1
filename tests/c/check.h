/*
 * Tiny assertion helpers shared by the C tests. Every failed check prints
 * file:line and the failing expression, then exits with status 1.
 *
 * Conventions used by the tests:
 *   CHECK_ST(expected_status, call)   -- `call` passes ERR as its error_out;
 *       the status must equal `expected_status`; on failure the error object
 *       must exist and carry the same code (it is then freed); on success
 *       ERR must have been left untouched (NULL).
 *   CHECK_ST_MSG(expected, "needle", call) -- same, and the error message
 *       must contain "needle".
 *   STR("literal") / SV(char_ptr) expand to `pointer, length` for confkit's
 *       pointer + length string arguments.
 */
#ifndef CONFKIT_TEST_CHECK_H
#define CONFKIT_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confkit.h"

/* Pointer + length of a string literal or a NUL-terminated string. */
#define STR(lit) ((const uint8_t *)(lit)), (sizeof(lit) - 1)
#define SV(s) ((const uint8_t *)(s)), (strlen(s))

static confkit_error *g_err;
/* The message of the last error seen by CHECK_ST (copied before freeing). */
static char g_last_message[1024];
#define ERR (&g_err)

static inline void fail_(const char *file, int line, const char *what) {
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    fflush(stderr);
    exit(1);
}

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) fail_(__FILE__, __LINE__, #cond);                     \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                 \
    do {                                                                   \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                   \
        if (a_ != b_) {                                                    \
            fprintf(stderr, "%s:%d: %s == %s: %" PRIu64 " != %" PRIu64 "\n", \
                    __FILE__, __LINE__, #a, #b, a_, b_);                   \
            exit(1);                                                       \
        }                                                                  \
    } while (0)

#define CHECK_EQ_I64(a, b)                                                 \
    do {                                                                   \
        int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                      \
        if (a_ != b_) {                                                    \
            fprintf(stderr, "%s:%d: %s == %s: %" PRId64 " != %" PRId64 "\n", \
                    __FILE__, __LINE__, #a, #b, a_, b_);                   \
            exit(1);                                                       \
        }                                                                  \
    } while (0)

#define CHECK_STREQ(a, b)                                                  \
    do {                                                                   \
        const char *a_ = (a), *b_ = (b);                                   \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {             \
            fprintf(stderr, "%s:%d: %s == %s: \"%s\" != \"%s\"\n",         \
                    __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)",        \
                    b_ ? b_ : "(null)");                                   \
            exit(1);                                                       \
        }                                                                  \
    } while (0)

/* `hay` (NUL-terminated, or NULL) contains `needle`. */
#define CHECK_CONTAINS(hay, needle)                                        \
    do {                                                                   \
        const char *h_ = (hay), *n_ = (needle);                            \
        if (h_ == NULL || strstr(h_, n_) == NULL) {                        \
            fprintf(stderr, "%s:%d: %s contains \"%s\": got \"%s\"\n",     \
                    __FILE__, __LINE__, #hay, n_, h_ ? h_ : "(null)");     \
            exit(1);                                                       \
        }                                                                  \
    } while (0)

static inline void check_status_(const char *file, int line, const char *call,
                                 confkit_status got, confkit_status want,
                                 const char *needle) {
    confkit_error *err = g_err;
    g_err = NULL;
    g_last_message[0] = '\0';
    if (err != NULL) {
        snprintf(g_last_message, sizeof g_last_message, "%s",
                 confkit_error_message(err));
    }
    if (got != want) {
        fprintf(stderr, "%s:%d: %s\n  returned %s (%d), expected %s (%d); error: %s\n",
                file, line, call, confkit_status_name(got), (int)got,
                confkit_status_name(want), (int)want,
                err ? g_last_message : "(no error object)");
        exit(1);
    }
    if (want == CONFKIT_STATUS_OK) {
        if (err != NULL) fail_(file, line, "error_out written on success");
        return;
    }
    if (err == NULL) fail_(file, line, "no error object on failure");
    if (confkit_error_code(err) != got) fail_(file, line, "error code != status");
    if (g_last_message[0] == '\0') fail_(file, line, "empty error message");
    confkit_error_free(err);
    if (needle != NULL && strstr(g_last_message, needle) == NULL) {
        fprintf(stderr, "%s:%d: %s\n  error message \"%s\" lacks \"%s\"\n", file,
                line, call, g_last_message, needle);
        exit(1);
    }
}

#define CHECK_ST(want, call)                                               \
    do {                                                                   \
        g_err = NULL;                                                      \
        confkit_status st_ = (call);                                       \
        check_status_(__FILE__, __LINE__, #call, st_, (want), NULL);       \
    } while (0)

#define CHECK_ST_MSG(want, needle, call)                                   \
    do {                                                                   \
        g_err = NULL;                                                      \
        confkit_status st_ = (call);                                       \
        check_status_(__FILE__, __LINE__, #call, st_, (want), (needle));   \
    } while (0)

#define CHECK_OK(call) CHECK_ST(CONFKIT_STATUS_OK, call)

/* A buffer's bytes as a fresh NUL-terminated string (caller frees). */
static inline char *buffer_to_cstr(confkit_buffer b) {
    char *s = malloc(b.len + 1);
    if (s == NULL) fail_(__FILE__, __LINE__, "malloc");
    if (b.len > 0) memcpy(s, b.data, b.len);
    s[b.len] = '\0';
    return s;
}

/* A copy of `s` (caller frees); NULL stays NULL. */
static inline char *dup_str(const char *s) {
    if (s == NULL) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d == NULL) fail_(__FILE__, __LINE__, "malloc");
    memcpy(d, s, n);
    return d;
}

/* ---- events ---------------------------------------------------------- */

typedef struct {
    int32_t kind;
    uint64_t seq;
    char type[32];
    char conf[40];
    char ext[300];
    char alias[300];
    char token[4200];
    int has_token, has_ext, has_alias, has_conf;
    int32_t old_status, new_status;
    uint32_t perms;
    uint64_t expires_at;      /* confkit_event_token_expires_at */
    uint64_t first_available; /* confkit_event_first_available_sequence */
} ev_rec;

#define EV_FORBIDDEN_MAX 8

typedef struct {
    ev_rec ev[64];
    size_t n;
    uint64_t last_seq; /* sequence of the last event drained from this session */
    /* Tokens this session must never receive: every event drained through
     * this list is checked (token getter and JSON) against each of them. */
    char *forbidden[EV_FORBIDDEN_MAX];
    size_t n_forbidden;
} ev_list;

static inline void copy_field_(char *dst, size_t cap, const char *src, int *has) {
    if (has) *has = src != NULL;
    dst[0] = '\0';
    if (src == NULL) return;
    if (strlen(src) >= cap) fail_(__FILE__, __LINE__, "event field too long for the test");
    memcpy(dst, src, strlen(src) + 1);
}

/* Reads one event into a record (does not free it). */
static inline void record_event_(const confkit_event *e, ev_rec *r) {
    r->kind = confkit_event_kind(e);
    r->seq = confkit_event_sequence(e);
    copy_field_(r->type, sizeof r->type, confkit_event_type(e), NULL);
    copy_field_(r->conf, sizeof r->conf, confkit_event_conference_id(e), &r->has_conf);
    copy_field_(r->ext, sizeof r->ext, confkit_event_external_id(e), &r->has_ext);
    copy_field_(r->alias, sizeof r->alias, confkit_event_conference_alias(e), &r->has_alias);
    copy_field_(r->token, sizeof r->token, confkit_event_token(e), &r->has_token);
    r->old_status = confkit_event_old_status(e);
    r->new_status = confkit_event_new_status(e);
    r->perms = confkit_event_permissions(e);
    r->expires_at = confkit_event_token_expires_at(e);
    r->first_available = confkit_event_first_available_sequence(e);
    /* The two numeric getters answer 0 for every other kind. */
    if (r->kind != CONFKIT_EVENT_TOKEN_REFRESHED && r->expires_at != 0)
        fail_(__FILE__, __LINE__, "token_expires_at != 0 for another kind");
    if (r->kind != CONFKIT_EVENT_EVENTS_MISSED && r->first_available != 0)
        fail_(__FILE__, __LINE__, "first_available_sequence != 0 for another kind");
    /* Every event is JSON with its type name and (but for events missed,
     * which are about the queue) its conference. */
    const char *json = confkit_event_json(e);
    if (json == NULL || json[0] != '{') fail_(__FILE__, __LINE__, "event JSON");
    char want[64];
    snprintf(want, sizeof want, "\"type\":\"%s\"", r->type);
    if (strstr(json, want) == NULL) fail_(__FILE__, __LINE__, "event JSON lacks its type");
    if (r->kind == CONFKIT_EVENT_EVENTS_MISSED) {
        if (r->has_conf) fail_(__FILE__, __LINE__, "events missed with a conference id");
        if (strstr(json, "conferenceId") != NULL)
            fail_(__FILE__, __LINE__, "events missed JSON with a conferenceId");
        if (r->first_available <= r->seq)
            fail_(__FILE__, __LINE__, "events missed: first available <= its own sequence");
    } else {
        if (!r->has_conf) fail_(__FILE__, __LINE__, "event without a conference id");
        if (strstr(json, r->conf) == NULL)
            fail_(__FILE__, __LINE__, "event JSON lacks its conference");
        if (strlen(r->conf) != 36) fail_(__FILE__, __LINE__, "event conference id is not a UUID");
    }
}

/* Adds a token that every later drain through `l` must never see. */
static inline void forbid_token(ev_list *l, const char *token) {
    if (token == NULL || token[0] == '\0') fail_(__FILE__, __LINE__, "forbid_token: no token");
    if (l->n_forbidden == EV_FORBIDDEN_MAX) fail_(__FILE__, __LINE__, "forbid_token: full");
    l->forbidden[l->n_forbidden++] = dup_str(token);
}

/* Frees the forbidden tokens of `l`. */
static inline void forbid_clear(ev_list *l) {
    for (size_t i = 0; i < l->n_forbidden; i++) free(l->forbidden[i]);
    l->n_forbidden = 0;
}

/* Whether any event recorded in `l` (since its last replacing drain) carries
 * `token`. */
static inline int carries_token(const ev_list *l, const char *token) {
    for (size_t i = 0; i < l->n; i++)
        if (l->ev[i].has_token && strcmp(l->ev[i].token, token) == 0) return 1;
    return 0;
}

/* Takes every queued event of `s` into `out` (replacing its contents, or
 * appending when `append`), checking that sequence numbers go up by one
 * across drains. */
static inline void drain_(const char *file, int line, const confkit_session *s, ev_list *out,
                          int append) {
    if (!append) out->n = 0;
    for (;;) {
        confkit_event *e = (confkit_event *)&out; /* sentinel, must be overwritten */
        g_err = NULL;
        confkit_status st = confkit_session_next_event(s, &e, ERR);
        check_status_(file, line, "confkit_session_next_event", st, CONFKIT_STATUS_OK, NULL);
        if (e == (confkit_event *)&out) fail_(file, line, "event_out not written on OK");
        if (e == NULL) break;
        if (out->n == sizeof out->ev / sizeof out->ev[0]) fail_(file, line, "too many events");
        ev_rec *r = &out->ev[out->n++];
        record_event_(e, r);
        const char *json = confkit_event_json(e);
        for (size_t i = 0; i < out->n_forbidden; i++) {
            const char *t = out->forbidden[i];
            if ((r->has_token && strcmp(r->token, t) == 0) || strstr(json, t) != NULL) {
                fprintf(stderr, "%s:%d: event #%" PRIu64 " (%s) carries a token this session "
                        "must never see\n", file, line, r->seq, r->type);
                exit(1);
            }
        }
        confkit_event_free(e);
        if (r->seq != out->last_seq + 1) {
            fprintf(stderr, "%s:%d: event sequence %" PRIu64 " after %" PRIu64 "\n", file,
                    line, r->seq, out->last_seq);
            exit(1);
        }
        out->last_seq = r->seq;
    }
}
#define DRAIN(s, list) drain_(__FILE__, __LINE__, (s), (list), 0)
#define DRAIN_APPEND(s, list) drain_(__FILE__, __LINE__, (s), (list), 1)

/* The first drained event of `kind` about `ext` (NULL: any) whose new status
 * is `new_status` (-2: any), or NULL. */
static inline const ev_rec *find_event(const ev_list *l, int32_t kind, const char *ext,
                                       int32_t new_status) {
    for (size_t i = 0; i < l->n; i++) {
        const ev_rec *r = &l->ev[i];
        if (r->kind != kind) continue;
        if (ext != NULL && (!r->has_ext || strcmp(r->ext, ext) != 0)) continue;
        if (new_status != -2 && r->new_status != new_status) continue;
        return r;
    }
    return NULL;
}

static inline size_t count_events(const ev_list *l, int32_t kind) {
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++) n += l->ev[i].kind == kind;
    return n;
}

#define CHECK_EVENT(list_, kind_, who_, status_)                           \
    do {                                                                   \
        if (find_event((list_), (kind_), (who_), (status_)) == NULL) {     \
            fprintf(stderr, "%s:%d: no event kind %d about %s (status %d) among %zu:\n", \
                    __FILE__, __LINE__, (int)(kind_), (who_) ? (who_) : "*",  \
                    (int)(status_), (list_)->n);                         \
            for (size_t i_ = 0; i_ < (list_)->n; i_++)                      \
                fprintf(stderr, "  #%" PRIu64 " %s ext=%s %d->%d\n",       \
                        (list_)->ev[i_].seq, (list_)->ev[i_].type,           \
                        (list_)->ev[i_].ext, (list_)->ev[i_].old_status,     \
                        (list_)->ev[i_].new_status);                        \
            exit(1);                                                       \
        }                                                                  \
    } while (0)

/* Every test ends here: nothing confkit allocated may still be alive. */
static inline void finish_(const char *file, int line, const char *name) {
    int64_t live = confkit_live_objects();
    if (live != 0) {
        fprintf(stderr, "%s:%d: confkit_live_objects() == %" PRId64 ", expected 0\n", file,
                line, live);
        exit(1);
    }
    printf("ok: %s\n", name);
}
#define FINISH(name) finish_(__FILE__, __LINE__, (name))

#endif /* CONFKIT_TEST_CHECK_H */
