/**
 * THE SLOT MODEL — where parts meet the host's chains.
 *
 * A host's firewall is a fixed skeleton (INPUT: conntrack, loopback, blocked
 * peers, trusted interfaces, INVALID, ping, guards, dispatch to TCP / UDP,
 * logging, refusals; the TCP and UDP service chains; OUTPUT; FORWARD; the
 * raw, mangle and nat hooks). Every rule a part puts into one of those chains
 * names a slot: a position in that skeleton. Rules of one slot sort by their
 * `order`, then by the construct path of their part, then by their text, so
 * the file is the same whatever order parts were added in; identical rules are
 * written once. Rules in a part's OWN chains keep the order the part lists
 * them in. Built-in and third-party parts go through the same slots.
 */

/** An iptables table. */
export enum Table {
  /** Filtering (INPUT, FORWARD, OUTPUT). */
  FILTER = 'filter',
  /** Address translation (PREROUTING, POSTROUTING, ...). */
  NAT = 'nat',
  /** Packet alteration; also the earliest place to police ICMP. */
  MANGLE = 'mangle',
  /** Before connection tracking. */
  RAW = 'raw',
}

/** A named position in one of the host's chains. */
export enum RuleSlot {
  /** INPUT, with the blocked peers: before anything can admit a packet. */
  INPUT_BLOCK = 'INPUT_BLOCK',
  /** INPUT, with the trusted interfaces (accepted unfiltered). */
  INPUT_TRUSTED = 'INPUT_TRUSTED',
  /** INPUT, with ping (new echo requests). */
  INPUT_ICMP = 'INPUT_ICMP',
  /** INPUT, where guards see every NEW packet before the dispatch to TCP / UDP. */
  INPUT_GUARD = 'INPUT_GUARD',
  /** INPUT, logging what is about to be refused. */
  INPUT_LOG = 'INPUT_LOG',
  /** INPUT, the refusal of UDP (order 0 is the host's own; use a negative order to come before it). */
  INPUT_REFUSE_UDP = 'INPUT_REFUSE_UDP',
  /** INPUT, the refusal of TCP. */
  INPUT_REFUSE_TCP = 'INPUT_REFUSE_TCP',
  /** INPUT, the refusal of everything else. */
  INPUT_REFUSE_OTHER = 'INPUT_REFUSE_OTHER',
  /** The TCP service chain (NEW connections), first: traps. */
  TCP_TRAP = 'TCP_TRAP',
  /** The TCP service chain: jumps to per-port guards. */
  TCP_GUARD = 'TCP_GUARD',
  /** The TCP service chain: opened ports. */
  TCP_OPEN = 'TCP_OPEN',
  /** The UDP service chain (new flows), first: traps. */
  UDP_TRAP = 'UDP_TRAP',
  /** The UDP service chain: jumps to per-port guards. */
  UDP_GUARD = 'UDP_GUARD',
  /** The UDP service chain: opened ports. */
  UDP_OPEN = 'UDP_OPEN',
  /** OUTPUT: what the host may send (with an outbound policy DROP). */
  OUTPUT_OPEN = 'OUTPUT_OPEN',
  /** FORWARD, first: established and related traffic. */
  FORWARD_CONNTRACK = 'FORWARD_CONNTRACK',
  /** FORWARD: INVALID drops. */
  FORWARD_INVALID = 'FORWARD_INVALID',
  /** FORWARD: blocked peers (on a host that forwards), after INVALID. */
  FORWARD_BLOCK = 'FORWARD_BLOCK',
  /** FORWARD: anti-spoofing drops. */
  FORWARD_ANTISPOOF = 'FORWARD_ANTISPOOF',
  /** FORWARD: what is forwarded. */
  FORWARD_ACCEPT = 'FORWARD_ACCEPT',
  /** FORWARD, last: the refusal of the rest. */
  FORWARD_REFUSE = 'FORWARD_REFUSE',
  /** mangle INPUT: before the filter table sees a packet. */
  MANGLE_INPUT = 'MANGLE_INPUT',
  /** raw PREROUTING, first: before connection tracking and everything else. */
  RAW_PREROUTING = 'RAW_PREROUTING',
  /** nat PREROUTING: destination NAT (port forwards). */
  NAT_PREROUTING = 'NAT_PREROUTING',
  /** nat POSTROUTING: source NAT (masquerading). */
  NAT_POSTROUTING = 'NAT_POSTROUTING',
}

/** A host rule that one part may replace (at most one part per rule). */
export enum HostRule {
  /** The ping accept of INPUT. */
  PING = 'ping',
  /** The final refusal of TCP. */
  REFUSE_TCP = 'final-tcp',
  /** The final refusal of UDP. */
  REFUSE_UDP = 'final-udp',
}
