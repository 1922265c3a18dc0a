/**
 * The deploy lifecycle matrix: real `terraform apply` (terraform_data) against
 * booted systemd hosts, each case on a host in the state the case names.
 * Checks run inside the hosts with nsenter, not SSH, so they never count
 * against a brute-force guard. Timings are printed, never asserted.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DataResource, TerraformStack } from 'cdktf';
import { DeployApp } from './deploy-app';
import { Fleet, RUNNER_V4, Target, TOOLS_LAYER, waitUntil } from './target';
import { Installer, NatGateway, Port, SshBruteforceGuard, StatefulHost } from '../../lib';
import { normalizeRules } from '../kernel/rules-io';

const timings: Record<string, number> = {};
const ROLLBACK = 6;

interface Tree {
  readonly allow?: Port[];
  readonly guard?: boolean;
  readonly nat?: boolean;
  readonly rollbackSeconds?: number;
  readonly takeOver?: boolean;
  readonly user?: string;
}

/** The host of every case: its tree, deployed over SSH to `target`. */
function web(stack: TerraformStack, key: string, target: Target, tree: Tree): StatefulHost {
  const host = new StatefulHost(stack, 'web', {
    allow: tree.allow ?? [Port.SSH],
    installer: Installer.TERRAFORM_DATA,
    rollbackSeconds: tree.rollbackSeconds ?? ROLLBACK,
    takeOver: tree.takeOver,
    connection: { host: target.v4, privateKey: key, timeout: '10s', user: tree.user },
  });
  if (tree.guard) new SshBruteforceGuard(host, 'ssh-guard');
  if (tree.nat) new NatGateway(host, 'nat', { wan: 'eth0', lans: [{ iface: 'eth1', cidr: '192.168.7.0/24' }], portForwards: [{ port: Port.tcp(8080), to: '192.168.7.5', toPort: 80 }] });
  return host;
}

async function timed<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    timings[name] = (Date.now() - t0) / 1000;
  }
}


/**
 * Rules normalized for comparing; a table with no rules and only ACCEPT
 * policies is the same as no table (a rollback leaves such empty tables where
 * the unconfirmed rules created them: nf_tables has no "remove table" in
 * iptables-restore).
 */
const norm = (text: string) => normalizeRules(text).split('\nCOMMIT').map((t) => t.replace(/^\n/, ''))
  .filter((t) => /^-A /m.test(t) || /^:\S+ DROP /m.test(t)).map((t) => `${t}\nCOMMIT`).join('\n');
const live = (t: Target, cmd = 'iptables-save') => norm(t.exec(cmd).stdout);
/**
 * Starts an apply and kills terraform between the load and the confirm: its
 * probe step is held until the kill (see DeployApp.applyKilledBeforeConfirm),
 * so however fast the host stages, probes and confirms, the kill lands after
 * the stage said the new rules are loaded and before any confirm.
 */
async function killedAfterLoad(app: DeployApp): Promise<void> {
  const out = await app.applyKilledBeforeConfirm();
  expect(out).toMatch(/new rules loaded; they are rolled back in \d+s unless confirmed/);
  expect(out).not.toMatch(/rules confirmed/);
}

/** No rule anywhere and every policy ACCEPT: an unfiltered host. */
const unfiltered = (text: string) => !/^-A /m.test(text) && !/^:\S+ (DROP|REJECT) /m.test(text);

