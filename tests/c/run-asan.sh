#!/usr/bin/env bash
# The C tests under AddressSanitizer (with LeakSanitizer) and
# UndefinedBehaviorSanitizer: every program in tests/c/*.c compiled with
# -fsanitize=address,undefined and linked with the Rust static library built
# with -Zsanitizer=address (RUSTC_BOOTSTRAP=1 lets a stable rustc take it),
# so heap errors are caught on both sides of the boundary. Runs after
# tests/c/run.sh (valgrind) in the test command.
#
#   bash tests/c/run-asan.sh
#
# First the canaries (tests/c/asan/canary.c) must be caught: a double free of
# a confkit buffer, a leaked error object, a signed overflow in C; then every
# test must pass with no report.
#
# Environment:
#   CC                     C compiler (default gcc; needs its ASan/UBSan runtimes)
#   CONFKIT_REQUIRE_ALL=1  fail instead of skipping when the toolchain cannot
#                          build sanitized programs
#
# The sanitized library is built under $CARGO_TARGET_DIR (default target)/asan;
# programs and logs go to target/ctests-asan/. The last line is the summary:
#   ctests-asan: N passed, M failed
set -euo pipefail
cd "$(dirname "$0")/../.."
CC=${CC:-gcc}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
ASAN_TARGET_DIR=$TARGET_DIR/asan
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
BUILD=target/ctests-asan
SAN=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
CFLAGS=(-std=c11 -Wall -Wextra -Werror -g -O1 -I include "${SAN[@]}")
LIBS=(-lpthread -ldl -lm -lrt -lutil)
export RUST_BACKTRACE=0
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

skip() {
    {
        echo
        echo "################################################################################"
        echo "##  WARNING: the C tests under AddressSanitizer / UBSan were SKIPPED."
        echo "##  Reason: $1"
        echo "##  They need gcc with its sanitizer runtimes (Debian: gcc, libasan, libubsan)."
        echo "##  Set CONFKIT_REQUIRE_ALL=1 to make this a failure instead of a skip."
        echo "################################################################################"
        echo
    } >&2
    if [ "${CONFKIT_REQUIRE_ALL:-0}" = "1" ]; then
        echo "CONFKIT_REQUIRE_ALL=1: failing because the sanitized C tests cannot run." >&2
        echo "ctests-asan: 0 passed, 1 failed"
        exit 1
    fi
    echo "ctests-asan: skipped"
    exit 0
}

command -v "$CC" >/dev/null 2>&1 || skip "C compiler '$CC' not found"
mkdir -p "$BUILD"
echo 'int main(void){return 0;}' > "$BUILD/probe.c"
"$CC" "${SAN[@]}" -o "$BUILD/probe" "$BUILD/probe.c" >/dev/null 2>&1 && "$BUILD/probe" ||
    skip "$CC cannot build and run a program with ${SAN[*]}"

printf '\n--> cargo build --lib --features sqlite with -Zsanitizer=address (%s)\n' "$ASAN_TARGET_DIR"
RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zsanitizer=address" \
    cargo build --lib --features sqlite --target "$TRIPLE" --target-dir "$ASAN_TARGET_DIR"
LIB=$BUILD/libconfkit.a
cp "$ASAN_TARGET_DIR/$TRIPLE/debug/libconfkit.a" "$LIB"
# The library really is instrumented.
checks=$(nm "$LIB" 2>/dev/null | grep -c ' U __asan_report_load8$' || true)
if [ "${checks:-0}" -eq 0 ]; then
    echo "error: $LIB has no AddressSanitizer instrumentation"
    echo "ctests-asan: 0 passed, 1 failed"
    exit 1
fi
echo "$LIB: $checks object files with AddressSanitizer checks"

passed=0
failed=0

printf '\n--> canaries: each error must be reported\n'
"$CC" "${CFLAGS[@]}" -o "$BUILD/canary" tests/c/asan/canary.c "$LIB" "${LIBS[@]}"
canary() { # mode expected-text
    local log=$BUILD/canary-$1.log
    if "$BUILD/canary" "$1" >"$log" 2>&1; then
        echo "FAIL canary $1: not detected (log $log)"
        failed=$((failed + 1))
    elif grep -q "$2" "$log"; then
        echo "PASS canary $1: detected ($2)"
        passed=$((passed + 1))
    else
        echo "FAIL canary $1: exited non-zero without '$2' (log $log)"
        failed=$((failed + 1))
    fi
}
canary double-free "attempting double-free"
canary leak "detected memory leaks"
canary overflow "signed integer overflow"

printf '\n--> tests/c/*.c, static, under ASan + UBSan\n'
for src in tests/c/*.c; do
    name=$(basename "$src" .c)
    bin=$BUILD/$name
    log=$BUILD/$name.log
    if "$CC" "${CFLAGS[@]}" -o "$bin" "$src" "$LIB" "${LIBS[@]}" >"$log" 2>&1 && "$bin" >>"$log" 2>&1; then
        echo "PASS $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name (log $log)"
        failed=$((failed + 1))
        grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error' "$log" | head -n 40 || tail -n 20 "$log"
    fi
done

echo "ctests-asan: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
