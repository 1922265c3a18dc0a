/* eslint-disable no-bitwise */ // address, mask and flag arithmetic, the seeded PRNG
/**
 * Differential test of the offline evaluator against the kernel.
 *
 * For every example and the kernel-test topologies, seeded random packets
 * (both families; TCP with SYN, ACK, bad flags; UDP; ICMP/ICMPv6 echo, neighbour
 * discovery with good and bad hop limits, other types; GRE; conntrack NEW,
 * ESTABLISHED, RELATED and INVALID; every interface; sources inside and just
 * outside every prefix the rules name; ports on and beside every boundary;
 * forwarded packets and DNAT) plus scripted sequences (SSH brute force, port
 * scan, SYN flood, ping flood) are injected as Ethernet frames from client
 * namespaces into a namespace holding the rendered rules. What the kernel did
 * with each packet (delivered, forwarded as what, answered with RST / which
 * ICMP error, or silence) and every rule and policy counter it moved
 * (`iptables-save -c`) are compared with `RulesetEvaluator.simulate` over
 * the same packets at the same times. Zero disagreements.
 *
 * CFW_DIFF_PACKETS (default 10000) sets the packets per ruleset, shared by
 * both families; CFW_DIFF_SEED the seed.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { Lab, canUseNetns } from './lab';
import { DeployedHostStack } from '../../examples/deployed-host/main';
import { HardenedWebStack } from '../../examples/hardened-web/main';
import { NatGatewayStack } from '../../examples/nat-gateway/main';
import { SingleHostStack } from '../../examples/single-host/main';
import {
  Action, Blocklist, BogonFilter, ConnState, DropLogger, GuardMode, IcmpEchoLimit, IpFamily, OutboundPolicy, Peer, Port, PortScanTrap,
  Protocol, RulesetEvaluator, SshBruteforceGuard, StatefulHost, SynFloodGuard, TimedPacketProps, ClosedPortResponse,
} from '../../lib';
import { EngineState, EngineVerdict } from '../../lib/analysis/engine';
import { EvaluatorOptions, RouteProps } from '../../lib/analysis/types';
import { parseIpsets, parseRuleset } from '../../lib/iptables/parse';
import { bitsOf, formatAddress, lastOf, parseAddress } from '../../lib/values/prefix';

const TOTAL = Number(process.env.CFW_DIFF_PACKETS ?? 10000);
const SEED = Number(process.env.CFW_DIFF_SEED ?? 20261122);
const DRIVER = path.join(__dirname, 'verdicts-driver.py');
/** Clock uncertainty: one jiffy at HZ=250 plus scheduling. */
const SLACK = 0.005;

// ---------------------------------------------------------------- topologies

interface Iface {
  readonly name: string;
  readonly v4: string;
  readonly v6: string;
  /** Prefixes routed out of this interface, with the on-link gateway. */
  readonly nets4: string[];
  readonly nets6: string[];
  readonly gw4: string;
  readonly gw6: string;
}
interface Topo {
  readonly name: string;
  readonly ifaces: Iface[];
  /** Interface of the default routes. */
  readonly defaultIface: string;
}

const HOST_TOPO: Topo = {
  name: 'host',
  ifaces: [
    { name: 'eth0', v4: '198.51.100.1', v6: '2001:db8:1::1', nets4: ['198.51.100.0/24'], nets6: ['2001:db8:1::/64'], gw4: '198.51.100.2', gw6: '2001:db8:1::2' },
    { name: 'eth1', v4: '203.0.113.1', v6: '2001:db8:2::1', nets4: ['203.0.113.0/24'], nets6: ['2001:db8:2::/64'], gw4: '203.0.113.2', gw6: '2001:db8:2::2' },
    { name: 'eth2', v4: '192.0.2.1', v6: '2001:db8:3::1', nets4: ['192.0.2.0/24'], nets6: ['2001:db8:3::/64'], gw4: '192.0.2.2', gw6: '2001:db8:3::2' },
  ],
  defaultIface: 'eth2',
};
const NAT_TOPO: Topo = {
  name: 'nat',
  ifaces: [
    { name: 'eth0', v4: '192.168.0.1', v6: '2001:db8:0:1::1', nets4: ['192.168.0.0/24'], nets6: ['2001:db8:0:1::/64'], gw4: '192.168.0.254', gw6: '2001:db8:0:1::fe' },
    { name: 'eth1', v4: '10.3.0.1', v6: '2001:db8:0:2::1', nets4: ['10.3.0.0/16'], nets6: ['2001:db8:0:2::/64'], gw4: '10.3.255.254', gw6: '2001:db8:0:2::fe' },
    { name: 'ppp0', v4: '203.0.113.1', v6: '2001:db8:ff::1', nets4: [], nets6: [], gw4: '203.0.113.254', gw6: '2001:db8:ff::fe' },
  ],
  defaultIface: 'ppp0',
};

const LINK_LOCAL_SOURCES = ['fe80::1:1', 'fe80::1:2'];

function routesOf(t: Topo, fam: IpFamily): RouteProps[] {
  const out: RouteProps[] = [];
  for (const i of t.ifaces) for (const cidr of fam === IpFamily.V4 ? i.nets4 : i.nets6) out.push({ cidr, iface: i.name });
  out.push({ cidr: fam === IpFamily.V4 ? '0.0.0.0/0' : '::/0', iface: t.defaultIface });
  return out;
}

