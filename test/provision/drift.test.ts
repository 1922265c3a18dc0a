/**
 * The drift check at synth (settings, bundle, units, cloud-init) and its
 * scripts on real iptables: keep-foreign.awk's drift mode against what
 * iptables-save prints for the rendered files (loaded into a private network
 * namespace), kept-rules.awk on Docker's and fail2ban's layout, and drift.sh
 * check / report / repair in private network and mount namespaces (its /run
 * is a tmpfs there: nothing of this machine's is touched).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { App, TerraformOutput, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import {
  Blocklist, BogonFilter, DropLogger, ForeignRules, IcmpEchoLimit, Installer, IpFamily, NatGateway, Peer, Port, PortScanTrap,
  SshBruteforceGuard, StatefulHost, SynFloodGuard,
} from '../../lib';
import { compactScript, driftServiceUnit, driftTimerUnit } from '../../lib/provision/drift';
import { tempDir } from '../temp';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n';
const SCRIPTS = path.join(__dirname, '..', '..', 'lib', 'provision', 'scripts');
const KEEP_AWK = path.join(SCRIPTS, 'keep-foreign.awk');
const KEPT_AWK = path.join(SCRIPTS, 'kept-rules.awk');
const DOCKER_LAYOUT = fs.readFileSync(path.join(__dirname, '..', 'e2e', 'docker-layout.rules'), 'utf8');
const F2B = '*filter\n:INPUT ACCEPT [0:0]\n:f2b-sshd - [0:0]\n-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd\n-A f2b-sshd -s 198.51.100.66/32 -j REJECT --reject-with icmp-port-unreachable\n-A f2b-sshd -j RETURN\nCOMMIT\n';
/** Docker's per-port hairpin rule: in nat POSTROUTING, naming neither a DOCKER chain nor docker0. */
const HAIRPIN = '-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE\n';
const GLOBS = ['-v', 'chains=DOCKER* f2b-*', '-v', 'ifaces=docker0 br-*'];

const deployed = (extra: object = {}) => new StatefulHost(new TerraformStack(Testing.app(), 's'), 'web', {
  allow: [Port.SSH], connection: { host: '203.0.113.10', privateKey: KEY }, ...extra,
});

/** The files a deploy bundle carries: name -> content. */
function bundled(h: StatefulHost): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^ {2}cat > "\$1\/([^"]+)" <<'(CFW_EOF_[0-9a-f]+)'\n([\s\S]*?)\n\2$/gm;
  const script = h._installer!.bundle().script;
  for (let m = re.exec(script); m; m = re.exec(script)) out[m[1]] = `${m[3]}\n`;
  return out;
}

/** A host with every built-in part, both families: the rules whose canonical forms the drift check must meet. */
function everyPart(extra: { ipv6?: boolean; [k: string]: unknown } = {}): StatefulHost {
  const h = new StatefulHost(new TerraformStack(Testing.app(), 'prod'), 'web', { allow: [Port.HTTP, Port.HTTPS], ...extra });
  const v6 = extra.ipv6 !== false;
  const admin = [Peer.ipv4('198.51.100.0/24'), ...(v6 ? [Peer.ipv6('2001:db8:100::/48')] : [])];
  new SshBruteforceGuard(h, 'ssh-guard', { port: Port.SSH });
  new PortScanTrap(h, 'trap', { seconds: 60, exempt: admin });
  new SynFloodGuard(h, 'syn-flood', { perSecond: 20, burst: 40 });
  new IcmpEchoLimit(h, 'ping-limit', { perSecond: 2, burst: 10 });
  new BogonFilter(h, 'bogons', { iface: 'eth0', allow: admin });
  new DropLogger(h, 'log', { prefix: 'fw-drop: ' });
  const peers = Array.from({ length: 300 }, (_, i) => Peer.ipv4(`10.${i % 7}.${(i * 37) % 256}.${i % 250}`));
  new Blocklist(h, 'feed', { peers: v6 ? [...peers, Peer.ipv6('2001:db8:bad::/48')] : peers });
  new NatGateway(h, 'nat', { wan: 'eth0', lans: [{ iface: 'eth1', cidr: '192.168.7.0/24' }], portForwards: [{ port: Port.tcp(8080), to: '192.168.7.5', toPort: 80 }] });
  if (v6) h.allowFrom(Peer.ipv6('2001:db8:abcd::/64'), Port.tcp(5432));
  h.allowFrom(Peer.ipv4('203.0.113.7'), Port.udpRange(6000, 6010));
  return h;
}

