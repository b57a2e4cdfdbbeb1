/* A program that only verifies tokens: what it adds to an empty program is
 * the footprint figure in the README (scripts/footprint.sh). Built twice:
 * as verify_key, with a verifier from one public key, and with
 * -DFROM_JWKS as verify_jwks, with a verifier from a JWK set (as a phone
 * gets it from /.well-known/jwks.json).
 *
 *   verify_key  KID KEY_HEX TOKEN NOW
 *   verify_jwks JWKS_JSON   TOKEN NOW
 *
 * Prints "sub perms" (exit 0) or "status message" (exit 1).
 */
#include "confkit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef FROM_JWKS
#define ARGS 4
#else
#define ARGS 5
#endif

int main(int argc, char **argv) {
    if (argc != ARGS) {
        fprintf(stderr, "usage: see scripts/footprint/verify_only.c\n");
        return 2;
    }
    confkit_error *err = NULL;
    confkit_verifier *v = NULL;
#ifdef FROM_JWKS
    confkit_status s = confkit_verifier_from_jwks((const uint8_t *)argv[1], strlen(argv[1]), &v, &err);
#else
    uint8_t key[32];
    if (strlen(argv[2]) != 64) return 2;
    for (int i = 0; i < 32; i++) {
        unsigned byte;
        if (sscanf(argv[2] + 2 * i, "%2x", &byte) != 1) return 2;
        key[i] = (uint8_t)byte;
    }
    confkit_status s = confkit_verifier_from_public_key((const uint8_t *)argv[1], strlen(argv[1]),
                                                        key, &v, &err);
#endif
    if (s != CONFKIT_STATUS_OK) {
        printf("%d %s\n", (int)s, confkit_error_message(err));
        confkit_error_free(err);
        return 1;
    }
    const char *token = argv[ARGS - 2];
    confkit_claims *claims = NULL;
    s = confkit_verifier_verify(v, (const uint8_t *)token, strlen(token),
                                strtoull(argv[ARGS - 1], NULL, 10), NULL, 0,
                                CONFKIT_DEFAULT_LEEWAY_SECS, &claims, &err);
    if (s == CONFKIT_STATUS_OK) {
        printf("%s %u\n", confkit_claims_subject(claims), confkit_claims_permissions(claims));
        confkit_claims_free(claims);
    } else {
        printf("%d %s\n", (int)s, confkit_error_message(err));
        confkit_error_free(err);
    }
    confkit_verifier_free(v);
    return s == CONFKIT_STATUS_OK ? 0 : 1;
}
