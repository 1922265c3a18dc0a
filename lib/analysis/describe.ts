/**
 * Packet sets in words: grouped by protocol class and interfaces, with their
 * ports (or ICMP types, or protocol numbers), sources, destinations, states
 * and whether a port forward translated them. The intent check's messages
 * and the forwarded / outbound reachability sections say things this way.
 */
import { InterfaceSpace } from './interfaces';
import { Box, compact, Dim, fromRanges, Intervals, narrow, pairs, refine, setSubtract, STATE_NAMES, withField } from './space';
import { IpFamily } from '../iptables/family';
import { SPELLING } from '../iptables/spelling';
import { bitsOf, complementRanges, mergeRanges, rangeToCidrs } from '../values/prefix';

/** The fields of "every packet": every protocol, port, ICMP type, TTL and TCP flag. */
const EVERY_PACKET: ReadonlyArray<[Dim, number, number]> = [
  [Dim.PROTO, 0, 255], [Dim.SPORT, 0, 65535], [Dim.DPORT, 0, 65535], [Dim.ICMP, 0, 65535], [Dim.TTL, 0, 255], [Dim.FLAGS, 0, 255],
];

/** Packets of one protocol class and one set of interfaces. */
export interface PacketGroup {
  /** `all`, `tcp`, `udp`, `icmp` / `ipv6-icmp` or `other`. */
  readonly protocol: string;
  /** `tcp 80`, `udp 0-52,54-65535`, `icmp echo-request`, `protocols 2-5`, `all`. */
  readonly what: string;
  /** Ports (`80`, `1-1024,8080`) for TCP and UDP, else `-`. */
  readonly ports: string;
  readonly inInterfaces: string;
  readonly outInterfaces: string;
  readonly sources: string[];
  readonly destinations: string[];
  /** The conntrack states, when not every state (`NEW,ESTABLISHED`), else ''. */
  readonly states: string;
  /** Only packets a port forward translated. */
  readonly portForwarded: boolean;
  /**
   * The TCP flags, when told apart (`SYN`, `other than SYN`, `some`), else ''.
   * @default ''
   */
  readonly flags?: string;
  readonly boxes: Box[];
}

/** How packet sets are put in words. */
export interface WordsOptions {
  /** Tell packets apart by their TCP flags (a plain SYN or not). */
  readonly flags?: boolean;
}

/** Puts packet sets of one family into words. */
export class PacketWords {
  private readonly top: bigint;

  public constructor(public readonly family: IpFamily, private readonly space: InterfaceSpace) {
    this.top = (1n << BigInt(bitsOf(family))) - 1n; // eslint-disable-line no-bitwise
  }

