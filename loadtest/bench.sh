#!/usr/bin/env bash
# Regenerates the figures in docs/benchmarks.md: builds chorus and loadtest
# in release, runs every scenario at full size against chorus and the peers,
# and replaces what lies between the "results" markers in docs/benchmarks.md
# (the prose around them is kept). JSON for each scenario goes to
# $CARGO_TARGET_DIR/benchmarks/ (default target/benchmarks/).
#
#   loadtest/bench.sh            # everything, about 20 minutes on 2 cores
#   loadtest/bench.sh idle ...   # only the named scenarios
#
# Needs Redis on 127.0.0.1:6379, PostgreSQL on 127.0.0.1:5432 (user postgres,
# trust auth), node and npm. Every run ends by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET="${CARGO_TARGET_DIR:-target}"
cargo build --release -p chorus -p loadtest
LT="$TARGET/release/loadtest"
JSON_DIR="$TARGET/benchmarks"
mkdir -p "$JSON_DIR"
DOC=docs/benchmarks.md
RESULTS="$(mktemp)"
trap 'rm -f "$RESULTS"' EXIT

declare -A ARGS=(
  [event-burst]="-n 10000 -r 2000 -d 30 --peer socketio,floor"
  [comment-stream]="-n 2000 -r 50 -d 30"
  [idle]="-n 10000 -d 30 --peer socketio,floor"
  [ingest]="-n 256 -d 30 --database sqlite,postgres"
  [fanout]="-n 10000 -r 2000 -d 15 --steps 1250,2500,5000,10000 --peer socketio,floor"
  [cluster]="-n 10000 -r 2000 -d 30 --nodes 2 --peer socketio"
)
ORDER=(event-burst comment-stream idle ingest fanout cluster)
if [ "$#" -gt 0 ]; then ORDER=("$@"); fi

{
  echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) at $(git rev-parse --short HEAD) on $(nproc) cores"
  echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB,"
  echo "Linux $(uname -r); the load generator runs on the same cores as the servers."
  echo
} >"$RESULTS"

for scenario in "${ORDER[@]}"; do
  # shellcheck disable=SC2086
  "$LT" "$scenario" ${ARGS[$scenario]} --quiet \
    --chorus-bin "$TARGET/release/chorus" \
    --json "$JSON_DIR/$scenario.json" --markdown "$RESULTS" ||
    echo "($scenario: the exactness check failed, see above)" | tee -a "$RESULTS"
done

if [ -f "$DOC" ] && grep -q '<!-- results:begin -->' "$DOC"; then
  awk -v results="$RESULTS" '
    /<!-- results:begin -->/ { print; while ((getline line < results) > 0) print line; skip = 1; next }
    /<!-- results:end -->/ { skip = 0 }
    !skip { print }
  ' "$DOC" >"$DOC.new" && mv "$DOC.new" "$DOC"
else
  { echo "# Benchmarks"; echo; echo "<!-- results:begin -->"; cat "$RESULTS"; echo "<!-- results:end -->"; } >"$DOC"
fi
echo "updated $DOC"
