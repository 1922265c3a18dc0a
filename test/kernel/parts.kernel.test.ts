/**
 * The firewall parts against a real kernel, with real packets: brute-force
 * guard, port-scan trap, SYN-flood guard, echo limit, drop logger and bogon
 * filter on the server/clients topology; the NAT gateway on its own
 * LAN / gateway / WAN topology. Both families wherever the part applies.
 */
import * as path from 'path';
import { Lab } from './lab';
import { ping, startEchoServer, talk, tcpSyn, udp } from './probes';
import { normalizeRules, packets, savedRules } from './rules-io';
import { CL, FAMILIES, host, requireNetns, SRV, Topology } from './topology';
import { BogonFilter, DropLogger, GuardMode, IcmpEchoLimit, IpFamily, NatGateway, Peer, Port, PortScanTrap, SshBruteforceGuard, StatefulHost, SynFloodGuard } from '../../lib';

requireNetns();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SshBruteforceGuard: 3 new connections in 10 s, then drop', () => {
  const topo = new Topology();
  beforeAll(async () => {
    await topo.up();
    const h = host({ allow: [Port.HTTP] });
    new SshBruteforceGuard(h, 'ssh-guard');
    topo.load(h);
  });
  afterAll(() => topo.lab.destroy());

  test.each(FAMILIES)('%s: the 4th new connection is dropped, another client is admitted, an established session survives', async (fam) => {
    const lab = topo.lab;
    const session = lab.start(topo.cl[0], process.execPath, [path.join(__dirname, 'session-client.js'), SRV[fam][0], '22']);
    let out = '';
    session.stdout!.on('data', (d) => { out += String(d); });
    await lab.waitFor('session echo 1', () => out.includes('echo:1:ok')); // hit 1
    expect(talk(lab, topo.cl[0], SRV[fam][0], 22)).not.toBe(''); // hit 2
    expect(talk(lab, topo.cl[0], SRV[fam][0], 22)).not.toBe(''); // hit 3
    expect(tcpSyn(lab, topo.cl[0], SRV[fam][0], 22)).toMatchObject({ state: 'filtered', reason: 'no-response' }); // 4th: dropped
    expect(talk(lab, topo.cl[0], SRV[fam][0], 22)).toBe('');
    expect(talk(lab, topo.cl[1], SRV[fam][1], 22, 'other client\n')).toBe('other client\n');
    process.kill(session.pid!, 'SIGUSR1');
    await lab.waitFor('session echo 2', () => /echo:2:(ok|fail)/.test(out));
    expect(out).toContain('echo:2:ok');
    // HTTP is not guarded
    expect(tcpSyn(lab, topo.cl[0], SRV[fam][0], 80)).toMatchObject({ state: 'open' });
  });
});

describe('SshBruteforceGuard with matchTtl (the seed\'s --rttl) is evaded by varying the TTL', () => {
  const topo = new Topology();
  beforeAll(async () => {
    await topo.up();
    const h = host({});
    new SshBruteforceGuard(h, 'ssh-guard', { matchTtl: true });
    topo.load(h);
  });
  afterAll(() => topo.lab.destroy());

  test.each(FAMILIES)('%s: attempts with a new TTL each are never counted', (fam) => {
    const lab = topo.lab;
    for (let i = 0; i < 6; i++) {
      const six = fam === 'v6' ? ['-6'] : [];
      const r = lab.probe(topo.cl[0], 'nmap', ['-n', '-Pn', ...six, '-sS', '-p', '22', '--ttl', String(40 + i), ...(fam === 'v6' ? ['--send-ip'] : []), '--max-retries', '0', '-oG', '-', SRV[fam][0]], { timeoutMs: 30_000 });
      expect(r.stdout).toMatch(/22\/open\/tcp/);
    }
  });
});

