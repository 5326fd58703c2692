#!/usr/bin/env bash
# Install the Debian packages crest needs to build and test, if missing.
# Usage: scripts/deps.sh [--quiet]
set -euo pipefail
pkgs=(gcc make pkg-config libcmocka-dev libxxhash-dev libjson-c-dev libzstd-dev libinih-dev gdb binutils python3 util-linux procps)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	[ "${1:-}" = --quiet ] || echo "deps: all present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]}; run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
