/**
 * How iptables spells things, per family, in ONE table (as firewalld's
 * ipXtables backend keeps its per-family strings together): file and command
 * names, the ICMP protocol and its types, REJECT answers, TTL vs hop limit,
 * recent-list names; and the argv of the matches whose spelling depends on
 * the family (xt_recent masks, hashlimit source masks). The exact spelling
 * iptables-save prints, so rendered files and the kernel's view compare equal.
 */
import * as ipaddr from 'ipaddr.js';
import { IpFamily } from './family';

/** The answers a REJECT gives, by meaning. */
export interface RejectSpelling {
  readonly portUnreachable: string;
  readonly hostUnreachable: string;
  readonly adminProhibited: string;
  /** For protocols without ports: IPv4 protocol unreachable; IPv6 has none, RFC 4443's administratively prohibited stands in. */
  readonly protocolUnreachable: string;
}

/** Everything iptables spells differently in one family. */
export interface FamilySpelling {
  /** Address width in bits. */
  readonly addressBits: number;
  /** The rule file a host writes. */
  readonly ruleFile: string;
  /** The commands that load and print the rules. */
  readonly restore: string;
  readonly save: string;
  /** `family` of an ipset set. */
  readonly ipsetFamily: string;
  /** `-p` of ICMP, and its match module and type option. */
  readonly icmpProtocol: string;
  readonly icmpModule: string;
  readonly icmpTypeOption: string;
  /** The IP protocol number of ICMP. */
  readonly icmpProtocolNumber: number;
  /** The module matching the TTL (IPv4) or hop limit (IPv6), and its option prefix (`--ttl`, `--hl`). */
  readonly hopLimitModule: string;
  readonly hopLimitOption: string;
  readonly reject: RejectSpelling;
  /**
   * Appended to xt_recent list names: when an IPv4 and an IPv6 rule share one
   * list name, the kernel applies the IPv4 mask to IPv6 sources, so every
   * address of a /32 shares one entry (one scanner would trap its whole /32).
   * The kernel tests found this; separate lists avoid it.
   */
  readonly recentListSuffix: string;
}

/** The table. */
export const SPELLING: Readonly<Record<IpFamily, FamilySpelling>> = {
  [IpFamily.V4]: {
    addressBits: 32,
    ruleFile: 'iptables.rules',
    restore: 'iptables-restore',
    save: 'iptables-save',
    ipsetFamily: 'inet',
    icmpProtocol: 'icmp',
    icmpModule: 'icmp',
    icmpTypeOption: '--icmp-type',
    icmpProtocolNumber: 1,
    hopLimitModule: 'ttl',
    hopLimitOption: '--ttl',
    reject: {
      portUnreachable: 'icmp-port-unreachable',
      hostUnreachable: 'icmp-host-unreachable',
      adminProhibited: 'icmp-admin-prohibited',
      protocolUnreachable: 'icmp-proto-unreachable',
    },
    recentListSuffix: '',
  },
  [IpFamily.V6]: {
    addressBits: 128,
    ruleFile: 'ip6tables.rules',
    restore: 'ip6tables-restore',
    save: 'ip6tables-save',
    ipsetFamily: 'inet6',
    icmpProtocol: 'ipv6-icmp',
    icmpModule: 'icmp6',
    icmpTypeOption: '--icmpv6-type',
    icmpProtocolNumber: 58,
    hopLimitModule: 'hl',
    hopLimitOption: '--hl',
    reject: {
      portUnreachable: 'icmp6-port-unreachable',
      hostUnreachable: 'icmp6-addr-unreachable',
      adminProhibited: 'icmp6-adm-prohibited',
      protocolUnreachable: 'icmp6-adm-prohibited',
    },
    recentListSuffix: '6',
  },
};

/** The rule file name of a family. */
export function ruleFileName(family: IpFamily): string {
  return SPELLING[family].ruleFile;
}

/** ICMP message types by meaning (the names of `IcmpType`), per family; a type missing in a family does not exist there. */
export const ICMP_TYPES: Readonly<Record<string, Partial<Record<IpFamily, number>>>> = {
  ECHO_REQUEST: { [IpFamily.V4]: 8, [IpFamily.V6]: 128 },
  ECHO_REPLY: { [IpFamily.V4]: 0, [IpFamily.V6]: 129 },
  DESTINATION_UNREACHABLE: { [IpFamily.V4]: 3, [IpFamily.V6]: 1 },
  TIME_EXCEEDED: { [IpFamily.V4]: 11, [IpFamily.V6]: 3 },
  PARAMETER_PROBLEM: { [IpFamily.V4]: 12, [IpFamily.V6]: 4 },
  PACKET_TOO_BIG: { [IpFamily.V6]: 2 },
  ROUTER_SOLICITATION: { [IpFamily.V6]: 133 },
  ROUTER_ADVERTISEMENT: { [IpFamily.V6]: 134 },
  NEIGHBOR_SOLICITATION: { [IpFamily.V6]: 135 },
  NEIGHBOR_ADVERTISEMENT: { [IpFamily.V6]: 136 },
  MULTICAST_LISTENER_REPORT: { [IpFamily.V6]: 143 },
};

