/**
 * StatefulHost against a real kernel: the rendered files are loaded with
 * iptables-restore / ip6tables-restore into a fresh network namespace and hit
 * with real packets from client namespaces over veth pairs.
 *
 *   cl1 (198.51.100.2, 2001:db8:1::2) ──eth0─┐
 *   cl2 (203.0.113.2,  2001:db8:2::2) ──eth1─┤ srv (the firewalled host)
 *   cl3 (192.0.2.2,    2001:db8:3::2) ──eth2─┘
 */
import { otherProtocol, ping, startEchoServer, talk, tcpAck, tcpSyn, udp } from './probes';
import { normalizeRules, savedRules } from './rules-io';
import { CL, FAMILIES, host, requireNetns, SRV, Topology } from './topology';
import { ClosedPortResponse, OutboundPolicy, Peer, Port, StatefulHost } from '../../lib';

requireNetns();

describe('the reference firewall (allow SSH, HTTP, DNS; MySQL from cl1; cl3 blocked)', () => {
  const topo = new Topology();
  let h: StatefulHost;
  beforeAll(async () => {
    await topo.up();
    h = host({ allow: [Port.SSH, Port.HTTP, Port.udp(53)] }, (x) => {
      x.allowFrom(Peer.ipv4('198.51.100.0/24'), Port.tcp(3306));
      x.allowFrom(Peer.ipv6('2001:db8:1::/64'), Port.tcp(3306));
      x.block(Peer.ipv4('192.0.2.2'));
      x.block(Peer.ipv6('2001:db8:3::/64'));
    });
    topo.load(h);
  });
  afterAll(() => topo.lab.destroy());

  test.each(FAMILIES)('%s: the kernel holds exactly the rendered rules', (fam, family) => {
    expect(normalizeRules(savedRules(topo.lab, topo.srv, fam))).toEqual(normalizeRules(h.renderRules(family)));
  });

  describe.each(FAMILIES)('%s', (fam) => {
    const srv = (i: number) => SRV[fam][i];
    const cl1 = () => topo.cl[0];

    test('an allowed TCP port with a listener accepts and talks', () => {
      expect(tcpSyn(topo.lab, cl1(), srv(0), 22)).toMatchObject({ state: 'open', reason: 'syn-ack' });
      expect(talk(topo.lab, cl1(), srv(0), 22, 'ping over ssh port\n')).toBe('ping over ssh port\n');
      expect(tcpSyn(topo.lab, cl1(), srv(0), 80)).toMatchObject({ state: 'open', reason: 'syn-ack' });
    });

    test('a closed TCP port (with a listener behind it) answers RST at once', () => {
      const v = tcpSyn(topo.lab, cl1(), srv(0), 8080);
      expect(v).toMatchObject({ state: 'closed', reason: 'reset' });
      expect(talk(topo.lab, cl1(), srv(0), 8080)).toBe('');
    });

    test('an allowed UDP port answers; a closed one answers ICMP port unreachable', () => {
      expect(udp(topo.lab, cl1(), srv(0), 53)).toMatchObject({ state: 'open', reason: 'udp-response' });
      expect(udp(topo.lab, cl1(), srv(0), 5353)).toMatchObject({ state: 'closed', reason: 'port-unreach' });
    });

    test('ping answers, over the link whose neighbour cache was just flushed', () => {
      expect(ping(topo.lab, cl1(), srv(0))).toBe(true);
      expect(ping(topo.lab, topo.cl[1], srv(1))).toBe(true);
    });

    test('a lone ACK on a new flow gets RST, not silence and not a pass', () => {
      expect(tcpAck(topo.lab, cl1(), srv(0), 8080)).toMatchObject({ state: 'unfiltered', reason: 'reset' });
      expect(tcpAck(topo.lab, cl1(), srv(0), 22)).toMatchObject({ state: 'unfiltered', reason: 'reset' });
    });

    test('another protocol (GRE) gets protocol unreachable (IPv6: administratively prohibited)', () => {
      expect(otherProtocol(topo.lab, cl1(), srv(0), 47)).toBe(fam === 'v4' ? 'icmp 3 2' : 'icmp 1 1');
    });

    test('allowFrom admits only its source', () => {
      expect(tcpSyn(topo.lab, cl1(), srv(0), 3306)).toMatchObject({ state: 'open' });
      expect(talk(topo.lab, cl1(), srv(0), 3306, 'select 1\n')).toBe('select 1\n');
      expect(tcpSyn(topo.lab, topo.cl[1], srv(1), 3306)).toMatchObject({ state: 'closed', reason: 'reset' });
    });

    test('block silences its peer entirely, open ports included', () => {
      expect(tcpSyn(topo.lab, topo.cl[2], srv(2), 22)).toMatchObject({ state: 'filtered', reason: 'no-response' });
      expect(tcpSyn(topo.lab, topo.cl[2], srv(2), 8080)).toMatchObject({ state: 'filtered', reason: 'no-response' });
      expect(ping(topo.lab, topo.cl[2], srv(2))).toBe(false);
      expect(udp(topo.lab, topo.cl[2], srv(2), 5353)).toMatchObject({ state: 'open|filtered', reason: 'no-response' });
    });

    test('loopback works, even to ports closed to the outside', () => {
      const lo = fam === 'v4' ? '127.0.0.1' : '::1';
      expect(talk(topo.lab, topo.srv, lo, 8080, 'local\n')).toBe('local\n');
    });
  });

  test('IPv6 link-local traffic works through the rules', () => {
    const ll = topo.lab.exec(topo.srv, 'ip', ['-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link']).stdout.match(/inet6 (fe80::[0-9a-f:]+)/)![1];
    expect(ping(topo.lab, topo.cl[0], `${ll}%eth0`)).toBe(true);
  });
});

