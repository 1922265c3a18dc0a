import { IpFamily } from './family';
import { jumpTargets, TEXT_OPTIONS } from '../rules/rule';
import { OrderedTable } from '../rules/ruleset';

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

/** Options of the renderer. */
export interface RenderOptions {
  /** One comment line at the top (no timestamps: output must be reproducible). */
  readonly header?: string;
}

/**
 * Renders ordered tables as an iptables-save/iptables-restore file: per table,
 * `*table`, chain declarations (`:NAME POLICY [0:0]`), `-A` rules, `COMMIT`.
 * Deterministic: no timestamps, no counters.
 */
export function renderIptablesSave(family: IpFamily, tables: readonly OrderedTable[], options: RenderOptions = {}): string {
  const lines: string[] = [];
  if (options.header) {
    if (/[\n\r]/.test(options.header)) throw new Error('internal: header must be one line');
    lines.push(`# ${options.header}`);
  }
  for (const table of tables) {
    const declared = new Set(table.chains.map((c) => c.name));
    lines.push(`*${table.name}`);
    for (const chain of table.chains) {
      if (!CHAIN_NAME.test(chain.name)) throw new Error(`internal: bad chain name ${JSON.stringify(chain.name)}`);
      lines.push(`:${chain.name} ${chain.policy} [0:0]`);
    }
    for (const chain of table.chains) {
      for (const rule of chain.rules) {
        checkJump(family, table.name, chain.name, rule, declared);
        lines.push(ruleLine(chain.name, rule));
      }
    }
    lines.push('COMMIT');
  }
  return lines.join('\n') + '\n';
}

const BUILTIN_TARGETS = new Set(['ACCEPT', 'DROP', 'RETURN', 'REJECT', 'LOG', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'CT', 'MARK', 'CONNMARK', 'TCPMSS', 'NFLOG']);

/** A `-j`/`-g` target must be a built-in target or a chain declared in the same table. */
function checkJump(family: IpFamily, table: string, chain: string, rule: readonly string[], declared: Set<string>): void {
  for (const target of jumpTargets(rule)) {
    if (!BUILTIN_TARGETS.has(target) && !declared.has(target)) {
      throw new Error(`internal: ${family} ${table} ${chain} jumps to undeclared chain ${target}`);
    }
  }
}
