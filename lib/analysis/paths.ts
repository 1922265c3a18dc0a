/* eslint-disable no-bitwise */ // TCP-flag arithmetic
/**
 * The three paths a packet can take through a host (to it, through it, from
 * it), followed for whole packet sets: every rule splits the set that reaches
 * it into the packets it matches and the rest, as the kernel's walk does.
 * A rule whose verdict depends on state this analysis cannot know (a recent
 * list, a rate limit) both matches and does not: its packets go both ways,
 * so "may be admitted" is exact over every field and every state.
 */
import { InterfaceSpace } from './interfaces';
import {
  Box, compact, Dim, fromRanges, Intervals, narrow, point, setIntersect, setSubtract, span, STATE_VALUES, universe, withField,
} from './space';
import { IpFamily } from '../iptables/family';
import { AddrTest, IfaceTest, Match, ParsedRule, ParsedRuleset, ParsedSet, PortTest } from '../iptables/parse';
import { PORT_PROTOCOLS, SPELLING } from '../iptables/spelling';
import { bitsOf, lastOf, mergedRanges, parseAddress } from '../values/prefix';

/** What a rule's matches select: boxes, and whether the rule also lets every packet pass by (state it cannot know). */
interface RuleSet {
  readonly boxes: Box[];
  readonly may: boolean;
}

/** The result of following one path. */
export interface PathResult {
  /** Packets that may get through. */
  readonly admitted: Box[];
  /** Packets that may be dropped or rejected (by a rule or a policy). */
  readonly refused: Box[];
}

/** What a chain did with the packets that entered it. */
interface ChainOutcome {
  readonly accepted: Box[];
  readonly refused: Box[];
  readonly translated: Box[];
  readonly ret: Box[];
  /** Whether a rule that depends on state (a rate limit, a recent list) took some of the packets on the way. */
  readonly conditional: boolean;
}

/** A refusal the walk saw: the rules that led there (jumps first; none for a policy), the packets, and whether state decided it. */
export interface Refusal {
  readonly table: string;
  readonly chain: string;
  readonly rules: readonly ParsedRule[];
  readonly boxes: Box[];
  /** Reached only past a rule that depends on state (a guard's rate limit or list): not the rules' shape alone. */
  readonly conditional: boolean;
}

/** What a path starts from and which hooks it crosses. */
export type PathName = 'input' | 'forward' | 'output';

/** Follows packet sets through a parsed ruleset. */
export class PathWalker {
  /** The interface space's tokens of a ruleset: every `-i` and `-o` value. */
  public static interfaceTokens(rules: ParsedRuleset): string[] {
    const out: string[] = ['lo'];
    for (const t of rules.tables.values()) {
      for (const c of t.chains.values()) {
        for (const r of c.rules) {
          if (r.inIface) out.push(r.inIface.name);
          if (r.outIface) out.push(r.outIface.name);
        }
      }
    }
    return out;
  }

  public readonly family: IpFamily;
  public readonly bits: number;
  public readonly full: Box;
  /** Every packet, with or without interfaces: what a rule without `-i` / `-o` matches. */
  private readonly any: Box;
  private readonly ruleSets = new Map<ParsedRule, RuleSet>();
  private readonly top: bigint;

  /**
   * @param onAccept told of every ACCEPT (and translation) with the packets it
   * took and the rules that led there (jumps first); a policy's with no rules
   */
  public constructor(
    private readonly rules: ParsedRuleset,
    private readonly sets: ReadonlyMap<string, ParsedSet>,
    public readonly ifaces: InterfaceSpace,
    private readonly onAccept: (rules: readonly ParsedRule[], boxes: Box[]) => void = () => undefined,
    private readonly onRefuse: (refusal: Refusal) => void = () => undefined,
  ) {
    this.family = rules.family;
    this.bits = bitsOf(this.family);
    this.top = (1n << BigInt(this.bits)) - 1n;
    this.any = universe(this.bits, ifaces.size);
    // every real interface (the "no interface" class is set only where a path has none)
    this.full = withField(withField(this.any, Dim.IN, ifaces.all), Dim.OUT, ifaces.all);
  }

