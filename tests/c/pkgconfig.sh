#!/usr/bin/env bash
# The README's C examples, built the way a C user builds them: install under
# a prefix with scripts/install.sh, then compile examples/c/*.c with
# `pkg-config --cflags --libs confkit` (shared, run through the library path
# pkg-config gives) and against the installed static library, and run them.
# Also checks that the README shows each example exactly as it is here.
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET=${CARGO_TARGET_DIR:-target}
case "$TARGET" in /*) ;; *) TARGET=$PWD/$TARGET ;; esac
PREFIX=$TARGET/pkgconfig-prefix
OUT=$TARGET/pkgconfig-examples
rm -rf "$PREFIX" "$OUT"
mkdir -p "$OUT"
CONFKIT_PROFILE=debug bash scripts/install.sh "$PREFIX"
export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
pkg-config --exists confkit
LIBDIR=$(pkg-config --variable=libdir confkit)
for src in examples/c/*.c; do
  name=$(basename "$src" .c)
  # Shared, exactly as the README says (plus the rpath a shared build needs).
  cc -std=c11 -Wall -Wextra -Werror -o "$OUT/$name" "$src" \
    $(pkg-config --cflags --libs confkit) -Wl,-rpath,"$LIBDIR"
  # Static: the archive and what it needs.
  cc -std=c11 -Wall -Wextra -Werror -o "$OUT/$name-static" "$src" \
    $(pkg-config --cflags confkit) "$LIBDIR/libconfkit.a" \
    $(pkg-config --libs-only-l --static confkit | sed 's/-lconfkit//')
  # In $OUT: the server example keeps its state in confkit-example.db
  # there, so the second run finds the conference the first one created.
  for bin in "$OUT/$name" "$OUT/$name-static"; do
    (cd "$OUT" && "$bin") > "$bin.out"
    echo "ran $bin: $(tail -n 1 "$bin.out" | cut -c1-80)"
  done
  python3 - "$src" <<'PY'
import sys
src = open(sys.argv[1]).read()
readme = open("README.md").read()
if src not in readme:
    sys.exit(f"README.md does not show {sys.argv[1]} exactly as it is")
PY
done
grep -q '"isNew":true' "$OUT/server.out"
grep -q '"isNew":false' "$OUT/server-static.out"
echo "pkg-config examples: ok"
