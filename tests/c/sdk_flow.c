/*
 * The SDK flow from C: a platform on a manual clock, sessions, a protected
 * conference with its owner token, invitations through an invite list,
 * events, join / connected / decline / kick / re-invite, revoked tokens,
 * an unprotected conference, switching devices, capacity, expiry, and the
 * listener (callback + user data + release), including calls back into
 * confkit from inside the callback, and one platform used from several
 * threads at once.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <threads.h>

#include "check.h"

#define T0 1700000000u

static ev_list alice_ev, bob_ev, bob2_ev, carol_ev, dave_ev;

static uint32_t mask_of(const char *name) {
    uint32_t bit = 0xDEAD;
    CHECK_OK(confkit_permission_from_name(SV(name), &bit, ERR));
    CHECK(bit < 12);
    return 1u << bit;
}

static confkit_session *open_session(const confkit_platform *p, const char *ext,
                                     const char *name, const char *avatar) {
    confkit_session *s = NULL;
    if (avatar != NULL) {
        CHECK_OK(confkit_session_open(p, SV(ext), SV(name), SV(avatar), &s, ERR));
    } else {
        CHECK_OK(confkit_session_open(p, SV(ext), SV(name), NULL, 0, &s, ERR));
    }
    CHECK(s != NULL);
    CHECK(confkit_session_id(s) != 0);
    return s;
}

static size_t pending(const confkit_session *s) {
    size_t n = 999;
    CHECK_OK(confkit_session_pending_events(s, &n, ERR));
    return n;
}

/* ---- listener ---------------------------------------------------------- */

typedef struct {
    int calls;
    int releases;
    int fetch_ok;        /* successful confkit calls made from inside the callback */
    int report_once;     /* when set, the first call reports CONNECTED (nested wake-up) */
    int nested_status;
    uint64_t last_sid;
    const confkit_session *session;
    const char *conf_id;
    ev_list *events;
} listener_state;

static void on_events(void *user_data, uint64_t session_id) {
    listener_state *s = user_data;
    s->calls++;
    s->last_sid = session_id;
    /* Calling back into confkit from the callback must not deadlock. */
    CHECK(pending(s->session) >= 1);
    if (s->report_once) {
        s->report_once = 0;
        int32_t st = -1;
        /* Queues an event for this very session: the listener runs again, nested. */
        CHECK_OK(confkit_conference_report(s->session, SV(s->conf_id), CONFKIT_REPORT_CONNECTED,
                                           &st, ERR));
        s->nested_status = st;
    }
    DRAIN_APPEND(s->session, s->events);
    confkit_conference_info *info = NULL;
    CHECK_OK(confkit_conference_fetch(s->session, SV(s->conf_id), NULL, 0, &info, ERR));
    CHECK_STREQ(confkit_conference_info_id(info), s->conf_id);
    confkit_conference_info_free(info);
    s->fetch_ok++;
}

static void on_release(void *user_data) {
    listener_state *s = user_data;
    s->releases++;
}

/* ---- the protected conference ------------------------------------------ */

static char *create_protected(const confkit_session *alice, confkit_buffer *owner_token) {
    confkit_conference_options o = {0};
    o.is_protected = true;
    confkit_conference_info *info = NULL;
    *owner_token = (confkit_buffer){0};
    CHECK_OK(confkit_conference_create(alice, STR("Daily Standup"), &o, &info, owner_token, ERR));
    CHECK(info != NULL);
    CHECK(owner_token->data != NULL && owner_token->len > 0);
    char *conf_id = dup_str(confkit_conference_info_id(info));
    CHECK_EQ_U64(strlen(conf_id), 36);
    CHECK_STREQ(confkit_conference_info_alias(info), "Daily Standup");
    CHECK_STREQ(confkit_conference_info_owner(info), "alice");
    CHECK(confkit_conference_info_is_new(info));
    CHECK(confkit_conference_info_is_protected(info));
    CHECK_EQ_U64(confkit_conference_info_participant_count(info), 1);
    CHECK_EQ_U64(confkit_conference_info_present_count(info), 0);
    confkit_conference_info_free(info);

    DRAIN(alice, &alice_ev);
    CHECK_EQ_U64(alice_ev.n, 1);
    const ev_rec *e = &alice_ev.ev[0];
    CHECK_EQ_I64(e->kind, CONFKIT_EVENT_CONFERENCE_CREATED);
    CHECK_STREQ(e->type, "conferenceCreated");
    CHECK_EQ_U64(e->seq, 1);
    CHECK_STREQ(e->conf, conf_id);
    CHECK(e->has_alias);
    CHECK_STREQ(e->alias, "Daily Standup");
    CHECK(!e->has_token);
    return conf_id;
}

static void same_alias_returns_existing(const confkit_session *alice, const confkit_session *bob,
                                        const char *conf_id, const confkit_buffer *owner_token) {
    confkit_conference_options o = {0};
    o.is_protected = true;
    confkit_conference_info *info = NULL;
    uint8_t marker = 0;
    confkit_buffer tok = {&marker, 77}; /* must be overwritten */
    /* The owner asking again gets the same conference and a fresh owner token. */
    CHECK_OK(confkit_conference_create(alice, STR("DAILY standup"), &o, &info, &tok, ERR));
    CHECK(!confkit_conference_info_is_new(info));
    CHECK_STREQ(confkit_conference_info_id(info), conf_id);
    CHECK_STREQ(confkit_conference_info_alias(info), "Daily Standup");
    CHECK(tok.data != NULL && tok.data != &marker && tok.len > 0);
    CHECK(tok.len != owner_token->len || memcmp(tok.data, owner_token->data, tok.len) != 0);
    confkit_buffer_free(tok);
    confkit_conference_info_free(info);
    /* Someone else asking for the alias gets the same conference, not new,
     * and no token. */
    tok = (confkit_buffer){&marker, 77};
    CHECK_OK(confkit_conference_create(bob, STR("daily standup"), NULL, &info, &tok, ERR));
    CHECK(!confkit_conference_info_is_new(info));
    CHECK_STREQ(confkit_conference_info_owner(info), "alice");
    CHECK(tok.data == NULL && tok.len == 0);
    confkit_conference_info_free(info);
    CHECK_OK(confkit_conference_create(bob, STR("daily standup"), NULL, &info, NULL, ERR));
    confkit_conference_info_free(info);
    /* No notification. */
    CHECK_EQ_U64(pending(alice), 0);
    CHECK_EQ_U64(pending(bob), 0);

    /* Fetch by alias (any case) and by ID. */
    CHECK_OK(confkit_conference_fetch(bob, NULL, 0, STR("daily STANDUP"), &info, ERR));
    CHECK_STREQ(confkit_conference_info_id(info), conf_id);
    CHECK(!confkit_conference_info_is_new(info));
    CHECK(confkit_conference_info_is_protected(info));
    confkit_conference_info_free(info);
    CHECK_OK(confkit_conference_fetch(bob, SV(conf_id), NULL, 0, &info, ERR));
    CHECK_STREQ(confkit_conference_info_alias(info), "Daily Standup");
    confkit_conference_info_free(info);
}

