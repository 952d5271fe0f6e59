#!/usr/bin/env bash
# npm run demo: the extension in a real VS Code workbench in your browser. Installs what it needs
# (scripts/e2e/setup.sh, cached), packages the .vsix, installs it into a sandboxed code-server and
# serves the sample workspace on 127.0.0.1 until Ctrl-C. The workspace copy and the editor's state
# survive a restart (under $MIC_E2E_ROOT/demo).
# env: MIC_DEMO_PORT (default 8765), MIC_E2E_ROOT
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/e2e/lib.sh
. "$HERE/lib.sh"
bash "$HERE/setup.sh"
cd "$REPO"
PORT=${MIC_DEMO_PORT:-8765}
if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
  echo "demo: 127.0.0.1:$PORT is in use; choose another port with MIC_DEMO_PORT=NNNN npm run demo" >&2
  exit 1
fi
npm run --silent package
DEMO=$MIC_E2E_ROOT/demo
prepare_instance "$DEMO" "$PORT" "$(vsix_path)"
trap 'stop_server' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start_server "$DEMO" "$PORT"
cat <<MSG

  MIC X100 debugger in VS Code (code-server $CS_VERSION), on this machine only:

      http://127.0.0.1:$PORT/?folder=$DEMO/ws

  Press F5 ("Boot one card"); the card's console opens in the terminal panel as "mic0 console".
  From another machine: ssh -L $PORT:127.0.0.1:$PORT <this host>, then open the same URL.
  Server log: $DEMO/server.log. Ctrl-C stops the server.

MSG
wait "$CS_PID"
