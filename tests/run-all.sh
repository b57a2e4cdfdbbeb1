#!/usr/bin/env bash
# The test command (README "Run the tests", and what CI runs): formatting,
# lints, the Rust tests (unit, integration, header drift, FFI guard, the
# store's crash test with real processes), the token tests under QEMU on
# CPUs without AVX-512 IFMA, the
# walkthrough as a smoke test, the C tests (static + shared, under valgrind;
# static under AddressSanitizer + UBSan), the Kotlin binding's JVM tests and
# a short fuzz run of every fuzz target (fuzz/run-ci.sh: CONFKIT_FUZZ_SECONDS
# per target, default 25).
#
# CONFKIT_REQUIRE_ALL=1 (set by CI) turns a skipped part (no valgrind, no
# kotlinc, no cargo-fuzz, no qemu-x86_64) into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets --features sqlite -- -D warnings"
cargo clippy --all-targets --features sqlite -- -D warnings

step "cargo check --lib (default features: no store engine without the sqlite feature)"
cargo check --lib
if cargo tree -e normal --prefix none | grep -q '^rusqlite\|^libsqlite3-sys'; then
  echo "error: the default build pulls in SQLite" >&2
  exit 1
fi

step "cargo test --features sqlite (unit, integration incl. 200-kill crash test, doc tests)"
cargo test --features sqlite

step "the aws-lc comparison bench compiles and is lint-clean (benches/jwt-aws-lc: a crate of its own)"
cargo fmt --manifest-path benches/jwt-aws-lc/Cargo.toml -- --check
cargo clippy --manifest-path benches/jwt-aws-lc/Cargo.toml --benches -- -D warnings

step "token tests on CPUs without AVX-512 IFMA (QEMU user mode: Haswell, Nehalem)"
bash tests/run-qemu.sh

step "walkthrough (smoke test)"
cargo run --quiet --example walkthrough > target/walkthrough.out
tail -n 3 target/walkthrough.out

step "C tests"
bash tests/c/run.sh

step "footprint: the verify-only C programs verify, and link no serde_json"
bash scripts/footprint.sh --check

step "C tests under AddressSanitizer + UBSan (Rust static library built with -Zsanitizer=address)"
bash tests/c/run-asan.sh

step "C examples through pkg-config (scripts/install.sh, then the README's link lines)"
bash tests/c/pkgconfig.sh

step "Swift binding checks (no Swift compiler here: names and arity against the header, and a ctypes mirror of the XCTests)"
python3 bindings/swift/scripts/check_abi.py
CONFKIT_LIB=target/debug/libconfkit.so python3 bindings/swift/scripts/mirror_tests.py

step "Kotlin binding tests"
bash bindings/kotlin/run-tests.sh
python3 bindings/kotlin/scripts/check_readme.py

step "the device library (no authority): lint-clean, no authority exported, the flow replayed from C and Kotlin"
bash scripts/device-only.sh

step "fuzz: every target for ${CONFKIT_FUZZ_SECONDS:-25}s from its corpus (cargo-fuzz, ASan, leaks, 1 s timeout)"
bash fuzz/run-ci.sh

step "all tests passed"