describe('SshBruteforceGuard in HASHLIMIT mode, on another port beside a RECENT guard', () => {
  const topo = new Topology();
  beforeAll(async () => {
    await topo.up();
    const h = host({});
    new SshBruteforceGuard(h, 'ssh-guard');
    new SshBruteforceGuard(h, 'db-guard', { port: Port.tcp(5432), mode: GuardMode.HASHLIMIT, perMinute: 1, burst: 2 });
    topo.load(h);
  });
  afterAll(() => topo.lab.destroy());

  test.each(FAMILIES)('%s: the burst passes, the next is dropped; the other guard is untouched', (fam) => {
    const lab = topo.lab;
    expect(talk(lab, topo.cl[0], SRV[fam][0], 5432)).not.toBe('');
    expect(talk(lab, topo.cl[0], SRV[fam][0], 5432)).not.toBe('');
    expect(tcpSyn(lab, topo.cl[0], SRV[fam][0], 5432)).toMatchObject({ state: 'filtered' });
    expect(tcpSyn(lab, topo.cl[0], SRV[fam][0], 22)).toMatchObject({ state: 'open' });
  });
});

describe('PortScanTrap (3 s window, cl3 exempt)', () => {
  const topo = new Topology();
  beforeAll(async () => {
    await topo.up();
    const h = host({ allow: [Port.SSH, Port.HTTP, Port.udp(53)] });
    new PortScanTrap(h, 'trap', { seconds: 3, exempt: [Peer.ipv4(CL.v4[2]), Peer.ipv6(CL.v6[2])] });
    topo.load(h);
  });
  afterAll(() => topo.lab.destroy());

  describe.each(FAMILIES)('%s', (fam) => {
    test('TCP: after touching a closed port a client sees open ports closed, others do not; after the window it is admitted again', async () => {
      const lab = topo.lab;
      expect(tcpSyn(lab, topo.cl[0], SRV[fam][0], 22)).toMatchObject({ state: 'open' });
      expect(tcpSyn(lab, topo.cl[0], SRV[fam][0], 8080)).toMatchObject({ state: 'closed', reason: 'reset' });
      expect(tcpSyn(lab, topo.cl[0], SRV[fam][0], 22)).toMatchObject({ state: 'closed', reason: 'reset' });
      expect(tcpSyn(lab, topo.cl[1], SRV[fam][1], 22)).toMatchObject({ state: 'open' });
      await sleep(3500);
      expect(tcpSyn(lab, topo.cl[0], SRV[fam][0], 22)).toMatchObject({ state: 'open' });
    });

    test('UDP: the same with UDP-PORTSCAN', async () => {
      const lab = topo.lab;
      expect(udp(lab, topo.cl[0], SRV[fam][0], 5353)).toMatchObject({ state: 'closed', reason: 'port-unreach' });
      expect(udp(lab, topo.cl[0], SRV[fam][0], 53)).toMatchObject({ state: 'closed', reason: 'port-unreach' });
      expect(udp(lab, topo.cl[1], SRV[fam][1], 53)).toMatchObject({ state: 'open' });
      await sleep(3500);
      expect(udp(lab, topo.cl[0], SRV[fam][0], 53)).toMatchObject({ state: 'open' });
    });

    test('an exempt peer is refused at closed ports but never trapped', () => {
      const lab = topo.lab;
      expect(tcpSyn(lab, topo.cl[2], SRV[fam][2], 8080)).toMatchObject({ state: 'closed', reason: 'reset' });
      expect(tcpSyn(lab, topo.cl[2], SRV[fam][2], 22)).toMatchObject({ state: 'open' });
    });

    test('nmap -sS over 1000 ports finds at most the first-probed open port', async () => {
      await sleep(3500);
      const six = fam === 'v6' ? ['-6'] : [];
      const r = topo.lab.probe(topo.cl[1], 'nmap', ['-n', '-Pn', ...six, '-sS', '-p', '1-1000', '--max-retries', '1', '-oG', '-', SRV[fam][1]], { timeoutMs: 60_000 });
      const open = (r.stdout.match(/(\d+)\/open\/tcp/g) ?? []);
      expect(r.stdout).toMatch(/Ports: /);
      expect(open.length).toBeLessThanOrEqual(1);
    });
  });
});

