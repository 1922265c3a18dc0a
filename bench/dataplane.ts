/**
 * Data-plane benchmark: what the rendered rules cost per packet, in the kernel.
 * Two namespaces joined by a veth pair; the server namespace holds the rules
 * (and sets) of one case; fresh namespaces per case, cases alternating over
 * rounds, medians printed with every ratio to the no-rules case and to the
 * same host without a blocklist. Also the load time of a 100k-entry set and of
 * a live swap.
 *
 *   npx ts-node --transpile-only --prefer-ts-exts --project tsconfig.dev.json bench/dataplane.ts [ROUNDS] [SECONDS]
 *
 * Needs root (network namespaces) and ipset. Timings only: never a pass/fail test.
 */
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { Blocklist, BogonFilter, DropLogger, IcmpEchoLimit, IpFamily, Peer, Port, PortScanTrap, StatefulHost } from '../lib';
import { Lab, sh } from '../test/kernel/lab';

const PORT = 5201;
const ROUNDS = Number(process.argv[2] ?? 3);
const SECONDS = Number(process.argv[3] ?? 3);
const PEER = path.join(__dirname, 'dataplane-peer.js');

/** The seed's single-machine stateful firewall, as its text writes it, with the bench port opened. */
const SEED = `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:TCP - [0:0]
:UDP - [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -p icmp -m icmp --icmp-type 8 -m conntrack --ctstate NEW -j ACCEPT
-A INPUT -p udp -m conntrack --ctstate NEW -j UDP
-A INPUT -p tcp --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j TCP
-A INPUT -p udp -j REJECT --reject-with icmp-port-unreachable
-A INPUT -p tcp -j REJECT --reject-with tcp-reset
-A INPUT -j REJECT --reject-with icmp-proto-unreachable
-A TCP -p tcp --dport ${PORT} -j ACCEPT
COMMIT
`;

interface Case { name: string; rules?: string; sets?: string }

function host(build?: (h: StatefulHost) => void): StatefulHost {
  const h = new StatefulHost(new TerraformStack(new App(), 'bench'), 'srv', { allow: [Port.tcp(PORT)], ipv6: false });
  build?.(h);
  return h;
}

/** `n` peers that are never the client (10.0.0.0/8 and 100.64.0.0/10 /32s, then /24s). */
function peers(n: number): Peer[] {
  return Array.from({ length: n }, (_, i) => Peer.ipv4(`${10 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}.${i % 2 === 0 ? '7/32' : '0/24'}`));
}

/** The single host with `n` linear `-s X -j DROP` rules (what block() rendered before sets). */
function linear(n: number): string {
  const text = host().renderRules(IpFamily.V4);
  const drops = peers(n).map((p) => `-A INPUT -s ${p.cidr} -j DROP`).join('\n');
  return text.replace('-A INPUT -i lo -j ACCEPT\n', `-A INPUT -i lo -j ACCEPT\n${drops}\n`);
}

function withSet(n: number): Case {
  const h = host((x) => new Blocklist(x, 'bench', { peers: peers(n) }));
  return { name: `host + ${n / 1000}k blocked (set)`, rules: h.renderRules(IpFamily.V4), sets: h.ipsetRules() };
}

function cases(): Case[] {
  const single = host();
  const hardened = host((h) => {
    new PortScanTrap(h, 'trap', { seconds: 60 });
    new BogonFilter(h, 'bogons', { iface: 'eth1' });
    new DropLogger(h, 'log', { prefix: 'fw: ' });
    new IcmpEchoLimit(h, 'ping', { perSecond: 2 });
  });
  return [
    { name: 'no rules' },
    { name: 'seed stateful ruleset', rules: SEED },
    { name: 'our single host', rules: single.renderRules(IpFamily.V4) },
    { name: 'our hardened host', rules: hardened.renderRules(IpFamily.V4) },
    withSet(1_000), withSet(10_000), withSet(100_000),
    { name: 'host + 1k blocked (linear)', rules: linear(1_000) },
    { name: 'host + 10k blocked (linear)', rules: linear(10_000) },
  ];
}

