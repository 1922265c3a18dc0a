import * as ipaddr from 'ipaddr.js';
import { ValueProblem } from '../private/errors';
import { Match } from '../rules/match';
import type { ChainRule, PartRules } from '../rules/part-rules';
import { RuleSlot, Table } from '../rules/slot';
import { Target } from '../rules/target';
import { IpFamily } from '../iptables/family';
import { PartContribution } from '../firewall/skeleton';
import { interfaceNameProblem } from '../values/interface-name';
import { firstProblem } from '../iptables/spelling';
import { Peer } from '../values/peer';
import { naturalCompare, Ruleset } from '../rules/ruleset';
import { SpecialPurposeBlock, SPECIAL_PURPOSE_V4, SPECIAL_PURPOSE_V6 } from '../values/special-purpose';

/** True when CIDR `outer` covers CIDR `inner` (same family). */
function cidrCovers(outer: string, inner: string): boolean {
  const [a, aLen] = ipaddr.parseCIDR(outer);
  const [b, bLen] = ipaddr.parseCIDR(inner);
  return a.kind() === b.kind() && aLen <= bLen && b.match(a, aLen);
}

/** The bogon blocks of a registry, without those inside another bogon block. */
function bogons(registry: readonly SpecialPurposeBlock[]): string[] {
  const all = registry.filter((e) => e.bogon);
  return all.filter((e) => !all.some((o) => o !== e && o.cidr !== e.cidr && cidrCovers(o.cidr, e.cidr))).map((e) => e.cidr);
}

/** Legitimate blocks inside a bogon block: let through before the drops. */
function exceptions(registry: readonly SpecialPurposeBlock[]): string[] {
  const all = registry.filter((e) => e.bogon);
  return registry.filter((e) => !e.bogon && all.some((o) => cidrCovers(o.cidr, e.cidr))).map((e) => e.cidr);
}

/**
 * Sources that never arrive legitimately from the Internet, from the IANA
 * special-purpose registries (see special-purpose.ts): "this" network,
 * private, shared (CGN), loopback, link-local (IPv4), documentation,
 * benchmarking, multicast, reserved; IPv6 loopback, IPv4-mapped, discard,
 * local-use NAT64, documentation, SRv6 SIDs, ULA, site-local, 6bone and
 * multicast.
 */
export const BOGONS_V4 = bogons(SPECIAL_PURPOSE_V4);
export const BOGONS_V6 = bogons(SPECIAL_PURPOSE_V6);
/** Globally reachable blocks inside bogon blocks (PCP/TURN anycast, Teredo, AS112, AMT, ORCHIDv2, ...). */
export const BOGON_EXCEPTIONS_V4 = exceptions(SPECIAL_PURPOSE_V4);
export const BOGON_EXCEPTIONS_V6 = exceptions(SPECIAL_PURPOSE_V6);

/** A validated bogon filter. */
export interface BogonFilterSpec {
  readonly path: string;
  readonly iface: string;
  readonly allow: readonly Peer[];
}

/** The chain name of a bogon filter on an interface. */
export function bogonChain(iface: string): string {
  return `BOGONS-${iface.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

/** What is wrong with a bogon filter's settings. */
export function bogonFilterProblem(s: BogonFilterSpec): ValueProblem | undefined {
  const p = interfaceNameProblem(s.iface);
  if (p) return { message: `iface: ${p.message}`, fix: p.fix };
  return firstProblem(...s.allow.map((a) => a._problem()));
}

/**
 * Drops packets with bogon sources arriving on a WAN interface, in the raw
 * table (before conntrack, for INPUT and FORWARD alike). `allow` lists ranges
 * that are legitimate on this WAN (say 100.64.0.0/10 behind a carrier NAT).
 */
export class BogonFilterContribution extends PartContribution<BogonFilterSpec> {

  public prepare(rs: Ruleset): void {
    rs.claim('chain', bogonChain(this.spec.iface), this.spec.path,
      'Filter each interface once (interface names that differ only in characters outside letters, digits, _ . - share a chain).');
  }

  public rules(): PartRules {
    const s = this.spec;
    const chain = bogonChain(s.iface);
    const bySource = (peers: readonly Peer[]) => [...peers].sort((a, b) => naturalCompare(a.isAny ? '' : a.cidr, b.isAny ? '' : b.cidr));
    const rules: ChainRule[] = bySource(s.allow).map((a) => ({ matches: [Match.source(a)], target: Target.RETURN }));
    // constants, spelled as iptables-save prints them (IPv4-mapped in dotted form); the
    // IPv4-mapped block is a source no host should see, which Peer refuses to name: raw argv
    const constant = (family: IpFamily, cidr: string, target: Target): ChainRule => {
      const peer = family === IpFamily.V4 ? Peer.ipv4(cidr) : Peer.ipv6(cidr);
      return peer._problem() ? { raw: ['-s', cidr, '-j', target === Target.DROP ? 'DROP' : 'RETURN'], family } : { matches: [Match.source(peer)], target };
    };
    const lists: Array<[IpFamily, string[], string[]]> = [
      [IpFamily.V4, BOGONS_V4, BOGON_EXCEPTIONS_V4],
      [IpFamily.V6, BOGONS_V6, BOGON_EXCEPTIONS_V6],
    ];
    const byText = (cidrs: string[]) => [...cidrs].sort(naturalCompare);
    for (const [family, list, except] of lists) {
      rules.push(...byText(except).map((c) => constant(family, c, Target.RETURN)));
      rules.push(...byText(list).map((c) => constant(family, c, Target.DROP)));
    }
    return {
      chains: [{ name: chain, table: Table.RAW, rules }],
      rules: [{ slot: RuleSlot.RAW_PREROUTING, matches: [Match.inInterface(s.iface)], target: Target.jump(chain) }],
    };
  }
}
