/**
 * The host as a part like any other: the reference single-host stateful
 * firewall (conntrack first, loopback, ICMPv6 link plumbing, blocked peers,
 * trusted interfaces, INVALID, ping, dispatch of NEW packets to the TCP and
 * UDP chains, the openings, polite refusals, outbound filtering and the IPv6
 * reverse-path filter), written with Match and Target and compiled like every
 * other part, with the declarations of what it admits.
 */
import { IpFamily } from '../iptables/family';
import { BUILTIN_CHAIN_NAMES } from '../iptables/kernel-limits';
import { recentList } from '../iptables/spelling';
import { PartHostInfo } from '../rules/host-info';
import { LibraryRule, SkeletonRules } from '../rules/library-rules';
import { Match } from '../rules/match';
import { SlottedRule } from '../rules/part-rules';
import { HostRule, RuleSlot } from '../rules/slot';
import { SkeletonSlot } from '../rules/slot-places';
import { Target } from '../rules/target';
import { ConnState } from '../values/conn-state';
import { IcmpType } from '../values/icmp';
import { DeclaredEgress } from '../values/intent';
import { ClosedPortResponse, OutboundPolicy } from '../values/options';
import { Peer } from '../values/peer';
import { Port, Protocol } from '../values/port';

/** Everything a stateful host's own rules are made of, already validated. */
export interface HostFirewallSpec extends PartHostInfo {
  readonly outboundPorts: readonly Port[];
  readonly outboundPeers: readonly Peer[];
  readonly outboundPing: boolean;
  readonly reversePathFilter: boolean;
  /** Rules carry `-m comment --comment "<owner path>"`. @default false */
  readonly ruleComments?: boolean;
  /** Blocked peers (dropped first). */
  readonly blocks: readonly Peer[];
}

/** Chain names of the service chains, as in the seed. */
export const TCP_CHAIN = 'TCP';
export const UDP_CHAIN = 'UDP';

/**
 * More blocked peers than this and `block()` uses one ipset set per family
 * (one hash lookup per packet) instead of one rule per peer (a linear scan):
 * the same drops, the same slot.
 */
export const BLOCK_SET_THRESHOLD = 16;

/** The sets `block()` uses beyond {@link BLOCK_SET_THRESHOLD} peers. */
export const BLOCK_SET_NAMES: Record<IpFamily, string> = { [IpFamily.V4]: 'cfw-block-v4', [IpFamily.V6]: 'cfw-block-v6' };

const NEW = Match.state([ConnState.NEW]);
const REPLIES = [ConnState.ESTABLISHED, ConnState.RELATED];

/**
 * Drops `peers` at the INPUT_BLOCK slot with one `hash:net` set per family
 * (`names`): the rules and sets a part hands over.
 */
export function blockWithSets(
  host: { families: readonly IpFamily[]; forwards?: boolean }, peers: readonly Peer[], names: Record<IpFamily, string>,
): { rules: SlottedRule[]; sets: NonNullable<SkeletonRules['sets']> } {
  const rules: SlottedRule[] = [];
  const sets: Array<{ name: string; family: IpFamily; entries: string[] }> = [];
  for (const family of host.families) {
    const entries = peers.filter((p) => p.hasFamily(family) && !p.isAny).map((p) => p.cidr);
    if (entries.length === 0) continue;
    sets.push({ name: names[family], family, entries });
    for (const slot of blockSlots(host)) rules.push({ slot, matches: [Match._sourceInSet(names[family])], target: Target.DROP, family });
  }
  return { rules, sets };
}

/** Where blocked peers are dropped: INPUT, and FORWARD on a host that routes packets (a port forward must not admit them either). */
export function blockSlots(host: { forwards?: boolean }): RuleSlot[] {
  return host.forwards ? [RuleSlot.INPUT_BLOCK, RuleSlot.FORWARD_BLOCK] : [RuleSlot.INPUT_BLOCK];
}

