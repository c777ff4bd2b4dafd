#!/usr/bin/env bash
# On a fresh Debian 12 machine: installs what is missing, builds hao (Release) and runs the
# main job on its built-in default: `hao search` (the fmnist-mbv2 space on Fashion-MNIST for a
# ZU3EG, about 10 minutes on 2 cores). Extra arguments go to `hao search` (e.g. --budget 20).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh build
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DHAO_BUILD_TESTS=OFF -DHAO_BUILD_BENCH=OFF
cmake --build build -j2 --target hao
echo "hao built: $(pwd)/build/apps/hao/hao"
./build/apps/hao/hao search "$@"