function evaluatorOptions(t: Topo, fam: IpFamily): EvaluatorOptions {
  return {
    localAddresses: t.ifaces.map((i) => (fam === IpFamily.V4 ? i.v4 : i.v6)),
    routes: routesOf(t, fam),
    interfaceAddresses: t.ifaces.map((i) => ({ iface: i.name, address: fam === IpFamily.V4 ? i.v4 : i.v6 })),
  };
}

/** The firewalled namespace and one client namespace per interface; clients never send on their own. */
class DiffLab {
  public readonly lab = new Lab('cfwvd');
  public srv = '';
  public clients: Array<{ ns: string; ifname: string; mac: string; srvmac: string }> = [];

  public constructor(public readonly topo: Topo) {}

  public up(): void {
    const lab = this.lab;
    this.srv = lab.netns('srv');
    const sysctl = (ns: string, kv: string[]) => lab.exec(ns, 'sysctl', ['-q', '-w', ...kv]);
    sysctl(this.srv, [
      'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.router_solicitations=0',
      'net.ipv6.conf.default.accept_ra=0', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.default.rp_filter=0', 'net.ipv4.icmp_ratelimit=0', 'net.ipv6.icmp.ratelimit=0', 'net.ipv4.icmp_msgs_per_sec=1000000',
      'net.ipv4.icmp_msgs_burst=1000000',
    ]);
    this.topo.ifaces.forEach((i, n) => {
      const c = lab.netns(`c${n}`);
      sysctl(c, ['net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.default.router_solicitations=0', 'net.ipv6.conf.default.accept_ra=0']);
      // the client stack stays silent (MLD, RS, answers); frames are injected below netfilter
      lab.exec(c, 'iptables', ['-P', 'OUTPUT', 'DROP']);
      lab.exec(c, 'ip6tables', ['-P', 'OUTPUT', 'DROP']);
      lab.link(this.srv, i.name, [], c, 'eth0', []);
      lab.exec(this.srv, 'ip', ['addr', 'add', `${i.v4}/32`, 'dev', i.name]);
      lab.exec(this.srv, 'ip', ['addr', 'add', `${i.v6}/128`, 'dev', i.name, 'nodad']);
      sysctl(this.srv, [`net.ipv4.conf.${i.name}.rp_filter=0`]);
      const mac = (ns: string, dev: string) => JSON.parse(lab.exec(ns, 'ip', ['-j', 'link', 'show', dev]).stdout)[0].address as string;
      const cmac = mac(c, 'eth0');
      const smac = mac(this.srv, i.name);
      for (const gw of [i.gw4, i.gw6, ...LINK_LOCAL_SOURCES]) {
        lab.exec(this.srv, 'ip', ['neigh', 'replace', gw, 'lladdr', cmac, 'nud', 'permanent', 'dev', i.name]);
      }
      for (const cidr of i.nets4) lab.exec(this.srv, 'ip', ['route', 'add', cidr, 'via', i.gw4, 'dev', i.name, 'onlink']);
      for (const cidr of i.nets6) lab.exec(this.srv, 'ip', ['-6', 'route', 'add', cidr, 'via', i.gw6, 'dev', i.name, 'onlink']);
      if (i.name === this.topo.defaultIface) {
        lab.exec(this.srv, 'ip', ['route', 'add', 'default', 'via', i.gw4, 'dev', i.name, 'onlink']);
        lab.exec(this.srv, 'ip', ['-6', 'route', 'add', 'default', 'via', i.gw6, 'dev', i.name, 'onlink']);
      }
      this.clients.push({ ns: c, ifname: 'eth0', mac: cmac, srvmac: smac });
    });
  }

  /** Assigns test source addresses inside the client namespace the firewall routes them to. */
  public own(fam: IpFamily, addrs: string[]): void {
    const routes = routesOf(this.topo, fam);
    const bits = bitsOf(fam);
    for (const a of addrs) {
      if (a.startsWith('fe80:')) continue;
      const n = parseAddress(fam, a);
      let best: RouteProps | undefined; let bestLen = -1;
      for (const r of routes) {
        const [base, len] = r.cidr.split('/');
        const l = Number(len);
        const mask = l === 0 ? 0n : ((1n << BigInt(l)) - 1n) << BigInt(bits - l);
        if ((n & mask) === parseAddress(fam, base) && l > bestLen) { best = r; bestLen = l; }
      }
      const idx = this.topo.ifaces.findIndex((i) => i.name === best!.iface);
      this.lab.exec(this.clients[idx].ns, 'ip', ['addr', 'add', `${a}/${bits}`, 'dev', 'eth0', ...(fam === IpFamily.V6 ? ['nodad'] : [])], { check: false });
    }
  }
}

// ---------------------------------------------------------------- rulesets

interface Subject {
  readonly name: string;
  readonly topo: Topo;
  readonly host?: StatefulHost;
  /** Hand-written rule text per family, instead of a host's. */
  readonly text?: Record<IpFamily, string>;
  /** ipset sets the rules match (`ipset restore` text), loaded first. */
  readonly ipsets?: string;
}

const HAND_WRITTEN_SETS = `create cfwvd-bl4 hash:net family inet hashsize 1024 maxelem 65536
add cfwvd-bl4 198.51.100.200
add cfwvd-bl4 15.15.15.0/28
create cfwvd-bl6 hash:net family inet6 hashsize 1024 maxelem 65536
add cfwvd-bl6 2001:db8:2::7
add cfwvd-bl6 2001:db8:15::/64
`;

