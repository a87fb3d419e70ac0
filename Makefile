# Agent Desk — `make run` and `make test` on a fresh Debian 12 / Ubuntu machine.
# Everything they need is installed by `make deps` (apt packages, npm packages, tauri-driver).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
CARGO ?= cargo
# A one-off build (CI, a fresh clone) gains nothing from incremental caches, which would
# double the size of target/; set CARGO_INCREMENTAL=1 to keep them while developing.
export CARGO_INCREMENTAL ?= 0
UI := ui

# Build: WebKitGTK, GTK tray, TLS-free (rustls) HTTP, D-Bus for the credential store, ALSA,
# SQLite (the outbox links the system's, which WebKitGTK loads anyway).
# Test: a virtual display, WebKit's WebDriver, a private D-Bus with a keyring, screenshots,
# a private PulseAudio with test devices, and ALSA's plugins (JACK's among them) as desktops have them;
# Request Tracker 5 with its SQLite database, web server and mail gateway, a private copy a test;
# PostgreSQL, and HAProxy in front of several server instances; dpkg's and rpm's tools to check
# the packages, and sudo, through which the app's updater installs a .deb where no graphical
# prompt (pkexec) runs; a YAML parser for the release workflow's check.
APT_PACKAGES := build-essential pkg-config curl file \
	libwebkit2gtk-4.1-dev libsoup-3.0-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev \
	libssl-dev libdbus-1-dev libasound2-dev libsqlite3-dev \
	xvfb xauth webkit2gtk-driver imagemagick dbus dbus-x11 gnome-keyring libsecret-tools \
	fonts-dejavu-core pulseaudio pulseaudio-utils dunst libasound2-plugins \
	request-tracker5 rt5-db-sqlite rt5-standalone rt5-clients \
	postgresql jq haproxy desktop-file-utils rpm python3-yaml sudo
TAURI_DRIVER_VERSION := ^2

.PHONY: help run test deps apt-deps node-deps tauri-driver ui build generate check-generated lint test-ui test-rust test-postgres test-packages package-bundles packages-beside-postgres package bench clean

help:
	@echo "make run    build everything, start a local server with the demo accounts, open the app"
	@echo "make test   install what is missing and run every test (Rust, UI, end-to-end)"
	@echo "make bench  start-up, memory and size of the release app next to a bare Tauri window;"
	@echo "            the photo pipeline next to vipsthumbnail and ImageMagick;"
	@echo "            event-to-notification latency and fan-out to 1 000 and 10 000 streams;"
	@echo "            profile saves at 200 a second and the directory, on SQLite and PostgreSQL;"
	@echo "            a save through the outbox next to a straight one, and catching up on 1 000 changes"
	@echo "make package  the app's .deb and .rpm and the server's .deb, release builds, in target/release-app/bundle/"

## The two commands

run: deps build
	scripts/run-local.sh

test: deps
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory check-generated lint test-ui build test-rust packages-beside-postgres; \
	echo "make test: all checks passed in $$(( $$(date +%s) - start )) s"

## Dependencies

deps: apt-deps node-deps tauri-driver

apt-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q "ok installed" || echo "$$p"; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing system packages: $$missing"; \
		$(SUDO) apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# Node.js may come from the distribution or elsewhere (NodeSource ships npm inside nodejs).
	@command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm
	@command -v $(CARGO) >/dev/null || { echo "Rust is needed: install it with rustup (https://rustup.rs)"; exit 1; }
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
		|| { echo "Node.js 20.19 or newer is needed (found $$(node --version)); install it from your distribution's backports or NodeSource"; exit 1; }

node-deps: $(UI)/node_modules/.package-lock.json

$(UI)/node_modules/.package-lock.json: $(UI)/package.json $(UI)/package-lock.json
	cd $(UI) && npm ci --no-audit --no-fund
	@touch $@

tauri-driver:
	@command -v tauri-driver >/dev/null || [ -x "$${CARGO_HOME:-$$HOME/.cargo}/bin/tauri-driver" ] \
		|| $(CARGO) install tauri-driver --version '$(TAURI_DRIVER_VERSION)' --locked

## Build

ui: node-deps
	cd $(UI) && npm run build

# The app as it ships (Tauri's `custom-protocol`, as `tauri build` compiles it), the server and
# the CLI. The packages' builds name the same three crates and the same feature, so cargo
# resolves the dependencies' features alike and reuses this build instead of a second one.
APP_CRATES := -p agent-desk -p agent-desk-server -p agent-desk-cli --features tauri/custom-protocol

build: ui
	$(CARGO) build $(APP_CRATES)

## Checks

# Generated from the Rust definitions: the wire types (ts-rs), and from the shell's
# commands and events the UI's client, `Backend` interface and constants, the command
# list Tauri's build step reads and the window's capability. A stale copy fails the build.
GENERATED = $(UI)/src/lib/generated src-tauri/commands.json src-tauri/capabilities

# The shell's tests embed the built UI, so it is built first.
generate: ui
	$(CARGO) test -q -p agent-desk-core -p agent-desk-client -p agent-desk-audio -p agent-desk-alerts -p agent-desk-outbox -p agent-desk export_bindings >/dev/null

