/* eslint-disable no-bitwise */ // address, mask and TCP-flag arithmetic
/**
 * The packet walk of the kernel over a parsed ruleset: raw PREROUTING →
 * mangle PREROUTING → nat PREROUTING (DNAT, NEW only) → routing → mangle /
 * filter / security INPUT → nat INPUT, or mangle / filter / security FORWARD →
 * mangle / nat POSTROUTING; with the state of xt_recent, xt_limit and
 * xt_hashlimit carried from packet to packet.
 */
import { groupRules } from './paths';
import { Action, EvaluatorOptions, PacketProps, Verdict } from './types';
import { IpFamily } from '../iptables/family';
import { AddrTest, IfaceTest, Match, ParsedChain, ParsedRule, ParsedRuleset, ParsedSet, parseIpsets, parseTcpFlags, PortTest, PROTOCOL_NUMBERS } from '../iptables/parse';
import { PORT_PROTOCOLS } from '../iptables/spelling';
import { ConnState } from '../values/conn-state';
import { bitsOf, Cidr, formatAddress, inCidr, maskOf, parseAddress, parseCidr } from '../values/prefix';

/** xt_recent module defaults: entries per list, hits per entry. */
export const RECENT_LIST_SIZE = 100;
export const RECENT_HITS = 20;

/** ICMPv6 types the kernel's conntrack leaves untracked (MLD, RS, RA, NS, NA, MLDv2 report). */
const UNTRACKED_ICMPV6 = [130, 131, 132, 133, 134, 135, 136, 143];

/** A packet as the engine sees it. */
interface Pkt {
  readonly family: IpFamily;
  readonly bits: number;
  readonly proto: number;
  readonly src: bigint;
  dst?: bigint;
  readonly sport: number;
  dport?: number;
  readonly inIface: string;
  outIface?: string;
  state: ConnState;
  readonly outbound: boolean;
  /** The packet's and its connection's marks (undefined: not known offline). */
  mark?: number;
  ctmark?: number;
  readonly length?: number;
  readonly tos: number;
  /** Destination and port before any DNAT. */
  readonly origDst?: bigint;
  readonly origDport?: number;
  /** A REDIRECT sent the packet to the host itself. */
  redirected: boolean;
  /** The packet names the interface it leaves on: routed through the host. */
  readonly routed: boolean;
  readonly flags: number;
  readonly icmpType: number;
  readonly icmpCode: number;
  readonly ttl: number;
  dnat: boolean;
}

interface RecentEntry { stamps: number[]; index: number; ttl: number }
interface Bucket { credit: number; prev: number; last: number }

/** The state that sequences carry: recent lists, limit buckets, hashlimit tables. */
export class EngineState {
  public readonly recent = new Map<string, Map<string, RecentEntry>>();
  public readonly limits = new Map<string, Bucket>();
  public readonly hashlimits = new Map<string, Map<string, Bucket>>();
  /** Names of stateful matches that were consulted (for the reachability report). */
  public readonly consulted = new Set<string>();
  /**
   * Seconds of clock uncertainty (the kernel counts time in jiffies): a rate
   * or window decision that would differ within `slack` sets `ambiguous`.
   */
  public slack = 0;
  /** Set when a decision of the last packet was within `slack` of its boundary. */
  public ambiguous = false;
  private journal: Array<[Map<string, unknown>, Map<string, unknown>]> | undefined;
  /** Take the other branch of decisions within `slack` (to follow a kernel that did). */
  public flip = false;

  /**
   * @param exhausted evaluate as if every recent check matched and every rate were used up
   */
  public constructor(public readonly exhausted = false) {}

  /** Starts recording what the next packet changes, so that `rollback()` can undo it. */
  public begin(): void {
    this.journal = [];
  }

  /** Called before a map of this state changes: keeps a copy for `rollback()`. */
  public touch(m: Map<string, unknown>): void {
    if (!this.journal || this.journal.some(([x]) => x === m)) return;
    this.journal.push([m, new Map([...m].map(([k, v]) => [k, copyValue(v)]))]);
  }

  /** A copy of the lists and buckets, for `restore()`. */
  public snapshot(): Array<Map<string, unknown>> {
    return [this.recent, this.limits, this.hashlimits].map((m) => copyValue(m) as Map<string, unknown>);
  }

  /** Puts back the lists and buckets of a `snapshot()`. */
  public restore(copy: Array<Map<string, unknown>>): void {
    [this.recent, this.limits, this.hashlimits].forEach((m, i) => {
      m.clear();
      for (const [k, v] of copyValue(copy[i]) as Map<string, never>) m.set(k, v);
    });
  }

  /** Undoes every change since `begin()`. */
  public rollback(): void {
    for (const [m, copy] of (this.journal ?? []).reverse()) {
      m.clear();
      for (const [k, v] of copy) m.set(k, v);
    }
    this.journal = [];
  }
}

