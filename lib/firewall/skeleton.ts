import { IpFamily, ALL_FAMILIES } from '../iptables/family';
import { matchSet } from '../iptables/ipset';
import { BUILTIN_CHAIN_NAMES } from '../iptables/kernel-limits';
import { recentList } from '../iptables/spelling';
import { ClosedPortResponse, OutboundPolicy } from '../values/options';
import { Peer } from '../values/peer';
import { Port, Protocol } from '../values/port';
import { both, RuleSpec } from '../rules/rule';
import { Ruleset } from '../rules/ruleset';
import { InputSlot, OutputSlot, RawSlot, ServiceSlot } from '../rules/slots';
import { checkJumps, CompileOptions, compilePart } from '../rules/compile';
import { PartHost } from '../rules/part-host';
import type { PartRules } from '../rules/part-rules';

/** A port opened for new connections, maybe only from a peer or on an interface. */
export interface Opening {
  readonly port: Port;
  /** Sources admitted. @default Peer.any() */
  readonly peer?: Peer;
  /** Interface the connection must arrive on. @default any */
  readonly iface?: string;
  /** Construct path that asked for it. */
  readonly owner: string;
}

/** A peer whose traffic is dropped. */
export interface Block {
  readonly peer: Peer;
  readonly owner: string;
}

/** A part of a host's firewall: adds chains and rules to the host's ruleset. */
export interface FirewallContribution {
  /** Construct path of the part (owner of its rules, tie-breaker in ordering). */
  readonly path: string;
  /** Adds the part's chains and rules; throws on a conflict with the host or another part. */
  contribute(rs: Ruleset, host: HostFirewallSpec): void;
}

/**
 * Base of the built-in parts' contributions: a validated spec (with the
 * part's path), the part's rules through the public rule layer (`rules`, the
 * same PartRules a third-party part returns), and the bookkeeping that is not
 * a rule (`prepare`: claims with a part-specific fix, guard lists, sets).
 */
export abstract class PartContribution<S extends { readonly path: string }> implements FirewallContribution {
  public constructor(public readonly spec: S) {}

  public get path(): string {
    return this.spec.path;
  }

  /** The part's chains and rules, as any part hands them to its host. */
  public rules(_host: PartHost): PartRules {
    return {};
  }

  /** What the part records besides its rules; runs before they are compiled. */
  public prepare(_rs: Ruleset, _host: HostFirewallSpec): void {}

  /** How the rules are compiled: the library's parts may use its reserved chain names. */
  public compileOptions(): CompileOptions {
    return { library: true };
  }

  public contribute(rs: Ruleset, host: HostFirewallSpec): void {
    this.prepare(rs, host);
    compilePart(rs, host, this.path, this.rules(PartHost._of(host)), this.compileOptions());
  }
}

/** Everything a stateful host's rules are made of, already validated. */
export interface HostFirewallSpec {
  /** Construct path of the host. */
  readonly path: string;
  /** Parts that add to the host's rules (guards, traps, NAT, ...), in any order. */
  readonly parts?: readonly FirewallContribution[];
  readonly families: readonly IpFamily[];
  readonly ping: boolean;
  readonly trustedInterfaces: readonly string[];
  readonly closedPortResponse: ClosedPortResponse;
  readonly outboundPolicy: OutboundPolicy;
  readonly outboundPorts: readonly Port[];
  readonly outboundPeers: readonly Peer[];
  readonly outboundPing: boolean;
  readonly reversePathFilter: boolean;
  /** Rules carry `-m comment --comment "<owner path>"`. @default false */
  readonly ruleComments?: boolean;
  readonly openings: readonly Opening[];
  readonly blocks: readonly Block[];
  /**
   * When the host is deployed over SSH: an xt_recent list that lets the
   * deploying client (added by the deploy after it authenticated, removed at
   * confirm or rollback) past the brute-force guards for `seconds` at most.
   * @default - no deploy pass
   */
  readonly deployPass?: DeployPass;
}

/** The deploy pass of a host's brute-force guards. */
export interface DeployPass {
  /** xt_recent list name (IPv6 rules use it with a `6` suffix). */
  readonly list: string;
  /** Longest time an entry counts. */
  readonly seconds: number;
}

