import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import {
  BogonFilter, DropLogger, GuardMode, IcmpEchoLimit, IpFamily, NatGateway, Peer, Port, PortScanTrap, SshBruteforceGuard, StatefulHost, SynFloodGuard,
} from '../../lib';

function newHost(props = {}): StatefulHost {
  return new StatefulHost(new TerraformStack(new App(), 'stack'), 'web', { ruleComments: false, ...props });
}
const lines = (h: StatefulHost, f: IpFamily) => h.renderRules(f).split('\n').filter((l) => l && !l.startsWith('#'));
const chain = (h: StatefulHost, f: IpFamily, name: string) => lines(h, f).filter((l) => l.startsWith(`-A ${name} `));

describe('SshBruteforceGuard', () => {
  test('the seed\'s IN_SSH chain, reached from the TCP chain after the trap', () => {
    const h = newHost({ allow: [Port.SSH] });
    new SshBruteforceGuard(h, 'ssh-guard');
    expect(chain(h, IpFamily.V4, 'IN_SSH')).toEqual([
      '-A IN_SSH -m recent --rcheck --seconds 10 --hitcount 3 --name sshbf --mask 255.255.255.255 --rsource -j DROP',
      '-A IN_SSH -m recent --rcheck --seconds 1800 --hitcount 4 --name sshbf --mask 255.255.255.255 --rsource -j DROP',
      '-A IN_SSH -m recent --set --name sshbf --mask 255.255.255.255 --rsource -j ACCEPT',
    ]);
    // the guard governs its port: its jump comes before the plain accept
    expect(chain(h, IpFamily.V4, 'TCP')).toEqual(['-A TCP -p tcp -m tcp --dport 22 -j IN_SSH', '-A TCP -p tcp -m tcp --dport 22 -j ACCEPT']);
    // IPv6 sources are counted per /64
    expect(chain(h, IpFamily.V6, 'IN_SSH')[2]).toBe('-A IN_SSH -m recent --set --name sshbf6 --mask ffff:ffff:ffff:ffff:: --rsource -j ACCEPT');
  });

  test('matchTtl, custom windows, other ports and hashlimit mode side by side', () => {
    const h = newHost();
    new SshBruteforceGuard(h, 'a', { matchTtl: true, shortWindow: { hits: 5, seconds: 60 } });
    new SshBruteforceGuard(h, 'b', { port: Port.tcp(2222) });
    new SshBruteforceGuard(h, 'c', { port: Port.tcp(5432), mode: GuardMode.HASHLIMIT, perMinute: 6, burst: 2 });
    expect(chain(h, IpFamily.V4, 'IN_SSH')[0]).toBe('-A IN_SSH -m recent --rcheck --seconds 60 --hitcount 5 --rttl --name sshbf --mask 255.255.255.255 --rsource -j DROP');
    expect(chain(h, IpFamily.V4, 'IN_SSH_2222')[2]).toContain('--name sshbf_2222');
    expect(chain(h, IpFamily.V4, 'IN_SSH_5432')).toEqual([
      '-A IN_SSH_5432 -m hashlimit --hashlimit-above 6/min --hashlimit-burst 2 --hashlimit-mode srcip --hashlimit-name sshg_5432 -j DROP',
      '-A IN_SSH_5432 -j ACCEPT',
    ]);
  });

  test('a guard counts as an SSH opening (no lock-out warning)', () => {
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-')) });
    const h = new StatefulHost(new TerraformStack(app, 's'), 'h', { ruleComments: false });
    new SshBruteforceGuard(h, 'g');
    app.synth();
    expect(JSON.stringify(h.node.metadata)).not.toMatch(/no rule admits SSH/);
  });
});

