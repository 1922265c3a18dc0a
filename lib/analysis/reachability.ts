/**
 * Reachability, computed symbolically from the rules: sources, ports and
 * interfaces are cut at every boundary the rules mention, and one packet per
 * cell is evaluated (fresh state, then "exhausted" state to see what a rate
 * limit or recent list can take away).
 */
import { bitsOf, formatCidr, lastOf, parseCidr, rangeToCidrs } from './address';
import { Engine, EngineState, EngineVerdict } from './engine';
import { ParsedRule } from './parse';
import { Action, ConnState, PacketProps, Reach, ReachabilityEntry, ReachabilityReport } from './types';
import { IpFamily } from '../model/family';
import { Protocol } from '../model/port';

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
export function cells(engine: Engine, extra: { sources?: readonly string[]; ports?: ReadonlyArray<[number, number]>; ifaces?: readonly string[] } = {}): Cell[] {
  const family = engine.rules.family;
  const bits = bitsOf(family);
  const rules = allRules(engine);
  const cuts = new Set<bigint>([0n]);
  const top = (1n << BigInt(bits)) - 1n;
  const portCuts = new Set<number>([1]);
  const ifaces = new Set<string>();
  for (const r of rules) {
    for (const t of [r.src, ...r.matches.filter((m) => m.kind === 'srcrange').map((m) => (m as any).addr)]) {
      if (!t) continue;
      const lo = t.cidr ? t.cidr.base : t.from;
      const hi = t.cidr ? lastOf(bits, t.cidr) : t.to;
      cuts.add(lo);
      if (hi < top) cuts.add(hi + 1n);
    }
    for (const m of r.matches) {
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
  const out: Cell[] = [];
  for (const iface of ifaceList) {
    const rep = iface === OTHER_IFACE ? OTHER_REP : iface.endsWith('+') ? `${iface.slice(0, -1)}0` : iface;
    for (const proto of protocols(family)) {
      const ports = proto.ports ? portIntervals : [[0, 0] as [number, number]];
      for (const [pLo, pHi] of ports) {
        for (const [sLo, sHi] of srcIntervals) {
          const packet: PacketProps = {
            family,
            protocol: proto.protocol,
            protocolNumber: proto.protocolNumber,
            source: formatCidr(family, { base: sLo, prefix: bits }).split('/')[0],
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
          const forwardedTo = v.forwarded && v.translatedDestination
            ? `${v.translatedDestination}${v.translatedDestinationPort !== undefined ? `:${v.translatedDestinationPort}` : ''}`
            : undefined;
          out.push({ iface, protocol: proto.name, fromPort: pLo, toPort: pHi, srcLo: sLo, srcHi: sHi, reach, via, forwardedTo, verdict: v });
        }
      }
    }
  }
  return out;
}

const REACH_ORDER = [Reach.OPENED, Reach.GUARDED, Reach.REFUSED, Reach.SILENT];

/** Folds cells into report entries: sources merged, equal port ranges and interfaces joined. */
export function report(family: IpFamily, all: Cell[], title: string): ReachabilityReport {
  const bits = bitsOf(family);
  const top = (1n << BigInt(bits)) - 1n;
  type Group = { reach: Reach; via: string[]; forwardedTo?: string; ranges: Array<[bigint, bigint]> };
  // per iface+protocol+port interval: groups of sources
  const byPort = new Map<string, { iface: string; protocol: string; from: number; to: number; groups: Group[] }>();
  for (const c of all) {
    const k = `${c.iface}\u0000${c.protocol}\u0000${c.fromPort}`;
    let e = byPort.get(k);
    if (!e) { e = { iface: c.iface, protocol: c.protocol, from: c.fromPort, to: c.toPort, groups: [] }; byPort.set(k, e); }
    const gk = (g: Group) => `${g.reach}|${g.via.join(',')}|${g.forwardedTo ?? ''}`;
    const key = gk({ reach: c.reach, via: c.via, forwardedTo: c.forwardedTo, ranges: [] });
    let g = e.groups.find((x) => gk(x) === key);
    if (!g) { g = { reach: c.reach, via: c.via, forwardedTo: c.forwardedTo, ranges: [] }; e.groups.push(g); }
    const last = g.ranges[g.ranges.length - 1];
    if (last && last[1] + 1n === c.srcLo) last[1] = c.srcHi;
    else g.ranges.push([c.srcLo, c.srcHi]);
  }
  const sig = (groups: Group[]) => JSON.stringify(groups.map((g) => [g.reach, g.via, g.forwardedTo ?? '', g.ranges.map(([a, b]) => `${a}-${b}`)]).sort());
  // merge adjacent port intervals with the same groups
  const merged: Array<{ iface: string; protocol: string; from: number; to: number; groups: Group[] }> = [];
  for (const e of byPort.values()) {
    const prev = merged[merged.length - 1];
    if (prev && prev.iface === e.iface && prev.protocol === e.protocol && prev.to + 1 === e.from && sig(prev.groups) === sig(e.groups)) prev.to = e.to;
    else merged.push({ ...e });
  }
  const sourcesText = (ranges: Array<[bigint, bigint]>): string[] => {
    const direct = ranges.flatMap(([a, b]) => rangeToCidrs(family, a, b));
    if (ranges.length === 1 && ranges[0][0] === 0n && ranges[0][1] === top) return ['any'];
    const comp: Array<[bigint, bigint]> = [];
    let cur = 0n;
    for (const [a, b] of ranges) {
      if (a > cur) comp.push([cur, a - 1n]);
      cur = b + 1n;
    }
    if (cur <= top) comp.push([cur, top]);
    const compCidrs = comp.flatMap(([a, b]) => rangeToCidrs(family, a, b));
    return compCidrs.length < direct.length ? ['any', 'except', ...compCidrs] : direct;
  };
  const rows: ReachabilityEntry[] = [];
  for (const e of merged) {
    for (const g of [...e.groups].sort((a, b) => REACH_ORDER.indexOf(a.reach) - REACH_ORDER.indexOf(b.reach) || (a.forwardedTo ?? '').localeCompare(b.forwardedTo ?? ''))) {
      rows.push({
        interfaces: [e.iface],
        protocol: e.protocol,
        ports: e.protocol === 'tcp' || e.protocol === 'udp' ? (e.from === e.to ? `${e.from}` : `${e.from}-${e.to}`) : '-',
        reach: g.reach,
        sources: sourcesText(g.ranges),
        via: g.via,
        forwardedTo: g.forwardedTo,
      });
    }
  }
  // join interfaces with identical lines
  const protoOrder = ['tcp', 'udp', 'icmp', 'ipv6-icmp', 'other'];
  const joined = new Map<string, ReachabilityEntry>();
  for (const r of rows) {
    const k = JSON.stringify([r.protocol, r.ports, r.reach, r.sources, r.via, r.forwardedTo ?? '']);
    const prev = joined.get(k);
    if (prev) prev.interfaces.push(...r.interfaces);
    else joined.set(k, { ...r, interfaces: [...r.interfaces] });
  }
  const entries = [...joined.values()].sort((a, b) =>
    protoOrder.indexOf(a.protocol) - protoOrder.indexOf(b.protocol)
    || portStart(a.ports) - portStart(b.ports)
    || cmp(a.interfaces.join(','), b.interfaces.join(','))
    || REACH_ORDER.indexOf(a.reach) - REACH_ORDER.indexOf(b.reach));
  const lines = [
    `# ${title}`,
    '# new connections and packets to the host, by protocol, port and arrival interface (* = any other interface)',
    '# opened: accepted | guarded: accepted until a rate limit or recent list trips | refused: answered with RST / ICMP error | silent: dropped',
  ];
  for (const r of entries) {
    const what = `${r.protocol} ${r.ports === '-' ? (r.protocol === 'other' ? 'protocols' : 'echo-request') : r.ports}`;
    const extra = [
      ...(r.forwardedTo ? [`-> ${r.forwardedTo}`] : []),
      ...(r.via.length ? [`(via ${r.via.join(', ')})`] : []),
    ];
    lines.push([pad(what, 18), pad(`on ${r.interfaces.join(',')}`, 16), pad(r.reach, 8), `from ${r.sources.join(' ')}`, ...extra].join(' ').trimEnd());
  }
  return { family, entries, text: lines.join('\n') + '\n' };
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
