/* eslint-disable no-bitwise */ // address, mask and TCP-flag arithmetic
/**
 * The library's own net: what a program declared (openings with their sources
 * and interfaces, trusted interfaces, guards, blocks, bogon filters, NAT
 * forwards, ping) against what the rendered rules let in, cell by cell.
 */
import { bitsOf, Cidr, inCidr, insideRanges, mergedRanges, mergeRanges, parseCidr, rangeToCidrs } from '../values/prefix';
import { Engine } from './engine';
import { Cell, cells, OTHER_IFACE } from './reachability';
import { Reach } from './types';
import { IpFamily } from '../iptables/family';

/** A port opening as declared. */
export interface DeclaredOpening {
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  /** Source prefix; undefined: every source. */
  readonly cidr?: string;
  readonly iface?: string;
  readonly owner: string;
}

/** What a host declared, for one family. */
export interface DeclaredIntent {
  readonly family: IpFamily;
  readonly owner: string;
  readonly ping: boolean;
  readonly trusted: readonly string[];
  readonly openings: readonly DeclaredOpening[];
  /** Guards govern their port: they guard its openings, or open it to all when none. */
  readonly guards: ReadonlyArray<{ protocol: string; port: number; owner: string }>;
  readonly blocks: ReadonlyArray<{ cidr: string; owner: string }>;
  readonly bogons: ReadonlyArray<{ iface: string; drop: readonly string[]; allow: readonly string[]; owner: string }>;
  /** DNAT port forwards arriving on `wan`, except from the spoofed (LAN) prefixes. */
  readonly forwards: ReadonlyArray<{
    protocol: string;
    fromPort: number;
    toPort: number;
    wan: string;
    spoofed: readonly string[];
    owner: string;
    /** Only from this source prefix. */
    from?: string;
  }>;
}

/** A difference between declared and computed reachability. */
export interface IntentProblem {
  readonly message: string;
}

const LINK_LOCAL_V6 = 'fe80::/10';

/** Whether the declaration admits a cell's packets, and who declared it. */
function declared(
  intent: DeclaredIntent, c: Cell, ifaceName: string, blocked: ReadonlyArray<[bigint, bigint]>,
): { ok: boolean; by: string[]; optional?: boolean } {
  const fam = intent.family;
  const bits = bitsOf(fam);
  const inside = (cidr: string) => {
    const p: Cidr = parseCidr(fam, cidr);
    return inCidr(bits, p, c.srcLo) && inCidr(bits, p, c.srcHi);
  };
  for (const b of intent.bogons) {
    if (b.iface === ifaceName && b.drop.some(inside) && !b.allow.some(inside)) return { ok: false, by: [b.owner] };
  }
  if (ifaceName === 'lo') return { ok: true, by: [intent.owner] };
  // blocked peers may be many (a blocklist): a cell is blocked when it lies in their union
  if (insideRanges(blocked, c.srcLo, c.srcHi)) {
    const block = intent.blocks.find((b) => inCidr(bits, parseCidr(fam, b.cidr), c.srcLo));
    return { ok: false, by: block ? [block.owner] : [] };
  }
  if (intent.trusted.includes(ifaceName)) return { ok: true, by: [intent.owner] };
  if (c.protocol === 'icmp' || c.protocol === 'ipv6-icmp') {
    if (intent.ping) return { ok: true, by: [intent.owner] };
    if (fam === IpFamily.V6 && inside(LINK_LOCAL_V6)) return { ok: true, by: [intent.owner] };
    return { ok: false, by: [] };
  }
  if (c.protocol !== 'tcp' && c.protocol !== 'udp') return { ok: false, by: [] };
  const covers = (o: { protocol: string; fromPort: number; toPort: number }) =>
    o.protocol === c.protocol && o.fromPort <= c.fromPort && o.toPort >= c.toPort;
  const fwd = intent.forwards.find((f) => covers(f) && f.wan === ifaceName);
  if (fwd) return { ok: !fwd.spoofed.some(inside) && (!fwd.from || inside(fwd.from)), by: [fwd.owner] };
  const openings = intent.openings.filter(covers);
  const admitted = openings.filter((o) => (!o.cidr || inside(o.cidr)) && (!o.iface || o.iface === ifaceName));
  const guard = intent.guards.find((g) => g.protocol === c.protocol && g.port >= c.fromPort && g.port <= c.toPort);
  // a guard on a port nobody opened may open it (as the guards do) or leave it shut
  if (guard && openings.length === 0) return { ok: true, by: [guard.owner], optional: true };
  if (admitted.length > 0) return { ok: true, by: admitted.map((o) => o.owner).concat(guard ? [guard.owner] : []) };
  return { ok: false, by: [...openings.map((o) => o.owner), ...(guard ? [guard.owner] : [])] };
}

/**
 * Compares the reachability computed from the rules with the declaration.
 * `owners` maps a rule's text (`-A CHAIN ...`) to the construct paths that asked for it.
 */