describe('PortScanTrap', () => {
  test('update at the top of TCP/UDP, --set on the final rejects, exempt peers refused without listing, proto-unreachable last', () => {
    const h = newHost({ allow: [Port.SSH] });
    new PortScanTrap(h, 'trap', { exempt: [Peer.ipv4('198.51.100.0/24')] });
    const v4 = lines(h, IpFamily.V4);
    expect(chain(h, IpFamily.V4, 'TCP')[0]).toBe('-A TCP -p tcp -m recent --update --seconds 60 --name TCP-PORTSCAN --mask 255.255.255.255 --rsource -j REJECT --reject-with tcp-reset');
    expect(chain(h, IpFamily.V4, 'UDP')[0]).toBe('-A UDP -p udp -m recent --update --seconds 60 --name UDP-PORTSCAN --mask 255.255.255.255 --rsource -j REJECT --reject-with icmp-port-unreachable');
    expect(v4.filter((l) => l.startsWith('-A INPUT')).slice(-5)).toEqual([
      '-A INPUT -s 198.51.100.0/24 -p udp -j REJECT --reject-with icmp-port-unreachable',
      '-A INPUT -p udp -m recent --set --name UDP-PORTSCAN --mask 255.255.255.255 --rsource -j REJECT --reject-with icmp-port-unreachable',
      '-A INPUT -s 198.51.100.0/24 -p tcp -j REJECT --reject-with tcp-reset',
      '-A INPUT -p tcp -m recent --set --name TCP-PORTSCAN --mask 255.255.255.255 --rsource -j REJECT --reject-with tcp-reset',
      '-A INPUT -j REJECT --reject-with icmp-proto-unreachable',
    ]);
    expect(v4.join('\n')).not.toContain('-A INPUT -p tcp -j REJECT --reject-with tcp-reset');
    const v6 = lines(h, IpFamily.V6).join('\n');
    expect(v6).toContain('-A INPUT -p tcp -m recent --set --name TCP-PORTSCAN6 --mask ffff:ffff:ffff:ffff:: --rsource -j REJECT --reject-with tcp-reset');
    expect(v6).not.toContain('198.51.100');
  });

  test('with closedPortResponse DROP the trap drops', () => {
    const h = newHost({ closedPortResponse: 'DROP' });
    new PortScanTrap(h, 'trap', { udp: false });
    expect(chain(h, IpFamily.V4, 'TCP')[0]).toMatch(/--update .* -j DROP$/);
    expect(lines(h, IpFamily.V4)).toContain('-A INPUT -p tcp -m recent --set --name TCP-PORTSCAN --mask 255.255.255.255 --rsource -j DROP');
    expect(lines(h, IpFamily.V4).join('\n')).not.toContain('UDP-PORTSCAN');
  });
});