/** The ICMP type names iptables accepts (`--icmp-type echo-request`), as [type, code?]. */
export const ICMP_TYPE_NAMES: Readonly<Record<IpFamily, Readonly<Record<string, readonly [number, number?]>>>> = {
  [IpFamily.V4]: {
    'any': [-1],
    'echo-reply': [0],
    'pong': [0],
    'destination-unreachable': [3],
    'network-unreachable': [3, 0],
    'host-unreachable': [3, 1],
    'protocol-unreachable': [3, 2],
    'port-unreachable': [3, 3],
    'fragmentation-needed': [3, 4],
    'source-route-failed': [3, 5],
    'network-unknown': [3, 6],
    'host-unknown': [3, 7],
    'network-prohibited': [3, 9],
    'host-prohibited': [3, 10],
    'TOS-network-unreachable': [3, 11],
    'TOS-host-unreachable': [3, 12],
    'communication-prohibited': [3, 13],
    'host-precedence-violation': [3, 14],
    'precedence-cutoff': [3, 15],
    'source-quench': [4],
    'redirect': [5],
    'network-redirect': [5, 0],
    'host-redirect': [5, 1],
    'TOS-network-redirect': [5, 2],
    'TOS-host-redirect': [5, 3],
    'echo-request': [8],
    'ping': [8],
    'router-advertisement': [9],
    'router-solicitation': [10],
    'time-exceeded': [11],
    'ttl-exceeded': [11],
    'ttl-zero-during-transit': [11, 0],
    'ttl-zero-during-reassembly': [11, 1],
    'parameter-problem': [12],
    'ip-header-bad': [12, 0],
    'required-option-missing': [12, 1],
    'timestamp-request': [13],
    'timestamp-reply': [14],
    'address-mask-request': [17],
    'address-mask-reply': [18],
  },
  [IpFamily.V6]: {
    'destination-unreachable': [1],
    'no-route': [1, 0],
    'communication-prohibited': [1, 1],
    'beyond-scope': [1, 2],
    'address-unreachable': [1, 3],
    'port-unreachable': [1, 4],
    'failed-policy': [1, 5],
    'reject-route': [1, 6],
    'packet-too-big': [2],
    'time-exceeded': [3],
    'ttl-exceeded': [3],
    'ttl-zero-during-transit': [3, 0],
    'ttl-zero-during-reassembly': [3, 1],
    'parameter-problem': [4],
    'bad-header': [4, 0],
    'unknown-header-type': [4, 1],
    'unknown-option': [4, 2],
    'echo-request': [128],
    'ping': [128],
    'echo-reply': [129],
    'pong': [129],
    'mld-listener-query': [130],
    'mld-listener-report': [131],
    'mld-listener-done': [132],
    'mld-listener-reduction': [132],
    'router-solicitation': [133],
    'router-advertisement': [134],
    'neighbour-solicitation': [135],
    'neighbor-solicitation': [135],
    'neighbour-advertisement': [136],
    'neighbor-advertisement': [136],
    'redirect': [137],
  },
};

/**
 * IP protocol numbers by the names iptables takes after `-p` (its own names
 * and those of /etc/protocols that a Debian host prints back).
 */
export const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  'icmp': 1,
  'igmp': 2,
  'ipencap': 4,
  'tcp': 6,
  'egp': 8,
  'igp': 9,
  'udp': 17,
  'dccp': 33,
  'ipv6': 41,
  'ipv6-route': 43,
  'ipv6-frag': 44,
  'rsvp': 46,
  'gre': 47,
  'esp': 50,
  'ah': 51,
  'ipv6-icmp': 58,
  'icmpv6': 58,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  'ospf': 89,
  'ipip': 94,
  'pim': 103,
  'vrrp': 112,
  'l2tp': 115,
  'sctp': 132,
  'mh': 135,
  'udplite': 136,
  'mpls-in-ip': 137,
};

/** Protocols whose packets carry ports (the tcp, udp, sctp, dccp and udplite matches read them). */
export const PORT_PROTOCOLS: readonly number[] = [6, 17, 33, 132, 136];