/** Ids of base rules that parts may replace. */
export const RuleId = {
  PING: 'ping',
  FINAL_UDP: 'final-udp',
  FINAL_TCP: 'final-tcp',
} as const;

/** Order of the final rules inside the FINAL slot: UDP, TCP, then everything else. */
export const FinalOrder = { UDP: 10, TCP: 20, OTHER: 30 } as const;

/** Chain names of the service chains, as in the seed. */
export const TCP_CHAIN = 'TCP';
export const UDP_CHAIN = 'UDP';

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];
const SYN = ['-p', 'tcp', '-m', 'tcp', '--tcp-flags', 'FIN,SYN,RST,ACK', 'SYN'];
const ICMP_ECHO_REQUEST: Record<IpFamily, string[]> = {
  [IpFamily.V4]: ['-p', 'icmp', '-m', 'icmp', '--icmp-type', '8'],
  [IpFamily.V6]: ['-p', 'ipv6-icmp', '-m', 'icmp6', '--icmpv6-type', '128'],
};

/**
 * Reject arguments per family. IPv6 has no "protocol unreachable" reject:
 * RFC 4443's administratively-prohibited (as the seed recommends) stands in.
 */
export const REJECT_WITH = {
  udp: { [IpFamily.V4]: ['-j', 'REJECT', '--reject-with', 'icmp-port-unreachable'], [IpFamily.V6]: ['-j', 'REJECT', '--reject-with', 'icmp6-port-unreachable'] },
  tcp: { [IpFamily.V4]: ['-j', 'REJECT', '--reject-with', 'tcp-reset'], [IpFamily.V6]: ['-j', 'REJECT', '--reject-with', 'tcp-reset'] },
  other: { [IpFamily.V4]: ['-j', 'REJECT', '--reject-with', 'icmp-proto-unreachable'], [IpFamily.V6]: ['-j', 'REJECT', '--reject-with', 'icmp6-adm-prohibited'] },
} as const;

/** Builds per-family args with a function of the family, for the given families. */
export function perFamily(
  families: readonly IpFamily[],
  f: (family: IpFamily) => readonly string[] | undefined,
): Partial<Record<IpFamily, readonly string[]>> {
  const out: Partial<Record<IpFamily, readonly string[]>> = {};
  for (const fam of families) {
    const args = f(fam);
    if (args) out[fam] = args;
  }
  return out;
}

/**
 * The reference single-host stateful firewall (seed: "Firewall for a single
 * machine" + its IPv6 adaptation), as a ruleset that parts can add to.
 */