function copyValue(v: unknown): unknown {
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, copyValue(x)]));
  if (v && typeof v === 'object') {
    const o = { ...(v as Record<string, unknown>) };
    if (Array.isArray(o.stamps)) o.stamps = [...o.stamps];
    return o;
  }
  return v;
}

/** Hashlimit's garbage collector runs once a second: an idle entry lives up to that much past its expiry. */
const HASHLIMIT_GC_SECONDS = 1;

/** A rule or policy that counted a packet: index 0 is the chain's policy. */
export interface Hit {
  readonly table: string;
  readonly chain: string;
  readonly index: number;
}

/** A verdict with the counters it moved. */
export interface EngineVerdict extends Verdict {
  readonly hits: Hit[];
}

type Flow = { kind: 'continue' } | { kind: 'return' } | { kind: 'final'; action: Action; rejectWith?: string; reason?: string } | { kind: 'accept' };

/** How many ways through the rules one packet may be followed when conditions cannot be decided offline. */
const MAX_BRANCHES = 64;

/**
 * The answers to the conditions a walk cannot decide: given ones first, then
 * "no" to each new one, with the walk that answers "yes" queued.
 */
class Choices {
  public readonly asked: string[] = [];
  public readonly pending: boolean[][] = [];
  private readonly path: boolean[] = [];

  public constructor(private readonly given: readonly boolean[]) {}

  public ask(reason: string): boolean {
    this.asked.push(reason);
    const i = this.path.length;
    const answer = i < this.given.length ? this.given[i] : false;
    if (i >= this.given.length) this.pending.push([...this.path, true]);
    this.path.push(answer);
    return answer;
  }
}

/** Match kinds whose outcome may turn on what an offline reading cannot know. */
const MAY_ASK = new Set<string>(['depends', 'mark', 'length', 'cttuple', 'ctport', 'ctstatus', 'ctdir', 'ctexpire', 'pkttype', 'addrtype']);

/** Evaluates packets against one parsed ruleset. */
export class Engine {
  private readonly bits: number;
  private readonly local: bigint[];
  private readonly routes: Array<{ cidr: Cidr; iface: string }>;
  private readonly ifaceAddr = new Map<string, string>();
  /** ipset sets by name. */
  public readonly sets: Map<string, ParsedSet>;
  /** Whether some rule's outcome may turn on what an offline reading cannot know. */
  private readonly undecidable: boolean;
  private choices: Choices | undefined;

  public constructor(public readonly rules: ParsedRuleset, public readonly options: EvaluatorOptions = {}) {
    const fam = rules.family;
    this.bits = bitsOf(fam);
    this.local = (options.localAddresses ?? []).filter((a) => isFamily(fam, a)).map((a) => parseAddress(fam, a, 'localAddresses entry'));
    this.routes = (options.routes ?? []).filter((r) => isFamily(fam, r.cidr.split('/')[0])).map((r) => ({ cidr: parseCidr(fam, r.cidr), iface: r.iface }));
    for (const a of options.interfaceAddresses ?? []) if (isFamily(fam, a.address)) this.ifaceAddr.set(a.iface, a.address);
    this.sets = parseIpsets(fam, options.ipsets ?? '');
    let undecidable = false;
    for (const t of rules.tables.values()) {
      for (const c of t.chains.values()) {
        for (const r of c.rules) {
          for (const m of r.matches) {
            if (MAY_ASK.has(m.kind)) undecidable = true;
            if (m.kind === 'set' && !this.sets.has(m.name)) {
              throw new Error(`rule "${r.text}" matches ipset ${m.name}: give its contents as EvaluatorOptions.ipsets (the \`ipset save\` text)`);
            }
          }
        }
      }
    }
    this.undecidable = undecidable;
  }

  /**
   * One packet through the host, with `state` updated. A condition that
   * cannot be decided offline is followed both ways: when the ways end alike
   * the verdict stands, else it is DEPENDS with what it turns on (the state
   * carried on is that of the way where no such condition held).
   */
  public run(packet: PacketProps, at: number, state: EngineState): EngineVerdict {
    if (!this.undecidable) return this.once(packet, at, state, undefined);
    const before = state.snapshot();
    const first = new Choices([]);
    const v0 = this.once(packet, at, state, first);
    if (first.pending.length === 0) return v0;
    const after = state.snapshot();
    const reasons = new Set([...first.asked, ...(v0.dependsOn ?? [])]);
    const queue = [...first.pending];
    let same = v0.action !== Action.DEPENDS;
    let runs = 1;
    while (queue.length > 0 && runs < MAX_BRANCHES) {
      state.restore(before);
      const c = new Choices(queue.shift()!);
      const v = this.once(packet, at, state, c);
      runs++;
      c.asked.forEach((r) => reasons.add(r));
      (v.dependsOn ?? []).forEach((r) => reasons.add(r));
      queue.push(...c.pending);
      if (!sameOutcome(v, v0)) same = false;
    }
    state.restore(after);
    if (same && queue.length === 0) return v0;
    return { ...v0, action: Action.DEPENDS, rejectWith: undefined, dependsOn: [...reasons].sort() };
  }

