/*
 * Replays the recorded device flow (tests/fixtures/wire/flows/bob.flow, the
 * grammar is in tests/device_flow.rs) through the C API and checks that every
 * `updates` and `view` line comes out exactly as recorded: the Rust, C and
 * Kotlin replicas must agree on every view.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdbool.h>

#include "check.h"

#define FLOW "tests/fixtures/wire/flows/bob.flow"

static const char *KIND_NAMES[] = {
    "?",
    "participantAdded",
    "participantUpdated",
    "participantRemoved",
    "myStatusChanged",
    "myPermissionsChanged",
    "noLongerIn",
    "conferenceEnded",
    "invitationReceived",
    "requestSucceeded",
    "requestFailed",
    "duplicate",
    "duplicateReply",
    "gap",
    "skipped",
    "resynced",
};

/* A growing string. */
typedef struct {
    char *s;
    size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = t->cap - t->len;
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? room : 0, fmt, ap);
        va_end(ap);
        CHECK(n >= 0);
        if (t->s != NULL && (size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        t->cap = (t->cap + (size_t)n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        CHECK(t->s != NULL);
        if (t->len == 0) t->s[0] = '\0';
    }
}

static const char *status(int32_t s) {
    const char *n = confkit_participant_status_name(s);
    return n ? n : "-";
}

/* The fixture token of update i: kind[:detail]. */
static void token(text *t, const confkit_updates *u, size_t i) {
    int32_t k = confkit_updates_kind(u, i);
    CHECK(k >= 1 && k <= CONFKIT_UPDATE_RESYNCED);
    put(t, "%s", KIND_NAMES[k]);
    switch (k) {
    case CONFKIT_UPDATE_PARTICIPANT_ADDED:
    case CONFKIT_UPDATE_PARTICIPANT_UPDATED:
        put(t, ":%s:%s", confkit_updates_external_id(u, i), status(confkit_updates_new_status(u, i)));
        break;
    case CONFKIT_UPDATE_PARTICIPANT_REMOVED:
    case CONFKIT_UPDATE_INVITATION_RECEIVED:
        put(t, ":%s", confkit_updates_external_id(u, i));
        break;
    case CONFKIT_UPDATE_MY_STATUS_CHANGED:
        put(t, ":%s", status(confkit_updates_new_status(u, i)));
        break;
    case CONFKIT_UPDATE_MY_PERMISSIONS_CHANGED:
        put(t, ":%03x", confkit_updates_permissions(u, i));
        break;
    case CONFKIT_UPDATE_REQUEST_FAILED:
        put(t, ":%s", confkit_status_name(confkit_updates_error_code(u, i)));
        break;
    case CONFKIT_UPDATE_GAP:
        put(t, ":%" PRIu64, confkit_updates_sequence(u, i));
        break;
    default:
        break;
    }
}

/* The fixture line of one view. */
static void view_line(text *t, const confkit_client *c, const confkit_view *v) {
    const char *conf = confkit_view_conference_id(v);
    uint32_t may = 0;
    for (uint32_t bit = 0; bit < 12; bit++) {
        if (confkit_client_may(c, SV(conf), bit)) may |= 1u << bit;
    }
    const char *alias = confkit_view_alias(v);
    put(t, "view %s alias=%s joined=%d ended=%d my=%s perms=%03x may=%03x people=", conf,
        alias ? alias : "-", confkit_view_joined(v) ? 1 : 0, confkit_view_ended(v) ? 1 : 0,
        status(confkit_view_my_status(v)), confkit_view_my_permissions(v), may);
    for (size_t i = 0; i < confkit_view_participant_count(v); i++) {
        int32_t type = confkit_view_participant_type(v, i);
        CHECK(type == CONFKIT_PARTICIPANT_TYPE_USER || type == CONFKIT_PARTICIPANT_TYPE_LISTENER);
        put(t, "%s%s:%s:%s:%03x", i ? "," : "", confkit_view_participant_external_id(v, i),
            status(confkit_view_participant_status(v, i)),
            type == CONFKIT_PARTICIPANT_TYPE_USER ? "USER" : "LISTENER",
            confkit_view_participant_permissions(v, i));
    }
}

static char *inbox_token(confkit_client *c, const char *conf) {
    for (size_t i = confkit_client_inbox_len(c); i-- > 0;) {
        confkit_invitation *inv = NULL;
        CHECK_OK(confkit_client_inbox_at(c, i, &inv, ERR));
        char *token = NULL;
        if (strcmp(confkit_invitation_conference_id(inv), conf) == 0) {
            token = dup_str(confkit_invitation_token(inv));
        }
        confkit_invitation_free(inv);
        if (token) return token;
    }
    return NULL;
}

static size_t chomp(char *line, ssize_t n) {
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    return (size_t)n;
}

int main(void) {
    FILE *f = fopen(FLOW, "r");
    CHECK(f != NULL);
    char *me = NULL;
    uint64_t now = 0;
    confkit_verifier *verifier = NULL;
    confkit_clock *clock = NULL;
    confkit_client *c = NULL;
    /* The lines the replay produced, and how far the file's lines matched them. */
    text produced = {0};
    size_t checked = 0, line_no = 0, recvs = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        line_no++;
        size_t len = chomp(line, n);
        if (len == 0 || line[0] == '#') continue;
        char *rest = strchr(line, ' ');
        rest = rest ? rest + 1 : line + len;
        if (strncmp(line, "me ", 3) == 0) {
            me = dup_str(rest);
        } else if (strncmp(line, "now ", 4) == 0) {
            CHECK(c == NULL); /* the clock is set once, before the first message */
            now = strtoull(rest, NULL, 10);
        } else if (strncmp(line, "jwks ", 5) == 0) {
            CHECK_OK(confkit_verifier_from_jwks(SV(rest), &verifier, ERR));
        } else if (strncmp(line, "send ", 5) == 0 || strncmp(line, "recv ", 5) == 0) {
            if (c == NULL) {
                CHECK(me != NULL && verifier != NULL && now != 0);
                CHECK_OK(confkit_clock_new(now, &clock, ERR));
                CHECK_OK(confkit_client_new(SV(me), verifier, clock, &c, ERR));
                /* The recording's request ids are c1, c2, ... */
                CHECK_OK(confkit_client_set_next_request_number(c, 1, ERR));
            }
            if (line[0] == 's') {
                confkit_buffer req = {0};
                char conf[64], how[32];
                if (strcmp(rest, "resync") == 0) {
                    CHECK_OK(confkit_client_resync(c, &req, NULL, ERR));
                } else if (sscanf(rest, "join %63s %31s", conf, how) == 2) {
                    char *token = strcmp(how, "inbox") == 0 ? inbox_token(c, conf) : NULL;
                    CHECK(token != NULL || strcmp(how, "none") == 0);
                    if (token) {
                        CHECK_OK(confkit_client_join(c, SV(conf), SV(token), &req, NULL, ERR));
                    } else {
                        CHECK_OK(confkit_client_join(c, SV(conf), NULL, 0, &req, NULL, ERR));
                    }
                    free(token);
                } else if (sscanf(rest, "media %63s %31s", conf, how) == 2 &&
                           strcmp(how, "CONNECTED") == 0) {
                    CHECK_OK(confkit_client_media_state(c, SV(conf), CONFKIT_MEDIA_CONNECTED, &req,
                                                        NULL, ERR));
                } else {
                    fprintf(stderr, "%s:%zu: unknown send line: %s\n", FLOW, line_no, line);
                    return 1;
                }
                confkit_buffer_free(req);
            } else {
                confkit_updates *u = NULL;
                CHECK_OK(confkit_client_receive(c, SV(rest), &u, ERR));
                recvs++;
                put(&produced, "updates ");
                for (size_t i = 0; i < confkit_updates_len(u); i++) {
                    if (i) put(&produced, " ");
                    token(&produced, u, i);
                }
                put(&produced, "\n");
                confkit_updates_free(u);
                for (size_t i = 0; i < confkit_client_view_count(c); i++) {
                    confkit_view *v = NULL;
                    CHECK_OK(confkit_client_view_at(c, i, &v, ERR));
                    view_line(&produced, c, v);
                    put(&produced, "\n");
                    confkit_view_free(v);
                }
            }
        } else if (strncmp(line, "updates", 7) == 0 || strncmp(line, "view ", 5) == 0) {
            /* The next produced line must be this one. */
            const char *start = produced.s + checked;
            const char *end = produced.len > checked ? strchr(start, '\n') : NULL;
            if (end == NULL || (size_t)(end - start) != len || memcmp(start, line, len) != 0) {
                fprintf(stderr, "%s:%zu: expected\n  %s\ngot\n  %.*s\n", FLOW, line_no, line,
                        end ? (int)(end - start) : 0, end ? start : "");
                return 1;
            }
            checked = (size_t)(end - produced.s) + 1;
        } else {
            fprintf(stderr, "%s:%zu: unknown line: %s\n", FLOW, line_no, line);
            return 1;
        }
    }
    CHECK_EQ_U64(checked, produced.len); /* every produced line was in the file */
    CHECK(recvs >= 10);
    fclose(f);
    free(line);
    free(produced.s);
    free(me);
    confkit_client_free(c);
    confkit_clock_free(clock);
    confkit_verifier_free(verifier);
    CHECK_EQ_I64(confkit_live_objects(), 0);
    printf("flow_replay: %zu messages replayed, every view as recorded\n", recvs);
    return 0;
}