  /** Every packet a path can carry: locally generated ones have no arrival interface, arriving ones no leaving interface when they are for the host. */
  public baseOf(name: PathName): Box {
    const none = point(this.ifaces.none);
    // only a packet routed through the host can belong to a translated (DNAT) connection
    if (name === 'output') return withField(withField(this.full, Dim.IN, none), Dim.DNAT, point(0));
    if (name === 'input') return withField(withField(this.full, Dim.OUT, none), Dim.DNAT, point(0));
    return this.full;
  }

  /**
   * The packets of path `name` that may get through, and those that may not.
   * @param start the packets to follow (default: every packet of the path)
   */
  public walkPath(name: PathName, start?: Box[]): PathResult {
    const refused: Box[] = [];
    const from = (template: Box): Box[] => (start ? setIntersect(start, [template]) : [template]);
    // before routing: raw and mangle PREROUTING see every arriving packet
    if (name === 'output') {
      let set: Box[] = from(withField(this.baseOf('output'), Dim.DNAT, point(0)));
      for (const [table, chain] of [['raw', 'OUTPUT'], ['mangle', 'OUTPUT']] as const) set = this.hook(table, chain, set, refused);
      set = this.natHook('OUTPUT', set, refused).all;
      for (const [table, chain] of [['filter', 'OUTPUT'], ['security', 'OUTPUT'], ['mangle', 'POSTROUTING']] as const) set = this.hook(table, chain, set, refused);
      set = this.natHook('POSTROUTING', set, refused).all;
      return { admitted: compact(set), refused: compact(refused) };
    }
    const arriving = this.baseOf(name);
    let set: Box[] = from(withField(arriving, Dim.DNAT, point(0)));
    for (const [table, chain] of [['raw', 'PREROUTING'], ['mangle', 'PREROUTING']] as const) set = this.hook(table, chain, set, refused);
    const nat = this.natHook('PREROUTING', set, refused);
    if (name === 'input') {
      // packets a port forward translated are routed through the host, not to it
      set = nat.kept;
      for (const [table, chain] of [['mangle', 'INPUT'], ['filter', 'INPUT'], ['security', 'INPUT']] as const) set = this.hook(table, chain, set, refused);
      set = this.natHook('INPUT', set, refused).all;
      return { admitted: compact(set), refused: compact(refused) };
    }
    // forwarded: the untranslated packets, the translated ones, and packets of translated connections
    const established = setSubtract(from(withField(arriving, Dim.DNAT, point(1))), [withField(this.any, Dim.STATE, point(STATE_VALUES.NEW))]);
    set = [...nat.all, ...established];
    for (const [table, chain] of [['mangle', 'FORWARD'], ['filter', 'FORWARD'], ['security', 'FORWARD'], ['mangle', 'POSTROUTING']] as const) set = this.hook(table, chain, set, refused);
    set = this.natHook('POSTROUTING', set, refused).all;
    return { admitted: compact(set), refused: compact(refused) };
  }

  /** One hook of one table: the packets that go on (accepted, or left to an ACCEPT policy); the rest are added to `refused`. */
  private hook(table: string, chain: string, set: Box[], refused: Box[]): Box[] {
    const c = this.rules.tables.get(table)?.chains.get(chain);
    if (!c || set.length === 0) return set;
    const r = this.walk(table, chain, set, 0, [], false);
    const policyDrop = (c.policy ?? 'ACCEPT') !== 'ACCEPT';
    if (!policyDrop && table === 'filter' && r.ret.length) this.onAccept([], r.ret);
    if (policyDrop && r.ret.length) this.onRefuse({ table, chain, rules: [], boxes: r.ret, conditional: r.conditional });
    refused.push(...r.refused, ...(policyDrop ? r.ret : []));
    return compact([...r.accepted, ...(policyDrop ? [] : r.ret)]);
  }

  /**
   * A nat hook: only the first packet of a connection crosses it. `kept`: the
   * packets that go on untranslated (or with a new source); `all`: every
   * packet that goes on, translated ones included (their destination and
   * port rewritten, DNAT status set).
   */
  private natHook(chain: string, set: Box[], refused: Box[]): { kept: Box[]; all: Box[] } {
    const c = this.rules.tables.get('nat')?.chains.get(chain);
    if (!c || set.length === 0) return { kept: set, all: set };
    const newOnly = [withField(this.any, Dim.STATE, point(STATE_VALUES.NEW))];
    const first = setIntersect(set, newOnly);
    const later = setSubtract(set, newOnly);
    const r = this.walk('nat', chain, first, 0, [], false);
    refused.push(...r.refused);
    const kept = compact([...later, ...r.accepted, ...r.ret]);
    return { kept, all: compact([...kept, ...r.translated]) };
  }

