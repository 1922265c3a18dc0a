/* eslint-disable no-bitwise */ // address, mask and TCP-flag arithmetic
/** Addresses as big integers, for matching and partitioning. */
import * as ipaddr from 'ipaddr.js';
import { IpFamily } from '../iptables/family';

/** Number of address bits per family. */
export function bitsOf(family: IpFamily): number {
  return family === IpFamily.V4 ? 32 : 128;
}

/** An address as a big integer; throws naming `what` when it is not an address of `family`. */
export function parseAddress(family: IpFamily, text: string, what = 'address'): bigint {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(text);
  } catch {
    throw new Error(`${what} ${JSON.stringify(text)} is not an IP address`);
  }
  if (family === IpFamily.V4 && addr.kind() !== 'ipv4') throw new Error(`${what} ${text} is not an IPv4 address`);
  if (family === IpFamily.V6 && addr.kind() !== 'ipv6') throw new Error(`${what} ${text} is not an IPv6 address`);
  let n = 0n;
  for (const b of addr.toByteArray()) n = (n << 8n) | BigInt(b);
  return n;
}

/** A prefix: first address and length. */
export interface Cidr {
  readonly base: bigint;
  readonly prefix: number;
}

/** Parses `a.b.c.d[/n]`, `x::y[/n]` or a dotted netmask (`/255.255.255.0`). */
export function parseCidr(family: IpFamily, text: string): Cidr {
  const [addr, len] = text.split('/');
  const bits = bitsOf(family);
  let prefix = bits;
  if (len !== undefined) {
    if (/^\d+$/.test(len)) {prefix = Number(len);} else {
      const m = parseAddress(family, len, 'netmask');
      prefix = m.toString(2).replace(/0+$/, '').length;
      if (m !== maskOf(bits, prefix)) throw new Error(`netmask ${len} is not contiguous`);
    }
  }
  if (prefix < 0 || prefix > bits) throw new Error(`prefix length of ${text} is out of range`);
  const base = parseAddress(family, addr) & maskOf(bits, prefix);
  return { base, prefix };
}

/** The mask of a prefix length. */
export function maskOf(bits: number, prefix: number): bigint {
  if (prefix === 0) return 0n;
  return ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
}

/** True when `addr` is inside `cidr`. */
export function inCidr(bits: number, cidr: Cidr, addr: bigint): boolean {
  return (addr & maskOf(bits, cidr.prefix)) === cidr.base;
}

/** The last address of a prefix. */
export function lastOf(bits: number, cidr: Cidr): bigint {
  return cidr.base | (~maskOf(bits, cidr.prefix) & ((1n << BigInt(bits)) - 1n));
}

/** An address as text, the way iptables-save prints it. */
export function formatAddress(family: IpFamily, n: bigint): string {
  const bytes: number[] = [];
  const count = family === IpFamily.V4 ? 4 : 16;
  for (let i = count - 1; i >= 0; i--) bytes.push(Number((n >> BigInt(8 * i)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

/** A prefix as text. */
export function formatCidr(family: IpFamily, c: Cidr): string {
  return `${formatAddress(family, c.base)}/${c.prefix}`;
}

/** The smallest list of prefixes covering exactly [lo, hi]. */
export function rangeToCidrs(family: IpFamily, lo: bigint, hi: bigint): string[] {
  const bits = bitsOf(family);
  const out: string[] = [];
  let cur = lo;
  while (cur <= hi) {
    let size = 0;
    while (size < bits) {
      const next = size + 1;
      const block = 1n << BigInt(next);
      if (cur % block !== 0n || cur + block - 1n > hi) break;
      size = next;
    }
    out.push(formatCidr(family, { base: cur, prefix: bits - size }));
    cur += 1n << BigInt(size);
  }
  return out;
}

/**
 * The union of CIDR blocks as sorted, disjoint, non-adjacent [lo, hi] ranges:
 * blocks that behave alike (the entries of one set, the blocked peers) cut
 * the address space only where the union starts and ends.
 */
export function mergedRanges(bits: number, cidrs: readonly Cidr[]): Array<[bigint, bigint]> {
  return mergeRanges(cidrs.map((c) => [c.base, lastOf(bits, c)] as [bigint, bigint]));
}

/** [lo, hi] ranges as sorted, disjoint, non-adjacent ranges. */
export function mergeRanges(ranges: ReadonlyArray<[bigint, bigint]>): Array<[bigint, bigint]> {
  const sorted = [...ranges].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Array<[bigint, bigint]> = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1n) {
      if (hi > last[1]) last[1] = hi;
    } else {
      out.push([lo, hi]);
    }
  }
  return out;
}

/** True when [lo, hi] lies inside one of the merged `ranges` (binary search). */
export function insideRanges(ranges: ReadonlyArray<[bigint, bigint]>, lo: bigint, hi: bigint): boolean {
  let a = 0;
  let b = ranges.length - 1;
  while (a <= b) {
    const m = Math.floor((a + b) / 2);
    const [rlo, rhi] = ranges[m];
    if (lo < rlo) b = m - 1;
    else if (lo > rhi) a = m + 1;
    else return hi <= rhi;
  }
  return false;
}
