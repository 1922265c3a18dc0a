import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NullProvider } from '@cdktf/provider-null/lib/provider';
import { App, DataResource, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import 'cdktf/lib/testing/adapters/jest';
import { Distro, ForeignRules, Installer, IpFamily, NatGateway, Port, SshBruteforceGuard, StatefulHost } from '../../lib';
import { deployBundle } from '../../lib/provision/bundle';
import { distroProfile, restoreUnit } from '../../lib/provision/distro';
import { shellQuote } from '../../lib/provision/installer';
import { tempDir } from '../temp';

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
    const dir = tempDir('cfw-unit-');
    const file = path.join(dir, 'iptables.service');
    fs.writeFileSync(file, restoreUnit(IpFamily.V4, '/etc/iptables/iptables.rules'));
    const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    expect(r.stderr.split('\n').filter((l) => l.includes('iptables.service') && !/Cannot add dependency|not found/.test(l))).toEqual([]);
  });
});

describe('scripts', () => {
  test.each(['firewall.sh', 'drift.sh'])('%s passes shellcheck (POSIX sh)', (script) => {
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
  const only = (json: any, type = 'null_resource') => {
    const all = Object.entries<any>(json.resource[type]);
    expect(all).toHaveLength(1);
    return all[0][1];
  };

  test('without a connection: files only, no resources, no provider', () => {
    const json = synthJson((s) => new StatefulHost(s, 'web', { allow: [Port.SSH] }));
    expect(json.resource).toBeUndefined();
    expect(json.provider).toBeUndefined();
  });

  test('null_resource by default, with the null provider added: ONE resource, bundle upload+stage, probe, confirm', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    host(stack);
    const synth = Testing.synth(stack, true);
    expect(synth).toHaveProvider({ tfResourceType: 'null' });
    expect(synth).toHaveResourceWithProperties({ tfResourceType: 'null_resource' }, {
      connection: { type: 'ssh', host: '203.0.113.10', user: 'root', port: 22, private_key: KEY, timeout: '30s', script_path: './.cdktf-iptables-%RAND%.sh' },
    });
    const r = only(JSON.parse(synth));
    expect(Object.keys(r.triggers).sort()).toEqual(['deploy', 'host', 'port', 'probe', 'user']);
    expect(r.triggers).toMatchObject({ host: '203.0.113.10', port: '22', user: 'root' });
    expect(r.triggers.deploy).toMatch(/^[0-9a-f]{64}$/);
    expect(r.provisioner.map((p: any) => Object.keys(p)[0])).toEqual(['remote-exec', 'local-exec', 'remote-exec']);
    expect(r.provisioner[0]['remote-exec']).toEqual({ script: 'firewall/web/deploy.sh' });
    expect(r.provisioner[1]['local-exec'].environment).toEqual({ CFW_HOST: '203.0.113.10', CFW_PORT: '22', CFW_TIMEOUT: '30s', CFW_ROLLBACK_SECS: '30', NODE_EXTRA_CA_CERTS: '', NODE_OPTIONS: '' });
    expect(r.provisioner[2]['remote-exec'].inline.join('\n')).toMatch(/firewall\.sh confirm [0-9a-f]{20}$/);
  });

  test('a user-configured null provider is not duplicated', () => {
    const json = synthJson((s) => {
      new NullProvider(s, 'mine');
      host(s);
    });
    expect(Object.keys(json.provider.null)).toHaveLength(1);
  });

  test('terraform_data carries exactly the same provisioners, connection and triggers as null_resource', () => {
    const strip = (r: any) => { const { triggers, triggers_replace: tr, ...rest } = r; void triggers; void tr; return { ...rest, '//': undefined }; };
    const a = only(synthJson((s) => host(s)));
    const b = only(synthJson((s) => host(s, { installer: Installer.TERRAFORM_DATA })), 'terraform_data');
    expect(strip(b)).toEqual(strip(a));
    expect(b.triggers_replace).toEqual(a.triggers);
    expect(synthJson((s) => host(s, { installer: Installer.TERRAFORM_DATA })).provider).toBeUndefined();
  });

  test('bastion, pinned host key, port, user and timeout reach the connection; no probe through a bastion', () => {
    const json = synthJson((s) => new StatefulHost(s, 'web', {
      allow: [Port.tcp(2222)],
      connection: { host: '10.0.0.5', user: 'admin', port: 2222, privateKey: KEY, hostKey: 'ssh-ed25519 AAAA', timeout: '2m', bastion: { host: 'bastion.example.com', hostKey: 'ssh-ed25519 BBBB' } },
      distro: Distro.RHEL,
      rollbackSeconds: 60,
      takeOver: true,
    }));
    const r = only(json);
    expect(r.connection).toEqual({
      type: 'ssh',
      host: '10.0.0.5',
      user: 'admin',
      port: 2222,
      private_key: KEY,
      timeout: '2m',
      script_path: './.cdktf-iptables-%RAND%.sh',
      host_key: 'ssh-ed25519 AAAA',
      bastion_host: 'bastion.example.com',
      bastion_user: 'admin',
      bastion_port: 22,
      bastion_private_key: KEY,
      bastion_host_key: 'ssh-ed25519 BBBB',
    });
    expect(r.triggers).toMatchObject({ host: '10.0.0.5', port: '2222', user: 'admin' });
    expect(r.provisioner.map((p: any) => Object.keys(p)[0])).toEqual(['remote-exec', 'remote-exec']);
  });

  test('the bundle carries the distro paths and deploy settings', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-'));
    try {
      const app = new App({ outdir });
      new StatefulHost(new TerraformStack(app, 's'), 'web', {
        allow: [Port.SSH],
        distro: Distro.RHEL,
        rollbackSeconds: 60,
        takeOver: true,
        connection: { host: '10.0.0.5', user: 'admin', privateKey: KEY },
      });
      app.synth();
      const bundle = fs.readFileSync(path.join(outdir, 'stacks', 's', 'firewall', 'web', 'deploy.sh'), 'utf8');
      expect(bundle).toContain("CFW_RULES_V4='/etc/sysconfig/iptables'");
      expect(bundle).toContain("CFW_MASK='firewalld'");
      expect(bundle).toContain("CFW_TAKE_OVER='yes'");
      expect(bundle).toContain("CFW_ROLLBACK_SECS='60'");
      expect(bundle).toContain('exec sudo -n /bin/sh "$0" "$client"');
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('secrets as tokens stay tokens; they never reach a written file', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-'));
    try {
      const app = new App({ outdir });
      const stack = new TerraformStack(app, 's');
      const key = new TerraformVariable(stack, 'key', { type: 'string', sensitive: true });
      new StatefulHost(stack, 'web', { allow: [Port.SSH], connection: { host: '203.0.113.10', privateKey: key.stringValue } });
      app.synth();
      const tf = fs.readFileSync(path.join(outdir, 'stacks', 's', 'cdk.tf.json'), 'utf8');
      expect(tf).toContain('"private_key": "${var.key}"');
      expect(JSON.parse(tf).resource.null_resource[Object.keys(JSON.parse(tf).resource.null_resource)[0]].triggers).not.toHaveProperty('private_key');
      for (const f of fs.readdirSync(path.join(outdir, 'stacks', 's', 'firewall', 'web'))) {
        expect(fs.readFileSync(path.join(outdir, 'stacks', 's', 'firewall', 'web', f), 'utf8')).not.toMatch(/var\.key|PRIVATE KEY/);
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('a NAT gateway makes the deploy write the forwarding sysctls', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const h = host(stack);
    new NatGateway(h, 'nat', { wan: 'eth1', lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }] });
    expect(h._installer!.bundle().script).toContain("CFW_SYSCTL='net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1'");
  });

  test('the synth folder holds the rule files, the bundle and the probe', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-'));
    try {
      const app = new App({ outdir });
      host(new TerraformStack(app, 's'));
      app.synth();
      const dir = path.join(outdir, 'stacks', 's', 'firewall', 'web');
      expect(fs.readdirSync(dir).sort()).toEqual(['deploy.sh', 'ip6tables.rules', 'iptables.rules', 'probe.js', 'reachability.txt']);
      expect(() => fs.accessSync(path.join(dir, 'deploy.sh'), fs.constants.X_OK)).not.toThrow();
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('triggers: unchanged tree, same triggers; rules, target host, port, user or a deploy setting change them', () => {
    const triggers = (props: object = {}, ports: Port[] = [Port.SSH]) =>
      only(synthJson((s) => new StatefulHost(s, 'web', { allow: ports, connection: { host: '203.0.113.10', privateKey: KEY }, ...props }))).triggers;
    const base = triggers();
    expect(triggers()).toEqual(base);
    expect(triggers({}, [Port.SSH, Port.HTTPS]).deploy).not.toBe(base.deploy);
    expect(triggers({ connection: { host: '203.0.113.11', privateKey: KEY } }).host).toBe('203.0.113.11');
    expect(triggers({ connection: { host: '203.0.113.10', port: 2222, privateKey: KEY } }).port).toBe('2222');
    expect(triggers({ connection: { host: '203.0.113.10', user: 'admin', privateKey: KEY } }).user).toBe('admin');
    expect(triggers({ distro: Distro.ARCH }).deploy).not.toBe(base.deploy);
    expect(triggers({ rollbackSeconds: 45 }).deploy).not.toBe(base.deploy);
    expect(triggers({ takeOver: true }).deploy).not.toBe(base.deploy);
  });

  test('a token connection host reaches the triggers as a reference, so a replaced instance redeploys', () => {
    const json = synthJson((s) => {
      const ip = new TerraformVariable(s, 'ip', { type: 'string' });
      const port = new TerraformVariable(s, 'port', { type: 'number' });
      // a real token: a literal "${...}" is refused (Terraform would evaluate it)
      const timeout = new TerraformVariable(s, 't', { type: 'string' });
      new StatefulHost(s, 'web', { allow: [Port.SSH], connection: { host: ip.stringValue, port: port.numberValue, privateKey: KEY, timeout: timeout.stringValue } });
    });
    const r = only(json);
    expect(r.triggers.host).toBe('${var.ip}');
    expect(r.triggers.port).toBe('${var.port}');
    expect(r.provisioner[1]['local-exec'].environment.CFW_PORT).toBe('${var.port}');
  });

  test('host.deployment is what dependsOn takes; a downstream resource depends on the deploy', () => {
    const json = synthJson((s) => {
      const h = host(s, { installer: Installer.TERRAFORM_DATA });
      new DataResource(s, 'after', { dependsOn: [h.deployment!] });
    });
    const after = Object.entries<any>(json.resource.terraform_data).find(([k]) => k.startsWith('after'))![1];
    expect(after.depends_on).toEqual([expect.stringMatching(/^terraform_data\.web_deploy_firewall_[0-9A-F]+$/)]);
  });

  test('hosts with a brute-force guard get a deploy pass in the guard chain and name their lists for the deploy', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const h = host(stack, { rollbackSeconds: 20 });
    new SshBruteforceGuard(h, 'guard');
    expect(h.renderRules(IpFamily.V4)).toMatch(/^-A IN_SSH -m recent --rcheck --seconds 80 --name cfwdeploy --mask 255\.255\.255\.255 --rsource (-m comment --comment "[^"]+" )?-j ACCEPT$/m);
    expect(h.renderRules(IpFamily.V6)).toContain('--name cfwdeploy6');
    const script = h._installer!.bundle().script;
    // the list names as each family's rules spell them: the script never re-spells them
    expect(script).toContain("CFW_PASS_LIST_V4='cfwdeploy'");
    expect(script).toContain("CFW_PASS_LIST_V6='cfwdeploy6'");
    expect(script).toMatch(/CFW_GUARD_LISTS='sshbf:sshbf6:32:64'/);
    // files-only hosts have no pass
    const plain = new StatefulHost(new TerraformStack(Testing.app(), 's2'), 'h', { allow: [Port.SSH] });
    new SshBruteforceGuard(plain, 'guard');
    expect(plain.renderRules(IpFamily.V4)).not.toContain('cfwdeploy');
  });
});

describe('the deploy bundle', () => {
  const files = [
    { name: 'a.rules', content: '*filter\nCOMMIT\n', mode: '600' },
    { name: 'firewall.sh', content: '#!/bin/sh\necho "$1 $2 $3 $4" > "$2/../staged-by-firewall-sh"\n', mode: '700' },
  ];

  test('passes shellcheck', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-bundle-'));
    try {
      fs.writeFileSync(path.join(dir, 'deploy.sh'), deployBundle('s/web', files).script);
      const r = spawnSync('shellcheck', ['-s', 'sh', path.join(dir, 'deploy.sh')], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).toBe('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the id follows the content; the same files give the same bytes', () => {
    expect(deployBundle('s/web', files)).toEqual(deployBundle('s/web', files));
    expect(deployBundle('s/web', [files[0], { ...files[1], content: 'x\n' }]).deployId).not.toBe(deployBundle('s/web', files).deployId);
  });

  test('a truncated bundle runs nothing; an altered one is refused before anything runs', () => {
    // the bundle writes under /var/lib/cdktf-iptables: run it in a private mount namespace over a temp folder
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-bundle-'));
    const mountPoint = '/var/lib/cdktf-iptables';
    const hadMountPoint = fs.existsSync(mountPoint);
    try {
      const { script } = deployBundle('s/web', files);
      const run = (text: string) => {
        fs.writeFileSync(path.join(dir, 'deploy.sh'), text);
        fs.rmSync(path.join(dir, 'state'), { recursive: true, force: true });
        fs.mkdirSync(path.join(dir, 'state'));
        return spawnSync('unshare', ['-m', 'sh', '-c', `mount --bind ${dir}/state /var/lib/cdktf-iptables 2>/dev/null || { mkdir -p /var/lib/cdktf-iptables && mount --bind ${dir}/state /var/lib/cdktf-iptables; }; sh ${dir}/deploy.sh 198.51.100.1`], { encoding: 'utf8' });
      };
      const ok = run(script);
      expect(ok.stderr).toBe('');
      expect(fs.readFileSync(path.join(dir, 'state', 'staged-by-firewall-sh'), 'utf8')).toMatch(/^stage \/var\/lib\/cdktf-iptables\/stage\.\w+ [0-9a-f]{20} 198\.51\.100\.1\n$/);
      // cut anywhere: nothing runs (the last line calls everything)
      for (const cut of [0.2, 0.5, 0.8, 0.99]) {
        const r = run(script.slice(0, Math.floor(script.length * cut)));
        expect(fs.existsSync(path.join(dir, 'state', 'staged-by-firewall-sh'))).toBe(false);
        void r;
      }
      // one rule changed in transit: refused by the sha256 check
      const bad = run(script.replace('*filter\nCOMMIT', '*filter\n-A INPUT -j ACCEPT\nCOMMIT'));
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toContain('do not match their sha256');
      expect(fs.existsSync(path.join(dir, 'state', 'staged-by-firewall-sh'))).toBe(false);
      expect(fs.readdirSync(path.join(dir, 'state'))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      if (!hadMountPoint) fs.rmSync(mountPoint, { recursive: true, force: true });
    }
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
    ['deploy settings without a connection', { takeOver: true }, /installer, rollbackSeconds and takeOver only apply to a deploy, and connection is not set/],
    ['an unknown distro', { distro: 'GENTOO' }, /distro is "GENTOO"\. Use one of ARCH, RHEL, DEBIAN/],
  ];
  test.each(cases)('%s', (_n, props, msg) => {
    expect(() => new StatefulHost(new TerraformStack(new App(), 'stack'), 'web', { allow: [Port.SSH], ...props } as any)).toThrow(msg);
  });
});

describe('lock-out warnings follow the SSH port of the connection', () => {
  const warnings = (props: object) => {
    const outdir = tempDir();
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

describe('keepForeignRules', () => {
  const KEEP_AWK = path.join(SCRIPTS, 'keep-foreign.awk');
  const deployed = (extra: object) => new StatefulHost(new TerraformStack(Testing.app(), 's'), 'web', {
    allow: [Port.SSH], connection: { host: '203.0.113.10', privateKey: KEY }, ...extra,
  });

  test('the bundle carries the merge script and the globs', () => {
    const h = deployed({ keepForeignRules: [ForeignRules.DOCKER, ForeignRules.FAIL2BAN, ForeignRules.of({ chains: ['CILIUM_*'] })] });
    const script = h._installer!.bundle().script;
    expect(script).toContain("CFW_KEEP_CHAINS='DOCKER* f2b-* CILIUM_*'");
    expect(script).toContain("CFW_KEEP_IFACES='docker0 br-*'");
    expect(script).toContain('cat > "$1/keep-foreign.awk"');
    expect(script).toContain('cat > "$1/kept-rules.awk"');
    // without kept rules: the awk program only serves the drift check (which then leaves nothing out)
    const plain = deployed({})._installer!.bundle().script;
    expect(plain).toContain("CFW_KEEP_CHAINS=''");
    expect(plain).not.toContain('cat > "$1/kept-rules.awk"');
  });

  test.each([
    ['a bad glob', [ForeignRules.of({ chains: ['DOCKER; rm'] })], /\[s\/web\] keepForeignRules\[0\] "DOCKER; rm" is not a chain or interface name/],
    ['an empty one', [ForeignRules.of({})], /\[s\/web\] keepForeignRules\[0\] names no chains and no interfaces/],
    ['not a ForeignRules', [{ chains: ['X'] }], /\[s\/web\] keepForeignRules\[0\] is an object \{chains\}, not a ForeignRules/],
    ['not an array', 'DOCKER', /\[s\/web\] keepForeignRules is "DOCKER", not an array/],
  ])('%s is a synth error naming the host', (_n, keep, msg) => {
    expect(() => deployed({ keepForeignRules: keep })).toThrow(msg);
  });

  test('a chain of our own that a kept glob matches is an error (it would be treated as theirs)', () => {
    const h = deployed({ keepForeignRules: [ForeignRules.of({ chains: ['IN_*'] })] });
    new SshBruteforceGuard(h, 'guard');
    expect(() => h._installer!.bundle()).toThrow(/\[s\/web\] the firewall's own chain IN_SSH matches the kept foreign chains IN_\*/);
  });

  test('the merge keeps their chains and jumps at the top, ours after, and nothing else of the live rules', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-keep-'));
    try {
      const live = fs.readFileSync(path.join(__dirname, '..', 'e2e', 'docker-layout.rules'), 'utf8')
        + '*filter\n:INPUT ACCEPT [0:0]\n:f2b-sshd - [0:0]\n:mine - [0:0]\n-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd\n-A INPUT -j mine\n-A f2b-sshd -s 198.51.100.66/32 -j REJECT --reject-with icmp-port-unreachable\n-A f2b-sshd -j RETURN\nCOMMIT\n';
      fs.writeFileSync(path.join(dir, 'live'), live);
      const ours = new StatefulHost(new TerraformStack(Testing.app(), 's'), 'web', { allow: [Port.SSH], ruleComments: false }).renderRules(IpFamily.V4);
      fs.writeFileSync(path.join(dir, 'ours'), ours);
      const r = spawnSync('awk', ['-v', 'chains=DOCKER* f2b-*', '-v', 'ifaces=docker0 br-*', '-f', KEEP_AWK, path.join(dir, 'live'), path.join(dir, 'ours')], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      const filter = r.stdout.split('*filter')[1];
      const lines = filter.split('\n').filter((l) => l.startsWith('-A FORWARD') || l.startsWith('-A INPUT'));
      expect(lines.slice(0, 7)).toEqual([
        '-A FORWARD -j DOCKER-USER',
        '-A FORWARD -j DOCKER-ISOLATION-STAGE-1',
        '-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        '-A FORWARD -o docker0 -j DOCKER',
        '-A FORWARD -i docker0 ! -o docker0 -j ACCEPT',
        '-A FORWARD -i docker0 -o docker0 -j ACCEPT',
        '-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd',
      ]);
      expect(lines[7]).toBe('-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
      expect(r.stdout).not.toContain('-j mine');
      expect(r.stdout).toContain(':DOCKER-USER - [0:0]');
      expect(r.stdout).toContain('-A f2b-sshd -j RETURN');
      // our file had no nat table: Docker's nat rules are not restored (they stay live untouched)
      expect(r.stdout).not.toContain('*nat');
      // the merged file is ours, byte for byte, once their lines are taken out
      const theirs = /DOCKER|docker0|f2b-/;
      expect(r.stdout.split('\n').filter((l) => !theirs.test(l)).join('\n')).toBe(ours.split('\n').join('\n'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