static void protected_flow(const confkit_platform *platform, const confkit_clock *clock,
                           const confkit_session *alice, const confkit_session *bob,
                           const confkit_session *carol) {
    confkit_buffer owner_token;
    char *conf_id = create_protected(alice, &owner_token);
    same_alias_returns_existing(alice, bob, conf_id, &owner_token);
    (void)platform;

    /* Without a token, a protected conference refuses. */
    CHECK_ST_MSG(CONFKIT_STATUS_TOKEN_INVALID, "token",
                 confkit_conference_join(bob, SV(conf_id), NULL, 0, NULL, ERR));
    /* Someone else's token is refused too. */
    CHECK_ST(CONFKIT_STATUS_TOKEN_INVALID,
             confkit_conference_join(bob, SV(conf_id), owner_token.data, owner_token.len, NULL, ERR));
    /* Inviting before being in the conference is an error. */
    confkit_invite_list *early = NULL;
    CHECK_OK(confkit_invite_list_new(&early, ERR));
    CHECK_OK(confkit_invite_list_add(early, STR("bob"), false, 0, ERR));
    confkit_invite_results *res = NULL;
    CHECK_ST(CONFKIT_STATUS_NOT_IN_CONFERENCE,
             confkit_conference_invite(alice, SV(conf_id), early, &res, ERR));
    CHECK(res == NULL);
    confkit_invite_list_free(early);

    /* Alice joins with the owner token: every permission, CONNECTING, then ON_AIR. */
    uint32_t perms = 0;
    CHECK_OK(confkit_conference_join(alice, SV(conf_id), owner_token.data, owner_token.len, &perms,
                                     ERR));
    CHECK_EQ_U64(perms, CONFKIT_PERMISSIONS_ALL);
    int32_t st = -1;
    CHECK_OK(confkit_conference_report(alice, SV(conf_id), CONFKIT_REPORT_CONNECTED, &st, ERR));
    CHECK_EQ_I64(st, CONFKIT_PARTICIPANT_STATUS_ON_AIR);
    DRAIN(alice, &alice_ev);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "alice",
                CONFKIT_PARTICIPANT_STATUS_CONNECTING);
    CHECK_EQ_I64(find_event(&alice_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "alice",
                            CONFKIT_PARTICIPANT_STATUS_CONNECTING)->old_status,
                 CONFKIT_PARTICIPANT_STATUS_RESERVED);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "alice",
                CONFKIT_PARTICIPANT_STATUS_ON_AIR);
    CHECK_EQ_I64(find_event(&alice_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "alice",
                            CONFKIT_PARTICIPANT_STATUS_ON_AIR)->old_status,
                 CONFKIT_PARTICIPANT_STATUS_CONNECTING);
    /* A move the table does not allow: CONNECTED while ON_AIR. */
    CHECK_ST_MSG(CONFKIT_STATUS_INVALID_TRANSITION, "ON_AIR",
                 confkit_conference_report(alice, SV(conf_id), CONFKIT_REPORT_CONNECTED, &st, ERR));

    /* Invite Bob (default permissions), Carol (explicit bits) and Dave (no session). */
    const uint32_t carol_perms = mask_of("JOIN") | mask_of("SEND_AUDIO") | mask_of("SEND_MESSAGE");
    confkit_invite_list *list = NULL;
    CHECK_OK(confkit_invite_list_new(&list, ERR));
    CHECK_OK(confkit_invite_list_add(list, STR("bob"), false, 0, ERR));
    CHECK_OK(confkit_invite_list_add(list, STR("carol"), true, carol_perms, ERR));
    CHECK_OK(confkit_invite_list_add(list, STR("dave"), true, mask_of("JOIN"), ERR));
    CHECK_OK(confkit_conference_invite(alice, SV(conf_id), list, &res, ERR));
    confkit_invite_list_free(list);
    CHECK_EQ_U64(confkit_invite_results_len(res), 3);
    CHECK_STREQ(confkit_invite_results_external_id(res, 0), "bob");
    CHECK_EQ_I64(confkit_invite_results_delivery(res, 0), CONFKIT_DELIVERY_DELIVERED);
    CHECK_EQ_U64(confkit_invite_results_sessions(res, 0), 1);
    CHECK_EQ_U64(confkit_invite_results_permissions(res, 0), CONFKIT_PERMISSIONS_DEFAULT);
    CHECK_STREQ(confkit_invite_results_external_id(res, 1), "carol");
    CHECK_EQ_I64(confkit_invite_results_delivery(res, 1), CONFKIT_DELIVERY_DELIVERED);
    CHECK_EQ_U64(confkit_invite_results_sessions(res, 1), 1);
    CHECK_EQ_U64(confkit_invite_results_permissions(res, 1), carol_perms);
    CHECK_STREQ(confkit_invite_results_external_id(res, 2), "dave");
    CHECK_EQ_I64(confkit_invite_results_delivery(res, 2), CONFKIT_DELIVERY_NO_OPEN_SESSION);
    CHECK_EQ_U64(confkit_invite_results_sessions(res, 2), 0);
    CHECK_EQ_U64(confkit_invite_results_permissions(res, 2), mask_of("JOIN"));
    /* Out of range. */
    CHECK(confkit_invite_results_external_id(res, 3) == NULL);
    CHECK_EQ_I64(confkit_invite_results_delivery(res, 3), -1);
    CHECK_EQ_U64(confkit_invite_results_sessions(res, 3), 0);
    CHECK_EQ_U64(confkit_invite_results_permissions(res, 3), 0);
    /* ABI 2: the results carry no token (there is no getter for one); each
     * invitee's token reaches the invitee only, in their invitation. */
    confkit_invite_results_free(res);

    /* Bob's invitation: kind, alias, inviter, token, permissions. */
    DRAIN(bob, &bob_ev);
    CHECK_EQ_U64(bob_ev.n, 1);
    const ev_rec *inv = &bob_ev.ev[0];
    CHECK_EQ_I64(inv->kind, CONFKIT_EVENT_INVITATION_RECEIVED);
    CHECK_STREQ(inv->type, "invitationReceived");
    CHECK_EQ_U64(inv->seq, 1);
    CHECK_STREQ(inv->conf, conf_id);
    CHECK(inv->has_alias);
    CHECK_STREQ(inv->alias, "Daily Standup");
    CHECK(inv->has_ext);
    CHECK_STREQ(inv->ext, "alice");
    CHECK(inv->has_token);
    CHECK(strlen(inv->token) > 100);
    char *bob_token = dup_str(inv->token);
    CHECK_EQ_U64(inv->perms, CONFKIT_PERMISSIONS_DEFAULT);
    CHECK_EQ_I64(inv->old_status, -1);
    CHECK_EQ_I64(inv->new_status, -1);
    DRAIN(carol, &carol_ev);
    CHECK_EQ_U64(carol_ev.n, 1);
    CHECK_EQ_I64(carol_ev.ev[0].kind, CONFKIT_EVENT_INVITATION_RECEIVED);
    CHECK(carol_ev.ev[0].has_token);
    char *carol_token = dup_str(carol_ev.ev[0].token);
    CHECK_EQ_U64(carol_ev.ev[0].perms, carol_perms);
    CHECK(strcmp(bob_token, carol_token) != 0);
    /* The inviter never receives the invitees' tokens: from here on, every
     * event drained from Alice's queue is checked against them (token getter
     * and JSON), and so is every event of the other invitee. */
    forbid_token(&alice_ev, bob_token);
    forbid_token(&alice_ev, carol_token);
    forbid_token(&carol_ev, bob_token);
    forbid_token(&bob_ev, carol_token);

    /* Alice (in the conference) hears that three participants were added, RESERVED. */
    DRAIN(alice, &alice_ev);
    for (size_t i = 0; i < alice_ev.n; i++) CHECK(!alice_ev.ev[i].has_token);
    CHECK_EQ_U64(count_events(&alice_ev, CONFKIT_EVENT_PARTICIPANT_ADDED), 3);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_PARTICIPANT_ADDED, "bob",
                CONFKIT_PARTICIPANT_STATUS_RESERVED);
    CHECK_EQ_U64(find_event(&alice_ev, CONFKIT_EVENT_PARTICIPANT_ADDED, "bob", -2)->perms,
                 CONFKIT_PERMISSIONS_DEFAULT);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_PARTICIPANT_ADDED, "carol",
                CONFKIT_PARTICIPANT_STATUS_RESERVED);
    CHECK_EQ_U64(find_event(&alice_ev, CONFKIT_EVENT_PARTICIPANT_ADDED, "carol", -2)->perms,
                 carol_perms);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_PARTICIPANT_ADDED, "dave",
                CONFKIT_PARTICIPANT_STATUS_RESERVED);

    /* Carol may not use Bob's token. */
    CHECK_ST_MSG(CONFKIT_STATUS_TOKEN_INVALID, "bob",
                 confkit_conference_join(carol, SV(conf_id), SV(bob_token), NULL, ERR));

    /* Bob joins with his token: CONNECTING, then ON_AIR. */
    perms = 0;
    CHECK_OK(confkit_conference_join(bob, SV(conf_id), SV(bob_token), &perms, ERR));
    CHECK_EQ_U64(perms, CONFKIT_PERMISSIONS_DEFAULT);
    DRAIN(alice, &alice_ev);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "bob",
                CONFKIT_PARTICIPANT_STATUS_CONNECTING);
    CHECK_EQ_I64(find_event(&alice_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "bob", -2)->old_status,
                 CONFKIT_PARTICIPANT_STATUS_RESERVED);
    st = -1;
    CHECK_OK(confkit_conference_report(bob, SV(conf_id), CONFKIT_REPORT_CONNECTED, &st, ERR));
    CHECK_EQ_I64(st, CONFKIT_PARTICIPANT_STATUS_ON_AIR);
    DRAIN(alice, &alice_ev);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "bob",
                CONFKIT_PARTICIPANT_STATUS_ON_AIR);
    DRAIN(bob, &bob_ev);
    CHECK_EVENT(&bob_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "bob",
                CONFKIT_PARTICIPANT_STATUS_ON_AIR);

    /* Media trouble and recovery. */
    CHECK_OK(confkit_conference_report(bob, SV(conf_id), CONFKIT_REPORT_MEDIA_TROUBLE, &st, ERR));
    CHECK_EQ_I64(st, CONFKIT_PARTICIPANT_STATUS_WARNING);
    CHECK_OK(confkit_conference_report(bob, SV(conf_id), CONFKIT_REPORT_RECOVERED, NULL, ERR));
    DRAIN(alice, &alice_ev);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "bob",
                CONFKIT_PARTICIPANT_STATUS_WARNING);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "bob",
                CONFKIT_PARTICIPANT_STATUS_ON_AIR);

    /* Bob holds the default set: no INVITE, no KICK, no UPDATE_PERMISSIONS. */
    CHECK_OK(confkit_invite_list_new(&list, ERR));
    CHECK_OK(confkit_invite_list_add(list, STR("erin"), false, 0, ERR));
    CHECK_ST_MSG(CONFKIT_STATUS_NOT_ALLOWED, "INVITE",
                 confkit_conference_invite(bob, SV(conf_id), list, &res, ERR));
    confkit_invite_list_free(list);
    CHECK_ST_MSG(CONFKIT_STATUS_NOT_ALLOWED, "KICK",
                 confkit_conference_kick(bob, SV(conf_id), STR("carol"), ERR));
    CHECK_ST(CONFKIT_STATUS_NOT_ALLOWED,
             confkit_conference_update_permissions(bob, SV(conf_id), STR("carol"), 0, ERR));
    /* Only the owner terminates. */
    CHECK_ST(CONFKIT_STATUS_NOT_ALLOWED, confkit_conference_terminate(bob, SV(conf_id), ERR));

    /* Carol declines (and cannot decline twice). */
    CHECK_OK(confkit_conference_decline(carol, SV(conf_id), ERR));
    CHECK_ST_MSG(CONFKIT_STATUS_INVALID_TRANSITION, "DECLINE",
                 confkit_conference_decline(carol, SV(conf_id), ERR));
    DRAIN(alice, &alice_ev);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "carol",
                CONFKIT_PARTICIPANT_STATUS_DECLINE);
    CHECK_EQ_I64(find_event(&alice_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "carol", -2)->old_status,
                 CONFKIT_PARTICIPANT_STATUS_RESERVED);
    DRAIN(bob, &bob_ev);
    CHECK_EVENT(&bob_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "carol",
                CONFKIT_PARTICIPANT_STATUS_DECLINE);

    /* The owner cannot be kicked; unknown participants are not found. */
    CHECK_ST(CONFKIT_STATUS_NOT_ALLOWED, confkit_conference_kick(alice, SV(conf_id), STR("alice"), ERR));
    CHECK_ST(CONFKIT_STATUS_PARTICIPANT_NOT_FOUND,
             confkit_conference_kick(alice, SV(conf_id), STR("zoe"), ERR));

    /* Alice kicks Bob: everyone hears it, Bob included. */
    CHECK_OK(confkit_conference_kick(alice, SV(conf_id), STR("bob"), ERR));
    DRAIN(alice, &alice_ev);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "bob",
                CONFKIT_PARTICIPANT_STATUS_KICKED);
    DRAIN(bob, &bob_ev);
    CHECK_EVENT(&bob_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "bob",
                CONFKIT_PARTICIPANT_STATUS_KICKED);
    CHECK_EQ_I64(find_event(&bob_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "bob", -2)->old_status,
                 CONFKIT_PARTICIPANT_STATUS_ON_AIR);
    /* His token no longer admits him, and the failure writes nothing. */
    perms = 0xDEADBEEF;
    CHECK_ST(CONFKIT_STATUS_TOKEN_REVOKED,
             confkit_conference_join(bob, SV(conf_id), SV(bob_token), &perms, ERR));
    CHECK_EQ_U64(perms, 0xDEADBEEF);
    /* Nor does a report bring him back. */
    st = -77;
    g_err = NULL;
    confkit_status rs =
        confkit_conference_report(bob, SV(conf_id), CONFKIT_REPORT_CONNECTED, &st, ERR);
    CHECK(rs == CONFKIT_STATUS_NOT_IN_CONFERENCE);
    CHECK(g_err != NULL && confkit_error_code(g_err) == rs);
    confkit_error_free(g_err);
    g_err = NULL;
    CHECK_EQ_I64(st, -77);

    /* A new invitation (even within the kick's second) brings him back. */
    CHECK_OK(confkit_invite_list_new(&list, ERR));
    CHECK_OK(confkit_invite_list_add(list, STR("bob"), false, 0, ERR));
    CHECK_OK(confkit_conference_invite(alice, SV(conf_id), list, &res, ERR));
    confkit_invite_list_free(list);
    CHECK_EQ_I64(confkit_invite_results_delivery(res, 0), CONFKIT_DELIVERY_DELIVERED);
    CHECK_EQ_U64(confkit_invite_results_permissions(res, 0), CONFKIT_PERMISSIONS_DEFAULT);
    confkit_invite_results_free(res);
    DRAIN(bob, &bob_ev);
    CHECK_EVENT(&bob_ev, CONFKIT_EVENT_INVITATION_RECEIVED, "alice", -1);
    const ev_rec *inv2 = find_event(&bob_ev, CONFKIT_EVENT_INVITATION_RECEIVED, NULL, -2);
    CHECK(inv2->has_token);
    char *bob_token2 = dup_str(inv2->token);
    CHECK(strcmp(bob_token2, bob_token) != 0);
    forbid_token(&alice_ev, bob_token2);
    DRAIN(alice, &alice_ev);
    CHECK(!carries_token(&alice_ev, bob_token2));
    CHECK_ST(CONFKIT_STATUS_TOKEN_REVOKED,
             confkit_conference_join(bob, SV(conf_id), SV(bob_token), NULL, ERR));
    CHECK_OK(confkit_conference_join(bob, SV(conf_id), SV(bob_token2), &perms, ERR));
    CHECK_EQ_U64(perms, CONFKIT_PERMISSIONS_DEFAULT);

    /* Inviting someone already in the conference: no token, nothing sent. */
    DRAIN(bob, &bob_ev);
    CHECK_OK(confkit_invite_list_new(&list, ERR));
    CHECK_OK(confkit_invite_list_add(list, STR("bob"), false, 0, ERR));
    CHECK_OK(confkit_conference_invite(alice, SV(conf_id), list, &res, ERR));
    confkit_invite_list_free(list);
    CHECK_EQ_I64(confkit_invite_results_delivery(res, 0), CONFKIT_DELIVERY_ALREADY_IN_CONFERENCE);
    confkit_invite_results_free(res);
    CHECK_EQ_U64(pending(bob), 0);

    /* Alice replaces Bob's permissions: the new token reaches Bob only, in
     * his permissions-updated event; the old one is revoked. */
    const uint32_t bob_perms = CONFKIT_PERMISSIONS_DEFAULT | mask_of("INVITE");
    DRAIN(alice, &alice_ev);
    CHECK_OK(confkit_conference_update_permissions(alice, SV(conf_id), STR("bob"), bob_perms,
                                                   ERR));
    DRAIN(bob, &bob_ev);
    const ev_rec *pu = find_event(&bob_ev, CONFKIT_EVENT_PERMISSIONS_UPDATED, NULL, -2);
    CHECK(pu != NULL);
    CHECK_STREQ(pu->type, "permissionsUpdated");
    CHECK_EQ_U64(pu->perms, bob_perms);
    CHECK(pu->has_token);
    char *bob_token3 = dup_str(pu->token);
    CHECK(strcmp(bob_token3, bob_token2) != 0);
    /* The updater's queue has no event carrying it (and none will). */
    forbid_token(&alice_ev, bob_token3);
    DRAIN(alice, &alice_ev);
    CHECK(!carries_token(&alice_ev, bob_token3));
    CHECK(find_event(&alice_ev, CONFKIT_EVENT_PERMISSIONS_UPDATED, NULL, -2) == NULL);
    /* Bits beyond the twelve are refused. */
    CHECK_ST(CONFKIT_STATUS_UNKNOWN_PERMISSION,
             confkit_conference_update_permissions(alice, SV(conf_id), STR("bob"), 1u << 12, ERR));
    /* Nobody updates their own permissions, not even the owner. */
    CHECK_ST(CONFKIT_STATUS_NOT_ALLOWED,
             confkit_conference_update_permissions(alice, SV(conf_id), STR("alice"),
                                                   CONFKIT_PERMISSIONS_DEFAULT, ERR));
    CHECK_EQ_U64(pending(alice), 0);
    CHECK_EQ_U64(pending(bob), 0);

    /* Shortly before a connected participant's token expires, they get a
     * fresh one (token refreshed): token, same permissions, its expiry. The
     * tokens were issued at T0 with the default 3-hour lifetime; the refresh
     * lead is 5 minutes. */
    CHECK_OK(confkit_clock_set(clock, T0 + 3 * 3600 - CONFKIT_DEFAULT_TOKEN_REFRESH_LEAD_SECS - 1, ERR));
    CHECK_OK(confkit_platform_expire_conferences(platform, NULL, ERR));
    CHECK_EQ_U64(pending(bob), 0);
    CHECK_OK(confkit_clock_advance(clock, 1, ERR));
    CHECK_OK(confkit_platform_expire_conferences(platform, NULL, ERR));
    DRAIN(bob, &bob_ev);
    CHECK_EQ_U64(bob_ev.n, 1);
    const ev_rec *tr = &bob_ev.ev[0];
    CHECK_EQ_I64(tr->kind, CONFKIT_EVENT_TOKEN_REFRESHED);
    CHECK_STREQ(tr->type, "tokenRefreshed");
    CHECK_STREQ(tr->conf, conf_id);
    CHECK(tr->has_token);
    CHECK(strcmp(tr->token, bob_token3) != 0);
    CHECK_EQ_U64(tr->perms, bob_perms);
    CHECK_EQ_U64(tr->expires_at, T0 + 3 * 3600 - CONFKIT_DEFAULT_TOKEN_REFRESH_LEAD_SECS + 3 * 3600);
    CHECK(!tr->has_ext && !tr->has_alias);
    CHECK_EQ_I64(tr->old_status, -1);
    CHECK_EQ_I64(tr->new_status, -1);
    char *bob_token4 = dup_str(tr->token);
    /* Alice (connected too) gets her own refresh, never Bob's. */
    forbid_token(&alice_ev, bob_token4);
    DRAIN(alice, &alice_ev);
    const ev_rec *atr = find_event(&alice_ev, CONFKIT_EVENT_TOKEN_REFRESHED, NULL, -2);
    CHECK(atr != NULL);
    CHECK_EQ_U64(atr->perms, CONFKIT_PERMISSIONS_ALL);
    CHECK(atr->expires_at == tr->expires_at);
    /* The refreshed token admits its holder (a verifier reads the same exp). */
    confkit_buffer jwks = {0};
    CHECK_OK(confkit_platform_jwks(platform, &jwks, ERR));
    confkit_verifier *v = NULL;
    CHECK_OK(confkit_verifier_from_jwks(jwks.data, jwks.len, &v, ERR));
    confkit_buffer_free(jwks);
    confkit_claims *claims = NULL;
    CHECK_OK(confkit_verifier_verify(v, SV(bob_token4), confkit_clock_now(clock), SV(conf_id), 30,
                                     &claims, ERR));
    CHECK_STREQ(confkit_claims_subject(claims), "bob");
    CHECK_EQ_U64(confkit_claims_expires_at(claims), tr->expires_at);
    CHECK_EQ_U64(confkit_claims_permissions(claims), bob_perms);
    confkit_claims_free(claims);
    confkit_verifier_free(v);

    /* A protected conference's token expires with time (beyond the leeway).
     * The clock only moves forward from here: the platform's own time never
     * goes back (a clock set back leaves expiry where it was). */
    CHECK_OK(confkit_clock_set(clock, T0 + 3 * 3600 + 61, ERR));
    CHECK_ST(CONFKIT_STATUS_TOKEN_EXPIRED,
             confkit_conference_join(bob, SV(conf_id), SV(bob_token3), NULL, ERR));

    /* The owner ends it: every participant with a session is told. */
    CHECK_OK(confkit_conference_terminate(alice, SV(conf_id), ERR));
    DRAIN(alice, &alice_ev);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_CONFERENCE_ENDED, NULL, -1);
    DRAIN(bob, &bob_ev);
    CHECK_EVENT(&bob_ev, CONFKIT_EVENT_CONFERENCE_ENDED, NULL, -1);
    CHECK_STREQ(find_event(&bob_ev, CONFKIT_EVENT_CONFERENCE_ENDED, NULL, -2)->type,
                "conferenceEnded");
    DRAIN(carol, &carol_ev);
    CHECK_EVENT(&carol_ev, CONFKIT_EVENT_CONFERENCE_ENDED, NULL, -1);
    confkit_conference_info *info = (confkit_conference_info *)&info;
    CHECK_ST_MSG(CONFKIT_STATUS_CONFERENCE_NOT_FOUND, "destroyed",
                 confkit_conference_fetch(bob, SV(conf_id), NULL, 0, &info, ERR));
    CHECK(info == (confkit_conference_info *)&info);
    CHECK_ST_MSG(CONFKIT_STATUS_CONFERENCE_NOT_FOUND, "destroyed",
                 confkit_conference_join(bob, SV(conf_id), SV(bob_token3), NULL, ERR));
    /* The alias is free again. */
    CHECK_ST(CONFKIT_STATUS_CONFERENCE_NOT_FOUND,
             confkit_conference_fetch(bob, NULL, 0, STR("Daily Standup"), &info, ERR));

    confkit_buffer_free(owner_token);
    free(conf_id);
    free(bob_token);
    free(bob_token2);
    free(bob_token3);
    free(bob_token4);
    free(carol_token);
}

