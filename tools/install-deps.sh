#!/usr/bin/env bash
# Installs the Debian packages spanhouse builds, tests and fuzzes with.
# Run by the Makefile when a dependency is missing: as root it installs them,
# otherwise it prints the exact command and fails.
set -euo pipefail

packages=(
  build-essential pkg-config clang libclang-rt-14-dev
  liburing-dev libzstd-dev liblz4-dev libxxhash-dev
  libprotobuf-c-dev protobuf-c-compiler libmimalloc-dev libsqlite3-dev
  libnghttp2-dev libcurl4-openssl-dev zlib1g-dev
  curl ca-certificates tzdata zstd
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "spanhouse needs: ${missing[*]}" >&2
  echo "run as root:  apt-get update && $cmd" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$cmd
