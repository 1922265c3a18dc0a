/**
 * Packet sets by interval arithmetic: a box is one interval set per packet
 * field (protocol, source, destination, ports, ICMP type, TTL, conntrack
 * state, TCP flags, interfaces, DNAT status); a packet set is a union of
 * boxes. Intersection, subtraction and emptiness are exact, so the analysis
 * can follow every packet a ruleset can see, not a sample of them.
 */

/** A number or an address: interval ends. */
export type Num = number | bigint;

/**
 * A set of whole numbers as sorted, disjoint, non-adjacent inclusive
 * intervals, flattened: [lo0, hi0, lo1, hi1, ...].
 */
export type Intervals = readonly Num[];

function inc(x: Num): Num {
  return typeof x === 'bigint' ? x + 1n : x + 1;
}

function dec(x: Num): Num {
  return typeof x === 'bigint' ? x - 1n : x - 1;
}

/** [lo, hi] as intervals. */
export function span(lo: Num, hi: Num): Intervals {
  return lo > hi ? [] : [lo, hi];
}

/** One value. */
export function point(x: Num): Intervals {
  return [x, x];
}

/** The intervals of a list of [lo, hi] (any order, overlapping allowed). */
export function fromRanges(ranges: ReadonlyArray<readonly [Num, Num]>): Intervals {
  const sorted = [...ranges].filter(([a, b]) => a <= b).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Num[] = [];
  for (const [lo, hi] of sorted) {
    const n = out.length;
    if (n > 0 && lo <= inc(out[n - 1])) {
      if (hi > out[n - 1]) out[n - 1] = hi;
    } else {
      out.push(lo, hi);
    }
  }
  return out;
}

/** True when empty. */
export function isEmpty(a: Intervals): boolean {
  return a.length === 0;
}

/** True when `a` and `b` are the same set. */
export function same(a: Intervals, b: Intervals): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** a ∩ b. */
export function intersect(a: Intervals, b: Intervals): Intervals {
  if (a === b) return a;
  const out: Num[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const lo = a[i] > b[j] ? a[i] : b[j];
    const hi = a[i + 1] < b[j + 1] ? a[i + 1] : b[j + 1];
    if (lo <= hi) out.push(lo, hi);
    if (a[i + 1] < b[j + 1]) i += 2;
    else j += 2;
  }
  return out;
}

/** a ∪ b. */
export function union(a: Intervals, b: Intervals): Intervals {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const all: Array<[Num, Num]> = [];
  for (let i = 0; i < a.length; i += 2) all.push([a[i], a[i + 1]]);
  for (let i = 0; i < b.length; i += 2) all.push([b[i], b[i + 1]]);
  return fromRanges(all);
}

/** a \ b. */
export function subtract(a: Intervals, b: Intervals): Intervals {
  if (b.length === 0 || a.length === 0) return a;
  const out: Num[] = [];
  let j = 0;
  for (let i = 0; i < a.length; i += 2) {
    let lo = a[i];
    const hi = a[i + 1];
    while (j < b.length && b[j + 1] < lo) j += 2;
    let k = j;
    while (lo <= hi && k < b.length && b[k] <= hi) {
      if (b[k] > lo) out.push(lo, dec(b[k]));
      lo = inc(b[k + 1]);
      k += 2;
    }
    if (lo <= hi) out.push(lo, hi);
  }
  return out;
}

/** The complement of `a` within `universe` (one interval). */
export function complement(a: Intervals, within: Intervals): Intervals {
  return subtract(within, a);
}

/** True when `x` is in `a` (binary search). */
export function has(a: Intervals, x: Num): boolean {
  let lo = 0;
  let hi = a.length / 2 - 1;
  while (lo <= hi) {
    const m = (lo + hi) >> 1; // eslint-disable-line no-bitwise
    if (x < a[2 * m]) hi = m - 1;
    else if (x > a[2 * m + 1]) lo = m + 1;
    else return true;
  }
  return false;
}

/** True when every value of `b` is in `a`. */
export function covers(a: Intervals, b: Intervals): boolean {
  return subtract(b, a).length === 0;
}

/** The intervals as [lo, hi] pairs. */
export function pairs(a: Intervals): Array<[Num, Num]> {
  const out: Array<[Num, Num]> = [];
  for (let i = 0; i < a.length; i += 2) out.push([a[i], a[i + 1]]);
  return out;
}

/** The packet fields a box constrains, in order. */
export enum Dim {
  PROTO = 0,
  SRC = 1,
  DST = 2,
  SPORT = 3,
  DPORT = 4,
  /** ICMP type × 256 + code. */
  ICMP = 5,
  TTL = 6,
  STATE = 7,
  FLAGS = 8,
  IN = 9,
  OUT = 10,
  DNAT = 11,
}

