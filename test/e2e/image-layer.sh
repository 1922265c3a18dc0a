#!/usr/bin/env bash
# Builds (once) and caches a layer of extra Debian packages on top of the image
# of image.sh, as an overlay upper directory (the base image is never changed).
# Hosts mount it as `lowerdir=LAYER:BASE`. Nothing starts inside the chroot.
# With LAYER_CONFIGURE=script, `bash script ROOT` runs after the install to
# configure the layer (ROOT is the mounted root file system).
# Usage: image-layer.sh CACHE_DIR BASE NAME PACKAGE...   -> prints "LAYER:BASE".
set -euo pipefail
# the chroot has its own /tmp: a TMPDIR of the test run does not exist in there
unset TMPDIR
cache="${1:?usage: image-layer.sh CACHE_DIR BASE NAME PACKAGE...}"
base="${2:?usage: image-layer.sh CACHE_DIR BASE NAME PACKAGE...}"
name="${3:?usage: image-layer.sh CACHE_DIR BASE NAME PACKAGE...}"
shift 3
[ "$#" -gt 0 ] || { echo "image-layer.sh: no packages" >&2; exit 2; }
layer="$cache/bookworm-layer-$name-v1"
stamp="$layer/.cdktf-iptables-layer-ready"
if [ -f "$stamp" ]; then echo "$layer:$base"; exit 0; fi
mkdir -p "$cache"
exec 9>"$cache/.lock-layer-$name"
flock -w 900 9
if [ -f "$stamp" ]; then echo "$layer:$base"; exit 0; fi
tmp="$layer.tmp"
work="$cache/.layer-$name-work"
mnt="$cache/.layer-$name-root"
cleanup() {
  for m in "$mnt/dev/pts" "$mnt/dev" "$mnt/proc" "$mnt/sys" "$mnt"; do
    if mountpoint -q "$m"; then umount -l "$m" || true; fi
  done
}
trap cleanup EXIT
cleanup
rm -rf "$tmp" "$work" "$mnt"
mkdir -p "$tmp" "$work" "$mnt"
mount -t overlay overlay -o "lowerdir=$base,upperdir=$tmp,workdir=$work" "$mnt"
mount -t proc proc "$mnt/proc"
mount -t sysfs sysfs "$mnt/sys"
mount --bind /dev "$mnt/dev"
mount --bind /dev/pts "$mnt/dev/pts"
cp /etc/resolv.conf "$mnt/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' > "$mnt/usr/sbin/policy-rc.d"
chmod 755 "$mnt/usr/sbin/policy-rc.d"
echo "image-layer.sh: apt-get install $* into a layer over $base (one time)" >&2
if ! { chroot "$mnt" apt-get update \
  && DEBIAN_FRONTEND=noninteractive chroot "$mnt" apt-get install -y --no-install-recommends "$@"; } \
  > "$cache/layer-$name.log" 2>&1; then
  tail -40 "$cache/layer-$name.log" >&2
  echo "image-layer.sh: install failed (log: $cache/layer-$name.log)" >&2
  exit 1
fi
rm -f "$mnt/usr/sbin/policy-rc.d"
chroot "$mnt" apt-get clean
rm -rf "$mnt/var/lib/apt/lists/"*
: > "$mnt/etc/resolv.conf"
if [ -n "${LAYER_CONFIGURE:-}" ]; then bash "$LAYER_CONFIGURE" "$mnt"; fi
cleanup
trap - EXIT
rm -rf "$work" "$mnt"
touch "$tmp/.cdktf-iptables-layer-ready"
mv "$tmp" "$layer"
echo "$layer:$base"