/* ---- unprotected conference, switching, capacity, expiry --------------- */

static char *create_open(const confkit_session *owner, const char *alias,
                         const confkit_conference_options *o) {
    confkit_conference_info *info = NULL;
    confkit_buffer tok = {(uint8_t *)&info, 1};
    CHECK_OK(confkit_conference_create(owner, SV(alias), o, &info, &tok, ERR));
    CHECK(tok.data == NULL && tok.len == 0); /* unprotected: no owner token */
    CHECK(confkit_conference_info_is_new(info));
    CHECK(!confkit_conference_info_is_protected(info));
    char *id = dup_str(confkit_conference_info_id(info));
    confkit_conference_info_free(info);
    return id;
}

static void open_flow(const confkit_platform *platform, const confkit_clock *clock,
                      const confkit_session *alice, const confkit_session *bob) {
    DRAIN(alice, &alice_ev);
    DRAIN(bob, &bob_ev);
    char *room = create_open(alice, "Open Room", NULL);
    uint32_t perms = 0;
    CHECK_OK(confkit_conference_join(alice, SV(room), NULL, 0, &perms, ERR));
    CHECK_EQ_U64(perms, CONFKIT_PERMISSIONS_ALL);
    /* Anyone who knows it joins, with the default set. */
    CHECK_OK(confkit_conference_join(bob, SV(room), NULL, 0, &perms, ERR));
    CHECK_EQ_U64(perms, CONFKIT_PERMISSIONS_DEFAULT);
    DRAIN(alice, &alice_ev);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_PARTICIPANT_ADDED, "bob",
                CONFKIT_PARTICIPANT_STATUS_CONNECTING);

    /* Bob's second device takes over: the first session is told it was switched. */
    confkit_session *bob2 = open_session(platform, "bob", "Bob (laptop)", NULL);
    CHECK_OK(confkit_conference_join(bob2, SV(room), NULL, 0, NULL, ERR));
    DRAIN(bob, &bob_ev);
    CHECK_EVENT(&bob_ev, CONFKIT_EVENT_SWITCHED, "bob", -1);
    CHECK_STREQ(find_event(&bob_ev, CONFKIT_EVENT_SWITCHED, NULL, -2)->type, "switched");
    DRAIN(bob2, &bob2_ev);
    CHECK(bob2_ev.n >= 1);
    CHECK_EQ_U64(bob2_ev.ev[0].seq, 1);
    /* The first device is no longer connected. */
    CHECK_ST(CONFKIT_STATUS_NOT_IN_CONFERENCE, confkit_conference_leave(bob, SV(room), ERR));
    CHECK_OK(confkit_conference_leave(bob2, SV(room), ERR));
    DRAIN(alice, &alice_ev);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "bob", CONFKIT_PARTICIPANT_STATUS_LEFT);
    confkit_session_free(bob2); /* free without close: closes it */

    /* Listeners are not told about other listeners; a listener joins as LISTENER. */
    confkit_session *dave = open_session(platform, "dave", "Dave", NULL);
    CHECK_OK(confkit_conference_listen(dave, SV(room), NULL, 0, &perms, ERR));
    DRAIN(alice, &alice_ev);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_PARTICIPANT_ADDED, "dave",
                CONFKIT_PARTICIPANT_STATUS_CONNECTING);
    /* The app server's view (REST) shows Dave as a LISTENER. */
    char path[128];
    snprintf(path, sizeof path, "/v2/conferences/%s/participants", room);
    uint16_t http = 0;
    confkit_buffer body = {0};
    CHECK_OK(confkit_platform_handle_rest(platform, STR("GET"), SV(path), NULL, 0, &http, &body,
                                          ERR));
    CHECK_EQ_U64(http, 200);
    char *json = buffer_to_cstr(body);
    confkit_buffer_free(body);
    CHECK_CONTAINS(json, "\"externalId\":\"dave\"");
    CHECK_CONTAINS(json, "\"type\":\"LISTENER\"");
    CHECK_CONTAINS(json, "\"name\":\"Bob (laptop)\"");
    free(json);

    /* A listener acts on nobody: no invite (which any user of an unprotected
     * conference may do), no kick, no permission update. */
    confkit_invite_list *list = NULL;
    confkit_invite_results *res = (confkit_invite_results *)&list;
    CHECK_OK(confkit_invite_list_new(&list, ERR));
    CHECK_OK(confkit_invite_list_add(list, STR("carol"), false, 0, ERR));
    CHECK_ST_MSG(CONFKIT_STATUS_NOT_ALLOWED, "listening",
                 confkit_conference_invite(dave, SV(room), list, &res, ERR));
    CHECK(res == (confkit_invite_results *)&list);
    confkit_invite_list_free(list);
    CHECK_ST(CONFKIT_STATUS_NOT_ALLOWED, confkit_conference_kick(dave, SV(room), STR("bob"), ERR));
    CHECK_ST(CONFKIT_STATUS_NOT_ALLOWED,
             confkit_conference_update_permissions(dave, SV(room), STR("bob"),
                                                   CONFKIT_PERMISSIONS_DEFAULT, ERR));
    /* A user who becomes a listener leaves the other listeners' view
     * (participant removed); the users hear a status change instead. */
    DRAIN(dave, &dave_ev);
    DRAIN(alice, &alice_ev);
    CHECK_OK(confkit_conference_listen(bob, SV(room), NULL, 0, NULL, ERR));
    DRAIN(dave, &dave_ev);
    CHECK_EVENT(&dave_ev, CONFKIT_EVENT_PARTICIPANT_REMOVED, "bob", -1);
    const ev_rec *gone = find_event(&dave_ev, CONFKIT_EVENT_PARTICIPANT_REMOVED, "bob", -2);
    CHECK_STREQ(gone->type, "participantRemoved");
    CHECK_STREQ(gone->conf, room);
    CHECK(!gone->has_token && !gone->has_alias);
    CHECK_EQ_I64(gone->old_status, -1);
    CHECK_EQ_U64(gone->perms, 0);
    DRAIN(alice, &alice_ev);
    CHECK(find_event(&alice_ev, CONFKIT_EVENT_PARTICIPANT_REMOVED, NULL, -2) == NULL);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "bob",
                CONFKIT_PARTICIPANT_STATUS_CONNECTING);
    CHECK_OK(confkit_conference_leave(bob, SV(room), ERR));
    DRAIN(dave, &dave_ev);
    confkit_session_free(dave);

    /* A full conference refuses. */
    confkit_conference_options o = {0};
    o.participant_limit = 1;
    char *tiny = create_open(alice, "Tiny", &o);
    CHECK_OK(confkit_conference_join(alice, SV(tiny), NULL, 0, NULL, ERR));
    CHECK_ST_MSG(CONFKIT_STATUS_AT_MAX_CAPACITY, "capacity",
                 confkit_conference_join(bob, SV(tiny), NULL, 0, NULL, ERR));

    /* An empty conference is destroyed after its time to live. */
    confkit_conference_options e = {0};
    e.empty_ttl_secs = 10;
    char *eph = create_open(alice, "Ephemeral", &e);
    size_t count = 12345;
    CHECK_OK(confkit_platform_expire_conferences(platform, &count, ERR));
    CHECK_EQ_U64(count, 0);
    CHECK_OK(confkit_clock_advance(clock, 11, ERR));
    CHECK_OK(confkit_platform_expire_conferences(platform, &count, ERR));
    CHECK_EQ_U64(count, 1);
    CHECK_OK(confkit_platform_expire_conferences(platform, NULL, ERR));
    CHECK_ST(CONFKIT_STATUS_CONFERENCE_NOT_FOUND,
             confkit_conference_join(bob, SV(eph), NULL, 0, NULL, ERR));
    DRAIN(alice, &alice_ev);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_CONFERENCE_ENDED, NULL, -1);

    CHECK_OK(confkit_conference_terminate(alice, SV(tiny), ERR));
    CHECK_OK(confkit_conference_terminate(alice, SV(room), ERR));
    DRAIN(alice, &alice_ev);
    DRAIN(bob, &bob_ev);
    free(room);
    free(tiny);
    free(eph);
}