  /** A condition the walk cannot decide: the answer of the way being followed. */
  private ask(reason: string): boolean {
    if (!this.choices) throw new Error(`internal: an undecidable condition (${reason}) in a ruleset read as decidable`);
    return this.choices.ask(reason);
  }

  /** One way through the host, the undecidable conditions answered by `choices`. */
  private once(packet: PacketProps, at: number, state: EngineState, choices: Choices | undefined): EngineVerdict {
    this.choices = choices;
    const fam = this.rules.family;
    if (packet.family !== fam) throw new Error(`packet is ${packet.family}, the rules are ${fam}`);
    const p = this.packet(packet);
    const trace: string[] = [];
    const hits: Hit[] = [];
    const nat: { dst?: bigint; dport?: number; src?: string } = {};
    const pass = (table: string, chain: string, natTable = false): Flow => {
      const t = this.rules.tables.get(table);
      const c = t?.chains.get(chain);
      if (!c) return { kind: 'continue' };
      if (natTable && p.state !== ConnState.NEW) return { kind: 'continue' };
      const r = this.walkBuiltin(table, c, p, at, state, trace, hits, nat);
      return r;
    };
    const decided = (r: Flow): r is { kind: 'final'; action: Action; rejectWith?: string; reason?: string } => r.kind === 'final';

    if (packet.outbound) {
      // sent by the host: the OUTPUT hooks, then POSTROUTING
      const out = [
        ['raw', 'OUTPUT', false], ['mangle', 'OUTPUT', false], ['nat', 'OUTPUT', true], ['filter', 'OUTPUT', false], ['security', 'OUTPUT', false],
        ['mangle', 'POSTROUTING', false], ['nat', 'POSTROUTING', true],
      ] as const;
      for (const [table, chain, isNat] of out) {
        const r = pass(table, chain, isNat);
        if (decided(r)) return this.result(r, trace, hits, false, undefined, nat, p);
        // a DNAT in nat OUTPUT that changes the destination routes the packet again
        // (nf_nat_ipv4_local_fn / nf_nat_ipv6_local_fn): POSTROUTING sees the new interface
        if (table === 'nat' && nat.dst !== undefined) p.outIface = this.lookup(nat.dst) ?? p.outIface;
      }
      return this.result({ action: Action.ACCEPT }, trace, hits, false, undefined, nat, p);
    }

    const origDst = p.dst;
    for (const [table, chain, isNat] of [['raw', 'PREROUTING', false], ['mangle', 'PREROUTING', false], ['nat', 'PREROUTING', true]] as const) {
      const r = pass(table, chain, isNat);
      if (decided(r)) return this.result(r, trace, hits, false, undefined, nat, p);
    }
    // routing decision
    let forwarded = packet.outInterface !== undefined && !p.redirected;
    if (!forwarded && !p.redirected) {
      const dst = p.dst;
      // broadcast and multicast packets are delivered to the host (and not routed on)
      const isLocal = (a: bigint) => this.local.includes(a) || this.loopback(a) || ['BROADCAST', 'MULTICAST'].includes(this.addressType(a, true, p) ?? '');
      if (this.local.length > 0 && dst !== undefined) forwarded = !isLocal(dst);
      else if (p.dnat && dst !== undefined && dst !== origDst) forwarded = !isLocal(dst);
      if (forwarded) {
        const route = this.lookup(dst!);
        if (!route) {
          throw new Error(`the packet to ${formatAddress(fam, dst!)} is routed through the host, but no route says where it leaves: give EvaluatorOptions.routes or packet.outInterface`);
        }
        p.outIface = route;
      }
    }
    const path = forwarded
      ? [['mangle', 'FORWARD', false], ['filter', 'FORWARD', false], ['security', 'FORWARD', false], ['mangle', 'POSTROUTING', false], ['nat', 'POSTROUTING', true]] as const
      : [['mangle', 'INPUT', false], ['filter', 'INPUT', false], ['security', 'INPUT', false], ['nat', 'INPUT', true]] as const;
    for (const [table, chain, isNat] of path) {
      const r = pass(table, chain, isNat);
      if (decided(r)) return this.result(r, trace, hits, forwarded, p.outIface, nat, p);
    }
    return this.result({ action: Action.ACCEPT }, trace, hits, forwarded, p.outIface, nat, p);
  }

