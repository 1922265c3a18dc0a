import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NullProvider } from '@cdktf/provider-null/lib/provider';
import { App, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import 'cdktf/lib/testing/adapters/jest';
import { Distro, Installer, IpFamily, NatGateway, Port, StatefulHost } from '../../lib';
import { distroProfile, restoreUnit } from '../../lib/provision/distro';
import { shellQuote } from '../../lib/provision/installer';

Testing.setupJest();

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n';
const SCRIPTS = path.join(__dirname, '..', '..', 'lib', 'provision', 'scripts');

function synthJson(make: (stack: TerraformStack) => void): any {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'stack');
  make(stack);
  return JSON.parse(Testing.synth(stack, true));
}

describe('distro profiles', () => {
  test.each([
    [Distro.ARCH, '/etc/iptables/iptables.rules', '/etc/iptables/ip6tables.rules', false, []],
    [Distro.RHEL, '/etc/sysconfig/iptables', '/etc/sysconfig/ip6tables', false, ['firewalld']],
    [Distro.DEBIAN, '/etc/iptables/iptables.rules', '/etc/iptables/ip6tables.rules', true, []],
  ])('%s: paths, units, masked services', (distro, v4, v6, ship, mask) => {
    const p = distroProfile(distro);
    expect(p.rulesPath).toEqual({ V4: v4, V6: v6 });
    expect(p.unit).toEqual({ V4: 'iptables.service', V6: 'ip6tables.service' });
    expect(p.shipUnits).toBe(ship);
    expect(p.mask).toEqual(mask);
  });

  test('the shipped unit restores the file early and never flushes on stop', () => {
    const unit = restoreUnit(IpFamily.V6, '/etc/iptables/ip6tables.rules');
    expect(unit).toContain("ExecStart=/bin/sh -c 'exec ip6tables-restore -w 5 < /etc/iptables/ip6tables.rules'");
    expect(unit).toContain('Before=network-pre.target shutdown.target');
    expect(unit).toContain('WantedBy=multi-user.target');
    expect(unit).not.toMatch(/ExecStop/);
  });

  test('systemd-analyze accepts the unit', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-unit-'));
    const file = path.join(dir, 'iptables.service');
    fs.writeFileSync(file, restoreUnit(IpFamily.V4, '/etc/iptables/iptables.rules'));
    const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    expect(r.stderr.split('\n').filter((l) => l.includes('iptables.service') && !/Cannot add dependency|not found/.test(l))).toEqual([]);
  });
});

