/** The conntrack state of a packet, as `-m conntrack --ctstate` sees it. */
export enum ConnState {
  /** The first packet of a connection (or of a flow, for UDP and ICMP). */
  NEW = 'NEW',
  /** A packet of a connection that has seen traffic both ways. */
  ESTABLISHED = 'ESTABLISHED',
  /** A packet related to a known connection, e.g. an ICMP error about it. */
  RELATED = 'RELATED',
  /** A packet conntrack could not place (bad flags, an ICMP error about nothing). */
  INVALID = 'INVALID',
  /**
   * A packet conntrack does not track. The kernel never tracks IPv6 neighbour
   * discovery, router solicitations/advertisements and MLD (ICMPv6 types 130
   * to 136 and 143): the evaluator treats those as UNTRACKED whatever `state` says.
   */
  UNTRACKED = 'UNTRACKED',
}
