/**
 * A set of CIDR blocks with fast cover queries, so that checking each new
 * `allowFrom` / `block` against all earlier ones stays linear in total:
 * "is there a block that covers this peer?" looks up each shorter prefix in a
 * hash map (at most 33 / 129 lookups); "is there a block inside this peer?"
 * binary-searches the blocks sorted by first address (sorted on demand).
 */
/* eslint-disable no-bitwise */ // addresses as bigints: shifts are the arithmetic here
import * as ipaddr from 'ipaddr.js';
import { Peer } from './peer';

interface Entry<T> {
  readonly start: bigint;
  readonly len: number;
  readonly bits: number;
  readonly value: T;
}

/** First address of a CIDR as a bigint, its prefix length and its family's width. */
function parse(peer: Peer): { start: bigint; len: number; bits: number } | undefined {
  if (peer.isAny) return undefined;
  const cached = PARSED.get(peer);
  if (cached) return cached;
  // family-specific parsers: ipaddr.parseCIDR tries IPv6 first (and throws) for every IPv4 CIDR
  const [addr, len] = peer.cidr.includes(':') ? ipaddr.IPv6.parseCIDR(peer.cidr) : ipaddr.IPv4.parseCIDR(peer.cidr);
  const bytes = addr.toByteArray();
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  const out = { start: n, len, bits: bytes.length * 8 };
  PARSED.set(peer, out);
  return out;
}

const PARSED = new WeakMap<Peer, { start: bigint; len: number; bits: number }>();

function maskTo(start: bigint, len: number, bits: number): bigint {
  const hostBits = BigInt(bits - len);
  return (start >> hostBits) << hostBits;
}

/** CIDR blocks (never `any`) with a value each. */
export class PrefixIndex<T> {
  /** Entries by family width and prefix length, keyed by first address (bigints compare by value in a Map). */
  private readonly exact = new Map<number, Map<bigint, Entry<T>>>();
  /** Prefix lengths present, per family width: lookups try only these. */
  private readonly lengths = new Map<number, number[]>();
  private sorted: Entry<T>[] = [];
  private dirty = false;

  /** Adds `peer` (any-peers are ignored: callers handle them). */
  public add(peer: Peer, value: T): void {
    const p = parse(peer);
    if (!p) return;
    const slot = p.bits * 1000 + p.len;
    let byStart = this.exact.get(slot);
    if (!byStart) this.exact.set(slot, (byStart = new Map()));
    if (byStart.has(p.start)) return;
    const e = { ...p, value };
    byStart.set(p.start, e);
    const lens = this.lengths.get(p.bits) ?? [];
    if (!lens.includes(p.len)) this.lengths.set(p.bits, [...lens, p.len].sort((a, b) => a - b));
    this.sorted.push(e);
    this.dirty = true;
  }

  /** A stored block that covers every address of `peer`, if any. */
  public covering(peer: Peer): T | undefined {
    const p = parse(peer);
    if (!p) return undefined;
    for (const len of this.lengths.get(p.bits) ?? []) {
      if (len > p.len) break;
      const e = this.exact.get(p.bits * 1000 + len)?.get(maskTo(p.start, len, p.bits));
      if (e) return e.value;
    }
    return undefined;
  }

  /** A stored block whose addresses all lie inside `peer`, if any. */
  public inside(peer: Peer): T | undefined {
    const p = parse(peer);
    if (!p) return undefined;
    if (this.dirty) {
      this.sorted.sort((a, b) => (a.bits - b.bits) || (a.start < b.start ? -1 : a.start > b.start ? 1 : a.len - b.len));
      this.dirty = false;
    }
    const end = p.start + (1n << BigInt(p.bits - p.len)) - 1n;
    // first entry of this family with start >= p.start
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const e = this.sorted[mid];
      if (e.bits < p.bits || (e.bits === p.bits && e.start < p.start)) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.sorted.length; i++) {
      const e = this.sorted[i];
      if (e.bits !== p.bits || e.start > end) break;
      if (e.len >= p.len) return e.value;
    }
    return undefined;
  }
}