  /** Walks a chain: what it accepts, refuses, translates, and what falls out of its end (or RETURNs). */
  private walk(table: string, chainName: string, input: Box[], depth: number, stack: readonly ParsedRule[], entered: boolean): ChainOutcome {
    if (depth > 64) throw new Error(`${table} ${chainName}: jumps nest deeper than 64 (a loop?)`);
    const chains = this.rules.tables.get(table)!.chains;
    const chain = chains.get(chainName)!;
    let conditional = entered;
    const accepted: Box[] = [];
    const refused: Box[] = [];
    const translated: Box[] = [];
    const ret: Box[] = [];
    let set = input;
    for (const group of groupRules(chain.rules)) {
      if (set.length === 0) break;
      const rule = group[0];
      const rs = this.matchOf(group);
      const hit = setIntersect(set, rs.boxes);
      const rest = rs.may ? set : setSubtract(set, rs.boxes);
      if (hit.length === 0) { set = rest; continue; }
      // from here on, state may have decided which way some packets went
      const stateful = conditional || rs.may;
      if (rs.may) conditional = true;
      const t = rule.target;
      switch (t.kind) {
        case 'ACCEPT':
          accepted.push(...hit);
          if (table === 'filter') this.onAccept([...stack, ...group], hit);
          set = rest;
          break;
        case 'DROP':
        case 'REJECT':
          refused.push(...hit);
          this.onRefuse({ table, chain: chainName, rules: [...stack, ...group], boxes: hit, conditional: stateful });
          set = rest;
          break;
        case 'RETURN':
          ret.push(...hit);
          set = rest;
          break;
        case 'jump':
        case 'goto': {
          const r = this.walk(table, t.chain, hit, depth + 1, [...stack, ...group], stateful);
          if (r.conditional) conditional = true;
          accepted.push(...r.accepted);
          refused.push(...r.refused);
          translated.push(...r.translated);
          if (t.kind === 'goto') {
            ret.push(...r.ret);
            set = rest;
          } else {
            set = compact([...rest, ...r.ret]);
          }
          break;
        }
        case 'DNAT': {
          let moved = hit.map((b) => withField(b, Dim.DNAT, point(1)));
          if (t.address !== undefined && t.address !== '') {
            const a = parseAddr(this.family, t.address);
            moved = moved.map((b) => withField(b, Dim.DST, point(a)));
          }
          if (t.port !== undefined) moved = moved.map((b) => withField(b, Dim.DPORT, span(t.port!, t.portTo ?? t.port!)));
          translated.push(...moved);
          this.onAccept([...stack, ...group], moved);
          set = rest;
          break;
        }
        case 'SNAT':
        case 'MASQUERADE':
          accepted.push(...hit);
          set = rest;
          break;
        case 'REDIRECT': {
          // to the host itself, maybe on other ports: the packets stay on their path
          let moved = hit.map((b) => withField(b, Dim.DNAT, point(1)));
          if (t.port !== undefined) moved = moved.map((b) => withField(b, Dim.DPORT, span(t.port!, t.portTo ?? t.port!)));
          accepted.push(...moved);
          set = rest;
          break;
        }
        case 'depends':
          // decided outside the ruleset (a queue, a proxy, an unknown target): taken, refused, or passed on
          conditional = true;
          accepted.push(...hit);
          refused.push(...hit);
          if (table === 'filter') this.onAccept([...stack, ...group], hit);
          this.onRefuse({ table, chain: chainName, rules: [...stack, ...group], boxes: hit, conditional: true });
          break;
        default:
          // LOG, NFLOG, no target: the packets go on
          break;
      }
      if (set.length > 16) set = compact(set);
    }
    ret.push(...set);
    return { accepted, refused, translated, ret, conditional };
  }