  private result(r: { action: Action; rejectWith?: string; reason?: string }, trace: string[], hits: Hit[], forwarded: boolean,
    outIface: string | undefined, nat: { dst?: bigint; dport?: number; src?: string }, p: Pkt): EngineVerdict {
    return {
      action: r.action,
      dependsOn: r.reason !== undefined ? [r.reason] : undefined,
      rejectWith: r.rejectWith,
      trace,
      hits,
      forwarded,
      outInterface: forwarded ? outIface : undefined,
      translatedDestination: nat.dst !== undefined ? formatAddress(p.family, nat.dst) : undefined,
      translatedDestinationPort: nat.dport,
      translatedSource: nat.src,
    };
  }

  /** 127.0.0.0/8 and ::1 always belong to the host. */
  private loopback(a: bigint): boolean {
    return this.rules.family === IpFamily.V4 ? a >> 24n === 127n : a === 1n;
  }

  private lookup(addr: bigint): string | undefined {
    let best: { cidr: Cidr; iface: string } | undefined;
    for (const r of this.routes) {
      if (inCidr(this.bits, r.cidr, addr) && (!best || r.cidr.prefix > best.cidr.prefix)) best = r;
    }
    return best?.iface;
  }

  private walkBuiltin(table: string, chain: ParsedChain, p: Pkt, at: number, state: EngineState, trace: string[], hits: Hit[],
    nat: { dst?: bigint; dport?: number; src?: string }): Flow {
    const r = this.walk(table, chain, p, at, state, trace, hits, nat, 0);
    if (r.kind === 'final' || r.kind === 'accept') return r.kind === 'accept' ? { kind: 'continue' } : r;
    const policy = chain.policy ?? 'ACCEPT';
    trace.push(`${table} ${chain.name} policy ${policy}`);
    hits.push({ table, chain: chain.name, index: 0 });
    if (policy === 'DROP') return { kind: 'final', action: Action.DROP };
    return { kind: 'continue' };
  }

  /** Walks a chain: `accept` ends this table, `final` ends the packet, `return` goes back (or to the policy). */
  private walk(table: string, chain: ParsedChain, p: Pkt, at: number, state: EngineState, trace: string[], hits: Hit[],
    nat: { dst?: bigint; dport?: number; src?: string }, depth: number): Flow {
    if (depth > 64) throw new Error(`${table} ${chain.name}: jumps nest deeper than 64 (a loop?)`);
    const chains = this.rules.tables.get(table)!.chains;
    for (const group of groupRules(chain.rules)) {
      for (const rule of this.candidates(group, p, at, state)) {
        trace.push(`${table} ${chain.name} #${rule.index}: ${rule.text}`);
        hits.push({ table, chain: chain.name, index: rule.index });
        const t = rule.target;
        switch (t.kind) {
          case 'none': case 'LOG': case 'NFLOG': case 'continue':
            continue;
          case 'depends':
            return { kind: 'final', action: Action.DEPENDS, reason: t.reason };
          case 'NOTRACK':
            p.state = ConnState.UNTRACKED;
            continue;
          case 'MARK':
            if (t.conn) p.ctmark = remark(p.ctmark, t.value, t.mask);
            else p.mark = remark(p.mark, t.value, t.mask);
            continue;
          case 'CONNMARK':
            if (t.op === 'save') p.ctmark = moveMark(p.ctmark, t.ctmask, p.mark, t.nfmask);
            else p.mark = moveMark(p.mark, t.nfmask, p.ctmark, t.ctmask);
            continue;
          case 'REDIRECT':
            if (t.port !== undefined) {
              p.dport = t.port;
              nat.dport = t.port;
            }
            p.dnat = true;
            p.redirected = true;
            return { kind: 'accept' };
          case 'ACCEPT':
            return { kind: 'accept' };
          case 'DROP':
            return { kind: 'final', action: Action.DROP };
          case 'REJECT':
            return { kind: 'final', action: Action.REJECT, rejectWith: t.with };
          case 'RETURN':
            return { kind: 'return' };
          case 'jump':
          case 'goto': {
            const next = chains.get(t.chain);
            if (!next) throw new Error(`${rule.text}: chain ${t.chain} does not exist in ${table}`);
            const r = this.walk(table, next, p, at, state, trace, hits, nat, depth + 1);
            if (r.kind === 'accept' || r.kind === 'final') return r;
            if (t.kind === 'goto') return { kind: 'return' };
            continue;
          }
          case 'DNAT': {
            if (t.address !== undefined && t.address !== '') {
              p.dst = parseAddress(p.family, t.address, 'DNAT address');
              nat.dst = p.dst;
            }
            if (t.port !== undefined) {
              p.dport = t.port;
              nat.dport = t.port;
            }
            p.dnat = true;
            return { kind: 'accept' };
          }
          case 'SNAT':
            nat.src = t.address;
            return { kind: 'accept' };
          case 'MASQUERADE':
            nat.src = this.ifaceAddr.get(p.outIface ?? '') ?? `masquerade:${p.outIface ?? '?'}`;
            return { kind: 'accept' };
        }
      }
    }
    return { kind: 'return' };
  }

