/** Removes the run's temp folder (see global-setup.ts), unmounting anything a crashed test left mounted there. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';

export default function globalTeardown(): void {
  const dir = process.env.CFW_TEST_RUN_TMPDIR;
  if (!dir || !dir.includes('cfw-test-run-')) return;
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m && m.startsWith(`${dir}/`));
  for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
  fs.rmSync(dir, { recursive: true, force: true });
}
