/**
 * The tests that run the library as a user gets it (the packed tarball, the
 * examples) use the compiled JavaScript under lib/. Compiled code older than a
 * source would test yesterday's library, so the run compiles first when needed.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');

/** The newest modification time of the files under `dir` ending in `ext` (declarations left out). */
function newest(dir: string, ext: string): number {
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return Math.max(max, newest(p, ext));
    return e.name.endsWith(ext) && !e.name.endsWith('.d.ts') ? Math.max(max, fs.statSync(p).mtimeMs) : max;
  }, 0);
}

/** Runs the jsii compiler when lib/ has no compiled code or a source is newer than it. */
export function ensureCompiled(): void {
  const lib = path.join(ROOT, 'lib');
  if (fs.existsSync(path.join(lib, 'index.js')) && newest(lib, '.ts') <= newest(lib, '.js')) return;
  const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'jsii'), ['--silence-warnings=reserved-word'], {
    cwd: ROOT, encoding: 'utf8', timeout: 600_000, env: { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
  });
  if (r.status !== 0) throw new Error(`jsii compile failed: ${r.stdout}${r.stderr}${r.error?.message ?? ''}`);
}
