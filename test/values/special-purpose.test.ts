/**
 * BogonFilter against the IANA special-purpose registries: every registry
 * entry pinned here by its block and registry name, and what the rendered
 * filter does with a source from it (first matching rule of the chain).
 */
import { App, TerraformStack } from 'cdktf';
import * as ipaddr from 'ipaddr.js';
import { BogonFilter, IpFamily, StatefulHost } from '../../lib';
import { SPECIAL_PURPOSE_V4, SPECIAL_PURPOSE_V6 } from '../../lib/values/special-purpose';

const V4: Array<[string, string, 'DROP' | 'pass']> = [
  ['0.0.0.0/8', '"This network"', 'DROP'],
  ['0.0.0.0/32', '"This host on this network"', 'DROP'],
  ['10.0.0.0/8', 'Private-Use', 'DROP'],
  ['100.64.0.0/10', 'Shared Address Space', 'DROP'],
  ['127.0.0.0/8', 'Loopback', 'DROP'],
  ['169.254.0.0/16', 'Link Local', 'DROP'],
  ['172.16.0.0/12', 'Private-Use', 'DROP'],
  ['192.0.0.0/24', 'IETF Protocol Assignments', 'DROP'],
  ['192.0.0.0/29', 'IPv4 Service Continuity Prefix', 'DROP'],
  ['192.0.0.8/32', 'IPv4 dummy address', 'DROP'],
  ['192.0.0.9/32', 'Port Control Protocol Anycast', 'pass'],
  ['192.0.0.10/32', 'Traversal Using Relays around NAT Anycast', 'pass'],
  ['192.0.0.170/32', 'NAT64/DNS64 Discovery', 'DROP'],
  ['192.0.0.171/32', 'NAT64/DNS64 Discovery', 'DROP'],
  ['192.0.2.0/24', 'Documentation (TEST-NET-1)', 'DROP'],
  ['192.31.196.0/24', 'AS112-v4', 'pass'],
  ['192.52.193.0/24', 'AMT', 'pass'],
  ['192.88.99.0/24', 'Deprecated (6to4 Relay Anycast)', 'DROP'],
  ['192.168.0.0/16', 'Private-Use', 'DROP'],
  ['198.18.0.0/15', 'Benchmarking', 'DROP'],
  ['198.51.100.0/24', 'Documentation (TEST-NET-2)', 'DROP'],
  ['203.0.113.0/24', 'Documentation (TEST-NET-3)', 'DROP'],
  ['224.0.0.0/4', 'Multicast (IPv4 Multicast Address Space Registry)', 'DROP'],
  ['240.0.0.0/4', 'Reserved', 'DROP'],
  ['255.255.255.255/32', 'Limited Broadcast', 'DROP'],
];
const V6: Array<[string, string, 'DROP' | 'pass']> = [
  ['::1/128', 'Loopback Address', 'DROP'],
  ['::/128', 'Unspecified Address', 'pass'],
  ['::ffff:0.0.0.0/96', 'IPv4-mapped Address', 'DROP'],
  ['64:ff9b::/96', 'IPv4-IPv6 Translat.', 'pass'],
  ['64:ff9b:1::/48', 'IPv4-IPv6 Translat.', 'DROP'],
  ['100::/64', 'Discard-Only Address Block', 'DROP'],
  ['100:0:0:1::/64', 'Dummy IPv6 Prefix', 'DROP'],
  ['2001::/23', 'IETF Protocol Assignments', 'DROP'],
  ['2001::/32', 'TEREDO', 'pass'],
  ['2001:1::1/128', 'Port Control Protocol Anycast', 'pass'],
  ['2001:1::2/128', 'Traversal Using Relays around NAT Anycast', 'pass'],
  ['2001:1::3/128', 'DNS-SD Service Registration Protocol Anycast', 'pass'],
  ['2001:2::/48', 'Benchmarking', 'DROP'],
  ['2001:3::/32', 'AMT', 'pass'],
  ['2001:4:112::/48', 'AS112-v6', 'pass'],
  ['2001:10::/28', 'Deprecated (previously ORCHID)', 'DROP'],
  ['2001:20::/28', 'ORCHIDv2', 'pass'],
  ['2001:30::/28', 'Drone Remote ID Protocol Entity Tags (DETs) Prefix', 'pass'],
  ['2001:db8::/32', 'Documentation', 'DROP'],
  ['2002::/16', '6to4', 'pass'],
  ['2620:4f:8000::/48', 'Direct Delegation AS112 Service', 'pass'],
  ['3fff::/20', 'Documentation', 'DROP'],
  ['5f00::/16', 'Segment Routing (SRv6) SIDs', 'DROP'],
  ['fc00::/7', 'Unique-Local', 'DROP'],
  ['fe80::/10', 'Link-Local Unicast', 'pass'],
  ['3ffe::/16', 'Reserved by IETF (returned 6bone space, IPv6 Address Space registry)', 'DROP'],
  ['fec0::/10', 'Reserved by IETF (deprecated site-local, IPv6 Address Space registry)', 'DROP'],
  ['ff00::/8', 'Multicast (IPv6 Address Space registry)', 'DROP'],
];