/**
 * Every other form the evaluator reads, written by hand: iprange, ttl/hl, state, multiport,
 * comment, `!`, NFLOG, LOG, goto, the deploy pass (`--rcheck ... --name cfwdeploy`), recent
 * with a /24 and a /64 mask, hashlimit with --hashlimit-srcmask, --syn, DNAT to a local
 * port, SNAT and MASQUERADE of forwarded traffic, rpfilter --loose, other REJECT types.
 */
const HAND_WRITTEN: Record<IpFamily, string> = {
  [IpFamily.V4]: `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -m iprange --src-range 203.0.113.100-203.0.113.120 -j DROP
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -m ttl --ttl-lt 10 -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth0 -p tcp -m tcp --dport 8022 -j DNAT --to-destination 198.51.100.1:22
-A POSTROUTING -o eth1 -j SNAT --to-source 203.0.113.1
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:GUARD - [0:0]
:SVC - [0:0]
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -m set --match-set cfwvd-bl4 src -j DROP
-A INPUT -p tcp -m tcp --dport 1 -m recent --set --name cfwdeploy --mask 255.255.255.255 --rsource -j DROP
-A INPUT -p tcp -m tcp --syn -g SVC
-A INPUT -p udp -m multiport --dports 53,5000:5010 -m comment --comment "dns and app" -j ACCEPT
-A INPUT ! -s 198.51.100.0/24 -p icmp -m icmp --icmp-type 8 -j NFLOG --nflog-group 5
-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A INPUT -p tcp -j REJECT --reject-with tcp-reset
-A INPUT -j REJECT --reject-with icmp-host-prohibited
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i eth0 -o eth1 -p tcp -m multiport --dports 80,443,1024:2048 -j ACCEPT
-A FORWARD -i eth0 -o eth1 -p icmp -j ACCEPT
-A FORWARD -j REJECT --reject-with icmp-net-prohibited
-A GUARD -m recent --rcheck --seconds 60 --name cfwdeploy --mask 255.255.255.255 --rsource -j ACCEPT
-A GUARD -m hashlimit --hashlimit-above 2/min --hashlimit-burst 3 --hashlimit-mode srcip --hashlimit-name g4 --hashlimit-srcmask 24 -j DROP
-A GUARD -m recent --update --seconds 30 --hitcount 4 --name gr --mask 255.255.255.0 --rsource -j DROP
-A GUARD -m recent --set --name gr --mask 255.255.255.0 --rsource -j LOG --log-prefix "guard: "
-A GUARD -j ACCEPT
-A SVC -p tcp -m multiport --dports 22,2222 -j GUARD
-A SVC -p tcp -m tcp ! --dport 1:1000 -j ACCEPT
COMMIT
`,
  [IpFamily.V6]: `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -m rpfilter --loose -j ACCEPT
-A PREROUTING -j DROP
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m hl ! --hl-eq 255 -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth0 -p tcp -m tcp --dport 8022 -j DNAT --to-destination [2001:db8:1::1]:22
-A POSTROUTING -o eth1 -j MASQUERADE
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:GUARD - [0:0]
:SVC - [0:0]
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -m set --match-set cfwvd-bl6 src -j DROP
-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT
-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 136 -m hl --hl-gt 254 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 1 -m recent --set --name cfwdeploy6 --mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff --rsource -j DROP
-A INPUT -p tcp -m tcp --syn -g SVC
-A INPUT -p udp -m multiport --dports 53,5000:5010 -j ACCEPT
-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT
-A INPUT -p tcp -j REJECT --reject-with tcp-reset
-A INPUT -p udp -j REJECT --reject-with icmp6-addr-unreachable
-A INPUT -j REJECT --reject-with icmp6-adm-prohibited
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i eth0 -o eth1 -p tcp -m multiport --dports 80,443,1024:2048 -j ACCEPT
-A FORWARD -i eth0 -o eth1 -p ipv6-icmp -j ACCEPT
-A FORWARD -j REJECT --reject-with icmp6-no-route
-A GUARD -m recent --rcheck --seconds 60 --name cfwdeploy6 --mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff --rsource -j ACCEPT
-A GUARD -m hashlimit --hashlimit-above 2/min --hashlimit-burst 3 --hashlimit-mode srcip --hashlimit-name g6 --hashlimit-srcmask 64 -j DROP
-A GUARD -m recent --update --seconds 30 --hitcount 4 --name gr6 --mask ffff:ffff:ffff:ffff:: --rsource -j DROP
-A GUARD -m recent --set --name gr6 --mask ffff:ffff:ffff:ffff:: --rsource -j LOG --log-prefix "guard: "
-A GUARD -j ACCEPT
-A SVC -p tcp -m multiport --dports 22,2222 -j GUARD
-A SVC -p tcp -m tcp ! --dport 1:1000 -j ACCEPT
COMMIT
`,
};

function kernelHost(build: (h: StatefulHost) => void, props: object = {}): StatefulHost {
  const h = new StatefulHost(new TerraformStack(new App(), 'kernel'), 'srv', props);
  build(h);
  return h;
}

