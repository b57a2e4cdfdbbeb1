#!/usr/bin/env bash
# What confkit costs a program that links it (issue 13, item 5).
#
#   bash scripts/footprint.sh          # build the ship profile, print the sizes
#   bash scripts/footprint.sh --check  # in the test command: from an existing
#                                      # build, check the verify-only programs
#
# The sizes (x86_64; README "Library sizes"):
# - libconfkit.so, stripped, and the device library's (built without the
#   authority, `--no-default-features`, as phones ship it);
# - scripts/footprint/verify_only.c built twice (verify_key: a verifier from
#   one public key; verify_jwks: from a JWK set), linked with the static
#   library, -ffunction-sections -fdata-sections -Wl,--gc-sections, stripped,
#   minus an empty program built the same way.
#
# --check links both programs with target/debug/libconfkit.a (or
# CONFKIT_FOOTPRINT_LIB), runs them on the token in scripts/footprint/
# fixture.txt (it must verify, and a damaged copy must not), and fails if
# serde_json is linked into either: token verification has its own JSON
# reader (src/json/read.rs) so that a phone that only verifies pays for no
# general JSON library.
#
# Environment: CONFKIT_PROFILE (default ship), CC (default gcc).
set -euo pipefail
cd "$(dirname "$0")/.."
CC=${CC:-gcc}
DIR=scripts/footprint
OUT=target/footprint
mkdir -p "$OUT"
LINK=(-O2 -ffunction-sections -fdata-sections -Wl,--gc-sections -I include)
LIBS=(-lpthread -ldl -lm)

fixture() { grep -v '^#' "$DIR/fixture.txt" | sed -n "${1}p"; }
JWKS=$(fixture 1)
KEY=$(fixture 2)
TOKEN=$(fixture 3)
NOW=$(fixture 4)
EXPECT=$(fixture 5)

build() { # lib program
  local define=()
  [ "$2" = verify_jwks ] && define=(-DFROM_JWKS)
  "$CC" "${LINK[@]}" "${define[@]}" "$DIR/verify_only.c" "$1" "${LIBS[@]}" -o "$OUT/$2"
}

if [ "${1:-}" = "--check" ]; then
  LIB=${CONFKIT_FOOTPRINT_LIB:-target/debug/libconfkit.a}
  [ -f "$LIB" ] || { echo "error: $LIB not built (cargo build)" >&2; exit 1; }
  DAMAGED="${TOKEN%?}A"
  [ "$DAMAGED" != "$TOKEN" ] || DAMAGED="${TOKEN%?}B"
  for prog in verify_key verify_jwks; do
    build "$LIB" "$prog"
    if [ "$prog" = verify_key ]; then
      run() { "$OUT/verify_key" footprint-key "$KEY" "$1" "$NOW"; }
    else
      run() { "$OUT/verify_jwks" "$JWKS" "$1" "$NOW"; }
    fi
    got=$(run "$TOKEN") || { echo "error: $prog refused the fixture token: $got" >&2; exit 1; }
    [ "$got" = "$EXPECT" ] || { echo "error: $prog printed '$got', not '$EXPECT'" >&2; exit 1; }
    if bad=$(run "$DAMAGED"); then
      echo "error: $prog accepted a damaged token: $bad" >&2
      exit 1
    fi
    if nm -C "$OUT/$prog" | grep -q 'serde_json::'; then
      echo "error: $prog links serde_json (the offline-verify path must not):" >&2
      nm -C "$OUT/$prog" | grep 'serde_json::' | head -5 >&2
      exit 1
    fi
    echo "$prog: verifies the fixture token, refuses a damaged one, links no serde_json"
  done
  exit 0
fi

PROFILE=${CONFKIT_PROFILE:-ship}
cargo build --quiet --profile "$PROFILE" --lib
TARGET=${CARGO_TARGET_DIR:-target}/$PROFILE
"$CC" "${LINK[@]}" "$DIR/empty.c" -o "$OUT/empty"
strip "$OUT/empty"
cp "$TARGET/libconfkit.so" "$OUT/libconfkit.so"
strip "$OUT/libconfkit.so"
size() { stat -c %s "$1"; }
echo "profile $PROFILE ($(uname -m))"
echo "libconfkit.so stripped: $(size "$OUT/libconfkit.so") bytes"
DEVICE_TARGET=${CARGO_TARGET_DIR:-target}/device-only
cargo build --quiet --profile "$PROFILE" --lib --no-default-features --target-dir "$DEVICE_TARGET"
cp "$DEVICE_TARGET/$PROFILE/libconfkit.so" "$OUT/libconfkit-device.so"
strip "$OUT/libconfkit-device.so"
echo "libconfkit.so of the device library (no authority) stripped: $(size "$OUT/libconfkit-device.so") bytes"
for prog in verify_key verify_jwks; do
  build "$TARGET/libconfkit.a" "$prog"
  strip "$OUT/$prog"
  echo "$prog adds: $(($(size "$OUT/$prog") - $(size "$OUT/empty"))) bytes"
done

