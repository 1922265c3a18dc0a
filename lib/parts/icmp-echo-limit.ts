import { Construct } from 'constructs';
import { FirewallPart } from '../constructs/firewall-part';
import { limitBurstProblem, ratePerSecondProblem } from '../iptables/kernel-limits';
import { markLibraryPart } from '../private/brand';
import { firewallError, firstProblem } from '../private/errors';
import { LibraryRules } from '../rules/library-rules';
import { Match } from '../rules/match';
import { PartHost } from '../rules/part-host';
import { PartRules } from '../rules/part-rules';
import { RuleSlot, Table } from '../rules/slot';
import { Target } from '../rules/target';
import { IcmpType } from '../values/icmp';

/**
 * Properties of an {@link IcmpEchoLimit}.
 * @example { perSecond: 1, burst: 5 }
 */
export interface IcmpEchoLimitProps {
  /** Echo requests answered per second (all sources together). @default 1 */
  readonly perSecond?: number;
  /** Burst above the rate. @default 5 */
  readonly burst?: number;
}

/**
 * Rate-limits ping (ICMP / ICMPv6 echo requests); the excess is dropped.
 *
 * Only the first request of a ping session is NEW: the rest are ESTABLISHED
 * and pass the conntrack rule, so a limit on the NEW ping rule never limits a
 * flood. The limit therefore sits in the mangle table's INPUT chain, which
 * every packet for the host crosses before filter INPUT; requests above it
 * are dropped (not answered with an error).
 * @example new IcmpEchoLimit(host, 'ping-limit', { perSecond: 1 });
 */
export class IcmpEchoLimit extends FirewallPart {
  private readonly spec: { perSecond: number; burst: number };

  public constructor(scope: Construct, id: string, props: IcmpEchoLimitProps = {}) {
    super(scope, id);
    markLibraryPart(this);
    const p = this._props.props(props, 'IcmpEchoLimit');
    this.spec = { perSecond: this._props.num('perSecond', p.perSecond, 1), burst: this._props.num('burst', p.burst, 5) };
    this._check(firstProblem(ratePerSecondProblem('perSecond', this.spec.perSecond), limitBurstProblem('burst', this.spec.burst, this.spec.perSecond * 60)));
  }

  /** The ECHO_LIMIT chain in mangle and the jump of echo requests to it. */
  public firewallRules(host: PartHost): PartRules {
    const s = this.spec;
    if (!host.ping) {
      throw firewallError(this.node.path, { message: 'limits ping, but the host has ping: false, so no echo request is accepted to begin with', fix: 'Remove the limit or set ping: true.' });
    }
    const rules: LibraryRules = {
      chains: [{
        name: ECHO_LIMIT_CHAIN,
        table: Table.MANGLE,
        rules: [{ matches: [Match.limit(s.perSecond * 60, s.burst)], target: Target.RETURN }, { target: Target.DROP }],
      }],
      rules: [{ slot: RuleSlot.MANGLE_INPUT, matches: [Match.icmp(IcmpType.ECHO_REQUEST)], target: Target.jump(ECHO_LIMIT_CHAIN) }],
      chainClaimFix: 'A host takes one IcmpEchoLimit: remove one of them.',
    };
    return rules;
  }
}

/** Chain in mangle INPUT that rate-limits echo requests. */
const ECHO_LIMIT_CHAIN = 'ECHO_LIMIT';
