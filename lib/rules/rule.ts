import { IpFamily } from '../iptables/family';

/** The iptables tables this library writes, in the order they are rendered. */
export const TABLES = ['raw', 'mangle', 'nat', 'filter'] as const;
/** One of {@link TABLES}. */
export type TableName = typeof TABLES[number];

/** Built-in chains of each table, in iptables-save order. */
export const BUILTIN_CHAINS: Record<TableName, readonly string[]> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** A chain's default verdict (built-in chains only). */
export type ChainPolicy = 'ACCEPT' | 'DROP';

/**
 * One rule, before ordering: where it goes, what it says per family, and
 * where it comes from. `args` holds everything after `-A CHAIN`, as argv.
 */
export interface RuleSpec {
  readonly table: TableName;
  readonly chain: string;
  /** The named slot of the chain (see slots.ts): lower runs first. */
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

/** Helper: the same argv in both families. */
export function both(args: readonly string[]): Partial<Record<IpFamily, readonly string[]>> {
  return { [IpFamily.V4]: args, [IpFamily.V6]: args };
}

/** Helper: argv for the given families only. */
export function only(families: readonly IpFamily[], args: readonly string[]): Partial<Record<IpFamily, readonly string[]>> {
  const out: Partial<Record<IpFamily, readonly string[]>> = {};
  for (const f of families) out[f] = args;
  return out;
}

/** Options whose value is free text (a `-j` there is text, not a jump). */
export const TEXT_OPTIONS: ReadonlySet<string> = new Set(['--comment', '--log-prefix', '--nflog-prefix']);

/** Where a rule's target starts (`-j`, `-g`, `--jump`, `--goto` that is not text), or -1. */
export function targetIndex(args: readonly string[]): number {
  return args.findIndex((a, i) => (a === '-j' || a === '-g' || a === '--jump' || a === '--goto') && !(i > 0 && TEXT_OPTIONS.has(args[i - 1])));
}

/** The chains or targets a rule's argv jumps or goes to (`-j`, `-g`, `--jump`, `--goto`). */
export function jumpTargets(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length - 1; i++) {
    if (i > 0 && TEXT_OPTIONS.has(args[i - 1])) continue;
    if (args[i] === '-j' || args[i] === '-g' || args[i] === '--jump' || args[i] === '--goto') out.push(args[++i]);
  }
  return out;
}
