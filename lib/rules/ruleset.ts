/**
 * The mutable builder a host's parts compile into: chains, rules with their
 * owners, kernel-wide name claims, sets, requirements and declarations. The
 * firewall layer freezes it into a compiled firewall; `ordered(family)` gives
 * the final, deterministic layout.
 */
import { IpFamily } from '../iptables/family';
import type { IpSetSpec } from '../iptables/ipset';
import { BUILTIN_CHAINS, ChainPolicy, MAX_COMMENT, TableName, TABLES } from '../iptables/kernel-limits';
import { RenderChain, RenderTable, targetIndex } from '../iptables/syntax';
import { firewallError, printablePath } from '../private/errors';
import { byCodePoint, compareNaturalKeys, naturalKey } from '../private/order';
import { Declarations, Owned } from '../values/declarations';
import { DeclaredEgress, DeclaredForward, DeclaredOpening, DeclaredRefusal } from '../values/intent';

/**
 * One rule, before ordering: where it goes, what it says per family, and
 * where it comes from. `args` holds everything after `-A CHAIN`, as argv.
 */
export interface RuleSpec {
  readonly table: TableName;
  readonly chain: string;
  /** The named slot of the chain (see slot-places.ts): lower runs first. */
  readonly slot: number;
  /** Position inside the slot for rules whose relative order matters. @default 0 */
  readonly order?: number;
  /** Construct path of the part that asked for the rule; breaks ties. */
  readonly owner: string;
  /** The rule per family; a family without an entry does not get the rule. */
  readonly args: Partial<Record<IpFamily, readonly string[]>>;
  /** A name other rules can replace this rule by (e.g. `final-tcp`). */
  readonly id?: string;
  /** The id of a rule this one stands in for; at most one part may replace a rule. */
  readonly replaces?: string;
}

/** A chain to declare in a table, per family. */
export interface ChainSpec {
  readonly table: TableName;
  readonly name: string;
  readonly families: readonly IpFamily[];
  /** Policy of a built-in chain. @default ACCEPT */
  readonly policy?: ChainPolicy;
  /** Construct path of the part that asked for the chain. */
  readonly owner: string;
}

/** A brute-force guard's recent list and the prefix lengths it counts sources by. */
export interface GuardListNote {
  /** The list name (IPv6 rules use it with a `6` suffix). */
  readonly list: string;
  readonly v4Prefix: number;
  readonly v6Prefix: number;
}

/** A whole firewall for both families, as parts add to it. */
export class Ruleset {
  /** Whether rendered rules carry their owner as a comment. */
  public readonly comments: boolean;
  private readonly chains: ChainSpec[] = [];
  private readonly rules: RuleSpec[] = [];
  private readonly claims = new Map<string, string>();
  private readonly flags = new Set<string>();
  private readonly guards = new Map<string, GuardListNote>();
  private readonly setSpecs = new Map<string, IpSetSpec>();
  private readonly declared = {
    opens: [] as Owned<DeclaredOpening>[],
    trusts: [] as Owned<string>[],
    forwards: [] as Owned<DeclaredForward>[],
    egress: [] as Owned<DeclaredEgress>[],
    refuses: [] as Owned<DeclaredRefusal>[],
  };

  public constructor(options: { readonly comments?: boolean } = {}) {
    this.comments = options.comments === true;
  }

  /**
   * Claims a kernel-wide name (a chain, a recent list, a hashlimit table) for
   * `owner`; a second owner claiming it is an error naming both. `fix` says
   * what to do when the name is fixed (a part that exists once per host).
   */
  public claim(kind: string, name: string, owner: string, fix = 'Give one of them another name.'): void {
    const key = `${kind}\u0000${name}`;
    const prev = this.claims.get(key);
    if (prev !== undefined && prev !== owner) {
      throw firewallError(owner, { message: `${kind} "${name}" is already used by ${printablePath(prev)}`, fix });
    }
    this.claims.set(key, owner);
  }

  /** Records a fact about the firewall that provisioning needs (e.g. `ipv4-forwarding`). */
  public require(flag: string): void {
    this.flags.add(flag);
  }

  /** The recorded requirements, sorted. */
  public get requirements(): string[] {
    return [...this.flags].sort();
  }

  /** Notes the xt_recent list of a brute-force guard: a deploy forgives the authenticated deploying client there. */
  public noteGuardList(note: GuardListNote): void {
    this.guards.set(note.list, note);
  }

  /** The guards' recent lists, by name. */
  public get guardLists(): GuardListNote[] {
    return [...this.guards.values()].sort((a, b) => byCodePoint(a.list, b.list));
  }

  /** Declares an ipset set (its name is claimed kernel-wide). */
  public addSet(set: IpSetSpec): void {
    this.claim('ipset', set.name, set.owner);
    this.setSpecs.set(set.name, set);
  }

  /** The declared sets, by name. */
  public get sets(): IpSetSpec[] {
    return [...this.setSpecs.values()].sort((a, b) => byCodePoint(a.name, b.name));
  }

  /** Declares a chain (a built-in chain's policy, or a user chain). */
  public declareChain(chain: ChainSpec): void {
    this.chains.push(chain);
  }

  /** Adds a rule. */
  public addRule(rule: RuleSpec): void {
    this.rules.push(rule);
  }

  /** All declared chains. */
  public get declaredChains(): readonly ChainSpec[] {
    return this.chains;
  }

