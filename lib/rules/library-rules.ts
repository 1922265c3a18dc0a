/**
 * What the library's own parts hand their host besides PartRules (internal,
 * never part of the public API): the host's own slots, replaceable host
 * rules, name claims with a part-specific fix, sets, guard lists, routes.
 */
import { ChainRule, PartRules } from './part-rules';
import { HostRule, RuleSlot } from './slot';
import { SkeletonSlot } from './slot-places';
import { IpFamily } from '../iptables/family';

/** A rule of the library's own parts: it may sit in the host's own slots and stand for a replaceable host rule (internal). */
export interface LibraryRule extends ChainRule {
  readonly slot: RuleSlot | SkeletonSlot;
  readonly order?: number;
  readonly replaces?: HostRule;
  /** The host rule this rule is, for a part to replace. */
  readonly id?: HostRule;
}

/** A name a library part takes kernel-wide, and what to do when another part has it. */
export interface LibraryClaim {
  readonly kind: string;
  readonly name: string;
  readonly fix?: string;
}

/**
 * What the library's own parts hand their host besides PartRules, what is
 * not a rule (internal; read only from parts of this library, in any copy).
 */
export interface LibraryExtras {
  /** Kernel-wide names the part takes (before its rules are compiled). */
  readonly claims?: LibraryClaim[];
  /** The fix to name when one of the part's chains is already taken. */
  readonly chainClaimFix?: string;
  /** ipset `hash:net` sets of the part. */
  readonly sets?: Array<{ readonly name: string; readonly family: IpFamily; readonly entries: string[] }>;
  /** Recent lists of brute-force guards, for the deploy pass. */
  readonly guardLists?: Array<{ readonly list: string; readonly v4Prefix: number; readonly v6Prefix: number }>;
  /** Routes the part's rules imply (a NAT gateway's LANs), for evaluating port forwards. */
  readonly routes?: Array<{ readonly family: IpFamily; readonly cidr: string; readonly iface: string }>;
}

/** A library part's rules: PartRules and the extras. */
export type LibraryRules = PartRules & LibraryExtras;

/** The host's own rules: they may sit in the skeleton's slots and stand for replaceable host rules. */
export interface SkeletonRules extends Omit<PartRules, 'rules'>, LibraryExtras {
  readonly rules?: LibraryRule[];
}