/** The host's own rules and declarations, as a part. */
export function hostSkeleton(spec: HostFirewallSpec): SkeletonRules {
  const rules: LibraryRule[] = [
    { slot: SkeletonSlot.INPUT_CONNTRACK, matches: [Match.state([ConnState.RELATED, ConnState.ESTABLISHED])], target: Target.ACCEPT },
    { slot: SkeletonSlot.INPUT_LOOPBACK, matches: [Match.inInterface('lo')], target: Target.ACCEPT },
    ...spec.trustedInterfaces.map((iface): LibraryRule => ({
      slot: RuleSlot.INPUT_TRUSTED, matches: [Match.inInterface(iface)], target: Target.ACCEPT,
    })),
    // IPv6: ICMPv6 from link-local sources (seed), and neighbour discovery from any
    // on-link source (hop limit 255 cannot be forged from off-link), before any DROP
    { slot: SkeletonSlot.INPUT_ICMPV6_LINK, matches: [Match.source(LINK_LOCAL), Match.protocol(Protocol.ICMPV6)], target: Target.ACCEPT },
    ...[IcmpType.NEIGHBOR_SOLICITATION, IcmpType.NEIGHBOR_ADVERTISEMENT].map((type, i): LibraryRule => ({
      slot: SkeletonSlot.INPUT_ICMPV6_LINK, order: i + 1, matches: [Match.icmp(type), Match.hopLimit(255)], target: Target.ACCEPT,
    })),
    { slot: SkeletonSlot.INPUT_INVALID, matches: [Match.state([ConnState.INVALID])], target: Target.DROP },
    { slot: SkeletonSlot.INPUT_DISPATCH, order: 1, matches: [Match.protocol(Protocol.UDP), NEW], target: Target.jump(UDP_CHAIN) },
    { slot: SkeletonSlot.INPUT_DISPATCH, order: 2, matches: [Match.tcpSyn(), NEW], target: Target.jump(TCP_CHAIN) },
  ];
  const sets: NonNullable<SkeletonRules['sets']> = [];
  if (spec.blocks.length <= BLOCK_SET_THRESHOLD) {
    for (const slot of blockSlots(spec)) for (const peer of spec.blocks) rules.push({ slot, matches: [Match.source(peer)], target: Target.DROP });
  } else {
    const bySets = blockWithSets(spec, spec.blocks, BLOCK_SET_NAMES);
    rules.push(...bySets.rules);
    sets.push(...bySets.sets);
  }
  if (spec.ping) {
    rules.push({ slot: RuleSlot.INPUT_ICMP, matches: [Match.icmp(IcmpType.ECHO_REQUEST), NEW], target: Target.ACCEPT, id: HostRule.PING });
  }
  if (spec.closedPortResponse === ClosedPortResponse.REJECT) {
    rules.push(
      { slot: RuleSlot.INPUT_REFUSE_UDP, matches: [Match.protocol(Protocol.UDP)], target: Target.reject(), id: HostRule.REFUSE_UDP },
      { slot: RuleSlot.INPUT_REFUSE_TCP, matches: [Match.protocol(Protocol.TCP)], target: Target.reject(), id: HostRule.REFUSE_TCP },
      { slot: RuleSlot.INPUT_REFUSE_OTHER, target: Target.reject() },
    );
  }
  // the TCP / UDP chains: opened ports
  for (const o of spec.openings) {
    const port = o.port!;
    rules.push({
      slot: port.protocol === Protocol.TCP ? RuleSlot.TCP_OPEN : RuleSlot.UDP_OPEN,
      matches: [...(o.peer ? [Match.source(o.peer)] : []), ...(o.iface ? [Match.inInterface(o.iface)] : []), Match.port(port)],
      target: Target.ACCEPT,
    });
  }
  // OUTPUT, when restricted (iptables-useful-rules: OUTPUT policy DROP)
  const restricted = spec.outboundPolicy === OutboundPolicy.DROP;
  if (restricted) {
    rules.push(
      { slot: SkeletonSlot.OUTPUT_LOOPBACK, matches: [Match.outInterface('lo')], target: Target.ACCEPT },
      { slot: SkeletonSlot.OUTPUT_CONNTRACK, matches: [Match.state([ConnState.RELATED, ConnState.ESTABLISHED])], target: Target.ACCEPT },
      // neighbour discovery and MLD reports must leave, or IPv6 stops working on the link
      ...LINK_EGRESS.map((type, i): LibraryRule => ({
        slot: SkeletonSlot.OUTPUT_ICMP, order: i, matches: [Match.icmp(type)], target: Target.ACCEPT,
      })),
    );
    if (spec.outboundPing) {
      rules.push({ slot: SkeletonSlot.OUTPUT_ICMP, order: 10, matches: [Match.icmp(IcmpType.ECHO_REQUEST)], target: Target.ACCEPT });
    }
    for (const p of spec.outboundPorts) rules.push({ slot: RuleSlot.OUTPUT_OPEN, matches: [Match.port(p)], target: Target.ACCEPT });
    for (const p of spec.outboundPeers) rules.push({ slot: RuleSlot.OUTPUT_OPEN, matches: [Match.destination(p)], target: Target.ACCEPT });
  }
  // IPv6 reverse-path filter in raw PREROUTING (seed: no kernel rp_filter for IPv6)
  if (spec.reversePathFilter) {
    rules.push(
      { slot: SkeletonSlot.RAW_RPFILTER, matches: [Match._reversePath()], target: Target.ACCEPT, family: IpFamily.V6 },
      { slot: SkeletonSlot.RAW_RPFILTER_DROP, target: Target.DROP, family: IpFamily.V6 },
    );
  }
  return {
    rules,
    sets,
    // the host's own chains and every built-in chain: no part may take these names
    claims: [
      ...[TCP_CHAIN, UDP_CHAIN, ...BUILTIN_CHAIN_NAMES].map((name) => ({ kind: 'chain', name })),
      ...(spec.deployPass ? spec.families.map((f) => ({ kind: 'recent list', name: recentList(f, spec.deployPass!.list) })) : []),
    ],
    opens: [
      // replies, loopback, ICMPv6 link plumbing, ping, the openings
      { anyProtocol: true, states: REPLIES },
      { protocol: Protocol.ICMPV6, peer: LINK_LOCAL },
      { icmp: IcmpType.NEIGHBOR_SOLICITATION },
      { icmp: IcmpType.NEIGHBOR_ADVERTISEMENT },
      ...(spec.ping ? [{ icmp: IcmpType.ECHO_REQUEST }] : []),
      ...spec.openings,
    ],
    trusts: ['lo', ...spec.trustedInterfaces],
    refuses: spec.blocks.map((peer) => ({ peer })),
    egress: restricted ? [
      { anyProtocol: true, outInterface: 'lo' },
      { anyProtocol: true, states: REPLIES },
      ...LINK_EGRESS.map((icmp): DeclaredEgress => ({ icmp })),
      ...(spec.outboundPing ? [{ icmp: IcmpType.ECHO_REQUEST }] : []),
      ...spec.outboundPorts.map((port): DeclaredEgress => ({ port })),
      ...spec.outboundPeers.map((destination): DeclaredEgress => ({ anyProtocol: true, destination })),
    ] : [{ anyProtocol: true }],
  };
}

/** IPv6 link-local sources. */
const LINK_LOCAL = Peer.ipv6('fe80::/10');

/** ICMPv6 messages a host with outbound policy DROP must still send: router solicitation, neighbour discovery, MLD reports. */
const LINK_EGRESS: readonly IcmpType[] = [
  IcmpType.ROUTER_SOLICITATION, IcmpType.NEIGHBOR_SOLICITATION, IcmpType.NEIGHBOR_ADVERTISEMENT, IcmpType.MULTICAST_LISTENER_REPORT,
];
