#!/usr/bin/env bash
# Fetches the pinned DuckDB C library (libduckdb.so) and its header from the npm registry
# with `npm pack` (no node_modules), checks their SHA-256 and unpacks them into .deps/duckdb.
set -euo pipefail
cd "$(dirname "$0")/.."

version=1.4.4
case "$(uname -m)" in
  x86_64) arch=x64; lib_sha=732fac4dc6b8f198870b9c4bb6ddf13544466daca00ad28ba2f1d80de5d7aa4b ;;
  aarch64) arch=arm64; lib_sha= ;;
  *) echo "fetch-duckdb: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
lib_pkg="@duckdb/node-bindings-linux-${arch}@${version}-r.4"
hdr_pkg="duckdb@${version}"
hdr_sha=5bb967dcbcd517670ba5f169f238fb9d6787e53752c60ebe24386169d76941ed

dest=.deps/duckdb
stamp="$dest/.stamp-${version}-${arch}"
[[ -f $stamp && -f $dest/lib/libduckdb.so && -f $dest/include/duckdb.h ]] && exit 0

echo "fetch-duckdb: fetching DuckDB ${version} (${arch}) from the npm registry"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$lib_pkg" "$hdr_pkg" >/dev/null)
lib_tgz=$(ls "$tmp"/duckdb-node-bindings-linux-*.tgz)
hdr_tgz="$tmp/duckdb-${version}.tgz"

check() {  # file expected-sha
  [[ -z $2 ]] && { echo "fetch-duckdb: warning: no pinned checksum for $1" >&2; return 0; }
  local got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  [[ $got == "$2" ]] || { echo "fetch-duckdb: checksum mismatch for $(basename "$1"): got $got, want $2" >&2; exit 1; }
}
check "$lib_tgz" "$lib_sha"
check "$hdr_tgz" "$hdr_sha"

rm -rf "$dest"
mkdir -p "$dest/lib" "$dest/include"
tar -xzf "$lib_tgz" -C "$tmp" package/libduckdb.so package/LICENSE
mv "$tmp/package/libduckdb.so" "$dest/lib/"
mv "$tmp/package/LICENSE" "$dest/LICENSE"
tar -xzf "$hdr_tgz" -C "$tmp" package/src/duckdb/src/include/duckdb.h
mv "$tmp/package/src/duckdb/src/include/duckdb.h" "$dest/include/"
touch "$stamp"
echo "fetch-duckdb: DuckDB ${version} in $dest"
