/* eslint-disable no-bitwise */ // address arithmetic and the seeded PRNG
/**
 * Real tools' rules against the kernel (issue #20).
 *
 * The fixtures in test/realtools/fixtures/ are what ufw, fail2ban, firewalld
 * and Docker wrote, as iptables-save printed them (capture.sh made them in the
 * e2e image; they are kept so this test needs none of those tools). Each one is
 * loaded with iptables-restore / ip6tables-restore into a fresh network
 * namespace, and a few hundred seeded packets per fixture (TCP SYN to the ports
 * the rules name and beside them, from inside and outside the prefixes they
 * name and from banned addresses; UDP; ICMP echo; ESTABLISHED flows; INVALID
 * segments; forwarded packets, and for Docker packets from the containers'
 * bridges) are injected as Ethernet frames (test/kernel/verdicts-driver.py).
 * What the kernel did with each (delivered, forwarded as what, answered with
 * which RST / ICMP error, or silence) is compared with the offline evaluator's
 * verdict on the same packets, in the same order and at the same times
 * (`RulesetEvaluator.fromText(...).simulate`, the sequence form of `evaluate`:
 * ufw's `limit` is an xt_recent list that remembers earlier packets).
 *
 * A verdict the evaluator cannot decide offline (`Action.DEPENDS`, with what it
 * depends on) is counted and skipped; every other verdict must be the kernel's.
 * The evaluator must read every fixture: a ruleset it cannot read fails the test.
 *
 * CFW_REALTOOLS_PACKETS (default 300) sets the packets per fixture,
 * CFW_REALTOOLS_SEED the seed, CFW_REALTOOLS_FIXTURES another folder of
 * `<tool>.<v4|v6>.rules` files.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Action, ConnState, IpFamily, Protocol, RulesetEvaluator, TimedPacketProps, Verdict } from '../../lib';
import { EvaluatorOptions, RouteProps } from '../../lib/analysis/types';
import { bitsOf, formatAddress, parseAddress } from '../../lib/values/prefix';
import { prng } from '../fuzz/programs';
import { Lab, canUseNetns } from '../kernel/lab';
import { Wire } from '../kernel/wire';

const PACKETS = Number(process.env.CFW_REALTOOLS_PACKETS ?? 300);
const SEED = Number(process.env.CFW_REALTOOLS_SEED ?? 20261202);
const FIXTURES = process.env.CFW_REALTOOLS_FIXTURES ?? path.join(__dirname, 'fixtures');
const DRIVER = path.join(__dirname, '..', 'kernel', 'verdicts-driver.py');
/** Action.DEPENDS as the evaluator will spell it (not in every version of the enum yet). */
const DEPENDS = 'DEPENDS';

// ---------------------------------------------------------------- topology

interface Iface {
  readonly name: string;
  readonly v4: string;
  readonly v6: string;
  /** Prefixes routed out of this interface, through `gw4` / `gw6` (on link). */
  readonly nets4: string[];
  readonly nets6: string[];
  readonly gw4: string;
  readonly gw6: string;
}

/** eth0 holds the default routes (the internet side), eth1 a LAN; Docker's bridges come from its rules. */
const ETH0: Iface = { name: 'eth0', v4: '198.51.100.1', v6: '2001:db8:1::1', nets4: [], nets6: [], gw4: '198.51.100.2', gw6: '2001:db8:1::2' };
const ETH1: Iface = {
  name: 'eth1', v4: '192.0.2.1', v6: '2001:db8:2::1', nets4: ['192.0.2.0/24'], nets6: ['2001:db8:2::/64'], gw4: '192.0.2.254', gw6: '2001:db8:2::fe',
};

/**
 * The host's interfaces for a ruleset: eth0 and eth1, plus one interface per
 * bridge the rules masquerade (`-s NET ! -o BRIDGE -j MASQUERADE`, as Docker
 * writes for each of its networks), addressed as Docker addresses them (.1).
 */