  /** All rules. */
  public get allRules(): readonly RuleSpec[] {
    return this.rules;
  }

  /** Records what a part declares it admits or refuses on purpose. */
  public declare(owner: string, d: {
    opens?: readonly DeclaredOpening[];
    trusts?: readonly string[];
    forwards?: readonly DeclaredForward[];
    egress?: readonly DeclaredEgress[];
    refuses?: readonly DeclaredRefusal[];
  }): void {
    for (const x of d.opens ?? []) this.declared.opens.push({ owner, declared: x });
    for (const x of d.trusts ?? []) this.declared.trusts.push({ owner, declared: x });
    for (const x of d.forwards ?? []) this.declared.forwards.push({ owner, declared: x });
    for (const x of d.egress ?? []) this.declared.egress.push({ owner, declared: x });
    for (const x of d.refuses ?? []) this.declared.refuses.push({ owner, declared: x });
  }

  /** Every declaration, with its owner. */
  public get declarations(): Declarations {
    return this.declared;
  }

  /**
   * The tables of `family` in render order; a table appears when it has a
   * declared chain or a rule. Built-in chains are always declared in full;
   * user chains follow in name order (as iptables-save prints them).
   */
  public ordered(family: IpFamily): RenderTable[] {
    const out: RenderTable[] = [];
    for (const table of TABLES) {
      const chainsHere = this.chains.filter((c) => c.table === table && c.families.includes(family));
      const inFamily = this.rules.filter((r) => r.table === table && r.args[family] !== undefined);
      const replaced = replacements(inFamily);
      const rulesHere = inFamily.filter((r) => !(r.id && replaced.has(r.id)));
      if (chainsHere.length === 0 && rulesHere.length === 0) continue;
      const builtins = BUILTIN_CHAINS[table];
      const userNames = [...new Set(chainsHere.map((c) => c.name).filter((n) => !builtins.includes(n)))].sort(byCodePoint);
      const policyOf = (name: string): ChainPolicy => {
        const policies = new Set(chainsHere.filter((c) => c.name === name && c.policy).map((c) => c.policy!));
        if (policies.size > 1) {
          const owners = chainsHere.filter((c) => c.name === name).map((c) => c.owner).join(', ');
          throw firewallError(owners, { message: `conflicting policies for ${table} ${name}: ${[...policies].join(' vs ')}` });
        }
        return [...policies][0] ?? 'ACCEPT';
      };
      const byChain = new Map<string, RuleSpec[]>();
      for (const r of rulesHere) {
        let list = byChain.get(r.chain);
        if (!list) byChain.set(r.chain, (list = []));
        list.push(r);
      }
      const chains: RenderChain[] = [
        ...builtins.map((name) => ({ name, policy: policyOf(name), rules: this.orderRules(byChain.get(name) ?? [], family) })),
        ...userNames.map((name) => ({ name, policy: '-' as const, rules: this.orderRules(byChain.get(name) ?? [], family) })),
      ];
      out.push({ name: table, chains });
    }
    return out;
  }

  /**
   * A chain's rules in order: slot, order, owner, then text read with numbers
   * as numbers; identical rules are emitted once (with the first owner).
   */
  private orderRules(rules: readonly RuleSpec[], family: IpFamily): Array<{ args: string[]; owner: string }> {
    // the natural-order key is split once per rule, not once per comparison
    const mine = rules.map((r) => {
      const text = r.args[family]!.join(' ');
      return { r, args: r.args[family]!, text, key: naturalKey(text) };
    });
    mine.sort((a, b) =>
      a.r.slot - b.r.slot
      || (a.r.order ?? 0) - (b.r.order ?? 0)
      || byCodePoint(a.r.owner, b.r.owner)
      || compareNaturalKeys(a.key, b.key));
    const seen = new Set<string>();
    const out: Array<{ args: string[]; owner: string }> = [];
    for (const m of mine) {
      if (seen.has(m.text)) continue;
      seen.add(m.text);
      out.push({ args: this.comments ? withOwnerComment(m.args, m.r.owner) : [...m.args], owner: m.r.owner });
    }
    return out;
  }
}

/** Rule ids replaced by other rules, checking that at most one part replaces each. */
function replacements(rules: readonly RuleSpec[]): Map<string, string> {
  const replaced = new Map<string, string>();
  for (const r of rules) {
    if (!r.replaces) continue;
    const prev = replaced.get(r.replaces);
    if (prev !== undefined && prev !== r.owner) {
      throw firewallError(r.owner, { message: `replaces rule "${r.replaces}", which ${printablePath(prev)} replaces already`, fix: 'Keep one of them.' });
    }
    replaced.set(r.replaces, r.owner);
  }
  return replaced;
}

/**
 * `args` with `-m comment --comment OWNER` as the last match (before the
 * target, where iptables-save prints it back). A path longer than the kernel
 * keeps is cut at the front: its end names the construct. Characters outside
 * printable ASCII become `?`.
 */
export function withOwnerComment(args: readonly string[], owner: string): string[] {
  // printable ASCII only: a construct id may hold a line break or any other character
  const plain = owner.replace(/[^\x20-\x7e]/g, '?');
  const text = plain.length > MAX_COMMENT ? `...${plain.slice(plain.length - MAX_COMMENT + 3)}` : plain;
  const at = targetIndex(args);
  const cut = at < 0 ? args.length : at;
  return [...args.slice(0, cut), '-m', 'comment', '--comment', text, ...args.slice(cut)];
}