describe('options: DROP for closed ports, no ping, a trusted interface, allowOn', () => {
  const topo = new Topology();
  beforeAll(async () => {
    await topo.up();
    topo.load(host({ allow: [Port.SSH], closedPortResponse: ClosedPortResponse.DROP, ping: false, trustedInterfaces: ['eth2'] }, (x) => {
      x.allowOn('eth1', Port.tcp(5432));
    }));
  });
  afterAll(() => topo.lab.destroy());

  describe.each(FAMILIES)('%s', (fam) => {
    test('closed ports are silent; open ones still answer', () => {
      expect(tcpSyn(topo.lab, topo.cl[0], SRV[fam][0], 8080)).toMatchObject({ state: 'filtered', reason: 'no-response' });
      expect(udp(topo.lab, topo.cl[0], SRV[fam][0], 5353)).toMatchObject({ state: 'open|filtered', reason: 'no-response' });
      expect(tcpSyn(topo.lab, topo.cl[0], SRV[fam][0], 22)).toMatchObject({ state: 'open' });
    });

    test('ping is not answered', () => {
      expect(ping(topo.lab, topo.cl[0], SRV[fam][0])).toBe(false);
    });

    test('allowOn opens the port on that interface only', () => {
      expect(tcpSyn(topo.lab, topo.cl[1], SRV[fam][1], 5432)).toMatchObject({ state: 'open' });
      expect(tcpSyn(topo.lab, topo.cl[0], SRV[fam][0], 5432)).toMatchObject({ state: 'filtered' });
    });

    test('a trusted interface is accepted unfiltered', () => {
      expect(talk(topo.lab, topo.cl[2], SRV[fam][2], 8080, 'trusted\n')).toBe('trusted\n');
      expect(ping(topo.lab, topo.cl[2], SRV[fam][2])).toBe(true);
    });
  });
});

describe('outbound DROP: only the allowed ports leave, replies and refusals still flow', () => {
  const topo = new Topology();
  beforeAll(async () => {
    await topo.up();
    await startEchoServer(topo.lab, topo.cl[0], [80, 8080]);
    topo.load(host({ allow: [Port.SSH], outbound: { policy: OutboundPolicy.DROP, allow: [Port.HTTP] } }));
  });
  afterAll(() => topo.lab.destroy());

  describe.each(FAMILIES)('%s', (fam) => {
    test('the host reaches an allowed port and is stopped at another', () => {
      expect(talk(topo.lab, topo.srv, CL[fam][0], 80, 'out\n')).toBe('out\n');
      expect(talk(topo.lab, topo.srv, CL[fam][0], 8080, 'out\n')).toBe('');
    });

    test('the host can still ping out (neighbour discovery leaves too)', () => {
      expect(ping(topo.lab, topo.srv, CL[fam][0])).toBe(true);
    });

    test('inbound service replies and polite refusals leave through OUTPUT', () => {
      expect(talk(topo.lab, topo.cl[0], SRV[fam][0], 22, 'in\n')).toBe('in\n');
      expect(tcpSyn(topo.lab, topo.cl[0], SRV[fam][0], 8080)).toMatchObject({ state: 'closed', reason: 'reset' });
      expect(udp(topo.lab, topo.cl[0], SRV[fam][0], 5353)).toMatchObject({ state: 'closed', reason: 'port-unreach' });
    });
  });
});