function topologyOf(text: string): Iface[] {
  const ifaces = [ETH0, ETH1];
  let n = 0;
  for (const m of text.matchAll(/^-A POSTROUTING -s (\d+\.\d+\.\d+\.\d+)\/(\d+) ! -o (\S+) -j MASQUERADE$/gm)) {
    const [, base, len, name] = m;
    const b = parseAddress(IpFamily.V4, base);
    n += 1;
    ifaces.push({
      name,
      v4: formatAddress(IpFamily.V4, b + 1n),
      v6: `2001:db8:d${n}::1`,
      nets4: [`${base}/${len}`],
      nets6: [`2001:db8:d${n}::/64`],
      gw4: formatAddress(IpFamily.V4, b + 254n),
      gw6: `2001:db8:d${n}::fe`,
    });
  }
  return ifaces;
}

function routesOf(ifaces: Iface[], fam: IpFamily): RouteProps[] {
  const out: RouteProps[] = [];
  for (const i of ifaces) for (const cidr of fam === IpFamily.V4 ? i.nets4 : i.nets6) out.push({ cidr, iface: i.name });
  out.push({ cidr: fam === IpFamily.V4 ? '0.0.0.0/0' : '::/0', iface: ETH0.name });
  return out;
}

function evaluatorOptions(ifaces: Iface[], fam: IpFamily): EvaluatorOptions {
  const a = (i: Iface) => (fam === IpFamily.V4 ? i.v4 : i.v6);
  return {
    localAddresses: ifaces.map(a),
    routes: routesOf(ifaces, fam),
    interfaceAddresses: ifaces.map((i) => ({ iface: i.name, address: a(i) })),
  };
}

/** The firewalled namespace `srv` and one client namespace per interface, which never send on their own. */
class RealLab {
  public readonly lab = new Lab('cfwrt');
  public srv = '';
  public clients: Array<{ ns: string; ifname: string; mac: string; srvmac: string }> = [];

  public constructor(public readonly ifaces: Iface[]) {}

  public up(): void {
    const lab = this.lab;
    this.srv = lab.netns('srv');
    const sysctl = (ns: string, kv: string[]) => lab.exec(ns, 'sysctl', ['-q', '-w', ...kv]);
    sysctl(this.srv, [
      'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.router_solicitations=0',
      'net.ipv6.conf.default.accept_ra=0', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.default.rp_filter=0', 'net.ipv4.icmp_ratelimit=0', 'net.ipv6.icmp.ratelimit=0', 'net.ipv4.icmp_msgs_per_sec=1000000',
      'net.ipv4.icmp_msgs_burst=1000000', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.default.send_redirects=0',
    ]);
    this.ifaces.forEach((i, n) => {
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
      for (const gw of [i.gw4, i.gw6]) lab.exec(this.srv, 'ip', ['neigh', 'replace', gw, 'lladdr', cmac, 'nud', 'permanent', 'dev', i.name]);
      for (const cidr of i.nets4) lab.exec(this.srv, 'ip', ['route', 'add', cidr, 'via', i.gw4, 'dev', i.name, 'onlink']);
      for (const cidr of i.nets6) lab.exec(this.srv, 'ip', ['-6', 'route', 'add', cidr, 'via', i.gw6, 'dev', i.name, 'onlink']);
      if (i.name === ETH0.name) {
        lab.exec(this.srv, 'ip', ['route', 'add', 'default', 'via', i.gw4, 'dev', i.name, 'onlink']);
        lab.exec(this.srv, 'ip', ['-6', 'route', 'add', 'default', 'via', i.gw6, 'dev', i.name, 'onlink']);
      }
      this.clients.push({ ns: c, ifname: 'eth0', mac: cmac, srvmac: smac });
    });
  }
}

// ---------------------------------------------------------------- packets


interface Case {
  readonly wire: Wire;
  readonly packet: Omit<TimedPacketProps, 'at'>;
  /** conntrack -I arguments that must exist before the packet. */
  readonly conntrack?: string[];
  readonly kind: string;
}

