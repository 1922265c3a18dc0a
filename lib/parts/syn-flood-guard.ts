import { Construct } from 'constructs';
import { FirewallPart } from '../constructs/firewall-part';
import { IpFamily } from '../iptables/family';
import { hashlimitBurstProblem, limitBurstProblem, prefixLengthProblem, ratePerSecondProblem } from '../iptables/kernel-limits';
import { SourcePrefix } from '../iptables/spelling';
import { markLibraryPart } from '../private/brand';
import { firstProblem, ValueProblem } from '../private/errors';
import { LibraryRules } from '../rules/library-rules';
import { Match } from '../rules/match';
import { PartHost } from '../rules/part-host';
import { PartRules } from '../rules/part-rules';
import { RuleSlot } from '../rules/slot';
import { Target } from '../rules/target';
import { ConnState } from '../values/conn-state';

/**
 * Properties of a {@link SynFloodGuard}.
 * @example { perSecond: 5, burst: 10 }
 */
export interface SynFloodGuardProps {
  /** New TCP connections (SYNs) admitted per second (1 to 10000). @default 5 */
  readonly perSecond?: number;
  /** Burst above the rate (1 to 10000). @default 10 */
  readonly burst?: number;
  /**
   * Limit each source separately (hashlimit). With false, one global limit:
   * one flooder then spends everyone's budget.
   * @default true
   */
  readonly perSource?: boolean;
  /**
   * With perSource, IPv6 sources share one budget per prefix of this length:
   * a flooder rotating addresses inside its /64 gets one budget, not 2^64.
   * @default 64
   * @example 56
   */
  readonly ipv6PrefixLength?: number;
  /**
   * With perSource, IPv4 sources share one budget per prefix of this length.
   * @default 32
   * @example 24
   */
  readonly ipv4PrefixLength?: number;
}

/**
 * Limits the rate of new TCP connections: new SYNs jump to a chain that
 * RETURNs under the limit (on to the normal port checks) and DROPs above it.
 * Unlike the common `--syn -m limit -j ACCEPT` recipe, it never accepts (that
 * recipe opens every port under the limit). Per source by default
 * (hashlimit), so one flooder cannot use up everyone's budget.
 * @example new SynFloodGuard(host, 'syn-flood', { perSecond: 5 });
 */
export class SynFloodGuard extends FirewallPart {
  private readonly spec: { perSecond: number; burst: number; perSource: boolean; prefix: SourcePrefix };

  public constructor(scope: Construct, id: string, props: SynFloodGuardProps = {}) {
    super(scope, id);
    markLibraryPart(this);
    const r = this._props;
    const p = r.props(props, 'SynFloodGuard');
    this.spec = {
      perSecond: r.num('perSecond', p.perSecond, 5),
      burst: r.num('burst', p.burst, 10),
      perSource: r.bool('perSource', p.perSource, true),
      prefix: { [IpFamily.V4]: r.num('ipv4PrefixLength', p.ipv4PrefixLength, 32), [IpFamily.V6]: r.num('ipv6PrefixLength', p.ipv6PrefixLength, 64) },
    };
    this._check(synFloodProblem(this.spec));
  }

  /** The SYN_FLOOD chain and the jump of new SYNs to it (see the class). */
  public firewallRules(_host: PartHost): PartRules {
    const s = this.spec;
    const under = s.perSource
      ? Match.hashlimit({
        name: SYN_FLOOD_CHAIN.toLowerCase(),
        perMinute: s.perSecond * 60,
        burst: s.burst,
        above: false,
        ipv4PrefixLength: s.prefix[IpFamily.V4],
        ipv6PrefixLength: s.prefix[IpFamily.V6],
      })
      : Match.limit(s.perSecond * 60, s.burst);
    const rules: LibraryRules = {
      chains: [{ name: SYN_FLOOD_CHAIN, rules: [{ matches: [under], target: Target.RETURN }, { target: Target.DROP }] }],
      rules: [{
        slot: RuleSlot.INPUT_GUARD, order: -10, matches: [Match.tcpSyn(), Match.state([ConnState.NEW])], target: Target.jump(SYN_FLOOD_CHAIN),
      }],
      chainClaimFix: 'A host takes one SynFloodGuard: remove one of them.',
    };
    return rules;
  }
}

/** The guard's chain. */
const SYN_FLOOD_CHAIN = 'SYN_FLOOD';

/** What is wrong with a SYN-flood guard's settings. */
function synFloodProblem(s: { perSecond: number; burst: number; perSource: boolean; prefix: SourcePrefix }): ValueProblem | undefined {
  return firstProblem(
    ratePerSecondProblem('perSecond', s.perSecond),
    s.perSource ? hashlimitBurstProblem('burst', s.burst) : limitBurstProblem('burst', s.burst, s.perSecond * 60),
    prefixLengthProblem('ipv4PrefixLength', s.prefix[IpFamily.V4], false),
    prefixLengthProblem('ipv6PrefixLength', s.prefix[IpFamily.V6], true),
  );
}