  /** The boxes a rule (or a group of rules that differ in their source only) matches. */
  private matchOf(group: readonly ParsedRule[]): RuleSet {
    if (group.length === 1) {
      let rs = this.ruleSets.get(group[0]);
      if (!rs) this.ruleSets.set(group[0], (rs = this.ruleMatch(group[0])));
      return rs;
    }
    const base = this.ruleMatch(group[0], true);
    const src = fromRanges(group.map((r) => [r.src!.cidr!.base, lastOf(this.bits, r.src!.cidr!)] as [bigint, bigint]));
    return { boxes: base.boxes.flatMap((b) => { const n = narrow(b, Dim.SRC, src); return n ? [n] : []; }), may: base.may };
  }

  /** The boxes one rule matches. */
  public ruleMatch(rule: ParsedRule, ignoreSource = false): RuleSet {
    let boxes: Box[] = [this.any];
    let may = false;
    const and = (d: Dim, set: Intervals) => {
      boxes = boxes.flatMap((b) => { const n = narrow(b, d, set); return n ? [n] : []; });
    };
    const andAny = (alternatives: Box[]) => { boxes = setIntersect(boxes, alternatives); };
    if (rule.proto) and(Dim.PROTO, rule.proto.neg ? this.not(Dim.PROTO, point(rule.proto.num)) : point(rule.proto.num));
    if (rule.src && !ignoreSource) and(Dim.SRC, this.addr(rule.src));
    if (rule.dst) and(Dim.DST, this.addr(rule.dst));
    if (rule.inIface) and(Dim.IN, this.iface(rule.inIface));
    if (rule.outIface) and(Dim.OUT, this.iface(rule.outIface));
    for (const m of rule.matches) {
      const r = this.match(m);
      if (r === 'may') may = true;
      else if (r === 'never') boxes = [];
      else if (r !== 'always') andAny(r);
    }
    return { boxes: compact(boxes), may };
  }

  /** What one match selects: boxes, every packet, no packet, or "may" (it depends on state). */
  private match(m: Match): Box[] | 'always' | 'never' | 'may' {
    const f = this.any;
    const one = (d: Dim, set: Intervals) => [withField(f, d, set)];
    switch (m.kind) {
      case 'comment':
        return 'always';
      case 'never':
        return 'never';
      case 'ctstate': {
        const states = m.states.filter((s) => s in STATE_VALUES).map((s) => STATE_VALUES[s]);
        const dnat = m.states.includes('DNAT');
        if (m.states.includes('SNAT')) return 'may';
        const stateSet = fromRanges(states.map((v) => [v, v] as [number, number]));
        if (!m.neg) return [...(states.length ? one(Dim.STATE, stateSet) : []), ...(dnat ? one(Dim.DNAT, point(1)) : [])];
        let b = withField(f, Dim.STATE, this.not(Dim.STATE, stateSet));
        if (dnat) b = withField(b, Dim.DNAT, point(0));
        return [b];
      }
      case 'sport':
      case 'dport':
      case 'anyport': {
        const ports = this.ports(m.port);
        const portProtocols = fromRanges(PORT_PROTOCOLS.map((p) => [p, p] as [number, number]));
        const withProto = (b: Box) => withField(b, Dim.PROTO, portProtocols);
        if (m.kind !== 'anyport') return [withProto(withField(f, m.kind === 'sport' ? Dim.SPORT : Dim.DPORT, ports))];
        if (!m.port.neg) return [withProto(withField(f, Dim.SPORT, ports)), withProto(withField(f, Dim.DPORT, ports))];
        return [withProto(withField(withField(f, Dim.SPORT, ports), Dim.DPORT, ports))];
      }
      case 'tcpflags': {
        const values: Array<[number, number]> = [];
        for (let v = 0; v < 256; v++) if (((v & m.mask) === m.comp) !== m.neg) values.push([v, v]);
        return [withField(withField(f, Dim.PROTO, point(6)), Dim.FLAGS, fromRanges(values))];
      }
      case 'icmptype': {
        const proto = SPELLING[m.v6 ? IpFamily.V6 : IpFamily.V4].icmpProtocolNumber;
        if (m.type === -2) return 'never';
        const types = m.code === undefined ? span(m.type * 256, m.type * 256 + 255) : point(m.type * 256 + m.code);
        return [withField(withField(f, Dim.PROTO, point(proto)), Dim.ICMP, m.neg ? this.not(Dim.ICMP, types) : types)];
      }
      case 'ttl': {
        const set = m.op === 'eq' ? point(m.value) : m.op === 'lt' ? span(0, m.value - 1) : span(m.value + 1, 255);
        return one(Dim.TTL, m.neg ? this.not(Dim.TTL, set) : set);
      }
      case 'srcrange':
        return one(Dim.SRC, this.addr(m.addr));
      case 'dstrange':
        return one(Dim.DST, this.addr(m.addr));
      case 'set': {
        const s = this.sets.get(m.name);
        if (!s) return 'may';
        const members = fromRanges(mergedRanges(this.bits, s.entries));
        return one(m.dst ? Dim.DST : Dim.SRC, m.neg ? this.not(Dim.SRC, members) : members);
      }
      case 'recent':
        // --set always matches (and a negated --set never); the checks depend on the list
        if (m.op === 'set') return m.neg ? 'never' : 'always';
        return 'may';
      case 'limit':
      case 'hashlimit':
        return 'may';
      case 'rpfilter':
        // as the evaluator does without routes: the reverse path is taken to be the right one
        return m.invert ? 'never' : 'always';
    }
    return 'may';
  }