export function hostFirewall(spec: HostFirewallSpec): Ruleset {
  const rs = new Ruleset({ comments: spec.ruleComments === true });
  const fams = spec.families;
  const owner = spec.path;
  const rule = (chain: string, slot: number, args: Partial<Record<IpFamily, readonly string[]>>, order = 0, table: RuleSpec['table'] = 'filter', id?: string): RuleSpec =>
    ({ table, chain, slot, order, owner, args: restrict(args, fams), id });

  // the host's own chains and every built-in chain: no part may take these names
  for (const name of [TCP_CHAIN, UDP_CHAIN, ...BUILTIN_CHAIN_NAMES]) rs.claim('chain', name, owner);
  rs.declareChain({ table: 'filter', name: 'INPUT', policy: 'DROP', families: fams, owner });
  rs.declareChain({ table: 'filter', name: 'FORWARD', policy: 'DROP', families: fams, owner });
  rs.declareChain({ table: 'filter', name: 'OUTPUT', policy: spec.outboundPolicy === OutboundPolicy.DROP ? 'DROP' : 'ACCEPT', families: fams, owner });
  rs.declareChain({ table: 'filter', name: TCP_CHAIN, families: fams, owner });
  rs.declareChain({ table: 'filter', name: UDP_CHAIN, families: fams, owner });

  // INPUT, in the seed's order.
  rs.addRules([
    rule('INPUT', InputSlot.CONNTRACK, both(['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'])),
    rule('INPUT', InputSlot.LOOPBACK, both(['-i', 'lo', '-j', 'ACCEPT'])),
    ...spec.trustedInterfaces.map((iface) => rule('INPUT', InputSlot.TRUSTED, both(['-i', iface, '-j', 'ACCEPT']))),
    // IPv6: ICMPv6 from link-local sources (seed), and neighbour discovery from any
    // on-link source (hop limit 255 cannot be forged from off-link), before any DROP.
    rule('INPUT', InputSlot.ICMPV6_LINK, { [IpFamily.V6]: ['-s', 'fe80::/10', '-p', 'ipv6-icmp', '-j', 'ACCEPT'] }),
    rule('INPUT', InputSlot.ICMPV6_LINK, { [IpFamily.V6]: ['-p', 'ipv6-icmp', '-m', 'icmp6', '--icmpv6-type', '135', '-m', 'hl', '--hl-eq', '255', '-j', 'ACCEPT'] }, 1),
    rule('INPUT', InputSlot.ICMPV6_LINK, { [IpFamily.V6]: ['-p', 'ipv6-icmp', '-m', 'icmp6', '--icmpv6-type', '136', '-m', 'hl', '--hl-eq', '255', '-j', 'ACCEPT'] }, 2),
    rule('INPUT', InputSlot.INVALID, both(['-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP'])),
    rule('INPUT', InputSlot.DISPATCH, both(['-p', 'udp', ...NEW, '-j', UDP_CHAIN]), 1),
    rule('INPUT', InputSlot.DISPATCH, both([...SYN, ...NEW, '-j', TCP_CHAIN]), 2),
  ]);
  addBlocks(rs, spec);
  if (spec.ping) {
    rs.addRule(rule('INPUT', InputSlot.ICMP, perFamily(fams, (f) => [...ICMP_ECHO_REQUEST[f], ...NEW, '-j', 'ACCEPT']), 0, 'filter', RuleId.PING));
  }
  if (spec.closedPortResponse === ClosedPortResponse.REJECT) {
    rs.addRules([
      rule('INPUT', InputSlot.FINAL, perFamily(fams, (f) => ['-p', 'udp', ...REJECT_WITH.udp[f]]), FinalOrder.UDP, 'filter', RuleId.FINAL_UDP),
      rule('INPUT', InputSlot.FINAL, perFamily(fams, (f) => ['-p', 'tcp', ...REJECT_WITH.tcp[f]]), FinalOrder.TCP, 'filter', RuleId.FINAL_TCP),
      rule('INPUT', InputSlot.FINAL, perFamily(fams, (f) => [...REJECT_WITH.other[f]]), FinalOrder.OTHER),
    ]);
  }

  // The TCP / UDP chains: opened ports.
  for (const o of spec.openings) {
    const chain = o.port.protocol === Protocol.TCP ? TCP_CHAIN : UDP_CHAIN;
    const iface = o.iface ? ['-i', o.iface] : [];
    const peer = o.peer ?? Peer.any();
    rs.addRule({ ...rule(chain, ServiceSlot.OPEN, peerArgs(peer, fams, (src) => [...src, ...iface, ...o.port._matchArgs(), '-j', 'ACCEPT'])), owner: o.owner });
  }

  // OUTPUT, when restricted (iptables-useful-rules: OUTPUT policy DROP).
  if (spec.outboundPolicy === OutboundPolicy.DROP) {
    rs.addRules([
      rule('OUTPUT', OutputSlot.LOOPBACK, both(['-o', 'lo', '-j', 'ACCEPT'])),
      rule('OUTPUT', OutputSlot.CONNTRACK, both(['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'])),
      // neighbour discovery and MLD reports must leave, or IPv6 stops working on the link
      ...['133', '135', '136', '143'].map((t, i) => rule('OUTPUT', OutputSlot.ICMP, { [IpFamily.V6]: ['-p', 'ipv6-icmp', '-m', 'icmp6', '--icmpv6-type', t, '-j', 'ACCEPT'] }, i)),
    ]);
    if (spec.outboundPing) {
      rs.addRule(rule('OUTPUT', OutputSlot.ICMP, perFamily(fams, (f) => [...ICMP_ECHO_REQUEST[f], '-j', 'ACCEPT']), 10));
    }
    for (const p of spec.outboundPorts) rs.addRule(rule('OUTPUT', OutputSlot.OPEN, both([...p._matchArgs(), '-j', 'ACCEPT'])));
    for (const p of spec.outboundPeers) {
      rs.addRule(rule('OUTPUT', OutputSlot.OPEN, perFamily(fams, (f) => (p.hasFamily(f) ? [...(p.isAny ? [] : ['-d', p.cidr]), '-j', 'ACCEPT'] : undefined))));
    }
  }

  // IPv6 reverse-path filter in raw PREROUTING (seed: no kernel rp_filter for IPv6).
  if (spec.reversePathFilter) {
    rs.declareChain({ table: 'raw', name: 'PREROUTING', families: fams.filter((f) => f === IpFamily.V6), owner });
    rs.declareChain({ table: 'raw', name: 'OUTPUT', families: fams.filter((f) => f === IpFamily.V6), owner });
    rs.addRules([
      rule('PREROUTING', RawSlot.RPFILTER, { [IpFamily.V6]: ['-m', 'rpfilter', '-j', 'ACCEPT'] }, 0, 'raw'),
      rule('PREROUTING', RawSlot.RPFILTER_DROP, { [IpFamily.V6]: ['-j', 'DROP'] }, 0, 'raw'),
    ]);
  }
  if (spec.deployPass) {
    for (const f of fams) rs.claim('recent list', recentList(f, spec.deployPass.list), owner);
  }
  for (const part of [...(spec.parts ?? [])].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    part.contribute(rs, spec);
  }
  checkJumps(rs);
  return rs;
}

