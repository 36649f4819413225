#!/usr/bin/env bash
# Runs the browser end-to-end tests of the web client, installing what a
# fresh machine lacks: Debian's chromium and python3-aiosmtpd (apt) and the npm dependencies
# (npm ci). Builds chorus with cargo when no binary is found.
#
#   tests/e2e/run.sh                 # every test file
#   tests/e2e/run.sh live.test.js    # some of them
#
# Environment: CHORUS_BIN (default ${CARGO_TARGET_DIR:-/work/target}/debug/chorus,
# then <repo>/target/debug/chorus), CHROMIUM_BIN (default /usr/bin/chromium),
# E2E_TIMEOUT (seconds for the whole run, default 1200), E2E_DEBUG=1 (print
# WebSocket frames and page warnings).
set -euo pipefail
cd "$(dirname "$0")"
REPO="$(cd ../.. && pwd)"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

CHROMIUM_BIN="${CHROMIUM_BIN:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM_BIN" ]; then
  echo "e2e: installing chromium with apt-get" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
fi

# The email sign-in tests talk to a real SMTP server (tests/smtp/sink.py).
if ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
  echo "e2e: installing python3-aiosmtpd with apt-get" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3-aiosmtpd >/dev/null
fi

if [ ! -f node_modules/playwright-core/package.json ] || [ ! -f node_modules/axe-core/axe.min.js ] || [ ! -f node_modules/jsqr/package.json ]; then
  echo "e2e: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ -z "${CHORUS_BIN:-}" ]; then
  CHORUS_BIN="${CARGO_TARGET_DIR:-/work/target}/debug/chorus"
  [ -x "$CHORUS_BIN" ] || CHORUS_BIN="$REPO/target/debug/chorus"
  if [ ! -x "$CHORUS_BIN" ]; then
    echo "e2e: building chorus (cargo build)" >&2
    (cd "$REPO" && cargo build --quiet --bin chorus)
    CHORUS_BIN="${CARGO_TARGET_DIR:-$REPO/target}/debug/chorus"
  fi
fi
export CHORUS_BIN CHROMIUM_BIN
echo "e2e: chorus at $CHORUS_BIN, chromium at $CHROMIUM_BIN" >&2

if [ "$#" -gt 0 ]; then
  files=("$@")
else
  files=(./*.test.js)
fi
exec timeout --kill-after=10 "${E2E_TIMEOUT:-1200}" \
  node --test --test-concurrency=1 --test-timeout=180000 "${files[@]}"
