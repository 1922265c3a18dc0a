#!/usr/bin/env bash
# Installs the Debian packages the kernel tests use, when any is missing.
# Idempotent and quiet when everything is there already.
set -euo pipefail
need=()
command -v iptables-restore >/dev/null || need+=(iptables)
command -v ip >/dev/null || need+=(iproute2)
command -v nmap >/dev/null || need+=(nmap)
command -v hping3 >/dev/null || need+=(hping3)
command -v nc >/dev/null || need+=(netcat-openbsd)
command -v ping >/dev/null || need+=(iputils-ping)
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v conntrack >/dev/null || need+=(conntrack)
command -v python3 >/dev/null || need+=(python3)
if [ "${#need[@]}" -gt 0 ]; then
  echo "system-deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null >/dev/null
fi
# nf_tables backend, as Debian ships it
iptables --version
