#!/usr/bin/env bash
# Starts the team server on 127.0.0.1:8787 with its data in the user's data folder (demo
# accounts on first run), a stand-in helpdesk posting ticket events for the demo agent,
# opens the app pointed at it, and stops both when the app exits.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/debug
listen=127.0.0.1:8787
data_dir="${AGENT_DESK_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/agent-desk-server}"

"$bin/agent-desk-server" seed-demo --data-dir "$data_dir"
"$bin/agent-desk-server" serve --listen "$listen" --data-dir "$data_dir" &
server=$!
simulator=
trap 'kill $simulator "$server" 2>/dev/null || true; wait 2>/dev/null || true' EXIT

for _ in $(seq 100); do
  curl -fsS "http://$listen/health" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { echo "the server did not start (is port ${listen##*:} in use?)" >&2; exit 1; }
  sleep 0.1
done

# A few ticket events a minute, so alerts arrive while the app is open.
"$bin/agent-desk-server" simulate --server "http://$listen" --rate "${AGENT_DESK_SIMULATE_RATE:-4}" >/dev/null &
simulator=$!

echo "Server on http://$listen — sign in with the demo agent shown above."
echo "Ticket events arrive for the demo agent ${AGENT_DESK_SIMULATE_RATE:-4} times a minute (AGENT_DESK_SIMULATE_RATE)."
AGENT_DESK_SERVER_URL="http://$listen" "$bin/agent-desk"
