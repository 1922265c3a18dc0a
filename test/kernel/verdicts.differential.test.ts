/* eslint-disable no-bitwise */ // address, mask and flag arithmetic, the seeded PRNG
/**
 * Differential test of the offline evaluator against the kernel, on every path.
 *
 * For every example and the kernel-test topologies, seeded random packets
 * (both families; TCP with SYN, ACK, bad flags; UDP; ICMP/ICMPv6 echo, neighbour
 * discovery with good and bad hop limits, other types; GRE; conntrack NEW,
 * ESTABLISHED, RELATED and INVALID; every interface; sources inside and just
 * outside every prefix the rules name; ports on and beside every boundary)
 * plus scripted sequences (SSH brute force, port scan, SYN flood, ping flood)
 * go through a namespace holding the rendered rules, on each path:
 *
 *  - INPUT: injected as Ethernet frames from client namespaces, to the host;
 *  - FORWARD: the same, to addresses routed out of another interface (the
 *    namespace routes): plain routing and NAT (SNAT, MASQUERADE), and packets
 *    aimed at every nat PREROUTING DNAT rule, DNAT'd to the host or routed on;
 *  - OUTPUT: sent by the firewalled namespace itself through raw IP sockets
 *    (header included), so they cross raw / mangle / nat / filter OUTPUT and
 *    mangle / nat POSTROUTING: sendto fails with EPERM on a DROP or REJECT, a
 *    REJECT answers the host itself over lo, the rest arrives in a client
 *    namespace as translated.
 *
 * What the kernel did with each packet (delivered, forwarded as what, sent as
 * what, answered with RST / which ICMP error, or silence) is compared with
 * `RulesetEvaluator.simulate` (the engine it runs) over the same packets at
 * the same times (`outbound: true` for the packets the host sends), and so is
 * every rule and policy counter the packets moved (`iptables-save -c`): all of
 * them while the host sends, all but OUTPUT and POSTROUTING while packets come
 * in (see `comparable`). Zero disagreements. The packets per path are printed.
 *
 * CFW_DIFF_PACKETS (default 10000) sets the packets per ruleset, shared by
 * both families (30 % of each family's are sent by the host); CFW_DIFF_SEED the seed.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { Lab, canUseNetns } from './lab';
import { Wire } from './wire';
import { DeployedHostStack } from '../../examples/deployed-host/main';
import { HardenedWebStack } from '../../examples/hardened-web/main';
import { NatGatewayStack } from '../../examples/nat-gateway/main';
import { SingleHostStack } from '../../examples/single-host/main';
import {
  Action, Blocklist, BogonFilter, ConnState, DropLogger, FirewallPart, GuardMode, IcmpEchoLimit, IpFamily, Match, OutboundPolicy, PartHost,
  PartRules, Peer, Port, PortScanTrap, Protocol, RuleSlot, RulesetEvaluator, SshBruteforceGuard, StatefulHost, SynFloodGuard, Target,
  TimedPacketProps, ClosedPortResponse,
} from '../../lib';
import { Engine, EngineState, EngineVerdict } from '../../lib/analysis/engine';
import { EvaluatorOptions, RouteProps } from '../../lib/analysis/types';
import { parseIpsets, parseRuleset } from '../../lib/iptables/parse';
import { bitsOf, formatAddress, lastOf, parseAddress } from '../../lib/values/prefix';
import { prng } from '../fuzz/programs';

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

/** The interface the firewalled namespace routes `addr` out of (longest prefix). */
function routeOf(t: Topo, fam: IpFamily, addr: string): string {
  const bits = bitsOf(fam);
  const n = parseAddress(fam, addr);
  let best: RouteProps | undefined; let bestLen = -1;
  for (const r of routesOf(t, fam)) {
    const [base, len] = r.cidr.split('/');
    const l = Number(len);
    const mask = l === 0 ? 0n : ((1n << BigInt(l)) - 1n) << BigInt(bits - l);
    if ((n & mask) === parseAddress(fam, base) && l > bestLen) { best = r; bestLen = l; }
  }
  return best!.iface;
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
    const bits = bitsOf(fam);
    for (const a of addrs) {
      if (a.startsWith('fe80:')) continue;
      const idx = this.topo.ifaces.findIndex((i) => i.name === routeOf(this.topo, fam, a));
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
 * port, DNAT to a routed address (plain routing, no source NAT: eth1 to eth2, both families),
 * SNAT and MASQUERADE of forwarded and of sent traffic, rpfilter --loose, other REJECT types;
 * on the way out: an OUTPUT policy DROP, REJECTs that answer the host itself over lo (TCP
 * reset, ICMP errors), drops in raw and mangle OUTPUT and in mangle POSTROUTING, a DNAT in
 * nat OUTPUT.
 */
const HAND_WRITTEN: Record<IpFamily, string> = {
  [IpFamily.V4]: `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -m iprange --src-range 203.0.113.100-203.0.113.120 -j DROP
-A OUTPUT -p udp -m udp --dport 7 -j DROP
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -m ttl --ttl-lt 10 -j DROP
-A OUTPUT -p tcp -m tcp --dport 9 -j DROP
-A POSTROUTING -o eth2 -p udp -m udp --dport 5353 -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth0 -p tcp -m tcp --dport 8022 -j DNAT --to-destination 198.51.100.1:22
-A PREROUTING -i eth1 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.0.2.50:80
-A PREROUTING -i eth1 -p udp -m udp --dport 5060:5061 -j DNAT --to-destination 192.0.2.51
-A OUTPUT -d 198.51.100.60/32 -p tcp -m tcp --dport 8443 -j DNAT --to-destination 198.51.100.61:443
-A OUTPUT -d 198.51.100.62/32 -p tcp -m tcp --dport 8443 -j DNAT --to-destination 203.0.113.62:443
-A POSTROUTING -o eth1 -j SNAT --to-source 203.0.113.1
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT DROP [0:0]
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
-A FORWARD -m conntrack --ctstate DNAT -j ACCEPT
-A FORWARD -i eth2 -o eth0 -j ACCEPT
-A FORWARD -j REJECT --reject-with icmp-net-prohibited
-A OUTPUT -o lo -j ACCEPT
-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A OUTPUT -m conntrack --ctstate INVALID -j DROP
-A OUTPUT -p tcp -m tcp --dport 25 -j REJECT --reject-with tcp-reset
-A OUTPUT -p udp -m udp --dport 1000:1100 -j REJECT --reject-with icmp-port-unreachable
-A OUTPUT -d 192.0.2.0/25 -j REJECT --reject-with icmp-admin-prohibited
-A OUTPUT -p icmp -j ACCEPT
-A OUTPUT -p tcp -m multiport --dports 80,443,8443 -j ACCEPT
-A OUTPUT -p udp -m udp --dport 53 -j ACCEPT
-A OUTPUT -d 203.0.113.0/24 -j ACCEPT
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
-A OUTPUT -p udp -m udp --dport 7 -j DROP
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m hl ! --hl-eq 255 -j DROP
-A OUTPUT -p tcp -m tcp --dport 9 -j DROP
-A POSTROUTING -o eth2 -p udp -m udp --dport 5353 -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth0 -p tcp -m tcp --dport 8022 -j DNAT --to-destination [2001:db8:1::1]:22
-A PREROUTING -i eth1 -p tcp -m tcp --dport 8080 -j DNAT --to-destination [2001:db8:3::50]:80
-A PREROUTING -i eth1 -p udp -m udp --dport 5060:5061 -j DNAT --to-destination 2001:db8:3::51
-A OUTPUT -d 2001:db8:1::60/128 -p tcp -m tcp --dport 8443 -j DNAT --to-destination [2001:db8:1::61]:443
-A OUTPUT -d 2001:db8:1::62/128 -p tcp -m tcp --dport 8443 -j DNAT --to-destination [2001:db8:2::62]:443
-A POSTROUTING -o eth1 -j MASQUERADE
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT DROP [0:0]
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
-A FORWARD -m conntrack --ctstate DNAT -j ACCEPT
-A FORWARD -i eth2 -o eth0 -j ACCEPT
-A FORWARD -j REJECT --reject-with icmp6-no-route
-A OUTPUT -o lo -j ACCEPT
-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A OUTPUT -m conntrack --ctstate INVALID -j DROP
-A OUTPUT -p tcp -m tcp --dport 25 -j REJECT --reject-with tcp-reset
-A OUTPUT -p udp -m udp --dport 1000:1100 -j REJECT --reject-with icmp6-port-unreachable
-A OUTPUT -d 2001:db8:3::/65 -j REJECT --reject-with icmp6-adm-prohibited
-A OUTPUT -p ipv6-icmp -j ACCEPT
-A OUTPUT -p tcp -m multiport --dports 80,443,8443 -j ACCEPT
-A OUTPUT -p udp -m udp --dport 53 -j ACCEPT
-A OUTPUT -d 2001:db8:2::/64 -j ACCEPT
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

function kernelHost(build: (h: StatefulHost) => void, props: object = {}, more?: (h: StatefulHost) => void): StatefulHost {
  const h = new StatefulHost(new TerraformStack(new App(), 'kernel'), 'srv', props);
  build(h);
  more?.(h);
  return h;
}

/** A part that lets the host open connections to one port of some peers: an OUTPUT_OPEN rule, declared as egress. */
class OutboundTo extends FirewallPart {
  public constructor(scope: Construct, id: string, private readonly peer: Peer, private readonly port: Port) {
    super(scope, id);
  }

  public firewallRules(_host: PartHost): PartRules {
    return {
      rules: [{ slot: RuleSlot.OUTPUT_OPEN, matches: [Match.destination(this.peer), Match.port(this.port)], target: Target.ACCEPT }],
      egress: [{ port: this.port, destination: this.peer }],
    };
  }
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
    name: 'kernel topology: DROP closed ports, trusted eth2, outbound DROP (allow, allowTo, OUTPUT_OPEN parts), peers, blocks, bogons on eth1, global SYN limit, log, ping limit',
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
      outbound: { policy: OutboundPolicy.DROP, allow: [Port.tcp(443), Port.udp(53)], allowTo: [Peer.ipv4('203.0.113.0/25'), Peer.ipv6('2001:db8:2::/65')] },
    }, (h) => {
      new OutboundTo(h, 'db4', Peer.ipv4('192.0.2.0/28'), Port.tcp(5432));
      new OutboundTo(h, 'db6', Peer.ipv6('2001:db8:3::/120'), Port.tcp(5432));
    }),
  },
];

// ---------------------------------------------------------------- packets


interface Case {
  readonly wire: Wire;
  readonly packet: Omit<TimedPacketProps, 'at'>;
  /** conntrack -I arguments that must exist before the packet. */
  readonly conntrack?: string[];
  /** True when the kernel never answers it (ICMP errors, RST). */
  readonly unanswerable: boolean;
  readonly kind: string;
  /** Where the host routes an address (for packets it sends). */
  readonly route?: (addr: string) => string;
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

/** What a packet needs to meet a nat PREROUTING DNAT rule: arrival interfaces, sources, protocol, ports, destination. */
interface DnatAim {
  readonly clients: number[];
  readonly sources: string[];
  readonly proto: number;
  readonly ports: number[];
  readonly dst?: string;
}

function dnatRules(fam: IpFamily, text: string, topo: Topo, sources: string[]): DnatAim[] {
  const pre = parseRuleset(fam, text).tables.get('nat')?.chains.get('PREROUTING');
  const bits = bitsOf(fam);
  const out: DnatAim[] = [];
  for (const r of pre?.rules ?? []) {
    if (r.target.kind !== 'DNAT') continue;
    const clients = topo.ifaces.map((i, n) => [i.name, n] as const)
      .filter(([name]) => !r.inIface || ((r.inIface.name.endsWith('+') ? name.startsWith(r.inIface.name.slice(0, -1)) : name === r.inIface.name) !== r.inIface.neg))
      .map(([, n]) => n);
    const srcs = sources.filter((a) => !r.src?.cidr || (inAny(fam, parseAddress(fam, a), [`${formatAddress(fam, r.src.cidr.base)}/${r.src.cidr.prefix}`]) !== r.src.neg));
    const ports: number[] = [];
    for (const m of r.matches) {
      if (m.kind === 'dport' && !m.port.neg) for (const [lo, hi] of m.port.ranges) ports.push(lo, hi, lo + Math.floor((hi - lo) / 2));
    }
    const dst = r.dst?.cidr && !r.dst.neg ? formatAddress(fam, r.dst.cidr.base + (r.dst.cidr.prefix < bits ? 1n : 0n)) : undefined;
    out.push({ clients, sources: srcs, proto: r.proto?.num ?? 6, ports, dst });
  }
  return out;
}

/** Whether a packet arriving from a client meets a nat PREROUTING DNAT rule that sends it to an address not the host's (as far as the rule's address, interface, protocol and port tests say). */
function routedByDnat(fam: IpFamily, text: string, topo: Topo): (w: Wire) => boolean {
  const local = topo.ifaces.map((i) => (fam === IpFamily.V4 ? i.v4 : i.v6));
  const rules = (parseRuleset(fam, text).tables.get('nat')?.chains.get('PREROUTING')?.rules ?? [])
    .filter((r) => r.target.kind === 'DNAT' && r.target.address !== undefined && !local.includes(r.target.address));
  const cidrHas = (t: { neg: boolean; cidr?: { base: bigint; prefix: number } } | undefined, a: string) =>
    !t?.cidr || inAny(fam, parseAddress(fam, a), [`${formatAddress(fam, t.cidr.base)}/${t.cidr.prefix}`]) !== t.neg;
  return (w) => rules.some((r) => {
    const name = topo.ifaces[w.client].name;
    if (r.inIface && (r.inIface.name.endsWith('+') ? name.startsWith(r.inIface.name.slice(0, -1)) : name === r.inIface.name) === r.inIface.neg) return false;
    if (r.proto && (r.proto.num === w.proto) === r.proto.neg) return false;
    if (!cidrHas(r.src, w.src) || !cidrHas(r.dst, w.dst)) return false;
    return r.matches.every((m) => m.kind !== 'dport' || (w.dport !== undefined && m.port.ranges.some(([lo, hi]) => w.dport! >= lo && w.dport! <= hi) !== m.port.neg));
  });
}

function generate(
  fam: IpFamily, count: number, seed: number, text: string, topo: Topo, firstId: number, ipsets?: string,
): { cases: Case[]; sources: string[] } {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const { sources, ports } = pools(fam, text, topo, ipsets);
  const dnats = dnatRules(fam, text, topo, sources);
  /** Per client: the sources the host routes back out of its interface (a LAN's own hosts). */
  const nativeSources = topo.ifaces.map((i) => sources.filter((a) => !a.startsWith('fe80:') && routeOf(topo, fam, a) === i.name));
  const v4 = fam === IpFamily.V4;
  const famN: 4 | 6 = v4 ? 4 : 6;
  const addrOf = (i: Iface) => (v4 ? i.v4 : i.v6);
  const cases: Case[] = [];
  // the kernel never forwards a link-local source (routing answers "beyond scope" before
  // FORWARD, outside the rules): no such packet where a DNAT would route it on
  const rerouted = routedByDnat(fam, text, topo);
  const add = (c: Case) => {
    if (!(c.wire.src.startsWith('fe80:') && rerouted(c.wire))) cases.push(c);
  };
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
    add({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'brute-force' });
  }
  for (const p of [8081, 8082, 22, 80, 443, 53, 5432, 8000]) {
    const w = { ...base(client0, sources[1 % sources.length], addrOf(topo.ifaces[client0]), 6), dport: p, flags: 2, seq: 7 };
    add({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'port-scan' });
  }
  for (let k = 0; k < 45; k++) {
    const w = { ...base(client0, sources[2 % sources.length], addrOf(topo.ifaces[client0]), 6), dport: pick([80, 443, 22]), flags: 2, seq: k };
    add({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'syn-flood' });
  }
  for (let k = 0; k < 14; k++) {
    const w = {
      ...base(client0, sources[3 % sources.length], addrOf(topo.ifaces[client0]), icmpP),
      icmpType: v4 ? 8 : 128,
      icmpCode: 0,
      icmpId: 30000 + id,
    };
    add({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'ping-flood' });
  }

  while (cases.length < count) {
    const client = Math.floor(rnd() * topo.ifaces.length);
    const src = pick(sources);
    // 22 % routed through (8 % of all aimed at a DNAT rule when there is one), the rest to the host
    const lane = rnd();
    const r = lane < 0.22 ? 0.89 + lane / 2 : ((lane - 0.22) / 0.78) * 0.89;
    const dport = rnd() < 0.7 ? pick(ports) : 1 + Math.floor(rnd() * 65535);
    if (r < 0.36) {
      const w = { ...base(client, src, local(client), 6), dport, flags: 2, seq: Math.floor(rnd() * 2 ** 31) };
      add({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'tcp-syn' });
    } else if (r < 0.41) {
      const w = {
        ...base(client, src, local(client), 6),
        dport,
        flags: pick([16, 24]),
        seq: Math.floor(rnd() * 2 ** 31),
        ack: Math.floor(rnd() * 2 ** 31),
      };
      add({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'tcp-ack-new' });
    } else if (r < 0.45) {
      const flags = pick([0, 3, 1]);
      const w = { ...base(client, src, local(client), 6), dport, flags, seq: 5 };
      add({ wire: w, packet: packetOf(w, ConnState.INVALID), unanswerable: false, kind: 'tcp-invalid' });
    } else if (r < 0.63) {
      const w = { ...base(client, src, local(client), 17), dport };
      add({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'udp' });
    } else if (r < 0.71) {
      const w = { ...base(client, src, local(client), icmpP), icmpType: v4 ? 8 : 128, icmpCode: 0, icmpId: id % 65536 };
      add({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'echo' });
    } else if (r < 0.74) {
      if (v4) {
        const w = { ...base(client, src, local(client), 1), icmpType: 13, icmpCode: 0, icmpId: id % 65536 };
        add({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'icmp-timestamp' });
      } else {
        const w = { ...base(client, src, local(client), 58), icmpType: pick([135, 136]), icmpCode: 0, ttl: pick([255, 255, 64]) };
        add({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'nd' });
      }
    } else if (r < 0.77) {
      const dst = local(client);
      const key = `${src}>${dst}`;
      if (usedOther.has(key)) continue;
      usedOther.add(key);
      const w = { ...base(client, src, dst, 47) };
      add({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'gre' });
    } else if (r < 0.83) {
      // ESTABLISHED: a conntrack entry that has seen replies, then a packet of it
      const dst = local(client);
      const which = pick(['tcp', 'udp', 'icmp']);
      if (which === 'tcp') {
        const w = { ...base(client, src, dst, 6), dport, flags: pick([16, 24]), seq: 77, ack: 99 };
        add({
          wire: w,
          packet: packetOf(w, ConnState.ESTABLISHED),
          unanswerable: false,
          kind: 'established',
          conntrack: ['-p', 'tcp', '-s', src, '-d', dst, '--sport', String(w.sport), '--dport', String(dport), '--state', 'ESTABLISHED', '-u', 'SEEN_REPLY,ASSURED', '--timeout', '600'],
        });
      } else if (which === 'udp') {
        const w = { ...base(client, src, dst, 17), dport };
        add({
          wire: w,
          packet: packetOf(w, ConnState.ESTABLISHED),
          unanswerable: false,
          kind: 'established',
          conntrack: ['-p', 'udp', '-s', src, '-d', dst, '--sport', String(w.sport), '--dport', String(dport), '-u', 'SEEN_REPLY,ASSURED', '--timeout', '600'],
        });
      } else {
        const w = { ...base(client, src, dst, icmpP), icmpType: v4 ? 8 : 128, icmpCode: 0, icmpId: 40000 + (id % 20000) };
        add({
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
      add({
        wire: w,
        packet: packetOf(w, related ? ConnState.RELATED : ConnState.INVALID),
        unanswerable: true,
        kind: related ? 'related' : 'icmp-error-invalid',
        conntrack: related ? ct(!v4, ['-p', 'udp', '-s', dst, '-d', src, '--sport', String(innerSport), '--dport', '33434', '--timeout', '600']) : undefined,
      });
    } else if (r < 0.89) {
      // a lone RST opens nothing: INVALID
      const w = { ...base(client, src, local(client), 6), dport, flags: 4, seq: 3 };
      add({ wire: w, packet: packetOf(w, ConnState.INVALID), unanswerable: true, kind: 'tcp-rst' });
    } else if (r < 0.93 && dnats.length > 0) {
      // DNAT'd: a packet a nat PREROUTING DNAT rule translates (to the host or routed on)
      const d = pick(dnats);
      const c2 = d.clients.length > 0 ? pick(d.clients) : client;
      const s2 = d.sources.length > 0 && rnd() < 0.8 ? pick(d.sources) : src;
      if (s2.startsWith('fe80:')) continue;
      const dp = d.ports.length > 0 ? pick(d.ports) : dport;
      const dst = d.dst ?? (rnd() < 0.8 ? addrOf(topo.ifaces[c2]) : addrOf(pick(topo.ifaces)));
      const w: Wire = d.proto === 17 ? { ...base(c2, s2, dst, 17), dport: dp } : { ...base(c2, s2, dst, 6), dport: dp, flags: 2, seq: 11 };
      add({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'dnat' });
    } else {
      // forwarded: to an address routed out of another interface (the kernel never forwards
      // a link-local source: routing answers "beyond scope" before FORWARD, outside the rules);
      // half from a source the host routes back out of the arrival interface (a LAN's own hosts)
      const native = nativeSources[client];
      const fsrc = native.length > 0 && rnd() < 0.5 ? pick(native) : src;
      if (fsrc.startsWith('fe80:')) continue;
      const dst = forwardDst(client);
      const proto = pick([6, 6, 17, icmpP]);
      const w: Wire = proto === 6 ? { ...base(client, fsrc, dst, 6), dport, flags: 2, seq: 9 }
        : proto === 17 ? { ...base(client, fsrc, dst, 17), dport } : {
          ...base(client, fsrc, dst, icmpP),
          icmpType: v4 ? 8 : 128,
          icmpCode: 0,
          icmpId: id % 65536,
        };
      add({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'forward' });
    }
  }
  // the tag the driver finds in each packet is its id; inner packets carry their outer id
  for (const c of cases) if (c.wire.inner) (c.wire.inner as any).tag = c.wire.id;
  return { cases, sources };
}

/** Destinations for packets the host sends: the remote sources, and addresses on and beside every `-d` prefix the rules name. */
function destinations(fam: IpFamily, text: string, topo: Topo, sources: string[]): string[] {
  const bits = bitsOf(fam);
  const top = (1n << BigInt(bits)) - 1n;
  const out = new Set<bigint>(sources.filter((a) => !a.startsWith('fe80:')).map((a) => parseAddress(fam, a)));
  for (const t of parseRuleset(fam, text).tables.values()) {
    for (const c of t.chains.values()) {
      for (const r of c.rules) {
        if (r.dst?.cidr && r.dst.cidr.prefix >= 8) {
          const lo = r.dst.cidr.base; const hi = lastOf(bits, r.dst.cidr);
          for (const x of [lo, lo + 1n, hi, hi - 1n, lo - 1n, hi + 1n]) if (x >= 0n && x <= top) out.add(x);
        }
      }
    }
  }
  const local = topo.ifaces.map((i) => parseAddress(fam, fam === IpFamily.V4 ? i.v4 : i.v6));
  return [...out]
    .filter((a) => !inAny(fam, a, fam === IpFamily.V4 ? [...MARTIAN_V4, '255.255.255.255/32'] : [...MARTIAN_V6, 'fe80::/10']) && !local.includes(a))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((a) => formatAddress(fam, a));
}

/** Destinations, protocols and ports that nat OUTPUT DNAT rules translate. */
function natOutputAims(fam: IpFamily, text: string): Array<{ dst: string; proto: number; ports: number[] }> {
  const out: Array<{ dst: string; proto: number; ports: number[] }> = [];
  for (const r of parseRuleset(fam, text).tables.get('nat')?.chains.get('OUTPUT')?.rules ?? []) {
    if (r.target.kind !== 'DNAT' || !r.dst?.cidr || r.dst.neg) continue;
    const ports: number[] = [];
    for (const m of r.matches) if (m.kind === 'dport' && !m.port.neg) for (const [lo, hi] of m.port.ranges) ports.push(lo, hi);
    out.push({ dst: formatAddress(fam, r.dst.cidr.base), proto: r.proto?.num ?? 6, ports: ports.length > 0 ? ports : [80] });
  }
  return out;
}

/**
 * Packets the firewalled host sends itself (the OUTPUT path): from one of its addresses
 * (mostly the one of the interface the destination is routed out of), NEW TCP (SYN, a lone
 * ACK), UDP, echo, ICMP timestamp or neighbour discovery, GRE; INVALID TCP and lone RSTs;
 * ESTABLISHED (a conntrack entry that has seen replies) and RELATED (an ICMP error about a
 * tracked flow) or INVALID ICMP errors.
 */
function generateOutbound(
  fam: IpFamily, count: number, seed: number, text: string, topo: Topo, firstId: number, sources: string[], ports: number[],
): Case[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const v4 = fam === IpFamily.V4;
  const famN: 4 | 6 = v4 ? 4 : 6;
  const icmpP = v4 ? 1 : 58;
  const dests = destinations(fam, text, topo, sources);
  const addrOf = (i: Iface) => (v4 ? i.v4 : i.v6);
  const cases: Case[] = [];
  const usedOther = new Set<string>();
  let id = firstId;
  const base = (dst: string, proto: number): Wire => {
    const oif = topo.ifaces.findIndex((i) => i.name === routeOf(topo, fam, dst));
    const src = rnd() < 0.75 ? addrOf(topo.ifaces[oif]) : addrOf(pick(topo.ifaces));
    return { id: id++, client: oif, family: famN, src, dst, proto, sport: 1024 + (id % 60000), ttl: 64, out: true };
  };
  const packetOf = (w: Wire, state: ConnState): Omit<TimedPacketProps, 'at'> => ({
    family: fam,
    protocol: w.proto === 6 ? Protocol.TCP : w.proto === 17 ? Protocol.UDP : w.proto === 1 ? Protocol.ICMP
      : w.proto === 58 ? Protocol.ICMPV6 : Protocol.GRE,
    source: w.src,
    destination: w.dst,
    sourcePort: w.sport,
    destinationPort: w.proto === 6 || w.proto === 17 ? w.dport : undefined,
    outbound: true,
    outInterface: topo.ifaces[w.client].name,
    state,
    tcpFlags: w.proto === 6 ? flagText(w.flags ?? 0) : undefined,
    icmpType: w.icmpType,
    icmpCode: w.icmpCode,
    ttl: w.ttl,
  });
  const aims = natOutputAims(fam, text);
  while (cases.length < count) {
    if (aims.length > 0 && rnd() < 0.06) {
      // aimed at a nat OUTPUT DNAT rule
      const a = pick(aims);
      const w: Wire = a.proto === 17 ? { ...base(a.dst, 17), dport: pick(a.ports) } : { ...base(a.dst, 6), dport: pick(a.ports), flags: 2, seq: 13 };
      cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'out-dnat' });
      continue;
    }
    const dst = pick(dests);
    const r = rnd();
    const dport = rnd() < 0.7 ? pick(ports) : 1 + Math.floor(rnd() * 65535);
    if (r < 0.3) {
      const w = { ...base(dst, 6), dport, flags: 2, seq: Math.floor(rnd() * 2 ** 31) };
      cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'out-tcp-syn' });
    } else if (r < 0.35) {
      const w = { ...base(dst, 6), dport, flags: pick([16, 24]), seq: Math.floor(rnd() * 2 ** 31), ack: Math.floor(rnd() * 2 ** 31) };
      cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'out-tcp-ack-new' });
    } else if (r < 0.38) {
      const w = { ...base(dst, 6), dport, flags: pick([0, 3, 1]), seq: 5 };
      cases.push({ wire: w, packet: packetOf(w, ConnState.INVALID), unanswerable: false, kind: 'out-tcp-invalid' });
    } else if (r < 0.4) {
      const w = { ...base(dst, 6), dport, flags: 4, seq: 3 };
      cases.push({ wire: w, packet: packetOf(w, ConnState.INVALID), unanswerable: true, kind: 'out-tcp-rst' });
    } else if (r < 0.57) {
      const w = { ...base(dst, 17), dport };
      cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'out-udp' });
    } else if (r < 0.65) {
      const w = { ...base(dst, icmpP), icmpType: v4 ? 8 : 128, icmpCode: 0, icmpId: id % 65536 };
      cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'out-echo' });
    } else if (r < 0.69) {
      if (v4) {
        const w = { ...base(dst, 1), icmpType: 13, icmpCode: 0, icmpId: id % 65536 };
        cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'out-icmp-timestamp' });
      } else {
        const w = { ...base(dst, 58), icmpType: pick([135, 136]), icmpCode: 0, ttl: 255 };
        cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'out-nd' });
      }
    } else if (r < 0.72) {
      // one GRE flow per destination: GRE has no ports, and masquerading many sources to one
      // address would clash in conntrack (the kernel drops the second such flow)
      const w = base(dst, 47);
      const key = `>${dst}`;
      if (usedOther.has(key)) continue;
      usedOther.add(key);
      cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), unanswerable: false, kind: 'out-gre' });
    } else if (r < 0.84) {
      // ESTABLISHED: the host answers within a connection that has seen replies
      const which = pick(['tcp', 'udp', 'icmp']);
      if (which === 'tcp') {
        const w = { ...base(dst, 6), dport, flags: pick([16, 24]), seq: 77, ack: 99 };
        cases.push({
          wire: w,
          packet: packetOf(w, ConnState.ESTABLISHED),
          unanswerable: false,
          kind: 'out-established',
          conntrack: ['-p', 'tcp', '-s', w.src, '-d', dst, '--sport', String(w.sport), '--dport', String(dport), '--state', 'ESTABLISHED', '-u', 'SEEN_REPLY,ASSURED', '--timeout', '600'],
        });
      } else if (which === 'udp') {
        const w = { ...base(dst, 17), dport };
        cases.push({
          wire: w,
          packet: packetOf(w, ConnState.ESTABLISHED),
          unanswerable: false,
          kind: 'out-established',
          conntrack: ['-p', 'udp', '-s', w.src, '-d', dst, '--sport', String(w.sport), '--dport', String(dport), '-u', 'SEEN_REPLY,ASSURED', '--timeout', '600'],
        });
      } else {
        const w = { ...base(dst, icmpP), icmpType: v4 ? 8 : 128, icmpCode: 0, icmpId: 40000 + (id % 20000) };
        cases.push({
          wire: w,
          packet: packetOf(w, ConnState.ESTABLISHED),
          unanswerable: false,
          kind: 'out-established',
          conntrack: v4
            ? ['-p', 'icmp', '-s', w.src, '-d', dst, '--icmp-type', '8', '--icmp-code', '0', '--icmp-id', String(w.icmpId), '-u', 'SEEN_REPLY', '--timeout', '600']
            : ['-p', 'icmpv6', '-s', w.src, '-d', dst, '--icmpv6-type', '128', '--icmpv6-code', '0', '--icmpv6-id', String(w.icmpId), '-u', 'SEEN_REPLY', '--timeout', '600'],
        });
      }
    } else {
      // an ICMP error the host sends about a packet it received: RELATED when that flow is tracked, else INVALID
      const related = rnd() < 0.6;
      const w0 = base(dst, icmpP);
      const innerSport = 2000 + (id % 50000);
      const inner: Wire = { id: w0.id, client: w0.client, family: famN, src: dst, dst: w0.src, proto: 17, sport: innerSport, dport: 33434, ttl: 64 };
      const w = { ...w0, icmpType: v4 ? 3 : 1, icmpCode: v4 ? 3 : 4, inner };
      cases.push({
        wire: w,
        packet: packetOf(w, related ? ConnState.RELATED : ConnState.INVALID),
        unanswerable: true,
        kind: related ? 'out-related' : 'out-icmp-error-invalid',
        conntrack: related ? ['-p', 'udp', '-s', dst, '-d', w0.src, '--sport', String(innerSport), '--dport', '33434', '--timeout', '600'] : undefined,
      });
    }
  }
  for (const c of cases) if (c.wire.inner) (c.wire.inner as any).tag = c.wire.id;
  return cases.map((c) => ({ ...c, route: (a: string) => routeOf(topo, fam, a) }));
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

/** A header the driver read off the wire (an answer, or a packet of the host's own). */
interface Header {
  family: 4 | 6;
  src: string;
  dst: string;
  proto: number;
  ttl: number;
  sport?: number;
  dport?: number;
  flags?: number;
  icmpType?: number;
  icmpCode?: number;
  client?: number;
  iface?: string;
}

/** What the kernel did with a packet the host sent. */
interface ObservedOut {
  id: number;
  t: number;
  t1: number;
  /** sendto failed with EPERM: dropped or rejected on the way out. */
  eperm: boolean;
  /** Any other sendto failure. */
  error: string | null;
  arrived: Array<{ client: number; src: string; dst: string; sport?: number; dport?: number }>;
  resp: string[];
  answers: Header[];
}

const l4 = (c: Case) => c.wire.proto === 6 || c.wire.proto === 17;

/**
 * @param answerLeaves whether the answer of a REJECT gets out of the host (it crosses OUTPUT itself)
 */
function expected(v: EngineVerdict, c: Case, answerLeaves: (v: EngineVerdict, c: Case) => boolean = () => true): string {
  if (c.wire.out) {
    if (v.action === Action.ACCEPT) {
      const dst = v.translatedDestination ?? c.wire.dst;
      const dport = v.translatedDestinationPort ?? c.wire.dport;
      // a DNAT in nat OUTPUT routes the packet again: it leaves where its new destination is routed
      const oif = v.translatedDestination !== undefined && c.route ? c.route(dst) : c.packet.outInterface;
      return `sent ${oif} ${v.translatedSource ?? c.wire.src} > ${dst}${l4(c) ? `:${dport}` : ''}`;
    }
    if (v.action === Action.REJECT && !c.unanswerable) return `refused, answered ${REJECT_ANSWER[v.rejectWith!] ?? v.rejectWith}`;
    return 'refused';
  }
  if (v.action === Action.ACCEPT) {
    if (!v.forwarded) return 'delivered';
    const dst = v.translatedDestination ?? c.wire.dst;
    const dport = v.translatedDestinationPort ?? c.wire.dport;
    const src = v.translatedSource ?? c.wire.src;
    return `forwarded ${v.outInterface} ${src} > ${dst}${l4(c) ? `:${dport}` : ''}`;
  }
  if (v.action === Action.REJECT) return c.unanswerable || !answerLeaves(v, c) ? 'silent' : `answered ${REJECT_ANSWER[v.rejectWith!] ?? v.rejectWith}`;
  return 'silent';
}

function observed(o: Observed, c: Case): string {
  if (o.arrived) return 'delivered';
  if (o.out.length > 0) {
    const x = o.out[0];
    return `forwarded ${x.iface} ${x.src} > ${x.dst}${l4(c) ? `:${x.dport}` : ''}`;
  }
  if (o.resp.length > 0) return `answered ${o.resp[0]}`;
  return 'silent';
}

function observedOut(o: ObservedOut, c: Case, topo: Topo): string {
  if (o.error) return `send failed: ${o.error}`;
  if (o.eperm) {
    if (o.arrived.length > 0) return 'refused (EPERM), yet it arrived';
    return o.resp.length > 0 ? `refused, answered ${o.resp[0]}` : 'refused';
  }
  if (o.arrived.length === 0) return 'sent, arrived nowhere';
  const x = o.arrived[0];
  return `sent ${topo.ifaces[x.client].name} ${x.src} > ${x.dst}${l4(c) ? `:${x.dport}` : ''}${o.arrived.length > 1 ? ` (and ${o.arrived.length - 1} more)` : ''}`;
}

/** Rule and policy counters, keyed as the evaluator's hits are, from `iptables-save -c` text. */
function countersOf(text: string): Map<string, number> {
  const out = new Map<string, number>();
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

function saveCommand(fam: IpFamily): string[] {
  return [fam === IpFamily.V4 ? 'iptables-save' : 'ip6tables-save', '-c'];
}

function counters(lab: Lab, ns: string, fam: IpFamily): Map<string, number> {
  const [cmd, ...args] = saveCommand(fam);
  return countersOf(lab.exec(ns, cmd, args).stdout);
}

/**
 * While packets come in (the first phase), the counters the host's own traffic also
 * moves are left out: OUTPUT and POSTROUTING. The host answers what it receives: its
 * TCP stack resets SYNs to ports nothing listens on, its UDP stack and REJECTs answer
 * with ICMP errors, it replies to echo requests; each answer crosses OUTPUT and
 * POSTROUTING (a REJECT's reset from the gateway's LAN address to the WAN is even
 * masqueraded as a new flow), and which of them the stack sends is not the evaluator's
 * to say. Forwarded packets' POSTROUTING NAT is checked per packet instead, on the wire.
 * In the second phase the host sends, nothing comes in, and every counter is compared.
 */
function comparable(key: string): boolean {
  const [, chain] = key.split(' ');
  return chain !== 'OUTPUT' && chain !== 'POSTROUTING';
}

const flagsOf = (h: Header) => (h.flags !== undefined ? flagText(h.flags) : undefined);

/** A header off the wire as the evaluator's packet (the state the kernel gives such packets). */
function packetOfHeader(
  fam: IpFamily, h: Header, state: ConnState, where: { outbound: true; outInterface: string } | { inInterface: string },
): TimedPacketProps {
  return {
    at: 0,
    family: fam,
    protocol: h.proto === 6 ? Protocol.TCP : h.proto === 17 ? Protocol.UDP : h.proto === 1 ? Protocol.ICMP
      : h.proto === 58 ? Protocol.ICMPV6 : Protocol.GRE,
    protocolNumber: [6, 17, 1, 58, 47].includes(h.proto) ? undefined : h.proto,
    source: h.src,
    destination: h.dst,
    sourcePort: h.sport,
    destinationPort: h.dport,
    state,
    tcpFlags: flagsOf(h),
    icmpType: h.icmpType,
    icmpCode: h.icmpCode,
    ttl: h.ttl,
    ...where,
  };
}

/** ICMPv6 types conntrack never tracks (MLD, RS, RA, NS, NA, MLDv2 report): the only packets of its own the host may send meanwhile. */
const UNTRACKED_ICMPV6 = [130, 131, 132, 133, 134, 135, 136, 143];

const ICMP_OF_REJECT: Record<string, [number, number]> = Object.fromEntries(Object.entries(REJECT_ANSWER)
  .filter(([, a]) => a.startsWith('icmp:')).map(([k, a]) => [k, a.split(':').slice(1).map(Number) as [number, number]]));

/**
 * Whether the answer of a REJECT to a packet that came in gets out of the host: the
 * answer crosses OUTPUT and POSTROUTING like anything the host sends. It shares the
 * conntrack entry of the refused packet (nf_ct_attach): RELATED when that packet was
 * tracked; an untracked packet's answer (IPv6 neighbour discovery, say) has no entry of
 * its own and is INVALID. Under an OUTPUT policy DROP with only RELATED,ESTABLISHED
 * accepted, such an answer never leaves: the kernel stays silent.
 */
/** The conntrack state of a REJECT's answer: RELATED to a tracked packet, else INVALID (it has no entry of its own). */
function answerState(c: Case): ConnState {
  const tracked = [ConnState.NEW, ConnState.ESTABLISHED, ConnState.RELATED].includes(c.packet.state!)
    && !(c.wire.proto === 58 && UNTRACKED_ICMPV6.includes(c.wire.icmpType ?? -1));
  return tracked ? ConnState.RELATED : ConnState.INVALID;
}

function answerLeavesFor(engine: RulesetEvaluator['_engine'], fam: IpFamily, topo: Topo): (v: EngineVerdict, c: Case) => boolean {
  return (v, c) => {
    const oif = routeOf(topo, fam, c.wire.src);
    const hostAddr = (i: string) => topo.ifaces.find((x) => x.name === i)!;
    const rst = v.rejectWith === 'tcp-reset';
    const icmp = ICMP_OF_REJECT[v.rejectWith ?? ''];
    if (!rst && !icmp) return true;
    const h: Header = rst
      ? {
        family: c.wire.family,
        src: v.translatedDestination ?? c.wire.dst,
        dst: c.wire.src,
        proto: 6,
        ttl: 64,
        sport: v.translatedDestinationPort ?? c.wire.dport,
        dport: c.wire.sport,
        flags: 20,
      }
      : {
        family: c.wire.family,
        src: fam === IpFamily.V4 ? hostAddr(oif).v4 : hostAddr(oif).v6,
        dst: c.wire.src,
        proto: fam === IpFamily.V4 ? 1 : 58,
        ttl: 64,
        icmpType: icmp[0],
        icmpCode: icmp[1],
      };
    const w = engine.run(packetOfHeader(fam, h, answerState(c), { outbound: true, outInterface: oif }), 0, new EngineState());
    return w.action === Action.ACCEPT;
  };
}

/**
 * nat POSTROUTING alone, for a REJECT's TCP reset: the reset shares the refused packet's
 * conntrack entry as RELATED. The kernel walks the nat chains for RELATED packets that are
 * not ICMP when the entry has no binding for that hook's kind of NAT yet (nf_nat_inet_fn;
 * ICMP errors are translated by their flow instead, nf_nat_ipv4_fn / nf_nat_ipv6_fn).
 * The refused packet got its destination binding in nat OUTPUT but never reached
 * POSTROUTING: the reset walks nat POSTROUTING (and nothing else of the nat table).
 */
function natPostroutingOnly(engine: RulesetEvaluator['_engine'], fam: IpFamily): Engine | undefined {
  const chain = engine.rules.tables.get('nat')?.chains.get('POSTROUTING');
  if (!chain) return undefined;
  return new Engine({ family: fam, tables: new Map([['nat', { name: 'nat', chains: new Map([['POSTROUTING', chain]]) }]]), notes: [] }, engine.options);
}

// ---------------------------------------------------------------- the test

const ready = canUseNetns();
const perSubject = Math.max(200, Math.floor(TOTAL));
/** Of each family's packets, this share is sent by the host itself (the OUTPUT path). */
const OUTBOUND_SHARE = 0.3;
const summary: string[] = [];

/** Packets per path, as the test prints them. */
interface PathCounts {
  input: number;
  forward: number;
  /** Accepted and routed on as they came. */
  forwardRouted: number;
  /** Accepted with their source translated (SNAT, MASQUERADE), destination not. */
  forwardSnat: number;
  /** Accepted with their destination translated (DNAT), source not. */
  forwardDnat: number;
  /** Accepted with both translated. */
  forwardBoth: number;
  forwardRefused: number;
  /** Refused after a DNAT. */
  forwardDnatRefused: number;
  output: number;
  outputSent: number;
  outputNat: number;
  outputRefused: number;
  outputAnswered: number;
}

/** The evaluator's verdict on each case, the kernel's outcome taken on a rate/window boundary within the clock's uncertainty. */
function judge(
  engine: RulesetEvaluator['_engine'], state: EngineState, cases: Case[], times: Array<{ t: number; t1: number }>, observe: (i: number) => string,
  expectedCounters: Map<string, number>, disagreements: string[], answerLeaves?: (v: EngineVerdict, c: Case) => boolean,
): { verdicts: EngineVerdict[]; ambiguous: number } {
  let ambiguous = 0;
  const verdicts: EngineVerdict[] = [];
  cases.forEach((c, i) => {
    // the kernel saw the packet between t and t1: the middle, with half the span as extra slack
    const at = (times[i].t + times[i].t1) / 2;
    state.slack = SLACK + (times[i].t1 - times[i].t) / 2;
    const packet = { ...c.packet, at };
    state.begin();
    state.ambiguous = false;
    let v = engine.run(packet, at, state);
    const o = observe(i);
    if (state.ambiguous && expected(v, c, answerLeaves) !== o) {
      state.rollback();
      state.flip = true;
      const alt = engine.run(packet, at, state);
      state.flip = false;
      if (expected(alt, c, answerLeaves) === o) {
        v = alt;
        ambiguous++;
      } else {
        state.rollback();
        v = engine.run(packet, at, state);
      }
    }
    addHits(expectedCounters, v);
    const e = expected(v, c, answerLeaves);
    if (e !== o) {
      disagreements.push(`#${c.wire.id} ${c.kind} at ${at.toFixed(4)}s ${JSON.stringify(c.packet)}: kernel ${o}, evaluator ${e}\n    ${v.trace.join('\n    ')}`);
    }
    verdicts.push(v);
  });
  return { verdicts, ambiguous };
}