describe('deploy lifecycle on booted hosts', () => {
  let fleet: Fleet;
  let a: Target; // fresh, then filter-only, then NAT rollback
  let b: Target; // guarded redeploys
  let c: Target; // the replacement instance
  let d: Target; // takeOver + reboot inside the window

  beforeAll(async () => {
    fleet = new Fleet(TOOLS_LAYER);
    timings['image (build or cache) s'] = fleet.imageSeconds;
    [a, b, c, d] = [fleet.target(), fleet.target(), fleet.target(), fleet.target()];
    timings['boot of 4 hosts s'] = await fleet.bootAll([a, b, c, d]);
  }, 900_000);

  afterAll(() => {
    fleet?.destroy();
    fs.mkdirSync(path.join(__dirname, '..', '..', 'test-reports'), { recursive: true });
    fs.writeFileSync(path.join(__dirname, '..', '..', 'test-reports', 'lifecycle-timings.json'), JSON.stringify(timings, null, 2));
    // eslint-disable-next-line no-console
    console.log(`lifecycle timings (seconds): ${JSON.stringify(timings)}`);
  });

  test('1. fresh host + a tree that closes SSH: the apply fails, SSH answers again, the host is unfiltered as before', async () => {
    expect(unfiltered(live(a))).toBe(true);
    const app = new DeployApp(fleet, 'case1');
    app.synth((s, key) => web(s, key, a, { allow: [Port.HTTPS] }));
    const out = await timed('1 fresh host, closing tree (fails) s', () => app.apply([], false));
    expect(out.status).not.toBe(0);
    expect(`${out.stdout}${out.stderr}`).toMatch(/ROLLED BACK: 198\.51\.100\.10:22 answers again on the previous rules/);
    expect(a.sshPortAnswers()).toBe(true);
    expect(unfiltered(live(a))).toBe(true);
    expect(unfiltered(live(a, 'ip6tables-save'))).toBe(true);
    expect(a.exec('cut -d" " -f1 /run/cdktf-iptables/rolled-back').stdout.trim()).toMatch(/^[0-9a-f]{20}$/);
  }, 120_000);

  test('2. filter-only host + a tree that adds a NatGateway and closes SSH: nat gets none of it, filter is the old one', async () => {
    const app = new DeployApp(fleet, 'case2');
    app.synth((s, key) => web(s, key, a, {}));
    await timed('2a first deploy (filter only) s', () => app.apply());
    expect(live(a)).toEqual(norm(app.file('web', 'iptables.rules')));
    expect(a.exec('iptables-save -t nat').stdout).not.toMatch(/^-A /m);
    const filterBefore = live(a);
    app.synth((s, key) => web(s, key, a, { allow: [Port.HTTPS], nat: true }));
    expect(app.file('web', 'iptables.rules')).toMatch(/^\*nat$/m);
    const out = await timed('2b NAT + closing tree (fails) s', () => app.apply([], false));
    expect(out.status).not.toBe(0);
    expect(`${out.stdout}${out.stderr}`).toMatch(/ROLLED BACK/);
    expect(a.exec('iptables-save -t nat').stdout).not.toMatch(/^-A /m);
    expect(a.exec('ip6tables-save -t nat').stdout).not.toMatch(/^-A /m);
    expect(live(a)).toEqual(filterBefore);
    expect(a.exec('sysctl -n net.ipv4.ip_forward').stdout.trim()).toBe('0');
  }, 120_000);

  test('3. a default SshBruteforceGuard: five changed deploys in a row succeed; another client still has its 4th connection in 10 s dropped', async () => {
    const app = new DeployApp(fleet, 'case3');
    const extra = [Port.tcp(8001), Port.tcp(8002), Port.tcp(8003), Port.tcp(8004), Port.tcp(8005), Port.tcp(8006)];
    for (let i = 0; i < 6; i++) {
      app.synth((s, key) => web(s, key, b, { guard: true, allow: [Port.HTTPS, extra[i]] }));
      const out = await timed(i === 0 ? '3 first guarded deploy s' : `3 changed redeploy ${i} of a guarded host s`, () => app.apply([], false));
      expect({ deploy: i, status: out.status, err: out.status === 0 ? '' : `${out.stdout}${out.stderr}` }).toEqual({ deploy: i, status: 0, err: '' });
      expect(live(b)).toEqual(norm(app.file('web', 'iptables.rules')));
    }
    expect(live(b)).toContain('-A IN_SSH -m recent --rcheck --seconds');
    // the deploying client left no trace in the guard's list, nor in the pass list
    expect(b.exec('cat /proc/net/xt_recent/sshbf /proc/net/xt_recent/cfwdeploy').stdout).not.toContain(`src=${RUNNER_V4} `);
    // another client: three new connections inside 10 s pass, the 4th is dropped
    const other = fleet.lab.netns('other');
    fleet.lab.link(fleet.runner, 'vother', [], other, 'eth0', ['198.51.100.200/24']);
    fleet.lab.exec(fleet.runner, 'ip', ['link', 'set', 'vother', 'master', 'br0']);
    const tries = [1, 2, 3, 4].map(() => fleet.lab.probe(other, 'nc', ['-z', '-w', '2', b.v4, '22']).status);
    expect(tries).toEqual([0, 0, 0, 1]);
    // and the runner itself can still deploy right after
    app.synth((s, key) => web(s, key, b, { guard: true, allow: [Port.HTTPS] }));
    app.apply();
  }, 300_000);

  test('4. a replaced instance: the same tree with connection.host moved to a fresh host gets the rules', async () => {
    const app = new DeployApp(fleet, 'case4');
    app.synth((s, key) => web(s, key, b, { guard: true, allow: [Port.HTTPS] }));
    await timed('4a deploy to the first instance s', () => app.apply());
    expect(unfiltered(live(c))).toBe(true);
    app.synth((s, key) => web(s, key, c, { guard: true, allow: [Port.HTTPS] }));
    const plan = app.terraform(['plan', '-detailed-exitcode', '-input=false', '-no-color'], false);
    expect(plan.status).toBe(2);
    await timed('4b deploy to the replacement s', () => app.apply());
    expect(live(c)).toEqual(norm(app.file('web', 'iptables.rules')));
    expect(c.exec('systemctl is-enabled iptables.service ip6tables.service').stdout.split('\n').filter(Boolean)).toEqual(['enabled', 'enabled']);
  }, 180_000);

  test('5. dependsOn: [host.deployment] runs a downstream resource after the confirm', async () => {
    const app = new DeployApp(fleet, 'case5');
    const marker = path.join(fleet.work, 'downstream-ran');
    app.synth((s, key) => {
      const host = web(s, key, c, { allow: [Port.SSH, Port.HTTP] });
      new DataResource(s, 'downstream', {
        dependsOn: [host.deployment!],
        provisioners: [{ type: 'local-exec', command: `echo ran > ${marker}` }],
      });
    });
    const tf = JSON.parse(fs.readFileSync(path.join(app.stackDir, 'cdk.tf.json'), 'utf8'));
    const downstream = Object.values<any>(tf.resource.terraform_data).find((r) => r.provisioner?.[0]?.['local-exec']);
    expect(downstream.depends_on).toEqual([expect.stringMatching(/^terraform_data\.web_deploy_firewall_[0-9A-F]+$/)]);
    const out = app.apply();
    const lines = out.stdout.split('\n');
    const deployDone = lines.findIndex((l) => /web_deploy_firewall_\w+: Creation complete/.test(l));
    const downstreamStarts = lines.findIndex((l) => /downstream\w*: Creating\.\.\./.test(l));
    expect(deployDone).toBeGreaterThan(-1);
    expect(downstreamStarts).toBeGreaterThan(deployDone);
    expect(lines.slice(0, downstreamStarts).join('\n')).toContain('rules confirmed, persisted and enabled');
    expect(fs.readFileSync(marker, 'utf8')).toBe('ran\n');
  }, 120_000);

  test('6. terraform killed between load and confirm: the host returns to its previous rules by itself; the next apply succeeds', async () => {
    const app = new DeployApp(fleet, 'case6');
    app.synth((s, key) => web(s, key, c, { allow: [Port.SSH, Port.HTTP] }));
    app.apply();
    const before = live(c);
    app.synth((s, key) => web(s, key, c, { allow: [Port.SSH, Port.tcp(8443)], rollbackSeconds: 8 }));
    await killedAfterLoad(app);
    expect(c.exec('iptables-save').stdout).toContain('--dport 8443');
    await timed('6 rollback after a killed apply s', () => waitUntil('the rollback', () => c.exec('test -f /run/cdktf-iptables/rolled-back', { check: false }).status === 0, 30_000));
    expect(live(c)).toEqual(before);
    const again = await timed('6 next apply s', () => app.apply([], false));
    expect(`${again.stdout}${again.stderr}`).not.toMatch(/Error/);
    expect(again.status).toBe(0);
    expect(live(c)).toContain('--dport 8443');
  }, 180_000);

  test('7. ufw active + takeOver + a tree that closes SSH: after the rollback ufw is active again', async () => {
    d.standInUfw(true);
    const app = new DeployApp(fleet, 'case7');
    app.synth((s, key) => web(s, key, d, { allow: [Port.HTTPS], takeOver: true }));
    const out = await timed('7 takeOver + closing tree (fails) s', () => app.apply([], false));
    expect(out.status).not.toBe(0);
    expect(`${out.stdout}${out.stderr}`).toMatch(/stopping ufw \(takeOver\)/);
    expect(`${out.stdout}${out.stderr}`).toMatch(/ROLLED BACK/);
    await waitUntil('ufw to be active again', () => d.exec('systemctl is-active ufw.service', { check: false }).stdout.trim() === 'active', 20_000);
    expect(d.exec('systemctl is-enabled ufw.service', { check: false }).stdout.trim()).toBe('enabled');
    expect(unfiltered(live(d))).toBe(true);
    d.exec('systemctl disable --now --quiet ufw.service');
  }, 120_000);

  test('8. a reboot inside the rollback window: the host boots on its previous persisted rules', async () => {
    const app = new DeployApp(fleet, 'case8');
    app.synth((s, key) => web(s, key, d, { allow: [Port.SSH, Port.HTTP] }));
    app.apply();
    const persisted = norm(app.file('web', 'iptables.rules'));
    app.synth((s, key) => web(s, key, d, { allow: [Port.HTTPS], rollbackSeconds: 300 }));
    await killedAfterLoad(app);
    expect(d.exec('iptables-save').stdout).toContain('--dport 443');
    await timed('8 reboot inside the window s', () => d.reboot());
    expect(live(d)).toEqual(persisted);
    expect(d.exec('test -e /run/cdktf-iptables/armed', { check: false }).status).not.toBe(0);
    // the next apply of a good tree succeeds
    app.synth((s, key) => web(s, key, d, { allow: [Port.SSH, Port.HTTPS] }));
    app.apply();
    expect(live(d)).toContain('--dport 443');
  }, 240_000);

  test('9. a non-root user with sudo deploys: the script lands in its home and is removed, staging is root-only', async () => {
    c.exec("useradd -m -s /bin/sh ops && install -d -m 700 -o ops -g ops /home/ops/.ssh && install -m 600 -o ops -g ops /root/.ssh/authorized_keys /home/ops/.ssh/ && echo 'ops ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/ops && chmod 440 /etc/sudoers.d/ops");
    const app = new DeployApp(fleet, 'case9');
    app.synth((s, key) => web(s, key, c, { allow: [Port.SSH, Port.tcp(8009)], user: 'ops' }));
    const out = await timed('9 deploy as a sudo user s', () => app.apply([], false));
    expect({ status: out.status, out: out.status === 0 ? '' : out.stdout + out.stderr }).toEqual({ status: 0, out: '' });
    expect(live(c)).toContain('--dport 8009');
    // Terraform leaves an empty file where each script was; none keeps content or stays writable by others
    expect(c.exec("find /home/ops -name '.cdktf-iptables-*' \\( -size +0 -o -perm -o+w \\)").stdout).toBe('');
    expect(c.exec('ls -A /tmp').stdout).not.toMatch(/terraform_|cdktf-iptables/);
    expect(c.exec("stat -c '%a %U' /var/lib/cdktf-iptables /var/lib/cdktf-iptables/firewall.sh /run/cdktf-iptables").stdout.split('\n').filter(Boolean)).toEqual(['700 root', '700 root', '700 root']);
  }, 120_000);
});