describe('SynFloodGuard, IcmpEchoLimit, DropLogger', () => {
  const topo = new Topology();
  beforeAll(async () => {
    await topo.up();
    const h = host({ allow: [Port.SSH] });
    new SynFloodGuard(h, 'syn', { perSecond: 1, burst: 3 });
    new IcmpEchoLimit(h, 'ping', { perSecond: 1, burst: 2 });
    new DropLogger(h, 'log', { prefix: 'test-drop: ', perMinute: 600, burst: 100 });
    topo.load(h);
  });
  afterAll(() => topo.lab.destroy());

  describe.each(FAMILIES)('%s', (fam) => {
    test('a SYN burst above the limit is dropped; another source keeps its own budget', () => {
      const lab = topo.lab;
      const before = packets(lab, topo.srv, fam, '-A SYN_FLOOD -j DROP');
      const r = lab.exec(topo.cl[0], process.execPath, [path.join(__dirname, 'burst-client.js'), SRV[fam][0], '22', '20', '1500']);
      const connected = Number(r.stdout.match(/connected=(\d+)/)![1]);
      expect(connected).toBeGreaterThanOrEqual(1);
      expect(connected).toBeLessThan(10);
      expect(packets(lab, topo.srv, fam, '-A SYN_FLOOD -j DROP')).toBeGreaterThan(before);
      expect(talk(lab, topo.cl[1], SRV[fam][1], 22, 'still here\n')).toBe('still here\n');
    });

    test('pings above the limit are dropped', () => {
      const six = fam === 'v6' ? ['-6'] : ['-4'];
      const r = topo.lab.probe(topo.cl[2], 'ping', [...six, '-n', '-c', '20', '-i', '0.01', '-W', '1', SRV[fam][2]], { timeoutMs: 15_000 });
      const received = Number(r.stdout.match(/(\d+) received/)![1]);
      expect(received).toBeGreaterThanOrEqual(1);
      expect(received).toBeLessThanOrEqual(5);
    });

    test('refused packets move the LOG rule counter', () => {
      const before = packets(topo.lab, topo.srv, fam, '-j LOG', 'test-drop');
      expect(tcpSyn(topo.lab, topo.cl[2], SRV[fam][2], 8080)).toMatchObject({ state: 'closed' });
      expect(packets(topo.lab, topo.srv, fam, '-j LOG', 'test-drop')).toBeGreaterThan(before);
    });
  });
});

describe('BogonFilter on eth0, allowing cl1\'s documentation subnet', () => {
  const topo = new Topology();
  beforeAll(async () => {
    await topo.up();
    const h = host({ allow: [Port.SSH] });
    new BogonFilter(h, 'bogons', { iface: 'eth0', allow: [Peer.ipv4('198.51.100.0/24'), Peer.ipv6('2001:db8:1::/64')] });
    topo.load(h);
    // cl1 also holds a bogon address of each family (documentation ranges outside the allowed subnet)
    topo.lab.exec(topo.cl[0], 'ip', ['addr', 'add', '192.0.2.99/32', 'dev', 'eth0']);
    topo.lab.exec(topo.cl[0], 'ip', ['addr', 'add', '2001:db8:99::2/128', 'dev', 'eth0', 'nodad']);
    topo.lab.exec(topo.srv, 'ip', ['route', 'add', '192.0.2.99/32', 'dev', 'eth0']);
    topo.lab.exec(topo.srv, 'ip', ['-6', 'route', 'add', '2001:db8:99::2/128', 'dev', 'eth0']);
  });
  afterAll(() => topo.lab.destroy());

  test.each([['v4', '192.0.2.99'], ['v6', '2001:db8:99::2']] as const)('%s: the allowed source gets in, a bogon source is dropped in raw', (fam, bogon) => {
    const lab = topo.lab;
    expect(talk(lab, topo.cl[0], SRV[fam][0], 22, 'allowed\n')).toBe('allowed\n');
    const before = packets(lab, topo.srv, fam, '-A BOGONS-eth0', '-j DROP', fam === 'v4' ? '192.0.2.0/24' : '2001:db8::/32');
    const r = lab.probe(topo.cl[0], 'nc', ['-z', '-w', '2', '-s', bogon, SRV[fam][0], '22'], { timeoutMs: 10_000 });
    expect(r.status).not.toBe(0);
    expect(packets(lab, topo.srv, fam, '-A BOGONS-eth0', '-j DROP', fam === 'v4' ? '192.0.2.0/24' : '2001:db8::/32')).toBeGreaterThan(before);
  });
});