  /** The packets of `set` in groups of one protocol class and one set of interfaces (of the path). */
  public groups(path: 'input' | 'forward' | 'output', set: Box[], options: WordsOptions = {}): PacketGroup[] {
    type Ranges = Array<[number, number]>;
    type Addresses = Array<[bigint, bigint]>;
    type Acc = {
      name: string;
      flags: string;
      inIfaces: string;
      outIfaces: string;
      boxes: Box[];
      ports: Ranges;
      icmp: Ranges;
      protos: Ranges;
      srcs: Addresses;
      dsts: Addresses;
      states: Set<number>;
      dnat: Set<number>;
    };
    const byKey = new Map<string, Acc>();
    const icmpProto = SPELLING[this.family].icmpProtocolNumber;
    // packets of every protocol, port and type alike (to the same place) read as one "all" line
    const rest = (b: Box) => [Dim.IN, Dim.OUT, Dim.SRC, Dim.DST, Dim.DNAT, Dim.STATE].map((d) => b[d].join(',')).join('\u0000');
    const byRest = new Map<string, Box[]>();
    // cut addresses (and the rest of the place) into the classes the boxes make, so that
    // what goes to the same place meets in one group (a few hundred boxes at most: messages, reports)
    let boxes = compact(set);
    const placeDims = [Dim.SRC, Dim.DST, Dim.IN, Dim.OUT, Dim.STATE, Dim.DNAT, ...(options.flags ? [Dim.FLAGS] : [])];
    if (boxes.length <= 256) for (const d of placeDims) boxes = refine(boxes, d);
    for (const box of boxes) {
      const k = rest(box);
      const list = byRest.get(k);
      if (list) list.push(box);
      else byRest.set(k, [box]);
    }
    const pieces: Array<[string, Box]> = [];
    for (const same of byRest.values()) {
      let whole: Box = same[0];
      for (const [d, lo, hi] of EVERY_PACKET) whole = withField(whole, d, [lo, hi]);
      if (setSubtract([whole], same).length === 0) pieces.push(['all', whole]);
      else for (const box of same) pieces.push(...this.split(box, icmpProto));
    }
    {
      for (const [name, b] of pieces) {
        const inIfaces = path === 'output' ? '' : this.ifaces(b[Dim.IN]);
        const outIfaces = path === 'input' ? '' : this.ifaces(b[Dim.OUT]);
        // one line per protocol class, interfaces, addresses, translation and states: ports (or types) join up
        const flags = options.flags && name === 'tcp' ? flagsText(b[Dim.FLAGS]) : '';
        const place = [Dim.SRC, Dim.DST, Dim.DNAT, Dim.STATE].map((d) => b[d].join(','));
        const key = [name, inIfaces, outIfaces, flags, ...place].join('\u0000');
        let g = byKey.get(key);
        if (!g) {
          g = {
            name, inIfaces, outIfaces, flags, boxes: [], ports: [], icmp: [], protos: [], srcs: [], dsts: [], states: new Set(), dnat: new Set(),
          };
          byKey.set(key, g);
        }
        g.boxes.push(b);
        for (const [lo, hi] of pairs(b[Dim.DPORT])) g.ports.push([Number(lo), Number(hi)]);
        for (const [lo, hi] of pairs(b[Dim.ICMP])) g.icmp.push([Number(lo), Number(hi)]);
        for (const [lo, hi] of pairs(b[Dim.PROTO])) g.protos.push([Number(lo), Number(hi)]);
        for (const [lo, hi] of pairs(b[Dim.SRC])) g.srcs.push([lo as bigint, hi as bigint]);
        for (const [lo, hi] of pairs(b[Dim.DST])) g.dsts.push([lo as bigint, hi as bigint]);
        for (const [lo, hi] of pairs(b[Dim.STATE])) for (let x = Number(lo); x <= Number(hi); x++) g.states.add(x);
        for (const [lo, hi] of pairs(b[Dim.DNAT])) for (let x = Number(lo); x <= Number(hi); x++) g.dnat.add(x);
      }
    }
    const lines = [...byKey.values()].map((g) => {
      const ports = g.name === 'tcp' || g.name === 'udp' ? rangesText(g.ports) : '-';
      const what = g.name === 'all' ? 'all'
        : g.name === 'tcp' || g.name === 'udp' ? `${g.name} ${ports}`
          : g.name === 'other' ? `protocol${countOf(g.protos) > 1 ? 's' : ''} ${rangesText(g.protos)}`
            : `${g.name} ${icmpText(this.family, g.icmp)}`;
      return {
        protocol: g.name,
        what,
        ports,
        inInterfaces: g.inIfaces,
        outInterfaces: g.outIfaces,
        srcs: mergeRanges(g.srcs),
        dsts: mergeRanges(g.dsts),
        states: g.states.size < STATE_NAMES.length ? [...g.states].sort().map((x) => STATE_NAMES[x]).join(',') : '',
        portForwarded: g.dnat.size === 1 && g.dnat.has(1),
        ...(g.flags ? { flags: g.flags } : {}),
        boxes: g.boxes,
      };
    });
    // lines that differ in their destinations only (then in their sources only) are one line
    const joined = joinBy(joinBy(lines, 'dsts'), 'srcs');
    return joined.map(({ srcs, dsts, ...l }) => ({
      ...l,
      sources: sourcesText(this.family, srcs, this.top),
      destinations: sourcesText(this.family, dsts, this.top),
    }));
  }

  /** A box by protocol class: every protocol alike is `all`; else TCP, UDP, ICMP and the rest apart. */
  private split(box: Box, icmpProto: number): Array<[string, Box]> {
    const anyPacket = box[Dim.PROTO].length === 2 && box[Dim.PROTO][0] === 0 && box[Dim.PROTO][1] === 255
      && [Dim.SPORT, Dim.DPORT, Dim.ICMP].every((d) => box[d].length === 2 && box[d][0] === 0 && box[d][1] === 65535)
      && box[Dim.FLAGS].length === 2 && box[Dim.FLAGS][0] === 0 && box[Dim.FLAGS][1] === 255;
    if (anyPacket) return [['all', box]];
    const out: Array<[string, Box]> = [];
    for (const [name, n] of [['tcp', 6], ['udp', 17], [SPELLING[this.family].icmpProtocol, icmpProto]] as const) {
      const b = narrow(box, Dim.PROTO, [n, n]);
      if (b) out.push([name, b]);
    }
    const others: Array<[number, number]> = [];
    for (const [a, b] of pairs(box[Dim.PROTO])) {
      let lo = Number(a);
      for (const x of [6, 17, icmpProto].sort((p, q) => p - q)) {
        if (x < lo || x > Number(b)) continue;
        if (x > lo) others.push([lo, x - 1]);
        lo = x + 1;
      }
      if (lo <= Number(b)) others.push([lo, Number(b)]);
    }
    if (others.length) out.push(['other', withField(box, Dim.PROTO, fromRanges(others))]);
    return out;
  }