describe('NatGateway', () => {
  test('the seed\'s gateway, hardened', () => {
    const h = newHost();
    new NatGateway(h, 'nat', {
      wan: 'ppp0',
      lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }, { iface: 'eth1', cidr: '10.3.0.0/16', ipv6Cidr: '2001:db8:3::/64' }],
      portForwards: [{ port: Port.tcp(22), to: '192.168.0.5' }, { port: Port.tcp(8000), to: '192.168.0.6', toPort: 80 }, { port: Port.udpRange(6000, 6010), to: '10.3.0.9' }],
    });
    const v4 = lines(h, IpFamily.V4);
    expect(v4.filter((l) => /^-A (PREROUTING|POSTROUTING)/.test(l))).toEqual([
      '-A PREROUTING -i ppp0 -p tcp -m tcp --dport 22 -j DNAT --to-destination 192.168.0.5',
      '-A PREROUTING -i ppp0 -p tcp -m tcp --dport 8000 -j DNAT --to-destination 192.168.0.6:80',
      '-A PREROUTING -i ppp0 -p udp -m udp --dport 6000:6010 -j DNAT --to-destination 10.3.0.9',
      '-A POSTROUTING -s 10.3.0.0/16 -o ppp0 -j MASQUERADE',
      '-A POSTROUTING -s 192.168.0.0/24 -o ppp0 -j MASQUERADE',
    ]);
    expect(chain(h, IpFamily.V4, 'FORWARD')).toEqual([
      '-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A FORWARD -m conntrack --ctstate INVALID -j DROP',
      '-A FORWARD -s 10.3.0.0/16 -i ppp0 -j DROP',
      '-A FORWARD -s 192.168.0.0/24 -i ppp0 -j DROP',
      '-A FORWARD -j fw-interfaces',
      '-A FORWARD -j fw-open',
      '-A FORWARD -j REJECT --reject-with icmp-host-unreachable',
    ]);
    expect(chain(h, IpFamily.V4, 'fw-open')).toContain('-A fw-open -d 192.168.0.6/32 -i ppp0 -p tcp -m tcp --dport 80 -m conntrack --ctstate DNAT -j ACCEPT');
    const v6 = lines(h, IpFamily.V6);
    expect(v6.join('\n')).not.toMatch(/\*nat|MASQUERADE|192\.168/);
    // each LAN goes out to the WAN only (LAN to LAN, WAN to LAN: only what a part declares)
    expect(chain(h, IpFamily.V4, 'fw-interfaces')).toEqual(['-A fw-interfaces -s 10.3.0.0/16 -i eth1 -o ppp0 -j ACCEPT', '-A fw-interfaces -s 192.168.0.0/24 -i eth0 -o ppp0 -j ACCEPT']);
    expect(chain(h, IpFamily.V6, 'fw-interfaces')).toEqual(['-A fw-interfaces -i eth0 -o ppp0 -j ACCEPT', '-A fw-interfaces -s 2001:db8:3::/64 -i eth1 -o ppp0 -j ACCEPT']);
    expect(h.requirements).toEqual(['ipv4-forwarding', 'ipv6-forwarding']);
  });

  test.each([
    ['a LAN pattern that matches the WAN', 'eth0', [{ iface: 'eth+', cidr: '192.168.0.0/24' }], /lans\[0\]\.iface "eth\+" and wan "eth0" can name the same interface \(eth\+ matches eth0\)/],
    ['a WAN pattern that matches a LAN', 'ppp+', [{ iface: 'ppp1', cidr: '192.168.0.0/24' }], /lans\[0\]\.iface "ppp1" and wan "ppp\+" can name the same interface \(ppp\+ matches ppp1\)/],
    ['two LANs that overlap', 'ppp0', [{ iface: 'eth+', cidr: '192.168.0.0/24' }, { iface: 'eth1', cidr: '192.168.1.0/24' }], /lans\[0\]\.iface "eth\+" and lans\[1\]\.iface "eth1" can name the same interface \(eth\+ matches eth1\)/],
    ['a short prefix', 'eth0', [{ iface: 'e+', cidr: '192.168.0.0/24' }], /\(e\+ matches eth0\)/],
  ])('interface patterns by meaning: %s is refused, naming both', (_n, wan, lans, message) => {
    const h = new StatefulHost(new TerraformStack(Testing.app(), 'stack'), 'gw', { ruleComments: false });
    expect(() => new NatGateway(h, 'nat', { wan, lans })).toThrow(message);
  });

  test('a blocked peer is blocked in FORWARD too on a gateway (a port forward does not admit it)', () => {
    const h = new StatefulHost(new TerraformStack(Testing.app(), 'stack'), 'gw', { ruleComments: false, allow: [Port.SSH] });
    h.block(Peer.ipv4('203.0.113.0/25'));
    new NatGateway(h, 'nat', { wan: 'ppp0', lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }], portForwards: [{ port: Port.tcp(8000), to: '192.168.0.5', toPort: 80 }] });
    expect(chain(h, IpFamily.V4, 'FORWARD')).toContain('-A FORWARD -s 203.0.113.0/25 -j DROP');
    expect(chain(h, IpFamily.V4, 'INPUT')).toContain('-A INPUT -s 203.0.113.0/25 -j DROP');
    expect(h.evaluate({ family: IpFamily.V4, protocol: 'tcp' as any, source: '203.0.113.9', inInterface: 'ppp0', destination: '198.51.100.1', destinationPort: 8000 }).action).toBe('DROP');
    expect(h.evaluate({ family: IpFamily.V4, protocol: 'tcp' as any, source: '203.0.113.200', inInterface: 'ppp0', destination: '198.51.100.1', destinationPort: 8000 }).action).toBe('ACCEPT');
    // a host that does not route packets keeps its FORWARD chain empty
    const plain = new StatefulHost(new TerraformStack(Testing.app(), 'stack'), 'web', { ruleComments: false, allow: [Port.SSH] });
    plain.block(Peer.ipv4('203.0.113.0/25'));
    expect(chain(plain, IpFamily.V4, 'FORWARD')).toEqual([]);
  });

  test('snat instead of masquerade', () => {
    const h = newHost();
    new NatGateway(h, 'nat', { wan: 'eth9', lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }], snat: '203.0.113.7' });
    expect(lines(h, IpFamily.V4)).toContain('-A POSTROUTING -s 192.168.0.0/24 -o eth9 -j SNAT --to-source 203.0.113.7');
  });
});

