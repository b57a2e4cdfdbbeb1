#!/usr/bin/env bash
# The token tests on CPUs without AVX-512 IFMA (issue 13, item 2): this
# repository's builds compile curve25519-dalek's IFMA backend in
# (.cargo/config.toml) and the backend is chosen at run time, so the same
# binaries must run, and give the same verdicts, on older CPUs. QEMU's user
# mode runs them with a CPU model that reports
#   - Haswell: AVX2, no AVX-512 (the AVX2 backend), and
#   - Nehalem: no AVX at all (the serial backend).
# QEMU 7.2's emulator implements no AVX-512 instruction, so a binary that
# picked the IFMA code on either model would die with SIGILL here.
#
# The cases are cut down (the emulator is 20-50x slower); the native run of
# `cargo test` runs them in full. CONFKIT_REQUIRE_ALL=1 turns a missing
# qemu-x86_64 into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(uname -m)" != "x86_64" ]; then
  echo "skip: the IFMA fallback check is for x86_64 hosts"
  exit 0
fi
if ! command -v qemu-x86_64 >/dev/null; then
  if [ "${CONFKIT_REQUIRE_ALL:-0}" = 1 ]; then
    echo "error: qemu-x86_64 not found (Debian: apt-get install qemu-user)" >&2
    exit 1
  fi
  echo "skip: qemu-x86_64 not found (Debian: apt-get install qemu-user)"
  exit 0
fi

# The binaries must have the IFMA backend in them, or this checks nothing.
if ! grep -q 'curve25519_dalek_backend="avx512"' .cargo/config.toml; then
  echo "error: .cargo/config.toml no longer selects the avx512 backend" >&2
  exit 1
fi

tests=(tokens strict_verify token_batch)
args=()
for t in "${tests[@]}"; do args+=(--test "$t"); done
exes=$(cargo test --no-run "${args[@]}" 2>&1 | sed -n 's/.*Executable .*(\(.*\))$/\1/p')
if [ "$(echo "$exes" | wc -l)" != "${#tests[@]}" ]; then
  echo "error: expected ${#tests[@]} test binaries, found: $exes" >&2
  exit 1
fi
for exe in $exes; do
  if ! nm "$exe" | grep 'spec_avx512ifma' >/dev/null; then
    echo "error: $exe has no IFMA code in it" >&2
    exit 1
  fi
done

# The control: an IFMA instruction dies under these CPU models, so a wrong
# choice of backend could not pass unnoticed.
mkdir -p target/qemu
cat > target/qemu/ifma_probe.c <<'EOF'
#include <immintrin.h>
int main(void) {
    __m256i r = _mm256_madd52lo_epu64(_mm256_set1_epi64x(7), _mm256_set1_epi64x(3),
                                      _mm256_set1_epi64x(5));
    return (int)_mm256_extract_epi64(r, 0) == 22 ? 0 : 1;
}
EOF
gcc -O1 -mavx512ifma -mavx512vl target/qemu/ifma_probe.c -o target/qemu/ifma_probe
for cpu in Haswell-noTSX Nehalem; do
  # (through sh, whose "Illegal instruction" notice goes to /dev/null)
  status=$(sh -c 'qemu-x86_64 -cpu "$1" "$2" >/dev/null 2>&1; echo $?' _ \
    "$cpu" target/qemu/ifma_probe 2>/dev/null)
  if [ "$status" = 0 ]; then
    echo "error: an IFMA instruction ran under -cpu $cpu: this check would prove nothing" >&2
    exit 1
  fi
  echo "control: an IFMA instruction dies under -cpu $cpu (status $status)"
done

export CONFKIT_STRICT_CASES=${CONFKIT_QEMU_STRICT_CASES:-10000}
export CONFKIT_BATCH_CASES=${CONFKIT_QEMU_BATCH_CASES:-24}
for cpu in Haswell-noTSX Nehalem; do
  for exe in $exes; do
    echo "--- qemu-x86_64 -cpu $cpu $(basename "$exe")"
    qemu-x86_64 -cpu "$cpu" "$exe" --test-threads 2 -q 2>&1 \
      | grep -v "TCG doesn't support requested feature" | tail -n 3
    # the pipeline's status is tail's: check the test binary's own
    status=${PIPESTATUS[0]}
    if [ "$status" != 0 ]; then
      echo "error: $(basename "$exe") failed under -cpu $cpu (status $status)" >&2
      exit 1
    fi
  done
done
echo "the token tests pass on CPUs without AVX-512 IFMA (Haswell: AVX2; Nehalem: serial)"
