/**
 * The rule compiler: a part's {@link PartRules} into the host's ruleset.
 * Every check a part's rules get happens here, the same for built-in and
 * third-party parts (and for the host's own skeleton): shapes (a part in
 * another language may hand over anything), names and their claims, matches
 * and targets, families, slots, replacements, jumps, raw rules against the
 * parser, and the declarations of what the part means to admit.
 */
import { LibraryRule, LibraryRules, SkeletonRules } from './library-rules';
import { Match } from './match';
import { BASIC_FIELDS, MatchArgs } from './match-args';
import { ChainRule, PartRules } from './part-rules';
import { RuleSpec, Ruleset } from './ruleset';
import { HostRule, Table } from './slot';
import { SKELETON_PLACES, SkeletonSlot, SLOT_PLACES, SlotPlace } from './slot-places';
import { Target } from './target';
import { spellingProblem } from '../iptables/canonical';
import { ALL_FAMILIES, IpFamily } from '../iptables/family';
import { BUILTIN_CHAINS, chainNameProblem, LIBRARY_CHAIN_NAMES, MAX_CHAIN_NAME, objectNameProblem, TableName, TARGET_NAMES } from '../iptables/kernel-limits';
import { ParsedRule, parseRuleArgs } from '../iptables/parse';
import { jumpTargets, TEXT_OPTIONS } from '../iptables/syntax';
import { firewallError, ValueProblem } from '../private/errors';
import { ConnState } from '../values/conn-state';
import { IcmpType } from '../values/icmp';
import { DeclaredTraffic } from '../values/intent';
import { interfaceNameProblem } from '../values/interface-name';
import { Peer } from '../values/peer';
import { Port, Protocol } from '../values/port';

/** How a part's rules are compiled. */
export interface CompileOptions {
  /**
   * A part of this library (in any copy): it may use the library's reserved
   * chain names (SYN_FLOOD, BOGONS-…), and its LibraryRules extras are read.
   */
  readonly library?: boolean;
  /** The host itself: its rules may sit in the skeleton's own slots. */
  readonly skeleton?: boolean;
}

type Fail = (message: string, fix?: string) => never;

