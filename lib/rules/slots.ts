/**
 * Named slots: where a rule sits in its chain. Lower runs first; rules in the
 * same slot sort by `order`, then by owner (construct path), then by their
 * text, so any add order gives the same file.
 */
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

/** Slots of the OUTPUT chain when outbound traffic is restricted. */
export const OutputSlot = {
  LOOPBACK: 100,
  CONNTRACK: 200,
  ICMP: 300,
  OPEN: 500,
} as const;

/** Slots of the raw PREROUTING chain. */
export const RawSlot = {
  /** Bogon source filters on WAN interfaces: before anything accepts. */
  BOGONS: 50,
  RPFILTER: 100,
  RPFILTER_DROP: 900,
} as const;