const SUBJECTS: Subject[] = [
  { name: 'hand-written rules: every other form the evaluator reads', topo: HOST_TOPO, text: HAND_WRITTEN, ipsets: HAND_WRITTEN_SETS },
  { name: 'examples/single-host', topo: HOST_TOPO, host: new SingleHostStack(new App(), 'single-host').host },
  { name: 'examples/hardened-web', topo: HOST_TOPO, host: new HardenedWebStack(new App(), 'hardened-web').host },
  { name: 'examples/nat-gateway', topo: NAT_TOPO, host: new NatGatewayStack(new App(), 'nat-gateway').host },
  { name: 'examples/deployed-host', topo: HOST_TOPO, host: new DeployedHostStack(new App(), 'deployed-host').host },
  {
    name: 'kernel topology: trap (3 s, cl3 exempt) + brute-force guards (recent and hashlimit) + blocklist (ipset)',
    topo: HOST_TOPO,
    host: kernelHost((h) => {
      new PortScanTrap(h, 'trap', { seconds: 3, exempt: [Peer.ipv4('192.0.2.0/24'), Peer.ipv6('2001:db8:3::/64')] });
      new Blocklist(h, 'feed', { peers: [Peer.ipv4('15.15.15.0/28'), Peer.ipv4('198.51.100.200'), Peer.ipv6('2001:db8:15::/64')] });
      new SshBruteforceGuard(h, 'ssh-guard');
      new SshBruteforceGuard(h, 'db-guard', { port: Port.tcp(5432), mode: GuardMode.HASHLIMIT, perMinute: 1, burst: 2 });
    }, { allow: [Port.HTTP, Port.udp(53)] }),
  },
  {
    name: 'kernel topology: DROP closed ports, trusted eth2, outbound DROP, peers, blocks, bogons on eth1, global SYN limit, log, ping limit',
    topo: HOST_TOPO,
    host: kernelHost((h) => {
      h.allowFrom(Peer.ipv4('198.51.100.0/25'), Port.tcp(3306));
      h.allowFrom(Peer.ipv6('2001:db8:1::/112'), Port.tcp(3306));
      h.allowOn('eth1', Port.udpRange(5000, 5010));
      h.block(Peer.ipv4('198.51.100.77'));
      h.block(Peer.ipv6('2001:db8:1::77'));
      new BogonFilter(h, 'bogons', { iface: 'eth1' });
      new SynFloodGuard(h, 'syn', { perSecond: 50, burst: 20, perSource: false });
      new DropLogger(h, 'log', { prefix: 'cfwvd: ', perMinute: 30, burst: 3 });
      new IcmpEchoLimit(h, 'ping', { perSecond: 5, burst: 4 });
    }, {
      allow: [Port.SSH, Port.HTTPS],
      closedPortResponse: ClosedPortResponse.DROP,
      trustedInterfaces: ['eth2'],
      outbound: { policy: OutboundPolicy.DROP, allow: [Port.tcp(443)] },
    }),
  },
];

// ---------------------------------------------------------------- packets

/** mulberry32: a small seeded PRNG, so every run sends the same packets. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Wire {
  id: number;
  client: number;
  family: 4 | 6;
  src: string;
  dst: string;
  proto: number;
  sport?: number;
  dport?: number;
  flags?: number;
  seq?: number;
  ack?: number;
  icmpType?: number;
  icmpCode?: number;
  icmpId?: number;
  ttl?: number;
  inner?: Wire;
}
interface Case {
  readonly wire: Wire;
  readonly packet: Omit<TimedPacketProps, 'at'>;
  /** conntrack -I arguments that must exist before the packet. */
  readonly conntrack?: string[];
  /** True when the kernel never answers it (ICMP errors, RST). */
  readonly unanswerable: boolean;
  readonly kind: string;
}

const MARTIAN_V4 = ['0.0.0.0/8', '127.0.0.0/8', '224.0.0.0/3'];
const MARTIAN_V6 = ['::/128', '::1/128', 'ff00::/8', '::ffff:0.0.0.0/96'];
const EXTRA_SOURCES = {
  [IpFamily.V4]: ['198.51.100.7', '198.51.100.77', '198.51.100.200', '203.0.113.7', '203.0.113.77', '192.0.2.7', '192.0.2.77', '15.15.15.7', '15.15.15.51', '192.168.0.77', '10.3.4.5', '172.16.5.5', '100.64.1.1'],
  [IpFamily.V6]: ['2001:db8:1::7', '2001:db8:1::77', '2001:db8:2::7', '2001:db8:3::7', '2001:db8:100::7', '2001:db8:15::7', '2001:db8:0:1::7', '2001:db8:0:2::7', '2001:db8:ff::7', '2a00:db8::7', 'fc00::7', ...LINK_LOCAL_SOURCES],
};

function inAny(fam: IpFamily, a: bigint, cidrs: string[]): boolean {
  const bits = bitsOf(fam);
  return cidrs.some((c) => {
    const [base, len] = c.split('/');
    const l = Number(len);
    const mask = l === 0 ? 0n : ((1n << BigInt(l)) - 1n) << BigInt(bits - l);
    return (a & mask) === (parseAddress(fam, base) & mask);
  });
}

