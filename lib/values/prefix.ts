/* eslint-disable no-bitwise */ // address and mask arithmetic
/**
 * THE implementation of addresses and prefixes: parsed once into big
 * integers, then compared, covered, merged, subtracted and printed by
 * arithmetic. Peers, blocklists, sets, the parser, the evaluator and the
 * analysis all use it.
 */
import * as ipaddr from 'ipaddr.js';
import { IpFamily } from '../iptables/family';
import { SPELLING } from '../iptables/spelling';

/** Number of address bits per family. */
export function bitsOf(family: IpFamily): number {
  return SPELLING[family].addressBits;
}

/** The family of a CIDR or address text (IPv6 ones contain `:`). */
export function familyOf(text: string): IpFamily {
  return text.includes(':') ? IpFamily.V6 : IpFamily.V4;
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

/** True when every address of `inner` is in `outer` (one family). */
export function cidrCovers(outer: Cidr, inner: Cidr, bits: number): boolean {
  return outer.prefix <= inner.prefix && inCidr(bits, outer, inner.base);
}

/** True when `a` and `b` share an address (one family). */
export function cidrsOverlap(a: Cidr, b: Cidr, bits: number): boolean {
  return a.prefix <= b.prefix ? inCidr(bits, a, b.base) : inCidr(bits, b, a.base);
}

/** Address order, then prefix length: the order ipset files list their entries in. */
export function compareCidrs(a: Cidr, b: Cidr): number {
  return a.base < b.base ? -1 : a.base > b.base ? 1 : a.prefix - b.prefix;
}

/** The addresses of merged `a` that are not in merged `b`, as merged ranges. */
export function subtractRanges(a: ReadonlyArray<[bigint, bigint]>, b: ReadonlyArray<[bigint, bigint]>): Array<[bigint, bigint]> {
  const out: Array<[bigint, bigint]> = [];
  let j = 0;
  for (const [lo0, hi] of a) {
    let lo = lo0;
    while (j < b.length && b[j][1] < lo) j++;
    let k = j;
    while (lo <= hi && k < b.length && b[k][0] <= hi) {
      if (b[k][0] > lo) out.push([lo, b[k][0] - 1n]);
      lo = b[k][1] + 1n;
      k++;
    }
    if (lo <= hi) out.push([lo, hi]);
  }
  return out;
}

/** The complement of merged `ranges` in [0, top]. */
export function complementRanges(ranges: ReadonlyArray<[bigint, bigint]>, top: bigint): Array<[bigint, bigint]> {
  const out: Array<[bigint, bigint]> = [];
  let cur = 0n;
  for (const [a, b] of ranges) {
    if (a > cur) out.push([cur, a - 1n]);
    cur = b + 1n;
  }
  if (cur <= top) out.push([cur, top]);
  return out;
}

interface IndexEntry<T> {
  readonly start: bigint;
  readonly len: number;
  readonly bits: number;
  readonly value: T;
}

/**
 * A set of CIDR blocks with fast cover queries, so that checking each new
 * `allowFrom` / `block` against all earlier ones stays linear in total:
 * "is there a block that covers this prefix?" looks up each shorter prefix
 * in a hash map (at most 33 / 129 lookups); "is there a block inside this
 * prefix?" binary-searches the blocks sorted by first address (sorted on demand).
 */
export class PrefixIndex<T> {
  /** Entries by family width and prefix length, keyed by first address (bigints compare by value in a Map). */
  private readonly exact = new Map<number, Map<bigint, IndexEntry<T>>>();
  /** Prefix lengths present, per family width: lookups try only these. */
  private readonly lengths = new Map<number, number[]>();
  private sorted: IndexEntry<T>[] = [];
  private dirty = false;

  /** Adds `cidr` of a family `bits` wide. */
  public add(cidr: Cidr, bits: number, value: T): void {
    const slot = bits * 1000 + cidr.prefix;
    let byStart = this.exact.get(slot);
    if (!byStart) this.exact.set(slot, (byStart = new Map()));
    if (byStart.has(cidr.base)) return;
    const e = { start: cidr.base, len: cidr.prefix, bits, value };
    byStart.set(cidr.base, e);
    const lens = this.lengths.get(bits) ?? [];
    if (!lens.includes(cidr.prefix)) this.lengths.set(bits, [...lens, cidr.prefix].sort((a, b) => a - b));
    this.sorted.push(e);
    this.dirty = true;
  }

  /** A stored block that covers every address of `cidr`, if any. */
  public covering(cidr: Cidr, bits: number): T | undefined {
    for (const len of this.lengths.get(bits) ?? []) {
      if (len > cidr.prefix) break;
      const e = this.exact.get(bits * 1000 + len)?.get(cidr.base & maskOf(bits, len));
      if (e) return e.value;
    }
    return undefined;
  }

  /** A stored block whose addresses all lie inside `cidr`, if any. */
  public inside(cidr: Cidr, bits: number): T | undefined {
    if (this.dirty) {
      this.sorted.sort((a, b) => (a.bits - b.bits) || (a.start < b.start ? -1 : a.start > b.start ? 1 : a.len - b.len));
      this.dirty = false;
    }
    const end = lastOf(bits, cidr);
    // first entry of this family with start >= cidr.base
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const e = this.sorted[mid];
      if (e.bits < bits || (e.bits === bits && e.start < cidr.base)) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.sorted.length; i++) {
      const e = this.sorted[i];
      if (e.bits !== bits || e.start > end) break;
      if (e.len >= cidr.prefix) return e.value;
    }
    return undefined;
  }
}
