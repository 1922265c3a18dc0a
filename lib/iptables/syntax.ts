/**
 * The iptables-save syntax this library writes: quoting, one rule's line, a
 * whole file (with the owner of each line), and where a rule's target is.
 * The parser (parse.ts) reads the same syntax back.
 */
import { IpFamily } from './family';
import { ChainPolicy, TableName, TARGET_NAMES } from './kernel-limits';

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

/** Characters iptables-restore takes in an unquoted argument. */
const SAFE_ARG = /^[A-Za-z0-9_.:,/+=@%!-]+$/;
/** Chain names: iptables allows up to 28 characters and no white space. */
const CHAIN_NAME = /^[A-Za-z0-9_.-]{1,28}$/;

/**
 * Quotes one argument the way iptables-save does: bare when safe, otherwise
 * in double quotes with `\` and `"` escaped. Newlines and NULs cannot be
 * represented and are refused (callers validate user text before this).
 */
export function quoteArg(arg: string): string {
  if (/[\n\r\0]/.test(arg)) {
    throw new Error(`internal: argument ${JSON.stringify(arg)} cannot go into a rule file`);
  }
  if (SAFE_ARG.test(arg)) return arg;
  return `"${arg.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Quotes a free-text value (a comment, a log prefix: TEXT_OPTIONS) the way
 * iptables-save does with xtables_save_string: bare only when it is letters, digits, `_` and `-`; otherwise in
 * double quotes with `"`, `\` and `'` escaped.
 */
export function quoteXtString(arg: string): string {
  if (/[\n\r\0]/.test(arg)) throw new Error(`internal: argument ${JSON.stringify(arg)} cannot go into a rule file`);
  if (/^[A-Za-z0-9_-]+$/.test(arg)) return arg;
  return `"${arg.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

/** One rule as a line of the file: `-A CHAIN args`, quoted as iptables-save quotes. */
export function ruleLine(chain: string, args: readonly string[]): string {
  return ['-A', chain, ...args].map((a, i, all) => (TEXT_OPTIONS.has(all[i - 1]) ? quoteXtString(a) : quoteArg(a))).join(' ');
}

/** One rule to render: its argv after `-A CHAIN`, and the construct that asked for it. */
export interface RenderRule {
  readonly args: readonly string[];
  readonly owner: string;
}

/** One chain to render: its declaration and its rules in final order. */
export interface RenderChain {
  readonly name: string;
  /** Policy for a built-in chain, `-` for a user chain. */
  readonly policy: ChainPolicy | '-';
  readonly rules: readonly RenderRule[];
}

/** One table to render. */
export interface RenderTable {
  readonly name: TableName;
  readonly chains: readonly RenderChain[];
}

/** A rendered rule file and the owner of each of its lines. */
export interface RenderedFile {
  readonly text: string;
  /** The construct path that asked for the rule on each line (index = line number - 1); '' for lines that are not rules. */
  readonly lineOwners: readonly string[];
}

/** Options of the renderer. */
export interface RenderOptions {
  /** One comment line at the top (no timestamps: output must be reproducible). */
  readonly header?: string;
}

/**
 * Renders tables as an iptables-save/iptables-restore file: per table,
 * `*table`, chain declarations (`:NAME POLICY [0:0]`), `-A` rules, `COMMIT`.
 * Deterministic: no timestamps, no counters.
 */
export function renderIptablesSave(family: IpFamily, tables: readonly RenderTable[], options: RenderOptions = {}): RenderedFile {
  const lines: string[] = [];
  const owners: string[] = [];
  const line = (text: string, owner = '') => { lines.push(text); owners.push(owner); };
  if (options.header) {
    if (/[\n\r]/.test(options.header)) throw new Error('internal: header must be one line');
    line(`# ${options.header}`);
  }
  for (const table of tables) {
    const declared = new Set(table.chains.map((c) => c.name));
    line(`*${table.name}`);
    for (const chain of table.chains) {
      if (!CHAIN_NAME.test(chain.name)) throw new Error(`internal: bad chain name ${JSON.stringify(chain.name)}`);
      line(`:${chain.name} ${chain.policy} [0:0]`);
    }
    for (const chain of table.chains) {
      for (const rule of chain.rules) {
        for (const target of jumpTargets(rule.args)) {
          if (!TARGET_NAMES.includes(target) && !declared.has(target)) {
            throw new Error(`internal: ${family} ${table.name} ${chain.name} jumps to undeclared chain ${target}`);
          }
        }
        line(ruleLine(chain.name, rule.args), rule.owner);
      }
    }
    line('COMMIT');
  }
  return { text: lines.join('\n') + '\n', lineOwners: owners };
}
