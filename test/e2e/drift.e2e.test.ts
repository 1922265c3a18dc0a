/**
 * Drift on booted hosts (two, booted side by side):
 *
 * - `web`, deployed over SSH with a 10 s drift check, a 10,000-peer Blocklist,
 *   an SSH guard, and other tools' rules kept (Docker's layout, a live
 *   fail2ban ban): no drift is reported while nothing changes; a rule added and
 *   one removed by hand, an IPv6 rule and a missing set member are in the
 *   journal (`journalctl -t cdktf-iptables`) within one interval, named with
 *   their lines and owners; the next deploy prints that drift and what the
 *   kept rules admit; with `repair` a hand-made rule is removed again while
 *   the kept rules stay; `enabled: false` removes the timer. The check's CPU
 *   cost per run is measured here, with the 10,000-entry set loaded.
 * - `ci`, booted from cloud-init user-data (Debian's cloud-init, NoCloud
 *   seed): it gets the same timer, and reports a hand-made rule.
 *
 * Figures are printed (and written to test-reports/drift-e2e.json); only the
 * latency of a report is asserted (one interval, plus the timer's accuracy
 * and a margin).
 */
import * as fs from 'fs';
import * as path from 'path';
import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import { DeployApp } from './deploy-app';
import { Fleet, Target, TOOLS_LAYER, waitUntil } from './target';
import { DriftCheckOptions, ForeignRules, Installer, Peer, Port, SshBruteforceGuard, StatefulHost, Blocklist } from '../../lib';

const INTERVAL = 10;
/** The most a report may lag behind the change: one interval, the timer's 1 s accuracy, a margin for a loaded machine. */
const MAX_LAG_S = INTERVAL + 5;
/** 10,000 distinct host addresses, scattered (a bijection of 0..10006 onto itself), as feeds come. */
const PEERS = Array.from({ length: 10_000 }, (_, i) => {
  const a = (i * 7919) % 10007;
  return Peer.ipv4(`10.${Math.floor(a / 256)}.${a % 256}.7`);
});
const figures: Record<string, number | string> = {};

function web(stack: TerraformStack, key: string, t: Target, drift: DriftCheckOptions, extra: Port[] = []): StatefulHost {
  const host = new StatefulHost(stack, 'web', {
    allow: [Port.HTTPS, ...extra],
    installer: Installer.TERRAFORM_DATA,
    rollbackSeconds: 15,
    keepForeignRules: [ForeignRules.DOCKER, ForeignRules.FAIL2BAN],
    drift,
    connection: { host: t.v4, privateKey: key, timeout: '10s' },
  });
  new SshBruteforceGuard(host, 'ssh-guard', { port: Port.SSH });
  new Blocklist(host, 'feed', { peers: PEERS });
  return host;
}

/** Applies; a failure shows terraform's output. Returns the output. */
function applied(app: DeployApp): string {
  const r = app.apply([], false);
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`terraform apply failed:\n${out.split('\n').filter((l) => /cdktf-iptables|rror/.test(l)).join('\n')}`);
  return out;
}

interface Entry { readonly us: number; readonly priority: number; readonly text: string }

/** The drift check's journal entries (identifier cdktf-iptables) logged at or after `sinceUs` (the host's clock). */
function entries(t: Target, sinceUs: number): Entry[] {
  const out = t.exec('journalctl -q -t cdktf-iptables -o json --output-fields=MESSAGE,PRIORITY', { check: false }).stdout;
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l)).map((e) => ({
    us: Number(e.__REALTIME_TIMESTAMP),
    priority: Number(e.PRIORITY),
    text: Array.isArray(e.MESSAGE) ? Buffer.from(e.MESSAGE).toString() : String(e.MESSAGE),
  })).filter((e) => e.us >= sinceUs);
}

/** The host's clock, in microseconds. */
const nowUs = (t: Target) => Number(t.exec('date +%s%6N').stdout.trim());

/**
 * Waits until a check that started after this call has finished: the
 * service's last run started at another time than when this was called, and
 * ended after it started. (The timer having fired is not enough: its start
 * job can still be queued, and the service is `inactive` until it runs.)
 */
