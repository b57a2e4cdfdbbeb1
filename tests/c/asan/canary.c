/* Proof that the sanitized C suite (tests/c/run-asan.sh) detects what it
 * claims to: each mode commits one error on purpose and must be reported.
 *   canary double-free   a buffer from confkit freed twice (AddressSanitizer
 *                        sees it inside the Rust library's free)
 *   canary leak          an error object never freed (LeakSanitizer)
 *   canary overflow      a signed int overflow in C (UBSan)
 * Not part of tests/c/run.sh (it lives in a subdirectory). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confkit.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: canary double-free|leak|overflow\n");
        return 2;
    }
    if (strcmp(argv[1], "double-free") == 0) {
        confkit_platform *p = NULL;
        if (confkit_platform_new(NULL, (const uint8_t *)"k", 1, &p, NULL) != CONFKIT_STATUS_OK) return 2;
        confkit_buffer jwks;
        if (confkit_platform_jwks(p, &jwks, NULL) != CONFKIT_STATUS_OK) return 2;
        confkit_buffer_free(jwks);
        confkit_buffer_free(jwks); /* the error */
        confkit_platform_free(p);
        return 0;
    }
    if (strcmp(argv[1], "leak") == 0) {
        confkit_error *err = NULL;
        confkit_platform *p = NULL;
        confkit_platform_new(NULL, NULL, 5, &p, &err); /* NULL key id with a length */
        err = NULL; /* the error: the object is lost */
        return 0;
    }
    if (strcmp(argv[1], "overflow") == 0) {
        volatile int big = INT_MAX;
        int r = big + argc; /* the error */
        printf("%d\n", r);
        return 0;
    }
    return 2;
}