  /** The rules of a group (rules differing in their source only) that match `p`, in order. */
  private candidates(group: readonly ParsedRule[], p: Pkt, at: number, state: EngineState): readonly ParsedRule[] {
    if (group.length === 1) return this.matches(group[0], p, at, state) ? group : [];
    if (!this.matches(group[0], p, at, state, true)) return [];
    let index = GROUP_INDEX.get(group);
    if (!index) GROUP_INDEX.set(group, (index = indexGroup(group, this.bits)));
    const hits: number[] = [];
    for (const len of index.lengths) {
      const found = index.byPrefix.get(`${len}/${(p.src & maskOf(this.bits, len)).toString(16)}`);
      if (found) hits.push(...found);
    }
    return hits.sort((a, b) => a - b).map((i) => group[i]);
  }

  private matches(rule: ParsedRule, p: Pkt, at: number, state: EngineState, ignoreSource = false): boolean {
    if (rule.proto && (p.proto === rule.proto.num) === rule.proto.neg) return false;
    if (rule.src && !ignoreSource && !this.addr(rule.src, p.src)) return false;
    if (rule.dst && !this.addr(rule.dst, this.need(p.dst, rule, 'destination'))) return false;
    if (rule.inIface && !iface(rule.inIface, p.inIface)) return false;
    if (rule.outIface && !iface(rule.outIface, p.outIface ?? '')) return false;
    for (const m of rule.matches) {
      if (!this.match(m, rule, p, at, state)) return false;
    }
    return true;
  }

  private need<T>(v: T | undefined, rule: ParsedRule, what: string): T {
    if (v === undefined) throw new Error(`rule "${rule.text}" matches on the ${what}: give the packet's ${what}`);
    return v;
  }

  private addr(t: AddrTest, a: bigint): boolean {
    const inside = t.cidr ? inCidr(this.bits, t.cidr, a) : a >= t.from! && a <= t.to!;
    return inside !== t.neg;
  }

  private match(m: Match, rule: ParsedRule, p: Pkt, at: number, state: EngineState): boolean {
    switch (m.kind) {
      case 'comment':
        return true;
      case 'ctstate': {
        const states = new Set([p.state as string, ...(p.dnat ? ['DNAT'] : [])]);
        for (const s of m.states) {
          if (!['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED', 'SNAT', 'DNAT'].includes(s)) throw new Error(`${rule.text}: conntrack state ${s} is not known`);
        }
        return m.states.some((s) => states.has(s)) !== m.neg;
      }
      case 'sport':
      case 'dport':
      case 'anyport': {
        if (!PORT_PROTOCOLS.includes(p.proto)) return false;
        const ports = m.kind === 'sport' ? [p.sport] : m.kind === 'dport' ? [this.need(p.dport, rule, 'destination port')] : [p.sport, this.need(p.dport, rule, 'destination port')];
        return ports.some((x) => inPorts(m.port, x)) !== m.port.neg;
      }
      case 'tcpflags':
        if (p.proto !== 6) return false;
        return ((p.flags & m.mask) === m.comp) !== m.neg;
      case 'icmptype': {
        if (p.proto !== (m.v6 ? 58 : 1)) return false;
        if (m.type === -2) return false;
        const ok = p.icmpType === m.type && (m.code === undefined || p.icmpCode === m.code);
        return ok !== m.neg;
      }
      case 'ttl': {
        const ok = m.op === 'eq' ? p.ttl === m.value : m.op === 'lt' ? p.ttl < m.value : p.ttl > m.value;
        return ok !== m.neg;
      }
      case 'srcrange':
        return this.addr(m.addr, p.src);
      case 'set': {
        const a = m.dst ? this.need(p.dst, rule, 'destination') : p.src;
        return this.sets.get(m.name)!.entries.some((c) => inCidr(this.bits, c, a)) !== m.neg;
      }
      case 'dstrange':
        return this.addr(m.addr, this.need(p.dst, rule, 'destination'));
      case 'rpfilter':
        return this.rpfilter(p, m.loose, m.acceptLocal) !== m.invert;
      case 'recent':
        return this.recent(m, rule, p, at, state);
      case 'limit': {
        state.consulted.add(`limit ${m.perSecond >= 1 ? `${m.perSecond}/sec` : `${Math.round(m.perSecond * 60)}/min`}`);
        if (state.exhausted) return m.neg;
        state.touch(state.limits);
        const ok = take(state.limits, m.id, at, m.perSecond, m.burst, Infinity, state);
        return ok !== m.neg;
      }
      case 'never':
        return false;
      case 'depends':
        return this.ask(m.reason);
      case 'addrtype': {
        // a packet without a destination is for the host itself
        if (m.dst && p.dst === undefined && !p.outbound && !p.routed) return m.types.includes('LOCAL') !== m.neg;
        const a = m.dst ? this.need(p.dst, rule, 'destination') : p.src;
        const type = this.addressType(a, m.dst, p);
        return (type === undefined ? this.ask(`whether ${formatAddress(p.family, a)} is a subnet's broadcast address (-m addrtype)`) : m.types.includes(type)) !== m.neg;
      }
      case 'mark': {
        const v = m.conn ? p.ctmark : p.mark;
        if (v === undefined) {
          return this.ask(m.conn
            ? 'the connection\'s mark, set by an earlier packet of the connection (-m connmark; give connmark)'
            : 'the packet\'s mark, set outside the ruleset (tc, a socket\'s SO_MARK; -m mark; give mark)');
        }
        return (((v & m.mask) >>> 0) === m.value) !== m.neg;
      }
      case 'length':
        if (p.length === undefined) return this.ask('the packet\'s length (-m length; give length)');
        return (p.length >= m.lo && p.length <= m.hi) !== m.neg;
      case 'pkttype': {
        if (p.dst === undefined && !p.outbound && !p.routed) return (m.type === 'unicast') !== m.neg;
        const a = this.need(p.dst, rule, 'destination');
        const type = this.addressType(a, true, p);
        if (p.outbound || type === undefined) return this.ask('the link-layer type of the packet (-m pkttype)');
        return (m.type === (type === 'MULTICAST' ? 'multicast' : type === 'BROADCAST' ? 'broadcast' : 'unicast')) !== m.neg;
      }
      case 'tos':
        return (((p.tos & m.mask) >>> 0) === m.value) !== m.neg;
      case 'ctproto':
        return (p.proto === m.num) !== m.neg;
      case 'cttuple':
      case 'ctport':
      case 'ctstatus':
      case 'ctdir':
      case 'ctexpire':
        return this.connection(m, rule, p);
      case 'hashlimit': {
        state.consulted.add(m.name);
        if (state.exhausted) return m.above;
        let table = state.hashlimits.get(m.name);
        if (!table) { state.touch(state.hashlimits); table = new Map(); state.hashlimits.set(m.name, table); }
        state.touch(table);
        const key: string[] = [];
        for (const mode of m.mode) {
          if (mode === 'srcip') key.push((p.src & maskOf(this.bits, m.srcPrefix ?? this.bits)).toString(16));
          if (mode === 'dstip') key.push((this.need(p.dst, rule, 'destination') & maskOf(this.bits, m.dstPrefix ?? this.bits)).toString(16));
          if (mode === 'srcport') key.push(String(p.sport));
          if (mode === 'dstport') key.push(String(p.dport ?? 0));
        }
        const ok = take(table, key.join('|'), at, m.perSecond, m.burst, m.expireMs / 1000, state);
        return m.above ? !ok : ok;
      }
    }
  }

