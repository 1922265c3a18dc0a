/**
 * What a part hands its host: its own chains with their rules, and rules in
 * the host's chains by slot (see slot.ts). Plain data (jsii structs), so a
 * part written in Python, Java, C# or Go returns the same thing.
 */
import { Match } from './match';
import { HostRule, RuleSlot, Table } from './slot';
import { Target } from './target';
import { IpFamily } from '../iptables/family';
import { DeclaredEgress, DeclaredForward, DeclaredOpening, DeclaredRefusal } from '../values/intent';

/**
 * One rule: matches and a target, or (the escape hatch) raw iptables argv.
 *
 * @example
 * { matches: [Match.source(Peer.ipv4('10.0.0.0/8')), Match.port(Port.tcp(5432))], target: Target.ACCEPT }
 */
export interface ChainRule {
  /**
   * All must hold for the rule to match.
   * @default - every packet
   */
  readonly matches?: Match[];
  /**
   * What the rule does. Required unless `raw` is given.
   * @default - none (raw rules only)
   */
  readonly target?: Target;
  /**
   * ESCAPE HATCH: the rule's arguments after `-A CHAIN`, exactly as
   * iptables-save would print them, for what the typed matches cannot say.
   * Checked at synth against the iptables grammar this library understands
   * (a rule it cannot read is refused, so the verdict evaluator and the
   * intent check understand every rule), and written as given. Prefer typed
   * matches: raw rules are not translated between IPv4 and IPv6, so give
   * `family` unless the text means the same in both.
   * @default - typed matches and target
   * @example ['-p', 'tcp', '-m', 'multiport', '--dports', '80,443', '-j', 'ACCEPT']
   */
  readonly raw?: string[];
  /**
   * Only in this family.
   * @default - every family of the host in which all matches exist
   */
  readonly family?: IpFamily;
}

/**
 * A rule in one of the host's chains, at a named slot.
 * @example { slot: RuleSlot.TCP_OPEN, matches: [Match.port(Port.tcp(8080))], target: Target.ACCEPT }
 */
export interface SlottedRule extends ChainRule {
  /** Where the rule goes. */
  readonly slot: RuleSlot;
  /**
   * Position inside the slot when it matters (lower first).
   * @default 0
   */
  readonly order?: number;
  /**
   * A host rule this one stands in for (at most one part may replace a rule).
   * @default - replaces nothing
   */
  readonly replaces?: HostRule;
}

/**
 * A chain of the part's own, with its rules in order.
 * @example { name: 'MY_GUARD', rules: [{ matches: [Match.limit(60, 10)], target: Target.RETURN }, { target: Target.DROP }] }
 */
export interface PartChain {
  /** 1 to 28 letters, digits, `_` or `-`; unique on the host (claimed for the part). */
  readonly name: string;
  /** @default Table.FILTER */
  readonly table?: Table;
  /** The chain's rules, in the order they are checked. */
  readonly rules: ChainRule[];
}

/**
 * Everything a part adds to its host's firewall.
 * @example { chains: [...], rules: [{ slot: RuleSlot.INPUT_GUARD, matches: [...], target: Target.jump('MY_GUARD') }] }
 */
export interface PartRules {
  /**
   * The part's own chains (declared in every family the host renders).
   * @default - none
   */
  readonly chains?: PartChain[];
  /**
   * Rules in the host's chains.
   * @default - none
   */
  readonly rules?: SlottedRule[];
  /**
   * What the part opens to the host on purpose, for the intent check.
   * @default - nothing
   */
  readonly opens?: DeclaredOpening[];
  /**
   * Interfaces the part accepts everything on, on purpose (for the intent check).
   * @default - none
   * @example ['wg0']
   */
  readonly trusts?: string[];
  /**
   * What the part lets the host forward on purpose, for the intent check.
   * @default - nothing
   */
  readonly forwards?: DeclaredForward[];
  /**
   * What the part lets the host send on purpose (it matters under an
   * outbound policy DROP), for the intent check.
   * @default - nothing
   */
  readonly egress?: DeclaredEgress[];
  /**
   * Sources the part drops on purpose, so that traffic declared open
   * elsewhere may be refused from them.
   * @default - none
   */
  readonly refuses?: DeclaredRefusal[];
  /**
   * The host must forward packets (IPv4, and IPv6 when it renders IPv6).
   * @default false
   */
  readonly forwarding?: boolean;
}

