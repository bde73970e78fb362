#!/usr/bin/env bash
# Installs everything corral needs on a fresh Debian machine with Node 20 and npm, as root:
# Debian packages (LXC, runc, busybox-static for templates and benchmarks, mmdebstrap and
# debootstrap with Debian's archive keyring for the debian template, openssl for its root
# password, Chromium for the browser tests, iproute2, bash-completion), pnpm, the workspace's packages, the native plan
# executor and the dashboard's production build; then the `corral` command on the PATH and its bash completion.
# Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

[ "$(id -u)" = 0 ] || { echo "setup: run as root (the agent makes namespaces, cgroups and veths)" >&2; exit 1; }

debs=(lxc runc busybox-static mmdebstrap debootstrap debian-archive-keyring openssl chromium iproute2 util-linux curl prometheus bash-completion)
missing=()
for p in "${debs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v pnpm >/dev/null; then
  say "installing pnpm"
  npm install -g pnpm@12 >/dev/null 2>&1 || npm install -g pnpm >/dev/null
fi

# node-gyp cannot download Node's headers here: build native modules against the local ones.
[ -d /usr/include/node ] && export npm_config_nodedir=/usr
# Next.js would report telemetry to a host this machine cannot reach.
export NEXT_TELEMETRY_DISABLED=1
say "installing the workspace's packages"
pnpm install --frozen-lockfile --reporter=silent 2>/dev/null || pnpm install --reporter=silent

say "building the native executor and the dashboard"
pnpm --silent build

# The command on the PATH is a link to this checkout's launcher, which finds its bundle from its
# own real path, so it works from any directory (and runs this checkout's code, rebuilt if stale).
say "linking /usr/local/bin/corral and installing its bash completion"
ln -sfn "$PWD/apps/agent/bin/corral.mjs" /usr/local/bin/corral
completions=/usr/share/bash-completion/completions
mkdir -p "$completions"
node apps/agent/bin/corral.mjs completion bash >"$completions/corral.tmp" && mv "$completions/corral.tmp" "$completions/corral"
say "done"
