#!/usr/bin/env bash
# Installs the Debian packages rapat needs, only those that are missing.
# Safe to run again; prints nothing when everything is present.
set -eu
pkgs=(build-essential pkg-config clang libclang-rt-14-dev bc
      libnl-3-dev libnl-route-3-dev libnl-nf-3-dev
      liblua5.4-dev lua5.4 libcurl4-openssl-dev libssl-dev openssl
      libevent-dev libjansson-dev libcmocka-dev
      libnetfilter-queue-dev libfuse3-dev fuse3
      iproute2 nftables iptables curl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "rapat: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "rapat: not root; run as root or install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