/* ---- a queue that overflows --------------------------------------------- */

/* The host flips between WARNING and ON_AIR far more often than the cap of a
 * queue (1024 events); the lurker, who never drains, finds one events-missed
 * marker at the head of its queue, then the newest events. */
static void overflow_flow(const confkit_platform *platform) {
    confkit_session *host = open_session(platform, "overflow-host", "Host", NULL);
    confkit_session *lurker = open_session(platform, "overflow-lurker", "Lurker", NULL);
    char *room = create_open(host, "Overflow Room", NULL);
    CHECK_OK(confkit_conference_join(host, SV(room), NULL, 0, NULL, ERR));
    CHECK_OK(confkit_conference_report(host, SV(room), CONFKIT_REPORT_CONNECTED, NULL, ERR));
    CHECK_OK(confkit_conference_join(lurker, SV(room), NULL, 0, NULL, ERR));
    static ev_list lurker_ev; /* large: not on the stack */
    DRAIN(lurker, &lurker_ev);
    const uint64_t last_taken = lurker_ev.last_seq;
    CHECK(last_taken >= 1);
    for (int i = 0; i < 700; i++) {
        CHECK_OK(confkit_conference_report(host, SV(room), CONFKIT_REPORT_MEDIA_TROUBLE, NULL,
                                           ERR));
        CHECK_OK(confkit_conference_report(host, SV(room), CONFKIT_REPORT_RECOVERED, NULL, ERR));
    }
    CHECK_EQ_U64(pending(lurker), CONFKIT_DEFAULT_MAX_QUEUED_EVENTS);

    confkit_event *e = NULL;
    CHECK_OK(confkit_session_next_event(lurker, &e, ERR));
    CHECK(e != NULL);
    CHECK_EQ_I64(confkit_event_kind(e), CONFKIT_EVENT_EVENTS_MISSED);
    CHECK_STREQ(confkit_event_type(e), "eventsMissed");
    CHECK(confkit_event_conference_id(e) == NULL); /* about the queue, not a conference */
    CHECK(confkit_event_external_id(e) == NULL);
    CHECK(confkit_event_conference_alias(e) == NULL);
    CHECK(confkit_event_token(e) == NULL);
    CHECK_EQ_I64(confkit_event_old_status(e), -1);
    CHECK_EQ_I64(confkit_event_new_status(e), -1);
    CHECK_EQ_U64(confkit_event_permissions(e), 0);
    CHECK_EQ_U64(confkit_event_token_expires_at(e), 0);
    const uint64_t marker_seq = confkit_event_sequence(e);
    const uint64_t first_available = confkit_event_first_available_sequence(e);
    CHECK_EQ_U64(first_available, marker_seq + 1);
    /* 1400 events were queued: the newest 1023 are kept behind the marker. */
    CHECK_EQ_U64(marker_seq, last_taken + 1400 - (CONFKIT_DEFAULT_MAX_QUEUED_EVENTS - 1));
    const char *json = confkit_event_json(e);
    CHECK_CONTAINS(json, "\"type\":\"eventsMissed\"");
    char want[96];
    snprintf(want, sizeof want, "\"firstMissedSequence\":%" PRIu64, last_taken + 1);
    CHECK_CONTAINS(json, want);
    snprintf(want, sizeof want, "\"firstAvailableSequence\":%" PRIu64, first_available);
    CHECK_CONTAINS(json, want);
    CHECK(strstr(json, "conferenceId") == NULL);
    confkit_event_free(e);

    /* Then the newest events, in order, from the first available one. */
    uint64_t expect = first_available;
    size_t rest = 0;
    for (;;) {
        e = NULL;
        CHECK_OK(confkit_session_next_event(lurker, &e, ERR));
        if (e == NULL) break;
        CHECK_EQ_U64(confkit_event_sequence(e), expect);
        CHECK_EQ_I64(confkit_event_kind(e), CONFKIT_EVENT_PARTICIPANT_UPDATED);
        CHECK_STREQ(confkit_event_conference_id(e), room);
        CHECK_EQ_U64(confkit_event_first_available_sequence(e), 0);
        CHECK_EQ_U64(confkit_event_token_expires_at(e), 0);
        confkit_event_free(e);
        expect++;
        rest++;
    }
    CHECK_EQ_U64(rest, CONFKIT_DEFAULT_MAX_QUEUED_EVENTS - 1);

    CHECK_OK(confkit_conference_terminate(host, SV(room), ERR));
    confkit_session_free(lurker);
    confkit_session_free(host);
    free(room);
}

