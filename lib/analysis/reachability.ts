/* eslint-disable no-bitwise */ // address, mask and TCP-flag arithmetic
/**
 * Reachability, computed symbolically from the rules: sources, ports and
 * interfaces are cut at every boundary the rules mention, and one packet per
 * cell is evaluated (fresh state, then "exhausted" state to see what a rate
 * limit or recent list can take away).
 */
import { bitsOf, formatCidr, insideRanges, lastOf, mergedRanges, mergeRanges, parseCidr } from '../values/prefix';
import { Engine, EngineState, EngineVerdict } from './engine';
import { sourcesText } from './intent';
import { ParsedRule } from '../iptables/parse';
import { Action, ConnState, PacketProps, Reach, ReachabilityEntry, ReachabilityReport } from './types';
import { IpFamily } from '../iptables/family';
import { Protocol } from '../values/port';

/** The interface name standing for "any interface the rules do not name". */
export const OTHER_IFACE = '*';
const OTHER_REP = 'cfw%other';

/** One evaluated cell. */
export interface Cell {
  readonly iface: string;
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly srcLo: bigint;
  readonly srcHi: bigint;
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

function allRules(engine: Engine): ParsedRule[] {
  const out: ParsedRule[] = [];
  for (const t of engine.rules.tables.values()) for (const c of t.chains.values()) out.push(...c.rules);
  return out;
}

/** Every cell of the host's reachability (new packets to the host). */
export function cells(engine: Engine, extra: {
  sources?: readonly string[];

  ports?: ReadonlyArray<[number,
    number]>;
  ifaces?: readonly string[];
} = {}): Cell[] {
  const family = engine.rules.family;
  const bits = bitsOf(family);
  const rules = allRules(engine);
  const cuts = new Set<bigint>([0n]);
  const top = (1n << BigInt(bits)) - 1n;
  const portCuts = new Set<number>([1]);
  const ifaces = new Set<string>();
  const setNames = new Set<string>();
  for (const r of rules) {
    for (const t of [r.src, ...r.matches.filter((m) => m.kind === 'srcrange').map((m) => (m as any).addr)]) {
      if (!t) continue;
      const lo = t.cidr ? t.cidr.base : t.from;
      const hi = t.cidr ? lastOf(bits, t.cidr) : t.to;
      cuts.add(lo);
      if (hi < top) cuts.add(hi + 1n);
    }
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
  for (const cidr of extra.sources ?? []) {
    const c = parseCidr(family, cidr);
    cuts.add(c.base);
    if (lastOf(bits, c) < top) cuts.add(lastOf(bits, c) + 1n);
  }

  for (const [lo, hi] of extra.ports ?? []) {
    portCuts.add(Math.max(1, lo));
    if (hi < 65535) portCuts.add(hi + 1);
  }
  for (const i of extra.ifaces ?? []) ifaces.add(i);
  const srcBounds = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const srcIntervals = srcBounds.map((lo, i) => [lo, i + 1 < srcBounds.length ? srcBounds[i + 1] - 1n : top] as [bigint, bigint]);
  const portBounds = [...portCuts].sort((a, b) => a - b);
  const portIntervals = portBounds.map((lo, i) => [lo, i + 1 < portBounds.length ? portBounds[i + 1] - 1 : 65535] as [number, number]);
  const ifaceList = [...[...ifaces].sort(), OTHER_IFACE];
  // set members are evaluated once per set; every other cell from a source outside all sets
  const sets = [...setNames].sort().map((name) => ({ name, entries: engine.sets.get(name)?.entries ?? [] })).filter((x) => x.entries.length > 0);
  const members = mergedRanges(bits, sets.flatMap((x) => x.entries));
  const outsideSets = (lo: bigint, hi: bigint): bigint => {
    let a = lo;
    for (let i = 0; i < 64 && a <= hi && insideRanges(members, a, a); i++) {
      const r = members.find(([rlo, rhi]) => a >= rlo && a <= rhi)!;
      a = r[1] + 1n;
    }
    return a <= hi ? a : lo;
  };
  const sources: Array<{ lo: bigint; hi: bigint; rep: bigint; set?: string }> = [
    ...srcIntervals.map(([lo, hi]) => ({ lo, hi, rep: members.length ? outsideSets(lo, hi) : lo })),
    ...sets.map((x) => ({ lo: x.entries[0].base, hi: x.entries[0].base, rep: x.entries[0].base, set: x.name })),
  ];
  const out: Cell[] = [];
  for (const iface of ifaceList) {
    const rep = iface === OTHER_IFACE ? OTHER_REP : iface.endsWith('+') ? `${iface.slice(0, -1)}0` : iface;
    for (const proto of protocols(family)) {
      const ports = proto.ports ? portIntervals : [[0, 0] as [number, number]];
      for (const [pLo, pHi] of ports) {
        for (const { lo: sLo, hi: sHi, rep: srcRep, set } of sources) {
          const packet: PacketProps = {
            family,
            protocol: proto.protocol,
            protocolNumber: proto.protocolNumber,
            source: formatCidr(family, { base: srcRep, prefix: bits }).split('/')[0],
            destinationPort: proto.ports ? pLo : undefined,
            inInterface: rep,
            state: ConnState.NEW,
          };
          const fresh = new EngineState();
          const v = engine.run(packet, 0, fresh);
          let reach: Reach = v.action === Action.ACCEPT ? Reach.OPENED : v.action === Action.REJECT ? Reach.REFUSED : Reach.SILENT;
          let via: string[] = [];
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
          out.push({ iface, protocol: proto.name, fromPort: pLo, toPort: pHi, srcLo: sLo, srcHi: sHi, reach, via, forwardedTo, verdict: v, set });
        }
      }
    }
  }
  return out;
}

const REACH_ORDER = [Reach.OPENED, Reach.GUARDED, Reach.REFUSED, Reach.SILENT];

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
    const perSource = new Map<bigint, Set<string>>();
    for (const c of mine) {
      let set = perSource.get(c.srcLo);
      if (!set) { set = new Set(); perSource.set(c.srcLo, set); }
      set.add(valueKey(c));
    }
    const uniform = new Set<bigint>([...perSource].filter(([, v]) => v.size === 1).map(([k]) => k));
    const uniformRanges: Array<[bigint, bigint]> = [];
    const everything = new Map<string, Group>();
    const seen = new Set<bigint>();
    for (const c of mine) {
      if (!uniform.has(c.srcLo) || seen.has(c.srcLo)) continue;
      seen.add(c.srcLo);
      uniformRanges.push([c.srcLo, c.srcHi]);
      const k = valueKey(c);
      let g = everything.get(k);
      if (!g) { g = { reach: c.reach, via: c.via, forwardedTo: c.forwardedTo, ranges: [] }; everything.set(k, g); }
      g.ranges.push([c.srcLo, c.srcHi]);
    }
    for (const g of everything.values()) {
      rows.push({ interfaces: [iface], protocol: 'all', ports: '-', reach: g.reach, sources: sourcesOf(family, mergeRanges(g.ranges), top, []), via: g.via, forwardedTo: g.forwardedTo });
    }
    // the rest, per protocol and port range
    const byPort = new Map<string, { protocol: string; from: number; to: number; groups: Map<string, Group> }>();
    for (const c of mine) {
      if (uniform.has(c.srcLo)) continue;
      const k = `${c.protocol}\u0000${c.fromPort}`;
      let e = byPort.get(k);
      if (!e) { e = { protocol: c.protocol, from: c.fromPort, to: c.toPort, groups: new Map() }; byPort.set(k, e); }
      const gk = valueKey(c);
      let g = e.groups.get(gk);
      if (!g) { g = { reach: c.reach, via: c.via, forwardedTo: c.forwardedTo, ranges: [] }; e.groups.set(gk, g); }
      g.ranges.push([c.srcLo, c.srcHi]);
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
  ];
  for (const r of entries) {
    const what = r.protocol === 'all' ? 'all' : `${r.protocol} ${r.ports === '-' ? (r.protocol === 'other' ? 'protocols' : 'echo-request') : r.ports}`;
    const extra = [
      ...(r.forwardedTo ? [`-> ${r.forwardedTo}`] : []),
      ...(r.via.length ? [`(via ${r.via.join(', ')})`] : []),
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
