/**
 * Random programs of the public API, valid or hostile, for the fuzz test and
 * for the golden corpus that keeps refactors byte-identical (test/golden).
 */
import { App, TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import {
  Blocklist, BogonFilter, ClosedPortResponse, Distro, DropLogger, FirewallPart, GuardMode, IcmpEchoLimit, Installer, IpFamily, Match, NatGateway,
  OutboundPolicy, PartHost, PartRules, Peer, Port,
  PortScanTrap, RuleSlot, SshBruteforceGuard, StatefulHost, SynFloodGuard, Target,
} from '../../lib';

export const SECRET = 'SECRETKEYMATERIAL';

/** mulberry32: a small seeded PRNG (bit operations are its algorithm). */
/* eslint-disable no-bitwise */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/* eslint-enable no-bitwise */

/** Values nobody should pass, and some that look right but are not. */
const HOSTILE: Array<() => unknown> = [
  () => 'false', () => 'true', () => '', () => ' ', () => 'UDP', () => 'TCP', () => 'INPUT', () => 'ACCEPT', () => 'udp', () => '-j',
  () => '--dport', () => '!', () => 'fw-open', () => 'IN_SSH', () => 'TCP-PORTSCAN', () => 'syn_flood', () => '${file("/etc/passwd")}',
  () => '%{ for x in y }', () => 'a\nb', () => 'x\u0000y', () => 'é', () => 'x'.repeat(300), () => '0', () => '22', () => 'NaN',
  () => 'eth0; rm -rf /', () => '"quoted"', () => 'lo', () => 'eth+', () => '+',
  () => NaN, () => Infinity, () => -Infinity, () => -1, () => 0, () => 0.5, () => 1e9, () => 2 ** 53, () => -1e300, () => 10_001,
  () => 65_536, () => 129, () => 21, () => 7159,
  () => null, () => true, () => false, () => [], () => ({}), () => [[]], () => Buffer.from(SECRET), () => () => 1, () => Symbol('s'),
  () => 10n, () => new Date(0),
  () => Port.SSH, () => Peer.any(), () => Peer.ipv4('not-an-ip'), () => Peer.ipv6('2001:db8::1/200'), () => Port.tcp(0),
  () => Port.tcpRange(10, 1), () => Port.udp(NaN), () => [Port.SSH], () => [Peer.any()], () => ['eth0'], () => [null],
  () => Peer.ipv4('0.0.0.0/0'), () => Peer.anyIpv6(), () => Peer.ipv4('198.51.100.2'),
  () => Port.tcp('22' as any), () => Port.udpRange(1, 70_000), () => Port.tcp(-1e300), () => Peer.ipv4(Buffer.from(SECRET) as any),
  () => Peer.ipv6(Symbol('x') as any), () => Peer.ipv4('${TfToken[TOKEN.99]}'), () => Peer.ipv6('fe80::1%eth0'), () => Peer.ipv4('::ffff:1.2.3.4'),
  () => 'V6', () => 'V4 ', () => IpFamily.V6,
];
const HOSTILE_IDS: Array<() => unknown> = [() => 'x'.repeat(3000), () => '', () => 'a\nb', () => 42, () => undefined, () => 'IN_SSH', () => '${x}'];

/** A NAT gateway as the program declared it (valid values only). */
export interface DeclaredNat {
  wan: string;
  lans: Array<{ iface: string; cidr: Peer; ipv6Cidr?: Peer }>;
  forwards: Array<{ port: Port; to: string; toPort?: number; from?: Peer }>;
}

/** What the program declared, for the oracle: recorded only when a call returned. */
export interface Declared {
  families: IpFamily[];
  openings: Array<{ port: Port; peer?: Peer; iface?: string }>;
  blocks: Peer[];
  trusted: string[];
  guards: Port[];
  trap: boolean;
  bogon: boolean;
  /** The NAT gateway (FORWARD); 'unknown' when a hostile value got into one that was built anyway. */
  nat?: DeclaredNat | 'unknown';
  /** What may leave under an outbound policy DROP (undefined: policy ACCEPT, everything); 'unknown' as above. */
  outbound?: { allow: Port[]; allowTo: Peer[]; ping: boolean } | 'unknown';
  /** What OUTPUT_OPEN parts let out (under an outbound policy DROP). */
  egress: Array<{ port: Port; destination: Peer }>;
}

/**
 * A third-party part: lets the host open connections to one port of a peer
 * (an OUTPUT_OPEN rule), declared as egress.
 */
export class OutboundTo extends FirewallPart {
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

/** Ports and peers a host may be allowed to reach (outbound allow / allowTo, OutboundTo parts). */
const OUT_PORTS = [Port.tcp(443), Port.udp(53), Port.tcp(5432), Port.tcpRange(8000, 8010), Port.udp(123)];
const OUT_PEERS = [Peer.ipv4('198.51.100.0/24'), Peer.ipv4('192.0.2.7'), Peer.ipv4('203.0.113.0/25'), Peer.ipv6('2001:db8:1::/64'), Peer.ipv6('2001:db8:2::9')];
/** The NAT gateway's LANs: interfaces (some patterns, some overlapping the WAN or each other), subnets. */
const NAT_WANS = ['ppp0', 'eth0', 'wan0'];
const NAT_LAN_IFACES = ['eth1', 'eth2', 'lan+', 'eth+', 'br0'];
const NAT_LAN4 = ['192.168.0.0/24', '10.3.0.0/16'];
const NAT_LAN6 = ['2001:db8:9::/64', '2001:db8:a::/64'];
const NAT_TARGETS = ['192.168.0.5', '10.3.0.5'];

export interface Case {
  readonly index: number;
  readonly steps: string[];
  readonly stack: TerraformStack;
  host?: StatefulHost;
  readonly declared: Declared;
}

const VALID_PORTS = [
  Port.SSH, Port.HTTP, Port.tcp(3306), Port.tcp(5432), Port.tcp(8080), Port.udp(53), Port.udp(5353), Port.tcpRange(6000, 6010), Port.tcp(2222),
];
const VALID_PEERS = [
  Peer.ipv4('198.51.100.0/24'), Peer.ipv4('198.51.100.2'), Peer.ipv4('203.0.113.0/25'), Peer.ipv4('192.0.2.7'),
  Peer.ipv6('2001:db8:1::/64'), Peer.ipv6('2001:db8:1::2'), Peer.ipv6('2001:db8:2::/48'), Peer.any(), Peer.anyIpv4(),
];
const VALID_IFACES = ['eth0', 'eth1', 'wg0', 'eth+', 'lo'];

/**
 * Builds case `index`: a host and 2 to 6 operations. `hostility` is the chance
 * of a hostile value where a valid one fits (0: valid programs only).
 */
export function buildCase(index: number, rnd: () => number, steps: string[], hostility = 0.07, outdir?: string): Case {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const hostile = (): any => pick(HOSTILE)();
  /** A valid value, or (with probability `p`) a hostile one. */
  const maybe = <T>(valid: () => T, p = hostility): any => (rnd() < p ? hostile() : valid());
  /** A draw that is hostile with chance `p` at the default hostility (scaled with it; the same draws either way). */
  const odd = (p: number): boolean => rnd() < p * (hostility / 0.07);
  const stack = new TerraformStack(new App(outdir !== undefined ? { outdir } : undefined), 'fuzz');
  const tokens = new TerraformVariable(stack, 'tok', { type: 'string' });
  const declared: Declared = { families: [], openings: [], blocks: [], trusted: [], guards: [], trap: false, bogon: false, egress: [] };
  const c: Case = { index, steps, stack, declared };

  // the host
  const props: Record<string, any> = {};
  if (rnd() < 0.7) props.allow = VALID_PORTS.filter(() => rnd() < 0.3);
  if (rnd() < 0.3) props.ipv6 = rnd() < 0.5;
  if (rnd() < 0.3) props.ping = rnd() < 0.5;
  if (rnd() < 0.2) props.trustedInterfaces = ['eth7'];
  if (rnd() < 0.2) props.closedPortResponse = pick([ClosedPortResponse.REJECT, ClosedPortResponse.DROP]);
  if (rnd() < 0.25) {
    props.outbound = {
      policy: OutboundPolicy.DROP,
      allow: OUT_PORTS.filter(() => rnd() < 0.4),
      allowTo: OUT_PEERS.filter((peer) => rnd() < 0.3 && (props.ipv6 !== false || !peer.hasFamily(IpFamily.V6))),
    };
    if (rnd() < 0.3) props.outbound.ping = rnd() < 0.5;
  }
  if (rnd() < 0.1) props.reversePathFilter = false;
  if (rnd() < 0.15) {
    props.connection = { host: '203.0.113.10', privateKey: `-----BEGIN KEY-----\n${SECRET}\n-----END KEY-----\n` };
    props.distro = pick([Distro.DEBIAN, Distro.ARCH]);
    props.installer = Installer.NULL_RESOURCE;
  }
  const hostKeys = ['allow', 'ipv6', 'ping', 'trustedInterfaces', 'closedPortResponse', 'outbound', 'reversePathFilter', 'connection',
    'distro', 'installer', 'rollbackSeconds', 'takeOver', 'connection.host', 'connection.user', 'connection.port', 'connection.privateKey',
    'connection.timeout', 'connection.hostKey', 'connection.bastion', 'outbound.policy', 'outbound.allow', 'outbound.allowTo', 'outbound.ping',
    'allow[0]', 'trustedInterfaces[0]', 'keepForeignRules', 'keepForeignRules[0]'];
  let hostileKey = '';
  if (odd(0.25)) {
    const key = pick(hostKeys);
    hostileKey = key;
    const value = rnd() < 0.1 ? (rnd() < 0.5 ? tokens.stringValue : tokens.numberValue) : hostile();
    const [head, tail] = key.split('.');
    if (tail !== undefined) {
      props[head] = { ...(head === 'connection' ? { host: '203.0.113.10', privateKey: 'k' } : {}), ...(typeof props[head] === 'object' ? props[head] : {}), [tail]: value };
    } else if (key.endsWith('[0]')) {
      props[key.slice(0, -3)] = [value];
    } else {
      props[key] = value;
    }
    steps.push(`host ${key}=${show(value)}`);
  }
  const hostId = odd(0.05) ? pick(HOSTILE_IDS)() : 'web';
  steps.unshift(`new StatefulHost(${show(hostId)}, ${Object.keys(props).join(',')})`);
  const h = new StatefulHost(stack, hostId as string, props);
  c.host = h;
  declared.families = h.families;
  for (const p of props.allow ?? []) declared.openings.push({ port: p });
  declared.trusted.push(...(props.trustedInterfaces ?? []));
  if (hostileKey.startsWith('outbound')) {declared.outbound = 'unknown';} else if (props.outbound?.policy === OutboundPolicy.DROP) {
    declared.outbound = { allow: props.outbound.allow ?? [], allowTo: props.outbound.allowTo ?? [], ping: props.outbound.ping ?? true };
  }

  /** Mostly a port not opened yet (opening one twice is an error, and would end most cases early). */
  const freshPort = (): Port => {
    const unused = VALID_PORTS.filter((p) => !declared.openings.some((o) => o.port.toString() === p.toString()));
    return unused.length > 0 && rnd() < 0.9 ? pick(unused) : pick(VALID_PORTS);
  };
  const partId = (name: string) => (odd(0.08) ? pick(HOSTILE_IDS)() : `${name}${steps.length}`);
  const ops: Array<() => void> = [
    () => {
      const port = maybe(() => freshPort());
      steps.push(`allow(${show(port)})`);
      h.allow(port);
      declared.openings.push({ port });
    },
    () => {
      const peer = maybe(() => pick(VALID_PEERS));
      const port = maybe(() => freshPort());
      steps.push(`allowFrom(${show(peer)}, ${show(port)})`);
      h.allowFrom(peer, port);
      declared.openings.push({ port, peer });
    },
    () => {
      const iface = maybe(() => pick(VALID_IFACES));
      const port = maybe(() => freshPort());
      steps.push(`allowOn(${show(iface)}, ${show(port)})`);
      h.allowOn(iface, port);
      declared.openings.push({ port, iface });
    },
    () => {
      const family = maybe(() => pick(h.families), 0.5);
      steps.push(`renderRules(${show(family)})`);
      h.renderRules(family);
    },
    () => {
      const peer = maybe(() => pick(VALID_PEERS.filter((p) => !p.isAny)));
      steps.push(`block(${show(peer)})`);
      h.block(peer);
      declared.blocks.push(peer);
    },
    () => {
      const p = part({
        port: () => pick([Port.SSH, Port.tcp(2222), Port.udp(5353), Port.tcp(5432), Port.tcp(6005)]),
        mode: () => pick([GuardMode.RECENT, GuardMode.HASHLIMIT]),
        shortWindow: () => ({ hits: 1 + Math.floor(rnd() * 20), seconds: 1 + Math.floor(rnd() * 100) }),
        longWindow: () => ({ hits: maybe(() => 4), seconds: maybe(() => 1800) }),
        perMinute: () => 1 + Math.floor(rnd() * 600_000),
        burst: () => 1 + Math.floor(rnd() * 10_000),
        matchTtl: () => rnd() < 0.5,
        chainName: () => pick(['IN_SSH_X', 'GUARD-1', 'g']),
        listName: () => pick(['lst', 'sshx', 'a-b_c']),
        exempt: () => [pick(VALID_PEERS)],
        ipv4PrefixLength: () => pick([32, 24, 16]),
        ipv6PrefixLength: () => pick([64, 56, 48, 128]),
      });
      const id = partId('guard');
      steps.push(`new SshBruteforceGuard(${show(id)}, ${describeProps(p)})`);
      const g = new SshBruteforceGuard(h, id as string, p);
      declared.guards.push(g.port);
    },
    () => {
      const p = part({
        peers: () => VALID_PEERS.filter((x) => !x.isAny && rnd() < 0.4),
        setName: () => pick(['deny', 'bad-hosts', 'x']),
        file: () => (hostility > 0 ? hostile() : undefined),
      });
      const id = partId('blocklist');
      steps.push(`new Blocklist(${show(id)}, ${describeProps(p)})`);
      new Blocklist(h, id as string, p);
      declared.blocks.push(...(p.peers ?? []));
    },
    () => {
      const p = part({
        seconds: () => 1 + Math.floor(rnd() * 3600),
        tcp: () => rnd() < 0.8,
        udp: () => rnd() < 0.8,
        exempt: () => [pick(VALID_PEERS)],
        ipv4PrefixLength: () => 24,
        ipv6PrefixLength: () => 56,
      });
      const id = partId('trap');
      steps.push(`new PortScanTrap(${show(id)}, ${describeProps(p)})`);
      new PortScanTrap(h, id as string, p);
      declared.trap = true;
    },
    () => {
      const p = part({
        perSecond: () => 1 + Math.floor(rnd() * 10_000),
        burst: () => 1 + Math.floor(rnd() * 10_000),
        perSource: () => rnd() < 0.5,
        ipv6PrefixLength: () => 64,
      });
      const id = partId('syn');
      steps.push(`new SynFloodGuard(${show(id)}, ${describeProps(p)})`);
      new SynFloodGuard(h, id as string, p);
    },
    () => {
      const p = part({ perSecond: () => 1 + Math.floor(rnd() * 100), burst: () => 1 + Math.floor(rnd() * 100) });
      const id = partId('echo');
      steps.push(`new IcmpEchoLimit(${show(id)}, ${describeProps(p)})`);
      new IcmpEchoLimit(h, id as string, p);
    },
    () => {
      const p = part({ prefix: () => 'fw: ', perMinute: () => 1 + Math.floor(rnd() * 1000), burst: () => 1 + Math.floor(rnd() * 1000), level: () => Math.floor(rnd() * 8) });
      const id = partId('log');
      steps.push(`new DropLogger(${show(id)}, ${describeProps(p)})`);
      new DropLogger(h, id as string, p);
    },
    () => {
      const p = part({ iface: () => pick(['eth0', 'ppp0']), allow: () => [Peer.ipv4('100.64.0.0/10')] }, ['iface']);
      const id = partId('bogon');
      steps.push(`new BogonFilter(${show(id)}, ${describeProps(p)})`);
      new BogonFilter(h, id as string, p as any);
      declared.bogon = true;
    },
    () => {
      // one or two LANs, interfaces that may be patterns or overlap the WAN (then: an error), port forwards
      let hostileUsed = false;
      const m = <T>(valid: () => T, p = hostility): any => {
        if (rnd() < p) { hostileUsed = true; return hostile(); }
        return valid();
      };
      const lans = [0, ...(rnd() < 0.35 ? [1] : [])].map((k) => ({
        iface: m(() => pick(NAT_LAN_IFACES)),
        cidr: m(() => NAT_LAN4[k]),
        ...(rnd() < 0.6 ? { ipv6Cidr: m(() => NAT_LAN6[k]) } : {}),
      }));
      const forwards = NAT_TARGETS.slice(0, Math.floor(rnd() * 3)).map((to, k) => ({
        port: m(() => [Port.tcp(8000), Port.udpRange(9000, 9010)][k]),
        to: m(() => (lans.length > 1 ? to : NAT_TARGETS[0])),
        ...(rnd() < 0.5 && k === 0 ? { toPort: m(() => 80) } : {}),
        ...(rnd() < 0.3 ? { from: m(() => pick([Peer.ipv4('198.51.100.0/24'), Peer.ipv4('203.0.113.0/25')])) } : {}),
      }));
      let p: any = { wan: m(() => pick(NAT_WANS)), lans, ...(forwards.length > 0 ? { portForwards: forwards } : {}) };
      if (rnd() < 0.2) p.snat = m(() => '203.0.113.1');
      if (odd(0.03)) { p = hostile(); hostileUsed = true; }
      const id = partId('nat');
      steps.push(`new NatGateway(${show(id)}, ${describeProps(p)}${lans.length > 1 || forwards.length > 0 ? ` lans ${lans.map((l) => `${show(l.iface)} ${show(l.cidr)}${l.ipv6Cidr ? ` ${show(l.ipv6Cidr)}` : ''}`).join(', ')} forwards ${forwards.map((f) => `${show(f.port)}>${show(f.to)}:${show(f.toPort)} from ${show(f.from)}`).join(', ')}` : ''})`);
      new NatGateway(h, id as string, p);
      declared.nat = hostileUsed ? 'unknown' : {
        wan: p.wan,
        lans: lans.map((l) => ({ iface: l.iface, cidr: Peer.ipv4(l.cidr), ipv6Cidr: l.ipv6Cidr ? Peer.ipv6(l.ipv6Cidr) : undefined })),
        forwards: forwards.map((f) => ({ port: f.port, to: f.to, toPort: f.toPort, from: f.from })),
      };
    },
    () => {
      const peer = maybe(() => pick(OUT_PEERS.filter((x) => x.families.some((f) => h.families.includes(f)))));
      const port = maybe(() => pick(OUT_PORTS));
      const id = partId('egress');
      steps.push(`new OutboundTo(${show(id)}, ${show(peer)}, ${show(port)})`);
      new OutboundTo(h, id as string, peer, port);
      declared.egress.push({ port, destination: peer });
    },
  ];

  /** Props of a part: each key present at random, valid or hostile; `required` keys always present. */
  function part(gen: Record<string, () => unknown>, required: string[] = []): any {
    if (odd(0.03)) return hostile(); // the props object itself
    const out: Record<string, unknown> = {};
    for (const [k, g] of Object.entries(gen)) {
      if (!required.includes(k) && rnd() < 0.6) continue;
      out[k] = odd(0.1) ? (rnd() < 0.1 ? tokens.stringValue : hostile()) : g();
    }
    return out;
  }

  const n = 2 + Math.floor(rnd() * 5);
  for (let i = 0; i < n; i++) pick(ops)();
  return c;
}

/** A value for the case description (never a secret's content). */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v).replace(SECRET, '<secret>');
  if (typeof v === 'symbol' || typeof v === 'bigint' || typeof v === 'function') return typeof v;
  if (Buffer.isBuffer(v)) return 'Buffer';
  if (v instanceof Port || v instanceof Peer) return `${v.constructor.name}(${String(v)})`;
  if (Array.isArray(v)) return `[${v.map(show).join(',')}]`;
  if (v && typeof v === 'object') return v.constructor?.name === 'Object' ? '{…}' : v.constructor?.name ?? 'object';
  return String(v);
}
function describeProps(p: unknown): string {
  if (!p || typeof p !== 'object' || Array.isArray(p)) return show(p);
  return `{${Object.entries(p).map(([k, v]) => `${k}:${show(v)}`).join(',')}}`;
}
