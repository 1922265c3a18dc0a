/** Loading rendered files into a namespace and reading the kernel's view back. */
import { Lab } from './lab';

/** Rule text without comments, with counters zeroed, tables in name order: for comparing files. */
export function normalizeRules(text: string): string {
  const tables: string[] = [];
  let current: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const zeroed = line.replace(/\[\d+:\d+\]$/, '[0:0]');
    current.push(zeroed);
    if (line === 'COMMIT') {
      tables.push(current.join('\n'));
      current = [];
    }
  }
  return tables.sort().join('\n');
}

/** What the kernel holds for `family` in `ns`, as iptables-save prints it. */
export function savedRules(lab: Lab, ns: string, family: 'v4' | 'v6'): string {
  return lab.exec(ns, family === 'v4' ? 'iptables-save' : 'ip6tables-save', []).stdout;
}

/**
 * Packet counter of the first rule in `ns` whose iptables-save text contains
 * every one of `parts` (read with `iptables-save -c`).
 */
export function packets(lab: Lab, ns: string, family: 'v4' | 'v6', ...parts: string[]): number {
  const out = lab.exec(ns, family === 'v4' ? 'iptables-save' : 'ip6tables-save', ['-c']).stdout;
  // owners' comments are not part of what a rule does
  const line = out.split('\n').find((l) => l.startsWith('[') && parts.every((p) => stripComments(l).includes(p)));
  if (!line) throw new Error(`no rule with ${parts.join(' & ')} in ${family} rules:\n${out}`);
  return Number(line.match(/^\[(\d+):/)![1]);
}

/** A rule line without its `-m comment --comment ...` match. */
export function stripComments(line: string): string {
  return line.replace(/ -m comment --comment ("(?:[^"\\]|\\.)*"|\S+)/g, '');
}
