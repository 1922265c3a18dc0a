/* eslint-disable no-bitwise */ // address, mask and TCP-flag arithmetic
/**
 * Reachability of new connections to the host, by protocol, port, arrival
 * interface and source: ports and interfaces are cut at every boundary the
 * rules mention, sources into classes that every rule treats alike, and one
 * packet per cell is evaluated (fresh state, then "exhausted" state to see
 * what a rate limit or recent list can take away).
 */
import { sourcesText } from './describe';
import { Engine, EngineState, EngineVerdict } from './engine';
import { groupRules } from './paths';
import { Action, PacketProps, Reach, ReachabilityEntry, ReachabilityReport } from './types';
import { IpFamily } from '../iptables/family';
import { AddrTest } from '../iptables/parse';
import { ConnState } from '../values/conn-state';
import { Protocol } from '../values/port';
import { bitsOf, formatAddress, insideRanges, lastOf, mergedRanges, mergeRanges } from '../values/prefix';

/** The interface name standing for "any interface the rules do not name". */
export const OTHER_IFACE = '*';
const OTHER_REP = 'cfw%other';

/** One evaluated cell: packets of one protocol, to one port range, on one interface, from a class of sources treated alike by every rule. */
export interface Cell {
  readonly iface: string;
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  /** The source class's number (cells of one class share their sources). */
  readonly sourceClass: number;
  /** The sources of the class, as sorted disjoint ranges. */
  readonly sources: ReadonlyArray<[bigint, bigint]>;
  readonly reach: Reach;
  readonly via: string[];
  readonly forwardedTo?: string;
  readonly verdict: EngineVerdict;
  /** For the members of an ipset set: its name (the cell stands for every member). */
  readonly set?: string;
}

/** The protocols the report walks, per family: name, packet fields, whether ports apply. */
function protocols(family: IpFamily): Array<{ name: string; protocol: Protocol; protocolNumber?: number; ports: boolean }> {
  return [
    { name: 'tcp', protocol: Protocol.TCP, ports: true },
    { name: 'udp', protocol: Protocol.UDP, ports: true },
    family === IpFamily.V4 ? { name: 'icmp', protocol: Protocol.ICMP, ports: false } : { name: 'ipv6-icmp', protocol: Protocol.ICMPV6, ports: false },
    { name: 'other', protocol: Protocol.GRE, ports: false },
  ];
}

/**
 * The classes of sources: every rule's source test (a prefix, a range, or the
 * union of a run of rules that differ in their source only) cuts the address
 * space; addresses inside the same tests form one class, however scattered.
 */
