#!/usr/bin/env bash
# Many workers on one study: `hao bench` with 1, 2 and 4 worker processes per run on a
# throw-away PostgreSQL server (pg_virtualenv), each evaluation a table look-up that waits
# DELAY seconds as if it trained, so that evaluation dominates. Prints each run's table and
# writes workers-N.json; compare the "s per run" column (wall time) and the HV ratio.
#
#   cmake --build build -j2 && bash bench/workers_bench.sh [DELAY=1] [SEEDS=10] [STRATEGIES=hao]
#
# Same arguments, same candidates for one worker; with more, the order in which workers claim
# depends on timing. The time is the machine's.
set -euo pipefail
cd "$(dirname "$0")/.."
DELAY=${1:-1}
SEEDS=${2:-10}
STRATEGIES=${3:-hao}
HAO=$(pwd)/build/apps/hao/hao
OUT=${OUT:-$(pwd)}
export HAO DELAY SEEDS STRATEGIES OUT
pg_virtualenv bash -c '
  set -euo pipefail
  url="postgresql://$PGUSER@$PGHOST:$PGPORT/postgres"
  for w in 1 2 4; do
    echo "== $w worker(s), $DELAY s per evaluation"
    "$HAO" bench nb201 --strategy "$STRATEGIES" --budget 50 --seeds "$SEEDS" --workers "$w" \
      --evaluation-delay "$DELAY" --storage "$url" --json "$OUT/workers-$w.json"
  done'
