/**
 * The CDK Terrain build: one source, two packages.
 *
 * `npm pack` in the repository root packs the cdktf package (cdktf-iptables, as
 * it always did). This module builds the CDK Terrain package (cdktn-iptables)
 * from the same lib/ sources:
 *
 * 1. stage: copy lib/ (sources and script assets, no compiled output), the
 *    root's testing entry, tsconfig.json, .npmignore, README and LICENSE into
 *    build/cdktn/, and swap the framework in the one shim
 *    (lib/private/cdktf.ts: `from 'cdktf…'` becomes `from 'cdktn…'`,
 *    FRAMEWORK becomes 'cdktn'); any other lib/ file that imports the framework
 *    stops the build;
 * 2. write its package.json from the root's: name, description, keywords, the
 *    jsii language targets' names, and the peers (cdktn ^0.24, constructs
 *    >=10.6 <10.8; no @cdktf/provider-null) change, everything else is kept;
 * 3. install cdktn, constructs and the compile-time types into build/cdktn/
 *    (kept between runs) and run the root's jsii there: a second assembly,
 *    typed against cdktn's own declarations and its .jsii;
 * 4. jsii-docgen (API.md) and `npm pack` into dist/cdktn/.
 *
 * Run by `npx projen pack:cdktn` (and `pacmak:code:cdktn`), and by the
 * package test, which installs the tarball into a fresh cdktn app.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** The cdktn package: what differs from the cdktf one. */
export const CDKTN = {
  packageName: 'cdktn-iptables',
  /** The peer ranges users install against (cdktn's own constructs range). */
  peers: { cdktn: '^0.24.0', constructs: '>=10.6.0 <10.8.0' },
  /** The exact versions the package is compiled and tested against. */
  buildVersions: { cdktn: '0.24.0', constructs: '10.7.2' },
  /** The CLI a cdktn app uses (needs Node >= 22.19). */
  cliVersion: '0.24.0',
  /** Staging folder (kept: its node_modules is reused), relative to the repository root. */
  stageDir: path.join('build', 'cdktn'),
  /** Where `pack:cdktn` writes the tarball. */
  distDir: path.join('dist', 'cdktn'),
  /** Where `pacmak:code:cdktn` writes the other languages' code. */
  codeDir: path.join('dist', 'code-cdktn'),
} as const;

const ROOT = path.join(__dirname, '..');
const SHIM = path.join('lib', 'private', 'cdktf.ts');

/** Runs a command; throws with its output when it fails. */
function run(cmd: string, args: string[], cwd: string, timeout = 600_000): string {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20', CHECKPOINT_DISABLE: '1' },
  });
  if (r.status !== 0) {
    throw new Error(`${[cmd, ...args].join(' ')} (in ${cwd}) failed with ${r.status ?? r.signal ?? r.error?.message}:\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
  return r.stdout;
}

function bin(name: string): string {
  return path.join(ROOT, 'node_modules', '.bin', name);
}

function readJson(file: string): any {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** The installed version of a root dev dependency (the cdktn build compiles with the same types). */
function rootVersion(pkg: string): string {
  return readJson(path.join(ROOT, 'node_modules', pkg, 'package.json')).version;
}

/** Replaces cdktf with cdktn in every string of a JSON value (the jsii targets' names). */
function renamed(value: any): any {
  if (typeof value === 'string') return value.replace(/cdktf/g, 'cdktn').replace(/Cdktf/g, 'Cdktn');
  if (Array.isArray(value)) return value.map(renamed);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renamed(v)]));
  return value;
}

/** The cdktn package's package.json, derived from the root's (the cdktf package). */
export function cdktnManifest(root: any): any {
  const targets = renamed(root.jsii.targets);
  for (const [lang, t] of Object.entries(targets)) {
    if (JSON.stringify(t) === JSON.stringify(root.jsii.targets[lang])) throw new Error(`the jsii ${lang} target kept the cdktf package's names`);
  }
  const manifest: any = {
    name: CDKTN.packageName,
    description: String(root.description).replace(/\bcdktf\b/, 'CDK Terrain (cdktn)'),
    version: root.version,
    repository: root.repository,
    author: root.author,
    license: root.license,
    keywords: [...new Set(root.keywords.map((k: string) => (k === 'cdktf' ? 'cdktn' : k)))].sort(),
    engines: root.engines,
    main: root.main,
    // the same command line, under the package's name
    bin: root.bin ? Object.fromEntries(Object.values(root.bin).map((file) => [CDKTN.packageName, file])) : undefined,
    types: root.types,
    stability: root.stability,
    publishConfig: root.publishConfig,
    dependencies: root.dependencies,
    bundledDependencies: root.bundledDependencies,
    peerDependencies: CDKTN.peers,
    devDependencies: {
      ...CDKTN.buildVersions,
      '@types/jest': rootVersion('@types/jest'),
      '@types/node': rootVersion('@types/node'),
    },
    jsii: { ...root.jsii, targets },
  };
  for (const k of Object.keys(manifest)) if (manifest[k] === undefined) delete manifest[k];
  return manifest;
}