describe('scripts', () => {
  test.each(['firewall.sh'])('%s passes shellcheck (POSIX sh)', (script) => {
    const r = spawnSync('shellcheck', ['-s', 'sh', path.join(SCRIPTS, script)], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  test('probe.js is valid JavaScript', () => {
    const r = spawnSync(process.execPath, ['--check', path.join(SCRIPTS, 'probe.js')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
  });

  test('shellQuote keeps any value one word', () => {
    expect(shellQuote("it's; rm -rf /")).toBe('\'it\'\\\'\'s; rm -rf /\'');
    const r = spawnSync('sh', ['-c', `printf %s ${shellQuote("a'b $(x) \"c\"")}`], { encoding: 'utf8' });
    expect(r.stdout).toBe("a'b $(x) \"c\"");
  });
});

describe('deploy resources', () => {
  const host = (stack: TerraformStack, extra: object = {}) => new StatefulHost(stack, 'web', {
    allow: [Port.SSH],
    connection: { host: '203.0.113.10', privateKey: KEY },
    ...extra,
  });

  test('without a connection: files only, no resources, no provider', () => {
    const json = synthJson((s) => new StatefulHost(s, 'web', { allow: [Port.SSH] }));
    expect(json.resource).toBeUndefined();
    expect(json.provider).toBeUndefined();
  });

  test('null_resource by default, with the null provider added, hash triggers, and two steps', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const h = host(stack);
    const synth = Testing.synth(stack, true);
    expect(synth).toHaveProvider({ tfResourceType: 'null' });
    expect(synth).toHaveResourceWithProperties({ tfResourceType: 'null_resource' }, {
      connection: { type: 'ssh', host: '203.0.113.10', user: 'root', port: 22, private_key: KEY, timeout: '30s' },
    });
    const json = JSON.parse(synth);
    const resources = json.resource.null_resource;
    const [install, confirm] = ['install', 'confirm'].map((step) => Object.entries<any>(resources).find(([k]) => k.includes(`_deploy_${step}_`))![1]);
    const hash = (f: IpFamily) => crypto.createHash('sha256').update(h.renderRules(f)).digest('hex');
    expect(install.triggers.iptables_rules).toBe(hash(IpFamily.V4));
    expect(install.triggers.ip6tables_rules).toBe(hash(IpFamily.V6));
    expect(Object.keys(install.triggers).sort()).toEqual(['firewall_sh', 'ip6tables_rules', 'ip6tables_service', 'iptables_rules', 'iptables_service', 'probe_js']);
    expect(confirm.triggers).toEqual(install.triggers);
    expect(confirm.depends_on).toEqual([expect.stringMatching(/^null_resource\.web_deploy_install_/)]);
    const steps = install.provisioner.map((p: any) => Object.keys(p)[0]);
    expect(steps).toEqual(['remote-exec', 'file', 'file', 'file', 'file', 'file', 'remote-exec']);
    expect(install.provisioner[1].file).toEqual({ source: 'firewall/web/iptables.rules', destination: expect.stringMatching(/^\/tmp\/cdktf-iptables-[0-9a-f]{12}\/iptables\.rules$/) });
    expect(install.provisioner[6]['remote-exec'].inline.join('\n')).toMatch(/CFW_ROLLBACK_SECS='30' .*sh '\/tmp\/cdktf-iptables-[0-9a-f]{12}'\/firewall\.sh stage/);
    expect(confirm.provisioner.map((p: any) => Object.keys(p)[0])).toEqual(['local-exec', 'remote-exec']);
    expect(confirm.provisioner[0]['local-exec'].environment).toEqual({ CFW_HOST: '203.0.113.10', CFW_PORT: '22', CFW_TIMEOUT_S: '30', CFW_ROLLBACK_SECS: '30' });
    expect(confirm.provisioner[1]['remote-exec'].inline.join('\n')).toMatch(/firewall\.sh confirm/);
  });

  test('a user-configured null provider is not duplicated', () => {
    const json = synthJson((s) => {
      new NullProvider(s, 'mine');
      host(s);
    });
    expect(Object.keys(json.provider.null)).toHaveLength(1);
  });

  test('terraform_data carries exactly the same provisioners and connection as null_resource', () => {
    const strip = (r: any) => { const { triggers, triggers_replace: tr, depends_on: d, ...rest } = r; void triggers; void tr; void d; return { ...rest, '//': undefined }; };
    const a = synthJson((s) => host(s));
    const b = synthJson((s) => host(s, { installer: Installer.TERRAFORM_DATA }));
    expect(b.provider).toBeUndefined();
    for (const step of ['install', 'confirm']) {
      const ra = Object.entries<any>(a.resource.null_resource).find(([k]) => k.includes(step))![1];
      const rb = Object.entries<any>(b.resource.terraform_data).find(([k]) => k.includes(step))![1];
      expect(strip(rb)).toEqual(strip(ra));
      expect(rb.triggers_replace).toEqual(ra.triggers);
    }
  });

  test('bastion, pinned host key, port, user and timeout reach the connection; no probe through a bastion', () => {
    const json = synthJson((s) => new StatefulHost(s, 'web', {
      allow: [Port.tcp(2222)],
      connection: { host: '10.0.0.5', user: 'admin', port: 2222, privateKey: KEY, hostKey: 'ssh-ed25519 AAAA', timeout: '2m', bastion: { host: 'bastion.example.com', hostKey: 'ssh-ed25519 BBBB' } },
      distro: Distro.RHEL,
      rollbackSeconds: 60,
      takeOver: true,
    }));
    const [install, confirm] = ['install', 'confirm'].map((step) => Object.entries<any>(json.resource.null_resource).find(([k]) => k.includes(step))![1]);
    expect(install.connection).toEqual({
      type: 'ssh',
      host: '10.0.0.5',
      user: 'admin',
      port: 2222,
      private_key: KEY,
      timeout: '2m',
      host_key: 'ssh-ed25519 AAAA',
      bastion_host: 'bastion.example.com',
      bastion_user: 'admin',
      bastion_port: 22,
      bastion_private_key: KEY,
      bastion_host_key: 'ssh-ed25519 BBBB',
    });
    expect(confirm.provisioner.map((p: any) => Object.keys(p)[0])).toEqual(['remote-exec']);
    const cmd = install.provisioner.slice(-1)[0]['remote-exec'].inline.join('\n');
    expect(cmd).toContain("CFW_RULES_V4='/etc/sysconfig/iptables'");
    expect(cmd).toContain("CFW_MASK='firewalld'");
    expect(cmd).toContain("CFW_TAKE_OVER='yes'");
    expect(cmd).toContain("CFW_ROLLBACK_SECS='60'");
    expect(cmd).toContain('SUDO="sudo -n"');
  });

  test('secrets as tokens stay tokens; they never reach a written file', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-'));
    const app = new App({ outdir });
    const stack = new TerraformStack(app, 's');
    const key = new TerraformVariable(stack, 'key', { type: 'string', sensitive: true });
    new StatefulHost(stack, 'web', { allow: [Port.SSH], connection: { host: '203.0.113.10', privateKey: key.stringValue } });
    app.synth();
    const tf = fs.readFileSync(path.join(outdir, 'stacks', 's', 'cdk.tf.json'), 'utf8');
    expect(tf).toContain('"private_key": "${var.key}"');
    for (const f of fs.readdirSync(path.join(outdir, 'stacks', 's', 'firewall', 'web'))) {
      expect(fs.readFileSync(path.join(outdir, 'stacks', 's', 'firewall', 'web', f), 'utf8')).not.toMatch(/var\.key|PRIVATE KEY/);
    }
  });

  test('a NAT gateway makes the confirm step write the forwarding sysctls', () => {
    const json = synthJson((s) => {
      const h = host(s);
      new NatGateway(h, 'nat', { wan: 'eth1', lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }] });
    });
    const confirm = Object.entries<any>(json.resource.null_resource).find(([k]) => k.includes('confirm'))![1];
    expect(confirm.provisioner[1]['remote-exec'].inline.join('\n')).toContain("CFW_SYSCTL='net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1'");
  });

  test('the synth folder holds what the provisioners upload and run', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-'));
    const app = new App({ outdir });
    host(new TerraformStack(app, 's'));
    app.synth();
    const dir = path.join(outdir, 'stacks', 's', 'firewall', 'web');
    expect(fs.readdirSync(dir).sort()).toEqual(['firewall.sh', 'ip6tables.rules', 'ip6tables.service', 'iptables.rules', 'iptables.service', 'probe.js']);
    expect(() => fs.accessSync(path.join(dir, 'firewall.sh'), fs.constants.X_OK)).not.toThrow();
  });

  test('an unchanged tree gives the same triggers; a change changes them', () => {
    const triggers = (ports: Port[]) => {
      const json = synthJson((s) => new StatefulHost(s, 'web', { allow: ports, connection: { host: '203.0.113.10', privateKey: KEY } }));
      return Object.entries<any>(json.resource.null_resource).find(([k]) => k.includes('install'))![1].triggers;
    };
    expect(triggers([Port.SSH])).toEqual(triggers([Port.SSH]));
    expect(triggers([Port.SSH, Port.HTTPS]).iptables_rules).not.toBe(triggers([Port.SSH]).iptables_rules);
  });
});

