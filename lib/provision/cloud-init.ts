import { DistroProfile, restoreUnit } from './distro';
import { IpFamily } from '../model/family';

/** Everything cloud-init needs to install a host's rules at first boot. */
export interface CloudInitInput {
  readonly profile: DistroProfile;
  /** Rule file text per family the host renders. */
  readonly rules: Partial<Record<IpFamily, string>>;
  /** sysctl `key=value` settings (e.g. forwarding for a NAT gateway). */
  readonly sysctl: readonly string[];
}

/**
 * A `#cloud-config` user-data document that writes the rule files (and units
 * and sysctl file where needed) and enables the units: the same install as
 * over SSH, for instances created in the same stack. File contents are base64
 * so no YAML quoting can change them.
 */
export function cloudInitDocument(input: CloudInitInput): string {
  const files: Array<{ path: string; mode: string; content: string }> = [];
  const families = ([IpFamily.V4, IpFamily.V6] as const).filter((f) => input.rules[f] !== undefined);
  for (const f of families) {
    files.push({ path: input.profile.rulesPath[f], mode: '0600', content: input.rules[f]! });
    if (input.profile.shipUnits) files.push({ path: `/etc/systemd/system/${input.profile.unit[f]}`, mode: '0644', content: restoreUnit(f, input.profile.rulesPath[f]) });
  }
  if (input.sysctl.length > 0) {
    files.push({ path: '/etc/sysctl.d/90-cdktf-iptables.conf', mode: '0644', content: ['# written by cdktf-iptables', ...input.sysctl, ''].join('\n') });
  }
  const lines = ['#cloud-config', 'write_files:'];
  for (const file of files) {
    lines.push(`  - path: ${file.path}`, `    permissions: '${file.mode}'`, '    encoding: b64', `    content: ${Buffer.from(file.content).toString('base64')}`);
  }
  lines.push('runcmd:');
  for (const svc of input.profile.mask) lines.push(`  - [systemctl, disable, --now, ${svc}]`, `  - [systemctl, mask, ${svc}]`);
  if (input.sysctl.length > 0) lines.push('  - [sysctl, -p, /etc/sysctl.d/90-cdktf-iptables.conf]');
  lines.push('  - [systemctl, daemon-reload]');
  lines.push(`  - [systemctl, enable, --now, ${families.map((f) => input.profile.unit[f]).join(', ')}]`);
  return lines.join('\n') + '\n';
}

/** sysctl settings that the host's requirements call for. */
export function sysctlFor(requirements: readonly string[]): string[] {
  const out: string[] = [];
  if (requirements.includes('ipv4-forwarding')) out.push('net.ipv4.ip_forward=1');
  if (requirements.includes('ipv6-forwarding')) out.push('net.ipv6.conf.all.forwarding=1');
  return out;
}
