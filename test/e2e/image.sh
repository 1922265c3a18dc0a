#!/usr/bin/env bash
# Builds (once) and caches a minimal Debian bookworm root file system that
# boots with systemd-nspawn: systemd, dbus, openssh-server, iptables, iproute2.
# Usage: image.sh CACHE_DIR   -> prints the path of the ready root fs.
set -euo pipefail
# the chroot has its own /tmp: a TMPDIR of the test run does not exist in there
unset TMPDIR
cache="${1:?usage: image.sh CACHE_DIR}"
root="$cache/bookworm-minbase-v1"
stamp="$root/.cdktf-iptables-ready"
if [ -f "$stamp" ]; then echo "$root"; exit 0; fi
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock -w 600 9
if [ -f "$stamp" ]; then echo "$root"; exit 0; fi
mirror="http://deb.debian.org/debian"
rm -rf "$root.tmp"
echo "image.sh: debootstrap bookworm into $root (one time, about a minute)" >&2
if ! debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,openssh-server,iptables,iproute2,netbase \
  bookworm "$root.tmp" "$mirror" > "$cache/debootstrap.log" 2>&1; then
  tail -40 "$cache/debootstrap.log" >&2
  echo "image.sh: debootstrap failed (log: $cache/debootstrap.log)" >&2
  exit 1
fi
chroot "$root.tmp" apt-get clean
echo cfw-target > "$root.tmp/etc/hostname"
# a container has no consoles to serve
chroot "$root.tmp" systemctl mask console-getty.service getty@tty1.service >/dev/null 2>&1 || true
rm -f "$root.tmp/root/.ssh/authorized_keys"
touch "$root.tmp/.cdktf-iptables-ready"
mv "$root.tmp" "$root"
echo "$root"
