#!/usr/bin/env bash
# Installs the Debian packages the kernel and end-to-end tests use, when any is missing.
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
command -v ipset >/dev/null || need+=(ipset)
command -v sysctl >/dev/null || need+=(procps)
command -v nsenter >/dev/null || need+=(util-linux)
command -v python3 >/dev/null || need+=(python3)
# end-to-end deploy test: a Debian image booted with systemd-nspawn, reached over SSH
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v ssh >/dev/null || need+=(openssh-client)
command -v flock >/dev/null || need+=(util-linux)
command -v systemd-analyze >/dev/null || need+=(systemd)
if [ "${#need[@]}" -gt 0 ]; then
  echo "system-deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null >/dev/null
fi
# nf_tables backend, as Debian ships it
iptables --version
# terraform comes with the machine (it cannot be downloaded here); the e2e test needs it
command -v "${TERRAFORM:-/usr/local/bin/terraform}" >/dev/null || { echo "system-deps: terraform not found at ${TERRAFORM:-/usr/local/bin/terraform} (set TERRAFORM=...)" >&2; exit 1; }
