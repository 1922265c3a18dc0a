import { ValueProblem } from '../private/errors';

/**
 * Options of {@link ForeignRules.of}.
 * @example { chains: ['DOCKER*'], interfaces: ['docker0', 'br-*'] }
 */
export interface ForeignRulesOptions {
  /**
   * Chain names (globs: a trailing `*` or `+` matches any tail) whose
   * declarations and rules are kept, with every jump into them.
   * @default - none
   */
  readonly chains?: string[];
  /**
   * Interface names (same globs): rules of the built-in chains that name one
   * with `-i` / `-o` are kept too (Docker's FORWARD and MASQUERADE rules).
   * @default - none
   */
  readonly interfaces?: string[];
}

const FOREIGN_RULES_BRAND = Symbol.for('cdktf-iptables.ForeignRules');
const GLOB = /^[A-Za-z0-9_.-]{1,28}[*+]?$|^[*+]$/;

/**
 * Rules of other tools that a deploy keeps: when the new rules are loaded, the
 * live chains of these tools (and the jumps into them, at the top of their
 * chains, where those tools insert them) are merged into the tables the
 * firewall writes, atomically. Nothing of theirs is persisted: at boot our
 * rules load first and the tools add theirs when they start.
 *
 * Kept rules are trusted as they are: neither the rule files nor their checks
 * can see what they admit.
 *
 * @example
 * new StatefulHost(stack, 'web', { keepForeignRules: [ForeignRules.DOCKER, ForeignRules.FAIL2BAN], ... })
 */
export class ForeignRules {
  /** Docker: the `DOCKER*` chains, and the rules that name `docker0` or a `br-*` bridge. */
  public static readonly DOCKER = new ForeignRules(['DOCKER*'], ['docker0', 'br-*']);

  /** fail2ban: its `f2b-*` chains and the jumps into them (bans survive a deploy). */
  public static readonly FAIL2BAN = new ForeignRules(['f2b-*'], []);

  /**
   * Chains and interfaces of another tool, by name or glob.
   * @example ForeignRules.of({ chains: ['CILIUM_*'] })
   */
  public static of(options: ForeignRulesOptions): ForeignRules {
    return new ForeignRules([...(options?.chains ?? [])], [...(options?.interfaces ?? [])]);
  }

  /** True when `x` is a ForeignRules (from any copy of this library). */
  public static isForeignRules(x: any): x is ForeignRules {
    return typeof x === 'object' && x !== null && x[FOREIGN_RULES_BRAND] === true;
  }

  /** Chain name globs. */
  public readonly chains: string[];
  /** Interface name globs. */
  public readonly interfaces: string[];

  private constructor(chains: string[], interfaces: string[]) {
    this.chains = chains;
    this.interfaces = interfaces;
    Object.defineProperty(this, FOREIGN_RULES_BRAND, { value: true });
  }

  /** What is wrong with these globs, if anything. @internal */
  public _problem(): ValueProblem | undefined {
    if (!Array.isArray(this.chains) || !Array.isArray(this.interfaces)) return { message: 'chains and interfaces must be arrays of names' };
    for (const g of [...this.chains, ...this.interfaces]) {
      if (typeof g !== 'string' || !GLOB.test(g)) {
        return { message: `${JSON.stringify(g)} is not a chain or interface name (letters, digits, _ . -, at most 28, optionally ending in * or +)`, fix: 'Write e.g. "DOCKER*" or "docker0".' };
      }
    }
    if (this.chains.length === 0 && this.interfaces.length === 0) return { message: 'names no chains and no interfaces', fix: 'Give chains and/or interfaces, or use ForeignRules.DOCKER / ForeignRules.FAIL2BAN.' };
    return undefined;
  }

  /** True when a chain name matches one of the chain globs. */
  public matchesChain(name: string): boolean {
    return this.chains.some((g) => globRegExp(g).test(name));
  }
}

function globRegExp(glob: string): RegExp {
  const body = glob.replace(/[.]/g, '\\.').replace(/[*+]/g, '.*');
  return new RegExp(`^${body}$`);
}