/** The number of fields. */
export const DIMS = 12;

/** Conntrack states as values of {@link Dim.STATE}. */
export const STATE_VALUES: Readonly<Record<string, number>> = { INVALID: 0, NEW: 1, ESTABLISHED: 2, RELATED: 3, UNTRACKED: 4 };
/** The names of {@link STATE_VALUES}, by value. */
export const STATE_NAMES: readonly string[] = ['INVALID', 'NEW', 'ESTABLISHED', 'RELATED', 'UNTRACKED'];

/** A box: one interval set per field (a product of sets). */
export type Box = readonly Intervals[];

/** A packet set: a union of boxes (they may overlap). */
export type PacketSet = readonly Box[];

/** The universe of each field, for a family of `bits` address bits and `ifaces` interface classes. */
export function universe(bits: number, ifaces: number): Box {
  const top = (1n << BigInt(bits)) - 1n; // eslint-disable-line no-bitwise
  const u: Intervals[] = [];
  u[Dim.PROTO] = span(0, 255);
  u[Dim.SRC] = span(0n, top);
  u[Dim.DST] = span(0n, top);
  u[Dim.SPORT] = span(0, 65535);
  u[Dim.DPORT] = span(0, 65535);
  u[Dim.ICMP] = span(0, 65535);
  u[Dim.TTL] = span(0, 255);
  u[Dim.STATE] = span(0, STATE_NAMES.length - 1);
  u[Dim.FLAGS] = span(0, 255);
  u[Dim.IN] = span(0, ifaces - 1);
  u[Dim.OUT] = span(0, ifaces - 1);
  u[Dim.DNAT] = span(0, 1);
  return u;
}

/** `box` with field `d` narrowed to `set` (null when empty). */
export function narrow(box: Box, d: Dim, set: Intervals): Box | null {
  const v = intersect(box[d], set);
  if (v.length === 0) return null;
  if (v === box[d] || same(v, box[d])) return box;
  const out = [...box];
  out[d] = v;
  return out;
}

/** `box` with field `d` replaced by `set`. */
export function withField(box: Box, d: Dim, set: Intervals): Box {
  const out = [...box];
  out[d] = set;
  return out;
}

/** a ∩ b, or null. */
export function boxIntersect(a: Box, b: Box): Box | null {
  let out: Intervals[] | undefined;
  for (let d = 0; d < DIMS; d++) {
    if (a[d] === b[d]) continue;
    const v = intersect(a[d], b[d]);
    if (v.length === 0) return null;
    if (!same(v, a[d])) {
      if (!out) out = [...a];
      out[d] = v;
    }
  }
  return out ?? a;
}

/** a \ b: at most one box per field. */
export function boxSubtract(a: Box, b: Box): Box[] {
  const inter: Intervals[] = [];
  for (let d = 0; d < DIMS; d++) {
    const v = a[d] === b[d] ? a[d] : intersect(a[d], b[d]);
    if (v.length === 0) return [a];
    inter.push(v);
  }
  const out: Box[] = [];
  const cur = [...a];
  for (let d = 0; d < DIMS; d++) {
    const rest = a[d] === b[d] ? [] : subtract(a[d], b[d]);
    if (rest.length > 0) {
      const piece = [...cur];
      piece[d] = rest;
      out.push(piece);
    }
    cur[d] = inter[d];
  }
  return out;
}

/** The packets of `set` in `match` (a union of boxes). */
export function setIntersect(set: PacketSet, match: PacketSet): Box[] {
  const out: Box[] = [];
  const m = match.length > 4 ? compact([...match]) : match;
  for (const a of set) {
    for (const b of m) {
      const x = boxIntersect(a, b);
      if (x) out.push(x);
    }
  }
  return out.length > 4 ? compact(out) : out;
}

/** The packets of `set` not in `match`. */
export function setSubtract(set: PacketSet, match: PacketSet): Box[] {
  let cur: Box[] = [...set];
  // thousands of boxes that differ in one field (an allowlist, a blocklist) are subtracted as one
  for (const b of match.length > 4 ? compact([...match]) : match) {
    const next: Box[] = [];
    for (const a of cur) next.push(...boxSubtract(a, b));
    cur = next;
    if (cur.length === 0) break;
  }
  return cur.length > 4 ? compact(cur) : cur;
}

/** True when `set` holds no packet. */
export function setIsEmpty(set: PacketSet): boolean {
  return set.length === 0;
}

/**
 * A shorter union of the same packets: boxes equal in all fields but one are
 * merged along that field (the scattered single addresses of an allowlist
 * become one box).
 */
