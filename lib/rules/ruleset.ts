import { IpFamily } from '../iptables/family';
import type { IpSetSpec } from '../iptables/ipset';
import { BUILTIN_CHAINS, ChainPolicy, ChainSpec, RuleSpec, TableName, TABLES, targetIndex } from './rule';
import { firewallError, printablePath } from '../private/errors';

/** A brute-force guard's recent list and the prefix lengths it counts sources by. */
export interface GuardListNote {
  /** The list name (IPv6 rules use it with a `6` suffix). */
  readonly list: string;
  readonly v4Prefix: number;
  readonly v6Prefix: number;
}

/** One rendered chain: its declaration and its rules in final order. */
export interface OrderedChain {
  readonly name: string;
  /** Policy for a built-in chain, `-` for a user chain. */
  readonly policy: ChainPolicy | '-';
  readonly rules: readonly (readonly string[])[];
}

/** One rendered table. */
export interface OrderedTable {
  readonly name: TableName;
  readonly chains: readonly OrderedChain[];
}

/**
 * A whole firewall for both families: chains and rules, unordered as parts add
 * them. `ordered(family)` gives the final, deterministic layout.
 */
export class Ruleset {
  /** Whether rendered rules carry their owner as a comment. */
  public readonly comments: boolean;
  private readonly chains: ChainSpec[] = [];
  private readonly rules: RuleSpec[] = [];
  private readonly claims = new Map<string, string>();
  private readonly flags = new Set<string>();
  private readonly guards = new Map<string, GuardListNote>();
  private readonly setSpecs = new Map<string, IpSetSpec>();

  public constructor(options: { readonly comments?: boolean } = {}) {
    this.comments = options.comments === true;
  }

  /** A rule's argv as rendered: with its owner's comment when comments are on. */
  public rendered(r: RuleSpec, family: IpFamily): readonly string[] {
    const args = r.args[family]!;
    return this.comments ? withOwnerComment(args, r.owner) : args;
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

  /**
   * Notes the xt_recent list of a brute-force guard: a deploy forgives the
   * authenticated deploying client there.
   */
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

  /** Adds rules. */
  public addRules(rules: readonly RuleSpec[]): void {
    for (const r of rules) this.addRule(r);
  }

  /** All declared chains (for checks). */
  public get declaredChains(): readonly ChainSpec[] {
    return this.chains;
  }

  /** All rules (for checks and analysis). */
  public get allRules(): readonly RuleSpec[] {
    return this.rules;
  }

  /**
   * The tables of `family` in render order; a table appears when it has a
   * declared chain or a rule. Built-in chains are always declared in full;
   * user chains follow in name order (as iptables-save prints them).
   */
  public ordered(family: IpFamily): OrderedTable[] {
    const out: OrderedTable[] = [];
    for (const table of TABLES) {
      const chainsHere = this.chains.filter((c) => c.table === table && c.families.includes(family));
      const rulesHere = this.rules.filter((r) => r.table === table && r.args[family] !== undefined);
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
      const chains: OrderedChain[] = [
        ...builtins.map((name) => ({ name, policy: policyOf(name), rules: orderRules(rulesHere, name, family, this.comments) })),
        ...userNames.map((name) => ({ name, policy: '-' as const, rules: orderRules(rulesHere, name, family, this.comments) })),
      ];
      out.push({ name: table, chains });
    }
    return out;
  }
}

/** The longest comment the kernel keeps (XT_MAX_COMMENT_LEN 256, with the NUL). */
export const MAX_COMMENT = 255;

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

function orderRules(rules: readonly RuleSpec[], chain: string, family: IpFamily, comments: boolean): string[][] {
  const replaced = new Map<string, string>();
  for (const r of rules) {
    if (!r.replaces) continue;
    const prev = replaced.get(r.replaces);
    if (prev !== undefined && prev !== r.owner) {
      throw firewallError(r.owner, { message: `replaces rule "${r.replaces}", which ${printablePath(prev)} replaces already`, fix: 'Keep one of them.' });
    }
    replaced.set(r.replaces, r.owner);
  }
  const mine = rules
    .filter((r) => r.chain === chain && !(r.id && replaced.has(r.id)))
    .map((r) => {
      const text = r.args[family]!.join(' ');
      return { r, args: r.args[family]!, text, key: naturalKey(text) };
    });
  // the natural-order key is split once per rule, not once per comparison (100,000 rules sort in well under a second)
  mine.sort((a, b) =>
    a.r.slot - b.r.slot
    || (a.r.order ?? 0) - (b.r.order ?? 0)
    || byCodePoint(a.r.owner, b.r.owner)
    || compareNaturalKeys(a.key, b.key));
  const seen = new Set<string>();
  const out: string[][] = [];
  for (const m of mine) {
    if (seen.has(m.text)) continue; // identical rules are emitted once (with the first owner's comment)
    seen.add(m.text);
    out.push(comments ? withOwnerComment(m.args, m.r.owner) : [...m.args]);
  }
  return out;
}

/** Locale-free string order. */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Order that reads numbers as numbers ("--dport 22" before "--dport 443"), locale-free. */
export function naturalCompare(a: string, b: string): number {
  return compareNaturalKeys(naturalKey(a), naturalKey(b));
}

/** A string split into runs of digits and of other characters, for {@link naturalCompare}. */
export function naturalKey(text: string): string[] {
  return text.match(/\d+|\D+/g) ?? [];
}

/** Compares two keys of {@link naturalKey}. */
export function compareNaturalKeys(ca: readonly string[], cb: readonly string[]): number {
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const x = ca[i];
    const y = cb[i];
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      return byCodePoint(x, y);
    }
    return byCodePoint(x, y);
  }
  return ca.length - cb.length;
}
