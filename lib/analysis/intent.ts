/**
 * The library's own net: what the parts declared they admit (the host's
 * skeleton included) against what the rendered rules admit, on every path
 * (to the host, through it, from it), by packet-set arithmetic over every
 * field the rules can test. Anything admitted beyond the declarations fails
 * synth, naming the rules that admit it and their owners; a declared opening
 * that the rules refuse (beyond the declared refusals) fails too.
 */
import { PacketWords } from './describe';
import { InterfaceSpace } from './interfaces';
import { PathName, PathWalker } from './paths';
import {
  Box, compact, Dim, fromRanges, Intervals, narrow, point, setIntersect, setSubtract, span, STATE_VALUES, withField,
} from './space';
import { IpFamily } from '../iptables/family';
import { ParsedRule, ParsedRuleset, ParsedSet } from '../iptables/parse';
import { ICMP_TYPES, PROTOCOL_NUMBERS, SPELLING } from '../iptables/spelling';
import { ConnState } from '../values/conn-state';
import { Declarations } from '../values/declarations';
import { DeclaredTraffic } from '../values/intent';
import { Peer } from '../values/peer';
import { bitsOf, lastOf } from '../values/prefix';

/** A difference between what the rules admit and what the parts declared. */
export interface IntentProblem {
  readonly message: string;
}

/** What the check reads: the parsed rule file of one family and what the parts declared. */
export interface IntentInput {
  readonly rules: ParsedRuleset;
  readonly sets: ReadonlyMap<string, ParsedSet>;
  readonly declarations: Declarations;
  /** The owner of each line of the rule file (index = line - 1). */
  readonly lineOwners?: readonly string[];
}

/** An ACCEPT (or a translation) and the packets it took, with the jumps that led there. */
interface Acceptance {
  readonly rules: readonly ParsedRule[];
  readonly boxes: Box[];
}

/** Compares what the rules admit on every path with the declarations. */
export function checkIntent(input: IntentInput): IntentProblem[] {
  const fam = input.rules.family;
  const d = input.declarations;
  const ifaceTokens = [
    ...PathWalker.interfaceTokens(input.rules),
    ...d.opens.flatMap((o) => (o.declared.iface ? [o.declared.iface] : [])),
    ...d.trusts.map((t) => t.declared),
    ...d.refuses.flatMap((r) => (r.declared.iface ? [r.declared.iface] : [])),
    ...d.forwards.flatMap((f) => [f.declared.inInterface, f.declared.outInterface].filter((x): x is string => !!x)),
    ...d.egress.flatMap((e) => (e.declared.outInterface ? [e.declared.outInterface] : [])),
  ];
  const space = new InterfaceSpace(ifaceTokens);
  const accepted: Acceptance[] = [];
  const walker = new PathWalker(input.rules, input.sets, space, (rules, boxes) => accepted.push({ rules, boxes }));
  const lang = new Words(fam, space, input.lineOwners ?? []);
  const problems: IntentProblem[] = [];

  for (const path of ['input', 'forward', 'output'] as PathName[]) {
    accepted.length = 0;
    const result = walker.walkPath(path);
    const declared = declaredBoxes(fam, walker, path, d);
    const undeclared = setSubtract(result.admitted, declared.map((x) => x.box));
    for (const group of lang.groups(path, undeclared)) {
      const guarded = setIntersect(group.boxes, result.refused).length > 0;
      const rules = new Set<ParsedRule>();
      for (const a of accepted) if (setIntersect(group.boxes, a.boxes).length > 0) for (const r of a.rules) rules.add(r);
      problems.push({ message: `${group.head} is ${guarded ? 'guarded' : 'opened'}, but nothing declares it: ${group.tail}; ${lang.rulesAndOwners([...rules])}` });
    }
    if (path === 'input') problems.push(...refusedOpenings(fam, walker, d, result.admitted, lang));
  }
  return problems;
}

