/**
 * Fleet deploy figures: boots N hosts (overlay root file systems over one
 * cached image), one stack with N hosts (terraform_data, no guard), and prints
 * per N: first apply, no-op plan, changed re-apply (default parallelism and
 * -parallelism=1), the runner's CPU seconds per host, and SSH sessions per host.
 *
 *   npx ts-node --transpile-only --prefer-ts-exts --project tsconfig.dev.json bench/fleet.ts [N ...]
 *
 * Needs root (namespaces, overlay mounts, systemd-nspawn). Default N: 1 5 10 20.
 */
import { DeployApp } from '../test/e2e/deploy-app';
import { sessionsSince, sshSessions, synthFleet, timedTerraform } from '../test/e2e/fleet-stack';
import { Fleet } from '../test/e2e/target';

const ROLLBACK = 10;

async function measure(n: number): Promise<Record<string, string>> {
  const fleet = new Fleet();
  try {
    const hosts = Array.from({ length: n }, () => fleet.target());
    const bootSeconds = await fleet.bootAll(hosts);
    const row: Record<string, string> = { 'N': String(n), 'boot s': bootSeconds.toFixed(1) };
    let port = 8000;
    for (const parallelism of [[], ['-parallelism=1']]) {
      const tag = parallelism.length ? ' p=1' : '';
      const app = new DeployApp(fleet, `fleet${parallelism.length}`);
      synthFleet(app, hosts, port++, ROLLBACK);
      let before = sshSessions(hosts);
      const first = timedTerraform(fleet, app, ['apply', '-auto-approve', '-input=false', '-no-color', ...parallelism]);
      if (first.run.status !== 0) throw new Error(`first apply failed:\n${first.run.stdout}`);
      const sessions = sessionsSince(hosts, before);
      const noop = timedTerraform(fleet, app, ['plan', '-detailed-exitcode', '-input=false', '-no-color']);
      if (noop.run.status !== 0) throw new Error(`no-op plan is not empty:\n${noop.run.stdout}`);
      synthFleet(app, hosts, port++, ROLLBACK);
      before = sshSessions(hosts);
      const changed = timedTerraform(fleet, app, ['apply', '-auto-approve', '-input=false', '-no-color', ...parallelism]);
      if (changed.run.status !== 0) throw new Error(`changed re-apply failed:\n${changed.run.stdout}`);
      const rolledBack = hosts.filter((h) => h.exec('test -e /run/cdktf-iptables/rolled-back', { check: false }).status === 0).length;
      Object.assign(row, {
        [`first apply s${tag}`]: first.wallSeconds.toFixed(2),
        [`no-op plan s${tag}`]: noop.wallSeconds.toFixed(2),
        [`re-apply s${tag}`]: changed.wallSeconds.toFixed(2),
        [`runner CPU s/host${tag}`]: (first.cpuSeconds / n).toFixed(3),
        [`re-apply CPU s/host${tag}`]: (changed.cpuSeconds / n).toFixed(3),
        [`SSH sessions/host${tag}`]: `${Math.min(...sessions)}..${Math.max(...sessions)}`,
        [`re-apply SSH/host${tag}`]: (() => { const s = sessionsSince(hosts, before); return `${Math.min(...s)}..${Math.max(...s)}`; })(),
        [`rolled back${tag}`]: String(rolledBack),
      });
    }
    return row;
  } finally {
    fleet.destroy();
  }
}

async function main(): Promise<void> {
  const ns = process.argv.slice(2).map(Number).filter((n) => n > 0);
  const rows: Record<string, string>[] = [];
  for (const n of ns.length ? ns : [1, 5, 10, 20]) {
    rows.push(await measure(n));
    // eslint-disable-next-line no-console
    console.log(JSON.stringify(rows[rows.length - 1]));
  }
  const keys = Object.keys(rows[0]);
  // eslint-disable-next-line no-console
  console.log(['', ...keys.map((k) => k.padEnd(0))].join('| ') + ' |');
  for (const r of rows) {
    // eslint-disable-next-line no-console
    console.log(['', ...keys.map((k) => r[k])].join('| ') + ' |');
  }
}

main().catch((e) => {
  // eslint-disable-next-line no-console
  console.error(e);
  process.exit(1);
});
