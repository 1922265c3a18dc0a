/**
 * A fleet deploy: one stack with one StatefulHost per booted host, applied by
 * terraform from the runner. Shared by the fleet e2e test and bench/fleet.ts.
 */
import * as fs from 'fs';
import { DeployApp } from './deploy-app';
import { Fleet, Target } from './target';
import { Installer, Port, StatefulHost } from '../../lib';
import { Run } from '../kernel/lab';

/** Synthesizes the fleet stack: host i opens SSH plus `extraPort` (change it to change every host). */
export function synthFleet(app: DeployApp, targets: readonly Target[], extraPort: number, rollbackSeconds: number): void {
  app.synth((stack, key) => {
    for (const t of targets) {
      new StatefulHost(stack, `web${t.index}`, {
        allow: [Port.SSH, Port.tcp(extraPort)],
        installer: Installer.TERRAFORM_DATA,
        rollbackSeconds,
        connection: { host: t.v4, privateKey: key, timeout: '20s' },
      });
    }
  });
}

/** sshd sessions each host has accepted since it booted (from its journal): diff two readings. */
export function sshSessions(targets: readonly Target[]): number[] {
  return targets.map((t) => Number(t.exec("journalctl -q -b -o cat _COMM=sshd 2>/dev/null | grep -c '^Accepted publickey' || true").stdout.trim()));
}

/** Per host: sessions now minus `before`. */
export function sessionsSince(targets: readonly Target[], before: readonly number[]): number[] {
  return sshSessions(targets).map((n, i) => n - before[i]);
}

/** Runs terraform with `args`, and the CPU seconds it and its children used (bash `times`). */
export function timedTerraform(fleet: Fleet, app: DeployApp, args: string[]): { run: Run; cpuSeconds: number; wallSeconds: number } {
  app.terraform(['version']); // init once, outside the measurement
  const t0 = Date.now();
  const script = `"$0" "$@" >"${app.outdir}/last.log" 2>&1; rc=$?; times; exit $rc`;
  const run = fleet.lab.exec(fleet.runner, 'bash', ['-c', script, process.env.TERRAFORM ?? '/usr/local/bin/terraform', `-chdir=${app.stackDir}`, ...args], {
    check: false, timeoutMs: 900_000, env: app.env(),
  });
  const wallSeconds = (Date.now() - t0) / 1000;
  const children = run.stdout.trim().split('\n').pop() ?? '';
  const secs = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
  return { run: { ...run, stdout: fs.readFileSync(`${app.outdir}/last.log`, 'utf8') }, cpuSeconds: secs, wallSeconds };
}
