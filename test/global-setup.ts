/**
 * Every temp folder a test run makes (ours, cdktf's Testing.app() outdirs,
 * terraform's uploads) goes under one folder of this run: TMPDIR points there
 * for the test workers, and global-teardown.ts removes it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export default function globalSetup(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-test-run-'));
  process.env.CFW_TEST_RUN_TMPDIR = dir;
  process.env.TMPDIR = dir;
}
