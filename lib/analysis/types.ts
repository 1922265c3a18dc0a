import { IpFamily } from '../iptables/family';
import { ConnState } from '../values/conn-state';
import { Protocol } from '../values/port';


/** What finally happens to a packet. */
export enum Action {
  /** The packet gets through (to the host, or forwarded). */
  ACCEPT = 'ACCEPT',
  /** The packet is dropped silently. */
  DROP = 'DROP',
  /** The packet is dropped and answered (TCP RST or an ICMP error, see `rejectWith`). */
  REJECT = 'REJECT',
  /**
   * The outcome turns on something an offline reading cannot know (the time
   * of day, a socket's owner, a mark set outside the ruleset, an extension
   * the evaluator does not know): see `Verdict.dependsOn`.
   */
  DEPENDS = 'DEPENDS',
}

/**
 * One packet arriving at the host, for the verdict evaluator.
 *
 * @example
 * { family: IpFamily.V4, protocol: Protocol.TCP, source: '198.51.100.7', destinationPort: 22 }
 */
export interface PacketProps {
  /** The address family. */
  readonly family: IpFamily;
  /** The IP protocol. */
  readonly protocol: Protocol;
  /**
   * Any other IP protocol by number (overrides `protocol`), e.g. 47 for GRE.
   * @default - the number of `protocol`
   */
  readonly protocolNumber?: number;
  /** The source address (no prefix). */
  readonly source: string;
  /**
   * The destination address. Needed when a rule matches on the destination
   * (`-d`), or to decide between the host and a forward (see `localAddresses`).
   * @default - the host itself (the first of `localAddresses` when given)
   */
  readonly destination?: string;
  /**
   * TCP/UDP source port.
   * @default 40000
   */
  readonly sourcePort?: number;
  /**
   * TCP/UDP destination port. Needed for TCP and UDP.
   * @default - none: an error if a rule matches on it
   */
  readonly destinationPort?: number;
  /**
   * The interface the packet arrives on.
   * @default "eth0"
   */
  readonly inInterface?: string;
  /**
   * The interface the packet leaves on when it is routed through the host
   * (forwarded); giving it makes the packet a forwarded one.
   * @default - decided by the destination: the host itself unless it is
   * outside `localAddresses` (then by `routes`)
   */
  readonly outInterface?: string;
  /**
   * The packet is sent by the host itself (the OUTPUT path: raw, mangle, nat
   * and filter OUTPUT, then POSTROUTING), leaving on `outInterface` (default
   * `eth0`); `source` is the host's address and `inInterface` does not apply.
   * @default false - the packet arrives at the host
   */
  readonly outbound?: boolean;
  /**
   * The conntrack state.
   * @default ConnState.NEW
   */
  readonly state?: ConnState;
  /**
   * TCP flags set, comma separated as iptables spells them (`SYN`, `ACK`,
   * `FIN,ACK`, `NONE`).
   * @default "SYN" for NEW packets, "ACK" otherwise
   */
  readonly tcpFlags?: string;
  /**
   * ICMP / ICMPv6 type.
   * @default 8 (echo request) for ICMP, 128 for ICMPv6
   */
  readonly icmpType?: number;
  /**
   * ICMP / ICMPv6 code.
   * @default 0
   */
  readonly icmpCode?: number;
  /**
   * IPv4 TTL or IPv6 hop limit as the packet arrives.
   * @default 64
   */
  readonly ttl?: number;
  /**
   * The packet's mark (`-m mark`) as it enters the first table: set by tc,
   * a socket's SO_MARK or policy routing, outside the ruleset.
   * @default - unknown: a mark test before the ruleset sets one makes the verdict depend on it
   */
  readonly mark?: number;
  /**
   * The connection's mark (`-m connmark`, `CONNMARK --restore-mark`).
   * @default - 0 for a new connection, unknown for the packets of an existing one
   */
  readonly connmark?: number;
  /**
   * The packet's length in bytes (`-m length`).
   * @default - unknown: a length test makes the verdict depend on it
   */
  readonly length?: number;
  /**
   * The IPv4 TOS / IPv6 traffic class byte (`-m tos`, `-m dscp`).
   * @default 0
   */
  readonly tos?: number;
}

