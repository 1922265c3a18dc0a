/**
 * The programs of bench/compiler.ts, one per process (see there).
 *   allow N | blocklist N | fleet N OUTDIR | bare FIREWALL_OUTDIR OUTDIR
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack, DataResource } from 'cdktf';
import { HardenedWebStack } from '../examples/hardened-web/main';
import { Blocklist, Installer, NatGateway, Peer, Port, PortScanTrap, SshBruteforceGuard, StatefulHost } from '../lib';

/** mulberry32, seeded: the same scattered inputs every run (bit operations are its algorithm). */
/* eslint-disable no-bitwise */
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
/* eslint-enable no-bitwise */

/** A public-looking IPv4 address: first octet 1..223 except 10 and 127, the rest anything. */
function scatteredAddress(rnd: () => number): number[] {
  let a = 0;
  while (a === 0 || a === 10 || a === 127) a = 1 + Math.floor(rnd() * 223);
  return [a, Math.floor(rnd() * 256), Math.floor(rnd() * 256), Math.floor(rnd() * 256)];
}

/** `n` distinct CIDRs in random order: /32 with chance `p32`, else the /24 around a random address. */
function scattered(n: number, p32: number, seed: number): string[] {
  const rnd = prng(seed);
  const seen = new Set<string>();
  const out: string[] = [];
  while (out.length < n) {
    const o = scatteredAddress(rnd);
    const cidr = rnd() < p32 ? `${o.join('.')}/32` : `${o[0]}.${o[1]}.${o[2]}.0/24`;
    if (seen.has(cidr)) continue;
    seen.add(cidr);
    out.push(cidr);
  }
  return out;
}

function outdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-bench-case-'));
}

function timedSynth(app: App): number {
  const t0 = process.hrtime.bigint();
  app.synth();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'allow') {
  const n = Number(args[0]);
  const dir = outdir();
  const app = new App({ outdir: dir });
  const host = new StatefulHost(new TerraformStack(app, 'bench'), 'db', { allow: [Port.SSH] });
  const t0 = process.hrtime.bigint();
  for (const cidr of scattered(n, 1, 17)) host.allowFrom(Peer.ipv4(cidr), Port.tcp(5432));
  const build = Number(process.hrtime.bigint() - t0) / 1e9;
  const synth = timedSynth(app);
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`${n} allowFrom peers: build ${build.toFixed(2)} s, synth ${synth.toFixed(2)} s, total ${(build + synth).toFixed(2)} s`);
} else if (mode === 'blocklist') {
  const n = Number(args[0]);
  const dir = outdir();
  const app = new App({ outdir: dir });
  const host = new StatefulHost(new TerraformStack(app, 'bench'), 'edge', { allow: [Port.SSH, Port.HTTPS] });
  const t0 = process.hrtime.bigint();
  new Blocklist(host, 'feed', { peers: scattered(n, 0.8, 23).map((c) => Peer.ipv4(c)) });
  const build = Number(process.hrtime.bigint() - t0) / 1e9;
  const synth = timedSynth(app);
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`${n}-entry Blocklist: build ${build.toFixed(2)} s, synth ${synth.toFixed(2)} s, total ${(build + synth).toFixed(2)} s`);
} else if (mode === 'fleet') {
  const n = Number(args[0]);
  const app = new App({ outdir: args[1] });
  const stack = new TerraformStack(app, 'fleet');
  for (let i = 0; i < n; i++) {
    const host = new StatefulHost(stack, `host${i}`, {
      allow: [Port.SSH, Port.HTTPS],
      installer: Installer.TERRAFORM_DATA,
      connection: { host: `192.0.${Math.floor(i / 250)}.${1 + (i % 250)}`, privateKey: 'bench-key' },
    });
    host.allowFrom(Peer.ipv4(`10.${Math.floor(i / 256)}.${i % 256}.0/24`), Port.tcp(5432));
    new SshBruteforceGuard(host, 'ssh-guard', { shortWindow: { hits: 3 + (i % 5), seconds: 10 } });
    new PortScanTrap(host, 'trap', { seconds: 30 + (i % 60) });
  }
  const synth = timedSynth(app);
  console.log(`${n} hosts, synth ${synth.toFixed(2)} s`);
} else if (mode === 'bare') {
  // the same files, written by a bare stack of terraform_data resources triggered by their hash
  const [from, to] = args;
  const app = new App({ outdir: to });
  const stack = new TerraformStack(app, 'fleet');
  const root = path.join(from, 'stacks', 'fleet', 'firewall');
  const hosts = fs.readdirSync(root).sort();
  for (const h of hosts) {
    const contents = Object.fromEntries(files(path.join(root, h)).map((f) => [path.basename(f), fs.readFileSync(f, 'utf8')]));
    const hash = crypto.createHash('sha256').update(Object.values(contents).join('\0')).digest('hex');
    new DataResource(stack, h, { triggersReplace: { deploy: hash } });
    for (const [name, text] of Object.entries(contents)) {
      const target = path.join(to, 'stacks', 'fleet', 'firewall', h, name);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, text);
    }
  }
  const synth = timedSynth(app);
  console.log(`${hosts.length} terraform_data resources, synth ${synth.toFixed(2)} s`);
} else if (mode === 'hardened-web') {
  // the hardened example as its main.ts builds it, with the intent and lock-out checks of every path
  const dir = outdir();
  const app = new App({ outdir: dir });
  new HardenedWebStack(app, 'hardened-web');
  const synth = timedSynth(app);
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`examples/hardened-web: synth ${synth.toFixed(2)} s`);
} else if (mode === 'nat') {
  // a NAT gateway with N port forwards to scattered LAN addresses and ports, some from one source only
  const n = Number(args[0]);
  const dir = outdir();
  const app = new App({ outdir: dir });
  const gw = new StatefulHost(new TerraformStack(app, 'bench'), 'gw', { allow: [Port.SSH] });
  let seed = 7;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const ports = new Set<number>();
  while (ports.size < n) ports.add(1024 + Math.floor(rnd() * 60000));
  new NatGateway(gw, 'nat', {
    wan: 'eth0',
    lans: [{ iface: 'eth1', cidr: '192.168.0.0/16', ipv6Cidr: 'fd00:1::/64' }, { iface: 'eth2', cidr: '10.20.0.0/24' }],
    portForwards: [...ports].map((port, i) => ({
      port: i % 3 === 0 ? Port.udp(port) : Port.tcp(port),
      to: `192.168.${Math.floor(rnd() * 250)}.${1 + Math.floor(rnd() * 250)}`,
      toPort: i % 2 === 0 ? 80 + i : undefined,
      from: i % 5 === 0 ? Peer.ipv4(`198.51.100.${Math.floor(rnd() * 250)}`) : undefined,
    })),
  });
  const synth = timedSynth(app);
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`NAT gateway with ${n} port forwards: synth ${synth.toFixed(2)} s`);
} else {
  throw new Error(`unknown mode ${mode}`);
}
