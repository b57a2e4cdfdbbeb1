#!/usr/bin/env bash
# What confkit costs a program that links it (issue 13, item 5).
#
#   bash scripts/footprint.sh          # build the ship profile, print the sizes
#   bash scripts/footprint.sh --check  # in the test command: from an existing
#                                      # build, check the verify-only programs
#
# The sizes (x86_64; README "Library sizes"):
# - libconfkit.so, stripped;
# - scripts/footprint/verify_only.c built twice (verify_key: a verifier from
#   one public key; verify_jwks: from a JWK set), linked with the static
#   library, -ffunction-sections -fdata-sections -Wl,--gc-sections, stripped,
#   minus an empty program built the same way;
# - the device half's whole C surface: a generated program that takes the
#   address of every export a phone app calls (the client, its views,
#   updates and invitations, the verifier, clocks, invitee lists, errors and
#   names; not the platform, its sessions, conferences or REST), linked the
#   same way: about what a device-only libconfkit.so would be, if the
#   authority were behind a cargo feature (it is not yet).
#
# --check links both programs with target/debug/libconfkit.a (or
# CONFKIT_FOOTPRINT_LIB), runs them on the token in scripts/footprint/
# fixture.txt (it must verify, and a damaged copy must not), and fails if
# serde_json is linked into either: token verification has its own JSON
# reader (src/token/json.rs) so that a phone that only verifies pays for no
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
for prog in verify_key verify_jwks; do
  build "$TARGET/libconfkit.a" "$prog"
  strip "$OUT/$prog"
  echo "$prog adds: $(($(size "$OUT/$prog") - $(size "$OUT/empty"))) bytes"
done

device_exports() {
  grep -ho 'extern "C" fn confkit_[a-z0-9_]*' src/ffi/client.rs src/ffi/token.rs src/ffi/names.rs src/ffi/mod.rs |
    sed 's/.*fn //' | grep -v '^confkit_session_'
  grep -ho 'extern "C" fn confkit_\(clock\|invite_list\)_[a-z0-9_]*' src/ffi/platform.rs src/ffi/conference.rs |
    sed 's/.*fn //'
}
{
  echo '#include "confkit.h"'
  echo 'typedef void (*confkit_fn)(void);'
  echo 'confkit_fn volatile keep[] = {'
  device_exports | sort -u | sed 's/.*/  (confkit_fn)\&&,/'
  echo '};'
  echo 'int main(int argc, char **argv) { (void)argv; return keep[argc % 2] != 0 ? 0 : 1; }'
} > "$OUT/device_half.c"
"$CC" "${LINK[@]}" "$OUT/device_half.c" "$TARGET/libconfkit.a" "${LIBS[@]}" -o "$OUT/device_half"
authority=$(nm -C "$OUT/device_half" | grep -c 'confkit::platform::\|confkit::rest::\|confkit::wire::server::' || true)
strip "$OUT/device_half"
echo "device_half ($(device_exports | sort -u | wc -l) exports; $authority symbols of the platform, REST or wire server) adds: $(($(size "$OUT/device_half") - $(size "$OUT/empty"))) bytes"
