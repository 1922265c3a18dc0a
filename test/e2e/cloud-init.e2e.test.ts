/**
 * cloud-init delivery with the real consumer: Debian's cloud-init (22.4, from
 * a cached image layer, see layer-cloudinit.sh) boots systemd-nspawn hosts
 * whose NoCloud seed (/var/lib/cloud/seed/nocloud) is the user-data that
 * `host.cloudInit()` resolves to in a synthesized stack. Checks run inside the
 * hosts with nsenter; packets come from the runner namespace. Timings and
 * journal timestamps are printed, never asserted; orders are asserted.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import { Fleet, Target } from './target';
import { ClosedPortResponse, CloudInitEncoding, CloudInitFormat, CloudInitOptions, IpFamily, NatGateway, Peer, Port, StatefulHost } from '../../lib';
import { sh } from '../kernel/lab';
import { ping, tcpSyn } from '../kernel/probes';
import { normalizeRules } from '../kernel/rules-io';

const timings: Record<string, number> = {};
const facts: Record<string, string | number> = {};

/** A fleet whose hosts boot the base image with the cloud-init layer on top. */
class CloudInitFleet extends Fleet {
  public constructor() {
    // Debian's cloud-init (and locales, which its locale module needs; ipset for hosts with sets)
    super({ name: 'cloudinit', packages: ['cloud-init', 'locales', 'ipset'], configure: path.join(__dirname, 'layer-cloudinit.sh') });
  }

  /** Seconds spent on the image and its cloud-init layer (built once, then cached). */
  public get layerSeconds(): number {
    return this.imageSeconds;
  }
}

/** Writes a NoCloud seed into a host's (not yet booted) root. */
function seed(t: Target, instanceId: string, userData: Buffer | string): void {
  const dir = path.join(t.work, 'root', 'var', 'lib', 'cloud', 'seed', 'nocloud');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'meta-data'), `instance-id: ${instanceId}\nlocal-hostname: ${instanceId}\n`);
  fs.writeFileSync(path.join(dir, 'user-data'), userData);
}

/**
 * The user-data as the program hands it to a resource: `cloudInit()` is
 * called first, parts are added after, and the stack is synthesized (with
 * validations); the value is read back from the synthesized output.
 */
function synthUserData(build: (host: StatefulHost) => void, props: object, options: CloudInitOptions = {}): { host: StatefulHost; value: string } {
  const stack = new TerraformStack(Testing.app(), 'stack');
  const host = new StatefulHost(stack, 'web', { allow: [Port.SSH], closedPortResponse: ClosedPortResponse.DROP, ...props });
  new TerraformOutput(stack, 'user_data', { value: host.cloudInit(options) });
  build(host); // after the call: the document must still carry all of it
  const json = JSON.parse(Testing.synth(stack, true));
  return { host, value: json.output.user_data.value };
}

/** An enabled stand-in for a conflicting firewall service (nftables.service, where the package puts it) in a host's root. */
function fakeNftables(t: Target): void {
  const etc = path.join(t.work, 'root', 'etc', 'systemd', 'system');
  const lib = path.join(t.work, 'root', 'usr', 'lib', 'systemd', 'system');
  fs.mkdirSync(path.join(etc, 'multi-user.target.wants'), { recursive: true });
  fs.writeFileSync(path.join(lib, 'nftables.service'), '[Unit]\nDescription=stand-in for nftables (e2e)\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n');
  fs.symlinkSync('/usr/lib/systemd/system/nftables.service', path.join(etc, 'multi-user.target.wants', 'nftables.service'));
}

/** Rules normalized for comparing (counters zeroed, comments dropped, tables sorted). */
const norm = (text: string) => normalizeRules(text);

interface JournalLine { readonly us: number; readonly text: string }

/** The journal of the host's current boot, each line with its microsecond timestamp. */
function journal(t: Target): JournalLine[] {
  const out = t.exec('journalctl -b -o json --no-pager --output-fields=MESSAGE,SYSLOG_IDENTIFIER,_SYSTEMD_UNIT,UNIT', { timeoutMs: 30_000 }).stdout;
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l)).map((e) => ({
    us: Number(e.__REALTIME_TIMESTAMP),
    text: `${e.SYSLOG_IDENTIFIER ?? ''}: ${Array.isArray(e.MESSAGE) ? Buffer.from(e.MESSAGE).toString() : e.MESSAGE}`,
  }));
}