/** Sources inside and just outside every prefix the rules name, and ports on and beside every boundary. */
function pools(fam: IpFamily, text: string, topo: Topo, ipsets?: string): { sources: string[]; ports: number[] } {
  const rs = parseRuleset(fam, text);
  const bits = bitsOf(fam);
  const top = (1n << BigInt(bits)) - 1n;
  const src = new Set<bigint>(EXTRA_SOURCES[fam].map((a) => parseAddress(fam, a)));
  const ports = new Set<number>([1, 21, 22, 23, 53, 80, 443, 1024, 3306, 5432, 8000, 8080, 65535]);
  for (const t of rs.tables.values()) {
    for (const c of t.chains.values()) {
      for (const r of c.rules) {
        if (r.src?.cidr && r.src.cidr.prefix >= 8) {
          const lo = r.src.cidr.base; const hi = lastOf(bits, r.src.cidr);
          for (const x of [lo, lo + 1n, hi, hi - 1n, lo - 1n, hi + 1n]) if (x >= 0n && x <= top) src.add(x);
        }
        for (const m of r.matches) {
          if (m.kind === 'dport') for (const [lo, hi] of m.port.ranges) for (const p of [lo - 1, lo, hi, hi + 1]) if (p >= 1 && p <= 65535) ports.add(p);
        }
      }
    }
  }
  for (const set of parseIpsets(fam, ipsets ?? '').values()) {
    for (const c of set.entries) {
      const lo = c.base; const hi = lastOf(bits, c);
      for (const x of [lo, hi, lo - 1n, hi + 1n]) if (x >= 0n && x <= top) src.add(x);
    }
  }
  const local = topo.ifaces.map((i) => parseAddress(fam, fam === IpFamily.V4 ? i.v4 : i.v6));
  const sources = [...src]
    .filter((a) => !inAny(fam, a, fam === IpFamily.V4 ? MARTIAN_V4 : MARTIAN_V6) && !local.includes(a))
    .filter((a) => fam === IpFamily.V4 || !inAny(fam, a, ['fe80::/10']) || LINK_LOCAL_SOURCES.includes(formatAddress(fam, a)))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((a) => formatAddress(fam, a));
  return { sources, ports: [...ports].sort((a, b) => a - b) };
}

