#!/usr/bin/env bash
# Regenerates the figures in docs/benchmarks.md: builds chorus and loadtest
# in release, runs every scenario at full size against chorus and the peers,
# and replaces what lies between the "results" markers in docs/benchmarks.md
# (the prose around them is kept). JSON for each scenario goes to
# $CARGO_TARGET_DIR/benchmarks/ (default target/benchmarks/).
#
#   loadtest/bench.sh            # everything, about 80 minutes on 2 cores (the soak is an hour)
#   loadtest/bench.sh idle ...   # only the named scenarios
#
# Needs Redis on 127.0.0.1:6379, PostgreSQL on 127.0.0.1:5432 (user postgres,
# trust auth), node and npm. Every run ends by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET="${CARGO_TARGET_DIR:-target}"
# LOADTEST_BIN and BENCH_CHORUS_BIN point at binaries built elsewhere (no build then).
if [ -z "${LOADTEST_BIN:-}" ] || [ -z "${BENCH_CHORUS_BIN:-}" ]; then
  cargo build --release -p chorus -p loadtest
fi
LT="${LOADTEST_BIN:-$TARGET/release/loadtest}"
CHORUS="${BENCH_CHORUS_BIN:-$TARGET/release/chorus}"
JSON_DIR="$TARGET/benchmarks"
mkdir -p "$JSON_DIR"
DOC="${BENCH_DOC:-docs/benchmarks.md}"
RESULTS="$(mktemp)"
trap 'rm -f "$RESULTS"' EXIT

# name -> scenario and arguments (the name only labels the JSON file).
declare -A ARGS=(
  [event-burst]="event-burst -n 10000 -r 2000 -d 30 --peer socketio,floor"
  [event-burst-1k]="event-burst -n 1000 -r 200 -d 30 --peer socketio,floor"
  [comment-stream]="comment-stream -n 2000 -r 50 -d 30"
  [idle]="idle -n 10000 -d 30 --peer socketio,floor"
  [ingest]="ingest -n 256 -d 30 --database sqlite,postgres"
  [fanout]="fanout -n 10000 -r 2000 -d 15 --steps 1250,2500,5000,10000 --peer socketio,floor"
  [cluster]="cluster -n 10000 -r 2000 -d 30 --nodes 2 --peer socketio"
  [big-conversation]="big-conversation -n 50 -d 10"
  [soak]="soak -n 2000 -r 50 -d 3600"
)
ORDER=(event-burst event-burst-1k comment-stream idle ingest fanout cluster big-conversation soak)
if [ "$#" -gt 0 ]; then ORDER=("$@"); fi

{
  echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) at $(git rev-parse --short HEAD) on $(nproc) cores"
  echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB,"
  echo "Linux $(uname -r); the load generator runs on the same cores as the servers."
  echo
} >"$RESULTS"

for name in "${ORDER[@]}"; do
  echo "== $name: loadtest ${ARGS[$name]}" >&2
  # shellcheck disable=SC2086
  "$LT" ${ARGS[$name]} --quiet --chorus-bin "$CHORUS" \
    --json "$JSON_DIR/$name.json" --markdown "$RESULTS" ||
    printf '(%s: an exactness check failed; see Problems above)\n\n' "$name" >>"$RESULTS"
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