/** Adds a part's chains, rules and declarations to `rs`; throws naming `owner` on any problem. */
export function compilePart(
  rs: Ruleset, families: readonly IpFamily[], owner: string, given: PartRules | SkeletonRules, options: CompileOptions = {},
): void {
  const fail: Fail = (message, fix) => { throw firewallError(owner, { message, fix }); };
  const check = (where: string, p: ValueProblem | undefined) => { if (p) fail(`${where}: ${p.message}`, p.fix); };
  if (typeof given !== 'object' || given === null) fail(`firewallRules() returned ${String(given)}, not a PartRules`, 'Return { chains, rules } (both optional).');
  const out = given as LibraryRules & SkeletonRules;
  const library = options.library === true;
  const chains = listOf(out.chains, 'chains', fail);
  const rules = listOf(out.rules, 'rules', fail);
  const fams = families;
  const claim = (kind: string, name: string) => rs.claim(kind, name, owner);

  // what the library's parts record besides rules: names with a part-specific fix, sets, guard lists
  if (library) {
    for (const c of out.claims ?? []) rs.claim(c.kind, c.name, owner, c.fix);
    for (const set of out.sets ?? []) if (fams.includes(set.family)) rs.addSet({ ...set, owner });
    for (const g of out.guardLists ?? []) rs.noteGuardList(g);
  }

  // own chains: checked, claimed, declared
  const own = new Map<string, TableName>();
  chains.forEach((c, i) => {
    const where = `chains[${i}]`;
    if (typeof c !== 'object' || c === null) fail(`${where} is ${String(c)}, not a PartChain`);
    const table = tableOf(c.table, where, fail);
    const reserved = library && (LIBRARY_CHAIN_NAMES.includes(c.name) || /^BOGONS-/.test(c.name));
    check(where, reserved ? objectNameProblem('name', c.name, MAX_CHAIN_NAME) : chainNameProblem('name', c.name));
    if (own.has(c.name)) fail(`${where}: the part declares chain "${c.name}" twice`, 'Give each chain its own name.');
    rs.claim('chain', c.name, owner, library ? out.chainClaimFix : undefined);
    own.set(c.name, table);
    rs.declareChain({ table, name: c.name, families: fams, owner });
  });
  chains.forEach((c, i) => {
    listOf(c.rules, `chains[${i}].rules`, fail).forEach((r, j) => {
      const args = ruleArgs(r, `chains[${i}].rules[${j}]`, own.get(c.name)!, c.name, fams, fail, claim, own);
      rs.addRule({ table: own.get(c.name)!, chain: c.name, slot: 100, order: j, owner, args });
    });
  });

  // rules in the host's chains, by slot
  rules.forEach((r: LibraryRule, i) => {
    const where = `rules[${i}]`;
    if (typeof r !== 'object' || r === null) fail(`${where} is ${String(r)}, not a SlottedRule`);
    const place: SlotPlace | undefined = SLOT_PLACES[r.slot as keyof typeof SLOT_PLACES]
      ?? (options.skeleton ? SKELETON_PLACES[r.slot as SkeletonSlot] : undefined);
    if (!place) fail(`${where}: slot ${String(r.slot)} is not a RuleSlot`, 'Use RuleSlot.INPUT_GUARD, RuleSlot.TCP_OPEN, ...');
    if (r.order !== undefined && !(Number.isInteger(r.order) && Math.abs(r.order) <= 1000)) fail(`${where}: order ${String(r.order)} is not a whole number from -1000 to 1000`);
    if (r.replaces !== undefined && !Object.values(HostRule).includes(r.replaces)) fail(`${where}: replaces ${String(r.replaces)} is not a HostRule`);
    const args = ruleArgs(r, where, place!.table, place!.chain, fams, fail, claim, own);
    const needed = fams.filter((f) => args[f] !== undefined);
    if (place!.table !== 'filter' || !['INPUT', 'FORWARD', 'OUTPUT', 'TCP', 'UDP'].includes(place!.chain)) {
      rs.declareChain({ table: place!.table, name: place!.chain, families: needed, owner });
    }
    const spec: RuleSpec = {
      table: place!.table,
      chain: place!.chain,
      slot: place!.slot,
      order: place!.order + (r.order ?? 0),
      owner,
      args,
      replaces: r.replaces,
      id: options.skeleton ? r.id : undefined,
    };
    rs.addRule(spec);
  });

  // what the part means to admit and refuse
  const traffic = (where: string, t: DeclaredTraffic) => {
    if (typeof t !== 'object' || t === null) fail(`${where} is ${String(t)}, not a declaration`);
    const kinds = [t.port !== undefined, t.icmp !== undefined, t.protocol !== undefined, t.anyProtocol === true].filter(Boolean).length;
    if (kinds !== 1) fail(`${where} gives ${kinds === 0 ? 'none' : 'more than one'} of port, icmp, protocol and anyProtocol`, 'Give exactly one, e.g. { port: Port.tcp(8443) }.');
    if (t.port !== undefined) {
      if (!Port.isPort(t.port)) fail(`${where}.port is not a Port`);
      check(`${where}.port`, Port._adopt(t.port)._problem());
    }
    if (t.icmp !== undefined && !Object.values(IcmpType).includes(t.icmp)) fail(`${where}.icmp ${String(t.icmp)} is not an IcmpType`);
    if (t.protocol !== undefined && !Object.values(Protocol).includes(t.protocol)) fail(`${where}.protocol ${String(t.protocol)} is not a Protocol`);
    const states = t.states;
    const known = Object.values(ConnState) as string[];
    const badStates = states !== undefined && (!Array.isArray(states) || states.length === 0 || states.some((x) => !known.includes(x)));
    if (badStates) {
      fail(`${where}.states must be a non-empty list of ConnState`);
    }
    return { ...t, port: t.port !== undefined ? Port._adopt(t.port) : undefined };
  };
  const peer = (where: string, p: Peer | undefined): Peer | undefined => {
    if (p === undefined) return undefined;
    if (!Peer.isPeer(p)) fail(`${where} is not a Peer`);
    const adopted = Peer._adopt(p);
    check(where, adopted._problem());
    return adopted;
  };
  const iface = (where: string, name: string | undefined): string | undefined => {
    if (name !== undefined) check(where, interfaceNameProblem(name));
    return name;
  };
  rs.declare(owner, {
    opens: listOf(out.opens, 'opens', fail).map((o, i) => ({ ...traffic(`opens[${i}]`, o), peer: peer(`opens[${i}].peer`, o.peer), iface: iface(`opens[${i}].iface`, o.iface) })),
    trusts: listOf(out.trusts, 'trusts', fail).map((t, i) => iface(`trusts[${i}]`, t)!),
    forwards: listOf(out.forwards, 'forwards', fail).map((o, i) => ({
      ...traffic(`forwards[${i}]`, o),
      source: peer(`forwards[${i}].source`, o.source),
      destination: peer(`forwards[${i}].destination`, o.destination),
      inInterface: iface(`forwards[${i}].inInterface`, o.inInterface),
      outInterface: iface(`forwards[${i}].outInterface`, o.outInterface),
    })),
    egress: listOf(out.egress, 'egress', fail).map((o, i) => ({
      ...traffic(`egress[${i}]`, o),
      destination: peer(`egress[${i}].destination`, o.destination),
      outInterface: iface(`egress[${i}].outInterface`, o.outInterface),
    })),
    refuses: listOf(out.refuses, 'refuses', fail).map((o, i) => {
      if (typeof o !== 'object' || o === null) fail(`refuses[${i}] is ${String(o)}, not a DeclaredRefusal`);
      if (o.peer === undefined) fail(`refuses[${i}] needs a peer`);
      return { peer: peer(`refuses[${i}].peer`, o.peer)!, iface: iface(`refuses[${i}].iface`, o.iface) };
    }),
  });
  if (out.forwarding !== undefined && typeof out.forwarding !== 'boolean') fail(`forwarding is ${typeof out.forwarding}, not a boolean`);
  if (out.forwarding) {
    rs.require('ipv4-forwarding');
    if (fams.includes(IpFamily.V6)) rs.require('ipv6-forwarding');
  }
}

