/**
 * Where each named slot is in the host's tables (internal): the slot numbers
 * of every chain of the skeleton, the places of the public slots, and the
 * places of the host's own rules, which no other part may use.
 */
import { RuleSlot } from './slot';
import { TableName } from '../iptables/kernel-limits';

/** Slots of filter INPUT. Lower runs first. */
export const InputSlot = {
  /** ESTABLISHED,RELATED accept: always first. */
  CONNTRACK: 100,
  /** `-i lo` accept. */
  LOOPBACK: 200,
  /**
   * IPv6: ICMPv6 from link-local sources and neighbour discovery, before any
   * DROP: link plumbing, needed even towards a blocked neighbour (a blocked
   * on-link router must still be resolvable for our own replies to leave).
   */
  ICMPV6_LINK: 250,
  /** Blocked peers: dropped before anything can admit them. */
  BLOCK: 300,
  /** Trusted interfaces, accepted unfiltered. */
  TRUSTED: 400,
  /** conntrack INVALID drop. */
  INVALID: 500,
  /** New echo requests (ping). */
  ICMP: 600,
  /** Guards that must see NEW packets before the dispatch (brute-force, flood). */
  GUARD: 700,
  /** Jumps of NEW packets to the TCP / UDP chains. */
  DISPATCH: 800,
  /** Logging of what is about to be refused. */
  LOG: 880,
  /** The final REJECT / DROP rules: always last. */
  FINAL: 900,
} as const;

/** Slots of the TCP and UDP service chains. */
export const ServiceSlot = {
  /** Port-scan trap updates: before any accept. */
  TRAP: 100,
  /** Jumps to per-port guards (brute force): after the trap, before plain accepts. */
  GUARD: 300,
  /** Opened ports. */
  OPEN: 500,
} as const;

/** Slots of filter OUTPUT when outbound traffic is restricted. */
export const OutputSlot = { LOOPBACK: 100, CONNTRACK: 200, ICMP: 300, OPEN: 500 } as const;

/** Slots of filter FORWARD. */
export const ForwardSlot = { CONNTRACK: 100, INVALID: 150, BLOCK: 175, ANTISPOOF: 200, ACCEPT: 500, DISPATCH: 800, FINAL: 900 } as const;

/** Slots of raw PREROUTING. */
export const RawSlot = {
  /** Bogon source filters on WAN interfaces: before anything accepts. */
  BOGONS: 50,
  RPFILTER: 100,
  RPFILTER_DROP: 900,
} as const;

/** The final refusals' order inside the FINAL slot: UDP, TCP, then everything else. */
export const FinalOrder = { UDP: 10, TCP: 20, OTHER: 30 } as const;

/** Where a slot is: table, chain, slot number and the order its rules start at. */
export interface SlotPlace {
  readonly table: TableName;
  readonly chain: string;
  readonly slot: number;
  readonly order: number;
}

const place = (table: TableName, chain: string, slot: number, order = 0): SlotPlace => ({ table, chain, slot, order });