function addHits(into: Map<string, number>, v: EngineVerdict): void {
  for (const h of v.hits) {
    const k = `${h.table} ${h.chain} #${h.index}`;
    into.set(k, (into.get(k) ?? 0) + 1);
  }
}

function counterDifferences(
  before: Map<string, number>, after: Map<string, number>, expectedCounters: Map<string, number>, keep: (k: string) => boolean,
): string[] {
  const out: string[] = [];
  for (const k of new Set([...after.keys(), ...expectedCounters.keys()])) {
    if (!keep(k)) continue;
    const kernel = (after.get(k) ?? 0) - (before.get(k) ?? 0);
    const ours = expectedCounters.get(k) ?? 0;
    if (kernel !== ours) out.push(`${k}: kernel ${kernel}, evaluator ${ours}`);
  }
  return out;
}

/** The conntrack entries the cases need, in one `conntrack -R` (it stops, and fails, at the first entry it cannot create). */
function insertConntrack(lab: DiffLab, cases: Case[]): void {
  const lines = cases.filter((c) => c.conntrack).map((c) => `-I ${c.conntrack!.join(' ')}\n`).join('');
  // (through cat: node hands the child a socket for stdin, which conntrack cannot open as /dev/stdin)
  if (lines) lab.lab.exec(lab.srv, 'sh', ['-c', 'cat | conntrack -R -'], { input: lines });
}

