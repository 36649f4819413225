#!/usr/bin/env bash
# Regenerates the figures in docs/benchmarks.md: builds chorus and loadtest
# in release, runs every scenario at full size against chorus and the peers,
# and rewrites what lies between the "results" markers in docs/benchmarks.md
# (the prose around them is kept). Each scenario's figures sit between
# <!-- bench:NAME:begin --> and <!-- bench:NAME:end -->, headed by when, at
# which commit and under what load they were measured, so one scenario can
# be measured again alone. JSON for each goes to $CARGO_TARGET_DIR/benchmarks/
# (default target/benchmarks/).
#
#   loadtest/bench.sh               # everything, about 90 minutes on 2 cores (the soak is an hour):
#                                   # the whole results block, with the machine, is rewritten
#   loadtest/bench.sh soak cluster  # only these: their sections are replaced (or added in
#                                   # their place in ORDER), the rest of the block is kept
#
# Needs Redis on 127.0.0.1:6379, PostgreSQL on 127.0.0.1:5432 (user postgres,
# trust auth), node and npm; restarts starts a PostgreSQL (initdb, pg_ctl) and
# a redis-server of its own. Every run ends by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

# name -> scenario and arguments (the name labels the section and the JSON file).
declare -A ARGS=(
  # The headline: the largest size at which the floor has kept up with the rate here on a quiet machine;
  # each run says whether it did (the floor's writes/s in the table).
  [event-burst-5k]="event-burst -n 5000 -r 1000 -d 30 --peer socketio-coalesced,floor"
  # Where the load generator saturates on 2 cores (the floor falls behind too).
  [event-burst]="event-burst -n 10000 -r 2000 -d 30 --peer socketio,socketio-coalesced,floor"
  [event-burst-1k]="event-burst -n 1000 -r 200 -d 30 --peer socketio,socketio-coalesced,floor"
  [comment-stream]="comment-stream -n 2000 -r 50 -d 30"
  [idle]="idle -n 10000 -d 30 --peer socketio,socketio-coalesced,floor"
  [ingest]="ingest -n 256 -d 30 --database sqlite,postgres"
  [fanout]="fanout -n 10000 -r 2000 -d 15 --steps 1250,2500,5000,10000 --peer socketio,socketio-coalesced,floor"
  # At the rate one node holds; the single-node SQLite reference runs first, in the same invocation.
  [cluster]="cluster -n 5000 -r 1000 -d 30 --nodes 2 --peer socketio-coalesced"
  [restarts]="restarts -n 2000 -r 200 -d 60"
  [big-conversation]="big-conversation -n 50 -d 10"
  [soak]="soak -n 2000 -r 50 -d 3600"
)
# Headings of the Markdown sections (default: the name).
declare -A TITLES=(
  [event-burst-5k]="event-burst at 5,000 connections (the headline size: the floor kept up here in quieter runs)"
  [event-burst]="event-burst at 10,000 connections (the load generator saturates)"
  [event-burst-1k]="event-burst at 1,000 connections"
)
ORDER=(event-burst-5k event-burst event-burst-1k comment-stream idle ingest fanout cluster restarts big-conversation soak)

WHOLE=1
RUN=("${ORDER[@]}")
if [ "$#" -gt 0 ]; then
  WHOLE=0
  RUN=("$@")
fi
for name in "${RUN[@]}"; do
  if [ -z "${ARGS[$name]:-}" ]; then
    echo "unknown scenario name: $name (one of: ${ORDER[*]})" >&2
    exit 2
  fi
done

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
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"

# Runs one scenario into $WORK/NAME.md, markers included.
measure() {
  local name="$1" section="$WORK/$1.md"
  echo "== $name: loadtest ${ARGS[$name]}" >&2
  {
    echo "<!-- bench:$name:begin -->"
    echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) at $COMMIT on $(nproc) cores (load average at start: $(cut -d' ' -f1-3 /proc/loadavg))."
    echo
  } >"$section"
  # shellcheck disable=SC2086
  "$LT" ${ARGS[$name]} --quiet --chorus-bin "$CHORUS" --title "${TITLES[$name]:-$name}" \
    --json "$JSON_DIR/$name.json" --markdown "$section" ||
    printf '(%s: an exactness check failed or the run could not finish; see Problems above)\n\n' "$name" >>"$section"
  echo "<!-- bench:$name:end -->" >>"$section"
}

# The machine, once per whole run.
machine() {
  echo "Measured on $(nproc) cores"
  echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB,"
  echo "Linux $(uname -r); the load generator runs on the same cores as the servers."
  echo "Each section says when, at which commit and under what load it was measured."
  echo
}

# Replaces NAME's section in $DOC, or adds it before the first later section
# in ORDER that the document has (else at the end of the results block).
place() {
  local name="$1" section="$WORK/$1.md" begin="<!-- bench:$1:begin -->"
  if grep -qxF "$begin" "$DOC"; then
    awk -v begin="$begin" -v end="<!-- bench:$name:end -->" -v file="$section" '
      $0 == begin { while ((getline line < file) > 0) print line; skip = 1; next }
      skip && $0 == end { skip = 0; next }
      !skip { print }
    ' "$DOC" >"$DOC.new"
  else
    local anchor="<!-- results:end -->" later=0 other
    for other in "${ORDER[@]}"; do
      if [ "$later" = 1 ] && grep -qxF "<!-- bench:$other:begin -->" "$DOC"; then
        anchor="<!-- bench:$other:begin -->"
        break
      fi
      if [ "$other" = "$name" ]; then later=1; fi
    done
    awk -v anchor="$anchor" -v file="$section" '
      $0 == anchor && !done { while ((getline line < file) > 0) print line; print ""; done = 1 }
      { print }
    ' "$DOC" >"$DOC.new"
  fi
  mv "$DOC.new" "$DOC"
}

for name in "${RUN[@]}"; do
  measure "$name"
done

if [ "$WHOLE" = 1 ] || ! { [ -f "$DOC" ] && grep -qxF '<!-- results:begin -->' "$DOC"; }; then
  RESULTS="$WORK/results.md"
  machine >"$RESULTS"
  for name in "${RUN[@]}"; do
    cat "$WORK/$name.md" >>"$RESULTS"
    echo >>"$RESULTS"
  done
  if [ -f "$DOC" ] && grep -qxF '<!-- results:begin -->' "$DOC"; then
    awk -v results="$RESULTS" '
      /^<!-- results:begin -->$/ { print; while ((getline line < results) > 0) print line; skip = 1; next }
      /^<!-- results:end -->$/ { skip = 0 }
      !skip { print }
    ' "$DOC" >"$DOC.new" && mv "$DOC.new" "$DOC"
  else
    { echo "# Benchmarks"; echo; echo "<!-- results:begin -->"; cat "$RESULTS"; echo "<!-- results:end -->"; } >"$DOC"
  fi
else
  for name in "${RUN[@]}"; do
    place "$name"
  done
fi
echo "updated $DOC"