/** Declared openings (ports and ping) that the rules refuse for new connections, beyond what parts refuse on purpose. */
function refusedOpenings(fam: IpFamily, walker: PathWalker, d: Declarations, admitted: Box[], lang: Words): IntentProblem[] {
  const out: IntentProblem[] = [];
  const refusals = d.refuses.flatMap((r) => {
    const src = peerSet(fam, walker, r.declared.peer);
    return src ? [withField(withField(walker.baseOf('input'), Dim.SRC, src), Dim.IN, walker.ifaces.match(r.declared.iface))] : [];
  });
  const newConnection = (b: Box): Box | null => {
    let x = narrow(b, Dim.STATE, point(STATE_VALUES.NEW));
    // a TCP connection opens with a SYN (FIN, RST and ACK clear)
    if (x && x[Dim.PROTO].length === 2 && x[Dim.PROTO][0] === 6 && x[Dim.PROTO][1] === 6) x = narrow(x, Dim.FLAGS, SYN_ONLY);
    return x;
  };
  const checked = d.opens.filter((o) => (o.declared.states === undefined || o.declared.states.includes(ConnState.NEW))
    && (o.declared.port !== undefined || o.declared.icmp === 'ECHO_REQUEST'));
  const newBoxes = (o: (typeof checked)[number]) => openingBoxes(fam, walker, o.declared)
    .flatMap((b) => { const n = newConnection(b); return n ? [n] : []; });
  const boxesOf = new Map(checked.map((o) => [o, newBoxes(o)]));
  // all openings at once (an allowlist of thousands is one subtraction), owners found for what is left
  const refused = setSubtract(setSubtract(compact([...boxesOf.values()].flat()), refusals), admitted);
  for (const group of lang.groups('input', refused)) {
    const owners = checked.filter((o) => setIntersect(group.boxes, boxesOf.get(o)!).length > 0).map((o) => o.owner);
    out.push({ message: `${group.head} is declared open, but the rules refuse it: ${group.tail}; parts involved: ${[...new Set(owners)].sort().join(', ')}` });
  }
  return out;
}

/** How violations are put into words: the groups of describe.ts, with the rules and owners involved. */
class Words {
  private readonly words: PacketWords;

  public constructor(fam: IpFamily, space: InterfaceSpace, private readonly lineOwners: readonly string[]) {
    this.words = new PacketWords(fam, space);
  }

  /** The packets of `set` in groups, as the head and tail of a message. */
  public groups(path: PathName, set: Box[]): Array<{ head: string; tail: string; boxes: Box[] }> {
    return this.words.groups(path, set).map((g) => {
      const prefix = path === 'forward' ? 'forwarded ' : path === 'output' ? 'outbound ' : '';
      const where = path === 'input' ? `on ${g.inInterfaces}` : path === 'output' ? `on ${g.outInterfaces}` : `from ${g.inInterfaces} to ${g.outInterfaces}`;
      const states = g.states ? ` (${g.states} packets)` : '';
      const show = (xs: string[]) => (xs.length > 8 ? [...xs.slice(0, 8), `and ${xs.length - 8} more`] : xs).join(' ');
      const tail = path === 'output' ? `to ${show(g.destinations)}` : path === 'forward' ? `from ${show(g.sources)} to ${show(g.destinations)}` : `from ${show(g.sources)}`;
      return { head: `${this.words.family} ${prefix}${g.what}${states} ${where}`, tail, boxes: g.boxes };
    });
  }

  /** "rules matched: [...]; parts involved: ..." for a list of rules. */
  public rulesAndOwners(rules: ParsedRule[]): string {
    const sorted = [...rules].sort((a, b) => a.line - b.line || a.index - b.index);
    const owners = new Set(sorted.map((r) => this.lineOwners[r.line - 1]).filter((o): o is string => !!o));
    const shown = sorted.map((r) => `[${r.table} ${r.chain} #${r.index}: ${r.text}]`);
    return `rules matched: ${shown.length ? shown.join(' ') : 'none (a chain policy)'}; parts involved: ${[...owners].sort().join(', ') || 'none'}`;
  }
}

/** TCP flag values of a connection's first segment: SYN set; FIN, RST and ACK clear. */
const SYN_ONLY: Intervals = fromRanges(Array.from({ length: 256 }, (_, v) => v)
  .filter((v) => (v & 0x17) === 0x02) // eslint-disable-line no-bitwise
  .map((v) => [v, v] as [number, number]));