function runDriver(input: object): any {
  const r = spawnSync('python3', [DRIVER], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 256 << 20, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`driver failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe.each(SUBJECTS.map((s, i) => [s.name, s, i] as const))('%s', (_name, subject, index) => {
  const lab = new DiffLab(subject.topo);
  beforeAll(() => {
    if (!ready) throw new Error('the differential test needs root and network namespaces. Nothing was tested.');
    lab.up();
  });
  afterAll(() => lab.lab.destroy());

  test.each([[IpFamily.V4], [IpFamily.V6]])('%s: the kernel and the evaluator agree on every packet and every counter, on every path', (fam) => {
    const t0 = Date.now();
    const topo = subject.topo;
    const text = subject.text?.[fam] ?? subject.host!.renderRules(fam);
    const ipsets = subject.ipsets ?? subject.host?.ipsetRules();
    if (ipsets) lab.lab.exec(lab.srv, 'ipset', ['restore', '-exist'], { input: ipsets });
    lab.lab.loadRules(lab.srv, fam === IpFamily.V4 ? 'v4' : 'v6', text);
    lab.lab.exec(lab.srv, 'conntrack', ['-F'], { check: false });
    const count = Math.floor(perSubject / 2);
    const outCount = Math.floor(count * OUTBOUND_SHARE);
    const seed = SEED + index * 7919 + (fam === IpFamily.V4 ? 0 : 1);
    const { cases, sources } = generate(fam, count - outCount, seed, text, topo, 1, ipsets);
    const { ports } = pools(fam, text, topo, ipsets);
    const outCases = generateOutbound(fam, outCount, seed + 104729, text, topo, 1 + cases.length, sources, ports);
    lab.own(fam, sources);
    const tGen = Date.now();

    const evaluator = RulesetEvaluator.fromText(fam, text, { ...evaluatorOptions(topo, fam), ipsets });
    const engine = evaluator._engine;
    const state = new EngineState();
    const disagreements: string[] = [];
    const local = topo.ifaces.map((i) => (fam === IpFamily.V4 ? i.v4 : i.v6));

    // ---- phase 1: packets arrive (INPUT) or are routed through (FORWARD)
    insertConntrack(lab, cases);
    const before = counters(lab.lab, lab.srv, fam);
    const tCt1 = Date.now();
    const r1 = runDriver({ srv: lab.srv, clients: lab.clients, gap_us: 150, packets: cases.map((c) => c.wire) });
    const tRun1 = Date.now();
    const after = counters(lab.lab, lab.srv, fam);
    const obs: Observed[] = r1.results;
    const expectedIn = new Map<string, number>();
    const answerLeaves = answerLeavesFor(engine, fam, topo);
    const inbound = judge(engine, state, cases, obs, (i) => observed(obs[i], cases[i]), expectedIn, disagreements, answerLeaves);
    const counterDiffs = counterDifferences(before, after, expectedIn, comparable);
    const tJudge1 = Date.now();

    // ---- phase 2: the host sends (OUTPUT, POSTROUTING); nothing comes in, every counter is compared
    lab.lab.exec(lab.srv, 'conntrack', ['-F'], { check: false });
    insertConntrack(lab, outCases);
    const r2 = runDriver({
      mode: 'out', srv: lab.srv, clients: lab.clients, gap_us: 150, packets: outCases.map((c) => c.wire), save: saveCommand(fam),
    });
    const tRun2 = Date.now();
    const obsOut: ObservedOut[] = r2.results;
    // one clock for both phases: the second driver's times from the first one's start
    const shift = r2.t0 - r1.t0;
    const timesOut = obsOut.map((o) => ({ t: o.t + shift, t1: o.t1 + shift }));
    const expectedOut = new Map<string, number>();
    const outbound = judge(engine, state, outCases, timesOut, (i) => observedOut(obsOut[i], outCases[i], topo), expectedOut, disagreements);
    // a REJECT's answer goes to the host itself: out over lo (RELATED to the refused packet), then in over lo
    let answers = 0;
    const resetNat = natPostroutingOnly(engine, fam);
    obsOut.forEach((o, i) => {
      for (const a of o.answers) {
        answers++;
        const at = timesOut[i].t1;
        const st = answerState(outCases[i]);
        addHits(expectedOut, engine.run(packetOfHeader(fam, a, st, { outbound: true, outInterface: 'lo' }), at, state));
        if (a.proto === 6 && st === ConnState.RELATED && resetNat) {
          addHits(expectedOut, resetNat.run(packetOfHeader(fam, a, ConnState.NEW, { outbound: true, outInterface: 'lo' }), at, new EngineState()));
        }
        addHits(expectedOut, engine.run(packetOfHeader(fam, a, st, { inInterface: 'lo' }), at, state));
      }
    });
    // packets of the host's own meanwhile (MLD reports): they crossed OUTPUT too
    const hostOwn: Header[] = r2.host;
    for (const h of hostOwn) {
      if (h.proto === 58 && UNTRACKED_ICMPV6.includes(h.icmpType ?? -1) && h.client !== undefined) {
        const where = { outbound: true as const, outInterface: topo.ifaces[h.client].name };
        addHits(expectedOut, engine.run(packetOfHeader(fam, h, ConnState.UNTRACKED, where), timesOut.at(-1)?.t1 ?? 0, state));
      } else {
        counterDiffs.push(`the host sent a packet of its own during the outbound phase, which the test cannot account for: ${JSON.stringify(h)}`);
      }
    }
    counterDiffs.push(...counterDifferences(countersOf(r2.saves[0]), countersOf(r2.saves[1]), expectedOut, () => true));

    // ---- packets per path
    const pc: PathCounts = {
      input: 0,
      forward: 0,
      forwardRouted: 0,
      forwardSnat: 0,
      forwardDnat: 0,
      forwardBoth: 0,
      forwardRefused: 0,
      forwardDnatRefused: 0,
      output: outCases.length,
      outputSent: 0,
      outputNat: 0,
      outputRefused: 0,
      outputAnswered: 0,
    };
    cases.forEach((c, i) => {
      const v = inbound.verdicts[i];
      const dst = v.translatedDestination ?? c.wire.dst;
      if (!v.forwarded && local.includes(dst)) { pc.input++; return; }
      if (!v.forwarded && c.wire.dst.startsWith('fe80:')) { pc.input++; return; }
      pc.forward++;
      const dnat = v.translatedDestination !== undefined || v.translatedDestinationPort !== undefined;
      if (v.action !== Action.ACCEPT || !v.forwarded) {
        pc.forwardRefused++;
        if (dnat) pc.forwardDnatRefused++;
        return;
      }
      const snat = v.translatedSource !== undefined;
      if (dnat && snat) pc.forwardBoth++;
      else if (dnat) pc.forwardDnat++;
      else if (snat) pc.forwardSnat++;
      else pc.forwardRouted++;
    });
    outbound.verdicts.forEach((v) => {
      if (v.action === Action.ACCEPT) {
        pc.outputSent++;
        if (v.translatedSource !== undefined || v.translatedDestination !== undefined) pc.outputNat++;
      } else {
        pc.outputRefused++;
      }
    });
    pc.outputAnswered = answers;

    const kinds = new Map<string, number>();
    for (const c of [...cases, ...outCases]) kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
    const outcomes = new Map<string, number>();
    for (const v of [...inbound.verdicts, ...outbound.verdicts]) outcomes.set(v.action, (outcomes.get(v.action) ?? 0) + 1);
    summary.push(`${subject.name} ${fam}: ${cases.length + outCases.length} packets (${[...outcomes].map(([k, n]) => `${k} ${n}`).join(', ')}); `
      + `input ${pc.input}; forward ${pc.forward} (accepted: routed as they came ${pc.forwardRouted}, source-NAT'd ${pc.forwardSnat}, DNAT'd ${pc.forwardDnat}, `
      + `DNAT'd and source-NAT'd ${pc.forwardBoth}; refused ${pc.forwardRefused}, of which DNAT'd ${pc.forwardDnatRefused}); `
      + `output ${pc.output} (sent ${pc.outputSent} of which NAT'd ${pc.outputNat}, refused ${pc.outputRefused}, REJECT answers over lo ${pc.outputAnswered}, host's own packets ${hostOwn.length}); `
      + `${disagreements.length} disagreements, ${counterDiffs.length} counter differences, `
      + `${inbound.ambiguous + outbound.ambiguous} within ${SLACK * 1000} ms of a rate/window boundary followed the kernel, ${((Date.now() - t0) / 1000).toFixed(1)} s `
      + `(packets and addresses ${((tGen - t0) / 1000).toFixed(1)} s, conntrack entries ${((tCt1 - tGen) / 1000).toFixed(1)} s, in ${((tRun1 - tCt1) / 1000).toFixed(1)} s, `
      + `judged ${((tJudge1 - tRun1) / 1000).toFixed(1)} s, out with its conntrack entries ${((tRun2 - tJudge1) / 1000).toFixed(1)} s)`);
    expect({ disagreements: disagreements.slice(0, 10), total: disagreements.length }).toEqual({ disagreements: [], total: 0 });
    expect(counterDiffs).toEqual([]);
    // the run covered what it claims
    expect(cases.length + outCases.length).toBeGreaterThanOrEqual(count);
    for (const k of ['tcp-syn', 'udp', 'echo', 'established', 'related', 'tcp-invalid', 'forward', 'out-tcp-syn', 'out-udp', 'out-echo', 'out-established', 'out-related']) {
      expect(kinds.get(k) ?? 0).toBeGreaterThan(0);
    }
    expect(pc.input).toBeGreaterThan(0);
    expect(pc.forward).toBeGreaterThan(0);
    expect(pc.output).toBeGreaterThan(0);
    // every path of the ruleset is exercised both ways where it has both
    const routesOn = (t: string) => parseRuleset(fam, text).tables.get(t);
    const forwardAccepts = (routesOn('filter')?.chains.get('FORWARD')?.policy === 'ACCEPT') || (routesOn('filter')?.chains.get('FORWARD')?.rules.some((r) => r.target.kind === 'ACCEPT' || r.target.kind === 'jump') ?? false);
    if (forwardAccepts) expect(pc.forwardRouted + pc.forwardSnat + pc.forwardDnat + pc.forwardBoth).toBeGreaterThan(0);
    const dnatForwards = dnatRules(fam, text, topo, sources).length > 0 && parseRuleset(fam, text).tables.get('nat')!.chains.get('PREROUTING')!.rules
      .some((r) => r.target.kind === 'DNAT' && r.target.address !== undefined && !local.includes(r.target.address));
    if (dnatForwards) expect(pc.forwardDnat + pc.forwardBoth).toBeGreaterThanOrEqual(Math.min(20, Math.floor(count / 100)));
    if (routesOn('filter')?.chains.get('OUTPUT')?.policy === 'DROP') {
      expect(pc.outputSent).toBeGreaterThan(0);
      expect(pc.outputRefused).toBeGreaterThan(0);
    }
  });
});

afterAll(() => {
  if (summary.length) process.stdout.write(`\nverdicts differential (seed ${SEED}):\n  ${summary.join('\n  ')}\n`);
});
