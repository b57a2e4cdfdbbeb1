#!/usr/bin/env bash
# Installs confkit for C users under a prefix: the header, the static and
# shared libraries, and a pkg-config file.
#
#   bash scripts/install.sh [PREFIX]        (default /usr/local)
#
#   PREFIX/include/confkit.h
#   PREFIX/lib/libconfkit.a, PREFIX/lib/libconfkit.so (.dylib on macOS)
#   PREFIX/lib/pkgconfig/confkit.pc
#
# Then: cc app.c $(pkg-config --cflags --libs confkit)   (with
# PKG_CONFIG_PATH=PREFIX/lib/pkgconfig for a prefix pkg-config does not search).
#
# Environment: CONFKIT_PROFILE=release (default), ship (fat LTO, one codegen
# unit, no debug info: for the servers you ship), mobile (ship optimized for
# size: for device builds, which verify as fast and never sign) or debug:
# which cargo build to install; CONFKIT_FEATURES (default "sqlite": the store an app server
# needs; set it empty for a library without SQLite); CONFKIT_DEVICE_ONLY=1
# for the device library (no authority: `--no-default-features`, no SQLite;
# the header is the same, the platform's functions are absent);
# CARGO_TARGET_DIR is honoured.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${1:-/usr/local}
PROFILE=${CONFKIT_PROFILE:-release}
TARGET=${CARGO_TARGET_DIR:-target}
FEATURES=${CONFKIT_FEATURES-sqlite}
FLAGS=(--lib --features "$FEATURES")
if [ "${CONFKIT_DEVICE_ONLY:-0}" = 1 ]; then
  FLAGS=(--lib --no-default-features)
fi
case "$PROFILE" in
  release) cargo build --release "${FLAGS[@]}" ;;
  ship | mobile) cargo build --profile "$PROFILE" "${FLAGS[@]}" ;;
  debug) cargo build "${FLAGS[@]}" ;;
  *) echo "CONFKIT_PROFILE must be release, ship, mobile or debug" >&2; exit 2 ;;
esac
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
SHARED=libconfkit.so
[ "$(uname -s)" = Darwin ] && SHARED=libconfkit.dylib
mkdir -p "$PREFIX/include" "$PREFIX/lib/pkgconfig"
PREFIX=$(cd "$PREFIX" && pwd)
install -m 644 include/confkit.h "$PREFIX/include/confkit.h"
install -m 644 "$TARGET/$PROFILE/libconfkit.a" "$PREFIX/lib/libconfkit.a"
install -m 755 "$TARGET/$PROFILE/$SHARED" "$PREFIX/lib/$SHARED"
sed -e "s|@PREFIX@|$PREFIX|" -e "s|@VERSION@|$VERSION|" scripts/confkit.pc.in \
  > "$PREFIX/lib/pkgconfig/confkit.pc"
echo "installed confkit $VERSION ($PROFILE) under $PREFIX"
