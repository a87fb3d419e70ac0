#!/bin/sh
# The start-up bench on the packaged app, as agents run it: installs the release .deb from
# DEB_DIR, runs tests/bench/startup.rs against /usr/bin/agent-desk, and removes the package
# again unless it was installed before.
#   scripts/bench-startup.sh target/release-app/bundle/deb
set -eu
cd "$(dirname "$0")/.."
deb_dir=${1:?the folder of the release .deb}
set -- "$deb_dir"/agent-desk_*_amd64.deb
[ -f "$1" ] || { echo "no agent-desk_*_amd64.deb in $deb_dir: build it first" >&2; exit 1; }
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
if ! dpkg-query -W -f='${Status}' agent-desk 2>/dev/null | grep -q "ok installed"; then
	trap '$sudo dpkg --purge agent-desk >/dev/null' EXIT INT TERM HUP
fi
$sudo dpkg -i "$1" >/dev/null
AGENT_DESK_BENCH_APP=/usr/bin/agent-desk ${CARGO:-cargo} bench -p agent-desk-e2e --bench startup