  private not(d: Dim, set: Intervals): Intervals {
    const u = this.full[d];
    const out: Array<[bigint | number, bigint | number]> = [];
    let cur: bigint | number = u[0];
    for (let i = 0; i < set.length; i += 2) {
      if (set[i] > cur) out.push([cur, typeof cur === 'bigint' ? (set[i] as bigint) - 1n : (set[i] as number) - 1]);
      cur = typeof set[i + 1] === 'bigint' ? (set[i + 1] as bigint) + 1n : (set[i + 1] as number) + 1;
    }
    if (cur <= u[1]) out.push([cur, u[1]]);
    return fromRanges(out);
  }

  private addr(t: AddrTest): Intervals {
    const set = t.cidr ? span(t.cidr.base, lastOf(this.bits, t.cidr)) : span(t.from!, t.to!);
    return t.neg ? this.not(Dim.SRC, set) : set;
  }

  private iface(t: IfaceTest): Intervals {
    const set = this.ifaces.match(t.name);
    return t.neg ? fromRanges(subtractSpan(this.ifaces.all, set)) : set;
  }

  private ports(t: PortTest): Intervals {
    const set = fromRanges(t.ranges);
    return t.neg ? this.not(Dim.DPORT, set) : set;
  }

  /** The whole address space. */
  public get addresses(): Intervals {
    return span(0n, this.top);
  }
}

function subtractSpan(a: Intervals, b: Intervals): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < a.length; i += 2) {
    let lo = Number(a[i]);
    const hi = Number(a[i + 1]);
    for (let j = 0; j < b.length; j += 2) {
      const blo = Number(b[j]);
      const bhi = Number(b[j + 1]);
      if (bhi < lo || blo > hi) continue;
      if (blo > lo) out.push([lo, blo - 1]);
      lo = bhi + 1;
    }
    if (lo <= hi) out.push([lo, hi]);
  }
  return out;
}

function parseAddr(family: IpFamily, text: string): bigint {
  return parseAddress(family, text, 'DNAT address');
}

const GROUPS = new WeakMap<readonly ParsedRule[], ParsedRule[][]>();

/**
 * A chain's rules with runs of rules that differ only in their source prefix
 * (an allowlist of thousands of addresses to one port) taken together: such
 * a run matches as one rule whose source is the union of theirs.
 */
export function groupRules(rules: readonly ParsedRule[]): ParsedRule[][] {
  let g = GROUPS.get(rules);
  if (g) return g;
  g = [];
  let cur: ParsedRule[] = [];
  let key: string | undefined;
  for (const r of rules) {
    const k = sourceVariantKey(r);
    if (k !== undefined && k === key) {
      cur.push(r);
      continue;
    }
    if (cur.length) g.push(cur);
    cur = [r];
    key = k;
  }
  if (cur.length) g.push(cur);
  GROUPS.set(rules, g);
  return g;
}

/** What a rule is apart from its source prefix (undefined: the rule cannot join a run). */
export function sourceVariantKey(r: ParsedRule): string | undefined {
  if (!r.src || r.src.neg || !r.src.cidr) return undefined;
  if (r.matches.some((m) => m.kind === 'recent' || m.kind === 'limit' || m.kind === 'hashlimit')) return undefined;
  return JSON.stringify([r.dst, r.inIface, r.outIface, r.proto, r.matches.filter((m) => m.kind !== 'comment'), r.target],
    (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}
