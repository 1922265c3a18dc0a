/**
 * Every example under examples/ is synthesized as a user would (its main.ts,
 * run with ts-node), snapshotted, checked for reproducibility, and validated
 * by the kernel's own iptables-restore --test inside a throw-away namespace.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ensureCompiled } from './compiled';
import { canUseNetns, Lab } from './kernel/lab';
import { normalizeRules, savedRules } from './kernel/rules-io';

const ROOT = path.join(__dirname, '..');
const EXAMPLES = fs.readdirSync(path.join(ROOT, 'examples')).filter((d) => fs.existsSync(path.join(ROOT, 'examples', d, 'main.ts'))).sort();

/** Runs an example's main.ts as a user would (ts-node, against the compiled library) and returns its rule files. */
function synth(example: string): Promise<Map<string, string>> {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), `cfw-ex-${example}-`));
  const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'ts-node'), ['--transpile-only', '--project', path.join(ROOT, 'tsconfig.dev.json'), path.join(ROOT, 'examples', example, 'main.ts')], {
    cwd, env: { ...process.env, CHECKPOINT_DISABLE: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const killer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  return new Promise((resolve, reject) => {
    child.once('close', (code) => {
      clearTimeout(killer);
      try {
        if (code !== 0) throw new Error(`synth of ${example} failed (exit ${code}): ${out}`);
        resolve(ruleFiles(path.join(cwd, 'cdktf.out'), cwd));
      } catch (e) {
        reject(e);
      } finally {
        fs.rmSync(cwd, { recursive: true, force: true });
      }
    });
  });
}

/** The .rules files under `dir`, by path relative to `base`. */
function ruleFiles(dir: string, base: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.rules')) files.set(path.relative(base, p), fs.readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return files;
}

beforeAll(() => ensureCompiled(), 600_000);

test('there are examples', () => {
  expect(EXAMPLES).toEqual(expect.arrayContaining(['single-host']));
});

describe.each(EXAMPLES)('examples/%s', (example) => {
  let files: Map<string, string>;
  let again: Map<string, string>;
  // two separate processes (run side by side): the same program, byte-identical files
  beforeAll(async () => { [files, again] = await Promise.all([synth(example), synth(example)]); }, 300_000);

  test('writes rule files, byte-identical on a second synth', () => {
    expect(files.size).toBeGreaterThan(0);
    expect(again).toEqual(files);
  });

  test('matches its snapshot', () => {
    for (const [name, content] of files) expect(content).toMatchSnapshot(name);
  });

  test('every file passes iptables-restore --test / ip6tables-restore --test', () => {
    if (!canUseNetns()) throw new Error('needs root and network namespaces');
    const lab = new Lab();
    try {
      const ns = lab.netns('check');
      for (const [name, content] of files) {
        const cmd = name.endsWith('ip6tables.rules') ? 'ip6tables-restore' : 'iptables-restore';
        const r = lab.probe(ns, cmd, ['--test'], { input: content });
        expect({ name, status: r.status, stderr: r.stderr }).toEqual({ name, status: 0, stderr: '' });
      }
    } finally {
      lab.destroy();
    }
  });

  test('every file loads into a fresh namespace and the kernel then holds exactly its rules', () => {
    const lab = new Lab();
    try {
      const ns = lab.netns('load');
      for (const [name, content] of files) {
        const fam = name.endsWith('ip6tables.rules') ? 'v6' : 'v4';
        lab.loadRules(ns, fam, content);
        expect(normalizeRules(savedRules(lab, ns, fam))).toEqual(normalizeRules(content));
      }
    } finally {
      lab.destroy();
    }
  });
});

describe('the real cdktf CLI', () => {
  const dir = path.join(ROOT, 'examples', 'single-host');
  const cdktf = (args: string[]) => spawnSync(path.join(ROOT, 'node_modules', '.bin', 'cdktf'), args, {
    cwd: dir,
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, CHECKPOINT_DISABLE: '1', CI: 'true', TF_CLI_CONFIG_FILE: '/dev/null', TF_IN_AUTOMATION: '1' },
  });
  afterAll(() => fs.rmSync(path.join(dir, 'cdktf.out'), { recursive: true, force: true }));

  test('`cdktf deploy` of a files-only stack synthesizes the same rule files as the program run directly, and applies (no resources, no providers)', async () => {
    fs.rmSync(path.join(dir, 'cdktf.out'), { recursive: true, force: true });
    const r = cdktf(['deploy', '--auto-approve']);
    expect({ status: r.status, out: r.status === 0 ? '' : r.stdout + r.stderr }).toEqual({ status: 0, out: '' });
    expect(r.stdout).toMatch(/No changes|Apply complete/);
    const expected = await synth('single-host');
    expect(ruleFiles(path.join(dir, 'cdktf.out'), dir)).toEqual(expected);
  }, 300_000);
});