const host = new StatefulHost(new TerraformStack(new App(), 's'), 'gw', { ruleComments: false });
new BogonFilter(host, 'bogons', { iface: 'wan0' });

/** What the BOGONS chain does with a source address: the verdict of the first `-s` rule that matches, else pass. */
function verdict(family: IpFamily, source: string): string {
  for (const line of host.renderRules(family).split('\n')) {
    const m = line.match(/^-A BOGONS-wan0 -s (\S+) -j (\w+)$/);
    if (!m) continue;
    const [net, len] = ipaddr.parseCIDR(m[1]);
    const a = ipaddr.parse(source);
    if (a.kind() === net.kind() && a.match(net, len)) return m[2] === 'RETURN' ? 'pass' : m[2];
  }
  return 'pass';
}

function covers(outer: string, inner: string): boolean {
  const [a, aLen] = ipaddr.parseCIDR(outer);
  const [b, bLen] = ipaddr.parseCIDR(inner);
  return a.kind() === b.kind() && aLen <= bLen && b.match(a, aLen);
}

/** First and last address of a block. */
function ends(cidr: string): string[] {
  const [net, len] = ipaddr.parseCIDR(cidr);
  const bytes = net.toByteArray();
  const last = bytes.map((b, i) => {
    const bitsBefore = i * 8;
    const keep = Math.max(0, Math.min(8, len - bitsBefore));
    return b + 2 ** (8 - keep) - 1; // the network's host bits are zero: set them all
  });
  return [net.toString(), ipaddr.fromByteArray(last).toString()];
}

describe.each([['IPv4', IpFamily.V4, V4, SPECIAL_PURPOSE_V4], ['IPv6', IpFamily.V6, V6, SPECIAL_PURPOSE_V6]] as const)('%s special-purpose registry', (_, family, pinned, registry) => {
  test('the registry table holds exactly the pinned entries', () => {
    expect(registry.map((e) => [e.cidr, e.name, e.bogon ? 'DROP' : 'pass'])).toEqual(pinned);
  });

  test.each(pinned)('%s (%s): %s', (cidr, _name, expected) => {
    // the block's first and last address, except those inside a more specific entry with another verdict
    const inner = pinned.filter(([c, , v]) => c !== cidr && v !== expected && covers(cidr, c)).map(([c]) => c);
    const addrs = ends(cidr).filter((a) => !inner.some((c) => covers(c, `${a}/${family === IpFamily.V4 ? 32 : 128}`)));
    expect(addrs.length).toBeGreaterThan(0);
    for (const addr of addrs) expect([addr, verdict(family, addr)]).toEqual([addr, expected]);
  });
});