/**
 * Every jump of every rule (the host's and the parts') goes to a chain
 * declared in its table, never to a built-in chain, and no jumps form a loop.
 * Run once all parts contributed; which chains a part may jump to at all is
 * checked where its rule is compiled (placeProblem).
 */
export function checkJumps(rs: Ruleset): void {
  const declared = new Set(rs.declaredChains.map((c) => `${c.table}\u0000${c.name}`));
  const edges = new Map<string, Map<string, string>>(); // table+chain -> jumped-to table+chain -> owner
  for (const r of rs.allRules) {
    for (const args of Object.values(r.args)) {
      if (!args) continue;
      for (const to of jumpTargets(args)) {
        if (TARGET_NAMES.includes(to)) continue;
        if (BUILTIN_CHAINS[r.table].includes(to)) {
          throw firewallError(r.owner, { message: `a rule in ${r.table} ${r.chain} jumps to the built-in chain ${to}, which iptables refuses`, fix: 'Jump to a chain of the part.' });
        }
        if (!declared.has(`${r.table}\u0000${to}`)) {
          throw firewallError(r.owner, {
            message: `a rule in ${r.table} ${r.chain} jumps to chain "${to}", which nothing declares in table ${r.table}`,
            fix: `Declare it among the part's chains ({ name: '${to}', table: Table.${r.table.toUpperCase()}, rules: [...] }), or jump to an existing chain.`,
          });
        }
        const from = `${r.table}\u0000${r.chain}`;
        if (!edges.has(from)) edges.set(from, new Map());
        edges.get(from)!.set(`${r.table}\u0000${to}`, r.owner);
      }
    }
  }
  // a loop of jumps is refused by iptables-restore (ELOOP): find it here, with its owners
  const state = new Map<string, 'open' | 'done'>();
  const visit = (node: string, trail: string[]): void => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'open') {
      const loop = trail.slice(trail.indexOf(node)).concat(node).map((n) => n.split('\u0000')[1]);
      const owner = edges.get(trail[trail.length - 1])?.get(node) ?? '';
      throw firewallError(owner, { message: `the jumps ${loop.join(' -> ')} form a loop, which iptables refuses`, fix: 'Break the loop: one of these chains must not jump back.' });
    }
    state.set(node, 'open');
    for (const next of [...(edges.get(node)?.keys() ?? [])].sort()) visit(next, [...trail, node]);
    state.set(node, 'done');
  };
  for (const node of [...edges.keys()].sort()) visit(node, []);
}

function listOf<T>(value: readonly T[] | undefined, what: string, fail: Fail): T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return fail(`${what} is ${typeof value}, not a list`);
  return [...value];
}

function tableOf(t: Table | undefined, where: string, fail: Fail): TableName {
  if (t === undefined) return 'filter';
  if (!Object.values(Table).includes(t)) return fail(`${where}: table ${String(t)} is not a Table`, 'Use Table.FILTER, NAT, MANGLE or RAW.');
  return t as TableName;
}