/** The packets every declaration of a path admits. */
function declaredBoxes(fam: IpFamily, walker: PathWalker, path: PathName, d: Declarations): Array<{ owner: string; box: Box }> {
  const out: Array<{ owner: string; box: Box }> = [];
  const add = (owner: string, boxes: Box[]) => { for (const box of boxes) out.push({ owner, box }); };
  if (path === 'input') {
    for (const o of d.opens) add(o.owner, openingBoxes(fam, walker, o.declared));
    for (const t of d.trusts) add(t.owner, [withField(walker.baseOf('input'), Dim.IN, walker.ifaces.match(t.declared))]);
  } else if (path === 'forward') {
    for (const f of d.forwards) {
      const x = f.declared;
      const src = peerSet(fam, walker, x.source);
      const dst = peerSet(fam, walker, x.destination);
      if (!src || !dst) continue;
      let base = withField(withField(walker.baseOf('forward'), Dim.SRC, src), Dim.DST, dst);
      base = withField(withField(base, Dim.IN, walker.ifaces.match(x.inInterface)), Dim.OUT, walker.ifaces.match(x.outInterface));
      if (x.portForwarded) base = withField(base, Dim.DNAT, point(1));
      add(f.owner, trafficBoxes(fam, base, x));
    }
  } else {
    for (const e of d.egress) {
      const x = e.declared;
      const dst = peerSet(fam, walker, x.destination);
      if (!dst) continue;
      add(e.owner, trafficBoxes(fam, withField(withField(walker.baseOf('output'), Dim.DST, dst), Dim.OUT, walker.ifaces.match(x.outInterface)), x));
    }
  }
  return out;
}

/** The packets a declared opening admits. */
function openingBoxes(fam: IpFamily, walker: PathWalker, o: { peer?: Peer; iface?: string } & DeclaredTraffic): Box[] {
  const src = peerSet(fam, walker, o.peer);
  if (!src) return [];
  return trafficBoxes(fam, withField(withField(walker.baseOf('input'), Dim.SRC, src), Dim.IN, walker.ifaces.match(o.iface)), o);
}

/** A peer's addresses in `fam` (every address when undefined), or undefined when the peer has none in this family. */
function peerSet(fam: IpFamily, walker: PathWalker, peer: Peer | undefined): Intervals | undefined {
  if (peer === undefined) return walker.addresses;
  if (!peer.hasFamily(fam)) return undefined;
  const p = peer._prefix();
  return p ? span(p.base, lastOf(bitsOf(fam), p)) : walker.addresses;
}

/** `base` narrowed to the traffic of a declaration (none when it does not exist in this family). */
function trafficBoxes(fam: IpFamily, base: Box, t: DeclaredTraffic): Box[] {
  let b: Box | null = base;
  if (t.states !== undefined) b = narrow(b, Dim.STATE, fromRanges(t.states.map((s) => [STATE_VALUES[s], STATE_VALUES[s]] as [number, number])));
  if (!b) return [];
  if (t.port !== undefined) {
    const proto = t.port.protocol === 'tcp' ? 6 : 17;
    // a range from port 1 is every port: port 0 cannot be written as a Port
    const from = t.port.fromPort === 1 ? 0 : t.port.fromPort;
    return [withField(withField(b, Dim.PROTO, point(proto)), Dim.DPORT, span(from, t.port.toPort))];
  }
  if (t.icmp !== undefined) {
    const n = ICMP_TYPES[t.icmp]?.[fam];
    if (n === undefined) return [];
    return [withField(withField(b, Dim.PROTO, point(SPELLING[fam].icmpProtocolNumber)), Dim.ICMP, span(n * 256, n * 256 + 255))];
  }
  if (t.protocol !== undefined) {
    const n = PROTOCOL_NUMBERS[t.protocol];
    const icmp4 = n === 1;
    const icmp6 = n === 58;
    if ((icmp4 && fam !== IpFamily.V4) || (icmp6 && fam !== IpFamily.V6)) return [];
    return [withField(b, Dim.PROTO, point(n))];
  }
  return [b];
}