  /** The route type of an address as -m addrtype reads it (undefined: a subnet broadcast cannot be told from a unicast address offline). */
  private addressType(a: bigint, isDst: boolean, p: Pkt): string | undefined {
    const v4 = p.family === IpFamily.V4;
    if (a === 0n) return 'UNSPEC';
    if (v4 ? a >> 28n === 0xen : a >> 120n === 0xffn) return 'MULTICAST';
    if (v4 && a === 0xffffffffn) return 'BROADCAST';
    const local = this.loopback(a) || this.local.includes(a)
      || (this.local.length === 0 && (isDst ? !p.outbound && (p.redirected || !p.routed) : p.outbound));
    if (local) return 'LOCAL';
    if (v4 && (a & 0xffn) === 0xffn) return undefined;
    return 'UNICAST';
  }

  /** The conntrack options beyond the state: read from the packet for a connection's first packet, not known for the others. */
  private connection(m: Extract<Match, { kind: 'cttuple' | 'ctport' | 'ctstatus' | 'ctdir' | 'ctexpire' }>, rule: ParsedRule, p: Pkt): boolean {
    if (p.state !== ConnState.NEW || m.kind === 'ctexpire') {
      return this.ask('the connection\'s addresses, status or expiry, set by its earlier packets (-m conntrack --ct...)');
    }
    switch (m.kind) {
      case 'ctdir':
        return m.dir === 'ORIGINAL';
      case 'ctstatus': {
        const has = (x: string) => (x === 'NONE' ? !p.dnat : x === 'DNAT' && p.dnat);
        return m.statuses.some(has) !== m.neg;
      }
      case 'cttuple': {
        const dst = this.need(p.dst, rule, 'destination');
        const a = m.field === 'origsrc' || m.field === 'repldst' ? p.src : m.field === 'origdst' ? p.origDst ?? dst : dst;
        return this.addr(m.addr, a);
      }
      case 'ctport': {
        if (!PORT_PROTOCOLS.includes(p.proto)) return false;
        const port = m.field === 'origsrc' || m.field === 'repldst' ? p.sport
          : this.need(m.field === 'origdst' ? p.origDport ?? p.dport : p.dport, rule, 'destination port');
        return inPorts(m.port, port) !== m.port.neg;
      }
    }
  }