/** The first journal line matching `re` (its timestamp), or a clear failure listing what was there. */
function first(lines: JournalLine[], re: RegExp): JournalLine {
  const hit = lines.find((l) => re.test(l.text));
  if (!hit) throw new Error(`no journal line matches ${re}; the journal had:\n${lines.map((l) => l.text).slice(-80).join('\n')}`);
  return hit;
}

const iso = (l: JournalLine) => new Date(l.us / 1000).toISOString().replace(/Z$/, `${String(l.us % 1000).padStart(3, '0')}Z`);

/** Waits (bounded, inside cloud-init itself) for cloud-init to finish; returns `status --long`. */
function cloudInitDone(t: Target): string {
  t.exec('cloud-init status --wait >/dev/null', { check: false, timeoutMs: 240_000 });
  return t.exec('cloud-init status --long', { check: false }).stdout;
}

/** The checks every booted cloud-init host passes. */
function expectCloudInitClean(t: Target, host: StatefulHost): void {
  const status = cloudInitDone(t);
  if (!/^status: done$/m.test(status)) {
    throw new Error(`cloud-init on ${t.v4}: ${status}\n${t.exec('grep -i "cdktf-iptables\\|error" /var/log/cloud-init-output.log | tail -20', { check: false }).stdout}`);
  }
  const result = JSON.parse(t.exec('cat /run/cloud-init/result.json').stdout);
  expect(result.v1.errors).toEqual([]);
  expect(t.exec('cloud-init schema --system 2>&1').stdout).toMatch(/Valid cloud-config: system userdata/);
  for (const f of host.families) {
    const cmd = f === IpFamily.V4 ? 'iptables-save' : 'ip6tables-save';
    expect(norm(t.exec(cmd).stdout)).toEqual(norm(host.renderRules(f)));
    const file = f === IpFamily.V4 ? '/etc/iptables/iptables.rules' : '/etc/iptables/ip6tables.rules';
    expect(t.exec(`cat ${file}`).stdout).toEqual(host.renderRules(f));
  }
  const units = host.families.map((f) => (f === IpFamily.V4 ? 'iptables.service' : 'ip6tables.service'));
  expect(t.exec(`systemctl is-enabled ${units.join(' ')}`).stdout.split('\n').filter(Boolean)).toEqual(units.map(() => 'enabled'));
  expect(t.exec(`systemctl is-active ${units.join(' ')}`).stdout.split('\n').filter(Boolean)).toEqual(units.map(() => 'active'));
}

