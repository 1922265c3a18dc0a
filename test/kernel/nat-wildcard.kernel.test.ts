/**
 * The NAT wildcard case, in a real kernel.
 *
 * The danger: a NatGateway whose LAN interface is a pattern matching the WAN
 * (`lans: [{ iface: 'eth+' }]` with `wan: 'eth0'`) forwarded whatever arrived
 * on the WAN as if it came from the LAN: the Internet into the LAN, IPv6
 * first (no NAT stands in the way there). First: that configuration no longer
 * synthesizes. Then a gateway with correctly named interfaces (WAN eth0, LANs
 * eth1 and eth2) is loaded into a gateway namespace between a WAN namespace
 * and two LAN namespaces, and real packets show what it forwards:
 *
 *   wan  (203.0.113.2, 2001:db8:ff::2) ──eth0─┐
 *   lan1 (198.51.100.2, 2001:db8:1::2) ──eth1─┤ gw (the NAT gateway)
 *   lan2 (198.51.100.130, 2001:db8:2::2) ─eth2─┘
 *
 * lan1 declares its IPv6 subnet, lan2 does not (its IPv6 is forwarded to the
 * WAN whatever its source: the case where only the interface keeps the WAN
 * out). The WAN namespace routes both LANs via the gateway, as an attacker on
 * the WAN link would. Every LAN namespace counts, in its raw PREROUTING, the
 * packets that arrive from the WAN host and from the other LAN: "nothing
 * arrived" is read from the LAN's own kernel, not inferred from a timeout.
 */
import { App, TerraformStack, Testing } from 'cdktf';
import { Lab } from './lab';
import { ping, startEchoServer, talk, tcpSyn, udp } from './probes';
import { normalizeRules, packets, savedRules } from './rules-io';
import { requireNetns } from './topology';
import { IpFamily, NatGateway, Port, StatefulHost } from '../../lib';

requireNetns();

const WAN = { v4: '203.0.113.2', v6: '2001:db8:ff::2' };
const GW_WAN = { v4: '203.0.113.1', v6: '2001:db8:ff::1' };
const LAN = [
  { v4: '198.51.100.2', v6: '2001:db8:1::2', gw4: '198.51.100.1', gw6: '2001:db8:1::1' },
  { v4: '198.51.100.130', v6: '2001:db8:2::2', gw4: '198.51.100.129', gw6: '2001:db8:2::1' },
];
const FAMS = [['v4', IpFamily.V4], ['v6', IpFamily.V6]] as const;
/** nmap's reason for the gateway's refusal: icmp-host-unreachable (IPv4), icmp6-adm-prohibited (IPv6). */
const REFUSED = { v4: 'host-unreach', v6: 'admin-prohibited' };

const timings: string[] = [];
function timed<T>(what: string, f: () => T): T {
  const t0 = Date.now();
  const r = f();
  timings.push(`${what}: ${Date.now() - t0} ms`);
  return r;
}

describe('a LAN interface pattern that can name the WAN is refused at synth', () => {
  const gateway = (wan: string, lans: Array<{ iface: string; cidr: string }>) => () => {
    const stack = new TerraformStack(new App(), 'nw');
    new NatGateway(new StatefulHost(stack, 'gw', {}), 'nat', { wan, lans });
    Testing.synth(stack, true);
  };

  test("lans: [{ iface: 'eth+' }] with wan: 'eth0' (the old danger)", () => {
    expect(gateway('eth0', [{ iface: 'eth+', cidr: '192.168.0.0/24' }]))
      .toThrow(/\[nw\/gw\/nat\].*lans\[0\]\.iface "eth\+" and wan "eth0" can name the same interface.*forwarded as if they came from the LAN/s);
  });

  test('the mirror image (a WAN pattern that matches a LAN) and LAN patterns that overlap are refused too', () => {
    expect(gateway('eth+', [{ iface: 'eth1', cidr: '192.168.0.0/24' }])).toThrow(/lans\[0\]\.iface "eth1" and wan "eth\+" can name the same interface/);
    expect(gateway('ppp0', [{ iface: 'eth1', cidr: '192.168.0.0/24' }, { iface: 'eth+', cidr: '192.168.1.0/24' }]))
      .toThrow(/lans\[0\]\.iface "eth1" and lans\[1\]\.iface "eth\+" can name the same interface/);
  });

  test('patterns that cannot meet are fine', () => {
    expect(gateway('wan0', [{ iface: 'lan+', cidr: '192.168.0.0/24' }])).not.toThrow();
  });
});