function generate(
  fam: IpFamily, count: number, seed: number, text: string, topo: Topo, firstId: number, ipsets?: string,
): { cases: Case[]; sources: string[] } {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const { sources, ports } = pools(fam, text, topo, ipsets);
  const v4 = fam === IpFamily.V4;
  const famN: 4 | 6 = v4 ? 4 : 6;
  const addrOf = (i: Iface) => (v4 ? i.v4 : i.v6);
  const cases: Case[] = [];
  const usedOther = new Set<string>();
  let id = firstId;
  const icmpP = v4 ? 1 : 58;
  const base = (client: number, src: string, dst: string, proto: number): Wire => ({
    id: id++,
    client,
    family: famN,
    src,
    dst,
    proto,
    sport: 1024 + (id % 60000),
    ttl: 64,
  });
  const local = (client: number) => (rnd() < 0.8 ? addrOf(topo.ifaces[client]) : addrOf(pick(topo.ifaces)));
  const forwardDst = (client: number): string => {
    const others = topo.ifaces.filter((_, n) => n !== client);
    const o = pick(others);
    const nets = v4 ? o.nets4 : o.nets6;
    if (nets.length === 0) return v4 ? '198.51.100.50' : '2001:db8:50::50';
    const [b] = nets[0].split('/');
    return formatAddress(fam, parseAddress(fam, b) + 50n);
  };
  const packetOf = (w: Wire, state: ConnState, extra: Partial<TimedPacketProps> = {}): Omit<TimedPacketProps, 'at'> => ({
    family: fam,
    protocol: w.proto === 6 ? Protocol.TCP : w.proto === 17 ? Protocol.UDP : w.proto === 1 ? Protocol.ICMP
      : w.proto === 58 ? Protocol.ICMPV6 : Protocol.GRE,
    source: w.src,
    destination: w.dst,
    sourcePort: w.sport,
    destinationPort: w.proto === 6 || w.proto === 17 ? w.dport : undefined,
    inInterface: topo.ifaces[w.client].name,
    state,
    tcpFlags: w.proto === 6 ? flagText(w.flags ?? 0) : undefined,
    icmpType: w.icmpType,
    icmpCode: w.icmpCode,
    ttl: w.ttl,
    ...extra,
  });
  const ct = (fam6: boolean, args: string[]) => args.concat(fam6 ? [] : []);

  // scripted sequences first: brute force, port scan, SYN flood, ping flood
  const attacker = sources.find((s) => !inAny(fam, parseAddress(fam, s), v4 ? ['10.0.0.0/8', '192.168.0.0/16', '172.16.0.0/12', '100.64.0.0/10', '192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'] : ['2001:db8::/32', 'fc00::/7', 'fe80::/10'])) ?? sources[0];
  const client0 = 0;
  for (let k = 0; k < 6; k++) {
    const w = { ...base(client0, attacker, addrOf(topo.ifaces[client0]), 6), dport: 22, flags: 2, seq: 1000 + k };
    cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'brute-force' });
  }
  for (const p of [8081, 8082, 22, 80, 443, 53, 5432, 8000]) {
    const w = { ...base(client0, sources[1 % sources.length], addrOf(topo.ifaces[client0]), 6), dport: p, flags: 2, seq: 7 };
    cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'port-scan' });
  }
  for (let k = 0; k < 45; k++) {
    const w = { ...base(client0, sources[2 % sources.length], addrOf(topo.ifaces[client0]), 6), dport: pick([80, 443, 22]), flags: 2, seq: k };
    cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'syn-flood' });
  }
  for (let k = 0; k < 14; k++) {
    const w = {
      ...base(client0, sources[3 % sources.length], addrOf(topo.ifaces[client0]), icmpP),
      icmpType: v4 ? 8 : 128,
      icmpCode: 0,
      icmpId: 30000 + id,
    };
    cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'ping-flood' });
  }

  while (cases.length < count) {
    const client = Math.floor(rnd() * topo.ifaces.length);
    const src = pick(sources);
    const r = rnd();
    const dport = rnd() < 0.7 ? pick(ports) : 1 + Math.floor(rnd() * 65535);
    if (r < 0.36) {
      const w = { ...base(client, src, local(client), 6), dport, flags: 2, seq: Math.floor(rnd() * 2 ** 31) };
      cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'tcp-syn' });
    } else if (r < 0.41) {
      const w = {
        ...base(client, src, local(client), 6),
        dport,
        flags: pick([16, 24]),
        seq: Math.floor(rnd() * 2 ** 31),
        ack: Math.floor(rnd() * 2 ** 31),
      };
      cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'tcp-ack-new' });
    } else if (r < 0.45) {
      const flags = pick([0, 3, 1]);
      const w = { ...base(client, src, local(client), 6), dport, flags, seq: 5 };
      cases.push({ wire: w, packet: packetOf(w, ConnState.INVALID), unanswerable: false, kind: 'tcp-invalid' });
    } else if (r < 0.63) {
      const w = { ...base(client, src, local(client), 17), dport };
      cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'udp' });
    } else if (r < 0.71) {
      const w = { ...base(client, src, local(client), icmpP), icmpType: v4 ? 8 : 128, icmpCode: 0, icmpId: id % 65536 };
      cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'echo' });
    } else if (r < 0.74) {
      if (v4) {
        const w = { ...base(client, src, local(client), 1), icmpType: 13, icmpCode: 0, icmpId: id % 65536 };
        cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'icmp-timestamp' });
      } else {
        const w = { ...base(client, src, local(client), 58), icmpType: pick([135, 136]), icmpCode: 0, ttl: pick([255, 255, 64]) };
        cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'nd' });
      }
    } else if (r < 0.77) {
      const dst = local(client);
      const key = `${src}>${dst}`;
      if (usedOther.has(key)) continue;
      usedOther.add(key);
      const w = { ...base(client, src, dst, 47) };
      cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'gre' });
    } else if (r < 0.83) {
      // ESTABLISHED: a conntrack entry that has seen replies, then a packet of it
      const dst = local(client);
      const which = pick(['tcp', 'udp', 'icmp']);
      if (which === 'tcp') {
        const w = { ...base(client, src, dst, 6), dport, flags: pick([16, 24]), seq: 77, ack: 99 };
        cases.push({
          wire: w,
          packet: packetOf(w, ConnState.ESTABLISHED),
          unanswerable: false,
          kind: 'established',
          conntrack: ['-p', 'tcp', '-s', src, '-d', dst, '--sport', String(w.sport), '--dport', String(dport), '--state', 'ESTABLISHED', '-u', 'SEEN_REPLY,ASSURED', '--timeout', '600'],
        });
      } else if (which === 'udp') {
        const w = { ...base(client, src, dst, 17), dport };
        cases.push({
          wire: w,
          packet: packetOf(w, ConnState.ESTABLISHED),
          unanswerable: false,
          kind: 'established',
          conntrack: ['-p', 'udp', '-s', src, '-d', dst, '--sport', String(w.sport), '--dport', String(dport), '-u', 'SEEN_REPLY,ASSURED', '--timeout', '600'],
        });
      } else {
        const w = { ...base(client, src, dst, icmpP), icmpType: v4 ? 8 : 128, icmpCode: 0, icmpId: 40000 + (id % 20000) };
        cases.push({
          wire: w,
          packet: packetOf(w, ConnState.ESTABLISHED),
          unanswerable: false,
          kind: 'established',
          conntrack: v4
            ? ['-p', 'icmp', '-s', src, '-d', dst, '--icmp-type', '8', '--icmp-code', '0', '--icmp-id', String(w.icmpId), '-u', 'SEEN_REPLY', '--timeout', '600']
            : ['-p', 'icmpv6', '-s', src, '-d', dst, '--icmpv6-type', '128', '--icmpv6-code', '0', '--icmpv6-id', String(w.icmpId), '-u', 'SEEN_REPLY', '--timeout', '600'],
        });
      }
    } else if (r < 0.87) {
      // RELATED (an ICMP error about a tracked flow) or INVALID (about an unknown flow)
      const dst = local(client);
      const related = rnd() < 0.6;
      const innerSport = 2000 + (id % 50000);
      const inner: Wire = { id, client, family: famN, src: dst, dst: src, proto: 17, sport: innerSport, dport: 33434, ttl: 64 };
      const w = { ...base(client, src, dst, icmpP), icmpType: v4 ? 3 : 1, icmpCode: v4 ? 3 : 4, inner };
      cases.push({
        wire: w,
        packet: packetOf(w, related ? ConnState.RELATED : ConnState.INVALID),
        unanswerable: true,
        kind: related ? 'related' : 'icmp-error-invalid',
        conntrack: related ? ct(!v4, ['-p', 'udp', '-s', dst, '-d', src, '--sport', String(innerSport), '--dport', '33434', '--timeout', '600']) : undefined,
      });
    } else if (r < 0.89) {
      // a lone RST opens nothing: INVALID
      const w = { ...base(client, src, local(client), 6), dport, flags: 4, seq: 3 };
      cases.push({ wire: w, packet: packetOf(w, ConnState.INVALID), unanswerable: true, kind: 'tcp-rst' });
    } else {
      // forwarded: to an address routed out of another interface (the kernel never forwards
      // a link-local source: routing answers "beyond scope" before FORWARD, outside the rules)
      if (src.startsWith('fe80:')) continue;
      const dst = forwardDst(client);
      const proto = pick([6, 6, 17, icmpP]);
      const w: Wire = proto === 6 ? { ...base(client, src, dst, 6), dport, flags: 2, seq: 9 }
        : proto === 17 ? { ...base(client, src, dst, 17), dport } : {
          ...base(client, src, dst, icmpP),
          icmpType: v4 ? 8 : 128,
          icmpCode: 0,
          icmpId: id % 65536,
        };
      cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'forward' });
    }
  }
  // the tag the driver finds in each packet is its id; inner packets carry their outer id
  for (const c of cases) if (c.wire.inner) (c.wire.inner as any).tag = c.wire.id;
  return { cases, sources };
}