/** The shim with the framework swapped; throws when it does not look as expected. */
export function cdktnShim(source: string): string {
  let imports = 0;
  let out = source.replace(/(from )'cdktf((?:\/[^']*)?)'/g, (_m, from: string, sub: string) => {
    imports += 1;
    return `${from}'cdktn${sub}'`;
  });
  const framework = /^(export const FRAMEWORK = )'cdktf'/m;
  if (imports < 2 || !framework.test(out)) {
    throw new Error(`${SHIM} no longer has the shape the cdktn build swaps (imports from 'cdktf' and "export const FRAMEWORK = 'cdktf'")`);
  }
  out = out.replace(framework, "$1'cdktn'");
  if (/(from\s+|require\(\s*|import\(\s*)['"]cdktf(\/[^'"]*)?['"]/.test(out)) throw new Error(`${SHIM} still imports cdktf after the swap`);
  return out;
}

/** lib/ files other than the shim that import the framework (cdktf, cdktf/..., @cdktf/...). */
export function frameworkImportsOutsideShim(libDir: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        walk(p);
        continue;
      }
      if (!e.name.endsWith('.ts') || e.name.endsWith('.d.ts') || path.relative(ROOT, p) === SHIM) continue;
      const text = fs.readFileSync(p, 'utf8');
      if (/(from\s+|require\(\s*|import\(\s*)['"](@cdktf\/[^'"]+|cdktf(\/[^'"]*)?)['"]/.test(text)) found.push(path.relative(ROOT, p));
    }
  };
  walk(libDir);
  return found;
}

/** Copies lib/ without compiled output: .ts sources (no .d.ts) and assets (scripts). */
function copyLib(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, e.name);
    const dst = path.join(to, e.name);
    if (e.isDirectory()) {
      copyLib(src, dst);
      continue;
    }
    const compiled = e.name.endsWith('.d.ts') || /\.(js\.map|d\.ts\.map|tsbuildinfo)$/.test(e.name)
      || (e.name.endsWith('.js') && fs.existsSync(src.replace(/\.js$/, '.ts')));
    if (!compiled) fs.copyFileSync(src, dst);
  }
}

/** Writes build/cdktn/: sources with the cdktn shim, package.json and the files npm packs. */
export function stage(): string {
  const dir = path.join(ROOT, CDKTN.stageDir);
  const outside = frameworkImportsOutsideShim(path.join(ROOT, 'lib'));
  if (outside.length > 0) throw new Error(`only ${SHIM} may import the framework; also found in: ${outside.join(', ')}`);
  fs.mkdirSync(dir, { recursive: true });
  // everything from a previous build goes, except the installed dependencies
  for (const e of fs.readdirSync(dir)) if (e !== 'node_modules') fs.rmSync(path.join(dir, e), { recursive: true, force: true });
  copyLib(path.join(ROOT, 'lib'), path.join(dir, 'lib'));
  fs.writeFileSync(path.join(dir, SHIM), cdktnShim(fs.readFileSync(path.join(ROOT, SHIM), 'utf8')));
  for (const f of ['testing.js', 'testing.d.ts', 'tsconfig.json', '.npmignore', 'LICENSE']) fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').replace(/^# cdktf-iptables\n/, [
    `# ${CDKTN.packageName}`,
    '',
    '> The CDK Terrain (`cdktn`) build of cdktf-iptables: the same library, compiled against `cdktn`.',
    "> Import from `'cdktn'` and `'cdktn-iptables'` where this README says `'cdktf'` and",
    "> `'cdktf-iptables'`; see \"Using it with CDK Terrain\" below.",
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(dir, 'README.md'), readme);
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(cdktnManifest(readJson(path.join(ROOT, 'package.json'))), null, 2)}\n`);
  return dir;
}

/** Installs the staging folder's dependencies (cdktn, constructs, types; reused between runs). */
export function install(dir: string): void {
  run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--ignore-scripts', '--prefer-offline', '--loglevel=error'], dir);
}

/** jsii (the root's) in the staging folder, then API.md. */
export function compile(dir: string): void {
  run(bin('jsii'), ['--silence-warnings=reserved-word'], dir);
  run(bin('jsii-docgen'), ['-o', 'API.md'], dir);
}

/** Stages, installs, compiles and packs; returns the tarball's path (the only .tgz in `outDir`). */
export function packCdktn(outDir: string = path.join(ROOT, CDKTN.distDir)): string {
  const dir = stage();
  install(dir);
  compile(dir);
  fs.mkdirSync(outDir, { recursive: true });
  for (const f of fs.readdirSync(outDir)) if (f.endsWith('.tgz')) fs.rmSync(path.join(outDir, f));
  run('npm', ['pack', '--pack-destination', outDir, '--silent'], dir);
  const tarballs = fs.readdirSync(outDir).filter((f) => f.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new Error(`expected one tarball in ${outDir}, found ${tarballs.join(', ') || 'none'}`);
  return path.join(outDir, tarballs[0]);
}

/** The other languages' code of the cdktn assembly (as `pacmak:code` does for the cdktf one). */
export function pacmakCode(): void {
  const dir = path.join(ROOT, CDKTN.stageDir);
  if (!fs.existsSync(path.join(dir, '.jsii'))) throw new Error(`no cdktn assembly in ${CDKTN.stageDir}: run npx projen pack:cdktn first`);
  const out = path.join(ROOT, CDKTN.codeDir);
  fs.rmSync(out, { recursive: true, force: true });
  run(bin('jsii-pacmak'), ['--code-only', '--targets', 'python', 'java', 'dotnet', 'go', '--outdir', out], dir);
}

if (require.main === module) {
  const command = process.argv[2];
  if (command === 'pack') {
    const tarball = packCdktn();
    // eslint-disable-next-line no-console
    console.log(`${path.relative(process.cwd(), tarball)} (${(fs.statSync(tarball).size / 1024).toFixed(0)} KiB)`);
  } else if (command === 'pacmak') {
    pacmakCode();
  } else {
    throw new Error(`usage: ts-node projenrc/cdktn.ts pack | pacmak (got ${command})`);
  }
}
