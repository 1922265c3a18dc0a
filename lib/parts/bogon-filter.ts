import { Construct } from 'constructs';
import { FirewallPart } from '../constructs/firewall-part';
import { IpFamily } from '../iptables/family';
import { markLibraryPart } from '../private/brand';
import { firstProblem } from '../private/errors';
import { naturalCompare } from '../private/order';
import { LibraryRules } from '../rules/library-rules';
import { Match } from '../rules/match';
import { PartHost } from '../rules/part-host';
import { ChainRule, PartRules } from '../rules/part-rules';
import { RuleSlot, Table } from '../rules/slot';
import { Target } from '../rules/target';
import { interfaceNameProblem } from '../values/interface-name';
import { Peer } from '../values/peer';
import { bitsOf, cidrCovers, mergedRanges, parseCidr, rangeToCidrs, subtractRanges } from '../values/prefix';
import { SpecialPurposeBlock, SPECIAL_PURPOSE_V4, SPECIAL_PURPOSE_V6 } from '../values/special-purpose';

/**
 * Properties of a {@link BogonFilter}.
 * @example { iface: 'ppp0', allow: [Peer.ipv4('100.64.0.0/10')] }
 */
export interface BogonFilterProps {
  /** The WAN interface whose spoofed sources are dropped. */
  readonly iface: string;
  /**
   * Special ranges that are legitimate on this WAN (e.g. a carrier-grade NAT's
   * 100.64.0.0/10): checked first and let through.
   * @default - none
   */
  readonly allow?: Peer[];
}

/**
 * Drops packets arriving on a WAN interface from bogon sources (private,
 * loopback, documentation, multicast, reserved, ... for IPv4 and IPv6, from
 * the IANA special-purpose registries), in the raw table (before conntrack),
 * so it covers the host and anything it forwards. Globally reachable blocks
 * inside bogon blocks (PCP/TURN anycast, Teredo, AS112, ...) and `allow` are
 * let through first.
 * @example new BogonFilter(host, 'bogons', { iface: 'eth0' });
 */
export class BogonFilter extends FirewallPart {
  private readonly iface: string;
  private readonly allow: Peer[];

  public constructor(scope: Construct, id: string, props: BogonFilterProps) {
    super(scope, id);
    markLibraryPart(this);
    const p = this._props.props(props, 'BogonFilter', true);
    this.iface = this._props.reqStr('iface', p.iface)!;
    this.allow = this._checkPeers('allow', p.allow);
    const ifaceProblem = interfaceNameProblem(this.iface);
    this._check(ifaceProblem ? { message: `iface: ${ifaceProblem.message}`, fix: ifaceProblem.fix } : firstProblem(...this.allow.map((a) => a._problem())));
  }

  /** The BOGONS-<iface> chain in raw, and the jump of the WAN's packets to it. */
  public firewallRules(_host: PartHost): PartRules {
    const chain = bogonChain(this.iface);
    const bySource = (peers: readonly Peer[]) => [...peers].sort((a, b) => naturalCompare(a.isAny ? '' : a.cidr, b.isAny ? '' : b.cidr));
    const rules: ChainRule[] = bySource(this.allow).map((a) => ({ matches: [Match.source(a)], target: Target.RETURN }));
    const refused: Peer[] = [];
    for (const family of [IpFamily.V4, IpFamily.V6]) {
      const { drop, except } = REGISTRY[family];
      const peer = (cidr: string) => Peer._ofPrefix(family, cidr);
      rules.push(...except.map((c) => ({ matches: [Match.source(peer(c))], target: Target.RETURN })));
      rules.push(...drop.map((c) => ({ matches: [Match.source(peer(c))], target: Target.DROP })));
      // what it refuses on purpose: the bogons, less what it lets through
      const bits = bitsOf(family);
      const passed = [...except, ...this.allow.filter((a) => a.hasFamily(family) && !a.isAny).map((a) => a.cidr)].map((c) => parseCidr(family, c));
      const left = subtractRanges(mergedRanges(bits, drop.map((c) => parseCidr(family, c))), mergedRanges(bits, passed));
      refused.push(...left.flatMap(([lo, hi]) => rangeToCidrs(family, lo, hi)).map(peer));
    }
    const filter: LibraryRules = {
      chains: [{ name: chain, table: Table.RAW, rules }],
      rules: [{ slot: RuleSlot.RAW_PREROUTING, matches: [Match.inInterface(this.iface)], target: Target.jump(chain) }],
      chainClaimFix: 'Filter each interface once (interface names that differ only in characters outside letters, digits, _ . - share a chain).',
      refuses: refused.map((peer) => ({ peer, iface: this.iface })),
    };
    return filter;
  }
}

/** The chain name of a bogon filter on an interface. */
function bogonChain(iface: string): string {
  return `BOGONS-${iface.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

/** The bogon blocks of a registry, without those inside another bogon block, in text order. */
function bogons(family: IpFamily, registry: readonly SpecialPurposeBlock[]): string[] {
  const bits = bitsOf(family);
  const all = registry.filter((e) => e.bogon).map((e) => ({ e, c: parseCidr(family, e.cidr) }));
  return all.filter((x) => !all.some((o) => o.e.cidr !== x.e.cidr && cidrCovers(o.c, x.c, bits))).map((x) => x.e.cidr).sort(naturalCompare);
}

/** Legitimate blocks inside a bogon block: let through before the drops, in text order. */
function exceptions(family: IpFamily, registry: readonly SpecialPurposeBlock[]): string[] {
  const bits = bitsOf(family);
  const blocks = registry.filter((e) => e.bogon).map((e) => parseCidr(family, e.cidr));
  const inside = (e: SpecialPurposeBlock) => blocks.some((b) => cidrCovers(b, parseCidr(family, e.cidr), bits));
  return registry.filter((e) => !e.bogon && inside(e)).map((e) => e.cidr).sort(naturalCompare);
}

/** Sources that never arrive legitimately from the Internet, and the exceptions inside them, per family. */
const REGISTRY: Record<IpFamily, { drop: string[]; except: string[] }> = {
  [IpFamily.V4]: { drop: bogons(IpFamily.V4, SPECIAL_PURPOSE_V4), except: exceptions(IpFamily.V4, SPECIAL_PURPOSE_V4) },
  [IpFamily.V6]: { drop: bogons(IpFamily.V6, SPECIAL_PURPOSE_V6), except: exceptions(IpFamily.V6, SPECIAL_PURPOSE_V6) },
};
