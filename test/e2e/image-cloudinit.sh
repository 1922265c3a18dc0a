#!/usr/bin/env bash
# Builds (once) and caches a layer with Debian's cloud-init on top of the
# image of image.sh, as an overlay upper directory (the base image is never
# changed). Hosts mount it as `lowerdir=LAYER:BASE`.
#   - cloud-init (and locales, which its locale module needs; ipset for hosts with sets) from Debian's mirror, installed in a chroot on an overlay
#   - datasource_list: [ NoCloud, None ] (nspawn has no cloud to detect),
#     network config disabled (the test harness sets up eth0)
# Usage: image-cloudinit.sh CACHE_DIR BASE   -> prints "LAYER:BASE".
set -euo pipefail
cache="${1:?usage: image-cloudinit.sh CACHE_DIR BASE}"
base="${2:?usage: image-cloudinit.sh CACHE_DIR BASE}"
layer="$cache/bookworm-cloudinit-layer-v4"
stamp="$layer/.cdktf-iptables-cloudinit-ready"
if [ -f "$stamp" ]; then echo "$layer:$base"; exit 0; fi
mkdir -p "$cache"
exec 9>"$cache/.lock-cloudinit"
flock -w 900 9
if [ -f "$stamp" ]; then echo "$layer:$base"; exit 0; fi
tmp="$layer.tmp"
mnt="$cache/.cloudinit-build-root"
cleanup() {
  for m in "$mnt/dev/pts" "$mnt/dev" "$mnt/proc" "$mnt/sys" "$mnt"; do
    mountpoint -q "$m" && umount -l "$m" || true
  done
}
trap cleanup EXIT
cleanup
rm -rf "$tmp" "$cache/.cloudinit-build-work" "$mnt"
mkdir -p "$tmp" "$cache/.cloudinit-build-work" "$mnt"
mount -t overlay overlay -o "lowerdir=$base,upperdir=$tmp,workdir=$cache/.cloudinit-build-work" "$mnt"
mount -t proc proc "$mnt/proc"
mount -t sysfs sysfs "$mnt/sys"
mount --bind /dev "$mnt/dev"
mount --bind /dev/pts "$mnt/dev/pts"
cp /etc/resolv.conf "$mnt/etc/resolv.conf"
# nothing starts inside the chroot
printf '#!/bin/sh\nexit 101\n' > "$mnt/usr/sbin/policy-rc.d"
chmod 755 "$mnt/usr/sbin/policy-rc.d"
echo "image-cloudinit.sh: apt-get install cloud-init into a layer over $base (one time)" >&2
if ! { chroot "$mnt" apt-get update \
  && DEBIAN_FRONTEND=noninteractive chroot "$mnt" apt-get install -y --no-install-recommends cloud-init locales ipset; } \
  > "$cache/cloudinit-layer.log" 2>&1; then
  tail -40 "$cache/cloudinit-layer.log" >&2
  echo "image-cloudinit.sh: install failed (log: $cache/cloudinit-layer.log)" >&2
  exit 1
fi
rm -f "$mnt/usr/sbin/policy-rc.d"
chroot "$mnt" apt-get clean
rm -rf "$mnt/var/lib/apt/lists/"*
: > "$mnt/etc/resolv.conf"
cat > "$mnt/etc/cloud/cloud.cfg.d/90-cdktf-iptables-e2e.cfg" <<'EOF'
# e2e image: a NoCloud seed in /var/lib/cloud/seed/nocloud, no cloud to probe;
# the test harness configures eth0 before boot, so cloud-init leaves it alone
datasource_list: [ NoCloud, None ]
network: {config: disabled}
# C.UTF-8 needs no locale generation
locale: C.UTF-8
EOF
# cloud-init copies its output to the console; nspawn --console=passive with a
# log file leaves that pty undrained here, and a full pty blocks systemd at
# shutdown: the journal (and /var/log/cloud-init-output.log) keep everything
for unit in cloud-init-local cloud-init cloud-config cloud-final; do
  mkdir -p "$mnt/etc/systemd/system/$unit.service.d"
  printf '[Service]\nStandardOutput=journal\n' > "$mnt/etc/systemd/system/$unit.service.d/90-cdktf-iptables-e2e.conf"
done
chroot "$mnt" dpkg -s cloud-init | sed -n 's/^Version: /image-cloudinit.sh: cloud-init /p' >&2
cleanup
trap - EXIT
rm -rf "$cache/.cloudinit-build-work" "$mnt"
touch "$tmp/.cdktf-iptables-cloudinit-ready"
mv "$tmp" "$layer"
echo "$layer:$base"
