/* The device half from C: a phone's client builds requests as bytes and reads
 * the server's bytes into updates and a view. Here the "server" is a platform
 * in the same process; in an app, the bytes travel over your WebSocket. */
#include <stdio.h>
#include <string.h>

#include <confkit.h>

#define S(lit) (const uint8_t *)(lit), strlen(lit)

/* Carries one request to the server and its reply back; prints the updates. */
static void send_request(confkit_session *server_side, confkit_client *phone, confkit_buffer request) {
    confkit_buffer reply = {0};
    confkit_session_handle_message(server_side, request.data, request.len, &reply, NULL);
    confkit_buffer_free(request);
    confkit_updates *updates = NULL;
    if (confkit_client_receive(phone, reply.data, reply.len, &updates, NULL) == CONFKIT_STATUS_OK) {
        for (size_t i = 0; i < confkit_updates_len(updates); i++) {
            printf("update: %s\n", confkit_updates_json(updates, i));
        }
    }
    confkit_updates_free(updates);
    confkit_buffer_free(reply);
}

/* Delivers the events the server queued for the session. */
static void deliver_events(confkit_session *server_side, confkit_client *phone) {
    for (;;) {
        confkit_buffer message = {0};
        if (confkit_session_next_message(server_side, &message, NULL) != CONFKIT_STATUS_OK ||
            message.len == 0) {
            return;
        }
        confkit_updates *updates = NULL;
        if (confkit_client_receive(phone, message.data, message.len, &updates, NULL) == CONFKIT_STATUS_OK) {
            for (size_t i = 0; i < confkit_updates_len(updates); i++) {
                printf("update: %s\n", confkit_updates_json(updates, i));
            }
        }
        confkit_updates_free(updates);
        confkit_buffer_free(message);
    }
}

int main(void) {
    /* The server: a platform and Alice's session (normally on your app server). */
    confkit_platform *platform = NULL;
    confkit_error *err = NULL;
    if (confkit_platform_new(NULL, S("key-1"), &platform, &err) != CONFKIT_STATUS_OK) {
        fprintf(stderr, "%s\n", confkit_error_message(err));
        confkit_error_free(err);
        return 1;
    }
    confkit_session *session = NULL;
    confkit_session_open(platform, S("alice"), S("Alice"), NULL, 0, &session, NULL);
    confkit_buffer jwks = {0}; /* what the server publishes at /.well-known/jwks.json */
    confkit_platform_jwks(platform, &jwks, NULL);

    /* The phone: a verifier for the server's keys and a client for Alice. */
    confkit_verifier *verifier = NULL;
    confkit_verifier_from_jwks(jwks.data, jwks.len, &verifier, NULL);
    confkit_buffer_free(jwks);
    confkit_client *phone = NULL;
    confkit_client_new(S("alice"), verifier, NULL, &phone, NULL);

    confkit_buffer request = {0};
    confkit_client_create(phone, S("stand-up"), NULL, &request, NULL, NULL);
    send_request(session, phone, request);
    deliver_events(session, phone);

    /* The client now knows the conference: join it and report the media up. */
    confkit_view *view = NULL;
    confkit_client_view_at(phone, 0, &view, NULL);
    const char *conference = confkit_view_conference_id(view);
    confkit_client_join(phone, S(conference), NULL, 0, &request, NULL, NULL);
    send_request(session, phone, request);
    confkit_client_media_state(phone, S(conference), CONFKIT_MEDIA_CONNECTED, &request, NULL, NULL);
    send_request(session, phone, request);
    deliver_events(session, phone);
    confkit_view_free(view);

    confkit_client_view_at(phone, 0, &view, NULL);
    printf("%s: I am %s, %zu participant(s)\n", confkit_view_alias(view),
           confkit_participant_status_name(confkit_view_my_status(view)),
           confkit_view_participant_count(view));
    confkit_view_free(view);

    confkit_client_free(phone);
    confkit_verifier_free(verifier);
    confkit_session_free(session);
    confkit_platform_free(platform);
    return 0;
}