describe('bad connection input names the host', () => {
  const cases: Array<[string, object, RegExp]> = [
    ['an empty host', { connection: { host: '', privateKey: KEY } }, /\[stack\/web\] connection\.host is ""; it must be a non-empty string/],
    ['a host with shell characters', { connection: { host: '1.2.3.4;reboot', privateKey: KEY } }, /\[stack\/web\] connection\.host "1\.2\.3\.4;reboot" is not valid/],
    ['a bad user', { connection: { host: 'h', user: 'root; reboot', privateKey: KEY } }, /connection\.user "root; reboot" is not valid/],
    ['a bad port', { connection: { host: 'h', port: 70000, privateKey: KEY } }, /connection\.port is 70000/],
    ['no key', { connection: { host: 'h' } }, /connection\.privateKey is undefined/],
    ['a bad timeout', { connection: { host: 'h', privateKey: KEY, timeout: '30 seconds' } }, /connection\.timeout "30 seconds" is not valid\. Write a duration/],
    ['a bad bastion', { connection: { host: 'h', privateKey: KEY, bastion: { host: 'b b' } } }, /connection\.bastion\.host "b b" is not valid/],
    ['a rollback too short', { connection: { host: 'h', privateKey: KEY }, rollbackSeconds: 1 }, /rollbackSeconds is 1; it must be a whole number from 5 to 3600/],
    ['deploy settings without a connection', { takeOver: true }, /installer, rollbackSeconds and takeOver only apply to a deploy/],
    ['an unknown distro', { distro: 'GENTOO' }, /distro is "GENTOO"\. Use one of ARCH, RHEL, DEBIAN/],
  ];
  test.each(cases)('%s', (_n, props, msg) => {
    expect(() => new StatefulHost(new TerraformStack(new App(), 'stack'), 'web', { allow: [Port.SSH], ...props } as any)).toThrow(msg);
  });
});

