import { IpFamily, Match, Peer } from '../../lib';

describe('Peer', () => {
  test.each([
    [Peer.ipv4('15.15.15.51'), '15.15.15.51/32', [IpFamily.V4]],
    [Peer.ipv4('15.15.15.0/24'), '15.15.15.0/24', [IpFamily.V4]],
    [Peer.ipv4('0.0.0.0/0'), '0.0.0.0/0', [IpFamily.V4]],
    [Peer.ipv6('2001:DB8:0:0::1'), '2001:db8::1/128', [IpFamily.V6]],
    [Peer.ipv6('2001:db8::/32'), '2001:db8::/32', [IpFamily.V6]],
    [Peer.anyIpv4(), '0.0.0.0/0', [IpFamily.V4]],
    [Peer.anyIpv6(), '::/0', [IpFamily.V6]],
    [Peer.any(), 'any', [IpFamily.V4, IpFamily.V6]],
  ])('%s is canonical (%s) in its families', (peer, cidr, families) => {
    expect(peer._problem()).toBeUndefined();
    expect(peer.cidr).toBe(cidr);
    expect(peer.families).toEqual(families);
  });

  test('as a source match: -s for a range, nothing for everyone', () => {
    expect(Match.source(Peer.ipv4('15.15.15.51'))._args(IpFamily.V4)!.basic).toEqual({ s: '15.15.15.51/32' });
    expect(Match.source(Peer.any())._args(IpFamily.V6)!.basic).toEqual({});
    expect(Match.source(Peer.anyIpv6())._args(IpFamily.V6)!.basic).toEqual({});
  });

  test('covers and overlaps by prefix arithmetic', () => {
    expect(Peer.ipv4('10.0.0.0/8')._covers(Peer.ipv4('10.1.2.3'))).toBe(true);
    expect(Peer.ipv4('10.1.2.3')._covers(Peer.ipv4('10.0.0.0/8'))).toBe(false);
    expect(Peer.ipv4('10.0.0.0/8')._overlaps(Peer.ipv4('10.255.0.0/16'))).toBe(true);
    expect(Peer.ipv4('10.0.0.0/8')._overlaps(Peer.ipv4('11.0.0.0/8'))).toBe(false);
    expect(Peer.ipv6('2001:db8::/32')._overlaps(Peer.ipv4('10.0.0.0/8'))).toBe(false);
    expect(Peer.any()._covers(Peer.ipv6('2001:db8::1'))).toBe(true);
  });

  test.each([
    [() => Peer.ipv4('10.0.0.1/24'), /host bits set.*Did you mean 10.0.0.0\/24 \(the network\) or 10.0.0.1\/32/],
    [() => Peer.ipv4('300.1.1.1'), /not an IPv4 address or CIDR/],
    [() => Peer.ipv4('10.1'), /not an IPv4 address/],
    [() => Peer.ipv4('010.0.0.1'), /not an IPv4 address/],
    [() => Peer.ipv4('2001:db8::1'), /Use Peer.ipv6\("2001:db8::1"\)/],
    [() => Peer.ipv6('10.0.0.1'), /Use Peer.ipv4\("10.0.0.1"\)/],
    [() => Peer.ipv4('10.0.0.0/33'), /prefix length "33"; it must be 0 to 32/],
    [() => Peer.ipv6('2001:db8::/129'), /must be 0 to 128/],
    [() => Peer.ipv6('fe80::1%eth0'), /zone index/],
    [() => Peer.ipv6('::ffff:1.2.3.4'), /IPv4-mapped.*Peer.ipv4\("1.2.3.4"\)/],
    [() => Peer.ipv4(' 10.0.0.1'), /white space/],
    [() => Peer.ipv4('10.0.0.1; rm -rf /'), /not an IPv4 address/],
    [() => Peer.ipv4(''), /needs an IPv4 address/],
    [() => Peer.ipv4('${TfToken[TOKEN.1]}'), /unresolved token/],
  ])('bad input %# is refused with the value and a fix', (make, msg) => {
    const p = make()._problem();
    expect(p).toBeDefined();
    expect(`${p!.message}. ${p!.fix ?? ''}`).toMatch(msg);
  });

  test('covers and overlaps', () => {
    expect(Peer.ipv4('10.0.0.0/8')._covers(Peer.ipv4('10.1.2.3'))).toBe(true);
    expect(Peer.ipv4('10.1.2.3')._covers(Peer.ipv4('10.0.0.0/8'))).toBe(false);
    expect(Peer.ipv4('10.1.2.3')._overlaps(Peer.ipv4('10.0.0.0/8'))).toBe(true);
    expect(Peer.ipv4('10.0.0.0/8')._overlaps(Peer.ipv6('::/0'))).toBe(false);
    expect(Peer.any()._covers(Peer.ipv6('2001:db8::1'))).toBe(true);
  });
});
