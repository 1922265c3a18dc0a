/**
 * Synth benchmark: N firewalled hosts (20 opened ports each) against a bare
 * cdktf stack of N null_resources carrying the same file content.
 * Prints seconds per N and the ratio. Run: npx projen bench
 * (BENCH_N=10,100 to choose sizes; BENCH_REPEAT=3 to take the best of 3.)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NullProvider } from '@cdktf/provider-null/lib/provider';
import { Resource as NullResource } from '@cdktf/provider-null/lib/resource';
import { App, TerraformStack } from 'cdktf';
import { IpFamily, Port, StatefulHost } from '../lib';

const SIZES = (process.env.BENCH_N ?? '10,100,1000').split(',').map(Number);
const REPEAT = Number(process.env.BENCH_REPEAT ?? '3');
const PORTS = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? Port.tcp(1000 + i) : Port.udp(2000 + i)));

function timed(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function best(fn: () => void): number {
  let min = Infinity;
  for (let i = 0; i < REPEAT; i++) min = Math.min(min, timed(fn));
  return min;
}

const made: string[] = [];
function outdir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-bench-'));
  made.push(dir);
  return dir;
}
// every synth folder is removed when the benchmark ends
process.on('exit', () => { for (const d of made) fs.rmSync(d, { recursive: true, force: true }); });

// the content a host renders, for the bare baseline
const sample = new StatefulHost(new TerraformStack(new App({ outdir: outdir() }), 's'), 'h', { allow: PORTS });
const v4 = sample.renderRules(IpFamily.V4);
const v6 = sample.renderRules(IpFamily.V6);

console.log(`synth benchmark: ${REPEAT} run(s) each, best taken; 20 opened ports per host; node ${process.version}`);
console.log('N\tfirewall_s\tbare_null_resource_s\tratio');
for (const n of SIZES) {
  const firewall = best(() => {
    const app = new App({ outdir: outdir() });
    const stack = new TerraformStack(app, 'bench');
    for (let i = 0; i < n; i++) new StatefulHost(stack, `host${i}`, { allow: PORTS });
    app.synth();
  });
  const bare = best(() => {
    const app = new App({ outdir: outdir() });
    const stack = new TerraformStack(app, 'bench');
    new NullProvider(stack, 'null');
    for (let i = 0; i < n; i++) new NullResource(stack, `host${i}`, { triggers: { v4, v6 } });
    app.synth();
  });
  console.log(`${n}\t${firewall.toFixed(3)}\t${bare.toFixed(3)}\t${(firewall / bare).toFixed(2)}`);
}