  private recent(m: Extract<Match, { kind: 'recent' }>, rule: ParsedRule, p: Pkt, at: number, state: EngineState): boolean {
    state.consulted.add(m.name);
    if (state.exhausted && m.op !== 'set') return !m.neg;
    let table = state.recent.get(m.name);
    if (!table) { state.touch(state.recent); table = new Map(); state.recent.set(m.name, table); }
    state.touch(table);
    const addr = (m.rdest ? this.need(p.dst, rule, 'destination') : p.src) & m.mask;
    const key = addr.toString(16);
    let ret = m.neg;
    let e = table.get(key);
    if (e && m.rttl && e.ttl !== p.ttl && e.ttl !== 0) e = undefined;
    if (!e) {
      if (m.op !== 'set') return ret;
      if (table.size >= RECENT_LIST_SIZE) table.delete(table.keys().next().value!);
      table.set(key, { stamps: [at], index: 1, ttl: p.ttl });
      return !ret;
    }
    if (m.op === 'set') {ret = !ret;} else if (m.op === 'remove') {
      table.delete(key);
      return !ret;
    } else {
      const since = m.seconds !== undefined && m.seconds > 0 ? at - m.seconds : -Infinity;
      let hits = 0;
      for (const s of e.stamps) {
        if (s < since - 1e-9) continue;
        hits++;
        if (!m.hitcount || hits >= m.hitcount) { ret = !ret; break; }
      }
      if (state.slack > 0 && e.stamps.some((x) => Math.abs(x - since) <= state.slack)) {
        state.ambiguous = true;
        if (state.flip) ret = !ret;
      }
      if (m.reap && m.seconds) e.stamps = e.stamps.filter((s) => s >= since - 1e-9);
    }
    if (m.op === 'set' || (m.op === 'update' && ret)) {
      // ring of RECENT_HITS stamps, most recent entry moves to the LRU tail
      if (e.stamps.length < RECENT_HITS) e.stamps.push(at);
      else e.stamps[e.index % RECENT_HITS] = at;
      e.index = (e.index % RECENT_HITS) + 1;
      e.ttl = p.ttl;
      table.delete(key);
      table.set(key, e);
    }
    return ret;
  }

  private rpfilter(p: Pkt, loose: boolean, acceptLocal: boolean): boolean {
    if (this.routes.length === 0) return true;
    if (p.inIface === 'lo') return true;
    if (p.src === 0n) return true;
    if (p.family === IpFamily.V6 && inCidr(this.bits, { base: 0xfe80n << 112n, prefix: 10 }, p.src)) return true;
    if (this.local.includes(p.src)) return acceptLocal;
    const out = this.lookup(p.src);
    if (out === undefined) return false;
    return loose || out === p.inIface;
  }

  private packet(pp: PacketProps): Pkt {
    const fam = pp.family;
    const num = pp.protocolNumber ?? PROTOCOL_NUMBERS[pp.protocol];
    if (num === undefined) throw new Error(`protocol ${pp.protocol} is not known`);
    if (fam === IpFamily.V4 && num === 58) throw new Error('ICMPv6 is an IPv6 protocol: use Protocol.ICMP for IPv4');
    if (fam === IpFamily.V6 && num === 1) throw new Error('ICMP is an IPv4 protocol: use Protocol.ICMPV6 for IPv6');
    let state = pp.state ?? ConnState.NEW;
    if (!Object.values(ConnState).includes(state)) throw new Error(`state ${String(state)} is not a ConnState`);
    // nf_conntrack_icmpv6: neighbour discovery, RS/RA and MLD are never tracked
    if (num === 58 && UNTRACKED_ICMPV6.includes(pp.icmpType ?? 128)) state = ConnState.UNTRACKED;
    const dst = pp.destination ?? this.options.localAddresses?.find((a) => isFamily(fam, a));
    const dstNum = dst !== undefined ? parseAddress(fam, dst, 'destination') : undefined;
    const dport = pp.destinationPort;
    for (const [v, what, max] of [[pp.mark, 'mark', 0xffffffff], [pp.connmark, 'connmark', 0xffffffff], [pp.length, 'length', 65535], [pp.tos, 'tos', 255]] as const) {
      if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > max)) throw new Error(`${what} ${v} is not a whole number from 0 to ${max}`);
    }
    const portOk = (v: number | undefined, what: string) => {
      if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 65535)) throw new Error(`${what} ${v} is not a port`);
      return v;
    };
    return {
      family: fam,
      bits: this.bits,
      proto: num,
      src: parseAddress(fam, pp.source, 'source'),
      dst: dstNum,
      origDst: dstNum,
      origDport: dport,
      outbound: pp.outbound ?? false,
      routed: pp.outInterface !== undefined && !pp.outbound,
      mark: pp.mark,
      ctmark: pp.connmark ?? (state === ConnState.NEW ? 0 : undefined),
      length: pp.length,
      tos: pp.tos ?? 0,
      redirected: false,
      sport: portOk(pp.sourcePort, 'sourcePort') ?? 40000,
      dport: portOk(pp.destinationPort, 'destinationPort'),
      // a packet the host sends has no arrival interface (an -i test never matches it)
      inIface: pp.outbound ? '' : pp.inInterface ?? 'eth0',
      outIface: pp.outbound ? pp.outInterface ?? 'eth0' : pp.outInterface,
      state,
      flags: pp.tcpFlags !== undefined ? parseTcpFlags(pp.tcpFlags) : state === ConnState.NEW ? 2 : 16,
      icmpType: pp.icmpType ?? (num === 58 ? 128 : 8),
      icmpCode: pp.icmpCode ?? 0,
      ttl: pp.ttl ?? 64,
      dnat: false,
    };
  }
}

