#!/usr/bin/env bash
# Builds the dashboard's front-end assets (internal/web/assets) into
# internal/web/static/dist, the directory the Go binary embeds. The dist is
# committed, so only changes to the assets need Node (>= 18) and npm.
#
#   scripts/build-assets.sh           npm ci, then rebuild static/dist
#   scripts/build-assets.sh --check   build into a temporary directory and fail
#                                     if the committed static/dist differs
#
# .gz files are compared by their decompressed content: zlib builds may encode
# the same bytes differently on different machines.
set -euo pipefail
cd "$(dirname "$0")/../internal/web/assets"

check=0
case "${1:-}" in
"") ;;
--check) check=1 ;;
*)
	echo "usage: $0 [--check]" >&2
	exit 2
	;;
esac

npm ci --no-audit --no-fund --loglevel=error

if [ "$check" = 0 ]; then
	node build.mjs
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node build.mjs --outdir "$tmp/dist" >/dev/null

committed=../static/dist
stale=0
if ! diff <(cd "$committed" && find . -type f | LC_ALL=C sort) <(cd "$tmp/dist" && find . -type f | LC_ALL=C sort) >"$tmp/files.diff"; then
	echo "build-assets: the files in internal/web/static/dist differ from a fresh build (< committed, > built):" >&2
	cat "$tmp/files.diff" >&2
	stale=1
fi
while IFS= read -r f; do
	f=${f#./}
	[ -f "$tmp/dist/$f" ] || continue
	case "$f" in
	*.gz)
		# The .gz must decompress to the file next to it.
		if ! cmp -s <(gzip -dc "$committed/$f") "$committed/${f%.gz}"; then
			echo "build-assets: internal/web/static/dist/$f does not decompress to ${f%.gz}" >&2
			stale=1
		fi
		;;
	*)
		if ! cmp -s "$committed/$f" "$tmp/dist/$f"; then
			echo "build-assets: internal/web/static/dist/$f differs from a fresh build" >&2
			stale=1
		fi
		;;
	esac
done < <(cd "$committed" && find . -type f | LC_ALL=C sort)

if [ "$stale" = 1 ]; then
	echo "build-assets: internal/web/static/dist is stale: run scripts/build-assets.sh and commit the result" >&2
	exit 1
fi
echo "build-assets: internal/web/static/dist matches its sources"
