import { spawnSync } from 'child_process';
import * as zlib from 'zlib';
import { App, TerraformOutput, TerraformStack, Testing, Token } from 'cdktf';
import { CloudInitEncoding, CloudInitFormat, CloudInitOptions, Distro, IpFamily, NatGateway, Peer, Port, SshBruteforceGuard, StatefulHost } from '../../lib';
import { bootScript, gzipStable } from '../../lib/provision/cloud-init';
import { distroProfile } from '../../lib/provision/distro';

const host = (props: object = {}) => new StatefulHost(new TerraformStack(new App(), 's'), 'gw', { allow: [Port.SSH], ...props });

/** The files the boot script writes: path -> decoded content. */
function files(script: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^put (\S+) (\d+) <<'CDKTF_IPTABLES_EOF'\n([\s\S]*?)\nCDKTF_IPTABLES_EOF$/gm;
  for (let m = re.exec(script); m; m = re.exec(script)) out[m[1]] = Buffer.from(m[3].replace(/\n/g, ''), 'base64').toString();
  return out;
}

/** The document read by a YAML reader independent of ours (PyYAML, which cloud-init uses). */
function parse(doc: string): { bootcmd: string[]; merge_how: unknown } {
  const r = spawnSync('python3', ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: doc, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`PyYAML could not read the document: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('the #cloud-config document', () => {
  const h = host();
  new NatGateway(h, 'nat', { wan: 'eth1', lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }] });
  const doc = h.cloudInitText();
  const parsed = parse(doc);
  const script = parsed.bootcmd[0];

  test('is #cloud-config with only schema keys: merge_how and one bootcmd script', () => {
    expect(doc.split('\n')[0]).toBe('#cloud-config');
    expect(Object.keys(parsed).sort()).toEqual(['bootcmd', 'merge_how']);
    expect(parsed.bootcmd).toHaveLength(1);
    expect(parsed.merge_how).toEqual([{ name: 'list', settings: ['prepend'] }, { name: 'dict', settings: ['no_replace', 'recurse_list'] }]);
  });

  test('the script is valid sh, stops on any failure (set -eu), and names the failure', () => {
    expect(spawnSync('sh', ['-n'], { input: script }).status).toBe(0);
    const lines = script.split('\n').filter((l) => l && !l.startsWith('#'));
    // in a subshell, so merged bootcmd entries after it keep their own shell options
    expect(lines[0]).toBe('(');
    expect(lines[1]).toBe('set -eu');
    expect(lines.slice(-2)).toEqual([')', 'rc=$?; if [ "$rc" != 0 ]; then exit "$rc"; fi']);
    expect(script).toMatch(/trap '.*error: the firewall install stopped/);
  });

  test('writes exactly the rendered rule files, the units (Debian) and the sysctls', () => {
    const f = files(script);
    expect(f['/etc/iptables/iptables.rules']).toBe(h.renderRules(IpFamily.V4));
    expect(f['/etc/iptables/ip6tables.rules']).toBe(h.renderRules(IpFamily.V6));
    expect(f['/etc/systemd/system/iptables.service']).toMatch(/Before=network-pre.target/);
    expect(f['/etc/systemd/system/ip6tables.service']).toMatch(/ip6tables-restore -w 5 < \/etc\/iptables\/ip6tables.rules/);
    expect(f['/etc/sysctl.d/90-cdktf-iptables.conf']).toBe('# written by cdktf-iptables\nnet.ipv4.ip_forward=1\nnet.ipv6.conf.all.forwarding=1\n');
  });

  test('order: rules tested, loaded, units enabled and started, then forwarding, then the per-instance marker', () => {
    const at = (re: RegExp) => { const i = script.split('\n').findIndex((l) => re.test(l)); expect(i).toBeGreaterThanOrEqual(0); return i; };
    const test4 = at(/^iptables-restore --test/);
    const load4 = at(/^iptables-restore -w 5 < /);
    const load6 = at(/^ip6tables-restore -w 5 < /);
    const enable = at(/^systemctl enable iptables.service ip6tables.service$/);
    const sysctl = at(/^sysctl -q -p \/etc\/sysctl.d\/90-cdktf-iptables.conf$/);
    const marker = at(/> \/var\/lib\/cdktf-iptables\/cloud-init-instance/);
    expect(test4).toBeLessThan(load4);
    expect(Math.max(load4, load6)).toBeLessThan(enable);
    expect(enable).toBeLessThan(sysctl);
    expect(sysctl).toBeLessThan(marker);
  });

  test('once per instance: a later boot with the same instance id exits before changing anything', () => {
    expect(script).toMatch(/iid=\$\(printenv INSTANCE_ID \|\| true\)\nif \[ -n "\$iid" \] && \[ "\$\(cat \/var\/lib\/cdktf-iptables\/cloud-init-instance/);
  });

  test('no Terraform template syntax (${ or %{) in the document', () => {
    expect(doc).not.toMatch(/\$\{|%\{/);
  });

  test('Debian: installs iptables only when a restore command is missing; refuses an active ufw/nftables/firewalld', () => {
    expect(script).toMatch(/if ! \{ have iptables-restore && have ip6tables-restore; \}; then\n.*\n  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends iptables \|\| die/);
    expect(script).toMatch(/\{ systemctl is-active --quiet firewalld.service \|\| systemctl is-enabled --quiet firewalld.service; \}/);
    expect(script).toMatch(/\{ systemctl is-active --quiet ufw.service \|\| systemctl is-enabled --quiet ufw.service; \} && grep -qs "\^ENABLED=yes" \/etc\/ufw\/ufw.conf/);
    expect(script).toMatch(/set -- \$active; die "\$\* is active or enabled and would fight over the rules/);
  });
});

describe('distro profiles in cloud-init', () => {
  test('RHEL: iptables-services when missing (dnf or yum), firewalld masked only where it exists, units from the package', () => {
    const h = host({ distro: Distro.RHEL, ipv6: false });
    const script = parse(h.cloudInitText()).bootcmd[0];
    expect(distroProfile(Distro.RHEL).packages).toEqual(['iptables-services']);
    expect(script).toMatch(/if ! \{ have iptables-restore && unit_exists iptables.service; \}; then/);
    expect(script).toMatch(/dnf -y -q install iptables-services; else yum -y -q install iptables-services; fi \|\| die/);
    expect(script).toMatch(/case "\$\(systemctl show -p LoadState --value firewalld.service\)" in\n  not-found\|masked\) ;;\n  \*\) .*systemctl disable --now firewalld.service; systemctl mask firewalld.service ;;/);
    expect(script).not.toMatch(/is-active --quiet firewalld/);
    expect(script).toMatch(/^if ! unit_exists iptables.service; then\nput \/etc\/systemd\/system\/iptables.service/m);
    expect(files(script)['/etc/sysconfig/iptables']).toBe(h.renderRules(IpFamily.V4));
    expect(script).not.toMatch(/ip6tables/);
  });

  test('ARCH: pacman, the package\'s own units unless missing', () => {
    const script = parse(host({ distro: Distro.ARCH }).cloudInitText()).bootcmd[0];
    expect(script).toMatch(/pacman -Sy --noconfirm --needed iptables \|\| die/);
    expect(script).toMatch(/^if ! unit_exists ip6tables.service; then$/m);
  });

  test('takeOver: active conflicting services are stopped, disabled and masked instead of failing', () => {
    const script = parse(host().cloudInitText({ takeOver: true })).bootcmd[0];
    expect(script).toMatch(/takeOver: stopping, disabling and masking \$svc"; systemctl disable --now "\$svc.service"; systemctl mask "\$svc.service"/);
    expect(script).not.toMatch(/would fight over the rules/);
  });

  test('the boot script is pure: same input, same text', () => {
    const input = { profile: distroProfile(Distro.DEBIAN), rules: { [IpFamily.V4]: '*filter\nCOMMIT\n' }, sysctl: [] };
    expect(bootScript(input)).toBe(bootScript(input));
  });
});

describe('ipset sets (block() beyond a few peers, Blocklist)', () => {
  const h = host();
  for (let i = 0; i < 20; i++) h.block(Peer.ipv4(`192.0.2.${i}/32`));
  const script = parse(h.cloudInitText()).bootcmd[0];

  test('writes ipsets.rules where the distro keeps them and the sets unit; loads the sets before testing and loading the rules', () => {
    expect(h.ipsetRules()).toBeDefined();
    const f = files(script);
    expect(f['/etc/iptables/ipsets']).toBe(h.ipsetRules());
    expect(f['/etc/systemd/system/cdktf-ipsets.service']).toMatch(/ipset restore -exist < \/etc\/iptables\/ipsets/);
    const lines = script.split('\n');
    const sets = lines.findIndex((l) => l.startsWith('ipset restore -exist < /etc/iptables/ipsets'));
    const test4 = lines.findIndex((l) => l.startsWith('iptables-restore --test'));
    const load4 = lines.findIndex((l) => l.startsWith('iptables-restore -w 5'));
    expect(sets).toBeGreaterThan(0);
    expect(sets).toBeLessThan(test4);
    expect(test4).toBeLessThan(load4);
    expect(script).toMatch(/^systemctl enable cdktf-ipsets.service iptables.service ip6tables.service$/m);
  });

  test('installs ipset with the distro\'s packages when it is missing', () => {
    expect(script).toMatch(/if ! \{ have iptables-restore && have ip6tables-restore && have ipset; \}; then/);
    expect(script).toMatch(/--no-install-recommends iptables ipset \|\| die/);
    const rhel = host({ distro: Distro.RHEL });
    for (let i = 0; i < 20; i++) rhel.block(Peer.ipv4(`192.0.2.${i}/32`));
    expect(files(parse(rhel.cloudInitText()).bootcmd[0])['/etc/sysconfig/cdktf-ipsets']).toBe(rhel.ipsetRules());
  });

  test('a host without sets carries no ipset step', () => {
    expect(host().cloudInitText()).not.toMatch(/ipset/);
  });
});

describe('cloudInit() resolves at synth: order independent', () => {
  function synth(order: 'call-first' | 'call-last', options: CloudInitOptions = {}): { value: string; text: string } {
    const stack = new TerraformStack(Testing.app(), 's');
    const h = new StatefulHost(stack, 'gw', { allow: [Port.SSH] });
    let token = '';
    if (order === 'call-first') token = h.cloudInit(options);
    new SshBruteforceGuard(h, 'guard');
    h.allowFrom(Peer.ipv4('203.0.113.0/24'), Port.tcp(5432));
    new NatGateway(h, 'nat', { wan: 'eth1', lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }] });
    if (order === 'call-last') token = h.cloudInit(options);
    new TerraformOutput(stack, 'ud', { value: token });
    const json = JSON.parse(Testing.synth(stack, true));
    return { value: json.output.ud.value, text: h.cloudInitText(options) };
  }

  test('parts added after the call are in the document; same bytes as calling last', () => {
    const first = synth('call-first');
    const last = synth('call-last');
    expect(first.value).toBe(first.text);
    expect(first.value).toBe(last.value);
    const f = files(parse(first.value).bootcmd[0]);
    expect(f['/etc/iptables/iptables.rules']).toMatch(/-s 203\.0\.113\.0\/24 .*--dport 5432/);
    expect(f['/etc/iptables/iptables.rules']).toMatch(/MASQUERADE/);
    expect(f['/etc/sysctl.d/90-cdktf-iptables.conf']).toMatch(/ip_forward=1/);
  });

  test('the token is a string token until synth', () => {
    expect(Token.isUnresolved(host().cloudInit())).toBe(true);
  });

  test('gzip is byte-stable across programs and unpacks to the plain text', () => {
    const a = synth('call-first', { encoding: CloudInitEncoding.GZIP_BASE64 });
    const b = synth('call-last', { encoding: CloudInitEncoding.GZIP_BASE64 });
    expect(a.value).toBe(b.value);
    const gz = Buffer.from(a.value, 'base64');
    expect([...gz.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]); // no name, mtime 0, Unix
    expect(zlib.gunzipSync(gz).toString()).toBe(synth('call-last').value);
    expect(gzipStable('x').equals(gzipStable('x'))).toBe(true);
  });
});

describe('size check (AWS: 16,384 bytes of user-data)', () => {
  function bigStack(options: CloudInitOptions): TerraformStack {
    const stack = new TerraformStack(Testing.app(), 's');
    const h = new StatefulHost(stack, 'web', { allow: [Port.SSH] });
    new TerraformOutput(stack, 'ud', { value: h.cloudInit(options) });
    for (let i = 0; i < 300; i++) h.allowFrom(Peer.ipv4(`198.18.${Math.floor(i / 256)}.${i % 256}/32`), Port.tcp(5432));
    return stack;
  }

  test('plain over the limit: synth fails naming the path, the size, the limit and the gzip fix', () => {
    expect(() => Testing.synth(bigStack({}), true)).toThrow(/\[s\/web\] cloudInit\(\) user-data is \d+ bytes, over the limit of 16384 bytes \(AWS EC2 user-data, before base64\)\. Use cloudInit\(\{ encoding: CloudInitEncoding\.GZIP_BASE64 \}\)/);
    // without validations, resolving fails the same way
    expect(() => Testing.synth(bigStack({}))).toThrow(/over the limit of 16384 bytes/);
  });

  test('gzip fits; maxBytes 0 turns the check off; a lower maxBytes is honoured', () => {
    const gz = JSON.parse(Testing.synth(bigStack({ encoding: CloudInitEncoding.GZIP_BASE64 }), true)).output.ud.value;
    expect(Buffer.from(gz, 'base64').length).toBeLessThan(16384);
    expect(() => Testing.synth(bigStack({ maxBytes: 0 }), true)).not.toThrow();
    expect(() => Testing.synth(bigStack({ encoding: CloudInitEncoding.GZIP_BASE64, maxBytes: 1000 }), true)).toThrow(/user-data is \d+ bytes gzipped, over the limit of 1000 bytes\. Fewer rules/);
  });

  test('1,000 peers: plain vs gzip sizes', () => {
    const h = host();
    for (let i = 0; i < 1000; i++) h.allowFrom(Peer.ipv4(`198.18.${Math.floor(i / 256)}.${i % 256}/32`), Port.tcp(5432));
    const plain = Buffer.byteLength(h.cloudInitText());
    const gz = Buffer.from(h.cloudInitText({ encoding: CloudInitEncoding.GZIP_BASE64 }), 'base64').length;
    // eslint-disable-next-line no-console
    console.log(`1,000 allowFrom peers: plain ${plain} B, gzip ${gz} B`);
    expect(plain).toBeGreaterThan(16384);
    expect(gz).toBeLessThan(16384);
  });
});

describe('MIME multipart', () => {
  const h = host();
  const parts = [
    { contentType: 'text/cloud-config', content: '#cloud-config\nbootcmd:\n  - echo mine\nruncmd:\n  - [echo, hello]\n' },
    { contentType: 'text/x-shellscript', content: '#!/bin/sh\necho hi\n', filename: 'hi.sh' },
  ];
  const doc = h.cloudInitText({ format: CloudInitFormat.MIME_MULTIPART, parts });

  test('your parts first, the firewall\'s cloud-config last with a merge type that keeps both', () => {
    const boundary = doc.match(/^Content-Type: multipart\/mixed; boundary="([^"]+)"$/m)![1];
    const sections = doc.split(`--${boundary}`).slice(1, -1);
    expect(sections).toHaveLength(3);
    expect(sections[0]).toMatch(/Content-Type: text\/cloud-config; charset="utf-8"\n[\s\S]*filename="part-1.txt"\n\n#cloud-config\nbootcmd:\n  - echo mine/);
    expect(sections[1]).toMatch(/Content-Type: text\/x-shellscript[\s\S]*filename="hi.sh"\n\n#!\/bin\/sh\necho hi\n$/);
    expect(sections[2]).toMatch(/filename="cdktf-iptables.cfg"\nMerge-Type: list\(prepend\)\+dict\(no_replace,recurse_list\)\+str\(\)\n\n#cloud-config\n/);
    expect(sections[2].replace(/^[\s\S]*?\n\n/, '')).toBe(h.cloudInitText());
    expect(doc.endsWith(`--${boundary}--\n`)).toBe(true);
  });

  test('mergeable with Python\'s email parser (what cloud-init uses)', () => {
    const py = 'import email,sys; m=email.message_from_string(sys.stdin.read()); print("|".join(p.get_content_type() for p in m.walk() if not p.is_multipart()))';
    const r = spawnSync('python3', ['-c', py], { input: doc });
    expect(r.stdout.toString().trim()).toBe('text/cloud-config|text/x-shellscript|text/cloud-config');
  });

  test.each([
    ['parts without MIME_MULTIPART', { parts }, /\[s\/gw\] cloudInit\(\) parts only go into a MIME_MULTIPART document\. Set format/],
    ['a bad content type', { format: CloudInitFormat.MIME_MULTIPART, parts: [{ contentType: 'cloud config', content: 'x' }] }, /parts\[0\]\.contentType is "cloud config"\. Use a MIME type/],
    ['a bad file name', { format: CloudInitFormat.MIME_MULTIPART, parts: [{ contentType: 'text/x-shellscript', content: 'x', filename: 'a b' }] }, /parts\[0\]\.filename is "a b"/],
    ['the boundary inside a part', { format: CloudInitFormat.MIME_MULTIPART, parts: [{ contentType: 'text/x-shellscript', content: '--==CDKTF-IPTABLES-5d0c4a1e==' }] }, /contains the MIME boundary/],
    ['an unknown format', { format: 'YAML' }, /\[s\/gw\] cloudInit\(\) format is "YAML"\. Use one of CLOUD_CONFIG, MIME_MULTIPART/],
    ['an unknown encoding', { encoding: 'ZIP' }, /encoding is "ZIP"\. Use one of PLAIN, GZIP_BASE64/],
    ['a negative maxBytes', { maxBytes: -1 }, /maxBytes is -1\. Use a whole number of bytes/],
  ])('%s: synth-time error naming the host', (_n, options, msg) => {
    expect(() => host().cloudInit(options as any)).toThrow(msg);
    expect(() => host().cloudInitText(options as any)).toThrow(msg);
  });

  test('gzip cannot carry a token part', () => {
    const stack = new TerraformStack(Testing.app(), 's');
    const h2 = new StatefulHost(stack, 'gw', { allow: [Port.SSH] });
    const token = h2.cloudInit();
    expect(() => h2.cloudInit({ format: CloudInitFormat.MIME_MULTIPART, encoding: CloudInitEncoding.GZIP_BASE64, parts: [{ contentType: 'text/plain', content: token }] }))
      .toThrow(/unresolved token, which gzip cannot encode/);
  });
});
