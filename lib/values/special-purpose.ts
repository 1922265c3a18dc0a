/**
 * The IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and
 * updates; IPv4 as of 2024-2025, IPv6 as of 2025-10), plus the few ranges from
 * the general address-space registries that can never be a source (multicast,
 * reserved). Each entry says whether it is a bogon: a source that never
 * arrives legitimately from the Internet ("Globally Reachable: False", or
 * never valid as a source).
 *
 * Not bogons although special: entries that are globally reachable (PCP and
 * TURN anycast, AS112, AMT, ORCHIDv2, DETs, the NAT64 well-known prefix) and
 * Teredo and 6to4 (real tunnelled traffic). Where such an entry lies inside a
 * bogon block (192.0.0.9 in 192.0.0.0/24, Teredo in 2001::/23) the filter
 * lets it through first. Also not filtered: IPv6 link-local (fe80::/10) and
 * the unspecified source (::/128): neighbour discovery, router
 * advertisements and duplicate address detection use them on every link.
 */

/** One registry entry. */
export interface SpecialPurposeBlock {
  /** The block, as iptables-save prints it. */
  readonly cidr: string;
  /** The registry's name for it. */
  readonly name: string;
  /** Where it is defined. */
  readonly rfc: string;
  /** True when packets from it are dropped on a WAN. */
  readonly bogon: boolean;
}

/** IPv4 (IANA IPv4 Special-Purpose Address Registry, plus multicast). */
export const SPECIAL_PURPOSE_V4: readonly SpecialPurposeBlock[] = [
  { cidr: '0.0.0.0/8', name: '"This network"', rfc: 'RFC 791', bogon: true },
  { cidr: '0.0.0.0/32', name: '"This host on this network"', rfc: 'RFC 1122', bogon: true },
  { cidr: '10.0.0.0/8', name: 'Private-Use', rfc: 'RFC 1918', bogon: true },
  { cidr: '100.64.0.0/10', name: 'Shared Address Space', rfc: 'RFC 6598', bogon: true },
  { cidr: '127.0.0.0/8', name: 'Loopback', rfc: 'RFC 1122', bogon: true },
  { cidr: '169.254.0.0/16', name: 'Link Local', rfc: 'RFC 3927', bogon: true },
  { cidr: '172.16.0.0/12', name: 'Private-Use', rfc: 'RFC 1918', bogon: true },
  { cidr: '192.0.0.0/24', name: 'IETF Protocol Assignments', rfc: 'RFC 6890', bogon: true },
  { cidr: '192.0.0.0/29', name: 'IPv4 Service Continuity Prefix', rfc: 'RFC 7335', bogon: true },
  { cidr: '192.0.0.8/32', name: 'IPv4 dummy address', rfc: 'RFC 7600', bogon: true },
  { cidr: '192.0.0.9/32', name: 'Port Control Protocol Anycast', rfc: 'RFC 7723', bogon: false },
  { cidr: '192.0.0.10/32', name: 'Traversal Using Relays around NAT Anycast', rfc: 'RFC 8155', bogon: false },
  { cidr: '192.0.0.170/32', name: 'NAT64/DNS64 Discovery', rfc: 'RFC 8880', bogon: true },
  { cidr: '192.0.0.171/32', name: 'NAT64/DNS64 Discovery', rfc: 'RFC 8880', bogon: true },
  { cidr: '192.0.2.0/24', name: 'Documentation (TEST-NET-1)', rfc: 'RFC 5737', bogon: true },
  { cidr: '192.31.196.0/24', name: 'AS112-v4', rfc: 'RFC 7535', bogon: false },
  { cidr: '192.52.193.0/24', name: 'AMT', rfc: 'RFC 7450', bogon: false },
  { cidr: '192.88.99.0/24', name: 'Deprecated (6to4 Relay Anycast)', rfc: 'RFC 7526', bogon: true },
  { cidr: '192.168.0.0/16', name: 'Private-Use', rfc: 'RFC 1918', bogon: true },
  { cidr: '198.18.0.0/15', name: 'Benchmarking', rfc: 'RFC 2544', bogon: true },
  { cidr: '198.51.100.0/24', name: 'Documentation (TEST-NET-2)', rfc: 'RFC 5737', bogon: true },
  { cidr: '203.0.113.0/24', name: 'Documentation (TEST-NET-3)', rfc: 'RFC 5737', bogon: true },
  { cidr: '224.0.0.0/4', name: 'Multicast (IPv4 Multicast Address Space Registry)', rfc: 'RFC 5771', bogon: true },
  { cidr: '240.0.0.0/4', name: 'Reserved', rfc: 'RFC 1112', bogon: true },
  { cidr: '255.255.255.255/32', name: 'Limited Broadcast', rfc: 'RFC 919', bogon: true },
];