/** Runs a shell script in private network and mount namespaces (a tmpfs on /run), as root. */
function inNamespaces(script: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('unshare', ['-n', '-m', 'sh', '-ec', `mount -t tmpfs tmpfs /run\n${script}`], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** keep-foreign.awk's drift mode: live vs persisted. */
function drift(live: string, file: string, opts: { globs?: string[]; awk?: string; fam?: string } = {}): { status: number | null; out: string } {
  const dir = tempDir('cfw-drift-');
  fs.writeFileSync(path.join(dir, 'live'), live);
  fs.writeFileSync(path.join(dir, 'file'), file);
  const r = spawnSync('awk', ['-v', 'mode=drift', ...(opts.globs ?? []), '-v', `fam=${opts.fam ?? 'IPv4'}`, '-v', 'rulesfile=/etc/iptables/iptables.rules',
    '-f', opts.awk ?? KEEP_AWK, path.join(dir, 'live'), path.join(dir, 'file')], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return { status: r.status, out: r.stdout };
}

describe('drift settings reach the deploy', () => {
  test('by default: every 300 s, logged, not repaired; the bundle carries the script, its settings and the units', () => {
    const f = bundled(deployed());
    expect(f.settings).toContain("CFW_DRIFT='yes'");
    expect(f.settings).toContain("CFW_DRIFT_DIR='/usr/local/lib/cdktf-iptables'");
    expect(f['drift.conf']).toBe([
      '# cdktf-iptables drift check settings (sourced by drift.sh). Generated; edit the cdktf program.',
      "CFW_FAMILIES='v4 v6'",
      "CFW_RULES_V4='/etc/iptables/iptables.rules'",
      "CFW_RULES_V6='/etc/iptables/ip6tables.rules'",
      "CFW_KEEP_CHAINS=''",
      "CFW_KEEP_IFACES=''",
      "CFW_IPSETS_PATH='/etc/iptables/ipsets'",
      "CFW_DRIFT_REPAIR='no'",
      '',
    ].join('\n'));
    expect(f['cdktf-iptables-drift.timer']).toBe(driftTimerUnit(300));
    expect(f['cdktf-iptables-drift.service']).toBe(driftServiceUnit());
    expect(f['drift.sh']).toBe(fs.readFileSync(path.join(SCRIPTS, 'drift.sh'), 'utf8'));
    expect(f['keep-foreign.awk']).toBe(fs.readFileSync(KEEP_AWK, 'utf8'));
  });

  test('intervalSeconds, repair, the distro and the kept rules reach the timer and the settings; a change redeploys', () => {
    const h = deployed({ drift: { intervalSeconds: 10, repair: true }, keepForeignRules: [ForeignRules.DOCKER], distro: 'RHEL', ipv6: false });
    const f = bundled(h);
    expect(f['cdktf-iptables-drift.timer']).toContain('OnUnitActiveSec=10s');
    expect(f['drift.conf']).toContain("CFW_DRIFT_REPAIR='yes'");
    expect(f['drift.conf']).toContain("CFW_FAMILIES='v4'");
    expect(f['drift.conf']).toContain("CFW_RULES_V4='/etc/sysconfig/iptables'");
    expect(f['drift.conf']).toContain("CFW_IPSETS_PATH='/etc/sysconfig/cdktf-ipsets'");
    expect(f['drift.conf']).toContain("CFW_KEEP_CHAINS='DOCKER*'");
    expect(f['drift.conf']).toContain("CFW_KEEP_IFACES='docker0 br-*'");
    const id = (extra: object) => deployed(extra)._installer!.bundle().deployId;
    expect(id({ drift: { intervalSeconds: 300 } })).toBe(id({}));
    expect(id({ drift: { intervalSeconds: 60 } })).not.toBe(id({}));
    expect(id({ drift: { repair: true } })).not.toBe(id({}));
  });

  test('enabled: false: no timer (the confirm removes one); the stage still compares', () => {
    const f = bundled(deployed({ drift: { enabled: false } }));
    expect(f.settings).toContain("CFW_DRIFT='no'");
    expect(Object.keys(f).filter((n) => /drift\.conf|\.timer|drift\.service/.test(n))).toEqual([]);
    expect(Object.keys(f)).toEqual(expect.arrayContaining(['drift.sh', 'keep-foreign.awk']));
  });

  const token = () => new TerraformVariable(new TerraformStack(new App(), 'v'), 'n', { type: 'number' }).numberValue;
  test.each<[string, unknown, RegExp]>([
    ['too short an interval', { intervalSeconds: 5 }, /\[s\/web\] drift\.intervalSeconds is 5; it must be a whole number of seconds from 10 to 86400\. Use e\.g\. drift: \{ intervalSeconds: 300 \}/],
    ['too long an interval', { intervalSeconds: 86401 }, /drift\.intervalSeconds is 86401; it must be a whole number of seconds from 10 to 86400/],
    ['a fraction', { intervalSeconds: 10.5 }, /drift\.intervalSeconds is 10\.5; it must be a whole number/],
    ['a string', { intervalSeconds: '60' }, /\[s\/web\] drift\.intervalSeconds is "60", not a finite number\. Pass a whole number\. Did you mean 60/],
    ['a token', { intervalSeconds: 'TOKEN' }, /\[s\/web\] drift\.intervalSeconds is an unresolved token/],
    ['repair as a string', { repair: 'true' }, /\[s\/web\] drift\.repair is "true", not a boolean/],
    ['enabled as a string', { enabled: 'no' }, /\[s\/web\] drift\.enabled is "no", not a boolean/],
    ['not an object', 'on', /\[s\/web\] drift is "on", not an object/],
  ])('%s is a synth error naming the host, the value and the fix', (_n, value, msg) => {
    const v = value !== null && typeof value === 'object' && (value as any).intervalSeconds === 'TOKEN' ? { intervalSeconds: token() } : value;
    expect(() => deployed({ drift: v })).toThrow(msg);
  });

  test('without a connection, drift and keepForeignRules serve cloud-init; a host with neither is told at synth', () => {
    const files = (props: object, cloud: boolean) => {
      const stack = new TerraformStack(Testing.app(), 's');
      const h = new StatefulHost(stack, 'web', { allow: [Port.SSH], ...props });
      if (cloud) new TerraformOutput(stack, 'ud', { value: h.cloudInit({ maxBytes: 0 }) });
      return () => Testing.synth(stack, true);
    };
    expect(files({ drift: { intervalSeconds: 60 } }, false)).toThrow(/\[s\/web\] drift only applies to a deploy over SSH \(connection\) or to cloud-init user-data \(host\.cloudInit\(\)\), and this host has neither\. Add connection/);
    expect(files({ keepForeignRules: [ForeignRules.DOCKER] }, false)).toThrow(/\[s\/web\] keepForeignRules only applies to a deploy over SSH/);
    expect(files({ drift: { intervalSeconds: 60 }, keepForeignRules: [ForeignRules.DOCKER] }, true)).not.toThrow();
    expect(files({}, false)).not.toThrow();
    expect(() => new StatefulHost(new TerraformStack(Testing.app(), 's'), 'web', { allow: [Port.SSH], installer: Installer.TERRAFORM_DATA })).toThrow(/installer, rollbackSeconds and takeOver only apply to a deploy/);
  });
});

describe('the units', () => {
  test('systemd-analyze accepts the timer and the service', () => {
    const dir = tempDir('cfw-drift-units-');
    fs.writeFileSync(path.join(dir, 'cdktf-iptables-drift.service'), driftServiceUnit());
    fs.writeFileSync(path.join(dir, 'cdktf-iptables-drift.timer'), driftTimerUnit(10));
    const r = spawnSync('systemd-analyze', ['verify', path.join(dir, 'cdktf-iptables-drift.timer'), path.join(dir, 'cdktf-iptables-drift.service')], { encoding: 'utf8' });
    expect(r.stderr.split('\n').filter((l) => l.includes('cdktf-iptables-drift') && !/Cannot add dependency|not found|is not executable/.test(l))).toEqual([]);
  });

  test('the service logs as cdktf-iptables, notices and above only (no start/stop lines every interval); the timer is exact to a second', () => {
    expect(driftServiceUnit()).toContain('ExecStart=/bin/sh /usr/local/lib/cdktf-iptables/drift.sh check /usr/local/lib/cdktf-iptables/drift.conf');
    expect(driftServiceUnit()).toContain('SyslogIdentifier=cdktf-iptables');
    expect(driftServiceUnit()).toContain('LogLevelMax=notice');
    expect(driftTimerUnit(60)).toMatch(/OnActiveSec=60s\nOnUnitActiveSec=60s\nAccuracySec=1s\n/);
    expect(driftTimerUnit(60)).toContain('WantedBy=timers.target');
  });
});

describe('cloud-init hosts get the same timer (when they set drift)', () => {
  const doc = (props: object = {}) => new StatefulHost(new TerraformStack(Testing.app(), 's'), 'web', { allow: [Port.SSH], ...props }).cloudInitText({ maxBytes: 0 });

  /** The drift files of a boot script, unpacked by its own commands into a temp root. */
  function unpack(text: string): Record<string, string> {
    const lines = text.split('\n').map((l) => l.replace(/^ {4}/, ''));
    const from = lines.findIndex((l) => l.startsWith('install -d -m 755 /usr/local/lib/cdktf-iptables'));
    const to = lines.findIndex((l) => l.startsWith('rm -f /run/cdktf-iptables-files.gz'));
    expect(from).toBeGreaterThan(0);
    const root = tempDir('cfw-drift-root-');
    const script = lines.slice(from, to + 1).join('\n').replace(/ \/(usr|etc|run)\//g, ` ${root}/$1/`).replace(/\$2 "\.cdktf/, `"${root}" $2 ".cdktf`);
    fs.mkdirSync(path.join(root, 'run'));
    const r = spawnSync('sh', ['-ec', script.replace(/f = \$2 "/, `f = "${root}" $2 "`).replace(/print \$2, \$3/, `print "${root}" $2, $3`)], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out: Record<string, string> = {};
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p); else out[`${p.slice(root.length)} ${(fs.statSync(p).mode % 0o1000).toString(8)}`] = fs.readFileSync(p, 'utf8');
      }
    };
    walk(root);
    return out;
  }

  test('the user-data writes the script, its awk program, settings and units from one gzip stream, and starts the timer after the rules', () => {
    const text = doc({ drift: { intervalSeconds: 60, repair: true } });
    const files = unpack(text);
    expect(Object.keys(files).sort()).toEqual([
      '/etc/systemd/system/cdktf-iptables-drift.service 644',
      '/etc/systemd/system/cdktf-iptables-drift.timer 644',
      '/usr/local/lib/cdktf-iptables/drift.conf 600',
      '/usr/local/lib/cdktf-iptables/drift.sh 700',
      '/usr/local/lib/cdktf-iptables/keep-foreign.awk 600',
    ]);
    expect(files['/usr/local/lib/cdktf-iptables/drift.sh 700']).toBe(compactScript(fs.readFileSync(path.join(SCRIPTS, 'drift.sh'), 'utf8')));
    expect(files['/etc/systemd/system/cdktf-iptables-drift.timer 644']).toBe(driftTimerUnit(60));
    expect(files['/usr/local/lib/cdktf-iptables/drift.conf 600']).toContain("CFW_DRIFT_REPAIR='yes'");
    const at = (re: RegExp) => text.split('\n').findIndex((l) => re.test(l));
    expect(at(/systemctl enable cdktf-iptables-drift\.timer/)).toBeGreaterThan(at(/systemctl enable iptables\.service ip6tables\.service/));
    expect(at(/systemctl start --no-block cdktf-iptables-drift\.timer/)).toBeGreaterThan(at(/systemctl enable cdktf-iptables-drift\.timer/));
    expect(at(/iptables-restore -w 5 </)).toBeLessThan(at(/systemctl enable cdktf-iptables-drift\.timer/));
  });

  test('the compacted scripts are the same programs: valid sh, and the awk program gives the same answers', () => {
    const sh = compactScript(fs.readFileSync(path.join(SCRIPTS, 'drift.sh'), 'utf8'));
    expect(spawnSync('sh', ['-n'], { input: sh }).status).toBe(0);
    const dir = tempDir('cfw-compact-');
    const awk = path.join(dir, 'keep-foreign.awk');
    fs.writeFileSync(awk, compactScript(fs.readFileSync(KEEP_AWK, 'utf8')));
    const ours = everyPart({ ipv6: false }).renderRules(IpFamily.V4);
    const live = ours.replace('COMMIT', '-A INPUT -s 203.0.113.9/32 -j ACCEPT\nCOMMIT');
    expect(drift(live, ours, { awk })).toEqual(drift(live, ours));
    expect(drift(live, ours).status).toBe(3);
  });

  test('off: no drift files, no timer; keepForeignRules reach the settings; our own chain matching a kept glob is an error', () => {
    expect(doc({ drift: { enabled: false } })).not.toMatch(/cdktf-iptables-drift|cdktf-iptables-files/);
    // user-data is small: without `drift`, no check (a deploy over SSH has one by default)
    expect(doc()).not.toMatch(/cdktf-iptables-drift|cdktf-iptables-files/);
    expect(unpack(doc({ drift: {} }))['/etc/systemd/system/cdktf-iptables-drift.timer 644']).toBe(driftTimerUnit(300));
    const files = unpack(doc({ drift: {}, keepForeignRules: [ForeignRules.FAIL2BAN] }));
    expect(files['/usr/local/lib/cdktf-iptables/drift.conf 600']).toContain("CFW_KEEP_CHAINS='f2b-*'");
    const h = new StatefulHost(new TerraformStack(Testing.app(), 's'), 'web', { allow: [Port.SSH], keepForeignRules: [ForeignRules.of({ chains: ['IN_*'] })] });
    new SshBruteforceGuard(h, 'guard');
    expect(() => h.cloudInitText()).toThrow(/\[s\/web\] the firewall's own chain IN_SSH matches the kept foreign chains IN_\*/);
  });

  test('over the size limit, the error says what the drift check takes and how to leave it out', () => {
    const stack = new TerraformStack(Testing.app(), 's');
    const h = new StatefulHost(stack, 'web', { allow: [Port.SSH], drift: { intervalSeconds: 60 } });
    new SshBruteforceGuard(h, 'guard');
    new NatGateway(h, 'nat', { wan: 'eth1', lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }] });
    new TerraformOutput(stack, 'ud', { value: h.cloudInit() });
    expect(() => Testing.synth(stack, true)).toThrow(/over the limit of 16384 bytes .* The drift check takes \d{4} bytes of it: drift: \{ enabled: false \} leaves it out\./);
  });
});

describe('keep-foreign.awk drift mode: canonical iptables-save text', () => {
  test('what iptables-save prints for the rendered files (every part, both families, loaded in a private namespace) equals them: no drift', () => {
    const h = everyPart();
    const dir = tempDir('cfw-drift-live-');
    fs.writeFileSync(path.join(dir, 'v4'), h.renderRules(IpFamily.V4));
    fs.writeFileSync(path.join(dir, 'v6'), h.renderRules(IpFamily.V6));
    fs.writeFileSync(path.join(dir, 'sets'), h.ipsetRules()!);
    const r = inNamespaces(`ipset restore < ${dir}/sets\niptables-restore < ${dir}/v4\nip6tables-restore < ${dir}/v6\niptables-save > ${dir}/live4\nip6tables-save -c > ${dir}/live6`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // the kernel's text really is in another order and carries a header and counters
    expect(fs.readFileSync(path.join(dir, 'live4'), 'utf8')).toMatch(/^# Generated by iptables-save/);
    expect(fs.readFileSync(path.join(dir, 'live6'), 'utf8')).toMatch(/^\[\d+:\d+\] -A /m);
    expect(drift(fs.readFileSync(path.join(dir, 'live4'), 'utf8'), h.renderRules(IpFamily.V4))).toEqual({ status: 0, out: '' });
    expect(drift(fs.readFileSync(path.join(dir, 'live6'), 'utf8'), h.renderRules(IpFamily.V6), { fam: 'IPv6' })).toEqual({ status: 0, out: '' });
  });

  const ours = everyPart({ ipv6: false }).renderRules(IpFamily.V4);
  const https = ours.split('\n').find((l) => /--dport 443 /.test(l))!;

  test('a rule added and one removed by hand, a changed policy, a new chain: each named with its table, chain, position and owner', () => {
    const filter = ours.indexOf('*filter');
    let live = ours.slice(0, filter) + ours.slice(filter).replace(/^(-A INPUT .*)$/m, '-A INPUT -s 203.0.113.9/32 -p tcp -m tcp --dport 5555 -j ACCEPT\n$1');
    live = live.replace(`${https}\n`, '').replace(':FORWARD DROP [0:0]', ':FORWARD ACCEPT [0:0]').replace(/^(\*filter\n)/m, '$1:MINE - [0:0]\n');
    const r = drift(live, ours);
    expect(r.status).toBe(3);
    expect(r.out.split('\n')).toEqual([
      'drift: IPv4 rules differ from /etc/iptables/iptables.rules: 2 added, 1 removed, 1 changed (live iptables-save; counters aside)',
      'drift: IPv4 filter INPUT rule 1 added (no owner comment: not from the cdktf program): -A INPUT -s 203.0.113.9/32 -p tcp -m tcp --dport 5555 -j ACCEPT',
      'drift: IPv4 filter chain FORWARD: policy ACCEPT live, DROP persisted',
      `drift: IPv4 filter TCP rule ${ours.split('\n').filter((l) => l.startsWith('-A TCP ')).indexOf(https) + 1} removed (owner prod/web): ${https}`,
      'drift: IPv4 filter chain MINE added (not in the persisted rules): :MINE -',
      '',
    ]);
  });

  test('a table flushed away, the same rules in another order, many changes (a capped report)', () => {
    const noMangle = ours.replace(/\*mangle\n[\s\S]*?COMMIT\n/, '');
    expect(drift(noMangle, ours).out).toMatch(/^drift: IPv4 mangle: the whole table is missing from the live rules \(\d+ lines persisted\)$/m);
    const tcp = ours.split('\n').filter((l) => l.startsWith('-A TCP '));
    const swapped = ours.replace(`${tcp[0]}\n${tcp[1]}`, `${tcp[1]}\n${tcp[0]}`);
    expect(drift(swapped, ours).out).toContain('drift: IPv4 filter: the same rules in another order; first difference at line ');
    const many = ours.replace(/^(\*filter\n)/m, `$1${Array.from({ length: 60 }, (_, i) => `-A INPUT -s 203.0.113.${i}/32 -j ACCEPT`).join('\n')}\n`);
    const capped = drift(many.replace(/^(-A INPUT -s 203\.0\.113\.\d+\/32 -j ACCEPT\n)+/m, '').replace(/(:OUTPUT ACCEPT \[0:0\]\n)(?=[\s\S]*?-A INPUT -m conntrack)/, `$1${Array.from({ length: 60 }, (_, i) => `-A INPUT -s 203.0.113.${i}/32 -j ACCEPT`).join('\n')}\n`), ours).out.split('\n');
    expect(capped[0]).toMatch(/: 60 added, 0 removed/);
    expect(capped.filter((l) => / added \(/.test(l))).toHaveLength(40);
    expect(capped).toContain('drift: IPv4 ... and 20 more differences (compare iptables-save with /etc/iptables/iptables.rules)');
  });

  test('kept rules of other tools (Docker, fail2ban, merged as a deploy does) are left out of the comparison, and only they', () => {
    const dir = tempDir('cfw-drift-keep-');
    fs.writeFileSync(path.join(dir, 'theirs'), DOCKER_LAYOUT + F2B);
    fs.writeFileSync(path.join(dir, 'ours'), ours);
    const merged = spawnSync('awk', [...GLOBS, '-f', KEEP_AWK, path.join(dir, 'theirs'), path.join(dir, 'ours')], { encoding: 'utf8' }).stdout;
    expect(merged).toContain('-A f2b-sshd -j RETURN');
    expect(drift(merged, ours, { globs: GLOBS })).toEqual({ status: 0, out: '' });
    // without the globs the same live rules are drift, named line by line
    const r = drift(merged, ours);
    expect(r.status).toBe(3);
    expect(r.out).toContain('drift: IPv4 filter INPUT rule 1 added (no owner comment: not from the cdktf program): -A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd');
    expect(r.out).toContain('drift: IPv4 filter chain DOCKER-USER added (not in the persisted rules): :DOCKER-USER -');
    // Docker's hairpin MASQUERADE (nat POSTROUTING, no DOCKER chain, no docker0) is not one of the kept
    // rules: where our rules write nat (a NatGateway), a deploy replaces it, and the check says so
    const nat = spawnSync('awk', [...GLOBS, '-f', KEEP_AWK, path.join(dir, 'theirs'), path.join(dir, 'ours')], { encoding: 'utf8' }).stdout;
    expect(nat).not.toContain(HAIRPIN);
    expect(drift(merged.replace(/(\*nat\n[\s\S]*?)(COMMIT)/, `$1${HAIRPIN}$2`), ours, { globs: GLOBS }).out).toContain(`added (no owner comment: not from the cdktf program): ${HAIRPIN.trim()}`);
    // a hand-made rule among kept ones is still drift
    expect(drift(merged.replace('-A f2b-sshd -j RETURN', '-A f2b-sshd -j RETURN\n-A INPUT -s 203.0.113.9/32 -j ACCEPT'), ours, { globs: GLOBS }).out).toMatch(/added \(no owner comment: not from the cdktf program\): -A INPUT -s 203\.0\.113\.9\/32 -j ACCEPT$/m);
  });
});

describe('kept-rules.awk: what the kept rules admit', () => {
  const summary = (live: string, fam = '') => {
    const dir = tempDir('cfw-kept-');
    fs.writeFileSync(path.join(dir, 'live'), live);
    const foreign = spawnSync('awk', ['-v', 'mode=foreign', ...GLOBS, '-f', KEEP_AWK, path.join(dir, 'live')], { encoding: 'utf8' });
    expect(foreign.stderr).toBe('');
    fs.writeFileSync(path.join(dir, 'foreign'), foreign.stdout);
    const r = spawnSync('awk', ['-v', `fam=${fam}`, '-f', KEPT_AWK, path.join(dir, 'foreign')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return r.stdout.split('\n').filter(Boolean);
  };

  test("Docker's published port (its DNAT paired with the filter rule that accepts it), forwarding and masquerading; fail2ban's ban as a refusal", () => {
    expect(summary(DOCKER_LAYOUT + F2B)).toEqual([
      'kept DOCKER rules forward tcp 8080 from any to 172.17.0.2:80, arriving not on docker0, to a local address (nat DOCKER DNAT, via PREROUTING; accepted by filter DOCKER)',
      "kept DOCKER rules redirect this host's own connections tcp 8080 from any to 172.17.0.2:80, sent to not 127.0.0.0/8, arriving not on docker0, to a local address (nat DOCKER DNAT, via OUTPUT; accepted by filter DOCKER)",
      'kept POSTROUTING rules masquerade any from 172.17.0.0/16 to any, leaving not on docker0 (nat POSTROUTING MASQUERADE)',
      'kept DOCKER rules do not translate any from any to any, arriving on docker0, to a local address (nat DOCKER RETURN, via PREROUTING)',
      'kept DOCKER rules do not translate any from any to not 127.0.0.0/8, arriving on docker0, to a local address (nat DOCKER RETURN, via OUTPUT)',
      'kept FORWARD rules forward any from any to any, leaving on docker0, state RELATED,ESTABLISHED (FORWARD ACCEPT)',
      'kept FORWARD rules forward any from any to any, arriving on docker0, leaving not on docker0 (FORWARD ACCEPT)',
      'kept FORWARD rules forward any from any to any, arriving on docker0, leaving on docker0 (FORWARD ACCEPT)',
      'kept DOCKER-ISOLATION-STAGE-2 rules drop forwarding of any from any to any, arriving on docker0, leaving not on docker0 and docker0, never matches: the conditions contradict (DOCKER-ISOLATION-STAGE-2 DROP, via FORWARD > DOCKER-ISOLATION-STAGE-1)',
      'kept f2b-sshd rules refuse tcp 22 from 198.51.100.66 to any (f2b-sshd REJECT icmp-port-unreachable, via INPUT)',
    ]);
  });

  test('IPv6, a DNAT no kept rule accepts, and matches it does not know (shown as written)', () => {
    const v6 = '*nat\n:PREROUTING ACCEPT [0:0]\n:DOCKER - [0:0]\n-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\n-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8443 -j DNAT --to-destination [fd00::2]:443\nCOMMIT\n'
      + '*filter\n:INPUT ACCEPT [0:0]\n:f2b-sshd - [0:0]\n-A INPUT -p tcp -m multiport --dports 22,2222 -m recent --rcheck --seconds 60 --name x -j f2b-sshd\n-A f2b-sshd -s 2001:db8::66/128 -j DROP\nCOMMIT\n';
    expect(summary(v6, 'IPv6')).toEqual([
      'kept DOCKER rules (IPv6) forward tcp 8443 from any to [fd00::2]:443, arriving not on docker0, to a local address (nat DOCKER DNAT, via PREROUTING; no kept filter rule accepts it: our FORWARD rules decide)',
      'kept f2b-sshd rules (IPv6) drop tcp 22,2222 from 2001:db8::66 to any, also -m recent --rcheck --seconds 60 --name x (f2b-sshd DROP, via INPUT)',
    ]);
  });

  test('no kept rules live: nothing to say', () => {
    expect(summary('*filter\n:INPUT DROP [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n')).toEqual([]);
  });
});

describe('drift.sh on real iptables and ipset (private network and mount namespaces)', () => {
  const h = everyPart({ keepForeignRules: [ForeignRules.DOCKER, ForeignRules.FAIL2BAN], connection: { host: '203.0.113.10', privateKey: KEY } });
  const dir = tempDir('cfw-drift-sh-');
  for (const name of ['drift.sh', 'keep-foreign.awk']) fs.copyFileSync(path.join(SCRIPTS, name), path.join(dir, name));
  fs.writeFileSync(path.join(dir, 'iptables.rules'), h.renderRules(IpFamily.V4));
  fs.writeFileSync(path.join(dir, 'ip6tables.rules'), h.renderRules(IpFamily.V6));
  fs.writeFileSync(path.join(dir, 'ipsets'), h.ipsetRules()!);
  // (without Docker's hairpin MASQUERADE: see the drift mode's test of it)
  fs.writeFileSync(path.join(dir, 'theirs'), DOCKER_LAYOUT.replace(HAIRPIN, '').replace(/:(INPUT|FORWARD|OUTPUT) (ACCEPT|DROP) \[0:0\]\n/g, '') + F2B.replace(':INPUT ACCEPT [0:0]\n', ''));
  const conf = (repair: boolean) => bundled(h)['drift.conf']
    .replace(/^CFW_RULES_V4=.*$/m, `CFW_RULES_V4='${dir}/iptables.rules'`)
    .replace(/^CFW_RULES_V6=.*$/m, `CFW_RULES_V6='${dir}/ip6tables.rules'`)
    .replace(/^CFW_IPSETS_PATH=.*$/m, `CFW_IPSETS_PATH='${dir}/ipsets'`)
    .replace(/^CFW_DRIFT_REPAIR=.*$/m, `CFW_DRIFT_REPAIR='${repair ? 'yes' : 'no'}'`);
  fs.writeFileSync(path.join(dir, 'check.conf'), conf(false));
  fs.writeFileSync(path.join(dir, 'repair.conf'), conf(true));
  const member = h.ipsetRules()!.split('\n').find((l) => l.startsWith('add bl-feed-v4 '))!.split(' ')[2];
  const setup = [
    `ipset restore < ${dir}/ipsets`, `iptables-restore < ${dir}/iptables.rules`, `ip6tables-restore < ${dir}/ip6tables.rules`,
    `iptables-restore --noflush < ${dir}/theirs`,
  ].join('\n');
  const run = (what: string) => `echo "== ${what}"; sh ${dir}/drift.sh ${what} 2>&1`;

  test('check: quiet without drift; a change is logged as warnings (once, not at every check); its end as a notice; report: for the stage', () => {
    const r = inNamespaces([
      setup,
      run(`check ${dir}/check.conf`),
      run(`report ${dir}/check.conf`),
      'iptables -I INPUT -s 203.0.113.9/32 -j ACCEPT',
      `ipset del bl-feed-v4 ${member}`,
      run(`check ${dir}/check.conf`),
      run(`check ${dir}/check.conf`),
      run(`report ${dir}/check.conf`),
      'iptables -D INPUT -s 203.0.113.9/32 -j ACCEPT',
      `ipset add bl-feed-v4 ${member}`,
      run(`check ${dir}/check.conf`),
      run(`check ${dir}/check.conf`),
    ].join('\n'));
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([
      `== check ${dir}/check.conf`,
      `== report ${dir}/check.conf`,
      'cdktf-iptables: no drift: the live rules equal the persisted ones',
      `== check ${dir}/check.conf`,
      `<4>drift: IPv4 rules differ from ${dir}/iptables.rules: 1 added, 0 removed, 0 changed (live iptables-save; counters and the kept rules of other tools aside)`,
      '<4>drift: IPv4 filter INPUT rule 1 added (no owner comment: not from the cdktf program): -A INPUT -s 203.0.113.9/32 -j ACCEPT',
      `<4>drift: ipset set bl-feed-v4 (matched by the rule of prod/web/feed): 1 persisted but missing live (${member}), 0 live but not in ${dir}/ipsets`,
      `== check ${dir}/check.conf`,
      `== report ${dir}/check.conf`,
      `cdktf-iptables: drift: IPv4 rules differ from ${dir}/iptables.rules: 1 added, 0 removed, 0 changed (live iptables-save; counters and the kept rules of other tools aside)`,
      'cdktf-iptables: drift: IPv4 filter INPUT rule 1 added (no owner comment: not from the cdktf program): -A INPUT -s 203.0.113.9/32 -j ACCEPT',
      `cdktf-iptables: drift: ipset set bl-feed-v4 (matched by the rule of prod/web/feed): 1 persisted but missing live (${member}), 0 live but not in ${dir}/ipsets`,
      'cdktf-iptables: drift: this load replaces the live rules above with the new ones (the kept rules of other tools stay)',
      `== check ${dir}/check.conf`,
      '<5>drift: none any more; the live rules equal the persisted ones again',
      `== check ${dir}/check.conf`,
      '',
    ]);
  });

  test('repair: the persisted rules and set contents are loaded again, the kept rules stay; nothing is checked while a deploy is armed', () => {
    const r = inNamespaces([
      setup,
      `iptables-save > ${dir}/before`,
      'iptables -I INPUT -s 203.0.113.9/32 -j ACCEPT',
      'ip6tables -P INPUT ACCEPT',
      `ipset del bl-feed-v4 ${member}`,
      'ipset add bl-feed-v4 192.0.2.77',
      'mkdir -p /run/cdktf-iptables && touch /run/cdktf-iptables/armed',
      run(`check ${dir}/repair.conf`),
      'rm /run/cdktf-iptables/armed',
      run(`check ${dir}/repair.conf`),
      run(`check ${dir}/repair.conf`),
      `iptables-save > ${dir}/after`,
      `ip6tables-save > ${dir}/after6`,
      `ipset save bl-feed-v4 > ${dir}/set-after`,
    ].join('\n'));
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([
      `== check ${dir}/repair.conf`,
      `== check ${dir}/repair.conf`,
      `<4>drift: IPv4 rules differ from ${dir}/iptables.rules: 1 added, 0 removed, 0 changed (live iptables-save; counters and the kept rules of other tools aside)`,
      '<4>drift: IPv4 filter INPUT rule 1 added (no owner comment: not from the cdktf program): -A INPUT -s 203.0.113.9/32 -j ACCEPT',
      `<4>drift: IPv6 rules differ from ${dir}/ip6tables.rules: 0 added, 0 removed, 1 changed (live iptables-save; counters and the kept rules of other tools aside)`,
      '<4>drift: IPv6 filter chain INPUT: policy ACCEPT live, DROP persisted',
      `<4>drift: ipset set bl-feed-v4 (matched by the rule of prod/web/feed): 1 persisted but missing live (${member}), 1 live but not in ${dir}/ipsets (192.0.2.77)`,
      '<5>drift repaired: the persisted rules are live again (the kept rules of other tools stay)',
      `== check ${dir}/repair.conf`,
      '',
    ]);
    // the same lines as before the changes (theirs at the top of their chains now, where a deploy puts them)
    const strip = (t: string) => t.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]$/, '')).sort().join('\n');
    expect(strip(fs.readFileSync(path.join(dir, 'after'), 'utf8'))).toBe(strip(fs.readFileSync(path.join(dir, 'before'), 'utf8')));
    expect(fs.readFileSync(path.join(dir, 'after'), 'utf8')).toMatch(/^:INPUT DROP \[\d+:\d+\]\n(:.*\n)*-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd\n/m);
    expect(fs.readFileSync(path.join(dir, 'after'), 'utf8')).toContain('-A f2b-sshd -s 198.51.100.66/32 -j REJECT');
    expect(fs.readFileSync(path.join(dir, 'after6'), 'utf8')).toMatch(/^:INPUT DROP/m);
    const adds = (t: string) => t.split('\n').filter((l) => l.startsWith('add bl-feed-v4 ')).sort();
    expect(adds(fs.readFileSync(path.join(dir, 'set-after'), 'utf8'))).toEqual(adds(h.ipsetRules()!));
  });

  test('the deploy scripts take the drift check along: the stage prints drift before loading, the confirm installs or removes the units', () => {
    const fw = fs.readFileSync(path.join(SCRIPTS, 'firewall.sh'), 'utf8');
    const stage = fw.slice(fw.indexOf('\nstage() {'), fw.indexOf('\nrollback() {'));
    expect(stage.indexOf('drift.sh" report')).toBeGreaterThan(0);
    expect(stage.indexOf('drift.sh" report')).toBeLessThan(stage.indexOf('sets_load "$staging/ipsets.rules"'));
    expect(stage.indexOf('kept_summary "$f" "$staging"')).toBeLessThan(stage.indexOf('# 2. the rollback point'));
    expect(fw.slice(fw.indexOf('\nconfirm() {'))).toContain('drift_units "$staging"');
    // gzip is there to unpack the cloud-init archive; zlib reads what we wrote
    expect(zlib.gunzipSync(zlib.gzipSync('x')).toString()).toBe('x');
  });
});