/** The two ways through the rules end alike. */
function sameOutcome(a: EngineVerdict, b: EngineVerdict): boolean {
  return a.action === b.action && a.rejectWith === b.rejectWith && a.forwarded === b.forwarded && a.outInterface === b.outInterface
    && a.translatedDestination === b.translatedDestination && a.translatedDestinationPort === b.translatedDestinationPort
    && a.translatedSource === b.translatedSource;
}

/** A mark after (mark & ~mask) ^ value: known when the old one was, or when every bit is set anew. */
function remark(old: number | undefined, value: number, mask: number): number | undefined {
  if (old === undefined && mask !== 0xffffffff) return undefined;
  return (((old ?? 0) & ~mask) ^ value) >>> 0;
}

/** CONNMARK --save-mark / --restore-mark: to = (to & ~toMask) ^ (from & fromMask). */
function moveMark(to: number | undefined, toMask: number, from: number | undefined, fromMask: number): number | undefined {
  if (from === undefined && fromMask !== 0) return undefined;
  if (to === undefined && toMask !== 0xffffffff) return undefined;
  return (((to ?? 0) & ~toMask) ^ ((from ?? 0) & fromMask)) >>> 0;
}

/** Rules of a source-variant group by prefix, for finding the ones that hold an address. */
interface GroupIndex {
  readonly lengths: number[];
  readonly byPrefix: Map<string, number[]>;
}

const GROUP_INDEX = new WeakMap<readonly ParsedRule[], GroupIndex>();

function indexGroup(group: readonly ParsedRule[], bits: number): GroupIndex {
  const byPrefix = new Map<string, number[]>();
  const lengths = new Set<number>();
  group.forEach((r, i) => {
    const c = r.src!.cidr!;
    lengths.add(c.prefix);
    const key = `${c.prefix}/${(c.base & maskOf(bits, c.prefix)).toString(16)}`;
    const list = byPrefix.get(key);
    if (list) list.push(i);
    else byPrefix.set(key, [i]);
  });
  return { lengths: [...lengths], byPrefix };
}

function isFamily(fam: IpFamily, addr: string): boolean {
  return fam === IpFamily.V6 ? addr.includes(':') : !addr.includes(':');
}

function iface(t: IfaceTest, name: string): boolean {
  const ok = t.name.endsWith('+') ? name.startsWith(t.name.slice(0, -1)) : name === t.name;
  return ok !== t.neg;
}

function inPorts(t: PortTest, port: number): boolean {
  return t.ranges.some(([lo, hi]) => port >= lo && port <= hi);
}

/**
 * A token bucket: full (`burst`) on first use, refilled at `rate`/s; an idle
 * entry older than `expire` s starts over. Decisions within `state.slack` of
 * a boundary mark the packet ambiguous (and flip with `state.flip`).
 */
function take(buckets: Map<string, Bucket>, key: string, at: number, rate: number, burst: number, expire: number, state: EngineState): boolean {
  let b = buckets.get(key);
  const slack = state.slack;
  let expired = !b || at - b.last >= expire;
  if (b && slack > 0 && Number.isFinite(expire) && at - b.last >= expire - slack && at - b.last <= expire + HASHLIMIT_GC_SECONDS + slack) {
    state.ambiguous = true;
    if (state.flip) expired = !expired;
  }
  if (!b || expired) {
    b = { credit: burst, prev: at, last: at };
    buckets.set(key, b);
  } else {
    b.credit = Math.min(burst, b.credit + (at - b.prev) * rate);
    b.prev = at;
    b.last = at;
  }
  let ok = b.credit >= 1 - 1e-9;
  if (slack > 0 && b.credit < burst && Math.abs(b.credit - 1) <= slack * rate + 1e-9) {
    state.ambiguous = true;
    if (state.flip) ok = !ok;
  }
  if (ok) {
    b.credit = Math.max(0, b.credit - 1);
    return true;
  }
  return false;
}