/* ---- listener ----------------------------------------------------------- */

/* The queue cap is a platform option: 4 here. */
static void small_queue_flow(confkit_clock *clock, const uint8_t *seed) {
    confkit_platform_options opts = {0};
    opts.max_queued_events = 4;
    opts.token_refresh_lead_secs = 60;
    confkit_platform *p = NULL;
    CHECK_OK(confkit_platform_new_with(seed, STR("k2"), clock, &opts, &p, ERR));
    confkit_session *host = open_session(p, "host", "Host", NULL);
    confkit_session *lurker = open_session(p, "lurker", "Lurker", NULL);
    char *room = create_open(host, "Small Queue", NULL);
    CHECK_OK(confkit_conference_join(host, SV(room), NULL, 0, NULL, ERR));
    CHECK_OK(confkit_conference_report(host, SV(room), CONFKIT_REPORT_CONNECTED, NULL, ERR));
    CHECK_OK(confkit_conference_join(lurker, SV(room), NULL, 0, NULL, ERR));
    for (int i = 0; i < 10; i++) {
        CHECK_OK(confkit_conference_report(host, SV(room), CONFKIT_REPORT_MEDIA_TROUBLE, NULL,
                                           ERR));
        CHECK_OK(confkit_conference_report(host, SV(room), CONFKIT_REPORT_RECOVERED, NULL, ERR));
    }
    CHECK_EQ_U64(pending(lurker), 4);
    confkit_event *e = NULL;
    CHECK_OK(confkit_session_next_event(lurker, &e, ERR));
    CHECK_EQ_I64(confkit_event_kind(e), CONFKIT_EVENT_EVENTS_MISSED);
    confkit_event_free(e);
    free(room);
    confkit_session_free(host);
    confkit_session_free(lurker);
    confkit_platform_free(p);
}

