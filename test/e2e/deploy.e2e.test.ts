/**
 * Deploy for real: `terraform apply` of examples/deployed-host against a
 * systemd-booted Debian host (systemd-nspawn in its own network namespace),
 * with the terraform_data installer (hashicorp/null cannot be downloaded
 * here; the null_resource path is checked to be equivalent in unit tests).
 *
 * Timings are printed (and written to test-reports/e2e-timings.json) for the
 * record; nothing asserts on them.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Fleet, Target, TARGET_V4, TARGET_V6 } from './target';
import { canUseNetns, sh } from '../kernel/lab';
import { tcpSyn } from '../kernel/probes';
import { normalizeRules } from '../kernel/rules-io';

const ROOT = path.join(__dirname, '..', '..');
const TERRAFORM = process.env.TERRAFORM ?? '/usr/local/bin/terraform';
const ROLLBACK = 10;
const timings: Record<string, number> = {};

function timed<T>(name: string, fn: () => T): T {
  const t0 = Date.now();
  const out = fn();
  timings[name] = (Date.now() - t0) / 1000;
  return out;
}

describe('deploy to a booted systemd host with terraform', () => {
  let fleet: Fleet;
  let target: Target;
  let app: string;
  let stackDir: string;

  const synth = (variant: 'base' | 'https' | 'closed', extra: Record<string, string> = {}) => {
    const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'ts-node'), ['--transpile-only', '--prefer-ts-exts', '--project', path.join(ROOT, 'tsconfig.dev.json'), path.join(ROOT, 'examples', 'deployed-host', 'main.ts')], {
      cwd: app,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, CFW_TARGET_HOST: TARGET_V4, CFW_INSTALLER: 'TERRAFORM_DATA', CFW_VARIANT: variant, CFW_ROLLBACK: String(ROLLBACK), CHECKPOINT_DISABLE: '1', ...extra },
    });
    if (r.status !== 0) throw new Error(`synth failed: ${r.stderr}${r.stdout}`);
  };
  // the key travels in the environment, never on a command line (command lines end up in error messages)
  const terraform = (args: string[], check = true) => target.lab.exec(target.runner, TERRAFORM, [`-chdir=${stackDir}`, ...args], {
    check,
    timeoutMs: 300_000,
    env: {
      ...process.env,
      TF_VAR_ssh_private_key: fs.readFileSync(fleet.keyFile, 'utf8'),
      CHECKPOINT_DISABLE: '1',
      TF_IN_AUTOMATION: '1',
      TF_CLI_CONFIG_FILE: '/dev/null',
      PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`,
    },
  });
  const rendered = (file: string) => fs.readFileSync(path.join(stackDir, 'firewall', 'web', file), 'utf8');
  const live = (cmd: string) => normalizeRules(target.exec(cmd).stdout);

  beforeAll(async () => {
    if (!canUseNetns()) throw new Error('the e2e test needs root, network namespaces and systemd-nspawn (see README)');
    fleet = new Fleet();
    target = fleet.target();
    app = path.join(fleet.work, 'app');
    fs.mkdirSync(app);
    stackDir = path.join(app, 'cdktf.out', 'stacks', 'deployed-host');
    timings['image (build or cache) s'] = fleet.imageSeconds;
    timings['target boot s'] = await target.boot();
  }, 900_000);

  afterAll(() => {
    fleet?.destroy();
    fs.mkdirSync(path.join(ROOT, 'test-reports'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'test-reports', 'e2e-timings.json'), JSON.stringify(timings, null, 2));
    // eslint-disable-next-line no-console
    console.log(`e2e timings (seconds): ${JSON.stringify(timings)}`);
  });

  test('first apply installs and loads the rules; units enabled and active; packets obey', () => {
    synth('base');
    timed('terraform init s', () => terraform(['init', '-input=false', '-no-color']));
    const out = timed('first apply s', () => terraform(['apply', '-auto-approve', '-input=false', '-no-color']));
    expect(out.stdout).toMatch(/Apply complete! Resources: 1 added/);
    expect(live('iptables-save')).toEqual(normalizeRules(rendered('iptables.rules')));
    expect(live('ip6tables-save')).toEqual(normalizeRules(rendered('ip6tables.rules')));
    expect(target.exec('systemctl is-enabled iptables.service ip6tables.service').stdout.split('\n').filter(Boolean)).toEqual(['enabled', 'enabled']);
    expect(target.exec('systemctl is-active iptables.service ip6tables.service').stdout.split('\n').filter(Boolean)).toEqual(['active', 'active']);
    expect(target.exec('cat /etc/iptables/iptables.rules').stdout).toBe(rendered('iptables.rules'));
    // real packets from the runner: SSH open, a closed port refused with RST, both families
    for (const addr of [TARGET_V4, TARGET_V6]) {
      expect(tcpSyn(target.lab, target.runner, addr, 22)).toMatchObject({ state: 'open' });
      expect(tcpSyn(target.lab, target.runner, addr, 8080)).toMatchObject({ state: 'closed', reason: 'reset' });
    }
    // the staging folder is gone and no rollback is pending
    expect(target.exec('ls /var/lib/cdktf-iptables').stdout.split('\n').filter(Boolean).sort()).toEqual(['confirmed', 'firewall.sh']);
    expect(target.exec('ls /run/cdktf-iptables').stdout.split('\n').filter(Boolean)).toEqual(['lock']);
    expect(target.exec("systemctl list-units --all --no-legend 'cdktf-iptables-rollback*'", { check: false }).stdout.trim()).toBe('');
  });

  test('an unchanged tree plans no change', () => {
    synth('base');
    const plan = timed('no-op plan s', () => terraform(['plan', '-detailed-exitcode', '-input=false', '-no-color'], false));
    expect(plan.status).toBe(0);
    expect(plan.stdout).toMatch(/No changes/);
  });

  test('after a reboot (fresh namespace) the units restore the rules', async () => {
    timings['reboot s'] = await target.reboot();
    expect(live('iptables-save')).toEqual(normalizeRules(rendered('iptables.rules')));
    expect(live('ip6tables-save')).toEqual(normalizeRules(rendered('ip6tables.rules')));
    expect(target.exec('systemctl is-active iptables.service ip6tables.service').stdout.split('\n').filter(Boolean)).toEqual(['active', 'active']);
    expect(tcpSyn(target.lab, target.runner, TARGET_V4, 8080)).toMatchObject({ state: 'closed', reason: 'reset' });
  }, 180_000);

  test('a changed tree re-applies and updates the live rules', () => {
    synth('https');
    const plan = terraform(['plan', '-detailed-exitcode', '-input=false', '-no-color'], false);
    expect(plan.status).toBe(2);
    const out = timed('re-apply s', () => terraform(['apply', '-auto-approve', '-input=false', '-no-color']));
    expect(out.stdout).toMatch(/Apply complete! Resources: 1 added, 0 changed, 1 destroyed/);
    expect(live('iptables-save')).toMatch(/^-A TCP -p tcp -m tcp --dport 443 -m comment --comment "[^"]+" -j ACCEPT$/m);
    expect(live('iptables-save')).toEqual(normalizeRules(rendered('iptables.rules')));
    expect(target.exec('cat /etc/iptables/ip6tables.rules').stdout).toBe(rendered('ip6tables.rules'));
  });

  test('a tree that shuts SSH out fails the apply, says it was rolled back, and SSH works again on the old rules', () => {
    const before = live('iptables-save');
    synth('closed');
    const t0 = Date.now();
    const out = terraform(['apply', '-auto-approve', '-input=false', '-no-color'], false);
    timings['rollback apply (fails) s'] = (Date.now() - t0) / 1000;
    expect(out.status).not.toBe(0);
    expect(`${out.stdout}${out.stderr}`).toMatch(/cannot open a new connection to 198\.51\.100\.10:22 through the new rules/);
    expect(`${out.stdout}${out.stderr}`).toMatch(/ROLLED BACK: 198\.51\.100\.10:22 answers again on the previous rules/);
    expect(target.sshPortAnswers()).toBe(true);
    expect(live('iptables-save')).toEqual(before);
    expect(target.exec('cat /run/cdktf-iptables/rolled-back').stdout).toMatch(/^[0-9a-f]{20} \d{4}-\d\d-\d\dT/);
    // the persisted files are still the last confirmed ones
    expect(target.exec('grep -c "dport 443" /etc/iptables/iptables.rules').stdout.trim()).toBe('1');
    expect(target.exec('grep -c "dport 22 " /etc/iptables/iptables.rules').stdout.trim()).toBe('1');
  }, 240_000);

  test('a running ufw that is off (stock Ubuntu) is no conflict; an enabled one is a clear error that changes nothing; takeOver: true stops, disables and masks it', () => {
    target.standInUfw(false);
    synth('base');
    const off = terraform(['apply', '-auto-approve', '-input=false', '-no-color'], false);
    expect(`${off.stdout}${off.stderr}`).not.toMatch(/would fight over the rules/);
    expect(off.status).toBe(0);
    target.standInUfw(true);
    const before = live('iptables-save');
    synth('https');
    const refused = terraform(['apply', '-auto-approve', '-input=false', '-no-color'], false);
    expect(refused.status).not.toBe(0);
    expect(`${refused.stdout}${refused.stderr}`).toMatch(/ufw is active or enabled on this host and would fight over the rules; stop and disable it, or set takeOver: true/);
    expect(live('iptables-save')).toEqual(before);
    synth('https', { CFW_TAKE_OVER: 'yes' });
    const out = terraform(['apply', '-auto-approve', '-input=false', '-no-color']);
    expect(out.stdout).toMatch(/stopping ufw \(takeOver\)/);
    expect(target.exec('systemctl is-enabled ufw.service', { check: false }).stdout.trim()).toBe('masked');
    expect(target.exec('systemctl is-active ufw.service', { check: false }).stdout.trim()).toBe('inactive');
    expect(live('iptables-save')).toEqual(normalizeRules(rendered('iptables.rules')));
    expect(out.stdout).toMatch(/loading with iptables v1\.8\.9 \(nf_tables\)/);
  }, 240_000);

  test('the target had no other way in: nothing outside our namespaces was touched', () => {
    // the runner namespace has no default route: test traffic cannot leave
    expect(sh('ip', ['netns', 'exec', target.runner, 'ip', 'route', 'show', 'default']).stdout.trim()).toBe('');
  });
});