/** IPv6 (IANA IPv6 Special-Purpose Address Registry, plus address-space entries that are never sources). */
export const SPECIAL_PURPOSE_V6: readonly SpecialPurposeBlock[] = [
  { cidr: '::1/128', name: 'Loopback Address', rfc: 'RFC 4291', bogon: true },
  { cidr: '::/128', name: 'Unspecified Address', rfc: 'RFC 4291', bogon: false },
  { cidr: '::ffff:0.0.0.0/96', name: 'IPv4-mapped Address', rfc: 'RFC 4291', bogon: true },
  { cidr: '64:ff9b::/96', name: 'IPv4-IPv6 Translat.', rfc: 'RFC 6052', bogon: false },
  { cidr: '64:ff9b:1::/48', name: 'IPv4-IPv6 Translat.', rfc: 'RFC 8215', bogon: true },
  { cidr: '100::/64', name: 'Discard-Only Address Block', rfc: 'RFC 6666', bogon: true },
  { cidr: '100:0:0:1::/64', name: 'Dummy IPv6 Prefix', rfc: 'RFC 9780', bogon: true },
  { cidr: '2001::/23', name: 'IETF Protocol Assignments', rfc: 'RFC 2928', bogon: true },
  { cidr: '2001::/32', name: 'TEREDO', rfc: 'RFC 4380', bogon: false },
  { cidr: '2001:1::1/128', name: 'Port Control Protocol Anycast', rfc: 'RFC 7723', bogon: false },
  { cidr: '2001:1::2/128', name: 'Traversal Using Relays around NAT Anycast', rfc: 'RFC 8155', bogon: false },
  { cidr: '2001:1::3/128', name: 'DNS-SD Service Registration Protocol Anycast', rfc: 'RFC 9665', bogon: false },
  { cidr: '2001:2::/48', name: 'Benchmarking', rfc: 'RFC 5180', bogon: true },
  { cidr: '2001:3::/32', name: 'AMT', rfc: 'RFC 7450', bogon: false },
  { cidr: '2001:4:112::/48', name: 'AS112-v6', rfc: 'RFC 7535', bogon: false },
  { cidr: '2001:10::/28', name: 'Deprecated (previously ORCHID)', rfc: 'RFC 4843', bogon: true },
  { cidr: '2001:20::/28', name: 'ORCHIDv2', rfc: 'RFC 7343', bogon: false },
  { cidr: '2001:30::/28', name: 'Drone Remote ID Protocol Entity Tags (DETs) Prefix', rfc: 'RFC 9374', bogon: false },
  { cidr: '2001:db8::/32', name: 'Documentation', rfc: 'RFC 3849', bogon: true },
  { cidr: '2002::/16', name: '6to4', rfc: 'RFC 3056', bogon: false },
  { cidr: '2620:4f:8000::/48', name: 'Direct Delegation AS112 Service', rfc: 'RFC 7534', bogon: false },
  { cidr: '3fff::/20', name: 'Documentation', rfc: 'RFC 9637', bogon: true },
  { cidr: '5f00::/16', name: 'Segment Routing (SRv6) SIDs', rfc: 'RFC 9602', bogon: true },
  { cidr: 'fc00::/7', name: 'Unique-Local', rfc: 'RFC 4193', bogon: true },
  { cidr: 'fe80::/10', name: 'Link-Local Unicast', rfc: 'RFC 4291', bogon: false },
  { cidr: '3ffe::/16', name: 'Reserved by IETF (returned 6bone space, IPv6 Address Space registry)', rfc: 'RFC 3701', bogon: true },
  { cidr: 'fec0::/10', name: 'Reserved by IETF (deprecated site-local, IPv6 Address Space registry)', rfc: 'RFC 3879', bogon: true },
  { cidr: 'ff00::/8', name: 'Multicast (IPv6 Address Space registry)', rfc: 'RFC 4291', bogon: true },
];