export function compact(boxes: Box[]): Box[] {
  if (boxes.length < 2) return boxes;
  // the common case, thousands of boxes that differ in one field only: one pass
  const first = boxes[0];
  const varying: number[] = [];
  for (let d = 0; d < DIMS; d++) {
    for (const b of boxes) {
      if (b[d] !== first[d] && !same(b[d], first[d])) {
        varying.push(d);
        break;
      }
    }
    if (varying.length > 1) break;
  }
  if (varying.length === 0) return [first];
  if (varying.length === 1) return [mergeAlong(boxes, varying[0])];
  if (boxes.length <= 12) return mergePairs(boxes);
  let cur = boxes;
  const keys = new Map<Box, string[]>();
  const keysOf = (b: Box) => {
    let k = keys.get(b);
    if (!k) keys.set(b, (k = b.map(fieldKey)));
    return k;
  };
  for (let d = 0; d < DIMS; d++) {
    if (cur.length < 2) break;
    const groups = new Map<string, Box[]>();
    for (const b of cur) {
      const k = keysOf(b);
      const key = k.map((x, i) => (i === d ? '*' : x)).join('|');
      const g = groups.get(key);
      if (g) g.push(b);
      else groups.set(key, [b]);
    }
    if (groups.size === cur.length) continue;
    cur = [...groups.values()].map((g) => (g.length === 1 ? g[0] : mergeAlong(g, d)));
  }
  return cur;
}

/** A few boxes: any two equal in all fields but one are merged, until no such pair is left. */
function mergePairs(boxes: Box[]): Box[] {
  const cur = [...boxes];
  for (let i = 0; i < cur.length; i++) {
    for (let j = i + 1; j < cur.length; j++) {
      let diff = -1;
      for (let d = 0; d < DIMS; d++) {
        if (cur[i][d] === cur[j][d] || same(cur[i][d], cur[j][d])) continue;
        if (diff >= 0) { diff = -2; break; }
        diff = d;
      }
      if (diff === -2) continue;
      cur[i] = diff < 0 ? cur[i] : mergeAlong([cur[i], cur[j]], diff);
      cur.splice(j, 1);
      j = i; // look again: the merged box may now pair with an earlier one
    }
  }
  return cur;
}

/** Boxes equal in every field but `d`, as one box. */
function mergeAlong(boxes: readonly Box[], d: number): Box {
  const all: Array<[Num, Num]> = [];
  for (const b of boxes) for (let i = 0; i < b[d].length; i += 2) all.push([b[d][i], b[d][i + 1]]);
  return withField(boxes[0], d, fromRanges(all));
}

const keyCache = new WeakMap<Intervals, string>();

function fieldKey(v: Intervals): string {
  let k = keyCache.get(v);
  if (k === undefined) {
    k = v.join(',');
    keyCache.set(v, k);
  }
  return k;
}

/** The first value of a field of a box, preferring `wanted` when the box holds it. */
export function pick(b: Box, d: Dim, ...wanted: Num[]): Num {
  for (const w of wanted) if (has(b[d], w)) return w;
  return b[d][0];
}

/**
 * The same packets, with field `d` of every box cut into the classes the
 * boxes' sets of that field make (values in exactly the same sets are one
 * class): after it, two boxes' `d` fields are equal or disjoint, so packets
 * to the same place can be told apart and joined up.
 */
export function refine(boxes: readonly Box[], d: Dim): Box[] {
  const sets = [...new Map(boxes.map((b) => [b[d].join(','), b[d]])).values()];
  if (sets.length < 2) return [...boxes];
  // sweep the boundaries; an elementary interval's signature is the sets that hold it
  const events = new Map<Num, Array<[number, number]>>();
  const add = (at: Num, i: number, delta: number) => {
    const e = events.get(at);
    if (e) e.push([i, delta]);
    else events.set(at, [[i, delta]]);
  };
  sets.forEach((set, i) => {
    for (let k = 0; k < set.length; k += 2) {
      add(set[k], i, 1);
      add(inc(set[k + 1]), i, -1);
    }
  });
  const points = [...events.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const active = new Set<number>();
  const classes = new Map<string, Array<[Num, Num]>>();
  points.forEach((at, k) => {
    for (const [i, delta] of events.get(at)!) {
      if (delta > 0) active.add(i);
      else active.delete(i);
    }
    if (active.size === 0 || k + 1 >= points.length) return;
    const key = [...active].sort((a, b) => a - b).join(',');
    const list = classes.get(key);
    const piece: [Num, Num] = [at, dec(points[k + 1])];
    if (list) list.push(piece);
    else classes.set(key, [piece]);
  });
  const pieces = [...classes.values()].map((ranges) => fromRanges(ranges));
  const out: Box[] = [];
  for (const b of boxes) {
    for (const piece of pieces) {
      const v = intersect(b[d], piece);
      if (v.length > 0) out.push(withField(b, d, v));
    }
  }
  return out;
}
