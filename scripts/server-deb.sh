#!/bin/sh
# Packs the server built in PROFILE (release or debug) as a .deb in OUT_DIR: the binary,
# its systemd unit, its settings (a conffile) and docs; its own system user is made when
# it is installed (packaging/server/).
#   scripts/server-deb.sh release target/release-app/bundle/deb
set -eu
cd "$(dirname "$0")/.."
profile=${1:?profile: release or debug}
out=${2:?output folder}
target=${CARGO_TARGET_DIR:-target}
binary="$target/$profile/agent-desk-server"
[ -x "$binary" ] || { echo "no $binary: build it first" >&2; exit 1; }
version=$(cargo metadata --no-deps --format-version 1 \
	| jq -r '.packages[] | select(.name == "agent-desk-server") | .version')
arch=$(dpkg --print-architecture)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT INT TERM HUP

install -D -m 0755 "$binary" "$root/usr/bin/agent-desk-server"
install -D -m 0644 packaging/server/agent-desk-server.service "$root/lib/systemd/system/agent-desk-server.service"
install -D -m 0640 packaging/server/server.env "$root/etc/agent-desk/server.env"
install -D -m 0644 docs/DEPLOY.md "$root/usr/share/doc/agent-desk-server/DEPLOY.md"
install -D -m 0644 docs/API.md "$root/usr/share/doc/agent-desk-server/API.md"
install -d "$root/DEBIAN"
install -m 0755 packaging/server/postinst packaging/server/prerm packaging/server/postrm "$root/DEBIAN/"
echo /etc/agent-desk/server.env > "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: agent-desk-server
Version: $version
Architecture: $arch
Maintainer: Agent Desk <agent-desk@localhost>
Installed-Size: $size
Depends: adduser, libc6
Section: net
Priority: optional
Description: Agent Desk team server
 The server Agent Desk's desktop apps sync with: agents' profiles, presence,
 teams, the people directory and alerts from the team's helpdesks, over HTTP and
 WebSocket, on SQLite or PostgreSQL. Runs as the agent-desk-server service.
CONTROL
mkdir -p "$out"
# A debug build's binary is large: packed quickly rather than small.
compression="-Zxz"
[ "$profile" = release ] || compression="-Zgzip -z1"
# shellcheck disable=SC2086
dpkg-deb --root-owner-group $compression --build "$root" "$out/agent-desk-server_${version}_${arch}.deb" >/dev/null
echo "$out/agent-desk-server_${version}_${arch}.deb"