async function checkRan(t: Target): Promise<void> {
  const run = () => Object.fromEntries(t.exec('systemctl show -p ActiveState -p ExecMainStartTimestampMonotonic -p ExecMainExitTimestampMonotonic cdktf-iptables-drift.service')
    .stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const before = run().ExecMainStartTimestampMonotonic;
  await waitUntil('a drift check started after now to finish', () => {
    const r = run();
    return r.ExecMainStartTimestampMonotonic !== before && r.ActiveState === 'inactive'
      && Number(r.ExecMainExitTimestampMonotonic) >= Number(r.ExecMainStartTimestampMonotonic);
  }, (INTERVAL + 40) * 1000);
}

/** Waits until the journal after `after` has lines matching every pattern; returns them. */
async function reported(t: Target, after: number, patterns: RegExp[], timeoutMs = (INTERVAL + 20) * 1000): Promise<Entry[]> {
  let got: Entry[] = [];
  try {
    await waitUntil(`journal lines ${patterns.join(', ')}`, () => {
      got = entries(t, after);
      return patterns.every((re) => got.some((e) => re.test(e.text)));
    }, timeoutMs);
  } catch (e) {
    const all = t.exec('journalctl -t cdktf-iptables -o short-precise --no-pager | tail -n 60', { check: false }).stdout;
    throw new Error(`${(e as Error).message}; since ${after} the journal had:\n${got.map((g) => `${g.us} ${g.text}`).join('\n')}\nits last lines:\n${all}`);
  }
  return got;
}

/** A NoCloud seed in a host's (not yet booted) root. */
function seed(t: Target, instanceId: string, userData: string): void {
  const dir = path.join(t.work, 'root', 'var', 'lib', 'cloud', 'seed', 'nocloud');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'meta-data'), `instance-id: ${instanceId}\nlocal-hostname: ${instanceId}\n`);
  fs.writeFileSync(path.join(dir, 'user-data'), userData);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('drift: detected, reported, repaired (booted hosts)', () => {
  let fleet: Fleet;
  let cloudFleet: Fleet;
  let t: Target;
  let ci: Target;
  let app: DeployApp;

  beforeAll(async () => {
    fleet = new Fleet(TOOLS_LAYER, { prefix: 'cfd' });
    // the cloud-init layer of cloud-init.e2e.test.ts (same name and packages: the cached layer)
    cloudFleet = new Fleet({ name: 'cloudinit', packages: ['cloud-init', 'locales', 'ipset'], configure: path.join(__dirname, 'layer-cloudinit.sh') }, { prefix: 'cfe' });
    t = fleet.target();
    ci = cloudFleet.target();
    const stack = new TerraformStack(Testing.app(), 'drift');
    const host = new StatefulHost(stack, 'ci', { allow: [Port.SSH], drift: { intervalSeconds: INTERVAL } });
    new TerraformOutput(stack, 'user_data', { value: host.cloudInit() });
    seed(ci, 'cfd-ci', JSON.parse(Testing.synth(stack, true)).output.user_data.value);
    const t0 = Date.now();
    await Promise.all([fleet.bootAll([t]), cloudFleet.bootAll([ci])]);
    figures['boot of 2 hosts (parallel) s'] = (Date.now() - t0) / 1000;

    // other tools' rules before our first deploy: Docker's layout, a fail2ban ban
    t.exec('iptables-restore --noflush', { input: fs.readFileSync(path.join(__dirname, 'docker-layout.rules'), 'utf8') });
    t.exec("printf '[sshd]\\nbackend = systemd\\nbantime = 1h\\n' > /etc/fail2ban/jail.d/zz-e2e.conf && systemctl restart fail2ban");
    await waitUntil('fail2ban to answer', () => t.exec('fail2ban-client ping', { check: false }).status === 0, 30_000);
    t.exec('fail2ban-client set sshd banip 198.51.100.66');
    await waitUntil('the ban', () => t.exec('iptables-save').stdout.includes('-A f2b-sshd -s 198.51.100.66/32'), 20_000);
    app = new DeployApp(fleet, 'drift');
  }, 900_000);

  afterAll(() => {
    fleet?.destroy();
    cloudFleet?.destroy();
    const reports = path.join(__dirname, '..', '..', 'test-reports');
    fs.mkdirSync(reports, { recursive: true });
    fs.writeFileSync(path.join(reports, 'drift-e2e.json'), JSON.stringify(figures, null, 2));
    // eslint-disable-next-line no-console
    console.log(`drift e2e: ${JSON.stringify(figures, null, 2)}`);
  });

  test('deployed with a 10 s check: the stage says what the kept rules admit; no drift while nothing changes; the cost of a check', async () => {
    app.synth((s, key) => web(s, key, t, { intervalSeconds: INTERVAL }));
    const t0 = Date.now();
    const out = applied(app);
    figures['first apply s'] = (Date.now() - t0) / 1000;
    // what the kept rules admit, in the apply log
    expect(out).toMatch(/cdktf-iptables: kept DOCKER rules forward tcp 8080 from any to 172\.17\.0\.2:80, arriving not on docker0, to a local address \(nat DOCKER DNAT, via PREROUTING; accepted by filter DOCKER\)/);
    expect(out).toMatch(/cdktf-iptables: kept f2b-sshd rules refuse tcp 22 from 198\.51\.100\.66 to any \(f2b-sshd REJECT icmp-port-unreachable, via INPUT\)/);
    expect(out).toMatch(/cdktf-iptables: \(kept rules summarised from the live iptables-save text as they are/);
    // a first deploy has nothing to compare
    expect(out).not.toMatch(/cdktf-iptables: (no )?drift/);

    expect(t.exec('systemctl is-enabled cdktf-iptables-drift.timer; systemctl is-active cdktf-iptables-drift.timer').stdout.split('\n').filter(Boolean)).toEqual(['enabled', 'active']);
    expect(t.exec('systemctl show -P TimersMonotonic cdktf-iptables-drift.timer').stdout).toMatch(/OnUnitActiveUSec=10s/);
    // the kept rules and ours are live, and equal to the persisted files once theirs are left out
    const after = nowUs(t);
    await checkRan(t);
    expect(entries(t, after).map((e) => e.text)).toEqual([]);

    // the cost of one check (no drift), 10,000-entry set loaded: children's CPU time of 20 runs, 3 rounds
    expect(t.exec('ipset list -t bl-feed-v4').stdout).toMatch(/Number of entries: 10000/);
    const D = '/usr/local/lib/cdktf-iptables';
    // one run by hand: quiet, successful; the same comparison in report mode says so
    expect(t.exec(`/bin/sh ${D}/drift.sh check ${D}/drift.conf 2>&1; echo rc=$?`).stdout).toBe('rc=0\n');
    expect(t.exec(`/bin/sh ${D}/drift.sh report ${D}/drift.conf 2>&1`).stdout).toBe('cdktf-iptables: no drift: the live rules equal the persisted ones\n');
    const perRun: number[] = [];
    for (let round = 0; round < 3; round++) {
      const times = t.exec(`bash -c 'for i in $(seq 20); do /bin/sh ${D}/drift.sh check ${D}/drift.conf || exit 1; done; times'`, { timeoutMs: 120_000 }).stdout.trim().split('\n');
      const [user, sys] = times[times.length - 1].split(/\s+/).map((v) => { const m = /^(\d+)m([\d.]+)s$/.exec(v)!; return Number(m[1]) * 60 + Number(m[2]); });
      perRun.push(Math.round(((user + sys) / 20) * 1000 * 10) / 10);
    }
    figures['drift check CPU ms per run (10,000-entry set, v4+v6), 3 rounds of 20'] = perRun.join(', ');
    expect(entries(t, after).map((e) => e.text)).toEqual([]);
  }, 300_000);

  test('a hand-made change is in the journal within one interval, named with its lines; the next deploy prints it', async () => {
    const ours = t.exec("iptables-save -t filter | grep -e '--dport 443 ' | head -n 1").stdout.trim();
    expect(ours).toMatch(/--comment "drift\/web"/);
    const after = nowUs(t);
    const changedAt = after;
    t.exec([
      'iptables -I INPUT -s 203.0.113.99/32 -p tcp --dport 4444 -j ACCEPT',
      'ip6tables -I INPUT -s 2001:db8:99::1/128 -j ACCEPT',
      `iptables ${ours.replace(/^-A /, '-D ')}`,
      `ipset del bl-feed-v4 ${PEERS[1234].toString().replace(/\/32$/, '')}`,
    ].join(' && '));
    const lines = await reported(t, after, [
      /^drift: IPv4 rules differ from \/etc\/iptables\/iptables\.rules: 1 added, 1 removed, 0 changed/,
      /^drift: IPv4 filter INPUT rule 1 added \(no owner comment: not from the cdktf program\): -A INPUT -s 203\.0\.113\.99\/32 -p tcp -m tcp --dport 4444 -j ACCEPT$/,
      new RegExp(`^drift: IPv4 filter \\S+ rule \\d+ removed \\(owner drift/web\\): ${escape(ours)}$`),
      /^drift: IPv6 filter INPUT rule 1 added \(no owner comment: not from the cdktf program\): -A INPUT -s 2001:db8:99::1\/128 -j ACCEPT$/,
      new RegExp(`^drift: ipset set bl-feed-v4 \\(matched by the rule of drift/web/feed\\): 1 persisted but missing live \\(${escape(PEERS[1234].toString().replace(/\/32$/, ''))}\\), 0 live but not in /etc/iptables/ipsets$`),
    ]);
    const first = lines.find((e) => /^drift:/.test(e.text))!;
    figures['drift reported after the change s'] = (first.us - changedAt) / 1e6;
    expect((first.us - changedAt) / 1e6).toBeLessThanOrEqual(MAX_LAG_S);
    expect(lines.filter((e) => /^drift:/.test(e.text)).every((e) => e.priority === 4)).toBe(true);
    // the same drift is not logged again at every check (once an hour while it lasts)
    const logged = entries(t, after).length;
    await checkRan(t);
    expect(entries(t, after)).toHaveLength(logged);

    // the next deploy (repair on now) prints the drift its load replaces, before it loads
    app.synth((s, key) => web(s, key, t, { intervalSeconds: INTERVAL, repair: true }));
    const out = applied(app);
    expect(out).toMatch(/cdktf-iptables: drift: IPv4 filter INPUT rule 1 added \(no owner comment: not from the cdktf program\): -A INPUT -s 203\.0\.113\.99\/32 -p tcp -m tcp --dport 4444 -j ACCEPT/);
    expect(out).toContain(`removed (owner drift/web): ${ours}`);
    expect(out).toMatch(/cdktf-iptables: drift: ipset set bl-feed-v4 \(matched by the rule of drift\/web\/feed\): 1 persisted but missing live/);
    expect(out).toMatch(/cdktf-iptables: drift: this load replaces the live rules above with the new ones/);
    expect(out.indexOf('cdktf-iptables: drift:')).toBeLessThan(out.indexOf('new rules loaded'));
    expect(out).toMatch(/cdktf-iptables: kept f2b-sshd rules refuse tcp 22 from 198\.51\.100\.66/);
    expect(t.exec('iptables-save').stdout).not.toContain('203.0.113.99');
    expect(t.exec('iptables-save').stdout).toContain(ours);
  }, 300_000);

  test('with repair on, a hand-made rule is reported and removed again; the kept rules stay', async () => {
    const after = nowUs(t);
    t.exec('iptables -I INPUT -s 203.0.113.98/32 -j ACCEPT');
    await reported(t, after, [
      /^drift: IPv4 filter INPUT rule 1 added \(no owner comment: not from the cdktf program\): -A INPUT -s 203\.0\.113\.98\/32 -j ACCEPT$/,
      /^drift repaired: the persisted rules are live again/,
    ]);
    const live = t.exec('iptables-save').stdout;
    expect(live).not.toContain('203.0.113.98');
    expect(live).toContain('-A f2b-sshd -s 198.51.100.66/32');
    expect(live).toMatch(/^-A FORWARD -j DOCKER-USER$/m);
    expect(live).toContain('-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT');
  }, 120_000);

  test('drift: { enabled: false } removes the timer; the stage still compares', () => {
    app.synth((s, key) => web(s, key, t, { enabled: false }));
    const out = applied(app);
    expect(out).toMatch(/cdktf-iptables: no drift: the live rules equal the persisted ones/);
    expect(t.exec('systemctl cat cdktf-iptables-drift.timer', { check: false }).status).not.toBe(0);
    expect(t.exec('ls /usr/local/lib/cdktf-iptables', { check: false }).status).not.toBe(0);
  }, 120_000);

  test('a cloud-init host gets the same timer and reports a hand-made rule', async () => {
    ci.exec('cloud-init status --wait >/dev/null', { check: false, timeoutMs: 240_000 });
    expect(ci.exec('cloud-init status').stdout).toMatch(/status: done/);
    expect(ci.exec('systemctl is-enabled cdktf-iptables-drift.timer; systemctl is-active cdktf-iptables-drift.timer').stdout.split('\n').filter(Boolean)).toEqual(['enabled', 'active']);
    const quiet = nowUs(ci);
    await checkRan(ci);
    expect(entries(ci, quiet).map((e) => e.text)).toEqual([]);
    const after = nowUs(ci);
    const changedAt = after;
    ci.exec('iptables -I INPUT -s 203.0.113.97/32 -j ACCEPT');
    const lines = await reported(ci, after, [/^drift: IPv4 rules differ from \/etc\/iptables\/iptables\.rules: 1 added, 0 removed, 0 changed \(live iptables-save; counters aside\)$/, /^drift: IPv4 filter INPUT rule 1 added \(no owner comment: not from the cdktf program\): -A INPUT -s 203\.0\.113\.97\/32 -j ACCEPT$/]);
    figures['cloud-init host: drift reported after the change s'] = (lines[0].us - changedAt) / 1e6;
    expect((lines[0].us - changedAt) / 1e6).toBeLessThanOrEqual(MAX_LAG_S);
  }, 300_000);
});