  /** Interfaces in words: `any interface`, `any interface but lo`, or the names and patterns. */
  public ifaces(set: Intervals): string {
    const all = this.space.all;
    if (set.length === 2 && set[0] === all[0] && set[1] === all[1]) return 'any interface';
    const missing = invert(set, all);
    if (missing.length > 0 && missing.length <= 4) {
      const named = missing.map((c) => this.space.classes[c]);
      if (named.every((c) => !c.text.startsWith('other') && !c.text.startsWith('('))) return `any interface but ${named.map((c) => c.text).join(', ')}`;
    }
    return this.space.describe(set);
  }
}

/** Lines equal in everything but `field` (a list of address ranges), as one line with the union. */
function joinBy<T extends { srcs: Array<[bigint, bigint]>; dsts: Array<[bigint, bigint]>; boxes: Box[] }>(lines: T[], field: 'srcs' | 'dsts'): T[] {
  const byKey = new Map<string, T>();
  for (const l of lines) {
    const key = JSON.stringify(l, (k, v) => (k === field || k === 'boxes' ? undefined : typeof v === 'bigint' ? `${v}` : v));
    const prev = byKey.get(key);
    if (prev) byKey.set(key, { ...prev, [field]: mergeRanges([...prev[field], ...l[field]]), boxes: [...prev.boxes, ...l.boxes] });
    else byKey.set(key, l);
  }
  return [...byKey.values()];
}

/** TCP flag values in words: every value '', a plain SYN (SYN without ACK, RST, FIN), or the rest. */
function flagsText(set: Intervals): string {
  const values = new Set<number>();
  for (const [lo, hi] of pairs(set)) for (let v = Number(lo); v <= Number(hi); v++) values.add(v);
  if (values.size === 256) return '';
  const plainSyn = (v: number) => (v & 0x17) === 0x02; // eslint-disable-line no-bitwise
  const all = [...Array(256).keys()];
  if (all.every((v) => values.has(v) === plainSyn(v))) return 'SYN';
  if (all.every((v) => values.has(v) !== plainSyn(v))) return 'other than SYN';
  return 'some';
}

/** The classes of `all` not in `set`. */
function invert(set: Intervals, all: Intervals): number[] {
  const out: number[] = [];
  const inSet = new Set<number>();
  for (const [lo, hi] of pairs(set)) for (let c = Number(lo); c <= Number(hi); c++) inSet.add(c);
  for (let c = Number(all[0]); c <= Number(all[1]); c++) if (!inSet.has(c)) out.push(c);
  return out;
}

/** ICMP types and codes (type × 256 + code) in words: `echo-request` for that type alone, else `types 0,3-5`. */
function icmpText(fam: IpFamily, values: Array<[number, number]>): string {
  const merged = mergeRanges(values.map(([a, b]) => [BigInt(a), BigInt(b)] as [bigint, bigint]));
  const echo = (n: number) => merged.length === 1 && merged[0][0] === BigInt(n * 256) && merged[0][1] === BigInt(n * 256 + 255);
  if (echo(fam === IpFamily.V4 ? 8 : 128)) return 'echo-request';
  const types = merged.map(([a, b]) => [a / 256n, b / 256n] as [bigint, bigint]);
  return `types ${mergeRanges(types).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',')}`;
}

function rangesText(ranges: Array<[number, number]>): string {
  return mergeRanges(ranges.map(([a, b]) => [BigInt(a), BigInt(b)] as [bigint, bigint])).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',');
}

function countOf(ranges: Array<[number, number]>): number {
  return mergeRanges(ranges.map(([a, b]) => [BigInt(a), BigInt(b)] as [bigint, bigint])).reduce((n, [a, b]) => n + Number(b - a + 1n), 0);
}

/** Sources as CIDRs, or `any` / `any except ...` when shorter. */
export function sourcesText(fam: IpFamily, ranges: Array<[bigint, bigint]>, top: bigint): string[] {
  if (ranges.length === 1 && ranges[0][0] === 0n && ranges[0][1] === top) return ['any'];
  const direct = ranges.flatMap(([a, b]) => rangeToCidrs(fam, a, b));
  const compCidrs = complementRanges(ranges, top).flatMap(([a, b]) => rangeToCidrs(fam, a, b));
  return compCidrs.length < direct.length ? ['any', 'except', ...compCidrs] : direct;
}