describe('SynFloodGuard, IcmpEchoLimit, DropLogger, BogonFilter', () => {
  test('rules in both families', () => {
    const h = newHost({ allow: [Port.SSH] });
    new SynFloodGuard(h, 'syn');
    new IcmpEchoLimit(h, 'ping');
    new DropLogger(h, 'log', { level: 7 });
    new BogonFilter(h, 'bogons', { iface: 'eth0', allow: [Peer.ipv4('100.64.0.0/10')] });
    for (const f of [IpFamily.V4, IpFamily.V6]) {
      expect(chain(h, f, 'SYN_FLOOD')).toEqual([
        // IPv6 sources share one budget per /64 (iptables-save omits the full-length /32)
        `-A SYN_FLOOD -m hashlimit --hashlimit-upto 5/sec --hashlimit-burst 10 --hashlimit-mode srcip --hashlimit-name syn_flood${f === IpFamily.V6 ? ' --hashlimit-srcmask 64' : ''} -j RETURN`,
        '-A SYN_FLOOD -j DROP',
      ]);
      expect(chain(h, f, 'ECHO_LIMIT')).toEqual(['-A ECHO_LIMIT -m limit --limit 1/sec -j RETURN', '-A ECHO_LIMIT -j DROP']);
      const input = chain(h, f, 'INPUT');
      const log = input.findIndex((l) => l.includes('-j LOG'));
      expect(input[log]).toBe('-A INPUT -m limit --limit 5/min -j LOG --log-prefix "iptables denied: " --log-level 7');
      expect(input.slice(log + 1).every((l) => l.includes('REJECT'))).toBe(true);
    }
    const bogons = chain(h, IpFamily.V4, 'BOGONS-eth0');
    expect(bogons[0]).toBe('-A BOGONS-eth0 -s 100.64.0.0/10 -j RETURN');
    expect(bogons).toContain('-A BOGONS-eth0 -s 10.0.0.0/8 -j DROP');
    expect(chain(h, IpFamily.V6, 'BOGONS-eth0')).toContain('-A BOGONS-eth0 -s fc00::/7 -j DROP');
    expect(chain(h, IpFamily.V6, 'BOGONS-eth0').join('\n')).not.toMatch(/fe80|-s ::\/128/);
    // the bogon jump runs before the IPv6 reverse-path filter
    expect(chain(h, IpFamily.V6, 'PREROUTING')[0]).toBe('-A PREROUTING -i eth0 -j BOGONS-eth0');
  });
});

