/**
 * An ICMP message type by meaning, spelled per family where rules are
 * written (ICMP for IPv4, ICMPv6 for IPv6). A type that exists in one family
 * only makes a rule (or declaration) of that family only.
 */
export enum IcmpType {
  /** Echo request (ping): IPv4 type 8, IPv6 type 128. */
  ECHO_REQUEST = 'ECHO_REQUEST',
  /** Echo reply: IPv4 type 0, IPv6 type 129. */
  ECHO_REPLY = 'ECHO_REPLY',
  /** Destination unreachable: IPv4 type 3, IPv6 type 1. */
  DESTINATION_UNREACHABLE = 'DESTINATION_UNREACHABLE',
  /** Time exceeded: IPv4 type 11, IPv6 type 3. */
  TIME_EXCEEDED = 'TIME_EXCEEDED',
  /** Parameter problem: IPv4 type 12, IPv6 type 4. */
  PARAMETER_PROBLEM = 'PARAMETER_PROBLEM',
  /** Packet too big (IPv6 only, type 2). */
  PACKET_TOO_BIG = 'PACKET_TOO_BIG',
  /** Router solicitation (IPv6 only, type 133). */
  ROUTER_SOLICITATION = 'ROUTER_SOLICITATION',
  /** Router advertisement (IPv6 only, type 134). */
  ROUTER_ADVERTISEMENT = 'ROUTER_ADVERTISEMENT',
  /** Neighbour solicitation (IPv6 only, type 135). */
  NEIGHBOR_SOLICITATION = 'NEIGHBOR_SOLICITATION',
  /** Neighbour advertisement (IPv6 only, type 136). */
  NEIGHBOR_ADVERTISEMENT = 'NEIGHBOR_ADVERTISEMENT',
  /** Multicast listener report, MLDv2 (IPv6 only, type 143). */
  MULTICAST_LISTENER_REPORT = 'MULTICAST_LISTENER_REPORT',
}
