#!/bin/sh
# The server's integration suites again, each server on a PostgreSQL database of its own:
# one private cluster for the run (never the system's), and a migrated database that each
# server's is copied from (crates/server/tests/support/postgres.rs reads where).
#
# Runs the test programs `cargo test --workspace` has just built rather than asking cargo
# for the server's tests alone: cargo resolves a lone package's features apart from the
# workspace's, and would build much of the dependency tree a second time. BUILT names the
# file where that build's JSON messages were kept (`make test` runs this beside
# `cargo test`, which holds cargo's lock while it runs); without it, cargo is asked.
set -eu
cd "$(dirname "$0")/.."
cargo=${CARGO:-cargo}
if [ -n "${BUILT:-}" ]; then
	built=$(cat "$BUILT")
else
	built=$("$cargo" test --workspace --no-run --message-format=json)
fi
suites=$(printf '%s\n' "$built" | jq -r 'select(.reason == "compiler-artifact"
	and .target.kind == ["test"] and (.manifest_path | endswith("/crates/server/Cargo.toml")))
	| .executable')
server=$(printf '%s\n' "$built" | jq -r 'select(.reason == "compiler-artifact"
	and .target.kind == ["bin"] and .target.name == "agent-desk-server"
	and .profile.test == false) | .executable')
[ -n "$suites" ] && [ -x "$server" ] || { echo "the server and its suites were not built" >&2; exit 1; }

# initdb refuses to run as root: as root, the cluster is the postgres user's, and its
# programs run from / (the checkout may be a folder only root may enter).
as_postgres() {
	if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}
# The newest installed version that has the server's programs (a client-only package
# makes a folder too).
bin=""
for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
	[ -x "$candidate/initdb" ] && bin=$candidate
done
[ -n "$bin" ] || { echo "PostgreSQL's initdb is missing: make deps installs postgresql" >&2; exit 1; }
root=$(mktemp -d "${TMPDIR:-/tmp}/agent-desk-pg-run.XXXXXX")
[ "$(id -u)" = 0 ] && chown postgres:postgres "$root"
stop() {
	as_postgres "$bin/pg_ctl" -D "$root/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$root"
}
trap stop EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
as_postgres "$bin/initdb" -D "$root/data" -A trust -U postgres --no-sync >/dev/null
# A free port: tried at random, since another may take it between a check and the start.
started=""
for _ in 1 2 3 4 5 6 7 8; do
	port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 30000))
	if as_postgres "$bin/pg_ctl" -D "$root/data" -l "$root/log" -w -t 60 start -o \
		"-p $port -k $root -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
		>/dev/null; then
		started=yes
		break
	fi
done
[ -n "$started" ] || { cat "$root/log" >&2 || true; echo "PostgreSQL did not start" >&2; exit 1; }
as_postgres "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres migrated
AGENT_DESK_DATABASE="postgres://postgres@127.0.0.1:$port/migrated" \
	"$server" migrate --data-dir "$root/migrate" >/dev/null

failed=""
cd crates/server
for suite in $suites; do
	name=$(basename "$suite" | sed 's/-[0-9a-f]*$//')
	# Several instances need one PostgreSQL: these suites ran on it in the first pass.
	case $name in
	instances | failover)
		echo "     $name ran on PostgreSQL already"
		continue
		;;
	esac
	echo "     Running $name on PostgreSQL"
	AGENT_DESK_TEST_DATABASE=postgres AGENT_DESK_TEST_POSTGRES_PORT=$port \
		AGENT_DESK_TEST_POSTGRES_TEMPLATE=migrated "$suite" || failed="$failed $name"
	# The suite's databases (test_*) go with it, so the run's folder does not grow.
	for database in $(as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -Atc \
		"SELECT datname FROM pg_database WHERE datname LIKE 'test\\_%'"); do
		as_postgres "$bin/dropdb" -h 127.0.0.1 -p "$port" -U postgres --force "$database"
	done
done
if [ -n "$failed" ]; then
	echo "failed on PostgreSQL:$failed" >&2
	exit 1
fi
