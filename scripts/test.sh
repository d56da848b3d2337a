#!/usr/bin/env bash
# Runs bottega's whole test suite: go vet, then every test of every package.
#
# Tests that need a real service run when it is there:
#   - PostgreSQL: BOTTEGA_TEST_POSTGRES=postgres://… (if unset and a local server
#     accepts user postgres on 127.0.0.1 without a password, a database
#     bottega_test is created there and used);
#   - the Segment Node.js client: its npm packages are installed when npm exists.
# With BOTTEGA_TEST_STRICT=1 (as in CI) a missing service fails the tests instead
# of skipping them. Extra arguments go to `go test` (e.g. -run TestX ./internal/…).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${BOTTEGA_TEST_POSTGRES:-}" ] && command -v psql >/dev/null 2>&1 &&
	psql -h 127.0.0.1 -U postgres -d postgres -w -Atqc 'select 1' >/dev/null 2>&1; then
	if [ "$(psql -h 127.0.0.1 -U postgres -d postgres -w -Atqc "select 1 from pg_database where datname = 'bottega_test'")" != 1 ]; then
		psql -h 127.0.0.1 -U postgres -d postgres -w -qc 'CREATE DATABASE bottega_test' >/dev/null
	fi
	export BOTTEGA_TEST_POSTGRES="postgres://postgres@127.0.0.1:5432/bottega_test?sslmode=disable"
fi
if [ -n "${BOTTEGA_TEST_POSTGRES:-}" ]; then
	echo "test.sh: PostgreSQL tests use ${BOTTEGA_TEST_POSTGRES%%\?*}"
else
	echo "test.sh: no PostgreSQL (set BOTTEGA_TEST_POSTGRES): its tests are skipped"
fi

node_dir=e2e/testdata/segment-node
if [ -f "$node_dir/package-lock.json" ] && [ ! -d "$node_dir/node_modules" ] && command -v npm >/dev/null 2>&1; then
	(cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi

args=("$@")
if [ ${#args[@]} -eq 0 ]; then
	args=(./...)
fi
go vet ./...
go test -count=1 -timeout 30m "${args[@]}"