describe('order is the library\'s job', () => {
  const parts: Array<[string, (h: StatefulHost) => void]> = [
    ['guard', (h) => new SshBruteforceGuard(h, 'guard')],
    ['trap', (h) => new PortScanTrap(h, 'trap', { exempt: [Peer.ipv4('198.51.100.0/24')] })],
    ['nat', (h) => new NatGateway(h, 'nat', { wan: 'ppp0', lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }], portForwards: [{ port: Port.tcp(8000), to: '192.168.0.5', toPort: 80 }] })],
    ['logger', (h) => new DropLogger(h, 'logger')],
    ['bogon', (h) => new BogonFilter(h, 'bogon', { iface: 'ppp0' })],
    ['syn', (h) => new SynFloodGuard(h, 'syn')],
  ];
  function permutations<T>(xs: T[]): T[][] {
    if (xs.length <= 1) return [xs];
    return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
  }

  test('every add order of guard, trap, NAT, logger, bogon filter and SYN guard gives byte-identical files', () => {
    const all = permutations(parts);
    expect(all.length).toBe(720);
    const outputs = new Set<string>();
    for (const order of all) {
      const h = newHost({ allow: [Port.HTTPS] });
      h.allowFrom(Peer.ipv4('203.0.113.0/24'), Port.tcp(3306));
      for (const [, add] of order) add(h);
      outputs.add(h.renderRules(IpFamily.V4) + h.renderRules(IpFamily.V6));
    }
    expect(outputs.size).toBe(1);
  });

  test('conntrack first in INPUT and FORWARD, the final refusals last', () => {
    const h = newHost({ allow: [Port.HTTPS] });
    for (const [, add] of parts) add(h);
    for (const f of [IpFamily.V4, IpFamily.V6]) {
      for (const c of ['INPUT', 'FORWARD']) expect(chain(h, f, c)[0]).toBe(`-A ${c} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
      expect(chain(h, f, 'INPUT').slice(-1)[0]).toMatch(/-j REJECT --reject-with (icmp-proto-unreachable|icmp6-adm-prohibited)$/);
      expect(chain(h, f, 'FORWARD').slice(-1)[0]).toMatch(/-j REJECT --reject-with (icmp-host-unreachable|icmp6-adm-prohibited)$/);
    }
  });
});

describe('bad input names the part\'s path', () => {
  const cases: Array<[string, (h: StatefulHost) => unknown, RegExp]> = [
    ['a part outside a host', () => new PortScanTrap(new TerraformStack(new App(), 'other'), 'trap'), /\[other\/trap\] is not inside a StatefulHost/],
    ['a part under a plain construct under a host is fine', (h) => { new PortScanTrap(new Construct(h, 'group'), 'trap'); throw new Error('ok'); }, /^ok$/],
    ['hit counts above xt_recent\'s 20', (h) => new SshBruteforceGuard(h, 'g', { shortWindow: { hits: 21, seconds: 10 } }), /\[stack\/web\/g\] shortWindow\.hits is 21; it must be a whole number from 1 to 20\. xt_recent remembers 20 hits/],
    ['a zero-second window', (h) => new SshBruteforceGuard(h, 'g', { longWindow: { hits: 4, seconds: 0 } }), /\[stack\/web\/g\] longWindow\.seconds is 0/],
    ['a guarded range', (h) => new SshBruteforceGuard(h, 'g', { port: Port.tcpRange(22, 23) }), /\[stack\/web\/g\] port tcp\/22-23 is a range/],
    ['a bad chain name', (h) => new SshBruteforceGuard(h, 'g', { chainName: 'IN SSH' }), /\[stack\/web\/g\] chainName "IN SSH" may hold only letters, digits, _ and -/],
    ['a trap with nothing to trap', (h) => new PortScanTrap(h, 't', { tcp: false, udp: false }), /\[stack\/web\/t\] tcp and udp are both false/],
    ['a trap window out of range', (h) => new PortScanTrap(h, 't', { seconds: -5 }), /\[stack\/web\/t\] seconds is -5/],
    ['a bad exempt peer', (h) => new PortScanTrap(h, 't', { exempt: [Peer.ipv4('1.2.3.4/8')] }), /\[stack\/web\/t\] exempt\[0\]: Peer\.ipv4\("1\.2\.3\.4\/8"\) has host bits set/],
    ['a port forward outside every LAN', (h) => new NatGateway(h, 'nat', { wan: 'ppp0', lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }], portForwards: [{ port: Port.tcp(80), to: '10.0.0.5' }] }), /\[stack\/web\/nat\] portForwards\[0\] forwards tcp\/80 to 10\.0\.0\.5, which is outside every LAN \(192\.168\.0\.0\/24\)/],
    ['overlapping LANs', (h) => new NatGateway(h, 'nat', { wan: 'ppp0', lans: [{ iface: 'eth0', cidr: '10.0.0.0/8' }, { iface: 'eth1', cidr: '10.3.0.0/16' }] }), /\[stack\/web\/nat\] lans\[0\] \(10\.0\.0\.0\/8\) overlaps lans\[1\] \(10\.3\.0\.0\/16\)/],
    ['an interface as WAN and LAN', (h) => new NatGateway(h, 'nat', { wan: 'eth0', lans: [{ iface: 'eth0', cidr: '10.0.0.0/8' }] }), /\[stack\/web\/nat\] interface "eth0" is both the WAN and lans\[0\]/],
    ['a second LAN with a bad subnet (each LAN checked before two are compared)', (h) => new NatGateway(h, 'nat', { wan: 'ppp0', lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }, { iface: 'eth1', cidr: 'lo' as any }] }), /\[stack\/web\/nat\] lans\[1\]/],
    ['a LAN with host bits', (h) => new NatGateway(h, 'nat', { wan: 'ppp0', lans: [{ iface: 'eth0', cidr: '192.168.0.1/24' }] }), /\[stack\/web\/nat\] lans\[0\]: Peer\.ipv4\("192\.168\.0\.1\/24"\) has host bits set/],
    ['no LAN', (h) => new NatGateway(h, 'nat', { wan: 'ppp0', lans: [] }), /lans is empty/],
    ['a bad SNAT address', (h) => new NatGateway(h, 'nat', { wan: 'ppp0', lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }], snat: '203.0.113.7/32' }), /snat "203\.0\.113\.7\/32" is not an IPv4 address/],
    ['a range forwarded to one port', (h) => new NatGateway(h, 'nat', { wan: 'ppp0', lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }], portForwards: [{ port: Port.tcpRange(80, 90), to: '192.168.0.5', toPort: 80 }] }), /forwards the range tcp\/80-90 to one port 80/],
    ['a WAN port forwarded twice', (h) => new NatGateway(h, 'nat', { wan: 'ppp0', lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }], portForwards: [{ port: Port.tcp(80), to: '192.168.0.5' }, { port: Port.tcp(80), to: '192.168.0.6' }] }), /portForwards\[1\] \(tcp\/80\) overlaps portForwards\[0\]/],
    ['a bad log prefix', (h) => new DropLogger(h, 'log', { prefix: 'x"; reboot' }), /\[stack\/web\/log\] prefix "x\\"; reboot" must be 1 to 29 characters/],
    ['a log prefix too long', (h) => new DropLogger(h, 'log', { prefix: 'a'.repeat(30) }), /must be 1 to 29 characters/],
    ['a bad bogon interface', (h) => new BogonFilter(h, 'b', { iface: 'eth0/1' }), /\[stack\/web\/b\] iface: interface name "eth0\/1" is not a valid/],
    ['a zero SYN rate', (h) => new SynFloodGuard(h, 's', { perSecond: 0 }), /\[stack\/web\/s\] perSecond is 0/],
  ];
  test.each(cases)('%s', (_n, make, msg) => {
    expect(() => make(newHost())).toThrow(msg);
  });

  const atSynth: Array<[string, (h: StatefulHost) => void, RegExp]> = [
    ['two traps claim the same lists', (h) => { new PortScanTrap(h, 'a'); new PortScanTrap(h, 'b'); }, /\[stack\/web\/b\] recent list "TCP-PORTSCAN" is already used by stack\/web\/a/],
    ['two guards claim the same chain', (h) => { new SshBruteforceGuard(h, 'a'); new SshBruteforceGuard(h, 'b', { listName: 'other' }); }, /\[stack\/web\/b\] chain "IN_SSH" is already used by stack\/web\/a/],
    ['two gateways on one host', (h) => { new NatGateway(h, 'a', { wan: 'ppp0', lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }] }); new NatGateway(h, 'b', { wan: 'ppp1', lans: [{ iface: 'eth1', cidr: '192.168.1.0/24' }] }); }, /\[stack\/web\/b\] chain "fw-interfaces" is already used by stack\/web\/a/],
    ['an echo limit on a host without ping', (h) => { new IcmpEchoLimit(h, 'ping'); }, /\[stack\/web\/ping\] limits ping, but the host has ping: false/],
  ];
  test.each(atSynth)('%s: a validation error at synth, nothing written', (_n, make, msg) => {
    const h = newHost(_n.includes('without ping') ? { ping: false } : {});
    make(h);
    // each construct reports its own errors (the framework prefixes its path, once)
    const errors = h.node.findAll().flatMap((c) => c.node.validate().map((e) => `[${c.node.path}] ${e}`));
    expect(errors.join('\n')).toMatch(msg);
    expect(errors.join('\n')).not.toMatch(/\] \[/);
  });
});