function sourceClasses(
  engine: Engine, bits: number, top: bigint, repOf: (lo: bigint, hi: bigint) => { rep: bigint; sets: string },
): Array<{ ranges: Array<[bigint, bigint]>; rep: bigint }> {
  const tests: Array<Array<[bigint, bigint]>> = [];
  for (const t of engine.rules.tables.values()) {
    for (const c of t.chains.values()) {
      for (const group of groupRules(c.rules)) {
        const ranges: Array<[bigint, bigint]> = [];
        for (const r of group) {
          for (const a of [r.src, ...r.matches.filter((m) => m.kind === 'srcrange').map((m) => (m as { addr: AddrTest }).addr)]) {
            if (!a) continue;
            ranges.push(a.cidr ? [a.cidr.base, lastOf(bits, a.cidr)] : [a.from!, a.to!]);
          }
        }
        if (ranges.length) tests.push(mergeRanges(ranges));
      }
    }
  }
  // sweep the boundaries: the signature of an elementary interval is the tests that hold it
  const events = new Map<bigint, Array<[number, number]>>();
  const add = (at: bigint, test: number, delta: number) => {
    let e = events.get(at);
    if (!e) events.set(at, (e = []));
    e.push([test, delta]);
  };
  add(0n, -1, 0);
  tests.forEach((ranges, i) => {
    for (const [lo, hi] of ranges) {
      add(lo, i, 1);
      if (hi < top) add(hi + 1n, i, -1);
    }
  });
  const points = [...events.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const active = new Set<number>();
  const classes = new Map<string, { ranges: Array<[bigint, bigint]>; rep: bigint }>();
  points.forEach((at, k) => {
    for (const [test, delta] of events.get(at)!) {
      if (delta > 0) active.add(test);
      else if (delta < 0) active.delete(test);
    }
    const hi = k + 1 < points.length ? points[k + 1] - 1n : top;
    // an interval's sample is its first address outside every ipset set (set members are cells of their own);
    // one that cannot find one stands for the sets it is in
    const { rep, sets } = repOf(at, hi);
    const key = `${[...active].sort((a, b) => a - b).join(',')}|${sets}`;
    const c = classes.get(key);
    if (c) {
      const last = c.ranges[c.ranges.length - 1];
      if (last[1] + 1n === at) last[1] = hi;
      else c.ranges.push([at, hi]);
    } else {
      classes.set(key, { ranges: [[at, hi]], rep });
    }
  });
  return [...classes.values()].sort((a, b) => (a.ranges[0][0] < b.ranges[0][0] ? -1 : 1));
}

/** Every cell of the host's reachability (new packets to the host). */
export function cells(engine: Engine): Cell[] {
  const family = engine.rules.family;
  const bits = bitsOf(family);
  const top = (1n << BigInt(bits)) - 1n;
  const portCuts = new Set<number>([1]);
  const ifaces = new Set<string>();
  const setNames = new Set<string>();
  for (const t of engine.rules.tables.values()) {
    for (const ch of t.chains.values()) {
      for (const r of ch.rules) {
        for (const m of r.matches) {
          // every member of a set is matched alike: a set is one more cell, not a cut per entry
          // (a blocklist may hold 100,000 scattered entries)
          if (m.kind === 'set' && !m.dst) setNames.add(m.name);
          if (m.kind === 'dport' || m.kind === 'anyport') {
            for (const [lo, hi] of m.port.ranges) {
              if (lo >= 1) portCuts.add(lo);
              if (hi < 65535) portCuts.add(hi + 1);
            }
          }
        }
        if (r.inIface) ifaces.add(r.inIface.name);
      }
    }
  }
  const portBounds = [...portCuts].sort((a, b) => a - b);
  const portIntervals = portBounds.map((lo, i) => [lo, i + 1 < portBounds.length ? portBounds[i + 1] - 1 : 65535] as [number, number]);
  const ifaceList = [...[...ifaces].sort(), OTHER_IFACE];
  // set members are evaluated once per set; every other cell from a source outside all sets
  const sets = [...setNames].sort().map((name) => ({ name, entries: engine.sets.get(name)?.entries ?? [] })).filter((x) => x.entries.length > 0);
  const members = mergedRanges(bits, sets.flatMap((x) => x.entries));
  const perSet = sets.map((x) => ({ name: x.name, ranges: mergedRanges(bits, x.entries) }));
  const repOf = (lo: bigint, hi: bigint): { rep: bigint; sets: string } => {
    if (members.length === 0) return { rep: lo, sets: '' };
    let a = lo;
    for (let i = 0; i < 64 && a <= hi && insideRanges(members, a, a); i++) {
      const r = members.find(([rlo, rhi]) => a >= rlo && a <= rhi)!;
      a = r[1] + 1n;
    }
    const rep = a <= hi ? a : lo;
    return { rep, sets: perSet.filter((x) => insideRanges(x.ranges, rep, rep)).map((x) => x.name).join(',') };
  };
  const sources: Array<{ cls: number; ranges: ReadonlyArray<[bigint, bigint]>; rep: bigint; set?: string }> = [
    ...sourceClasses(engine, bits, top, repOf).map((c, i) => ({ cls: i, ranges: c.ranges, rep: c.rep })),
    ...sets.map((x, i) => {
      const first = x.entries[0].base;
      return { cls: -1 - i, ranges: [[first, first]] as Array<[bigint, bigint]>, rep: first, set: x.name };
    }),
  ];
  const out: Cell[] = [];
  for (const iface of ifaceList) {
    const rep = iface === OTHER_IFACE ? OTHER_REP : iface.endsWith('+') ? `${iface.slice(0, -1)}0` : iface;
    for (const proto of protocols(family)) {
      const ports = proto.ports ? portIntervals : [[0, 0] as [number, number]];
      for (const [pLo, pHi] of ports) {
        for (const { cls, ranges, rep: srcRep, set } of sources) {
          const packet: PacketProps = {
            family,
            protocol: proto.protocol,
            protocolNumber: proto.protocolNumber,
            source: formatAddress(family, srcRep),
            destinationPort: proto.ports ? pLo : undefined,
            inInterface: rep,
            state: ConnState.NEW,
          };
          const fresh = new EngineState();
          const v = engine.run(packet, 0, fresh);
          let reach: Reach = v.action === Action.ACCEPT ? Reach.OPENED : v.action === Action.REJECT ? Reach.REFUSED
            : v.action === Action.DEPENDS ? Reach.MAYBE : Reach.SILENT;
          let via: string[] = v.dependsOn ?? [];
          if (v.action === Action.ACCEPT) {
            const worst = new EngineState(true);
            const w = engine.run(packet, 0, worst);
            if (w.action !== Action.ACCEPT) {
              reach = Reach.GUARDED;
              via = [...fresh.consulted].sort();
            }
          }
          const forwardedTo = v.action === Action.ACCEPT && v.forwarded && v.translatedDestination
            ? `${v.translatedDestination}${v.translatedDestinationPort !== undefined ? `:${v.translatedDestinationPort}` : ''}`
            : undefined;
          out.push({
            iface, protocol: proto.name, fromPort: pLo, toPort: pHi, sourceClass: cls, sources: ranges, reach, via, forwardedTo, verdict: v, set,
          });
        }
      }
    }
  }
  return out;
}

const REACH_ORDER = [Reach.OPENED, Reach.GUARDED, Reach.MAYBE, Reach.REFUSED, Reach.SILENT];

/** Folds cells into report entries: sources treated alike on every port first, then per port; interfaces with equal lines joined. */
export function report(family: IpFamily, all: Cell[], title: string): ReachabilityReport {
  const bits = bitsOf(family);
  const top = (1n << BigInt(bits)) - 1n;
  type Group = { reach: Reach; via: string[]; forwardedTo?: string; ranges: Array<[bigint, bigint]> };
  const valueKey = (c: { reach: Reach; via: string[]; forwardedTo?: string }) => `${c.reach}|${c.via.join(',')}|${c.forwardedTo ?? ''}`;
  const rows: ReachabilityEntry[] = [];
  // the members of each set, per interface: one "all" line when treated alike on every port
  const setCells = all.filter((c) => c.set !== undefined);
  for (const name of [...new Set(setCells.map((c) => c.set!))].sort()) {
    for (const iface of [...new Set(setCells.map((c) => c.iface))]) {
      const mine = setCells.filter((c) => c.set === name && c.iface === iface);
      const kinds = new Set(mine.map(valueKey));
      const lines = kinds.size === 1 ? [mine[0]] : mine;
      for (const c of lines) {
        rows.push({
          interfaces: [iface],
          protocol: kinds.size === 1 ? 'all' : c.protocol,
          ports: kinds.size === 1 || !(c.protocol === 'tcp' || c.protocol === 'udp') ? '-' : (c.fromPort === c.toPort ? `${c.fromPort}` : `${c.fromPort}-${c.toPort}`),
          reach: c.reach,
          sources: [`set:${name}`],
          via: c.via,
          forwardedTo: c.forwardedTo,
        });
      }
    }
  }
  all = all.filter((c) => c.set === undefined);
  const ifaceNames = [...new Set(all.map((c) => c.iface))];
  for (const iface of ifaceNames) {
    const mine = all.filter((c) => c.iface === iface);
    // sources treated the same way by every protocol and port
    const perSource = new Map<number, Set<string>>();
    for (const c of mine) {
      let set = perSource.get(c.sourceClass);
      if (!set) { set = new Set(); perSource.set(c.sourceClass, set); }
      set.add(valueKey(c));
    }
    const uniform = new Set<number>([...perSource].filter(([, v]) => v.size === 1).map(([k]) => k));
    const uniformRanges: Array<[bigint, bigint]> = [];
    const everything = new Map<string, Group>();
    const seen = new Set<number>();
    for (const c of mine) {
      if (!uniform.has(c.sourceClass) || seen.has(c.sourceClass)) continue;
      seen.add(c.sourceClass);
      uniformRanges.push(...c.sources);
      const k = valueKey(c);
      let g = everything.get(k);
      if (!g) { g = { reach: c.reach, via: c.via, forwardedTo: c.forwardedTo, ranges: [] }; everything.set(k, g); }
      g.ranges.push(...c.sources);
    }
    for (const g of everything.values()) {
      rows.push({ interfaces: [iface], protocol: 'all', ports: '-', reach: g.reach, sources: sourcesOf(family, mergeRanges(g.ranges), top, []), via: g.via, forwardedTo: g.forwardedTo });
    }
    // the rest, per protocol and port range
    const byPort = new Map<string, { protocol: string; from: number; to: number; groups: Map<string, Group> }>();
    for (const c of mine) {
      if (uniform.has(c.sourceClass)) continue;
      const k = `${c.protocol}\u0000${c.fromPort}`;
      let e = byPort.get(k);
      if (!e) { e = { protocol: c.protocol, from: c.fromPort, to: c.toPort, groups: new Map() }; byPort.set(k, e); }
      const gk = valueKey(c);
      let g = e.groups.get(gk);
      if (!g) { g = { reach: c.reach, via: c.via, forwardedTo: c.forwardedTo, ranges: [] }; e.groups.set(gk, g); }
      g.ranges.push(...c.sources);
    }
    const sig = (groups: Map<string, Group>) => JSON.stringify([...groups].map(([k, g]) => [k, mergeRanges(g.ranges).map(([a, b]) => `${a}-${b}`)]).sort());
    const merged: Array<{ protocol: string; from: number; to: number; groups: Map<string, Group> }> = [];
    for (const e of byPort.values()) {
      const prev = merged[merged.length - 1];
      if (prev && prev.protocol === e.protocol && prev.to + 1 === e.from && sig(prev.groups) === sig(e.groups)) prev.to = e.to;
      else merged.push({ ...e });
    }
    for (const e of merged) {
      for (const g of e.groups.values()) {
        rows.push({
          interfaces: [iface],
          protocol: e.protocol,
          ports: e.protocol === 'tcp' || e.protocol === 'udp' ? (e.from === e.to ? `${e.from}` : `${e.from}-${e.to}`) : '-',
          reach: g.reach,
          sources: sourcesOf(family, mergeRanges(g.ranges), top, uniformRanges),
          via: g.via,
          forwardedTo: g.forwardedTo,
        });
      }
    }
  }
  // join interfaces with identical lines
  const protoOrder = ['all', 'tcp', 'udp', 'icmp', 'ipv6-icmp', 'other'];
  const joined = new Map<string, ReachabilityEntry>();
  for (const r of rows) {
    const k = JSON.stringify([r.protocol, r.ports, r.reach, r.sources, r.via, r.forwardedTo ?? '']);
    const prev = joined.get(k);
    if (prev) prev.interfaces.push(...r.interfaces);
    else joined.set(k, { ...r, interfaces: [...r.interfaces] });
  }
  const ifaceOrder = (xs: string[]) => xs.map((x) => (x === OTHER_IFACE ? '~' : x)).join(',');
  const entries = [...joined.values()].sort((a, b) =>
    protoOrder.indexOf(a.protocol) - protoOrder.indexOf(b.protocol)
    || portStart(a.ports) - portStart(b.ports)
    || cmp(ifaceOrder(a.interfaces), ifaceOrder(b.interfaces))
    || REACH_ORDER.indexOf(a.reach) - REACH_ORDER.indexOf(b.reach)
    || cmp(a.forwardedTo ?? '', b.forwardedTo ?? ''));
  const lines = [
    `# ${title}`,
    '# new connections and packets to the host, by protocol, port and arrival interface (* = any interface not named)',
    '# opened: accepted | guarded: accepted until a rate limit or recent list trips | refused: answered with RST / ICMP error | silent: dropped',
    '# "all" lines cover sources treated alike on every port; port lines leave those sources out',
    ...(entries.some((e) => e.reach === Reach.MAYBE) ? ['# maybe: accepted or not, depending on what the rules alone cannot tell (see "depends on")'] : []),
  ];
  for (const r of entries) {
    const what = r.protocol === 'all' ? 'all' : `${r.protocol} ${r.ports === '-' ? (r.protocol === 'other' ? 'protocols' : 'echo-request') : r.ports}`;
    const extra = [
      ...(r.forwardedTo ? [`-> ${r.forwardedTo}`] : []),
      ...(r.via.length ? [r.reach === Reach.MAYBE ? `(depends on ${r.via.join('; ')})` : `(via ${r.via.join(', ')})`] : []),
    ];
    lines.push([pad(what, 18), pad(`on ${r.interfaces.join(',')}`, 16), pad(r.reach, 8), `from ${r.sources.join(' ')}`, ...extra].join(' ').trimEnd());
  }
  return { family, entries, text: lines.join('\n') + '\n' };
}


/**
 * Sources as the shortest text: CIDRs, `any`, or `any except ...`; gaps made
 * only of `dontCare` ranges (covered by an "all" line) are bridged.
 */
function sourcesOf(family: IpFamily, ranges: Array<[bigint, bigint]>, top: bigint, dontCare: Array<[bigint, bigint]>): string[] {
  const care = mergeRanges(dontCare);
  const bridged: Array<[bigint, bigint]> = [];
  const isDontCare = (a: bigint, b: bigint) => care.some(([x, y]) => x <= a && y >= b);
  for (const r of ranges) {
    const last = bridged[bridged.length - 1];
    if (last && isDontCare(last[1] + 1n, r[0] - 1n)) last[1] = r[1];
    else bridged.push([r[0], r[1]]);
  }
  // extend to the edges over don't-care ranges, too
  if (bridged.length) {
    if (bridged[0][0] > 0n && isDontCare(0n, bridged[0][0] - 1n)) bridged[0][0] = 0n;
    const l = bridged[bridged.length - 1];
    if (l[1] < top && isDontCare(l[1] + 1n, top)) l[1] = top;
  }
  return sourcesText(family, bridged, top);
}

function portStart(p: string): number {
  return p === '-' ? 0 : Number(p.split('-')[0]);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

