#!/usr/bin/env bash
# The device library: confkit built without the authority (`cargo build
# --no-default-features`), as phones ship it (README "Library sizes").
# In the test command: it is lint-clean, exports no function of the
# platform, its sessions or conferences, links no serde or serde_json (the
# device half reads and writes its JSON with confkit's own src/json/, issue
# 13 item 5), replays the recorded device flow
# from C (tests/c/flow_replay.c, static library), and the Kotlin binding's
# device tests pass on its shared library.
#
#   bash scripts/device-only.sh
#
# Builds go to target/device-only/ (cargo's own target directory for this
# feature set, so the default build's libraries are left alone).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=target/device-only
CC=${CC:-gcc}

cargo clippy --quiet --lib --no-default-features --target-dir "$DIR" -- -D warnings
cargo build --quiet --lib --no-default-features --target-dir "$DIR"
SO=$DIR/debug/libconfkit.so

exports=$(nm -D --defined-only "$SO" | awk '$3 ~ /^confkit_/ {print $3}' | sort)
authority=$(grep -ho 'extern "C" fn confkit_[a-z0-9_]*' src/ffi/platform.rs src/ffi/session.rs src/ffi/conference.rs |
  sed 's/.*fn //' | sort -u)
if leaked=$(comm -12 <(echo "$exports") <(echo "$authority")) && [ -n "$leaked" ]; then
  echo "error: the device library exports the authority's functions:" >&2
  echo "$leaked" | head >&2
  exit 1
fi
echo "device library: $(echo "$exports" | wc -l) functions, none of the authority's $(echo "$authority" | wc -l)"
if nm -C "$SO" | grep -q 'serde_json::\|serde_core::'; then
  echo "error: the device library links serde (its JSON must not need it):" >&2
  nm -C "$SO" | grep 'serde_json::\|serde_core::' | head -5 >&2
  exit 1
fi
echo "device library: links no serde_json and no serde"

"$CC" -std=c11 -Wall -Wextra -Werror -g -I include tests/c/flow_replay.c \
  "$DIR/debug/libconfkit.a" -lpthread -ldl -lm -o "$DIR/flow_replay"
"$DIR/flow_replay"
echo "device library: tests/c/flow_replay.c replays the recorded flow"

bash bindings/kotlin/run-tests.sh --device-only