/** One rule's argv per host family (a family in which some match does not exist is left out). */
function ruleArgs(
  r: ChainRule, where: string, table: TableName, chain: string, families: readonly IpFamily[], fail: Fail,
  claim: (kind: string, name: string) => void, own: ReadonlyMap<string, TableName>,
): Partial<Record<IpFamily, readonly string[]>> {
  if (typeof r !== 'object' || r === null) return fail(`${where} is ${String(r)}, not a rule`);
  if (r.family !== undefined && !ALL_FAMILIES.includes(r.family)) fail(`${where}: family ${String(r.family)} is not an IpFamily`);
  const fams = families.filter((f) => r.family === undefined || r.family === f);
  if (r.raw !== undefined) {
    if (r.matches !== undefined || r.target !== undefined) fail(`${where} has raw argv and typed matches or a target`, 'Give either raw, or matches and target.');
    return rawArgs(r.raw, where, table, chain, fams, r.family !== undefined ? [r.family] : ALL_FAMILIES, fail, claim, own);
  }
  const matches = listOf(r.matches, `${where}.matches`, fail);
  matches.forEach((m, i) => {
    if (!Match.isMatch(m)) fail(`${where}.matches[${i}] is ${describe(m)}, not a Match`, 'Build matches with Match.source(), Match.port(), ...');
    const p = m._problem();
    if (p) fail(`${where}.matches[${i}] (${m}): ${p.message}`, p.fix);
    // a list or table the part writes is its own on this host
    for (const n of m._names()) if (n.writes) claim(n.kind, n.name);
  });
  if (!Target.isTarget(r.target)) fail(`${where} has ${r.target === undefined ? 'no target' : `target ${describe(r.target)}, not a Target`}`, 'Give a target: Target.ACCEPT, Target.DROP, Target.reject(), Target.jump(...).');
  const target = r.target!;
  const render = (f: IpFamily): string[] | undefined => {
    const parts: MatchArgs[] = [];
    for (const m of matches) {
      const a = m._args(f);
      if (!a) return undefined;
      parts.push(a);
    }
    const basic: Partial<Record<string, string>> = {};
    for (const [k, m] of parts.map((p, i) => [p, matches[i]] as const)) {
      for (const field of BASIC_FIELDS) {
        const v = k.basic[field];
        if (v === undefined) continue;
        if (basic[field] !== undefined && basic[field] !== v) {
          fail(`${where}: ${m} contradicts another match (${FIELD_NAMES[field]} ${basic[field]} vs ${v}); the rule could never match`, 'Split it into two rules.');
        }
        basic[field] = v;
      }
    }
    const p = target._problem(basic.p) ?? placeProblem(target._kind(), table, chain, target._jumpChain(), own);
    if (p) fail(`${where} (${target}): ${p.message}`, p.fix);
    const argv: string[] = [];
    for (const field of BASIC_FIELDS) if (basic[field] !== undefined) argv.push(`-${field}`, basic[field]!);
    // a module given twice (two conntrack matches, a port and a tcpSyn) is written once per distinct argument list
    const seen = new Set<string>();
    for (const k of parts) {
      const key = k.module.join(' ');
      if (key === '' || seen.has(key)) continue;
      seen.add(key);
      argv.push(...k.module);
    }
    const verdict = target._args(f, basic.p);
    if (!verdict) return undefined;
    argv.push(...verdict);
    return argv;
  };
  const everywhere = ALL_FAMILIES.filter((f) => render(f) !== undefined);
  if (everywhere.length === 0) fail(`${where} matches no packet in either family (${matches.map(String).join(', ')})`, 'Split it into one rule per family.');
  const out: Partial<Record<IpFamily, readonly string[]>> = {};
  for (const f of fams) {
    const a = render(f);
    if (a) out[f] = a;
  }
  if (target._jumpChain() === chain) fail(`${where} jumps to its own chain ${chain}, a loop`);
  return out;
}

const FIELD_NAMES: Record<string, string> = { s: 'source', d: 'destination', i: 'in-interface', o: 'out-interface', p: 'protocol' };

