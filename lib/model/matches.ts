/**
 * Builders for match arguments, in the exact spelling iptables-save prints,
 * so rendered files and the kernel's view compare equal.
 */
import { IpFamily } from './family';
import { ValueProblem } from '../private/errors';

/** A full-length address mask per family (xt_recent's --mask). */
const FULL_MASK: Record<IpFamily, string> = {
  [IpFamily.V4]: '255.255.255.255',
  [IpFamily.V6]: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
};

/** xt_recent keeps this many hits per address unless the module is loaded with another ip_pkt_list_tot. */
export const RECENT_MAX_HITS = 20;

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
export function recentSet(family: IpFamily, list: string): string[] {
  return ['-m', 'recent', '--set', '--name', recentList(family, list), '--mask', FULL_MASK[family], '--rsource'];
}

/** `-m recent --rcheck/--update` within `seconds`, optionally with a hit count and TTL check. */
export function recentCheck(family: IpFamily, op: 'rcheck' | 'update', list: string, seconds: number, hitcount?: number, rttl = false): string[] {
  return [
    '-m', 'recent', `--${op}`, '--seconds', String(seconds),
    ...(hitcount !== undefined ? ['--hitcount', String(hitcount)] : []),
    ...(rttl ? ['--rttl'] : []),
    '--name', recentList(family, list), '--mask', FULL_MASK[family], '--rsource',
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

/** `-m hashlimit`: a token bucket per source address. */
export function hashlimit(kind: 'upto' | 'above', perMinute: number, burst: number, name: string): string[] {
  return [
    '-m', 'hashlimit', `--hashlimit-${kind}`, rateText(perMinute),
    ...(burst !== 5 ? ['--hashlimit-burst', String(burst)] : []),
    '--hashlimit-mode', 'srcip', '--hashlimit-name', name,
  ];
}

/** Checks a whole number in a range; `what` names it in the message. */
export function wholeNumberProblem(what: string, value: number, min: number, max: number, fix?: string): ValueProblem | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return { message: `${what} is ${String(value)}; it must be a whole number from ${min} to ${max}`, fix };
  }
  return undefined;
}

/** Names of chains, recent lists and hashlimit tables: letters, digits, `_` and `-`. */
export function kernelNameProblem(what: string, name: string, maxLength: number): ValueProblem | undefined {
  if (typeof name !== 'string' || !new RegExp(`^[A-Za-z0-9_-]{1,${maxLength}}$`).test(name)) {
    return { message: `${what} ${JSON.stringify(name)} must be 1 to ${maxLength} letters, digits, _ or -` };
  }
  return undefined;
}

/** The first problem of a list, if any. */
export function firstProblem(...problems: (ValueProblem | undefined)[]): ValueProblem | undefined {
  return problems.find((p) => p !== undefined);
}