export function checkIntent(engine: Engine, intent: DeclaredIntent, owners: ReadonlyMap<string, readonly string[]> = new Map()): IntentProblem[] {
  const fam = intent.family;
  type Acc = {
    head: string;
    tail: string;
    lines: string[];
    parts: Set<string>;
    srcs: Array<[bigint, bigint]>;
    ports: Array<[number,
      number]>;
    protocol: string;
  };
  const problems = new Map<string, Acc>();
  const extra = {
    sources: [
      ...intent.openings.flatMap((o) => (o.cidr ? [o.cidr] : [])),
      ...intent.bogons.flatMap((b) => [...b.drop, ...b.allow]), ...intent.forwards.flatMap((f) => [...f.spoofed, ...(f.from ? [f.from] : [])]),
      ...(fam === IpFamily.V6 ? [LINK_LOCAL_V6] : []),
    ],
    ports: [
      ...intent.openings.map((o) => [o.fromPort, o.toPort] as [number, number]), ...intent.guards.map((g) => [g.port, g.port] as [number, number]),
      ...intent.forwards.map((f) => [f.fromPort, f.toPort] as [number, number]),
    ],
    ifaces: ['lo', ...intent.trusted, ...intent.openings.flatMap((o) => (o.iface ? [o.iface] : [])), ...intent.bogons.map((b) => b.iface), ...intent.forwards.map((f) => f.wan)],
  };
  const blocked = mergedRanges(bitsOf(fam), intent.blocks.map((b) => parseCidr(fam, b.cidr)));
  for (const c of cells(engine, extra)) {
    const ifaceName = c.iface === OTHER_IFACE ? '*' : c.iface;
    const accepted = c.reach === Reach.OPENED || c.reach === Reach.GUARDED;
    const d = declared(intent, c, ifaceName, blocked);
    if (accepted === d.ok || (d.optional && !accepted)) continue;
    const rules = c.verdict.trace.filter((t) => !/ policy /.test(t));
    const deciding = c.verdict.trace[c.verdict.trace.length - 1] ?? '(no rule)';
    const parts = new Set<string>(d.by);
    for (const t of rules) for (const o of owners.get(t.replace(/^\S+ \S+ #\d+: /, '')) ?? []) parts.add(o);
    const where = `on ${ifaceName === '*' ? 'any other interface' : ifaceName}`;
    const head = `${fam} ${c.protocol}`;
    const tail = accepted
      ? `${where} is ${c.reach}${c.forwardedTo ? ` (forwarded to ${c.forwardedTo})` : ''}, but nothing declares it`
      : `${where} is declared open, but the rules ${c.reach === Reach.REFUSED ? 'refuse' : 'drop'} it`;
    const key = `${head}\u0000${tail}\u0000${deciding}`;
    let p = problems.get(key);
    if (!p) { p = { head, tail, lines: rules, parts, srcs: [], ports: [], protocol: c.protocol }; problems.set(key, p); }
    for (const o of parts) p.parts.add(o);
    if (!p.ports.some(([a]) => a === c.fromPort)) p.ports.push([c.fromPort, c.toPort]);
    if (!p.srcs.some(([a, b]) => a <= c.srcLo && b >= c.srcHi)) p.srcs.push([c.srcLo, c.srcHi]);
  }
  const top = (1n << BigInt(bitsOf(fam))) - 1n;
  return [...problems.values()].map((p) => {
    const srcs = sourcesText(fam, mergeRanges(p.srcs), top);
    const shown = srcs.length > 8 ? [...srcs.slice(0, 8), `and ${srcs.length - 8} more`] : srcs;
    const ports = p.protocol === 'tcp' || p.protocol === 'udp'
      ? mergeRanges(p.ports.map(([a, b]) => [BigInt(a), BigInt(b)] as [bigint, bigint])).map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',')
      : p.protocol === 'other' ? 'other protocols' : 'echo-request';
    return {
      message: `${p.head} ${ports} ${p.tail}: from ${shown.join(' ')}; rules matched: ${p.lines.length ? p.lines.map((l) => `[${l}]`).join(' ') : 'none'}; parts involved: ${[...p.parts].sort().join(', ') || 'none'}`,
    };
  });
}


/** Sources as CIDRs, or `any` / `any except ...` when shorter. */
export function sourcesText(fam: IpFamily, ranges: Array<[bigint, bigint]>, top: bigint): string[] {
  if (ranges.length === 1 && ranges[0][0] === 0n && ranges[0][1] === top) return ['any'];
  const direct = ranges.flatMap(([a, b]) => rangeToCidrs(fam, a, b));
  const comp: Array<[bigint, bigint]> = [];
  let cur = 0n;
  for (const [a, b] of ranges) {
    if (a > cur) comp.push([cur, a - 1n]);
    cur = b + 1n;
  }
  if (cur <= top) comp.push([cur, top]);
  const compCidrs = comp.flatMap(([a, b]) => rangeToCidrs(fam, a, b));
  return compCidrs.length < direct.length ? ['any', 'except', ...compCidrs] : direct;
}