const NEVER_SOURCES = {
  [IpFamily.V4]: ['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/3'],
  [IpFamily.V6]: ['::/8', 'fe80::/10', 'ff00::/8'],
};
const EXTRA_SOURCES = {
  [IpFamily.V4]: ['203.0.113.50', '203.0.113.7', '10.1.2.3', '198.51.100.7', '192.0.2.7', '15.15.15.15', '100.64.1.1'],
  [IpFamily.V6]: ['2001:db8:bad::50', '2001:db8:bad::7', '2001:db8:1::7', '2001:db8:2::7', '2a00:db8::7', 'fc00::7'],
};
const EXTRA_PORTS = [1, 22, 23, 53, 67, 68, 80, 137, 138, 139, 443, 445, 546, 547, 1900, 2222, 5353, 5432, 8080, 65535];

function inCidr(fam: IpFamily, a: bigint, cidr: string): boolean {
  const bits = bitsOf(fam);
  const [base, len] = cidr.split('/');
  const l = Number(len);
  const mask = l === 0 ? 0n : ((1n << BigInt(l)) - 1n) << BigInt(bits - l);
  return (a & mask) === (parseAddress(fam, base) & mask);
}

/**
 * Sources inside and just outside every prefix the rules name (`-s`), and
 * ports on and beside every port and range they name (`--dport(s)`, `--sport`).
 * Read from the text with patterns, not the evaluator's parser: the pools must
 * not depend on what the evaluator reads.
 */
function pools(fam: IpFamily, text: string, ifaces: Iface[]): { sources: string[]; ports: number[]; named: string[]; namedPorts: number[] } {
  const bits = bitsOf(fam);
  const top = (1n << BigInt(bits)) - 1n;
  const src = new Set<bigint>(EXTRA_SOURCES[fam].map((a) => parseAddress(fam, a)));
  const named = new Set<bigint>();
  for (const m of text.matchAll(/(?:^|\s)-s (\S+)/gm)) {
    const [base, len] = m[1].includes('/') ? m[1].split('/') : [m[1], String(bits)];
    const l = Number(len);
    if (l < 8) continue;
    const lo = parseAddress(fam, base);
    const hi = lo | (l === bits ? 0n : (1n << BigInt(bits - l)) - 1n);
    for (const x of [lo, lo + 1n, hi, hi - 1n, lo - 1n, hi + 1n]) if (x >= 0n && x <= top) { src.add(x); named.add(x); }
  }
  const ports = new Set<number>(EXTRA_PORTS);
  const namedPorts = new Set<number>();
  for (const m of text.matchAll(/--(?:dports?|sport|destination-ports?) (\S+)/g)) {
    for (const part of m[1].split(',')) {
      const [lo, hi] = part.split(':').map(Number);
      for (const p of [lo - 1, lo, lo + 1, (hi ?? lo) - 1, hi ?? lo, (hi ?? lo) + 1]) if (p >= 1 && p <= 65535) ports.add(p);
      for (const p of [lo, hi ?? lo]) namedPorts.add(p);
    }
  }
  for (const m of text.matchAll(/--to-destination \S+:(\d+)/g)) ports.add(Number(m[1]));
  const local = ifaces.map((i) => parseAddress(fam, fam === IpFamily.V4 ? i.v4 : i.v6));
  const usable = (xs: Set<bigint>) => [...xs]
    .filter((a) => !NEVER_SOURCES[fam].some((c) => inCidr(fam, a, c)) && !local.includes(a))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((a) => formatAddress(fam, a));
  return { sources: usable(src), ports: [...ports].sort((a, b) => a - b), named: usable(named), namedPorts: [...namedPorts].sort((a, b) => a - b) };
}

function flagText(f: number): string {
  const names = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG'];
  const set = names.filter((_, i) => f & (1 << i));
  return set.length ? set.join(',') : 'NONE';
}