/** The conntrack states, in the order iptables-save prints a list of them. */
export const CT_STATE_ORDER: readonly string[] = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED', 'SNAT', 'DNAT'];

/**
 * How per-source limits group sources: the prefix length per family. IPv6
 * defaults to /64 (what one customer holds: counting every /128 apart lets an
 * attacker rotate addresses around any limit), IPv4 to /32.
 */
export interface SourcePrefix {
  readonly [IpFamily.V4]: number;
  readonly [IpFamily.V6]: number;
}

/** The default grouping: /32 for IPv4, /64 for IPv6. */
export const DEFAULT_SOURCE_PREFIX: SourcePrefix = { [IpFamily.V4]: 32, [IpFamily.V6]: 64 };

/** Every address on its own: /32 and /128 (lists that tools outside the kernel write full addresses to). */
export const FULL_PREFIX: SourcePrefix = { [IpFamily.V4]: 32, [IpFamily.V6]: 128 };

/** xt_recent's `--mask` for a prefix length, as iptables-save prints it (`255.255.255.0`, `ffff:ffff:ffff:ffff::`). */
export function recentMask(family: IpFamily, prefixLength: number): string {
  return family === IpFamily.V4
    ? ipaddr.IPv4.subnetMaskFromPrefixLength(prefixLength).toString()
    : ipaddr.IPv6.subnetMaskFromPrefixLength(prefixLength).toString();
}

/** The xt_recent list a family uses (see {@link FamilySpelling.recentListSuffix}). */
export function recentList(family: IpFamily, list: string): string {
  return `${list}${SPELLING[family].recentListSuffix}`;
}

/** `-m recent --set`: remember the source. */
export function recentSet(family: IpFamily, list: string, prefix: SourcePrefix = DEFAULT_SOURCE_PREFIX): string[] {
  return ['-m', 'recent', '--set', '--name', recentList(family, list), '--mask', recentMask(family, prefix[family]), '--rsource'];
}

/** `-m recent --rcheck/--update`, within `seconds` when given, optionally with a hit count and TTL check. */
export function recentCheck(
  family: IpFamily, op: 'rcheck' | 'update', list: string, seconds: number | undefined, hitcount?: number, rttl = false, prefix: SourcePrefix = DEFAULT_SOURCE_PREFIX,
): string[] {
  return [
    '-m', 'recent', `--${op}`, ...(seconds !== undefined ? ['--seconds', String(seconds)] : []),
    ...(hitcount !== undefined ? ['--hitcount', String(hitcount)] : []),
    ...(rttl ? ['--rttl'] : []),
    '--name', recentList(family, list), '--mask', recentMask(family, prefix[family]), '--rsource',
  ];
}

/** A packet rate as iptables prints it: per second when whole, else per minute. */
export function rateText(perMinute: number): string {
  return perMinute % 60 === 0 ? `${perMinute / 60}/sec` : `${perMinute}/min`;
}

/** `-m limit`: a global token bucket (iptables omits the default burst of 5). */
export function limit(perMinute: number, burst: number): string[] {
  return ['-m', 'limit', '--limit', rateText(perMinute), ...(burst !== 5 ? ['--limit-burst', String(burst)] : [])];
}

/**
 * `-m hashlimit`: a token bucket per source (per source prefix: iptables-save
 * prints `--hashlimit-srcmask` only when it is not the full length).
 */
export function hashlimit(kind: 'upto' | 'above', perMinute: number, burst: number, name: string, family: IpFamily, prefix: SourcePrefix = DEFAULT_SOURCE_PREFIX): string[] {
  return [
    '-m', 'hashlimit', `--hashlimit-${kind}`, rateText(perMinute),
    ...(burst !== 5 ? ['--hashlimit-burst', String(burst)] : []),
    '--hashlimit-mode', 'srcip', '--hashlimit-name', name,
    ...(prefix[family] !== SPELLING[family].addressBits ? ['--hashlimit-srcmask', String(prefix[family])] : []),
  ];
}

/** `-m icmp --icmp-type N` / `-m icmp6 --icmpv6-type N`, with the protocol. */
export function icmpType(family: IpFamily, type: number): { protocol: string; module: string[] } {
  const s = SPELLING[family];
  return { protocol: s.icmpProtocol, module: ['-m', s.icmpModule, s.icmpTypeOption, String(type)] };
}

/** `-m ttl --ttl-eq N` / `-m hl --hl-eq N`. */
export function hopLimitEquals(family: IpFamily, value: number): string[] {
  const s = SPELLING[family];
  return ['-m', s.hopLimitModule, `${s.hopLimitOption}-eq`, String(value)];
}