/**
 * A packet of a sequence, with its arrival time.
 *
 * @example
 * { at: 1.5, family: IpFamily.V4, protocol: Protocol.TCP, source: '198.51.100.7', destinationPort: 22 }
 */
export interface TimedPacketProps extends PacketProps {
  /** Seconds since the start of the sequence (never decreasing along it). */
  readonly at: number;
}

/**
 * What the firewall does with a packet.
 *
 * @example
 * { action: Action.REJECT, rejectWith: 'tcp-reset', trace: ['filter INPUT #9: -A INPUT -p tcp -j REJECT --reject-with tcp-reset'], forwarded: false }
 */
export interface Verdict {
  /** The final action (`DEPENDS` when it cannot be decided offline: see `dependsOn`). */
  readonly action: Action;
  /**
   * What an undecided verdict turns on, in words (one entry per condition).
   * @default - the verdict is decided
   */
  readonly dependsOn?: string[];
  /**
   * The answer of a REJECT, as iptables spells it (`tcp-reset`, `icmp-port-unreachable`, ...).
   * @default - not a REJECT
   */
  readonly rejectWith?: string;
  /**
   * Every rule that matched on the way, as `TABLE CHAIN #N: -A CHAIN ...`
   * (N counts from 1 as `iptables -L --line-numbers` does), ending with the
   * deciding rule or with `TABLE CHAIN policy ACTION`.
   */
  readonly trace: string[];
  /** True when the packet was routed through the host rather than to it. */
  readonly forwarded: boolean;
  /**
   * The interface a forwarded packet leaves on.
   * @default - not forwarded, or unknown
   */
  readonly outInterface?: string;
  /**
   * The destination after DNAT.
   * @default - not translated
   */
  readonly translatedDestination?: string;
  /**
   * The destination port after DNAT.
   * @default - not translated
   */
  readonly translatedDestinationPort?: number;
  /**
   * The source after SNAT / MASQUERADE. MASQUERADE gives the out interface's
   * address from `EvaluatorOptions.interfaceAddresses`, else `masquerade:<iface>`.
   * @default - not translated
   */
  readonly translatedSource?: string;
}

/**
 * A route of the host: where packets to `cidr` leave. Used for the reverse
 * path filter (`-m rpfilter`) and to route a packet after DNAT.
 *
 * @example
 * { cidr: '192.168.0.0/24', iface: 'eth0' }
 */
export interface RouteProps {
  /** Destination prefix, e.g. `192.168.0.0/24` or `::/0` for a default route. */
  readonly cidr: string;
  /** Interface name. */
  readonly iface: string;
}

/**
 * An address of one of the host's interfaces (for MASQUERADE).
 *
 * @example
 * { iface: 'ppp0', address: '203.0.113.1' }
 */
export interface InterfaceAddressProps {
  /** Interface name. */
  readonly iface: string;
  /** The interface's address (no prefix). */
  readonly address: string;
}

/**
 * What the evaluator knows about the host besides its rules.
 *
 * @example
 * { localAddresses: ['203.0.113.1'], routes: [{ cidr: '192.168.0.0/24', iface: 'eth0' }] }
 */
export interface EvaluatorOptions {
  /**
   * The host's own addresses: a packet to another address is forwarded.
   * @default - every packet without `outInterface` is for the host itself
   */
  readonly localAddresses?: string[];
  /**
   * The host's routes, for `-m rpfilter` and for routing after DNAT.
   * @default - none: rpfilter passes every packet; a DNAT to a non-local
   * address needs `outInterface` on the packet
   */
  readonly routes?: RouteProps[];
  /**
   * The contents of the ipset sets the rules match (`-m set --match-set`), as
   * `ipset save` prints them (or a host's `ipsets.rules`); hash:net and hash:ip.
   * @default - none: a rule matching a set is an error naming it
   */
  readonly ipsets?: string;
  /**
   * Interface addresses, for MASQUERADE.
   * @default - none: a masqueraded source reads `masquerade:<iface>`
   */
  readonly interfaceAddresses?: InterfaceAddressProps[];
}

