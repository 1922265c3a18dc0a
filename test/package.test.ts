/**
 * The library as a user gets it: the packed tarball installed into a fresh app
 * (with cdktf and constructs, WITHOUT the optional @cdktf/provider-null), and
 * every TypeScript block of the README run there as a complete program,
 * importing only the package root.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ensureCompiled } from './compiled';
import { canUseNetns } from './kernel/lab';
import { startEchoServer, talk } from './kernel/probes';
import { CL, SRV, Topology } from './kernel/topology';

const ROOT = path.join(__dirname, '..');
const TS_NODE = path.join(ROOT, 'node_modules', '.bin', 'ts-node');

function run(cmd: string, args: string[], cwd: string, timeout = 300_000) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, CHECKPOINT_DISABLE: '1', JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' } });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

/** The README's code blocks of one language, in order. */
export function readmeBlocks(lang: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  return [...text.matchAll(new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'gm'))].map((m) => m[1]);
}

/** Writes `lines` as main.ts of a new folder `name` under `app` and runs it (transpiled only). */
function program(app: string, name: string, lines: string[]) {
  const dir = path.join(app, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'main.ts'), lines.join('\n'));
  return run(TS_NODE, ['--transpile-only', 'main.ts'], dir);
}

describe('the packed library in a fresh app', () => {
  let work: string;
  let app: string;
  let tarballPath: string;

  beforeAll(() => {
    ensureCompiled();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-pkg-'));
    const pack = run('npm', ['pack', '--pack-destination', work, '--silent'], ROOT);
    if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.out}`);
    const tarball = fs.readdirSync(work).find((f) => f.endsWith('.tgz'))!;
    tarballPath = path.join(work, tarball);
    app = path.join(work, 'app');
    fs.mkdirSync(app);
    const versionOf = (pkg: string) => JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;
    const cdktfVersion = versionOf('cdktf');
    const constructsVersion = versionOf('constructs');
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({
      name: 'readme-app',
      private: true,
      dependencies: {
        'cdktf-iptables': `file:../${tarball}`,
        // a second copy of the library, as a part library may bring along
        'cdktf-iptables-copy': `file:../${tarball}`,
        'cdktf': cdktfVersion,
        'constructs': constructsVersion,
      },
    }, null, 2));
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2020', module: 'commonjs', strict: true, esModuleInterop: true, skipLibCheck: true } }));
    const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], app, 600_000);
    if (install.status !== 0) throw new Error(`npm install failed: ${install.out}`);
  }, 900_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test('the package ships compiled code and scripts, not sources or tests', () => {
    const pkg = path.join(app, 'node_modules', 'cdktf-iptables');
    expect(fs.existsSync(path.join(pkg, 'lib', 'index.js'))).toBe(true);
    expect(fs.existsSync(path.join(pkg, 'lib', 'index.d.ts'))).toBe(true);
    expect(fs.existsSync(path.join(pkg, 'lib', 'provision', 'scripts', 'firewall.sh'))).toBe(true);
    expect(fs.existsSync(path.join(pkg, 'lib', 'provision', 'scripts', 'probe.js'))).toBe(true);
    expect(fs.existsSync(path.join(pkg, 'lib', 'index.ts'))).toBe(false);
    expect(fs.existsSync(path.join(pkg, 'test'))).toBe(false);
    // the optional peer was not installed
    expect(fs.existsSync(path.join(app, 'node_modules', '@cdktf', 'provider-null'))).toBe(false);
  });

  const blocks = readmeBlocks('ts');
  test('the README has TypeScript programs', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
  });

  test.each(blocks.map((b, i) => [i + 1, b]))('README TypeScript block %i runs as a complete program', (i, block) => {
    const dir = path.join(app, `block${i}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'main.ts'), block as string);
    fs.copyFileSync(path.join(app, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
    // type-checked, as a user's editor would
    const r = run(TS_NODE, ['--project', path.join(dir, 'tsconfig.json'), 'main.ts'], dir);
    expect({ block: i, status: r.status, out: r.status === 0 ? '' : r.out }).toEqual({ block: i, status: 0, out: '' });
    if ((block as string).includes('app.synth()')) expect(fs.existsSync(path.join(dir, 'cdktf.out'))).toBe(true);
  }, 120_000);

  test('the tour writes exactly the rule file the README shows', () => {
    const dir = path.join(app, 'block1');
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const shown = readme.match(/`cdktf\.out\/stacks\/prod\/firewall\/web\/iptables\.rules`:\n\n```\n([\s\S]*?)```/)![1];
    expect(fs.readFileSync(path.join(dir, 'cdktf.out', 'stacks', 'prod', 'firewall', 'web', 'iptables.rules'), 'utf8')).toBe(shown);
  });

  test('without @cdktf/provider-null, the default installer is a clear error naming the host and the fix', () => {
    const r = program(app, 'null', [
      "import { App, TerraformStack } from 'cdktf';",
      "import { Port, StatefulHost } from 'cdktf-iptables';",
      'const app = new App();',
      "new StatefulHost(new TerraformStack(app, 's'), 'web', { allow: [Port.SSH], connection: { host: '203.0.113.10', privateKey: 'k' } });",
      'app.synth();',
    ]);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('[s/web] installer NULL_RESOURCE needs the package @cdktf/provider-null');
    expect(r.out).toContain('Installer.TERRAFORM_DATA');
  }, 120_000);

  test('two copies of the library in one app work together: values and parts of one under a host of the other', () => {
    const r = program(app, 'two-copies', [
      "import * as fs from 'fs';",
      "import { App, TerraformStack } from 'cdktf';",
      "import { Peer, Port, StatefulHost } from 'cdktf-iptables';",
      "import * as other from 'cdktf-iptables-copy';",
      'const app = new App();',
      "const host = new StatefulHost(new TerraformStack(app, 'two'), 'web', { allow: [other.Port.HTTPS] });",
      "host.allowFrom(other.Peer.ipv4('198.51.100.0/24'), other.Port.tcp(5432));",
      "host.allowFrom(Peer.ipv6('2001:db8::/64'), Port.tcp(5432));",
      "new other.SshBruteforceGuard(host, 'guard');",
      "new other.PortScanTrap(host, 'trap', { exempt: [Peer.ipv4('198.51.100.7')] });",
      // a third-party part written against the other copy, its rules made of the other copy's values
      'class Mine extends other.FirewallPart {',
      '  public constructor(scope: any, id: string) { super(scope, id); }',
      '  public firewallRules(): any {',
      '    return { rules: [{ slot: other.RuleSlot.TCP_OPEN, matches: [other.Match.port(other.Port.tcp(7000))], target: other.Target.ACCEPT }], opens: [{ port: Port.tcp(7000) }] };',
      '  }',
      '}',
      "new Mine(host, 'mine');",
      'app.synth();',
      "process.stdout.write(fs.readFileSync('cdktf.out/stacks/two/firewall/web/iptables.rules', 'utf8'));",
    ]);
    expect({ status: r.status, out: r.status === 0 ? '' : r.out }).toEqual({ status: 0, out: '' });
    expect(r.out).toContain('-A TCP -s 198.51.100.0/24 -p tcp -m tcp --dport 5432 -m comment --comment "two/web" -j ACCEPT');
    expect(r.out).toContain('-A TCP -p tcp -m tcp --dport 443 -m comment --comment "two/web" -j ACCEPT');
    expect(r.out).toMatch(/^:IN_SSH - \[0:0\]$/m);
    expect(r.out).toContain('-A TCP -p tcp -m tcp --dport 7000 -m comment --comment "two/web/mine" -j ACCEPT');
    expect(r.out).toContain('TCP-PORTSCAN');
    expect(r.out).toContain('-A INPUT -s 198.51.100.7/32 -p tcp -m comment --comment "two/web/trap" -j REJECT --reject-with tcp-reset');
  }, 120_000);

  describe('a third-party part library (examples/third-party-part), installed against the tarball', () => {
    let dir: string;
    let rules: Record<'v4' | 'v6', string>;
    beforeAll(() => {
      dir = path.join(work, 'third-party-part');
      fs.cpSync(path.join(ROOT, 'examples', 'third-party-part'), dir, { recursive: true, filter: (src) => !/node_modules|cdktf\.out/.test(src) });
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      const versionOf = (name: string) => JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
      // the peers, as the app that uses the part library installs them
      pkg.devDependencies = { 'cdktf-iptables': `file:${tarballPath}`, 'cdktf': versionOf('cdktf'), 'constructs': versionOf('constructs') };
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
      const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], dir, 600_000);
      if (install.status !== 0) throw new Error(`npm install failed: ${install.out}`);
    }, 900_000);

    test('type-checks and synthesizes, importing only the package root', () => {
      const tsc = run(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], dir);
      expect({ status: tsc.status, out: tsc.out }).toEqual({ status: 0, out: '' });
      for (const f of ['src/index.ts', 'app.ts']) expect(fs.readFileSync(path.join(dir, f), 'utf8')).not.toMatch(/from 'cdktf-iptables\//);
      const r = run(TS_NODE, ['--project', 'tsconfig.json', 'app.ts'], dir);
      expect({ status: r.status, out: r.status === 0 ? '' : r.out }).toEqual({ status: 0, out: '' });
      const host = path.join(dir, 'cdktf.out', 'stacks', 'bastion', 'firewall', 'edge', 'host');
      rules = { v4: fs.readFileSync(path.join(host, 'iptables.rules'), 'utf8'), v6: fs.readFileSync(path.join(host, 'ip6tables.rules'), 'utf8') };
      expect(rules.v4).toContain('-A INPUT -i eth2 -m comment --comment "bastion/edge/host/vpn" -j ACCEPT');
      expect(rules.v4).toContain('-A TCP -p tcp -m tcp --dport 443 -m conntrack --ctstate NEW -m comment --comment "bastion/edge/host/https" -j HTTPS_LIMIT');
      expect(rules.v4).toContain('-A OUTPUT -d 203.0.113.2/32 -p tcp -m tcp --dport 5432 -m comment --comment "bastion/edge/host/db" -j ACCEPT');
      expect(rules.v6).not.toContain('5432');
    }, 300_000);

    test('its rules in a kernel: the VPN link is trusted, the rest gets SSH only, the host reaches the database only', async () => {
      if (!canUseNetns()) throw new Error('needs root and network namespaces');
      const topo = new Topology('cfwtp');
      try {
        await topo.up();
        await startEchoServer(topo.lab, topo.cl[1], [5432]);
        await startEchoServer(topo.lab, topo.cl[0], [5432]);
        topo.lab.loadRules(topo.srv, 'v4', rules.v4);
        topo.lab.loadRules(topo.srv, 'v6', rules.v6);
        expect(talk(topo.lab, topo.cl[2], SRV.v4[2], 3306, 'vpn\n')).toBe('vpn\n');
        expect(talk(topo.lab, topo.cl[0], SRV.v4[0], 3306, 'x\n')).toBe('');
        expect(talk(topo.lab, topo.cl[0], SRV.v4[0], 22, 'ssh\n')).toBe('ssh\n');
        expect(talk(topo.lab, topo.cl[2], SRV.v6[2], 3306, 'vpn6\n')).toBe('vpn6\n');
        expect(talk(topo.lab, topo.srv, CL.v4[1], 5432, 'db\n')).toBe('db\n');
        expect(talk(topo.lab, topo.srv, CL.v4[0], 5432, 'db\n')).toBe('');
      } finally {
        topo.lab.destroy();
      }
    }, 120_000);
  });
});
