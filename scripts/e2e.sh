#!/usr/bin/env bash
# Starts zhongfu on a throwaway SQLite database with the demo district and
# runs the console's browser tests (web/e2e) against it.
set -euo pipefail
cd "$(dirname "$0")/.."

ZHONGFU=${ZHONGFU:-target/debug/zhongfu}
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export DATABASE_URL="sqlite://$work/e2e.db" ZHONGFU_PII_KEY_FILE="$work/pii.key" ZHONGFU_LOG=warn
# Demo mode, with a captcha answer the browser test can type (refused outside demo mode).
export ZHONGFU_DEMO_MODE=true ZHONGFU_CAPTCHA_TEST_ANSWER=E2E1 ZHONGFU_CAPTCHA=E2E1

# The demo's own report gives the counts the console must show.
report=$("$ZHONGFU" demo --households 600 --seed 42 --json)
field() { node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]])' "$report" "$1"; }
export ZHONGFU_EXPECT_HOUSEHOLDS=$(field households) ZHONGFU_EXPECT_PERSONS=$(field living_persons)
export ZHONGFU_DEMO_PASSWORD=$(field password)
"$ZHONGFU" serve --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT

for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/server.log"; exit 1; }

ZHONGFU_URL="http://127.0.0.1:$port" npm --prefix web run --silent e2e
