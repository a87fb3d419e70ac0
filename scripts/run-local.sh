#!/usr/bin/env bash
# Starts the team server on 127.0.0.1:8787 with its data in the user's data folder (demo
# accounts on first run), opens the app pointed at it, and stops the server when the app exits.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/debug
listen=127.0.0.1:8787
data_dir="${AGENT_DESK_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/agent-desk-server}"

"$bin/agent-desk-server" seed-demo --data-dir "$data_dir"
"$bin/agent-desk-server" serve --listen "$listen" --data-dir "$data_dir" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT

for _ in $(seq 100); do
  curl -fsS "http://$listen/health" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { echo "the server did not start (is port ${listen##*:} in use?)" >&2; exit 1; }
  sleep 0.1
done

echo "Server on http://$listen — sign in with the demo agent shown above."
AGENT_DESK_SERVER_URL="http://$listen" "$bin/agent-desk"
