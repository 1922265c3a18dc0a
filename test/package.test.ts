/**
 * The library as a user gets it, for each framework: the packed tarball
 * (cdktf-iptables: `npm pack`; cdktn-iptables: `npx projen pack:cdktn`, the same
 * lib/ compiled against cdktn) installed into a fresh app of its framework
 * (cdktf 0.21 + cdktf-cli; cdktn 0.24 + cdktn-cli and no cdktf at all; neither
 * with a null provider package). There, every TypeScript block of the README
 * runs as a complete program importing only the package root (written with
 * the framework's imports), strict TypeScript checks them, the framework's own
 * CLI synthesizes and reports the library's validations and warnings, the
 * package's jest matchers (`/testing`) run under the app's jest, a third-party
 * part library builds against the tarball, and (cdktn) a terraform_data deploy
 * to a booted host succeeds from the app.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { DeployApp } from './e2e/deploy-app';
import { Fleet, Target } from './e2e/target';
import { canUseNetns } from './kernel/lab';
import { startEchoServer, talk } from './kernel/probes';
import { normalizeRules } from './kernel/rules-io';
import { CL, SRV, Topology } from './kernel/topology';
import { forFramework, Framework, FRAMEWORKS, FreshApp, packLibrary, readmeBlocks, ROOT, run, runOk, thirdPartyPart } from './packaged';
import { tempDir } from './temp';

const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const blocks = readmeBlocks('ts');
/** The README's tour program and the rule file it shows. */
const TOUR = blocks[0];
const TOUR_RULES = README.match(/`cdktf\.out\/stacks\/prod\/firewall\/web\/iptables\.rules`:\n\n```\n([\s\S]*?)```/)![1];
const tarballs = new Map<string, string>();
const apps = new Map<string, FreshApp>();

/**
 * What a program synthesized under `dir`: every file under cdktf.out/stacks
 * (cdk.tf.json without the framework's own "//" block; the app's folder, which
 * the default local backend names, as `<app>`).
 */
function synthesized(dir: string, appDir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        walk(p);
        continue;
      }
      let text = fs.readFileSync(p, 'utf8');
      if (e.name === 'cdk.tf.json') {
        const { '//': _framework, ...rest } = JSON.parse(text);
        text = JSON.stringify(rest, null, 2);
      }
      files[path.relative(dir, p)] = text.split(appDir).join('<app>');
    }
  };
  walk(path.join(dir, 'cdktf.out', 'stacks'));
  return files;
}

test('the README has TypeScript programs, the tour first', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(3);
  expect(TOUR).toContain("new StatefulHost(stack, 'web'");
});