/** Raw argv, checked by the parser of each family it is for. */
function rawArgs(
  raw: string[], where: string, table: TableName, chain: string, families: readonly IpFamily[], meant: readonly IpFamily[],
  fail: Fail, claim: (kind: string, name: string) => void, own: ReadonlyMap<string, TableName>,
): Partial<Record<IpFamily, readonly string[]>> {
  if (!Array.isArray(raw) || raw.length === 0 || raw.some((a) => typeof a !== 'string')) fail(`${where}.raw must be a non-empty list of strings`);
  const bad = raw.find((a) => /[\n\r\0]/.test(a));
  if (bad !== undefined) fail(`${where}.raw holds ${JSON.stringify(bad)}: a line break or NUL would start a new line of the rule file`, 'Pass each argument as one string without line breaks.');
  if (raw[0] === '-A' || raw[0] === '-I' || raw[0] === '-D') fail(`${where}.raw starts with ${raw[0]}: give only what follows "-A ${chain}"`);
  if (raw.some((a, i) => (a === '-c' || a === '--set-counters') && !TEXT_OPTIONS.has(raw[i - 1]))) {
    fail(`${where}.raw sets counters (-c): the rule files carry none, and its value can hide a "!" from every check`, 'Leave -c out.');
  }
  const out: Partial<Record<IpFamily, readonly string[]>> = {};
  for (const f of meant) {
    let parsed: ParsedRule;
    try {
      // the jump target counts as declared here; checkJumps() checks it once every part is in
      parsed = parseRuleArgs(f, table, ['-A', chain, ...raw], 1, new Set([chain, ...jumpTargets(raw)]));
    } catch (e) {
      return fail(`${where}.raw (${raw.join(' ')}) is not a rule this library understands for ${f}: ${(e as Error).message}`,
        meant.length > 1 ? 'Use typed matches, or give family: IpFamily.V4 / V6 with argv of that family.' : 'Use typed matches, or argv in the grammar iptables-save prints.');
    }
    // lists and tables a raw rule writes are the part's, as with typed matches
    for (const m of parsed.matches) {
      if (m.kind === 'recent' && m.op !== 'rcheck') claim('recent list', m.name);
      if (m.kind === 'hashlimit') claim('hashlimit table', m.name);
    }
    const t = parsed.target;
    const jumpTo = t.kind === 'jump' || t.kind === 'goto' ? t.chain : undefined;
    const problem = placeProblem(jumpTo !== undefined ? 'jump' : t.kind, table, chain, jumpTo, own);
    if (problem) fail(`${where}.raw (${raw.join(' ')}): ${problem.message}`, problem.fix);
    // what ships is what was checked: every value written the one way iptables-save prints it
    const spelling = spellingProblem(f, raw);
    if (spelling) fail(`${where}.raw (${raw.join(' ')}): ${spelling}`, 'Raw rules are written into the rule file as given, and must mean to iptables what they mean to the checks.');
    if (families.includes(f)) out[f] = [...raw];
  }
  return out;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'object') return `a ${(x as object).constructor?.name ?? 'object'}`;
  return `${typeof x} ${JSON.stringify(x)}`;
}

/**
 * Where a verdict may stand: the kernel refuses filtering in the nat table,
 * REJECT outside filter, address translation outside its nat hooks; a part
 * jumps only to its own chains or to the host's TCP / UDP service chains
 * (another part's chain may ACCEPT what that part never meant to open).
 */
function placeProblem(
  kind: string, table: TableName, chain: string, jumpTo: string | undefined, own: ReadonlyMap<string, TableName>,
): ValueProblem | undefined {
  const builtin = BUILTIN_CHAINS[table].includes(chain);
  if ((kind === 'DROP' || kind === 'REJECT') && table === 'nat') {
    return { message: `${kind} in the nat table, which the kernel refuses ("not intended for filtering")`, fix: 'Filter in a filter slot (INPUT_*, TCP_*, FORWARD_*, ...).' };
  }
  if (kind === 'REJECT' && table !== 'filter') {
    return { message: `REJECT in the ${table} table, where the kernel does not allow it`, fix: 'Use Target.DROP there, or reject in a filter slot.' };
  }
  if (kind === 'DNAT' && !(table === 'nat' && (!builtin || chain === 'PREROUTING' || chain === 'OUTPUT'))) {
    return { message: `DNAT in ${table} ${chain}; the kernel allows it in nat PREROUTING and OUTPUT only`, fix: 'Put the rule in RuleSlot.NAT_PREROUTING.' };
  }
  if ((kind === 'SNAT' || kind === 'MASQUERADE') && !(table === 'nat' && (!builtin || chain === 'POSTROUTING' || chain === 'INPUT'))) {
    return { message: `${kind} in ${table} ${chain}; the kernel allows it in nat POSTROUTING and INPUT only`, fix: 'Put the rule in RuleSlot.NAT_POSTROUTING.' };
  }
  if (jumpTo !== undefined && !own.has(jumpTo) && !(table === 'filter' && (jumpTo === 'TCP' || jumpTo === 'UDP'))) {
    return {
      message: `jumps to chain "${jumpTo}", which is not one of the part's own chains`,
      fix: `Declare "${jumpTo}" among the part's chains; a part may jump only to its own chains and to the host's TCP / UDP chains (another part's chain may accept what that part never meant to open).`,
    };
  }
  return undefined;
}