static void listener_flow(const confkit_platform *platform, const confkit_session *alice,
                          confkit_session *carol) {
    DRAIN(alice, &alice_ev);
    DRAIN(carol, &carol_ev);
    char *room = create_open(alice, "Listener Room", NULL);
    CHECK_OK(confkit_conference_join(alice, SV(room), NULL, 0, NULL, ERR));
    const uint64_t carol_id = confkit_session_id(carol);

    listener_state s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0};
    listener_state *all[] = {&s1, &s2, &s3, &s4};
    for (size_t i = 0; i < 4; i++) {
        all[i]->session = carol;
        all[i]->conf_id = room;
        all[i]->events = &carol_ev;
    }

    carol_ev.n = 0;
    CHECK_OK(confkit_session_set_listener(carol, on_events, &s1, on_release, ERR));
    CHECK_EQ_I64(s1.calls, 0);
    /* An invitation wakes Carol's listener, which drains her queue from inside. */
    confkit_invite_list *list = NULL;
    confkit_invite_results *res = NULL;
    CHECK_OK(confkit_invite_list_new(&list, ERR));
    CHECK_OK(confkit_invite_list_add(list, STR("carol"), false, 0, ERR));
    CHECK_OK(confkit_conference_invite(alice, SV(room), list, &res, ERR));
    confkit_invite_list_free(list);
    CHECK_EQ_I64(confkit_invite_results_delivery(res, 0), CONFKIT_DELIVERY_DELIVERED);
    confkit_invite_results_free(res);
    CHECK_EQ_I64(s1.calls, 1);
    CHECK_EQ_U64(s1.last_sid, carol_id);
    CHECK_EQ_I64(s1.fetch_ok, 1);
    CHECK_EQ_U64(pending(carol), 0);
    const ev_rec *inv = find_event(&carol_ev, CONFKIT_EVENT_INVITATION_RECEIVED, "alice", -2);
    CHECK(inv != NULL);
    CHECK(!inv->has_token);
    CHECK_EQ_U64(inv->perms, 0);
    CHECK_STREQ(inv->alias, "Listener Room");

    /* Replacing the listener releases the first one's user data. */
    CHECK_OK(confkit_session_set_listener(carol, on_events, &s2, on_release, ERR));
    CHECK_EQ_I64(s1.releases, 1);
    CHECK_EQ_I64(s2.releases, 0);
    /* Carol joins; the callback reports CONNECTED from inside, which wakes it
     * again, nested. Neither deadlocks. */
    s2.report_once = 1;
    carol_ev.n = 0;
    CHECK_OK(confkit_conference_join(carol, SV(room), NULL, 0, NULL, ERR));
    CHECK(s2.calls >= 2);
    CHECK_EQ_I64(s2.nested_status, CONFKIT_PARTICIPANT_STATUS_ON_AIR);
    CHECK_EQ_U64(s2.last_sid, carol_id);
    CHECK_EVENT(&carol_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "carol",
                CONFKIT_PARTICIPANT_STATUS_CONNECTING);
    CHECK_EVENT(&carol_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "carol",
                CONFKIT_PARTICIPANT_STATUS_ON_AIR);
    CHECK_EQ_I64(s1.calls, 1); /* the old listener is never called again */

    /* A NULL callback clears it: released, and no more calls. */
    const int calls_before = s2.calls;
    CHECK_OK(confkit_session_set_listener(carol, NULL, NULL, NULL, ERR));
    CHECK_EQ_I64(s2.releases, 1);
    CHECK_OK(confkit_conference_report(alice, SV(room), CONFKIT_REPORT_CONNECTED, NULL, ERR));
    CHECK_EQ_I64(s2.calls, calls_before);
    CHECK(pending(carol) >= 1);
    DRAIN(carol, &carol_ev);
    CHECK_EVENT(&carol_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "alice",
                CONFKIT_PARTICIPANT_STATUS_ON_AIR);

    /* A listener without a release function is fine too. */
    listener_state s0 = s3;
    CHECK_OK(confkit_session_set_listener(carol, on_events, &s0, NULL, ERR));
    CHECK_OK(confkit_conference_report(alice, SV(room), CONFKIT_REPORT_IDLE, NULL, ERR));
    CHECK_EQ_I64(s0.calls, 1);

    /* Closing the session releases its listener (once), without calling it. */
    CHECK_OK(confkit_session_set_listener(carol, on_events, &s3, on_release, ERR));
    CHECK_EQ_I64(s0.releases, 0);
    CHECK_OK(confkit_session_close(carol, ERR));
    CHECK_EQ_I64(s3.releases, 1);
    CHECK_EQ_I64(s3.calls, 0);
    /* Closing left the conference: Alice hears Carol LEFT. */
    DRAIN(alice, &alice_ev);
    CHECK_EVENT(&alice_ev, CONFKIT_EVENT_PARTICIPANT_UPDATED, "carol",
                CONFKIT_PARTICIPANT_STATUS_LEFT);

    /* Setting a listener on a closed session fails, and user data stays ours. */
    CHECK_ST(CONFKIT_STATUS_SESSION_NOT_FOUND,
             confkit_session_set_listener(carol, on_events, &s4, on_release, ERR));
    CHECK_EQ_I64(s4.releases, 0);
    CHECK_EQ_I64(s4.calls, 0);

    /* Freeing an open session (no close) releases its listener too. */
    listener_state s5 = {0};
    confkit_session *erin = open_session(platform, "erin", "Erin", NULL);
    s5.session = erin;
    s5.conf_id = room;
    s5.events = &dave_ev;
    CHECK_OK(confkit_session_set_listener(erin, on_events, &s5, on_release, ERR));
    confkit_session_free(erin);
    CHECK_EQ_I64(s5.releases, 1);
    CHECK_EQ_I64(s5.calls, 0);

    CHECK_OK(confkit_conference_terminate(alice, SV(room), ERR));
    for (size_t i = 0; i < 4; i++) CHECK(all[i]->releases <= 1);
    free(room);
}

