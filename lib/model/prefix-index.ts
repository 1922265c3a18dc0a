/**
 * A set of CIDR blocks with fast cover queries, so that checking each new
 * `allowFrom` / `block` against all earlier ones stays linear in total:
 * "is there a block that covers this peer?" looks up each shorter prefix in a
 * hash map (at most 33 / 129 lookups); "is there a block inside this peer?"
 * binary-searches the blocks sorted by first address (sorted on demand).
 */
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
  const [addr, len] = ipaddr.parseCIDR(peer.cidr);
  const bytes = addr.toByteArray();
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return { start: n, len, bits: bytes.length * 8 };
}

function maskTo(start: bigint, len: number, bits: number): bigint {
  const hostBits = BigInt(bits - len);
  return (start >> hostBits) << hostBits;
}

/** CIDR blocks (never `any`) with a value each. */
export class PrefixIndex<T> {
  private readonly exact = new Map<string, Entry<T>>();
  private sorted: Entry<T>[] = [];
  private dirty = false;

  /** Adds `peer` (any-peers are ignored: callers handle them). */
  public add(peer: Peer, value: T): void {
    const p = parse(peer);
    if (!p) return;
    const key = `${p.bits}/${p.len}/${p.start}`;
    if (this.exact.has(key)) return;
    const e = { ...p, value };
    this.exact.set(key, e);
    this.sorted.push(e);
    this.dirty = true;
  }

  /** A stored block that covers every address of `peer`, if any. */
  public covering(peer: Peer): T | undefined {
    const p = parse(peer);
    if (!p) return undefined;
    for (let len = 0; len <= p.len; len++) {
      const e = this.exact.get(`${p.bits}/${len}/${maskTo(p.start, len, p.bits)}`);
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
