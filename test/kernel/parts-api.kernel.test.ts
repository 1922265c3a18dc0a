/**
 * Parts written on the public rule layer only (what a third-party package
 * can import), loaded into a real kernel and hit with packets: what the host's
 * own options cannot say becomes one rule in a named slot.
 */
import { App, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { Lab } from './lab';
import { startEchoServer, talk, tcpSyn } from './probes';
import { normalizeRules, savedRules } from './rules-io';
import { CL, FAMILIES, host, requireNetns, SRV, Topology } from './topology';
import {
  FirewallPart, IpFamily, Match, NatGateway, OutboundPolicy, PartHost, PartRules, Peer, Port, RuleSlot, SlottedRule, SshBruteforceGuard,
  StatefulHost, Target,
} from '../../lib';

requireNetns();

/** One slotted rule per family, from a function of the family's peer. */
class OneRulePart extends FirewallPart {
  public constructor(scope: Construct, id: string, private readonly make: (host: PartHost) => SlottedRule[], private readonly opens: PartRules['opens'] = []) {
    super(scope, id);
  }
  public firewallRules(h: PartHost): PartRules {
    return { rules: this.make(h), opens: this.opens };
  }
}

const peer = (fam: 'v4' | 'v6', addr: string) => (fam === 'v4' ? Peer.ipv4(`${addr}/32`) : Peer.ipv6(`${addr}/128`));

describe('allowOn + allowFrom in one rule: a port open to one subnet on one interface', () => {
  const topo = new Topology('cfwpa');
  beforeAll(async () => {
    await topo.up();
    const h = host({ allow: [Port.SSH] });
    const db = Port.tcp(5432);
    // cl1's subnets, on eth0 only
    const subnets = [Peer.ipv4('198.51.100.0/24'), Peer.ipv6('2001:db8:1::/64')];
    new OneRulePart(h, 'db-on-lan', () => subnets.map((s) => ({ slot: RuleSlot.TCP_OPEN, matches: [Match.source(s), Match.inInterface('eth0'), Match.port(db)], target: Target.ACCEPT })),
      subnets.map((s) => ({ port: db, peer: s, iface: 'eth0' })));
    topo.load(h);
  });
  afterAll(() => topo.lab.destroy());

  test.each(FAMILIES)('%s: cl1 on eth0 reaches 5432; cl2 on eth1 is refused; SSH stays open to both', (fam) => {
    const lab = topo.lab;
    expect(talk(lab, topo.cl[0], SRV[fam][0], 5432, 'db\n')).toBe('db\n');
    expect(tcpSyn(lab, topo.cl[1], SRV[fam][1], 5432)).toMatchObject({ state: 'closed', reason: 'reset' });
    expect(talk(lab, topo.cl[1], SRV[fam][1], 22, 'ssh\n')).toBe('ssh\n');
  });
});

describe('a third-party part trusting an interface', () => {
  const topo = new Topology('cfwpb');
  beforeAll(async () => {
    await topo.up();
    const h = host({ allow: [Port.HTTP] });
    new OneRulePart(h, 'trust-eth2', () => [{ slot: RuleSlot.INPUT_TRUSTED, matches: [Match.inInterface('eth2')], target: Target.ACCEPT }]);
    topo.load(h);
  });
  afterAll(() => topo.lab.destroy());

  test.each(FAMILIES)('%s: everything from eth2 is accepted, the other links only get HTTP', (fam) => {
    const lab = topo.lab;
    expect(talk(lab, topo.cl[2], SRV[fam][2], 3306, 'mysql\n')).toBe('mysql\n');
    expect(talk(lab, topo.cl[2], SRV[fam][2], 22, 'ssh\n')).toBe('ssh\n');
    expect(tcpSyn(lab, topo.cl[0], SRV[fam][0], 3306)).toMatchObject({ state: 'closed', reason: 'reset' });
    expect(talk(lab, topo.cl[0], SRV[fam][0], 80, 'web\n')).toBe('web\n');
  });
});

describe('outbound: this port to this peer only', () => {
  const topo = new Topology('cfwpc');
  beforeAll(async () => {
    await topo.up();
    for (const c of [topo.cl[0], topo.cl[1]]) await startEchoServer(topo.lab, c, [5432, 8080]);
    const h = host({ allow: [Port.SSH], outbound: { policy: OutboundPolicy.DROP } });
    // the database on cl2 only, in both families
    new OneRulePart(h, 'db-out', () => FAMILIES.map(([fam]) => ({ slot: RuleSlot.OUTPUT_OPEN, matches: [Match.destination(peer(fam, CL[fam][1])), Match.port(Port.tcp(5432))], target: Target.ACCEPT })));
    topo.load(h);
  });
  afterAll(() => topo.lab.destroy());

  test.each(FAMILIES)('%s: the host reaches cl2:5432, not cl2:8080 and not cl1:5432', (fam) => {
    const lab = topo.lab;
    expect(talk(lab, topo.srv, CL[fam][1], 5432, 'out\n')).toBe('out\n');
    expect(talk(lab, topo.srv, CL[fam][1], 8080, 'out\n')).toBe('');
    expect(talk(lab, topo.srv, CL[fam][0], 5432, 'out\n')).toBe('');
    // inbound SSH still answers (its replies are ESTABLISHED)
    expect(talk(lab, topo.cl[0], SRV[fam][0], 22, 'ssh\n')).toBe('ssh\n');
  });

  test('the rule file says it in one line per family', () => {
    const h = host({ outbound: { policy: OutboundPolicy.DROP } });
    new OneRulePart(h, 'db-out', () => [{ slot: RuleSlot.OUTPUT_OPEN, matches: [Match.destination(Peer.ipv4('192.0.2.9/32')), Match.port(Port.tcp(5432))], target: Target.ACCEPT }]);
    expect(h.renderRules(IpFamily.V4)).toContain('-A OUTPUT -d 192.0.2.9/32 -p tcp -m tcp --dport 5432 -m comment --comment "kernel/srv/db-out" -j ACCEPT');
    expect(h.renderRules(IpFamily.V6)).not.toContain('5432');
  });
});

describe('owner comments', () => {
  test('every rule names its construct; quotes, spaces and long paths survive the kernel byte for byte', () => {
    const topo = new Topology('cfwpd');
    try {
      const ns = topo.lab.netns('load');
      const stack = new TerraformStack(new App(), 'odd');
      const h = new StatefulHost(stack, `we"b 'host' ${'x'.repeat(300)}`, { allow: [Port.SSH] });
      new SshBruteforceGuard(h, 'guard\nwith a line break');
      for (const [fam, family] of FAMILIES) {
        const text = h.renderRules(family);
        expect(text.split('\n').filter((l) => l.startsWith('-A ')).every((l) => / -m comment --comment "[^\n]+" /.test(l))).toBe(true);
        topo.lab.loadRules(ns, fam, text);
        expect(normalizeRules(savedRules(topo.lab, ns, fam))).toEqual(normalizeRules(text));
      }
      expect(h.renderRules(IpFamily.V4)).toContain('?with a line break" -j ');
      // the kernel keeps 255 characters: the front of a long path is cut
      expect(h.renderRules(IpFamily.V4)).toMatch(/--comment "\.\.\.x+\/guard\?with a line break"/);
      const bare = new StatefulHost(stack, 'bare', { allow: [Port.SSH], ruleComments: false });
      expect(bare.renderRules(IpFamily.V4)).not.toContain('--comment');
    } finally {
      topo.lab.destroy();
    }
  });
});

describe('NatGateway: a forward limited to one source, and a LAN server exposed over IPv6 by a one-rule part', () => {
  const lab = new Lab('cfwpn');
  const ns = { lan: '', gw: '', sw: '', a: '', b: '' };
  beforeAll(async () => {
    for (const k of Object.keys(ns) as Array<keyof typeof ns>) ns[k] = lab.netns(k);
    lab.link(ns.lan, 'eth0', ['198.51.100.5/24', '2001:db8:1::5/64'], ns.gw, 'eth0', ['198.51.100.1/24', '2001:db8:1::1/64']);
    // the WAN: a switch with the gateway and two outside hosts, A and B
    lab.exec(ns.sw, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
    lab.exec(ns.sw, 'ip', ['link', 'set', 'br0', 'up']);
    lab.link(ns.gw, 'wan0', ['203.0.113.1/24', '2001:db8:2::1/64'], ns.sw, 'p0', []);
    lab.link(ns.a, 'eth0', ['203.0.113.2/24', '2001:db8:2::2/64'], ns.sw, 'pa', []);
    lab.link(ns.b, 'eth0', ['203.0.113.3/24', '2001:db8:2::3/64'], ns.sw, 'pb', []);
    for (const p of ['p0', 'pa', 'pb']) lab.exec(ns.sw, 'ip', ['link', 'set', p, 'master', 'br0']);
    lab.exec(ns.lan, 'ip', ['route', 'add', 'default', 'via', '198.51.100.1']);
    lab.exec(ns.lan, 'ip', ['-6', 'route', 'add', 'default', 'via', '2001:db8:1::1']);
    for (const o of [ns.a, ns.b]) lab.exec(o, 'ip', ['-6', 'route', 'add', '2001:db8:1::/64', 'via', '2001:db8:2::1']);
    const gateway = host({ allow: [Port.SSH] });
    new NatGateway(gateway, 'nat', {
      wan: 'wan0',
      lans: [{ iface: 'eth0', cidr: '198.51.100.0/24', ipv6Cidr: '2001:db8:1::/64' }],
      portForwards: [{ port: Port.tcp(8000), to: '198.51.100.5', toPort: 80, from: Peer.ipv4('203.0.113.2/32') }],
    });
    // the LAN server's web port, reachable over IPv6 from the WAN (no NAT in IPv6)
    new OneRulePart(gateway, 'web6', () => [{
      slot: RuleSlot.FORWARD_ACCEPT, matches: [Match.inInterface('wan0'), Match.destination(Peer.ipv6('2001:db8:1::5/128')), Match.port(Port.HTTP)], target: Target.ACCEPT,
    }]);
    for (const [key, value] of [['net.ipv4.ip_forward', '1'], ['net.ipv6.conf.all.forwarding', '1'], ['net.ipv4.conf.all.rp_filter', '0']]) {
      lab.exec(ns.gw, 'sysctl', ['-qw', `${key}=${value}`]);
    }
    lab.loadRules(ns.gw, 'v4', gateway.renderRules(IpFamily.V4));
    lab.loadRules(ns.gw, 'v6', gateway.renderRules(IpFamily.V6));
    await startEchoServer(lab, ns.lan, [80, 8080]);
  });
  afterAll(() => lab.destroy());

  test('the forward admits A only: B gets no forward (and the gateway refuses its port 8000)', () => {
    expect(talk(lab, ns.a, '203.0.113.1', 8000, 'from A\n')).toBe('from A\n');
    expect(talk(lab, ns.b, '203.0.113.1', 8000, 'from B\n')).toBe('');
    expect(tcpSyn(lab, ns.b, '203.0.113.1', 8000)).toMatchObject({ state: 'closed', reason: 'reset' });
  });

  test('IPv6: A and B reach the LAN server on port 80, not on 8080', () => {
    expect(talk(lab, ns.a, '2001:db8:1::5', 80, 'v6 A\n')).toBe('v6 A\n');
    expect(talk(lab, ns.b, '2001:db8:1::5', 80, 'v6 B\n')).toBe('v6 B\n');
    expect(talk(lab, ns.a, '2001:db8:1::5', 8080, 'no\n')).toBe('');
  });
});