check-generated: generate
	@if [ -n "$$(git status --porcelain -- $(GENERATED))" ]; then \
		git status --short -- $(GENERATED); \
		echo "generated files are stale: run 'make generate' and commit the result"; exit 1; \
	fi

lint: ui
	$(CARGO) fmt --all --check
	scripts/check-workflows.py
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	cd $(UI) && npm run check && npm run lint

test-ui: node-deps
	cd $(UI) && npm test

# The workspace's tests, the server's suites on SQLite among them, alone: the end-to-end
# tests time what a person would see. The same build's test programs are listed for the
# PostgreSQL pass (`make test-postgres`, and beside the packages' builds in `make test`).
test-rust: build
	$(CARGO) test --workspace --no-run --message-format=json-render-diagnostics >$(TARGET_DIR)/test-programs.json
	$(CARGO) test --workspace

test-postgres: test-rust
	BUILT=$(TARGET_DIR)/test-programs.json scripts/server-tests-on-postgres.sh

## Packages: the app's .deb and .rpm (Tauri's bundler) and the server's .deb

TAURI := $(UI)/node_modules/.bin/tauri
# Where cargo builds, and the bundler puts the packages (under <profile>/bundle/).
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)

package: deps ui
	$(TAURI) build --ci --bundles deb,rpm -- --profile release-app
	$(CARGO) build --release -p agent-desk-server
	scripts/server-deb.sh release $(TARGET_DIR)/release-app/bundle/deb
	@ls -l $(TARGET_DIR)/release-app/bundle/deb/*.deb $(TARGET_DIR)/release-app/bundle/rpm/*.rpm

# The same from the debug profile (the release profile's fat LTO takes 10+ minutes on two
# cores), installed with dpkg and driven: needs root, as `make test` runs in CI. First the
# two versions the updater test installs and updates between (their own key, plain HTTP),
# then the packages as shipped, last, so the bundle folder holds those.
test-packages: package-bundles
	$(PACKAGES_TEST)

package-bundles: build
	scripts/updater-test-bundles.sh $(TAURI) $(TARGET_DIR) $(TARGET_DIR)/debug/updater-test $(APP_CRATES)
	$(TAURI) build --ci --debug --bundles deb,rpm -- $(APP_CRATES)
	scripts/server-deb.sh debug $(TARGET_DIR)/debug/bundle/deb

# Named within the workspace, as `make test-rust` builds it: `-p agent-desk-e2e` alone
# would resolve the dependencies' features apart and build a good part of them again.
PACKAGES_TEST = AGENT_DESK_PACKAGES=$(TARGET_DIR)/debug/bundle AGENT_DESK_UPDATES=$(TARGET_DIR)/debug/updater-test \
	$(CARGO) test --workspace --test packages

# `make test`'s last part: the server's suites on PostgreSQL (mostly waiting for Request
# Tracker and for the database) run while the packages are built (the app's crate twice
# more, with the updater test's configurations, and the bundler: about two minutes, since
# `make build` compiled the rest as the packages need it); the packages' own test, which
# drives the installed app, runs once both are done. The PostgreSQL pass's output follows.
packages-beside-postgres: test-rust
	@log=$$(mktemp); \
	BUILT=$(TARGET_DIR)/test-programs.json scripts/server-tests-on-postgres.sh >"$$log" 2>&1 & postgres=$$!; \
	built=0; $(MAKE) --no-print-directory package-bundles || built=$$?; \
	postgres_status=0; wait $$postgres || postgres_status=$$?; \
	echo "---- the server's suites on PostgreSQL ----"; cat "$$log"; rm -f "$$log"; \
	[ $$built -eq 0 ] && [ $$postgres_status -eq 0 ]
	$(PACKAGES_TEST)

## Figures for docs/PERFORMANCE.md: the packaged release app (installed from its .deb) next to a
## bare Tauri window built the same way, in the same run.

bench: deps ui
	@command -v vipsthumbnail >/dev/null || DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends libvips-tools
	$(CARGO) bench -p agent-desk-avatar --bench versus_vips
	$(TAURI) build --ci --bundles deb -- --profile release-app
	$(CARGO) build --release -p agent-desk-server
	CARGO_TARGET_DIR=$(TARGET_DIR) $(CARGO) build --release --features tauri/custom-protocol \
		--manifest-path bench/bare-window/Cargo.toml
	CARGO=$(CARGO) scripts/bench-startup.sh $(TARGET_DIR)/release-app/bundle/deb
	$(CARGO) bench -p agent-desk-e2e --bench alert_latency
	$(CARGO) bench -p agent-desk-e2e --bench fanout
	$(CARGO) bench -p agent-desk-e2e --bench rt_latency
	$(CARGO) bench -p agent-desk-e2e --bench hook_latency
	$(CARGO) bench -p agent-desk-e2e --bench profile_patch
	$(CARGO) bench -p agent-desk-server --bench directory
	$(CARGO) bench -p agent-desk-outbox --bench outbox

clean:
	$(CARGO) clean
	rm -rf $(UI)/dist $(UI)/node_modules tests/artifacts
