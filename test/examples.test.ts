/**
 * Every example under examples/ is synthesized as a user would (its main.ts,
 * run with ts-node), snapshotted, checked for reproducibility, and validated
 * by the kernel's own iptables-restore --test inside a throw-away namespace.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { canUseNetns, Lab } from './kernel/lab';
import { normalizeRules, savedRules } from './kernel/rules-io';

const ROOT = path.join(__dirname, '..');
const EXAMPLES = fs.readdirSync(path.join(ROOT, 'examples')).filter((d) => fs.existsSync(path.join(ROOT, 'examples', d, 'main.ts'))).sort();

function synth(example: string): Map<string, string> {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), `cfw-ex-${example}-`));
  const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'ts-node'), ['--transpile-only', '--prefer-ts-exts', '--project', path.join(ROOT, 'tsconfig.dev.json'), path.join(ROOT, 'examples', example, 'main.ts')], {
    cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, CHECKPOINT_DISABLE: '1' },
  });
  if (r.status !== 0) throw new Error(`synth of ${example} failed: ${r.stderr}${r.stdout}`);
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.rules')) files.set(path.relative(cwd, p), fs.readFileSync(p, 'utf8'));
    }
  };
  walk(path.join(cwd, 'cdktf.out'));
  fs.rmSync(cwd, { recursive: true, force: true });
  return files;
}

test('there are examples', () => {
  expect(EXAMPLES).toEqual(expect.arrayContaining(['single-host']));
});

describe.each(EXAMPLES)('examples/%s', (example) => {
  let files: Map<string, string>;
  beforeAll(() => { files = synth(example); });

  test('writes rule files, byte-identical on a second synth', () => {
    expect(files.size).toBeGreaterThan(0);
    expect(synth(example)).toEqual(files);
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

  test('`cdktf synth` in an example writes the same rule files as the program run directly', () => {
    fs.rmSync(path.join(dir, 'cdktf.out'), { recursive: true, force: true });
    const r = cdktf(['synth']);
    expect({ status: r.status, out: r.status === 0 ? '' : r.stdout + r.stderr }).toEqual({ status: 0, out: '' });
    const expected = synth('single-host');
    for (const [name, content] of expected) expect(fs.readFileSync(path.join(dir, name), 'utf8')).toBe(content);
  });

  test('`cdktf deploy` of a files-only stack works (no resources, no providers)', () => {
    const r = cdktf(['deploy', '--auto-approve']);
    expect({ status: r.status, out: r.status === 0 ? '' : r.stdout + r.stderr }).toEqual({ status: 0, out: '' });
    expect(r.stdout).toMatch(/No changes|Apply complete/);
  });
});
