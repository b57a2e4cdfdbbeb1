/* The app server from C: a platform on an SQLite file answering one REST
 * request. Run it twice: the second run finds the conference ("isNew":false). */
#include <stdio.h>
#include <string.h>

#include <confkit.h>

#define S(lit) (const uint8_t *)(lit), strlen(lit)

int main(void) {
    /* A real server loads its 32-byte seed from its secret store. */
    uint8_t seed[32] = {7};
    confkit_platform *platform = NULL;
    confkit_error *err = NULL;
    if (confkit_platform_open(S("confkit-example.db"), seed, S("key-1"), NULL, NULL, &platform,
                              &err) != CONFKIT_STATUS_OK) {
        fprintf(stderr, "%s: %s\n", confkit_status_name(confkit_error_code(err)),
                confkit_error_message(err));
        confkit_error_free(err);
        return 1;
    }
    uint16_t http = 0;
    confkit_buffer body = {0};
    const char *request = "{\"ownerExternalId\":\"alice\",\"alias\":\"team-sync\"}";
    confkit_platform_handle_rest(platform, S("POST"), S("/v2/conferences/create"), S(request),
                                 &http, &body, NULL);
    printf("%u %.*s\n", http, (int)body.len, (const char *)body.data);
    confkit_buffer_free(body);
    confkit_platform_free(platform);
    return 0;
}
