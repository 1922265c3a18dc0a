/**
 * The compiler benchmark, with inputs as users have them: scattered
 * addresses in random order, hosts that all differ. Prints figures; never a
 * pass/fail test.
 *
 *   npx ts-node --transpile-only --prefer-ts-exts --project tsconfig.dev.json bench/compiler.ts [case ...]
 *
 * Cases (default: all):
 *   allow-2000, allow-4000, allow-20000  N distinct single addresses allowFrom'd to one port: synth seconds
 *   blocklist-100000                     a Blocklist of 100,000 scattered /32 and /24 in random order: synth seconds
 *   hardened-web                         examples/hardened-web (every path's intent and lock-out checks): synth seconds
 *   nat-20                               a NAT gateway with 20 port forwards to scattered LAN addresses: synth seconds
 *   fleet-1000                           1,000 hosts that all differ (own subnet, a guard and a trap each),
 *                                        whole-process synth against a bare stack of 1,000 terraform_data
 *                                        resources writing the same rule files (each in its own node process)
 * BENCH_TIMEOUT (seconds, default 600) stops a case that runs longer.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
const TIMEOUT = Number(process.env.BENCH_TIMEOUT ?? '600');
const made: string[] = [];
process.on('exit', () => { for (const d of made) fs.rmSync(d, { recursive: true, force: true }); });
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-bench-compiler-'));
  made.push(d);
  return d;
}

/** Runs `bench/compiler-cases.ts MODE ARGS` in a node process of its own; returns its wall seconds and the line it printed. */
function child(mode: string, ...args: string[]): { seconds: number; out: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'ts-node'),
    ['--transpile-only', '--prefer-ts-exts', '--project', 'tsconfig.dev.json', 'bench/compiler-cases.ts', mode, ...args],
    { cwd: ROOT, encoding: 'utf8', timeout: TIMEOUT * 1000, maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') return { seconds, out: `timed out after ${TIMEOUT} s` };
  if (r.status !== 0) throw new Error(`${mode} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return { seconds, out: r.stdout.trim().split('\n').pop() ?? '' };
}

const CASES: Record<string, () => string> = {
  'allow-2000': () => child('allow', '2000').out,
  'allow-4000': () => child('allow', '4000').out,
  'allow-20000': () => child('allow', '20000').out,
  'blocklist-100000': () => child('blocklist', '100000').out,
  'hardened-web': () => child('hardened-web').out,
  'nat-20': () => child('nat', '20').out,
  'fleet-1000': () => {
    const dir = tmp();
    const firewall = child('fleet', '1000', path.join(dir, 'firewall'));
    const bare = child('bare', path.join(dir, 'firewall'), path.join(dir, 'bare'));
    return `firewall process ${firewall.seconds.toFixed(2)} s (${firewall.out}); bare terraform_data process ${bare.seconds.toFixed(2)} s (${bare.out}); ratio ${(firewall.seconds / bare.seconds).toFixed(2)}`;
  },
};

const wanted = process.argv.slice(2);
console.log(`compiler benchmark; node ${process.version}; ${os.cpus().length} cores`);
for (const name of wanted.length ? wanted : Object.keys(CASES)) {
  const run = CASES[name];
  if (!run) throw new Error(`unknown case ${name}; cases: ${Object.keys(CASES).join(', ')}`);
  console.log(`${name}\t${run()}`);
}
