#!/usr/bin/env bash
# Installs the Debian 12 packages hao needs that are not installed yet (apt-get; sudo when
# not root). Usage: scripts/install_deps.sh [build|test]
#   build: compiler, CMake and the libraries hao links (enough for scripts/setup.sh)
#   test:  also GoogleTest, Google Benchmark, clang-14 with libFuzzer, clang-format, PostgreSQL
set -euo pipefail

BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  coinor-libcbc-dev        # COIN-OR CBC: the integer programs
  libyaml-cpp-dev          # YAML network, device and bit-width files
  nlohmann-json3-dev       # JSON output and FINN folding files
  libcli11-dev             # command line
  libonnx-dev libprotobuf-dev protobuf-compiler  # ONNX import
  libeigen3-dev            # least squares for latency calibration
  libnlopt-cxx-dev         # NLopt (COBYLA): SHGO's local minimizations (strategy flash)
  zlib1g-dev               # gzip-compressed IDX data sets
  libsqlite3-dev           # the study store (hao search)
  libpq-dev                # the shared study store on a PostgreSQL server (--storage postgresql://)
  libtorch-dev             # LibTorch (CPU): training, quantization-aware training (nn module)
  dataset-fashion-mnist    # the built-in data set for hao train
)
TEST_PACKAGES=(
  libgtest-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev   # libFuzzer targets for the readers
  clang-format-14
  postgresql postgresql-common  # a throw-away server for the shared store's tests (pg_virtualenv)
  python3-onnx                  # the independent QONNX evaluator of hao export's test (NumPy)
)

packages=("${BUILD_PACKAGES[@]}")
if [ "${1:-build}" = "test" ]; then packages+=("${TEST_PACKAGES[@]}"); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages present"
  exit 0
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi
echo "install_deps: installing ${missing[*]}"
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
