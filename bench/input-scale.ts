/**
 * Input-scale benchmark: synth seconds for one host with 65,535 opened TCP
 * ports, and for one host with 100,000 `allowFrom` peers (plus 1,000 blocks).
 * Prints the figures; never a pass/fail test.
 * Run: npx ts-node --transpile-only --prefer-ts-exts --project tsconfig.dev.json bench/input-scale.ts
 * (INPUT_SCALE_PORTS / INPUT_SCALE_PEERS choose other sizes.)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { Blocklist, Peer, Port, SshBruteforceGuard, StatefulHost } from '../lib';

const PORTS = Number(process.env.INPUT_SCALE_PORTS ?? '65535');
const PEERS = Number(process.env.INPUT_SCALE_PEERS ?? '100000');

function timed(label: string, build: (host: StatefulHost) => void): void {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-bench-input-'));
  try {
    const t0 = process.hrtime.bigint();
    const app = new App({ outdir });
    const host = new StatefulHost(new TerraformStack(app, 'bench'), 'host');
    build(host);
    const t1 = process.hrtime.bigint();
    app.synth();
    const t2 = process.hrtime.bigint();
    const bytes = fs.statSync(path.join(outdir, 'stacks', 'bench', 'firewall', 'host', 'iptables.rules')).size;
    console.log(`${label}\tbuild_s=${(Number(t1 - t0) / 1e9).toFixed(2)}\tsynth_s=${(Number(t2 - t1) / 1e9).toFixed(2)}\ttotal_s=${(Number(t2 - t0) / 1e9).toFixed(2)}\tiptables.rules=${bytes} bytes`);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

console.log(`input-scale benchmark; node ${process.version}`);
timed(`${PORTS} ports`, (h) => {
  for (let p = 1; p <= PORTS; p++) h.allow(Port.tcp(p));
});
timed(`${PEERS} allowFrom peers + 1000 blocks + guard`, (h) => {
  for (let i = 0; i < PEERS; i++) {
    const a = 10 + Math.floor(i / 65536);
    h.allowFrom(Peer.ipv4(`${a}.${Math.floor(i / 256) % 256}.${i % 256}.0`), Port.SSH);
  }
  for (let i = 0; i < 1000; i++) h.block(Peer.ipv4(`100.${Math.floor(i / 256) % 256}.${i % 256}.7`));
  new SshBruteforceGuard(h, 'guard');
});
timed(`${PEERS}-entry Blocklist + ${PEERS} block() peers (both as ipset sets)`, (h) => {
  const peers: Peer[] = [];
  for (let i = 0; i < PEERS; i++) peers.push(Peer.ipv4(`${10 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}.0/24`));
  new Blocklist(h, 'feed', { peers });
  for (let i = 0; i < PEERS; i++) h.block(Peer.ipv4(`${100 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}.7`));
});