/**
 * More blocked peers than this and `block()` uses one ipset set per family
 * (one hash lookup per packet) instead of one rule per peer (a linear scan):
 * the same drops, the same slot.
 */
export const BLOCK_SET_THRESHOLD = 16;

/** The sets `block()` uses beyond {@link BLOCK_SET_THRESHOLD} peers. */
export const BLOCK_SET_NAMES: Record<IpFamily, string> = { [IpFamily.V4]: 'cfw-block-v4', [IpFamily.V6]: 'cfw-block-v6' };

/** Blocked peers: dropped first (after conntrack and loopback), by rules or by sets. */
function addBlocks(rs: Ruleset, spec: HostFirewallSpec): void {
  if (spec.blocks.length <= BLOCK_SET_THRESHOLD) {
    for (const b of spec.blocks) {
      rs.addRule({ table: 'filter', chain: 'INPUT', slot: InputSlot.BLOCK, owner: b.owner, args: peerArgs(b.peer, spec.families, (src) => [...src, '-j', 'DROP']) });
    }
    return;
  }
  blockWithSets(rs, spec.path, spec.families, spec.blocks.map((b) => b.peer), BLOCK_SET_NAMES);
}

/** One `hash:net` set per family holding `peers`, and one DROP rule per family in the BLOCK slot. */
export function blockWithSets(
  rs: Ruleset, owner: string, families: readonly IpFamily[], peers: readonly Peer[], names: Record<IpFamily, string>,
): void {
  for (const family of families) {
    const entries = peers.filter((p) => p.hasFamily(family) && !p.isAny).map((p) => p.cidr);
    if (entries.length === 0) continue;
    rs.addSet({ name: names[family], family, entries, owner });
    rs.addRule({ table: 'filter', chain: 'INPUT', slot: InputSlot.BLOCK, owner, args: { [family]: [...matchSet(names[family]), '-j', 'DROP'] } });
  }
}

/** Args for a rule about `peer`: only in the peer's families, with `-s` when it is not everyone. */
export function peerArgs(
  peer: Peer,
  families: readonly IpFamily[],
  f: (source: string[], family: IpFamily) => string[],
): Partial<Record<IpFamily, readonly string[]>> {
  return perFamily(families, (fam) => (peer.hasFamily(fam) ? f(peer._sourceArgs(), fam) : undefined));
}

function restrict(args: Partial<Record<IpFamily, readonly string[]>>, families: readonly IpFamily[]): Partial<Record<IpFamily, readonly string[]>> {
  const out: Partial<Record<IpFamily, readonly string[]>> = {};
  for (const f of ALL_FAMILIES) if (families.includes(f) && args[f]) out[f] = args[f];
  return out;
}
