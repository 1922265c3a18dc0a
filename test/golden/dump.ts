/**
 * The golden corpus: many random programs (valid ones, and some hostile ones
 * for their errors) synthesized to files, one digest per program. Run it
 * before and after a refactor and compare: the library's output must stay
 * byte-identical unless a change is intended.
 *
 *   npx ts-node --transpile-only --prefer-ts-exts --project tsconfig.dev.json test/golden/dump.ts OUT_DIR [CASES]
 *
 * OUT_DIR receives one folder per case (every file synth wrote, the
 * cloud-init text, or the error) and `digests.txt`.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'cdktf';
import { buildCase, prng } from '../fuzz/programs';

const out = process.argv[2];
const cases = Number(process.argv[3] ?? 600);
if (!out) throw new Error('usage: dump.ts OUT_DIR [CASES]');
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });

function files(dir: string, base = dir): Array<[string, string]> {
  return fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1)).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return files(p, base);
    return [[path.relative(base, p), fs.readFileSync(p, 'utf8')] as [string, string]];
  });
}

const digests: string[] = [];
const rnd = prng(20261202);
for (let i = 0; i < cases; i++) {
  const caseRnd = prng(Math.floor(rnd() * 2 ** 32));
  const hostility = i % 3 === 2 ? 0.07 : 0;
  const steps: string[] = [];
  const dir = path.join(out, `case-${String(i).padStart(4, '0')}`);
  fs.mkdirSync(dir);
  const synthDir = path.join(dir, 'synth');
  let result: Array<[string, string]>;
  try {
    const c = buildCase(i, caseRnd, steps, hostility, synthDir);
    (c.stack.node.scope as App).synth();
    result = files(synthDir).filter(([p]) => !p.endsWith('manifest.json'));
    if (c.host) {
      try {
        result.push(['cloud-init.txt', c.host.cloudInitText()]);
      } catch (e) {
        result.push(['cloud-init.error', (e as Error).message]);
      }
    }
  } catch (e) {
    result = [['error', String((e as Error)?.message ?? e)]];
  }
  fs.rmSync(synthDir, { recursive: true, force: true });
  fs.writeFileSync(path.join(dir, 'steps.txt'), steps.join('\n') + '\n');
  for (const [p, content] of result) {
    const target = path.join(dir, 'out', p);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }
  const h = crypto.createHash('sha256');
  for (const [p, content] of result) h.update(`${p}\0${content}\0`);
  digests.push(`case ${i} ${h.digest('hex').slice(0, 16)} ${result.length} ${result[0]?.[0] === 'error' ? 'error' : 'ok'}`);
}
fs.writeFileSync(path.join(out, 'digests.txt'), digests.join('\n') + '\n');
// eslint-disable-next-line no-console
console.log(`${cases} cases: ${digests.filter((d) => d.endsWith('ok')).length} synthesized, ${digests.filter((d) => d.endsWith('error')).length} errors`);