/** How a cell of the reachability report is treated. */
export enum Reach {
  /** Accepted, whatever came before. */
  OPENED = 'opened',
  /** Accepted until a rate limit or recent list (brute-force guard, trap) trips. */
  GUARDED = 'guarded',
  /** Rejected with an answer. */
  REFUSED = 'refused',
  /** Dropped silently. */
  SILENT = 'silent',
  /** Accepted or not depending on what an offline reading cannot know (see `via`). */
  MAYBE = 'maybe',
}

/**
 * One line of a reachability report: packets of `protocol` to `ports`
 * arriving on `interfaces` from `sources`.
 *
 * @example
 * { interfaces: ['*'], protocol: 'tcp', ports: '22', reach: Reach.GUARDED, sources: ['0.0.0.0/0'], via: ['sshbf'] }
 */
export interface ReachabilityEntry {
  /** Interface names; `*` stands for every interface not named. */
  readonly interfaces: string[];
  /** `tcp`, `udp`, `icmp` (echo request), `ipv6-icmp` (echo request) or `other`. */
  readonly protocol: string;
  /** Port or range (`1-21`), or `-` for protocols without ports. */
  readonly ports: string;
  /** The treatment. */
  readonly reach: Reach;
  /** Sources, as CIDRs. */
  readonly sources: string[];
  /** Rate limits and recent lists that can change the verdict (names); for MAYBE, what it depends on. */
  readonly via: string[];
  /**
   * Where a DNAT sends the packets (`address[:port]`).
   * @default - not translated
   */
  readonly forwardedTo?: string;
}

/**
 * Which sources reach which ports on which interfaces of a host, for one family.
 *
 * @example
 * host.reachability(IpFamily.V4).text
 */
export interface ReachabilityReport {
  /** The family. */
  readonly family: IpFamily;
  /** The lines, in report order: new connections and packets to the host. */
  readonly entries: ReachabilityEntry[];
  /**
   * New connections routed through the host (FORWARD), when it routes any.
   * @default - none: the host forwards nothing
   */
  readonly forwarded?: PathEntry[];
  /**
   * New connections and packets the host sends, when it filters them (an
   * outbound policy DROP, or rules that refuse some).
   * @default - none: everything may leave
   */
  readonly outbound?: PathEntry[];
  /** The report as text (what `reachability.txt` holds for this family). */
  readonly text: string;
}

/**
 * One line of the forwarded or outbound section of a reachability report.
 *
 * @example
 * { protocol: 'tcp', ports: '80', inInterfaces: 'ppp0', outInterfaces: '*', reach: Reach.OPENED, sources: ['any'], destinations: ['192.168.0.5/32'], portForwarded: true }
 */
export interface PathEntry {
  /** `all`, `tcp`, `udp`, `icmp`, `ipv6-icmp` or `other`. */
  readonly protocol: string;
  /** What the line is about, e.g. `tcp 80`, `udp 53,123`, `icmp echo-request`, `protocols 2-5`, `all`. */
  readonly what: string;
  /** Ports for TCP and UDP (`80`, `1024-65535`), else `-`. */
  readonly ports: string;
  /** Arrival interfaces (`*` = any; '' for packets the host sends). */
  readonly inInterfaces: string;
  /** Leaving interfaces (`*` = any). */
  readonly outInterfaces: string;
  /** OPENED or GUARDED (a rate limit or recent list may refuse some). */
  readonly reach: Reach;
  /** Sources, as CIDRs (`any`, `any except ...`). */
  readonly sources: string[];
  /** Destinations, as CIDRs. */
  readonly destinations: string[];
  /** Only connections a port forward translated (their destination is the translated one). */
  readonly portForwarded: boolean;
}

/**
 * A rule of a ruleset read only in part: where it is and what is not
 * understood. Packets that reach it get verdicts that say "depends on".
 *
 * @example
 * { line: 12, table: 'filter', chain: 'INPUT', rule: '-A INPUT -m frob --x 1 -j ACCEPT', note: 'unsupported match -m frob' }
 */
export interface RulesetNote {
  /** 1-based line of the text. */
  readonly line: number;
  /** The table of the rule. */
  readonly table: string;
  /** The chain of the rule ('' when the line could not be split into arguments). */
  readonly chain: string;
  /** The rule as read. */
  readonly rule: string;
  /** What is not understood. */
  readonly note: string;
}
