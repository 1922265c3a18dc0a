/**
 * Builders for match arguments, in the exact spelling iptables-save prints,
 * so rendered files and the kernel's view compare equal.
 */
import * as ipaddr from 'ipaddr.js';
import { IpFamily } from './family';
import { objectNameProblem, RECENT_MAX_HITS, wholeNumberProblem } from './kernel-limits';
import { ValueProblem } from '../private/errors';

export { RECENT_MAX_HITS, wholeNumberProblem };

/**
 * How per-source limits group sources: the prefix length per family. IPv6
 * defaults to /64 (what one customer holds: counting every /128 apart lets an
 * attacker rotate addresses around any limit), IPv4 to /32.
 */
export interface SourcePrefix {
  readonly [IpFamily.V4]: number;
  readonly [IpFamily.V6]: number;
}

/** The default grouping: /32 for IPv4, /64 for IPv6. */
export const DEFAULT_SOURCE_PREFIX: SourcePrefix = { [IpFamily.V4]: 32, [IpFamily.V6]: 64 };

/** Every address on its own: /32 and /128 (lists that tools outside the kernel write full addresses to). */
export const FULL_PREFIX: SourcePrefix = { [IpFamily.V4]: 32, [IpFamily.V6]: 128 };

/** xt_recent's `--mask` for a prefix length, as iptables-save prints it (`255.255.255.0`, `ffff:ffff:ffff:ffff::`). */
export function recentMask(family: IpFamily, prefixLength: number): string {
  return family === IpFamily.V4
    ? ipaddr.IPv4.subnetMaskFromPrefixLength(prefixLength).toString()
    : ipaddr.IPv6.subnetMaskFromPrefixLength(prefixLength).toString();
}

/**
 * The xt_recent list a family uses. IPv6 lists get a `6` suffix: when an IPv4
 * and an IPv6 rule share one list name, the kernel applies the IPv4 mask to
 * IPv6 sources, so every address of a /32 shares one entry (one scanner would
 * trap its whole /32). The kernel tests found this; separate lists avoid it.
 */
export function recentList(family: IpFamily, list: string): string {
  return family === IpFamily.V6 ? `${list}6` : list;
}

/** `-m recent --set`: remember the source. */
export function recentSet(family: IpFamily, list: string, prefix: SourcePrefix = DEFAULT_SOURCE_PREFIX): string[] {
  return ['-m', 'recent', '--set', '--name', recentList(family, list), '--mask', recentMask(family, prefix[family]), '--rsource'];
}

/** `-m recent --rcheck/--update` within `seconds`, optionally with a hit count and TTL check. */
export function recentCheck(
  family: IpFamily, op: 'rcheck' | 'update', list: string, seconds: number, hitcount?: number, rttl = false, prefix: SourcePrefix = DEFAULT_SOURCE_PREFIX,
): string[] {
  return [
    '-m', 'recent', `--${op}`, '--seconds', String(seconds),
    ...(hitcount !== undefined ? ['--hitcount', String(hitcount)] : []),
    ...(rttl ? ['--rttl'] : []),
    '--name', recentList(family, list), '--mask', recentMask(family, prefix[family]), '--rsource',
  ];
}

/** A packet rate as iptables prints it: per second when whole, else per minute. */
export function rateText(perMinute: number): string {
  return perMinute % 60 === 0 ? `${perMinute / 60}/sec` : `${perMinute}/min`;
}

/** `-m limit`: a global token bucket (iptables omits the default burst of 5). */
export function limit(perMinute: number, burst: number): string[] {
  return ['-m', 'limit', '--limit', rateText(perMinute), ...(burst !== 5 ? ['--limit-burst', String(burst)] : [])];
}

/**
 * `-m hashlimit`: a token bucket per source (per source prefix: iptables-save
 * prints `--hashlimit-srcmask` only when it is not the full length).
 */
export function hashlimit(kind: 'upto' | 'above', perMinute: number, burst: number, name: string, family: IpFamily = IpFamily.V4, prefix: SourcePrefix = DEFAULT_SOURCE_PREFIX): string[] {
  const full = family === IpFamily.V4 ? 32 : 128;
  return [
    '-m', 'hashlimit', `--hashlimit-${kind}`, rateText(perMinute),
    ...(burst !== 5 ? ['--hashlimit-burst', String(burst)] : []),
    '--hashlimit-mode', 'srcip', '--hashlimit-name', name,
    ...(prefix[family] !== full ? ['--hashlimit-srcmask', String(prefix[family])] : []),
  ];
}

/** Names of chains, recent lists and hashlimit tables: see kernel-limits.ts. */
export function kernelNameProblem(what: string, name: string, maxLength: number): ValueProblem | undefined {
  return objectNameProblem(what, name, maxLength);
}

/** The first problem of a list, if any. */
export function firstProblem(...problems: (ValueProblem | undefined)[]): ValueProblem | undefined {
  return problems.find((p) => p !== undefined);
}