async function measure(c: Case): Promise<{ conns: number; mbps: number }> {
  const lab = new Lab();
  try {
    const srv = lab.netns('srv');
    const cli = lab.netns('cli');
    lab.link(srv, 'eth0', ['198.51.100.1/24'], cli, 'eth0', ['198.51.100.2/24']);
    if (c.sets) lab.exec(srv, 'ipset', ['restore'], { input: c.sets, timeoutMs: 60_000 });
    if (c.rules) lab.exec(srv, 'iptables-restore', [], { input: c.rules, timeoutMs: 60_000 });
    const server = lab.start(srv, process.execPath, [PEER, 'server', String(PORT)]);
    let out = '';
    server.stdout!.on('data', (d) => { out += String(d); });
    await lab.waitFor('the bench server', () => out.includes('ready'), 10_000);
    const run = (mode: string) => JSON.parse(lab.exec(cli, process.execPath, [PEER, mode, '198.51.100.1', String(PORT), String(SECONDS)], { timeoutMs: (SECONDS + 20) * 1000 }).stdout);
    const conns = run('conns').perSecond;
    const mbps = run('stream').mbPerSecond;
    return { conns, mbps };
  } finally {
    lab.destroy();
  }
}

function setTimings(): { load100k: number; swap: number } {
  const lab = new Lab();
  try {
    const ns = lab.netns('sets');
    const h = host((x) => new Blocklist(x, 'bench', { peers: peers(100_000) }));
    const text = h.ipsetRules()!;
    const load = lab.exec(ns, 'ipset', ['restore'], { input: text, timeoutMs: 60_000 }).ms / 1000;
    const renamed = text.replace(/^(create|add) (\S+)/gm, '$1 $2_n');
    lab.exec(ns, 'ipset', ['restore'], { input: renamed, timeoutMs: 60_000 });
    const t0 = Date.now();
    lab.exec(ns, 'ipset', ['swap', 'bl-bench-v4_n', 'bl-bench-v4']);
    lab.exec(ns, 'ipset', ['destroy', 'bl-bench-v4_n']);
    return { load100k: load, swap: (Date.now() - t0) / 1000 };
  } finally {
    lab.destroy();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  sh('ipset', ['--version']);
  const all = cases();
  const results = new Map<string, { conns: number[]; mbps: number[] }>(all.map((c) => [c.name, { conns: [], mbps: [] }]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of all) {
      const m = await measure(c);
      results.get(c.name)!.conns.push(m.conns);
      results.get(c.name)!.mbps.push(m.mbps);
    }
  }
  const base = results.get('no rules')!;
  const single = results.get('our single host')!;
  // eslint-disable-next-line no-console
  console.log(`data-plane benchmark: ${ROUNDS} rounds, ${SECONDS}s per measure, medians; node ${process.version}`);
  // eslint-disable-next-line no-console
  console.log('case | new conns/s | vs no rules | vs our host | stream MB/s | vs no rules');
  for (const c of all) {
    const x = results.get(c.name)!;
    // eslint-disable-next-line no-console
    const conns = median(x.conns);
    console.log([c.name, conns.toFixed(0), (conns / median(base.conns)).toFixed(2), (conns / median(single.conns)).toFixed(2),
      median(x.mbps).toFixed(0), (median(x.mbps) / median(base.mbps)).toFixed(2)].join(' | '));
  }
  const t = setTimings();
  // eslint-disable-next-line no-console
  console.log(`ipset restore of a 100k-entry set: ${t.load100k.toFixed(3)} s; live swap (swap + destroy): ${t.swap.toFixed(3)} s`);
}

main().catch((e) => {
  // eslint-disable-next-line no-console
  console.error(e);
  process.exit(1);
});
