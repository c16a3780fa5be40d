#!/usr/bin/env bash
# Run every test: installs missing dependencies, builds with warnings as
# errors under AddressSanitizer + UndefinedBehaviorSanitizer, runs ctest.
# Extra arguments go to ctest (e.g. -L mmu, -R x86).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh --quiet
BUILD=${MMUEMU_TEST_BUILD:-build/asan}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DMMUEMU_WERROR=ON -DMMUEMU_SANITIZE=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
cd "$BUILD"
ctest --output-on-failure -j"$(nproc)" "$@"