function flagText(f: number): string {
  const names = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG'];
  const set = names.filter((_, i) => f & (1 << i));
  return set.length ? set.join(',') : 'NONE';
}

// ---------------------------------------------------------------- observing

const REJECT_ANSWER: Record<string, string> = {
  'tcp-reset': 'rst',
  'icmp-net-unreachable': 'icmp:3:0',
  'icmp-host-unreachable': 'icmp:3:1',
  'icmp-proto-unreachable': 'icmp:3:2',
  'icmp-port-unreachable': 'icmp:3:3',
  'icmp-net-prohibited': 'icmp:3:9',
  'icmp-host-prohibited': 'icmp:3:10',
  'icmp-admin-prohibited': 'icmp:3:13',
  'icmp6-no-route': 'icmp:1:0',
  'icmp6-adm-prohibited': 'icmp:1:1',
  'icmp6-addr-unreachable': 'icmp:1:3',
  'icmp6-port-unreachable': 'icmp:1:4',
};

interface Observed {
  id: number;
  t: number;
  t1: number;
  arrived: boolean;
  resp: string[];
  out: Array<{ iface: string; src: string; dst: string; sport?: number; dport?: number }>;
}

function expected(v: EngineVerdict, c: Case): string {
  if (v.action === Action.ACCEPT) {
    if (!v.forwarded) return 'delivered';
    const dst = v.translatedDestination ?? c.wire.dst;
    const dport = v.translatedDestinationPort ?? c.wire.dport;
    const src = v.translatedSource ?? c.wire.src;
    return `forwarded ${v.outInterface} ${src} > ${dst}${c.wire.proto === 6 || c.wire.proto === 17 ? `:${dport}` : ''}`;
  }
  if (v.action === Action.REJECT) return c.unanswerable ? 'silent' : `answered ${REJECT_ANSWER[v.rejectWith!] ?? v.rejectWith}`;
  return 'silent';
}

function observed(o: Observed, c: Case): string {
  if (o.arrived) return 'delivered';
  if (o.out.length > 0) {
    const x = o.out[0];
    return `forwarded ${x.iface} ${x.src} > ${x.dst}${c.wire.proto === 6 || c.wire.proto === 17 ? `:${x.dport}` : ''}`;
  }
  if (o.resp.length > 0) return `answered ${o.resp[0]}`;
  return 'silent';
}

/** Rule and policy counters, keyed as the evaluator's hits are. */
function counters(lab: Lab, ns: string, fam: IpFamily): Map<string, number> {
  const out = new Map<string, number>();
  const text = lab.exec(ns, fam === IpFamily.V4 ? 'iptables-save' : 'ip6tables-save', ['-c']).stdout;
  let table = '';
  const idx = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) { table = line.slice(1); idx.clear(); continue; }
    let m = /^:(\S+) (\S+) \[(\d+):\d+\]/.exec(line);
    if (m && m[2] !== '-') { out.set(`${table} ${m[1]} #0`, Number(m[3])); continue; }
    m = /^\[(\d+):\d+\] -A (\S+) /.exec(line);
    if (m) {
      const n = (idx.get(m[2]) ?? 0) + 1;
      idx.set(m[2], n);
      out.set(`${table} ${m[2]} #${n}`, Number(m[1]));
    }
  }
  return out;
}

/**
 * Counters the host's own traffic also moves are left out: OUTPUT and
 * POSTROUTING. (A REJECT's TCP reset crosses nat POSTROUTING as a new flow:
 * the kernel masquerades a reset from the gateway's LAN address to the WAN.)
 * Forwarded packets' NAT is checked per packet instead, on the wire.
 */
function comparable(key: string): boolean {
  const [, chain] = key.split(' ');
  return chain !== 'OUTPUT' && chain !== 'POSTROUTING';
}

// ---------------------------------------------------------------- the test

const ready = canUseNetns();
const perSubject = Math.max(200, Math.floor(TOTAL));
const summary: string[] = [];

