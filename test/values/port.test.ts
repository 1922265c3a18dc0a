import { IpFamily, Match, Port, Protocol } from '../../lib';

describe('Port', () => {
  test('factories and constants', () => {
    expect(Port.tcp(22).toString()).toBe('tcp/22');
    expect(Port.udp(53).protocol).toBe(Protocol.UDP);
    expect(Port.tcpRange(6000, 6010).toString()).toBe('tcp/6000-6010');
    expect(Port.udpRange(60000, 61000).isRange).toBe(true);
    expect([Port.SSH, Port.HTTP, Port.HTTPS].map(String)).toEqual(['tcp/22', 'tcp/80', 'tcp/443']);
  });

  test('renders as iptables-save prints the match', () => {
    expect(Match.port(Port.tcp(22))._args(IpFamily.V4)).toEqual({ basic: { p: 'tcp' }, module: ['-m', 'tcp', '--dport', '22'] });
    expect(Match.port(Port.udpRange(1000, 2000))._args(IpFamily.V6)).toEqual({ basic: { p: 'udp' }, module: ['-m', 'udp', '--dport', '1000:2000'] });
  });

  test.each([
    [Port.tcp(0), /port 0 of tcp is not a whole number from 1 to 65535.*Port 0 cannot be matched/],
    [Port.tcp(65536), /port 65536 of tcp is not a whole number from 1 to 65535/],
    [Port.udp(-1), /port -1 of udp/],
    [Port.tcp(22.5), /port 22.5 of tcp/],
    [Port.tcp(NaN), /port NaN of tcp/],
    [Port.tcpRange(2000, 1000), /range 2000-1000 of tcp runs backwards.*Port.tcpRange\(1000, 2000\)/],
    [Port.tcp(-1.8e289), /unresolved token/],
  ])('%s is refused with the value and a fix', (port, msg) => {
    const p = port._problem();
    expect(p).toBeDefined();
    expect(`${p!.message}. ${p!.fix ?? ''}`).toMatch(msg);
  });

  test('good ports have no problem', () => {
    for (const p of [Port.tcp(1), Port.tcp(65535), Port.tcpRange(1, 65535), Port.udpRange(5, 5)]) {
      expect(p._problem()).toBeUndefined();
    }
  });

  test('covers and overlaps', () => {
    expect(Port.tcpRange(1, 1024)._covers(Port.SSH)).toBe(true);
    expect(Port.udpRange(1, 1024)._covers(Port.SSH)).toBe(false);
    expect(Port.tcpRange(10, 20)._overlaps(Port.tcpRange(20, 30))).toBe(true);
    expect(Port.tcpRange(10, 19)._overlaps(Port.tcpRange(20, 30))).toBe(false);
  });
});
