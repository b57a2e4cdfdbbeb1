#!/usr/bin/env bash
# The C tests: every program in tests/c/*.c is compiled (C11, -Wall -Wextra
# -Werror) against include/confkit.h twice, once linked with the static
# library and once with the shared one, and each of those runs natively and
# then under valgrind (no leaks, no errors).
#
#   bash tests/c/run.sh
#
# Environment:
#   CC                     C compiler (default gcc)
#   CONFKIT_REQUIRE_ALL=1  fail when valgrind is missing instead of warning
#   CONFKIT_CTEST_JOBS     how many runs at once (default: number of CPUs)
#
# Builds go to target/ctests/. The last line is the summary:
#   ctests: N passed, M failed        (N + M = programs x 2 linkages)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=target/ctests
LIBDIR=$BUILD/lib
CC=${CC:-gcc}
CFLAGS=(-std=c11 -Wall -Wextra -Werror -g -O0 -I include)
STATIC_LIBS=(-lpthread -ldl -lm -lrt -lutil)
JOBS=${CONFKIT_CTEST_JOBS:-$(nproc 2>/dev/null || echo 2)}
# A panic test prints to stderr; a backtrace there only slows valgrind down.
export RUST_BACKTRACE=0

step() { printf '\n--> %s\n' "$*"; }

PROGRAMS=()
for src in tests/c/*.c; do
  PROGRAMS+=("$(basename "$src" .c)")
done
RUNS=$((${#PROGRAMS[@]} * 2))

if ! command -v "$CC" >/dev/null 2>&1; then
  echo "error: C compiler '$CC' not found" >&2
  echo "ctests: 0 passed, $RUNS failed"
  exit 1
fi

VALGRIND=()
if command -v valgrind >/dev/null 2>&1; then
  VALGRIND=(valgrind -q --leak-check=full --error-exitcode=1
    --errors-for-leak-kinds=definite,possible --num-callers=40)
else
  cat >&2 <<'EOF'

###########################################################################
#  WARNING: valgrind is not installed: the C tests run WITHOUT leak and   #
#  memory-error checking. Install valgrind (apt-get install valgrind).    #
###########################################################################

EOF
  if [ "${CONFKIT_REQUIRE_ALL:-0}" = 1 ]; then
    echo "error: CONFKIT_REQUIRE_ALL=1 and valgrind is missing: nothing was run" >&2
    echo "ctests: 0 passed, $RUNS failed"
    exit 1
  fi
fi

step "cargo build --lib --features sqlite (debug: staticlib + cdylib)"
if ! cargo build --lib --features sqlite; then
  echo "ctests: 0 passed, $RUNS failed"
  exit 1
fi
rm -rf "$BUILD"
mkdir -p "$LIBDIR"
# Private copies, so a concurrent cargo build cannot swap them mid-run.
cp target/debug/libconfkit.a target/debug/libconfkit.so "$LIBDIR/"

step "compile and run: static + shared, native then valgrind ($JOBS at a time)"
compile() { # name linkage
  local name=$1 linkage=$2 out=$BUILD/$1-$2
  if [ "$linkage" = static ]; then
    "$CC" "${CFLAGS[@]}" -o "$out" "tests/c/$name.c" "$LIBDIR/libconfkit.a" \
      "${STATIC_LIBS[@]}" || return
    # The static build must not depend on the shared library.
    if readelf -d "$out" | grep -q 'NEEDED.*libconfkit'; then
      echo "error: $out links libconfkit dynamically"
      return 1
    fi
  else
    # DT_RPATH (not RUNPATH), so an LD_LIBRARY_PATH cannot swap the library.
    "$CC" "${CFLAGS[@]}" -o "$out" "tests/c/$name.c" -L"$LIBDIR" -lconfkit \
      -Wl,--disable-new-dtags,-rpath,"$ROOT/$LIBDIR" || return
    if ! readelf -d "$out" | grep -q 'NEEDED.*libconfkit'; then
      echo "error: $out does not link libconfkit.so"
      return 1
    fi
  fi
}

# One job per program x linkage: compile, run natively, run under valgrind.
run_one() { # name linkage
  local bin=$BUILD/$1-$2 log=$BUILD/$1-$2.log rc=0
  {
    echo "== compile: $bin"
    compile "$1" "$2" &&
      echo "== native: $bin" &&
      "$bin" &&
      if [ "${#VALGRIND[@]}" -gt 0 ]; then
        echo "== valgrind: $bin"
        "${VALGRIND[@]}" "$bin"
      fi
  } >"$log" 2>&1 || rc=$?
  echo "$rc" >"$log.rc"
  if [ "$rc" = 0 ]; then
    echo "PASS $1 ($2)"
  else
    echo "FAIL $1 ($2): exit $rc, log $log"
  fi
}

running=0
for name in "${PROGRAMS[@]}"; do
  for linkage in static shared; do
    run_one "$name" "$linkage" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
      wait -n || true
      running=$((running - 1))
    fi
  done
done
wait

passed=0
failed=0
for name in "${PROGRAMS[@]}"; do
  for linkage in static shared; do
    if [ "$(cat "$BUILD/$name-$linkage.log.rc" 2>/dev/null || echo 1)" = 0 ]; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      printf '\n---- %s (%s) log ----\n' "$name" "$linkage"
      cat "$BUILD/$name-$linkage.log" || true
    fi
  done
done

if [ "${#VALGRIND[@]}" -eq 0 ]; then
  echo "WARNING: ran without valgrind (no leak / memory-error checking)" >&2
fi
echo "ctests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
