/**
 * ipset sets: address lists that cost one hash lookup per packet, whatever
 * their size. A set is declared by a part, matched by `-m set --match-set
 * NAME src`, and rendered as an `ipset restore` file.
 */
import { IpFamily } from './family';
import { SPELLING } from './spelling';
import { Cidr, compareCidrs, formatAddress, parseCidr } from '../values/prefix';

/** One `hash:net` set of one family. */
export interface IpSetSpec {
  /** Kernel-wide set name (see `ipsetNameProblem`). */
  readonly name: string;
  readonly family: IpFamily;
  /** Canonical CIDRs (`198.51.100.0/24`, `2001:db8::/32`, `/32` and `/128` for single addresses). */
  readonly entries: readonly string[];
  /** Construct path of the part that declared it. */
  readonly owner: string;
}

/** The iptables match of a set, as iptables-save prints it. */
export function matchSet(name: string): string[] {
  return ['-m', 'set', '--match-set', name, 'src'];
}

/** `maxelem` for a set of `n` entries: at least the ipset default, room to grow. */
export function maxElements(n: number): number {
  let m = 65536;
  while (m < n * 2) m *= 2;
  return m;
}

/** A set's entries parsed, in address order (then prefix length), duplicates once. */
export function sortedEntries(set: IpSetSpec): Cidr[] {
  const parsed = set.entries.map((e) => parseCidr(set.family, e)).sort(compareCidrs);
  return parsed.filter((c, i) => i === 0 || compareCidrs(parsed[i - 1], c) !== 0);
}

/**
 * The `ipset restore` text of sets, deterministic: sets by name, entries in
 * address order, duplicates once; single addresses without their prefix
 * length, as `ipset save` prints them.
 */
export function renderIpsets(sets: readonly IpSetSpec[], header?: string): string {
  const lines: string[] = header ? [`# ${header}`] : [];
  for (const s of [...sets].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const entries = sortedEntries(s);
    const full = SPELLING[s.family].addressBits;
    lines.push(`create ${s.name} hash:net family ${SPELLING[s.family].ipsetFamily} hashsize 1024 maxelem ${maxElements(entries.length)}`);
    for (const e of entries) lines.push(`add ${s.name} ${formatAddress(s.family, e.base)}${e.prefix === full ? '' : `/${e.prefix}`}`);
  }
  return lines.join('\n') + '\n';
}
