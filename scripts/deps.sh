#!/usr/bin/env bash
# Installs the Debian packages rapat needs, only those that are missing.
# Safe to run again; prints nothing when everything is present.
set -eu
pkgs=(build-essential pkg-config clang libclang-rt-14-dev bc
      libnl-3-dev libnl-route-3-dev libnl-nf-3-dev
      liblua5.4-dev lua5.4 libcurl4-openssl-dev libssl-dev openssl
      libevent-dev libjansson-dev libcmocka-dev
      libnetfilter-queue-dev libiptc-dev libfuse3-dev fuse3
      iproute2 nftables iptables curl time etcd-server etcd-client)
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
# etcd-server (audited through harness/adapters/etcd.lua) would start and
# enable a system etcd on localhost:2379/2380. rapat only runs its own etcd
# processes inside the lab, so keep the packaged service from starting: a
# policy-rc.d that denies every start during the install (only when the host
# has none of its own; removed afterwards), then disable the unit on hosts
# that run systemd. Nothing else about the host is changed.
policy=/usr/sbin/policy-rc.d own_policy=0
if [[ " ${missing[*]} " == *" etcd-server "* ]] && [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# temporary, from rapat scripts/deps.sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"; own_policy=1
  trap 'rm -f "$policy"' EXIT
fi
apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
if [[ " ${missing[*]} " == *" etcd-server "* ]] && [ -d /run/systemd/system ]; then
  systemctl disable --now etcd.service >/dev/null 2>&1 || true
fi
[ "$own_policy" -eq 0 ] || { rm -f "$policy"; trap - EXIT; }
