#!/usr/bin/env bash
# The app's updates as the test of packages drives them: a key pair made now (never kept
# in the repository), and two debug .debs of the app, 0.1.0 and 0.2.0, each built with that
# public key and, for this test alone, plain-HTTP transport to a local server. Both come
# through --config overrides, so the shipped configuration never carries them.
#   scripts/updater-test-bundles.sh TAURI_CLI TARGET_DIR OUT_DIR [CARGO_ARGS...]
# CARGO_ARGS go to `cargo build` (the crates `make build` names, so its build is reused).
set -euo pipefail

tauri=$1
target_dir=$2
out=$3
shift 3

rm -rf "$out"
mkdir -p "$out"
"$tauri" signer generate --ci --force --write-keys "$out/updater.key" >/dev/null
public_key=$(cat "$out/updater.key.pub")
export TAURI_SIGNING_PRIVATE_KEY="$out/updater.key"
export TAURI_SIGNING_PRIVATE_KEY_PASSWORD=""

for version in 0.1.0 0.2.0; do
	config=$(printf '{"version":"%s","bundle":{"createUpdaterArtifacts":true},"plugins":{"updater":{"pubkey":"%s","dangerousInsecureTransportProtocol":true}}}' \
		"$version" "$public_key")
	"$tauri" build --ci --debug --bundles deb --config "$config" -- "$@"
	mkdir -p "$out/$version"
	mv "$target_dir/debug/bundle/deb/agent-desk_${version}_amd64.deb" \
		"$target_dir/debug/bundle/deb/agent-desk_${version}_amd64.deb.sig" "$out/$version/"
done
