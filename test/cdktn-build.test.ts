/**
 * The CDK Terrain build's source transformations (projenrc/cdktn.ts), without
 * installing or compiling anything: the shim is the only file that changes and
 * the only file allowed to import the framework, and the package metadata that
 * differs is exactly the framework's. test/package.test.ts builds and proves
 * the package itself.
 */
import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from './temp';
import { CDKTN, cdktnManifest, cdktnShim, frameworkImportsOutsideShim } from '../projenrc/cdktn';

const ROOT = path.join(__dirname, '..');
const SHIM = fs.readFileSync(path.join(ROOT, 'lib', 'private', 'cdktf.ts'), 'utf8');

test('the cdktn shim imports cdktn where the cdktf one imports cdktf, says FRAMEWORK = cdktn, and is otherwise the same file', () => {
  const swapped = cdktnShim(SHIM);
  const before = SHIM.split('\n');
  const after = swapped.split('\n');
  expect(after.length).toBe(before.length);
  const changed = before.map((line, i) => [line, after[i]]).filter(([a, b]) => a !== b);
  expect(changed.map(([, b]) => b)).toEqual([
    expect.stringMatching(/^export \{ .* \} from 'cdktn';$/),
    expect.stringMatching(/^export type \{ .* \} from 'cdktn';$/),
    "export { addCustomSynthesis } from 'cdktn/lib/synthesize/synthesizer';",
    "export const FRAMEWORK = 'cdktn' as 'cdktf' | 'cdktn';",
  ]);
  for (const [a, b] of changed) expect(a.replace(/cdktf/g, 'cdktn').replace("'cdktn' | 'cdktn'", "'cdktf' | 'cdktn'")).toBe(b);
});

test('a shim that no longer has the expected shape stops the build', () => {
  expect(() => cdktnShim("export const FRAMEWORK = 'cdktf' as 'cdktf' | 'cdktn';\n")).toThrow(/no longer has the shape the cdktn build swaps/);
  expect(() => cdktnShim(SHIM.replace(/^export const FRAMEWORK.*$/m, ''))).toThrow(/no longer has the shape/);
  expect(() => cdktnShim(`${SHIM}\nconst x = require('cdktf');\n`)).toThrow(/still imports cdktf after the swap/);
});

test('no lib/ file but the shim imports the framework; one that does is found', () => {
  expect(frameworkImportsOutsideShim(path.join(ROOT, 'lib'))).toEqual([]);
  const dir = tempDir('cfwtn-shim-');
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.writeFileSync(path.join(dir, 'sub', 'a.ts'), "import { Token } from 'cdktf';\n");
  fs.writeFileSync(path.join(dir, 'b.ts'), "const p = require('@cdktf/provider-null/lib/provider');\n");
  fs.writeFileSync(path.join(dir, 'c.ts'), "import { Construct } from 'constructs'; // mentions cdktf in a comment only\n");
  fs.writeFileSync(path.join(dir, 'd.d.ts'), "export * from 'cdktf';\n");
  expect(frameworkImportsOutsideShim(dir).map((f) => path.basename(f)).sort()).toEqual(['a.ts', 'b.ts']);
});

test("the cdktn package.json is the root's with the framework's name, peers and jsii target names changed", () => {
  const root = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const m = cdktnManifest(root);
  expect(m.name).toBe('cdktn-iptables');
  expect(m.peerDependencies).toEqual({ cdktn: '^0.24.0', constructs: '>=10.6.0 <10.8.0' });
  expect(m.peerDependenciesMeta).toBeUndefined();
  expect(JSON.stringify(m)).not.toMatch(/"@cdktf\/|"cdktf"/);
  expect(m.devDependencies).toMatchObject(CDKTN.buildVersions);
  for (const k of ['version', 'license', 'author', 'repository', 'main', 'types', 'dependencies', 'bundledDependencies', 'engines']) expect(m[k]).toEqual(root[k]);
  expect(m.keywords).toEqual(root.keywords.map((k: string) => (k === 'cdktf' ? 'cdktn' : k)).sort());
  expect(m.jsii.targets).toEqual({
    java: { package: 'io.github.cdktniptables', maven: { groupId: 'io.github.cdktniptables', artifactId: 'cdktn-iptables' } },
    python: { distName: 'cdktn-iptables', module: 'cdktn_iptables' },
    dotnet: { namespace: 'CdktnIptables', packageId: 'CdktnIptables' },
    go: { moduleName: 'github.com/cdktn-iptables/cdktn-iptables-go' },
  });
  expect({ ...m.jsii, targets: undefined }).toEqual({ ...root.jsii, targets: undefined });
});