function generate(fam: IpFamily, count: number, seed: number, text: string, ifaces: Iface[]): { cases: Case[]; sources: string[] } {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const { sources, ports, named, namedPorts } = pools(fam, text, ifaces);
  const v4 = fam === IpFamily.V4;
  const icmpP = v4 ? 1 : 58;
  const addrOf = (i: Iface) => (v4 ? i.v4 : i.v6);
  const cases: Case[] = [];
  let id = 1;
  const base = (client: number, src: string, dst: string, proto: number): Wire => {
    const w: Wire = { id, client, family: v4 ? 4 : 6, src, dst, proto, sport: 1024 + (id % 60000), ttl: 64 };
    id += 1;
    return w;
  };
  const packetOf = (w: Wire, state: ConnState): Omit<TimedPacketProps, 'at'> => ({
    family: fam,
    protocol: w.proto === 6 ? Protocol.TCP : w.proto === 17 ? Protocol.UDP : w.proto === 1 ? Protocol.ICMP : Protocol.ICMPV6,
    source: w.src,
    destination: w.dst,
    sourcePort: w.sport,
    destinationPort: w.proto === 6 || w.proto === 17 ? w.dport : undefined,
    inInterface: ifaces[w.client].name,
    state,
    tcpFlags: w.proto === 6 ? flagText(w.flags ?? 0) : undefined,
    icmpType: w.icmpType,
    icmpCode: w.icmpCode,
    ttl: w.ttl,
  });
  // bridges (Docker's): their containers' own addresses, .2 as Docker gives them
  const bridges = ifaces.slice(2).map((i, n) => ({ n: n + 2, i }));
  const containerOf = (i: Iface) => {
    const [b] = (v4 ? i.nets4 : i.nets6)[0].split('/');
    return formatAddress(fam, parseAddress(fam, b) + 2n);
  };
  const outside = v4 ? '203.0.113.9' : '2001:db8:ff::9';
  const port = () => (rnd() < 0.8 ? pick(ports) : 1 + Math.floor(rnd() * 65535));
  // a short burst at a limited port from one source (ufw's `limit`: the sixth SYN in 30 s is refused)
  const burster = sources[0];
  for (let k = 0; k < 8; k++) {
    const w = { ...base(0, burster, ETH0[v4 ? 'v4' : 'v6'], 6), dport: 2222, flags: 2, seq: 100 + k };
    cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), kind: 'limit-burst' });
  }
  // every source the rules name (and its neighbours) against every port they name: bans, allowed prefixes
  const pairs = named.flatMap((src) => namedPorts.map((dport) => ({ src, dport })));
  for (const { src, dport } of pairs.slice(0, Math.floor(count / 3))) {
    const w = { ...base(0, src, ETH0[v4 ? 'v4' : 'v6'], 6), dport, flags: 2, seq: 200 };
    cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), kind: 'named' });
  }
  for (let guard = 0; cases.length < count && guard < count * 20; guard++) {
    const client = rnd() < 0.8 ? 0 : 1;
    const src = client === 0 ? pick(sources) : formatAddress(fam, parseAddress(fam, (v4 ? ETH1.nets4 : ETH1.nets6)[0].split('/')[0]) + BigInt(7 + Math.floor(rnd() * 40)));
    const local = rnd() < 0.85 ? addrOf(ifaces[client]) : addrOf(pick(ifaces));
    const r = rnd();
    if (r < 0.42) {
      const w = { ...base(client, src, local, 6), dport: port(), flags: 2, seq: Math.floor(rnd() * 2 ** 31) };
      cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), kind: 'tcp-syn' });
    } else if (r < 0.58) {
      const w = { ...base(client, src, local, 17), dport: port() };
      cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), kind: 'udp' });
    } else if (r < 0.66) {
      const w = { ...base(client, src, local, icmpP), icmpType: v4 ? 8 : 128, icmpCode: 0, icmpId: id % 65536 };
      cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), kind: 'echo' });
    } else if (r < 0.78) {
      const which = pick(['tcp', 'udp']);
      const dport = port();
      const w = which === 'tcp' ? { ...base(client, src, local, 6), dport, flags: pick([16, 24]), seq: 77, ack: 99 } : { ...base(client, src, local, 17), dport };
      const conntrack = ['-p', which, '-s', src, '-d', local, '--sport', String(w.sport), '--dport', String(dport),
        ...(which === 'tcp' ? ['--state', 'ESTABLISHED'] : []), '-u', 'SEEN_REPLY,ASSURED', '--timeout', '600'];
      cases.push({ wire: w, packet: packetOf(w, ConnState.ESTABLISHED), kind: 'established', conntrack });
    } else if (r < 0.82) {
      const w = { ...base(client, src, local, 6), dport: port(), flags: pick([0, 3]), seq: 5 };
      cases.push({ wire: w, packet: packetOf(w, ConnState.INVALID), kind: 'tcp-invalid' });
    } else if (bridges.length > 0 && r < 0.92) {
      // from a container out through the host (Docker: forwarded, masqueraded)
      const { n, i } = pick(bridges);
      const dst = rnd() < 0.5 ? outside : formatAddress(fam, parseAddress(fam, (v4 ? ETH1.nets4 : ETH1.nets6)[0].split('/')[0]) + 50n);
      const proto = pick([6, 17, icmpP]);
      const w: Wire = proto === 6 ? { ...base(n, containerOf(i), dst, 6), dport: port(), flags: 2, seq: 9 }
        : proto === 17 ? { ...base(n, containerOf(i), dst, 17), dport: port() }
          : { ...base(n, containerOf(i), dst, icmpP), icmpType: v4 ? 8 : 128, icmpCode: 0, icmpId: id % 65536 };
      cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), kind: 'from-bridge' });
    } else {
      // forwarded: from the internet side to the LAN or to a container, and back
      const to = client === 0 ? (bridges.length > 0 && rnd() < 0.5 ? containerOf(pick(bridges).i) : formatAddress(fam, parseAddress(fam, (v4 ? ETH1.nets4 : ETH1.nets6)[0].split('/')[0]) + 50n)) : outside;
      const proto = pick([6, 6, 17, icmpP]);
      const w: Wire = proto === 6 ? { ...base(client, src, to, 6), dport: port(), flags: 2, seq: 9 }
        : proto === 17 ? { ...base(client, src, to, 17), dport: port() }
          : { ...base(client, src, to, icmpP), icmpType: v4 ? 8 : 128, icmpCode: 0, icmpId: id % 65536 };
      cases.push({ wire: w, packet: packetOf(w, ConnState.NEW), kind: 'forward' });
    }
  }
  return { cases, sources };
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

