import { ValueProblem } from '../../private/errors';
import { IpFamily } from '../family';
import { PartContribution, HostFirewallSpec, peerArgs } from '../host-firewall';
import { interfaceNameProblem } from '../interface-name';
import { firstProblem } from '../matches';
import { Peer } from '../peer';
import { Ruleset } from '../ruleset';
import { RawSlot } from '../slots';

/**
 * Sources that never arrive legitimately from the Internet
 * (stateful-packet-filtering-lecture.txt, RFC 6890 special-purpose registries):
 * "this" network, private, shared (CGN), loopback, link-local (IPv4),
 * documentation, benchmarking, 6to4 relay, multicast, reserved and broadcast;
 * IPv6 loopback, IPv4-mapped, discard, documentation, ULA,
 * site-local, 6bone and multicast. Not here: IPv6 link-local (fe80::/10) and the
 * unspecified source (::, duplicate address detection), which every link uses for
 * neighbour discovery, router advertisements and DAD.
 */
export const BOGONS_V4 = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.0.2.0/24',
  '192.88.99.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4',
];
export const BOGONS_V6 = [
  '::1/128', '::ffff:0.0.0.0/96', '100::/64', '2001:db8::/32', '3ffe::/16', 'fc00::/7', 'fec0::/10', 'ff00::/8',
];

/** A validated bogon filter. */
export interface BogonFilterSpec {
  readonly path: string;
  readonly iface: string;
  readonly allow: readonly Peer[];
}

/** The chain name of a bogon filter on an interface. */
export function bogonChain(iface: string): string {
  return `BOGONS-${iface.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

/** What is wrong with a bogon filter's settings. */
export function bogonFilterProblem(s: BogonFilterSpec): ValueProblem | undefined {
  const p = interfaceNameProblem(s.iface);
  if (p) return { message: `iface: ${p.message}`, fix: p.fix };
  return firstProblem(...s.allow.map((a) => a._problem()));
}

/**
 * Drops packets with bogon sources arriving on a WAN interface, in the raw
 * table (before conntrack, for INPUT and FORWARD alike). `allow` lists ranges
 * that are legitimate on this WAN (say 100.64.0.0/10 behind a carrier NAT).
 */
export class BogonFilterContribution extends PartContribution<BogonFilterSpec> {

  public contribute(rs: Ruleset, host: HostFirewallSpec): void {
    const s = this.spec;
    const fams = host.families;
    const chain = bogonChain(s.iface);
    rs.claim('chain', chain, s.path);
    for (const name of ['PREROUTING', 'OUTPUT', chain]) rs.declareChain({ table: 'raw', name, families: fams, owner: s.path });
    rs.addRule({ table: 'raw', chain: 'PREROUTING', slot: RawSlot.BOGONS, owner: s.path, args: peerArgs(Peer.any(), fams, () => ['-i', s.iface, '-j', chain]) });
    for (const a of s.allow) {
      rs.addRule({ table: 'raw', chain, slot: 100, owner: s.path, args: peerArgs(a, fams, (src) => [...src, '-j', 'RETURN']) });
    }
    const lists: Array<[IpFamily, string[]]> = [[IpFamily.V4, BOGONS_V4], [IpFamily.V6, BOGONS_V6]];
    // constants, spelled as iptables-save prints them (IPv4-mapped in dotted form)
    for (const [f, list] of lists) {
      if (!fams.includes(f)) continue;
      for (const cidr of list) rs.addRule({ table: 'raw', chain, slot: 500, owner: s.path, args: { [f]: ['-s', cidr, '-j', 'DROP'] } });
    }
  }
}
