#!/usr/bin/env bash
# On a fresh Debian 12 machine: installs what is missing, builds hao with warnings as errors
# and runs every test: the clang-format check, the libFuzzer targets of the readers for a
# bounded number of inputs (label fuzz, built with clang-14 in build-fuzz/), and the CTest
# suites (labels unit, torch and postgres: the last under pg_virtualenv, a throw-away
# PostgreSQL server; slow marks the tests over 10 s), last. Exits non-zero on the
# first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh test

echo "== format check"
clang-format-14 --dry-run --Werror $(git ls-files '*.cpp' '*.hpp')

echo "== fuzz the readers (bounded)"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release -DHAO_FUZZ=ON -DHAO_WERROR=ON \
  -DCMAKE_CXX_COMPILER=clang++-14
cmake --build build-fuzz -j2
(cd build-fuzz && ctest --output-on-failure)

echo "== build and unit tests"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DHAO_WERROR=ON -DHAO_BUILD_TESTS=ON -DHAO_BUILD_BENCH=ON
cmake --build build -j2
(cd build && ctest -j2 --output-on-failure)
