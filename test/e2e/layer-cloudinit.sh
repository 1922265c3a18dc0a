#!/usr/bin/env bash
# Configures the cloud-init image layer (run by image-layer.sh with the layer's
# root as $1): a NoCloud seed in /var/lib/cloud/seed/nocloud and no cloud to
# probe; the test harness configures eth0 before boot, so cloud-init leaves it
# alone.
set -euo pipefail
root="${1:?usage: layer-cloudinit.sh ROOT}"
cat > "$root/etc/cloud/cloud.cfg.d/90-cdktf-iptables-e2e.cfg" <<'CFG'
# e2e image: a NoCloud seed in /var/lib/cloud/seed/nocloud, no cloud to probe;
# the test harness configures eth0 before boot, so cloud-init leaves it alone
datasource_list: [ NoCloud, None ]
network: {config: disabled}
# C.UTF-8 needs no locale generation
locale: C.UTF-8
CFG
# cloud-init copies its output to the console; nspawn --console=passive with a
# log file leaves that pty undrained here, and a full pty blocks systemd at
# shutdown: the journal (and /var/log/cloud-init-output.log) keep everything
for unit in cloud-init-local cloud-init cloud-config cloud-final; do
  mkdir -p "$root/etc/systemd/system/$unit.service.d"
  printf '[Service]\nStandardOutput=journal\n' > "$root/etc/systemd/system/$unit.service.d/90-cdktf-iptables-e2e.conf"
done
chroot "$root" dpkg -s cloud-init | sed -n 's/^Version: /layer-cloudinit.sh: cloud-init /p' >&2
