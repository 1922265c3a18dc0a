import { ValueProblem } from '../private/errors';
import { IpFamily } from '../iptables/family';
import { blockWithSets, HostFirewallSpec, PartContribution } from '../firewall/skeleton';
import { IPSET_NAME_MAX, ipsetNameProblem } from '../iptables/ipset';
import { Peer } from '../values/peer';
import { Ruleset } from '../rules/ruleset';

/** A validated blocklist. */
export interface BlocklistSpec {
  readonly path: string;
  /** Set name per family. */
  readonly names: Record<IpFamily, string>;
  readonly peers: readonly Peer[];
}

/** The default set names of a blocklist with construct id `id`: `bl-<id>-v4` / `-v6`. */
export function blocklistSetNames(id: string): Record<IpFamily, string> {
  const base = `bl-${id.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, IPSET_NAME_MAX - 3);
  return { [IpFamily.V4]: `${base}-v4`, [IpFamily.V6]: `${base}-v6` };
}

/** What is wrong with a blocklist, if anything. */
export function blocklistProblem(spec: BlocklistSpec): ValueProblem | undefined {
  for (const name of Object.values(spec.names)) {
    const p = ipsetNameProblem(name);
    if (p) return { message: p, fix: 'Give the blocklist a setName of letters, digits, _ or -.' };
  }
  if (spec.peers.length === 0) return { message: 'blocks no peers', fix: 'Give peers, or a list file with at least one address.' };
  const any = spec.peers.find((p) => p.isAny);
  if (any) return { message: `blocks ${any}, every source, SSH included: that locks you out`, fix: 'Block specific hosts or subnets.' };
  return undefined;
}

/**
 * Drops every packet from the listed peers before anything could admit it
 * (after conntrack and loopback, as `block()`), with one `hash:net` ipset set
 * per family: one lookup per packet whatever the list's size.
 */
export class BlocklistContribution extends PartContribution<BlocklistSpec> {
  public prepare(rs: Ruleset, host: HostFirewallSpec): void {
    blockWithSets(rs, this.spec.path, host.families, this.spec.peers, this.spec.names);
  }
}