/**
 *   lan (198.51.100.5, 2001:db8:1::5) ──eth0── gw ──wan0── wan (203.0.113.2, 2001:db8:2::2)
 *                       gw: 198.51.100.1 / 2001:db8:1::1 (eth0), 203.0.113.1 / 2001:db8:2::1 (wan0)
 */
describe('NatGateway: LAN, gateway and WAN namespaces', () => {
  const lab = new Lab();
  let lan = '';
  let gw = '';
  let wan = '';
  let gateway: StatefulHost;
  beforeAll(async () => {
    lan = lab.netns('lan');
    gw = lab.netns('gw');
    wan = lab.netns('wan');
    lab.link(lan, 'eth0', ['198.51.100.5/24', '2001:db8:1::5/64'], gw, 'eth0', ['198.51.100.1/24', '2001:db8:1::1/64']);
    lab.link(gw, 'wan0', ['203.0.113.1/24', '2001:db8:2::1/64'], wan, 'eth0', ['203.0.113.2/24', '2001:db8:2::2/64']);
    lab.exec(lan, 'ip', ['route', 'add', 'default', 'via', '198.51.100.1']);
    lab.exec(lan, 'ip', ['-6', 'route', 'add', 'default', 'via', '2001:db8:1::1']);
    // the WAN host has a route to the gateway for the IPv6 LAN (no NAT there), none for the IPv4 LAN
    lab.exec(wan, 'ip', ['-6', 'route', 'add', '2001:db8:1::/64', 'via', '2001:db8:2::1']);
    gateway = host({ allow: [Port.SSH] });
    new NatGateway(gateway, 'nat', {
      wan: 'wan0',
      lans: [{ iface: 'eth0', cidr: '198.51.100.0/24', ipv6Cidr: '2001:db8:1::/64' }],
      portForwards: [{ port: Port.tcp(8000), to: '198.51.100.5', toPort: 80 }, { port: Port.udp(5353), to: '198.51.100.5' }],
    });
    expect(gateway.requirements).toEqual(['ipv4-forwarding', 'ipv6-forwarding']);
    for (const [key, value] of [['net.ipv4.ip_forward', '1'], ['net.ipv6.conf.all.forwarding', '1'], ['net.ipv4.conf.all.rp_filter', '0'], ['net.ipv4.conf.default.rp_filter', '0'],
      // refusals are read from the gateway's ICMP errors: none may be lost to its rate limit
      ['net.ipv4.icmp_ratelimit', '0'], ['net.ipv6.icmp.ratelimit', '0']]) {
      lab.exec(gw, 'sysctl', ['-qw', `${key}=${value}`]);
    }
    lab.loadRules(gw, 'v4', gateway.renderRules(IpFamily.V4));
    lab.loadRules(gw, 'v6', gateway.renderRules(IpFamily.V6));
    await startEchoServer(lab, lan, [80, 8080], [5353]);
    await startEchoServer(lab, wan, [80]);
    await startEchoServer(lab, gw, [22]);
  });
  afterAll(() => lab.destroy());

  test('the kernel holds exactly the rendered rules', () => {
    expect(normalizeRules(savedRules(lab, gw, 'v4'))).toEqual(normalizeRules(gateway.renderRules(IpFamily.V4)));
    expect(normalizeRules(savedRules(lab, gw, 'v6'))).toEqual(normalizeRules(gateway.renderRules(IpFamily.V6)));
  });

  test('LAN → WAN works, and the WAN host sees the gateway\'s WAN address (IPv4 masquerade)', () => {
    expect(talk(lab, lan, '203.0.113.2', 80, 'WHO\n')).toBe('203.0.113.1\n');
  });

  test('LAN → WAN over IPv6 works without NAT: the WAN host sees the LAN address', () => {
    expect(talk(lab, lan, '2001:db8:2::2', 80, 'WHO\n')).toBe('2001:db8:1::5\n');
  });

  test('WAN → gateway:8000 reaches the LAN service on port 80; UDP forwards too', () => {
    expect(talk(lab, wan, '203.0.113.1', 8000, 'through the forward\n')).toBe('through the forward\n');
    expect(udp(lab, wan, '203.0.113.1', 5353)).toMatchObject({ state: 'open', reason: 'udp-response' });
  });

  test('WAN → LAN without a forward is refused (IPv4 straight to the LAN address, IPv6 to any LAN port)', () => {
    lab.exec(wan, 'ip', ['route', 'replace', '198.51.100.0/24', 'via', '203.0.113.1']);
    try {
      // port 80 is the forward's inner port: reachable only through DNAT, never directly
      expect(talk(lab, wan, '198.51.100.5', 80)).toBe('');
      expect(tcpSyn(lab, wan, '198.51.100.5', 8080)).toMatchObject({ state: 'filtered', reason: 'host-unreach' });
    } finally {
      lab.exec(wan, 'ip', ['route', 'del', '198.51.100.0/24'], { check: false });
    }
    expect(tcpSyn(lab, wan, '2001:db8:1::5', 80)).toMatchObject({ state: 'filtered', reason: 'admin-prohibited' });
  });

  test('a packet arriving on the WAN with a LAN source is not forwarded', () => {
    lab.exec(wan, 'ip', ['addr', 'add', '198.51.100.9/32', 'dev', 'eth0']);
    lab.exec(wan, 'ip', ['route', 'replace', '198.51.100.5/32', 'via', '203.0.113.1', 'src', '198.51.100.9']);
    // a counting rule on the LAN host: did anything from the spoofed source arrive?
    lab.exec(lan, 'iptables', ['-A', 'INPUT', '-s', '198.51.100.9/32']);
    try {
      const before = packets(lab, gw, 'v4', '-s 198.51.100.0/24 -i wan0 -j DROP');
      expect(lab.probe(wan, 'nc', ['-z', '-w', '2', '-s', '198.51.100.9', '198.51.100.5', '80'], { timeoutMs: 10_000 }).status).not.toBe(0);
      expect(packets(lab, gw, 'v4', '-s 198.51.100.0/24 -i wan0 -j DROP')).toBeGreaterThan(before);
      expect(packets(lab, lan, 'v4', '-s 198.51.100.9/32')).toBe(0);
    } finally {
      lab.exec(wan, 'ip', ['route', 'del', '198.51.100.5/32'], { check: false });
    }
  });

  test('the gateway itself: SSH from the LAN works, ping works both ways', () => {
    expect(talk(lab, lan, '198.51.100.1', 22, 'gw\n')).toBe('gw\n');
    expect(ping(lab, lan, '2001:db8:1::1')).toBe(true);
    expect(ping(lab, lan, '203.0.113.2')).toBe(true);
    expect(ping(lab, lan, '2001:db8:2::2')).toBe(true);
  });
});
