import { IpFamily, Peer } from '../../lib';
import {
  bitsOf, compareCidrs, complementRanges, formatCidr, mergeRanges, parseCidr, PrefixIndex, rangeToCidrs, subtractRanges,
} from '../../lib/values/prefix';

const v4 = (c: string) => parseCidr(IpFamily.V4, c);
const add = (idx: PrefixIndex<string>, p: Peer, v: string) => idx.add(p._prefix()!, bitsOf(p.families[0]), v);
const covering = (idx: PrefixIndex<string>, p: Peer) => (p._prefix() ? idx.covering(p._prefix()!, bitsOf(p.families[0])) : undefined);
const inside = (idx: PrefixIndex<string>, p: Peer) => idx.inside(p._prefix()!, bitsOf(p.families[0]));

describe('prefixes', () => {
  test('parse and print as iptables-save does', () => {
    expect(formatCidr(IpFamily.V4, v4('10.1.2.0/24'))).toBe('10.1.2.0/24');
    expect(formatCidr(IpFamily.V6, parseCidr(IpFamily.V6, '2001:DB8:0::1'))).toBe('2001:db8::1/128');
    expect(v4('10.0.0.0/255.255.0.0').prefix).toBe(16);
  });

  test('merge, subtract and complement ranges', () => {
    expect(mergeRanges([[5n, 9n], [1n, 3n], [4n, 4n], [20n, 30n]])).toEqual([[1n, 9n], [20n, 30n]]);
    expect(subtractRanges([[0n, 100n]], [[10n, 19n], [50n, 200n]])).toEqual([[0n, 9n], [20n, 49n]]);
    expect(complementRanges([[0n, 9n], [20n, 29n]], 255n)).toEqual([[10n, 19n], [30n, 255n]]);
    expect(rangeToCidrs(IpFamily.V4, 0n, 2n ** 32n - 1n)).toEqual(['0.0.0.0/0']);
    expect(rangeToCidrs(IpFamily.V4, 10n, 17n)).toEqual(['0.0.0.10/31', '0.0.0.12/30', '0.0.0.16/31']);
  });

  test('address order, then prefix length (the order of ipset files)', () => {
    const sorted = ['10.0.0.1/32', '9.255.0.0/16', '10.0.0.0/8', '10.0.0.0/24'].map(v4).sort(compareCidrs).map((c) => formatCidr(IpFamily.V4, c));
    expect(sorted).toEqual(['9.255.0.0/16', '10.0.0.0/8', '10.0.0.0/24', '10.0.0.1/32']);
  });
});

describe('PrefixIndex', () => {
  test('covering and inside queries across families', () => {
    const idx = new PrefixIndex<string>();
    add(idx, Peer.ipv4('10.0.0.0/8'), 'a');
    add(idx, Peer.ipv4('192.0.2.7'), 'b');
    add(idx, Peer.ipv6('2001:db8::/32'), 'c');
    expect(covering(idx, Peer.ipv4('10.1.2.3'))).toBe('a');
    expect(covering(idx, Peer.ipv4('11.0.0.0/8'))).toBeUndefined();
    expect(covering(idx, Peer.ipv4('0.0.0.0/0'))).toBeUndefined();
    expect(inside(idx, Peer.ipv4('192.0.2.0/24'))).toBe('b');
    expect(inside(idx, Peer.ipv4('10.1.0.0/16'))).toBeUndefined();
    expect(inside(idx, Peer.ipv4('8.0.0.0/6'))).toBe('a');
    expect(covering(idx, Peer.ipv6('2001:db8:1::/48'))).toBe('c');
    expect(inside(idx, Peer.ipv6('2001::/16'))).toBe('c');
    expect(inside(idx, Peer.ipv6('2001:db9::/32'))).toBeUndefined();
  });
});
