/**
 * ipset sets: address lists that cost one hash lookup per packet, whatever
 * their size. A set is declared in a ruleset, matched by `-m set
 * --match-set NAME src`, and rendered as an `ipset restore` file.
 */
import { IpFamily } from './family';
import { byCodePoint } from '../rules/ruleset';

/** One `hash:net` set of one family. */
export interface IpSetSpec {
  /** Kernel-wide set name (at most {@link IPSET_NAME_MAX} characters). */
  readonly name: string;
  readonly family: IpFamily;
  /** Canonical CIDRs (`198.51.100.0/24`, `2001:db8::/32`, `/32` and `/128` for single addresses). */
  readonly entries: readonly string[];
  /** Construct path of the part that declared it. */
  readonly owner: string;
}

/**
 * Longest set name we use: the kernel allows 31 characters; a deploy loads
 * new contents under `NAME_n` and swaps them in.
 */
export const IPSET_NAME_MAX = 29;

/** Set names: letters, digits, `_` and `-`, starting with a letter. */
export function ipsetNameProblem(name: string): string | undefined {
  return /^[A-Za-z][A-Za-z0-9_-]*$/.test(name) && name.length <= IPSET_NAME_MAX
    ? undefined
    : `set name ${JSON.stringify(name)} must be 1 to ${IPSET_NAME_MAX} letters, digits, _ or -, starting with a letter`;
}

/** The iptables match of a set, as iptables-save prints it. */
export function matchSet(name: string): string[] {
  return ['-m', 'set', '--match-set', name, 'src'];
}

/** An entry as `ipset save` prints it: single addresses without their prefix length. */
export function ipsetEntry(cidr: string): string {
  return cidr.includes(':') ? cidr.replace(/\/128$/, '') : cidr.replace(/\/32$/, '');
}

/** `maxelem` for a set of `n` entries: at least the ipset default, room to grow. */
export function maxElements(n: number): number {
  let m = 65536;
  while (m < n * 2) m *= 2;
  return m;
}

/**
 * The `ipset restore` text of sets, deterministic: sets by name, entries in
 * address order, duplicates once.
 */
export function renderIpsets(sets: readonly IpSetSpec[], header?: string): string {
  const lines: string[] = header ? [`# ${header}`] : [];
  for (const s of [...sets].sort((a, b) => byCodePoint(a.name, b.name))) {
    const entries = [...new Set(s.entries.map(ipsetEntry))].sort(compareAddresses);
    lines.push(`create ${s.name} hash:net family ${s.family === IpFamily.V4 ? 'inet' : 'inet6'} hashsize 1024 maxelem ${maxElements(entries.length)}`);
    for (const e of entries) lines.push(`add ${s.name} ${e}`);
  }
  return lines.join('\n') + '\n';
}

/** Address order (numeric per group), then prefix length. */
function compareAddresses(a: string, b: string): number {
  const key = (x: string): number[] => {
    const [addr, len] = x.split('/');
    const parts = addr.includes(':') ? expand6(addr) : addr.split('.').map(Number);
    return [...parts, len === undefined ? 999 : Number(len)];
  };
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) if (ka[i] !== kb[i]) return ka[i] - kb[i];
  return ka.length - kb.length;
}

function expand6(addr: string): number[] {
  const [head, tail] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const mid = addr.includes('::') ? new Array(8 - h.length - t.length).fill('0') : [];
  return [...h, ...mid, ...t].map((g) => parseInt(g, 16));
}