/* ---- threads ------------------------------------------------------------ */

#define WORKERS 4
#define ROUNDS_PER_WORKER 6

typedef struct {
    const confkit_platform *platform;
    const char *room;
    int index;
    atomic_int *wakeups;
} worker_arg;

/* Inside threads: no CHECK_ST (its error slot is shared); plain statuses. */
#define T_OK(call)                                                         \
    do {                                                                   \
        if ((call) != CONFKIT_STATUS_OK) fail_(__FILE__, __LINE__, #call);  \
    } while (0)

static void on_wakeup(void *user_data, uint64_t session_id) {
    CHECK(session_id != 0);
    atomic_fetch_add((atomic_int *)user_data, 1);
}

static void discard_events(const confkit_session *s) {
    for (;;) {
        confkit_event *e = NULL;
        T_OK(confkit_session_next_event(s, &e, NULL));
        if (e == NULL) return;
        CHECK(confkit_event_kind(e) >= CONFKIT_EVENT_CONFERENCE_CREATED);
        confkit_event_free(e);
    }
}

static int worker(void *arg) {
    const worker_arg *w = arg;
    for (int i = 0; i < ROUNDS_PER_WORKER; i++) {
        char ext[64];
        snprintf(ext, sizeof ext, "worker-%d-%d", w->index, i);
        confkit_session *s = NULL;
        T_OK(confkit_session_open(w->platform, SV(ext), SV(ext), NULL, 0, &s, NULL));
        T_OK(confkit_session_set_listener(s, on_wakeup, w->wakeups, NULL, NULL));
        uint32_t perms = 0;
        T_OK(confkit_conference_join(s, SV(w->room), NULL, 0, &perms, NULL));
        CHECK(perms == CONFKIT_PERMISSIONS_DEFAULT);
        int32_t st = -1;
        T_OK(confkit_conference_report(s, SV(w->room), CONFKIT_REPORT_CONNECTED, &st, NULL));
        CHECK(st == CONFKIT_PARTICIPANT_STATUS_ON_AIR);
        discard_events(s);
        T_OK(confkit_conference_leave(s, SV(w->room), NULL));
        if (i % 2 == 0) T_OK(confkit_session_close(s, NULL));
        confkit_session_free(s);
    }
    return 0;
}

static void threads_flow(const confkit_platform *platform) {
    confkit_session *host = open_session(platform, "host", "Host", NULL);
    char *room = create_open(host, "Threads Room", NULL);
    CHECK_OK(confkit_conference_join(host, SV(room), NULL, 0, NULL, ERR));
    atomic_int wakeups = 0;
    thrd_t threads[WORKERS];
    worker_arg args[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        args[i] = (worker_arg){platform, room, i, &wakeups};
        CHECK(thrd_create(&threads[i], worker, &args[i]) == thrd_success);
    }
    for (int i = 0; i < WORKERS; i++) {
        int rc = -1;
        CHECK(thrd_join(threads[i], &rc) == thrd_success);
        CHECK(rc == 0);
    }
    CHECK(atomic_load(&wakeups) >= WORKERS * ROUNDS_PER_WORKER);
    /* The host heard every worker arrive and leave. */
    size_t n = 0;
    CHECK_OK(confkit_session_pending_events(host, &n, ERR));
    CHECK(n >= 3 * WORKERS * ROUNDS_PER_WORKER);
    discard_events(host);
    confkit_conference_info *info = NULL;
    CHECK_OK(confkit_conference_fetch(host, SV(room), NULL, 0, &info, ERR));
    CHECK_EQ_U64(confkit_conference_info_participant_count(info), 1 + WORKERS * ROUNDS_PER_WORKER);
    CHECK_EQ_U64(confkit_conference_info_present_count(info), 1);
    confkit_conference_info_free(info);
    CHECK_OK(confkit_conference_terminate(host, SV(room), ERR));
    confkit_session_free(host);
    free(room);
}

int main(void) {
    CHECK_EQ_U64(confkit_abi_version(), CONFKIT_ABI_VERSION);
    CHECK_CONTAINS(confkit_version(), "confkit ");
    char want[32];
    snprintf(want, sizeof want, "confkit %d.%d.%d", CONFKIT_VERSION_MAJOR, CONFKIT_VERSION_MINOR,
             CONFKIT_VERSION_PATCH);
    CHECK_STREQ(confkit_version(), want);
    CHECK_EQ_I64(confkit_live_objects(), 0);
    /* ABI 2's new status. */
    CHECK_EQ_I64(CONFKIT_STATUS_ALIAS_TAKEN, 19);
    CHECK_STREQ(confkit_status_name(CONFKIT_STATUS_ALIAS_TAKEN), "ALIAS_TAKEN");
    CHECK_STREQ(confkit_status_name(19), "ALIAS_TAKEN");

    confkit_clock *clock = NULL;
    CHECK_OK(confkit_clock_new(T0, &clock, ERR));
    CHECK_EQ_U64(confkit_clock_now(clock), T0);
    uint8_t seed[32];
    memset(seed, 0x42, sizeof seed);
    confkit_platform_options opts = {0};
    opts.leeway_secs = 30;
    confkit_platform *platform = NULL;
    CHECK_OK(confkit_platform_new_with(seed, STR("k1"), clock, &opts, &platform, ERR));

    confkit_session *alice = open_session(platform, "alice", "Alice", "https://example.com/a.png");
    confkit_session *bob = open_session(platform, "bob", "Bob", NULL);
    confkit_session *carol = open_session(platform, "carol", "Carol", NULL);
    CHECK(confkit_session_id(alice) != confkit_session_id(bob));
    CHECK_EQ_U64(pending(bob), 0);

    protected_flow(platform, clock, alice, bob, carol);
    open_flow(platform, clock, alice, bob);
    listener_flow(platform, alice, carol);
    overflow_flow(platform);
    small_queue_flow(clock, seed);
    threads_flow(platform);

    CHECK_OK(confkit_session_close(alice, ERR));
    confkit_session_free(alice);
    confkit_session_free(bob);
    confkit_session_free(carol);
    ev_list *lists[] = {&alice_ev, &bob_ev, &bob2_ev, &carol_ev, &dave_ev};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) forbid_clear(lists[i]);
    confkit_platform_free(platform);
    confkit_clock_free(clock);
    FINISH("sdk_flow");
    return 0;
}