describe('cloud-init user-data on booted hosts (Debian cloud-init, NoCloud seed)', () => {
  let fleet: CloudInitFleet;
  let web: Target; // plain #cloud-config: SSH and HTTPS open, the rest dropped, 20 blocked peers in an ipset set
  let gw: Target; // a NatGateway: forwarding only after the rules
  let big: Target; // 1,000 allowFrom peers, gzip + base64
  let clash: Target; // an enabled nftables.service, no takeOver: cloud-init reports the error
  let taken: Target; // the same with takeOver: nftables disabled and masked, rules loaded
  let mixed: Target; // MIME multipart with the user's own cloud-config and script parts
  let webHost: StatefulHost;
  let takenHost: StatefulHost;
  let mixedHost: StatefulHost;
  let gwHost: StatefulHost;
  let bigHost: StatefulHost;

  beforeAll(async () => {
    fleet = new CloudInitFleet();
    timings['base image (build or cache) s'] = fleet.imageSeconds;
    timings['cloud-init layer (build or cache) s'] = fleet.layerSeconds;
    [web, gw, big, clash, taken, mixed] = [fleet.target(), fleet.target(), fleet.target(), fleet.target(), fleet.target(), fleet.target()];

    const w = synthUserData((h) => {
      h.allow(Port.HTTPS);
      // beyond a few peers, blocks become an ipset set (ipsets.rules, cdktf-ipsets.service)
      for (let i = 0; i < 20; i++) h.block(Peer.ipv4(`192.0.2.${i}/32`));
    }, {});
    webHost = w.host;
    seed(web, 'cfw-web', w.value);

    const g = synthUserData((h) => new NatGateway(h, 'nat', { wan: 'eth0', lans: [{ iface: 'eth1', cidr: '192.168.7.0/24' }], portForwards: [{ port: Port.tcp(8080), to: '192.168.7.5', toPort: 80 }] }), {});
    gwHost = g.host;
    seed(gw, 'cfw-gw', g.value);

    const b = synthUserData((h) => {
      for (let i = 0; i < 1000; i++) h.allowFrom(Peer.ipv4(`198.18.${Math.floor(i / 256)}.${i % 256}/32`), Port.tcp(5432));
    }, {}, { encoding: CloudInitEncoding.GZIP_BASE64 });
    bigHost = b.host;
    const gz = Buffer.from(b.value, 'base64');
    facts['1000-peer user-data, gzip bytes'] = gz.length;
    facts['1000-peer user-data, plain bytes'] = bigHost.cloudInitText().length;
    seed(big, 'cfw-big', gz);

    fakeNftables(clash);
    seed(clash, 'cfw-clash', synthUserData(() => undefined, {}).value);
    fakeNftables(taken);
    const k = synthUserData(() => undefined, {}, { takeOver: true });
    takenHost = k.host;
    seed(taken, 'cfw-taken', k.value);

    const m = synthUserData((h) => h.allow(Port.HTTPS), {}, {
      format: CloudInitFormat.MIME_MULTIPART,
      parts: [
        { contentType: 'text/cloud-config', content: '#cloud-config\nbootcmd:\n  - echo user-bootcmd-ran | tee /root/user-bootcmd\nruncmd:\n  - [touch, /root/user-runcmd]\n' },
        { contentType: 'text/x-shellscript', content: '#!/bin/sh\ntouch /root/user-script\n', filename: 'user.sh' },
      ],
    });
    mixedHost = m.host;
    seed(mixed, 'cfw-mixed', m.value);

    const t0 = Date.now();
    const boots = await Promise.all([web.boot(), gw.boot(), big.boot(), clash.boot(), taken.boot(), mixed.boot()]);
    timings['boot of 6 hosts (parallel) s'] = (Date.now() - t0) / 1000;
    boots.forEach((s, i) => { timings[`boot host ${i} s`] = s; });
  }, 900_000);

  afterAll(() => {
    fleet?.destroy();
    fs.mkdirSync(path.join(__dirname, '..', '..', 'test-reports'), { recursive: true });
    fs.writeFileSync(path.join(__dirname, '..', '..', 'test-reports', 'cloud-init-timings.json'), JSON.stringify({ timings, facts }, null, 2));
    // eslint-disable-next-line no-console
    console.log(`cloud-init e2e: ${JSON.stringify({ timings, facts }, null, 2)}`);
  });

  test('plain #cloud-config: done without errors, schema valid, live rules = rendered files, units enabled and active', () => {
    const t0 = Date.now();
    expectCloudInitClean(web, webHost);
    timings['web: cloud-init done after boot s'] = (Date.now() - t0) / 1000;
    // what was added after cloudInit() was called is in the booted rules and sets
    expect(web.exec('iptables-save').stdout).toMatch(/--dport 443 /);
    expect(web.exec('iptables-save').stdout).toMatch(/-m set --match-set \S+ src/);
    const adds = (text: string) => text.split('\n').filter((l) => l.startsWith('add ')).sort();
    expect(adds(web.exec('ipset save').stdout)).toEqual(adds(webHost.ipsetRules()!));
    expect(adds(webHost.ipsetRules()!)).toHaveLength(20);
    expect(web.exec('systemctl is-enabled cdktf-ipsets.service; systemctl is-active cdktf-ipsets.service').stdout.split('\n').filter(Boolean)).toEqual(['enabled', 'active']);
  }, 300_000);

  test('packets as declared: SSH and HTTPS open, other ports dropped (IPv4 and IPv6), ping answered', () => {
    expect(tcpSyn(fleet.lab, fleet.runner, web.v4, 22).state).toBe('open');
    expect(tcpSyn(fleet.lab, fleet.runner, web.v6, 22).state).toBe('open');
    // nothing listens on 443 or 8080: without rules the kernel would answer RST (closed)
    expect(tcpSyn(fleet.lab, fleet.runner, web.v4, 443)).toMatchObject({ state: 'closed', reason: 'reset' });
    expect(tcpSyn(fleet.lab, fleet.runner, web.v4, 8080)).toMatchObject({ state: 'filtered', reason: 'no-response' });
    expect(tcpSyn(fleet.lab, fleet.runner, web.v6, 8080)).toMatchObject({ state: 'filtered', reason: 'no-response' });
    expect(ping(fleet.lab, fleet.runner, web.v4)).toBe(true);
    expect(ping(fleet.lab, fleet.runner, web.v6)).toBe(true);
  }, 120_000);

  test('the rules were loaded before sshd listened and before its first accepted connection', () => {
    cloudInitDone(web);
    const j = journal(web);
    const loaded = first(j, /cdktf-iptables: rules loaded/);
    const unit = first(j, /Finished iptables\.service/);
    const listening = first(j, /sshd: Server listening on/);
    const accepted = first(j, /sshd: Accepted publickey/);
    facts['web: rules loaded (bootcmd)'] = iso(loaded);
    facts['web: iptables.service finished'] = iso(unit);
    facts['web: sshd Server listening'] = iso(listening);
    facts['web: sshd first Accepted'] = iso(accepted);
    facts['web: sshd listening - rules loaded, ms'] = (listening.us - loaded.us) / 1000;
    expect(loaded.us).toBeLessThan(listening.us);
    expect(unit.us).toBeLessThan(listening.us);
    expect(listening.us).toBeLessThanOrEqual(accepted.us);
  }, 60_000);

  test('NatGateway: forwarding turned on only after the rules were loaded', () => {
    expectCloudInitClean(gw, gwHost);
    expect(gw.exec('sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding').stdout.split('\n').filter(Boolean)).toEqual(['1', '1']);
    expect(gw.exec('iptables-save -t nat').stdout).toMatch(/-j MASQUERADE/);
    const j = journal(gw);
    const loaded = first(j, /cdktf-iptables: rules loaded/);
    const forwarding = first(j, /cdktf-iptables: forwarding on/);
    const listening = first(j, /sshd: Server listening on/);
    facts['gw: rules loaded'] = iso(loaded);
    facts['gw: forwarding on (sysctl -p done)'] = iso(forwarding);
    facts['gw: sshd Server listening'] = iso(listening);
    expect(loaded.us).toBeLessThan(forwarding.us);
    expect(j.indexOf(loaded)).toBeLessThan(j.indexOf(forwarding));
    expect(loaded.us).toBeLessThan(listening.us);
  }, 300_000);

  test('1,000 allowFrom peers, gzip + base64: boots the same way', () => {
    expect(facts['1000-peer user-data, gzip bytes'] as number).toBeLessThanOrEqual(16384);
    expect(facts['1000-peer user-data, plain bytes'] as number).toBeGreaterThan(16384);
    const t0 = Date.now();
    expectCloudInitClean(big, bigHost);
    timings['big: cloud-init done s'] = (Date.now() - t0) / 1000;
    expect(big.exec('iptables-save | grep -c -- "--dport 5432"').stdout.trim()).toBe('1000');
    expect(tcpSyn(fleet.lab, fleet.runner, big.v4, 22).state).toBe('open');
    // the runner is not one of the peers
    expect(tcpSyn(fleet.lab, fleet.runner, big.v4, 5432)).toMatchObject({ state: 'filtered', reason: 'no-response' });
  }, 300_000);

  test('an enabled nftables.service: the install stops, nothing is loaded, and cloud-init reports the error', () => {
    const status = cloudInitDone(clash);
    expect(status).toMatch(/^status: error$/m);
    expect(status).toMatch(/'bootcmd', ProcessExecutionError/);
    const out = clash.exec('grep cdktf-iptables /var/log/cloud-init-output.log').stdout;
    expect(out).toMatch(/error: nftables is active or enabled and would fight over the rules; disable it in the image, or use cloudInit\(\{ takeOver: true \}\)/);
    expect(out).toMatch(/error: the firewall install stopped \(exit 1\)/);
    expect(clash.exec('iptables-save').stdout).not.toMatch(/^-A /m);
    expect(clash.exec('systemctl is-enabled iptables.service', { check: false }).stdout.trim()).not.toBe('enabled');
  }, 300_000);

  test('the same with takeOver: nftables.service stopped, disabled and masked; the rules loaded', () => {
    expectCloudInitClean(taken, takenHost);
    expect(taken.exec('systemctl is-enabled nftables.service', { check: false }).stdout.trim()).toBe('masked');
    expect(taken.exec('systemctl is-active nftables.service', { check: false }).stdout.trim()).toBe('inactive');
    expect(taken.exec('grep cdktf-iptables /var/log/cloud-init-output.log').stdout).toMatch(/takeOver: stopping, disabling and masking nftables/);
  }, 300_000);

  test('MIME multipart with the user\'s own parts: all of them run, the firewall\'s bootcmd first', () => {
    expectCloudInitClean(mixed, mixedHost);
    expect(mixed.exec('ls /root/user-bootcmd /root/user-runcmd /root/user-script').stdout.split('\n').filter(Boolean)).toHaveLength(3);
    const out = mixed.exec('grep -n "cdktf-iptables: firewall installed\\|^user-bootcmd-ran" /var/log/cloud-init-output.log').stdout.trim().split('\n');
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/cdktf-iptables: firewall installed/);
    expect(out[1]).toMatch(/user-bootcmd-ran/);
    expect(mixed.exec('iptables-save').stdout).toMatch(/--dport 443 /);
  }, 300_000);

  test('after a reboot: the units load the sets, then the rules, before network-pre.target; cloud-init does not install again', async () => {
    // the boot transaction (cloud-final) is over before the reboot is asked for
    web.exec('systemctl is-system-running --wait', { check: false, timeoutMs: 120_000 });
    try {
      timings['web: reboot s'] = await web.reboot();
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${sh('tail', ['-30', path.join(web.work, 'boot1.log')], { check: false }).stdout}`);
    }
    const status = cloudInitDone(web);
    expect(status).toMatch(/^status: done$/m);
    for (const f of webHost.families) {
      expect(norm(web.exec(f === IpFamily.V4 ? 'iptables-save' : 'ip6tables-save').stdout)).toEqual(norm(webHost.renderRules(f)));
    }
    expect(web.exec('ipset list -n').stdout.trim().split('\n').length).toBeGreaterThanOrEqual(1);
    expect(web.exec('iptables-save').stdout).toMatch(/-m set --match-set \S+ src/);
    const j = journal(web);
    const sets = first(j, /Finished cdktf-ipsets\.service/);
    const unit = first(j, /Finished iptables\.service/);
    expect(sets.us).toBeLessThanOrEqual(unit.us);
    expect(j.indexOf(sets)).toBeLessThan(j.indexOf(unit));
    const networkPre = first(j, /Reached target network-pre\.target/);
    const listening = first(j, /sshd: Server listening on/);
    const again = first(j, /cdktf-iptables: installed for instance cfw-web already/);
    facts['web reboot: iptables.service finished'] = iso(unit);
    facts['web reboot: network-pre.target reached'] = iso(networkPre);
    facts['web reboot: sshd Server listening'] = iso(listening);
    expect(unit.us).toBeLessThanOrEqual(networkPre.us);
    expect(j.indexOf(unit)).toBeLessThan(j.indexOf(networkPre));
    expect(unit.us).toBeLessThan(listening.us);
    expect(again.us).toBeGreaterThan(unit.us);
    expect(tcpSyn(fleet.lab, fleet.runner, web.v4, 8080)).toMatchObject({ state: 'filtered', reason: 'no-response' });
  }, 300_000);
});