describe.each(SUBJECTS.map((s, i) => [s.name, s, i] as const))('%s', (_name, subject, index) => {
  const lab = new DiffLab(subject.topo);
  beforeAll(() => {
    if (!ready) throw new Error('the differential test needs root and network namespaces. Nothing was tested.');
    lab.up();
  });
  afterAll(() => lab.lab.destroy());

  test.each([[IpFamily.V4], [IpFamily.V6]])('%s: the kernel and the evaluator agree on every packet and every counter', (fam) => {
    const t0 = Date.now();
    const text = subject.text?.[fam] ?? subject.host!.renderRules(fam);
    const ipsets = subject.ipsets ?? subject.host?.ipsetRules();
    if (ipsets) lab.lab.exec(lab.srv, 'ipset', ['restore', '-exist'], { input: ipsets });
    lab.lab.loadRules(lab.srv, fam === IpFamily.V4 ? 'v4' : 'v6', text);
    lab.lab.exec(lab.srv, 'conntrack', ['-F'], { check: false });
    const count = Math.floor(perSubject / 2);
    const { cases, sources } = generate(fam, count, SEED + index * 7919 + (fam === IpFamily.V4 ? 0 : 1), text, subject.topo, 1, ipsets);
    lab.own(fam, sources);
    for (const c of cases) if (c.conntrack) lab.lab.exec(lab.srv, 'conntrack', ['-I', ...c.conntrack]);
    const before = counters(lab.lab, lab.srv, fam);
    const r = spawnSync('python3', [DRIVER], {
      input: JSON.stringify({ srv: lab.srv, clients: lab.clients, gap_us: 150, packets: cases.map((c) => c.wire) }),
      encoding: 'utf8',
      maxBuffer: 256 << 20,
      timeout: 120_000,
    });
    if (r.status !== 0) throw new Error(`driver failed: ${r.stderr}`);
    const after = counters(lab.lab, lab.srv, fam);
    const obs: Observed[] = JSON.parse(r.stdout).results;
    const verdicts: EngineVerdict[] = [];

    // The kernel keeps time in jiffies, the evaluator in seconds: a rate or window decision
    // within SLACK of its boundary may go either way. For those (only) the evaluator takes
    // the branch the kernel took, and the run reports how many there were.
    const evaluator = RulesetEvaluator.fromText(fam, text, { ...evaluatorOptions(subject.topo, fam), ipsets });
    const engine = evaluator._engine;
    const state = new EngineState();
    let ambiguous = 0;
    const disagreements: string[] = [];
    const expectedCounters = new Map<string, number>();
    cases.forEach((c, i) => {
      // the kernel saw the packet between t and t1: the middle, with half the span as extra slack
      const at = (obs[i].t + obs[i].t1) / 2;
      state.slack = SLACK + (obs[i].t1 - obs[i].t) / 2;
      const packet = { ...c.packet, at };
      state.begin();
      state.ambiguous = false;
      let v = engine.run(packet, at, state);
      const o = observed(obs[i], c);
      if (state.ambiguous && expected(v, c) !== o) {
        state.rollback();
        state.flip = true;
        const alt = engine.run(packet, at, state);
        state.flip = false;
        if (expected(alt, c) === o) {
          v = alt;
          ambiguous++;
        } else {
          state.rollback();
          v = engine.run(packet, at, state);
        }
      }
      for (const h of v.hits) {
        const k = `${h.table} ${h.chain} #${h.index}`;
        expectedCounters.set(k, (expectedCounters.get(k) ?? 0) + 1);
      }
      const e = expected(v, c);
      if (e !== o) {
        disagreements.push(`#${c.wire.id} ${c.kind} at ${at.toFixed(4)}s ${JSON.stringify(c.packet)}: kernel ${o}, evaluator ${e}\n    ${v.trace.join('\n    ')}`);
      }
      verdicts.push(v);
    });
    const counterDiffs: string[] = [];
    for (const k of new Set([...after.keys(), ...expectedCounters.keys()])) {
      if (!comparable(k)) continue;
      const kernel = (after.get(k) ?? 0) - (before.get(k) ?? 0);
      const ours = expectedCounters.get(k) ?? 0;
      if (kernel !== ours) counterDiffs.push(`${k}: kernel ${kernel}, evaluator ${ours}`);
    }
    const kinds = new Map<string, number>();
    for (const c of cases) kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
    const outcomes = new Map<string, number>();
    for (const v of verdicts) outcomes.set(v.action, (outcomes.get(v.action) ?? 0) + 1);
    summary.push(`${subject.name} ${fam}: ${cases.length} packets (${[...outcomes].map(([k, n]) => `${k} ${n}`).join(', ')}), ${disagreements.length} disagreements, ${counterDiffs.length} counter differences, ${ambiguous} within ${SLACK * 1000} ms of a rate/window boundary followed the kernel, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect({ disagreements: disagreements.slice(0, 10), total: disagreements.length }).toEqual({ disagreements: [], total: 0 });
    expect(counterDiffs).toEqual([]);
    // the run covered what it claims
    expect(cases.length).toBeGreaterThanOrEqual(count);
    for (const k of ['tcp-syn', 'udp', 'echo', 'established', 'related', 'tcp-invalid', 'forward']) expect(kinds.get(k) ?? 0).toBeGreaterThan(0);
  });
});

afterAll(() => {
  if (summary.length) process.stdout.write(`\nverdicts differential (seed ${SEED}):\n  ${summary.join('\n  ')}\n`);
});
