import { IpFamily } from '../iptables/family';

/** Which Linux family the target runs: where rule files live and which units load them. */
export enum Distro {
  /**
   * Arch Linux: `/etc/iptables/iptables.rules` and `ip6tables.rules`, loaded by
   * the `iptables.service` / `ip6tables.service` units of the iptables package.
   */
  ARCH = 'ARCH',
  /**
   * RHEL, CentOS, Rocky, Alma, Fedora: `/etc/sysconfig/iptables` and
   * `ip6tables`, units from `iptables-services`; firewalld is stopped and masked.
   */
  RHEL = 'RHEL',
  /**
   * Debian and Ubuntu: `/etc/iptables/iptables.rules` and `ip6tables.rules`,
   * with `iptables.service` / `ip6tables.service` units shipped by this library
   * (Debian has none of that name).
   */
  DEBIAN = 'DEBIAN',
}

/** Where a distro keeps things. */
export interface DistroProfile {
  readonly distro: Distro;
  /** Persistent rule file per family. */
  readonly rulesPath: Record<IpFamily, string>;
  /** Unit per family. */
  readonly unit: Record<IpFamily, string>;
  /** Install our own units even if a unit of that name exists. */
  readonly shipUnits: boolean;
  /** Services stopped and masked on confirm (they would overwrite the rules). */
  readonly mask: readonly string[];
  /**
   * Packages that provide the restore commands and, where the distro ships
   * them, the units: cloud-init installs them when something is missing.
   */
  readonly packages: readonly string[];
  /** Where ipset sets are persisted (restored at boot by our unit, before the rules). */
  readonly ipsetsPath: string;
}

const UNITS: Record<IpFamily, string> = { [IpFamily.V4]: 'iptables.service', [IpFamily.V6]: 'ip6tables.service' };

const PROFILES: Record<Distro, DistroProfile> = {
  [Distro.ARCH]: {
    distro: Distro.ARCH,
    rulesPath: { [IpFamily.V4]: '/etc/iptables/iptables.rules', [IpFamily.V6]: '/etc/iptables/ip6tables.rules' },
    unit: UNITS,
    shipUnits: false,
    mask: [],
    packages: ['iptables'],
    ipsetsPath: '/etc/iptables/ipsets',
  },
  [Distro.RHEL]: {
    distro: Distro.RHEL,
    rulesPath: { [IpFamily.V4]: '/etc/sysconfig/iptables', [IpFamily.V6]: '/etc/sysconfig/ip6tables' },
    unit: UNITS,
    shipUnits: false,
    mask: ['firewalld'],
    packages: ['iptables-services'],
    ipsetsPath: '/etc/sysconfig/cdktf-ipsets',
  },
  [Distro.DEBIAN]: {
    distro: Distro.DEBIAN,
    rulesPath: { [IpFamily.V4]: '/etc/iptables/iptables.rules', [IpFamily.V6]: '/etc/iptables/ip6tables.rules' },
    unit: UNITS,
    shipUnits: true,
    mask: [],
    packages: ['iptables'],
    ipsetsPath: '/etc/iptables/ipsets',
  },
};

/** The profile of a distro. */
export function distroProfile(distro: Distro): DistroProfile {
  const p = PROFILES[distro];
  if (!p) throw new Error(`unknown distro ${JSON.stringify(distro)}; use one of ${Object.keys(PROFILES).join(', ')}`);
  return p;
}

/**
 * A oneshot unit that runs early at boot, before the network comes up, and
 * stays active; stopping it changes nothing (a stopped unit must not open the
 * host).
 */
function earlyOneshotUnit(description: string, before: string, exec: string, reload: boolean): string {
  return [
    '[Unit]',
    `Description=${description} (cdktf-iptables)`,
    'DefaultDependencies=no',
    'Wants=network-pre.target',
    `Before=network-pre.target shutdown.target${before ? ` ${before}` : ''}`,
    'After=systemd-modules-load.service local-fs.target',
    'Conflicts=shutdown.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=/bin/sh -c '${exec}'`,
    ...(reload ? [`ExecReload=/bin/sh -c '${exec}'`] : []),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/**
 * A systemd unit that restores a rule file at boot, before the network comes
 * up. Stopping it does not flush the rules (a stopped unit must not open the
 * host).
 */
export function restoreUnit(family: IpFamily, rulesPath: string): string {
  const v = family === IpFamily.V4 ? 'IPv4' : 'IPv6';
  const cmd = family === IpFamily.V4 ? 'iptables-restore' : 'ip6tables-restore';
  return earlyOneshotUnit(`${v} packet filtering rules`, '', `exec ${cmd} -w 5 < ${rulesPath}`, true);
}

/** The unit that restores the ipset sets at boot, before the rule files (which match them by name). */
export const IPSETS_UNIT = 'cdktf-ipsets.service';

/** The text of {@link IPSETS_UNIT}. */
export function ipsetsUnit(path: string): string {
  return earlyOneshotUnit('ipset sets of the packet filtering rules', 'iptables.service ip6tables.service', `exec ipset restore -exist < ${path}`, false);
}