function expected(v: Verdict, c: Case): string {
  const ports = c.wire.proto === 6 || c.wire.proto === 17;
  if (v.action === Action.ACCEPT) {
    if (!v.forwarded) return 'delivered';
    const dst = v.translatedDestination ?? c.wire.dst;
    const dport = v.translatedDestinationPort ?? c.wire.dport;
    const src = v.translatedSource ?? c.wire.src;
    return `forwarded ${v.outInterface} ${src} > ${dst}${ports ? `:${dport}` : ''}`;
  }
  if (v.action === Action.REJECT) return `answered ${REJECT_ANSWER[v.rejectWith!] ?? v.rejectWith}`;
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

// ---------------------------------------------------------------- the test

const ready = canUseNetns();
const FIXTURE_FILES = fs.existsSync(FIXTURES) ? fs.readdirSync(FIXTURES).filter((f) => /^[\w-]+\.v[46]\.rules$/.test(f)).sort() : [];
const summary: string[] = [];

test('the fixtures are there', () => {
  expect(FIXTURE_FILES.length).toBeGreaterThan(0);
});

describe.each(FIXTURE_FILES.map((f, i) => [f, i] as const))('%s', (file, index) => {
  const fam = file.includes('.v6.') ? IpFamily.V6 : IpFamily.V4;
  const text = fs.readFileSync(path.join(FIXTURES, file), 'utf8');
  const ifaces = topologyOf(text);
  const lab = new RealLab(ifaces);
  beforeAll(() => {
    if (!ready) throw new Error('the real-tools test needs root and network namespaces. Nothing was tested.');
    lab.up();
  });
  afterAll(() => lab.lab.destroy());

  test('the kernel and the evaluator agree on every packet the evaluator can decide', () => {
    const t0 = Date.now();
    // the kernel takes the rules first: a fixture it refused would be no fixture
    lab.lab.loadRules(lab.srv, fam === IpFamily.V4 ? 'v4' : 'v6', text);
    let evaluator: RulesetEvaluator;
    try {
      evaluator = RulesetEvaluator.fromText(fam, text, evaluatorOptions(ifaces, fam));
    } catch (e) {
      summary.push(`${file}: the evaluator cannot read it: ${(e as Error).message}`);
      throw new Error(`RulesetEvaluator.fromText cannot read ${file}, rules a real tool wrote (issue #20): ${(e as Error).message}`);
    }
    lab.lab.exec(lab.srv, 'conntrack', ['-F'], { check: false });
    const { cases } = generate(fam, PACKETS, SEED + index * 7919, text, ifaces);
    for (const c of cases) if (c.conntrack) lab.lab.exec(lab.srv, 'conntrack', ['-I', ...c.conntrack]);
    const r = spawnSync('python3', [DRIVER], {
      input: JSON.stringify({ srv: lab.srv, clients: lab.clients, gap_us: 200, packets: cases.map((c) => c.wire) }),
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      timeout: 120_000,
    });
    if (r.status !== 0) throw new Error(`driver failed: ${r.stderr}`);
    const obs: Observed[] = JSON.parse(r.stdout).results;
    const verdicts = evaluator.simulate(cases.map((c, i) => ({ ...c.packet, at: (obs[i].t + obs[i].t1) / 2 })));

    let depends = 0;
    const dependsOn = new Map<string, number>();
    const disagreements: string[] = [];
    const outcomes = new Map<string, number>();
    cases.forEach((c, i) => {
      const v = verdicts[i];
      const o = observed(obs[i], c);
      const kind = o.split(' ').slice(0, 2).join(' ');
      outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
      if ((v.action as string) === DEPENDS) {
        depends += 1;
        for (const d of (v as Verdict & { dependsOn?: string[] }).dependsOn ?? ['?']) dependsOn.set(d, (dependsOn.get(d) ?? 0) + 1);
        return;
      }
      const e = expected(v, c);
      if (e !== o) disagreements.push(`#${c.wire.id} ${c.kind} ${JSON.stringify(c.packet)}: kernel ${o}, evaluator ${e}\n    ${v.trace.join('\n    ')}`);
    });
    const decided = cases.length - depends;
    summary.push(`${file}: ${cases.length} packets sent, ${decided} decided, ${depends} depends${dependsOn.size ? ` (${[...dependsOn].map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}, ${disagreements.length} disagreements; kernel: ${[...outcomes].map(([k, n]) => `${k} ${n}`).join(', ')}; ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect({ disagreements: disagreements.slice(0, 10), total: disagreements.length }).toEqual({ disagreements: [], total: 0 });
    // the run covered what it claims
    expect(cases.length).toBe(PACKETS);
    const kinds = new Set(cases.map((c) => c.kind));
    if (/\s-s \S/.test(text)) expect(kinds.has('named')).toBe(true);
    for (const k of ['limit-burst', 'tcp-syn', 'udp', 'echo', 'established', 'tcp-invalid', 'forward']) expect([k, kinds.has(k)]).toEqual([k, true]);
    if (ifaces.length > 2) expect(kinds.has('from-bridge')).toBe(true);
  });
});

afterAll(() => {
  if (summary.length) process.stdout.write(`\nreal tools' rules, kernel vs evaluator (seed ${SEED}):\n  ${summary.join('\n  ')}\n`);
});
