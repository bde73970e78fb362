#!/usr/bin/env bash
# Sets everything up and runs corral on this host: the agent, the dashboard and a demo container
# (host template: needs no download). Ctrl-C stops the dashboard and the agent, whose containers
# stop with it, as LXC's do with their monitor.
#   CORRAL_LXCPATH (/var/lib/corral)  CORRAL_LISTEN (127.0.0.1:7690)  CORRAL_WEB_PORT (3000)
#   CORRAL_WEB_PASSWORD (made on first run, kept in <lxcpath>/dashboard.password)
#   CORRAL_WEB_AGENTS_FILE (/var/lib/corral-web/agents.json: the agent registry, which the
#   dashboard's Agents dialog changes; made on first run with this host's agent)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

LXCPATH=${CORRAL_LXCPATH:-/var/lib/corral}
LISTEN=${CORRAL_LISTEN:-127.0.0.1:7690}
WEB_PORT=${CORRAL_WEB_PORT:-3000}
export CORRAL_LXCPATH=$LXCPATH CORRAL_AGENT="http://$LISTEN"
mkdir -p "$LXCPATH" .corral-dev

pnpm --silent corral agent --lxcpath "$LXCPATH" --listen "$LISTEN" >.corral-dev/agent.log 2>&1 &
AGENT=$!
cleanup() { kill "$WEB" 2>/dev/null || true; kill "$AGENT" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
for _ in $(seq 1 60); do curl -sf "http://$LISTEN/" >/dev/null && break; sleep 0.5; done
curl -sf "http://$LISTEN/" >/dev/null || { echo "the agent did not start: see .corral-dev/agent.log" >&2; exit 1; }

# The demo: a host-template container that prints a line every few seconds and starts with the agent.
if [ ! -f "$LXCPATH/demo/config" ]; then
  pnpm --silent corral create demo --template host --config /dev/stdin <<'CONF' >/dev/null
lxc.start.auto = 1
lxc.init.cmd = /bin/sh /root/demo.sh
CONF
  cat >"$LXCPATH/demo/rootfs/root/demo.sh" <<'DEMO'
echo "demo: hello from $(hostname), PID $$ in its own namespaces"
while :; do echo "demo: $(date +%T) up $(cut -d' ' -f1 /proc/uptime)s"; sleep 5; done
DEMO
fi
state=$(pnpm --silent corral info demo --json | sed -n 's/.*"state": "\([A-Z]*\)".*/\1/p' | head -1)
[ "$state" = RUNNING ] || pnpm --silent corral start demo >/dev/null

PASSFILE="$LXCPATH/dashboard.password"
if [ -z "${CORRAL_WEB_PASSWORD:-}" ]; then
  [ -f "$PASSFILE" ] || (umask 077; head -c 12 /dev/urandom | base64 | tr -d '/+=' >"$PASSFILE")
  CORRAL_WEB_PASSWORD=$(cat "$PASSFILE")
fi
# A session key that outlives a restart of the dashboard.
SECRETFILE="$LXCPATH/dashboard.secret"
[ -f "$SECRETFILE" ] || (umask 077; head -c 32 /dev/urandom | base64 >"$SECRETFILE")
export CORRAL_WEB_SECRET=${CORRAL_WEB_SECRET:-$(cat "$SECRETFILE")}
TOKEN=$(cat "$LXCPATH/agent.token")
export CORRAL_WEB_PASSWORD
export CORRAL_WEB_AGENTS_FILE=${CORRAL_WEB_AGENTS_FILE:-/var/lib/corral-web/agents.json}
unset CORRAL_WEB_AGENTS
if [ ! -f "$CORRAL_WEB_AGENTS_FILE" ]; then
  (umask 077; mkdir -p "$(dirname "$CORRAL_WEB_AGENTS_FILE")"
   printf '[{"name":"%s","url":"http://%s","token":"%s"}]\n' "$(hostname | tr -c 'A-Za-z0-9_.\n-' -)" "$LISTEN" "$TOKEN" >"$CORRAL_WEB_AGENTS_FILE")
fi
echo
echo "corral is running:"
echo "  dashboard  http://127.0.0.1:$WEB_PORT   user admin, password $CORRAL_WEB_PASSWORD"
echo "  agent      http://$LISTEN (log: .corral-dev/agent.log)   try: pnpm corral ls"
echo
(cd apps/web && exec node server.mjs -H 127.0.0.1 -p "$WEB_PORT") &
WEB=$!
wait "$WEB"
