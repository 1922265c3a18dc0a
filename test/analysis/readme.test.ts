/**
 * The README's "Testing your firewall" example, run as it stands: the block is
 * read from README.md, transpiled, and its tests registered here (the package
 * test runs the other README blocks as programs; this one needs jest).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as cdktf from 'cdktf';
import * as ts from 'typescript';
import * as lib from '../../lib';
import * as testing from '../../lib/testing';

const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
const block = /^```typescript\n(\/\/ firewall\.test\.ts\n[\s\S]*?)^```$/m.exec(readme);
if (!block) throw new Error('README has no "// firewall.test.ts" block');
const js = ts.transpileModule(block[1], { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
const modules: Record<string, unknown> = { 'cdktf': cdktf, 'cdktf-iptables': lib, 'cdktf-iptables/testing': testing };
const req = (m: string) => {
  if (!(m in modules)) throw new Error(`the README block imports ${m}`);
  return modules[m];
};
// eslint-disable-next-line @typescript-eslint/no-implied-eval
new Function('require', 'exports', 'test', 'expect', js)(req, {}, test, expect);

test('the README excerpt of a failure is what a failure prints', () => {
  const { App, TerraformStack } = cdktf;
  const host = new lib.StatefulHost(new TerraformStack(new App(), 'prod'), 'web', { allow: [lib.Port.SSH, lib.Port.HTTPS] });
  host.allowFrom(lib.Peer.ipv4('192.0.2.0/24'), lib.Port.tcp(5432));
  new lib.SshBruteforceGuard(host, 'ssh-guard');
  new lib.PortScanTrap(host, 'trap', { seconds: 60 });
  let message = '';
  try {
    expect(host).toAccept({ family: lib.IpFamily.V4, protocol: lib.Protocol.TCP, source: '198.51.100.7', destinationPort: 5432 });
  } catch (e) {
    message = (e as Error).message;
  }
  const shown = /A failing matcher prints[^`]*```\n([\s\S]*?)```/.exec(readme)![1];
  expect(`${message}\n`).toBe(shown);
});