describe('NatGateway with wan eth0 and LANs eth1, eth2: WAN, gateway and two LAN namespaces', () => {
  const lab = new Lab('cfwnw');
  let wan = '';
  let gw = '';
  const lans: string[] = [];
  let gateway: StatefulHost;

  /** Packets from `src` that reached the LAN namespace `ns` (its raw PREROUTING counting rule). */
  const arrived = (ns: string, fam: 'v4' | 'v6', src: string) => packets(lab, ns, fam, `-s ${src}/${fam === 'v4' ? 32 : 128}`);

  beforeAll(async () => {
    wan = lab.netns('wan');
    gw = lab.netns('gw');
    lab.link(gw, 'eth0', [`${GW_WAN.v4}/24`, `${GW_WAN.v6}/64`], wan, 'eth0', [`${WAN.v4}/24`, `${WAN.v6}/64`]);
    LAN.forEach((l, i) => {
      const ns = lab.netns(`lan${i + 1}`);
      lans.push(ns);
      lab.link(gw, `eth${i + 1}`, [`${l.gw4}/25`, `${l.gw6}/64`], ns, 'eth0', [`${l.v4}/25`, `${l.v6}/64`]);
      lab.exec(ns, 'ip', ['route', 'add', 'default', 'via', l.gw4]);
      lab.exec(ns, 'ip', ['-6', 'route', 'add', 'default', 'via', l.gw6]);
    });
    // the WAN host routes the LANs via the gateway, as anyone on the WAN link can
    lab.exec(wan, 'ip', ['route', 'add', '198.51.100.0/24', 'via', GW_WAN.v4]);
    for (const net of ['2001:db8:1::/64', '2001:db8:2::/64']) lab.exec(wan, 'ip', ['-6', 'route', 'add', net, 'via', GW_WAN.v6]);
    // counting rules (no target) in each LAN: what arrived from the WAN host and from the other LAN
    LAN.forEach((_, i) => {
      const other = LAN[1 - i];
      for (const [cmd, srcs] of [['iptables', [WAN.v4, other.v4]], ['ip6tables', [WAN.v6, other.v6]]] as const) {
        for (const src of srcs) lab.exec(lans[i], cmd, ['-t', 'raw', '-A', 'PREROUTING', '-s', src]);
      }
    });

    gateway = new StatefulHost(new TerraformStack(new App(), 'nw'), 'gw', { allow: [Port.SSH] });
    new NatGateway(gateway, 'nat', {
      wan: 'eth0',
      lans: [
        { iface: 'eth1', cidr: '198.51.100.0/25', ipv6Cidr: '2001:db8:1::/64' },
        // no IPv6 subnet: this LAN's IPv6 is forwarded whatever its source; only the interface keeps the WAN out
        { iface: 'eth2', cidr: '198.51.100.128/25' },
      ],
    });
    expect(gateway.requirements).toEqual(['ipv4-forwarding', 'ipv6-forwarding']);
    // the gateway's ICMP errors are what tells a refusal from a loss: the kernel's rate limit on them
    // (a burst of 6 per destination, then one a second) is not under test and would drop some
    lab.exec(gw, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.default.rp_filter=0', 'net.ipv4.icmp_ratelimit=0', 'net.ipv6.icmp.ratelimit=0']);
    lab.loadRules(gw, 'v4', gateway.renderRules(IpFamily.V4));
    lab.loadRules(gw, 'v6', gateway.renderRules(IpFamily.V6));
    // services everywhere: a packet that got through would be answered
    await startEchoServer(lab, wan, [80], [53]);
    for (const ns of lans) await startEchoServer(lab, ns, [22, 80], [53]);
  });
  afterAll(() => {
    lab.destroy();
    // eslint-disable-next-line no-console
    if (timings.length) console.log(`nat wildcard kernel test, probe timings:\n  ${timings.join('\n  ')}`);
  });

  test('the kernel holds exactly the rendered rules, and each LAN is forwarded to eth0 only', () => {
    for (const [fam, family] of FAMS) expect(normalizeRules(savedRules(lab, gw, fam))).toEqual(normalizeRules(gateway.renderRules(family)));
    const v6 = gateway.renderRules(IpFamily.V6);
    expect(v6).toMatch(/^-A fw-interfaces -s 2001:db8:1::\/64 -i eth1 -o eth0 .*-j ACCEPT$/m);
    expect(v6).toMatch(/^-A fw-interfaces -i eth2 -o eth0 .*-j ACCEPT$/m);
    expect(v6).not.toMatch(/-i eth\+/);
  });

  test('IPv6: no NEW packet from the WAN reaches either LAN (TCP, UDP, ICMPv6 echo), each refused by the gateway', () => {
    for (const [i, l] of LAN.entries()) {
      const before = arrived(lans[i], 'v6', WAN.v6);
      expect(timed(`v6 WAN → lan${i + 1} tcp/22 SYN`, () => tcpSyn(lab, wan, l.v6, 22))).toMatchObject({ state: 'filtered', reason: REFUSED.v6 });
      expect(timed(`v6 WAN → lan${i + 1} tcp/80 connect`, () => talk(lab, wan, l.v6, 80))).toBe('');
      expect(timed(`v6 WAN → lan${i + 1} udp/53`, () => udp(lab, wan, l.v6, 53)).state).not.toBe('open');
      expect(timed(`v6 WAN → lan${i + 1} echo`, () => ping(lab, wan, l.v6))).toBe(false);
      expect(arrived(lans[i], 'v6', WAN.v6) - before).toBe(0);
    }
  });

  test('IPv6 from the WAN with a LAN\'s own source address (spoofed) reaches no LAN either', () => {
    const spoofed = '2001:db8:1::99';
    // deprecated at once: used only where asked for (-s, -I), never picked as the WAN host's source
    lab.exec(wan, 'ip', ['-6', 'addr', 'add', `${spoofed}/128`, 'dev', 'eth0', 'nodad', 'preferred_lft', '0']);
    for (const ns of lans) lab.exec(ns, 'ip6tables', ['-t', 'raw', '-A', 'PREROUTING', '-s', spoofed]);
    // the gateway's two lines against it: the reverse path filter (raw PREROUTING: the source is routed
    // out of eth1, the packet came in on eth0) and, behind it, the LAN's anti-spoofing rule in FORWARD
    const rpfilterDrop = () => packets(lab, gw, 'v6', '-A PREROUTING -j DROP');
    const antispoof = () => packets(lab, gw, 'v6', '-A FORWARD -s 2001:db8:1::/64 -i eth0', '-j DROP');
    const dropped = rpfilterDrop() + antispoof();
    for (const [i, l] of LAN.entries()) {
      const r = timed(`v6 WAN (from ${spoofed}) → lan${i + 1} tcp/80`, () => lab.probe(wan, 'nc', ['-z', '-w', '2', '-s', spoofed, l.v6, '80'], { timeoutMs: 10_000 }));
      expect(r.status).not.toBe(0);
      expect(timed(`v6 WAN (from ${spoofed}) → lan${i + 1} echo`, () => lab.probe(wan, 'ping', ['-6', '-n', '-c', '1', '-W', '1', '-I', spoofed, l.v6], { timeoutMs: 10_000 }).status)).not.toBe(0);
      expect(arrived(lans[i], 'v6', spoofed)).toBe(0);
    }
    // the gateway dropped them as spoofed, before any forwarding rule
    expect(rpfilterDrop() + antispoof()).toBeGreaterThanOrEqual(dropped + 4);
    lab.exec(wan, 'ip', ['-6', 'addr', 'del', `${spoofed}/128`, 'dev', 'eth0']);
  });

  test('IPv4: the WAN straight to LAN addresses is refused too (no port forward declared)', () => {
    for (const [i, l] of LAN.entries()) {
      const before = arrived(lans[i], 'v4', WAN.v4);
      expect(timed(`v4 WAN → lan${i + 1} tcp/22 SYN`, () => tcpSyn(lab, wan, l.v4, 22))).toMatchObject({ state: 'filtered', reason: REFUSED.v4 });
      expect(timed(`v4 WAN → lan${i + 1} udp/53`, () => udp(lab, wan, l.v4, 53)).state).not.toBe('open');
      expect(timed(`v4 WAN → lan${i + 1} echo`, () => ping(lab, wan, l.v4))).toBe(false);
      expect(arrived(lans[i], 'v4', WAN.v4) - before).toBe(0);
    }
  });

  test('LAN → WAN works and replies come back: IPv4 masqueraded to the gateway\'s WAN address, IPv6 routed as is', () => {
    for (const [i, l] of LAN.entries()) {
      const before = { v4: arrived(lans[i], 'v4', WAN.v4), v6: arrived(lans[i], 'v6', WAN.v6) };
      expect(timed(`v4 lan${i + 1} → WAN tcp/80`, () => talk(lab, lans[i], WAN.v4, 80, 'WHO\n'))).toBe(`${GW_WAN.v4}\n`);
      expect(timed(`v6 lan${i + 1} → WAN tcp/80`, () => talk(lab, lans[i], WAN.v6, 80, 'WHO\n'))).toBe(`${l.v6}\n`);
      for (const [fam] of FAMS) {
        expect(timed(`${fam} lan${i + 1} → WAN udp/53`, () => udp(lab, lans[i], WAN[fam], 53))).toMatchObject({ state: 'open', reason: 'udp-response' });
        expect(timed(`${fam} lan${i + 1} → WAN echo`, () => ping(lab, lans[i], WAN[fam]))).toBe(true);
      }
      // the replies did come in from the WAN host: the counters that stayed at 0 above do count
      expect(arrived(lans[i], 'v4', WAN.v4)).toBeGreaterThan(before.v4);
      expect(arrived(lans[i], 'v6', WAN.v6)).toBeGreaterThan(before.v6);
    }
  });

  test('LAN → the other LAN is refused, both ways, both families (each LAN goes to the WAN only)', () => {
    for (const [i, l] of LAN.entries()) {
      const j = 1 - i;
      const target = LAN[j];
      for (const [fam] of FAMS) {
        const before = arrived(lans[j], fam, l[fam]);
        expect(timed(`${fam} lan${i + 1} → lan${j + 1} tcp/22 SYN`, () => tcpSyn(lab, lans[i], target[fam], 22)))
          .toMatchObject({ state: 'filtered', reason: REFUSED[fam] });
        expect(timed(`${fam} lan${i + 1} → lan${j + 1} tcp/80 connect`, () => talk(lab, lans[i], target[fam], 80))).toBe('');
        expect(timed(`${fam} lan${i + 1} → lan${j + 1} udp/53`, () => udp(lab, lans[i], target[fam], 53)).state).not.toBe('open');
        expect(timed(`${fam} lan${i + 1} → lan${j + 1} echo`, () => ping(lab, lans[i], target[fam]))).toBe(false);
        expect(arrived(lans[j], fam, l[fam]) - before).toBe(0);
      }
    }
  });
});