describe.each(FRAMEWORKS.map((fw) => [fw.name, fw] as const))('%s: the packed library in a fresh app of its framework', (_name, fw: Framework) => {
  let work: string;
  let app: FreshApp;
  const seconds: Record<string, number> = {};

  beforeAll(() => {
    work = tempDir(`cfw-pkg-${fw.name}-`);
    let t0 = Date.now();
    const tarball = packLibrary(fw, path.join(work, 'dist'));
    tarballs.set(fw.name, tarball);
    seconds.pack = (Date.now() - t0) / 1000;
    t0 = Date.now();
    app = new FreshApp(fw, work, tarball);
    apps.set(fw.name, app);
    seconds.install = (Date.now() - t0) / 1000;
  }, 900_000);

  afterAll(() => {
    // eslint-disable-next-line no-console
    console.log(`${fw.library}: ${JSON.stringify(seconds)} s, tarball ${(fs.statSync(tarballs.get(fw.name)!).size / 1024).toFixed(0)} KiB`);
  });

  test(`the package ships compiled code and scripts, not sources or tests; the app has ${fw.name} only, no null provider`, () => {
    const pkg = path.join(app.dir, 'node_modules', fw.library);
    expect(fs.existsSync(path.join(pkg, 'lib', 'index.js'))).toBe(true);
    expect(fs.existsSync(path.join(pkg, 'lib', 'index.d.ts'))).toBe(true);
    expect(fs.existsSync(path.join(pkg, 'lib', 'provision', 'scripts', 'firewall.sh'))).toBe(true);
    expect(fs.existsSync(path.join(pkg, 'lib', 'provision', 'scripts', 'probe.js'))).toBe(true);
    expect(fs.existsSync(path.join(pkg, 'lib', 'index.ts'))).toBe(false);
    expect(fs.existsSync(path.join(pkg, 'test'))).toBe(false);
    // the optional peer was not installed
    expect(fs.existsSync(path.join(app.dir, 'node_modules', '@cdktf', 'provider-null'))).toBe(false);
    const other = fw.name === 'cdktf' ? 'cdktn' : 'cdktf';
    expect(fs.existsSync(path.join(app.dir, 'node_modules', other))).toBe(false);
    // its jsii assembly is its own and depends on its framework
    const assembly = JSON.parse(fs.readFileSync(path.join(pkg, '.jsii'), 'utf8'));
    expect({ name: assembly.name, dependencies: Object.keys(assembly.dependencies).sort() }).toEqual({
      name: fw.library,
      dependencies: fw.name === 'cdktf' ? ['@cdktf/provider-null', 'cdktf', 'constructs'] : ['cdktn', 'constructs'],
    });
    const manifest = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8'));
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(fw.name === 'cdktf' ? ['@cdktf/provider-null', 'cdktf', 'constructs'] : ['cdktn', 'constructs']);
    // the shim was built for this framework, and only the shim names it
    expect(fs.readFileSync(path.join(pkg, 'lib', 'private', 'cdktf.js'), 'utf8')).toContain(`require("${fw.name}")`);
  });

  test('every README TypeScript block type-checks as a program of the app (strict, the packages\' declarations checked too)', () => {
    blocks.forEach((block, i) => app.writeProgram(`block${i + 1}`, block));
    const r = app.tsc();
    expect({ status: r.status, out: r.out }).toEqual({ status: 0, out: '' });
  }, 300_000);

  test.each(blocks.map((b, i) => [i + 1, b]))('README TypeScript block %i runs as a complete program', (i, block) => {
    const r = app.program(`block${i}`, block as string, { typeChecked: true });
    expect({ block: i, status: r.status, out: r.status === 0 ? '' : r.out }).toEqual({ block: i, status: 0, out: '' });
    if ((block as string).includes('app.synth()')) expect(fs.existsSync(path.join(app.dir, `block${i}`, 'cdktf.out'))).toBe(true);
  }, 120_000);

  test('the tour writes exactly the rule file the README shows', () => {
    expect(fs.readFileSync(path.join(app.dir, 'block1', 'cdktf.out', 'stacks', 'prod', 'firewall', 'web', 'iptables.rules'), 'utf8')).toBe(TOUR_RULES);
  });

  test(`the package's command line: \`npx ${fw.library} diff\` compares a ruleset with a host folder (exit 0 same, 1 differ)`, () => {
    const folder = path.join(app.dir, 'block1', 'cdktf.out', 'stacks', 'prod', 'firewall', 'web');
    const same = spawnSync('npx', ['--no-install', fw.library, 'diff', path.join(folder, 'iptables.rules'), folder], { cwd: app.dir, encoding: 'utf8', timeout: 60_000 });
    expect({ status: same.status, out: same.stdout, err: same.stderr }).toEqual({ status: 0, out: expect.stringContaining('both admit the same packets on every path'), err: '' });
    const open = path.join(app.dir, 'open.rules');
    fs.writeFileSync(open, '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n');
    const differ = spawnSync('npx', ['--no-install', fw.library, 'diff', open, folder], { cwd: app.dir, encoding: 'utf8', timeout: 60_000 });
    expect(differ.status).toBe(1);
    expect(differ.stdout).toMatch(/open before, refused after/);
  }, 120_000);

  test(`\`npx ${fw.name} synth\` (the framework's CLI${fw.name === 'cdktn' ? ', on Node 22' : ''}) synthesizes the tour, prints the library's warnings, and fails on its validations`, () => {
    app.write('main.ts', forFramework(TOUR, fw));
    const tour = app.cli(['synth']);
    expect({ status: tour.status, out: tour.status === 0 ? '' : tour.out }).toEqual({ status: 0, out: '' });
    expect(fs.readFileSync(path.join(app.dir, 'cdktf.out', 'stacks', 'prod', 'firewall', 'web', 'iptables.rules'), 'utf8')).toBe(TOUR_RULES);
    // a part that opens a port it does not declare (the intent check runs as a validation at synth),
    // on a host that admits no SSH (a warning annotation)
    const dir = path.join(app.dir, 'cli-checks');
    app.write(path.join('cli-checks', 'main.ts'), forFramework([
      "import { App, TerraformStack } from 'cdktf';",
      "import { Construct } from 'constructs';",
      "import { FirewallPart, Match, PartHost, PartRules, Port, RuleSlot, StatefulHost, Target } from 'cdktf-iptables';",
      'class Leak extends FirewallPart {',
      '  constructor(scope: Construct, id: string) { super(scope, id); }',
      '  public firewallRules(_host: PartHost): PartRules {',
      '    return { rules: [{ slot: RuleSlot.TCP_OPEN, matches: [Match.port(Port.tcp(9000))], target: Target.ACCEPT }] };',
      '  }',
      '}',
      'const app = new App();',
      "const web = new StatefulHost(new TerraformStack(app, 'prod'), 'web', { allow: [Port.HTTPS] });",
      "if (process.env.CFW_LEAK === 'yes') new Leak(web, 'leak');",
      'app.synth();',
    ].join('\n'), fw));
    app.writeCdktfJson(dir);
    const warned = app.cli(['synth'], dir);
    expect({ status: warned.status, out: warned.status === 0 ? '' : warned.out }).toEqual({ status: 0, out: '' });
    expect(warned.out).toMatch(/\[prod\/web\]:? no rule admits SSH \(tcp\/22\)/);
    const failed = app.cli(['synth'], dir, { CFW_LEAK: 'yes' });
    expect(failed.status).not.toBe(0);
    expect(failed.out).toMatch(/\[prod\/web\] intent check: V4 tcp 9000 [^\n]* is opened, but nothing declares it/);
    expect(failed.out).toContain('parts involved: prod/web, prod/web/leak');
  }, 300_000);

  if (fw.name === 'cdktf') {
    test('without @cdktf/provider-null, the default installer is a clear error naming the host and the fix', () => {
      const r = app.program('null', [
        "import { App, TerraformStack } from 'cdktf';",
        "import { Port, StatefulHost } from 'cdktf-iptables';",
        'const app = new App();',
        "new StatefulHost(new TerraformStack(app, 's'), 'web', { allow: [Port.SSH], connection: { host: '203.0.113.10', privateKey: 'k' } });",
        'app.synth();',
      ].join('\n'));
      expect(r.status).not.toBe(0);
      expect(r.out).toContain('[s/web] installer NULL_RESOURCE needs the package @cdktf/provider-null');
      expect(r.out).toContain('Installer.TERRAFORM_DATA');
    }, 120_000);
  } else {
    test('the default installer is terraform_data (no provider); installer NULL_RESOURCE is a FirewallConfigError naming the host, the value and the fix', () => {
      const r = app.program('null', [
        "import * as fs from 'fs';",
        "import { App, TerraformStack } from 'cdktf';",
        "import { Installer, Port, StatefulHost } from 'cdktf-iptables';",
        'const app = new App();',
        "const stack = new TerraformStack(app, 's');",
        "new StatefulHost(stack, 'web', { allow: [Port.SSH], connection: { host: '203.0.113.10', privateKey: 'k' } });",
        'app.synth();',
        "const tf = JSON.parse(fs.readFileSync('cdktf.out/stacks/s/cdk.tf.json', 'utf8'));",
        "console.log(`resources: ${Object.keys(tf.resource).join(',')}; providers: ${Object.keys(tf.provider ?? {}).join(',')}`);",
        'try {',
        "  new StatefulHost(new TerraformStack(app, 'n'), 'web', { allow: [Port.SSH], installer: Installer.NULL_RESOURCE, connection: { host: '203.0.113.10', privateKey: 'k' } });",
        '} catch (e) {',
        '  console.log(`${(e as Error).name}: ${(e as Error).message}`);',
        '}',
      ].join('\n'));
      expect({ status: r.status, out: r.status === 0 ? '' : r.out }).toEqual({ status: 0, out: '' });
      expect(r.out).toContain('resources: terraform_data; providers: \n');
      expect(r.out).toMatch(/^FirewallConfigError: \[n\/web\] installer is NULL_RESOURCE .*there is no @cdktn\/provider-null.* Use installer: Installer\.TERRAFORM_DATA/m);
    }, 120_000);
  }

  test('two copies of the library in one app work together: values and parts of one under a host of the other', () => {
    const r = app.program('two-copies', [
      "import * as fs from 'fs';",
      "import { App, TerraformStack } from 'cdktf';",
      "import { Peer, Port, StatefulHost } from 'cdktf-iptables';",
      `import * as other from '${fw.library}-copy';`,
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
    ].join('\n'));
    expect({ status: r.status, out: r.status === 0 ? '' : r.out }).toEqual({ status: 0, out: '' });
    expect(r.out).toContain('-A TCP -s 198.51.100.0/24 -p tcp -m tcp --dport 5432 -m comment --comment "two/web" -j ACCEPT');
    expect(r.out).toContain('-A TCP -p tcp -m tcp --dport 443 -m comment --comment "two/web" -j ACCEPT');
    expect(r.out).toMatch(/^:IN_SSH - \[0:0\]$/m);
    expect(r.out).toContain('-A TCP -p tcp -m tcp --dport 7000 -m comment --comment "two/web/mine" -j ACCEPT');
    expect(r.out).toContain('TCP-PORTSCAN');
    expect(r.out).toContain('-A INPUT -s 198.51.100.7/32 -p tcp -m comment --comment "two/web/trap" -j REJECT --reject-with tcp-reset');
  }, 120_000);

  test("the package's jest matchers (/testing) and the framework's Testing.synth validations, under the app's own jest", () => {
    const testing = readmeBlocks('typescript').find((b) => b.startsWith('// firewall.test.ts\n'));
    expect(testing).toBeDefined();
    app.write(path.join('tests', 'firewall.test.ts'), forFramework(testing!, fw));
    app.write(path.join('tests', 'validations.test.ts'), forFramework([
      "import 'cdktf-iptables/testing';",
      "import { App, Testing, TerraformStack } from 'cdktf';",
      "import { Construct } from 'constructs';",
      "import { FirewallPart, IpFamily, Match, PartRules, Port, Protocol, RuleSlot, StatefulHost, Target } from 'cdktf-iptables';",
      'class Leak extends FirewallPart {',
      '  public constructor(scope: Construct, id: string) { super(scope, id); }',
      '  public firewallRules(): PartRules {',
      '    return { rules: [{ slot: RuleSlot.TCP_OPEN, matches: [Match.port(Port.tcp(9000))], target: Target.ACCEPT }] };',
      '  }',
      '}',
      "test('an undeclared opening fails the validations of Testing.synth; the matchers see the port open', () => {",
      "  const stack = new TerraformStack(new App(), 'prod');",
      "  const host = new StatefulHost(stack, 'web', { allow: [Port.SSH] });",
      "  new Leak(host, 'leak');",
      "  expect(host).toAccept({ family: IpFamily.V4, protocol: Protocol.TCP, source: '198.51.100.7', destinationPort: 9000 });",
      '  expect(() => Testing.synth(stack, true)).toThrow(/intent check: V4 tcp 9000 .* is opened, but nothing declares it/);',
      '});',
    ].join('\n'), fw));
    const r = run(app.bin('jest'), ['--ci', '--colors=false'], app.dir, { timeout: 300_000 });
    expect({ status: r.status, out: r.status === 0 ? '' : r.out }).toEqual({ status: 0, out: '' });
    expect(r.out).toMatch(/^Tests: +4 passed, 4 total$/m);
  }, 300_000);

  describe('a third-party part library (examples/third-party-part), installed against the tarball', () => {
    let dir: string;
    let rules: Record<'v4' | 'v6', string>;
    beforeAll(() => {
      dir = thirdPartyPart(fw, work, tarballs.get(fw.name)!);
    }, 900_000);

    test('type-checks and synthesizes, importing only the package root', () => {
      const tsc = runOk(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], dir);
      expect(tsc).toBe('');
      for (const f of ['src/index.ts', 'app.ts']) {
        const text = fs.readFileSync(path.join(dir, f), 'utf8');
        expect(text).not.toMatch(new RegExp(`from '${fw.library}/`));
        if (fw.name === 'cdktn') expect(text).not.toMatch(/'cdktf(-iptables)?'/);
      }
      runOk(path.join(ROOT, 'node_modules', '.bin', 'ts-node'), ['--project', 'tsconfig.json', 'app.ts'], dir);
      const host = path.join(dir, 'cdktf.out', 'stacks', 'bastion', 'firewall', 'edge', 'host');
      rules = { v4: fs.readFileSync(path.join(host, 'iptables.rules'), 'utf8'), v6: fs.readFileSync(path.join(host, 'ip6tables.rules'), 'utf8') };
      expect(rules.v4).toContain('-A INPUT -i eth2 -m comment --comment "bastion/edge/host/vpn" -j ACCEPT');
      expect(rules.v4).toContain('-A TCP -p tcp -m tcp --dport 443 -m conntrack --ctstate NEW -m comment --comment "bastion/edge/host/https" -j HTTPS_LIMIT');
      expect(rules.v4).toContain('-A OUTPUT -d 203.0.113.2/32 -p tcp -m tcp --dport 5432 -m comment --comment "bastion/edge/host/db" -j ACCEPT');
      expect(rules.v6).not.toContain('5432');
    }, 300_000);

    test('its rules in a kernel: the VPN link is trusted, the rest gets SSH only, the host reaches the database only', async () => {
      if (!canUseNetns()) throw new Error('needs root and network namespaces');
      const topo = new Topology(fw.name === 'cdktf' ? 'cfwtp' : 'cfwtntp');
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

  if (fw.name === 'cdktn') {
    describe('a deploy from the cdktn app: `npx cdktn synth`, then terraform apply to one booted host (terraform_data, the default)', () => {
      let fleet: Fleet | undefined;
      let target: Target;

      beforeAll(async () => {
        if (!canUseNetns()) throw new Error('the deploy needs root, network namespaces and systemd-nspawn (see README)');
        const t0 = Date.now();
        fleet = new Fleet(undefined, { prefix: 'cfwtn' });
        seconds.image = fleet.imageSeconds;
        target = fleet.target();
        seconds.boot = await target.boot();
        seconds.fleet = (Date.now() - t0) / 1000;
      }, 900_000);

      afterAll(() => fleet?.destroy());

      test('the first apply installs and loads the rules; the host answers SSH through them', () => {
        const deploy = new DeployApp(fleet!, 'tn');
        const dir = path.join(app.dir, 'deploy');
        app.write(path.join('deploy', 'main.ts'), forFramework([
          "import { App, DataResource, LocalBackend, TerraformStack, TerraformVariable } from 'cdktf';",
          "import { Port, StatefulHost } from 'cdktf-iptables';",
          'const app = new App();',
          "const stack = new TerraformStack(app, 'tn');",
          'new LocalBackend(stack, { path: process.env.CFW_STATE! });',
          "const key = new TerraformVariable(stack, 'ssh_private_key', { type: 'string', sensitive: true });",
          "const web = new StatefulHost(stack, 'web', {",
          '  allow: [Port.SSH, Port.HTTPS],',
          '  rollbackSeconds: 20,',
          "  connection: { host: process.env.CFW_TARGET_HOST!, privateKey: key.stringValue, timeout: '15s' },",
          '});',
          // runs after the firewall was confirmed (a TerraformOutput's dependsOn renders an expression terraform rejects)
          "new DataResource(stack, 'after-firewall', { input: { firewall: 'ready' }, dependsOn: [web.deployment!] });",
          'app.synth();',
        ].join('\n'), fw));
        app.writeCdktfJson(dir);
        let t0 = Date.now();
        const synth = app.cli(['synth', '--output', deploy.outdir], dir, { CFW_STATE: path.join(deploy.outdir, 'terraform.tfstate'), CFW_TARGET_HOST: target.v4 });
        seconds['deploy synth'] = (Date.now() - t0) / 1000;
        expect({ status: synth.status, out: synth.status === 0 ? '' : synth.out }).toEqual({ status: 0, out: '' });
        const tf = JSON.parse(fs.readFileSync(path.join(deploy.stackDir, 'cdk.tf.json'), 'utf8'));
        expect({ resources: Object.keys(tf.resource), providers: Object.keys(tf.provider ?? {}) }).toEqual({ resources: ['terraform_data'], providers: [] });
        expect(Object.keys(tf.resource.terraform_data).sort()).toEqual(['after-firewall', expect.stringMatching(/^web_deploy_firewall_[0-9A-F]{8}$/)]);
        t0 = Date.now();
        const out = deploy.apply();
        seconds['init + apply'] = (Date.now() - t0) / 1000;
        expect(out.stdout).toMatch(/Apply complete! Resources: 2 added/);
        // the resource that depends on host.deployment was created after the deploy's confirm
        expect(out.stdout.indexOf('terraform_data.after-firewall: Creating')).toBeGreaterThan(out.stdout.indexOf('rules confirmed, persisted and enabled'));
        const rendered = (file: string) => normalizeRules(deploy.file('web', file));
        expect(normalizeRules(target.exec('iptables-save').stdout)).toEqual(rendered('iptables.rules'));
        expect(normalizeRules(target.exec('ip6tables-save').stdout)).toEqual(rendered('ip6tables.rules'));
        expect(target.exec('systemctl is-enabled iptables.service ip6tables.service').stdout.split('\n').filter(Boolean)).toEqual(['enabled', 'enabled']);
        expect(target.sshPortAnswers()).toBe(true);
      }, 600_000);
    });
  }
});

test('one source, two packages: both tarballs hold the same files, and every README program synthesizes the same files under both frameworks', () => {
  const list = (tarball: string) => runOk('tar', ['tzf', tarball], ROOT).split('\n').filter(Boolean).sort();
  expect(list(tarballs.get('cdktn')!)).toEqual(list(tarballs.get('cdktf')!));
  blocks.forEach((block, i) => {
    if (!block.includes('app.synth()')) return;
    const [tf, tn] = [apps.get('cdktf')!, apps.get('cdktn')!].map((a) => synthesized(path.join(a.dir, `block${i + 1}`), a.dir));
    expect(Object.keys(tf).length).toBeGreaterThan(0);
    expect({ block: i + 1, files: tn }).toEqual({ block: i + 1, files: tf });
  });
});
