#!/usr/bin/env bash
# End-to-end test of the extension in a real VS Code workbench: packages the .vsix, installs it into
# a sandboxed code-server (VS Code 1.139 server + web workbench), serves a copy of the sample
# workspace test/e2e/workspace on 127.0.0.1, and drives Debian's chromium with playwright-core
# (test/e2e/extension.e2e.test.mjs, run by node --test).
# Needs scripts/e2e/setup.sh first (npm run test:e2e does both).
# env: MIC_E2E_ROOT (scratch root), MIC_E2E_PORT (default: a free port),
#      MIC_E2E_SHOTS (screenshots; default test-results/e2e-screenshots), MIC_E2E_SKIP_PACKAGE=1
set -euo pipefail
# shellcheck source=scripts/e2e/lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
need_setup
cd "$REPO"
T0=$(date +%s)
stamp() { echo "[e2e t+$(($(date +%s) - T0))s] $*"; }

VSIX=$(vsix_path)
if [ "${MIC_E2E_SKIP_PACKAGE:-}" != 1 ] || [ ! -f "$VSIX" ]; then
  stamp "npm run package"
  npm run --silent package
fi
[ -f "$VSIX" ] || { echo "e2e: $VSIX was not written by npm run package" >&2; exit 1; }
stamp "vsix: $VSIX ($(du -k "$VSIX" | cut -f1) KiB)"

RUN=$MIC_E2E_ROOT/run-e2e
PORT=${MIC_E2E_PORT:-$(free_port)}
SHOTS=${MIC_E2E_SHOTS:-$REPO/test-results/e2e-screenshots}
LOGS=$REPO/test-results/e2e-logs
rm -rf "$SHOTS" "$LOGS"
mkdir -p "$SHOTS"
prepare_instance "$RUN" "$PORT" "$VSIX" fresh
stamp "extension installed into $RUN/ext"

collect_logs() {
  # The server's and the extension host's logs, next to the screenshots, for a failed run.
  mkdir -p "$LOGS"
  cp "$RUN/server.log" "$LOGS/" 2>/dev/null || true
  cp -r "$RUN/ud/logs" "$LOGS/vscode-logs" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  stop_server
  collect_logs
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

START_MS=$(date +%s%3N)
start_server "$RUN" "$PORT"
stamp "code-server listening on 127.0.0.1:$PORT after $(($(date +%s%3N) - START_MS)) ms (pid $CS_PID)"

stamp "playwright test; screenshots in $SHOTS; on failure, logs in $LOGS"
set +e
MIC_E2E_URL="http://127.0.0.1:$PORT" MIC_E2E_WS="$RUN/ws" MIC_E2E_SHOTS="$SHOTS" \
  MIC_E2E_SERVER_PID="$CS_PID" MIC_E2E_PROFILE="$RUN/chrome-profile" CHROMIUM="$CHROMIUM" \
  node --test --test-concurrency=1 --test-reporter=spec test/e2e/extension.e2e.test.mjs < /dev/null
rc=$?
set -e
exit $rc