/** Every public slot's place. */
export const SLOT_PLACES: Record<RuleSlot, SlotPlace> = {
  [RuleSlot.INPUT_BLOCK]: place('filter', 'INPUT', InputSlot.BLOCK),
  [RuleSlot.INPUT_TRUSTED]: place('filter', 'INPUT', InputSlot.TRUSTED),
  [RuleSlot.INPUT_ICMP]: place('filter', 'INPUT', InputSlot.ICMP),
  [RuleSlot.INPUT_GUARD]: place('filter', 'INPUT', InputSlot.GUARD),
  [RuleSlot.INPUT_LOG]: place('filter', 'INPUT', InputSlot.LOG),
  [RuleSlot.INPUT_REFUSE_UDP]: place('filter', 'INPUT', InputSlot.FINAL, FinalOrder.UDP),
  [RuleSlot.INPUT_REFUSE_TCP]: place('filter', 'INPUT', InputSlot.FINAL, FinalOrder.TCP),
  [RuleSlot.INPUT_REFUSE_OTHER]: place('filter', 'INPUT', InputSlot.FINAL, FinalOrder.OTHER),
  [RuleSlot.TCP_TRAP]: place('filter', 'TCP', ServiceSlot.TRAP),
  [RuleSlot.TCP_GUARD]: place('filter', 'TCP', ServiceSlot.GUARD),
  [RuleSlot.TCP_OPEN]: place('filter', 'TCP', ServiceSlot.OPEN),
  [RuleSlot.UDP_TRAP]: place('filter', 'UDP', ServiceSlot.TRAP),
  [RuleSlot.UDP_GUARD]: place('filter', 'UDP', ServiceSlot.GUARD),
  [RuleSlot.UDP_OPEN]: place('filter', 'UDP', ServiceSlot.OPEN),
  [RuleSlot.OUTPUT_OPEN]: place('filter', 'OUTPUT', OutputSlot.OPEN),
  [RuleSlot.FORWARD_CONNTRACK]: place('filter', 'FORWARD', ForwardSlot.CONNTRACK),
  [RuleSlot.FORWARD_INVALID]: place('filter', 'FORWARD', ForwardSlot.INVALID),
  [RuleSlot.FORWARD_BLOCK]: place('filter', 'FORWARD', ForwardSlot.BLOCK),
  [RuleSlot.FORWARD_ANTISPOOF]: place('filter', 'FORWARD', ForwardSlot.ANTISPOOF),
  [RuleSlot.FORWARD_ACCEPT]: place('filter', 'FORWARD', ForwardSlot.ACCEPT),
  [RuleSlot.FORWARD_REFUSE]: place('filter', 'FORWARD', ForwardSlot.FINAL),
  [RuleSlot.MANGLE_INPUT]: place('mangle', 'INPUT', 100),
  [RuleSlot.RAW_PREROUTING]: place('raw', 'PREROUTING', RawSlot.BOGONS),
  [RuleSlot.NAT_PREROUTING]: place('nat', 'PREROUTING', 500),
  [RuleSlot.NAT_POSTROUTING]: place('nat', 'POSTROUTING', 500),
};

/** Places of the host's own rules (the skeleton), open to the library's host part only. */
export enum SkeletonSlot {
  INPUT_CONNTRACK = 'INPUT_CONNTRACK',
  INPUT_LOOPBACK = 'INPUT_LOOPBACK',
  INPUT_ICMPV6_LINK = 'INPUT_ICMPV6_LINK',
  INPUT_INVALID = 'INPUT_INVALID',
  INPUT_DISPATCH = 'INPUT_DISPATCH',
  OUTPUT_LOOPBACK = 'OUTPUT_LOOPBACK',
  OUTPUT_CONNTRACK = 'OUTPUT_CONNTRACK',
  OUTPUT_ICMP = 'OUTPUT_ICMP',
  RAW_RPFILTER = 'RAW_RPFILTER',
  RAW_RPFILTER_DROP = 'RAW_RPFILTER_DROP',
}

/** Every skeleton slot's place. */
export const SKELETON_PLACES: Record<SkeletonSlot, SlotPlace> = {
  [SkeletonSlot.INPUT_CONNTRACK]: place('filter', 'INPUT', InputSlot.CONNTRACK),
  [SkeletonSlot.INPUT_LOOPBACK]: place('filter', 'INPUT', InputSlot.LOOPBACK),
  [SkeletonSlot.INPUT_ICMPV6_LINK]: place('filter', 'INPUT', InputSlot.ICMPV6_LINK),
  [SkeletonSlot.INPUT_INVALID]: place('filter', 'INPUT', InputSlot.INVALID),
  [SkeletonSlot.INPUT_DISPATCH]: place('filter', 'INPUT', InputSlot.DISPATCH),
  [SkeletonSlot.OUTPUT_LOOPBACK]: place('filter', 'OUTPUT', OutputSlot.LOOPBACK),
  [SkeletonSlot.OUTPUT_CONNTRACK]: place('filter', 'OUTPUT', OutputSlot.CONNTRACK),
  [SkeletonSlot.OUTPUT_ICMP]: place('filter', 'OUTPUT', OutputSlot.ICMP),
  [SkeletonSlot.RAW_RPFILTER]: place('raw', 'PREROUTING', RawSlot.RPFILTER),
  [SkeletonSlot.RAW_RPFILTER_DROP]: place('raw', 'PREROUTING', RawSlot.RPFILTER_DROP),
};