describe('cloudInit', () => {
  test('writes the rule files (base64), the units on Debian, the sysctls, and enables the units', () => {
    const h = new StatefulHost(new TerraformStack(new App(), 's'), 'gw', { allow: [Port.SSH] });
    new NatGateway(h, 'nat', { wan: 'eth1', lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }] });
    const doc = h.cloudInit();
    expect(doc.split('\n')[0]).toBe('#cloud-config');
    const b64 = (p: string) => doc.match(new RegExp(`path: ${p}\\n.*\\n.*\\n    content: (\\S+)`))![1];
    expect(Buffer.from(b64('/etc/iptables/iptables.rules'), 'base64').toString()).toBe(h.renderRules(IpFamily.V4));
    expect(Buffer.from(b64('/etc/iptables/ip6tables.rules'), 'base64').toString()).toBe(h.renderRules(IpFamily.V6));
    expect(Buffer.from(b64('/etc/systemd/system/iptables.service'), 'base64').toString()).toContain('iptables-restore');
    expect(Buffer.from(b64('/etc/sysctl.d/90-cdktf-iptables.conf'), 'base64').toString()).toContain('net.ipv4.ip_forward=1');
    expect(doc).toContain('  - [systemctl, enable, --now, iptables.service, ip6tables.service]');
  });

  test('RHEL masks firewalld and ships no units', () => {
    const doc = new StatefulHost(new TerraformStack(new App(), 's'), 'h', { allow: [Port.SSH], distro: Distro.RHEL, ipv6: false }).cloudInit();
    expect(doc).toContain('path: /etc/sysconfig/iptables');
    expect(doc).not.toContain('ip6tables');
    expect(doc).not.toContain('/etc/systemd/system/');
    expect(doc).toContain('  - [systemctl, mask, firewalld]');
  });
});

describe('lock-out warnings follow the SSH port of the connection', () => {
  const warnings = (props: object) => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-'));
    const app = new App({ outdir });
    new StatefulHost(new TerraformStack(app, 's'), 'h', props);
    app.synth();
    return fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8');
  };
  test('port 2222 open, connection on 2222: no warning', () => {
    expect(warnings({ allow: [Port.tcp(2222)], connection: { host: 'h', port: 2222, privateKey: KEY } })).not.toMatch(/no rule admits SSH/);
  });
  test('port 22 open, connection on 2222: a warning that names tcp/2222 and the rollback', () => {
    expect(warnings({ allow: [Port.SSH], connection: { host: 'h', port: 2222, privateKey: KEY } })).toMatch(/no rule admits SSH \(tcp\/2222\).*fails its new-connection check and rolls back/);
  });
});
