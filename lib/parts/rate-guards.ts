import { Construct } from 'constructs';
import { FirewallPart } from '../constructs/firewall-part';
import { IpFamily } from '../iptables/family';
import { PartContribution } from '../firewall/skeleton';
import {
  DropLoggerContribution, dropLoggerProblem, DropLoggerSpec, EchoLimitContribution, echoLimitProblem, EchoLimitSpec,
  SynFloodContribution, synFloodProblem, SynFloodSpec,
} from './rate-guards-rules';
import { PartHost } from '../rules/part-host';
import { PartRules } from '../rules/part-rules';

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
   * Limit each source separately (hashlimit). With false, one global limit
   * as in secure-server-iptables.txt: one flooder then spends everyone's budget.
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
 * Limits the rate of new TCP connections; SYNs above the limit are dropped,
 * those under it go on to the normal port checks.
 * @example new SynFloodGuard(host, 'syn-flood', { perSecond: 5 });
 */
export class SynFloodGuard extends FirewallPart {
  private readonly spec: SynFloodSpec;

  public constructor(scope: Construct, id: string, props: SynFloodGuardProps = {}) {
    super(scope, id);
    const r = this._props;
    const p = r.props(props, 'SynFloodGuard');
    this.spec = {
      path: this.node.path,
      perSecond: r.num('perSecond', p.perSecond, 5),
      burst: r.num('burst', p.burst, 10),
      perSource: r.bool('perSource', p.perSource, true),
      chain: 'SYN_FLOOD',
      prefix: { [IpFamily.V4]: r.num('ipv4PrefixLength', p.ipv4PrefixLength, 32), [IpFamily.V6]: r.num('ipv6PrefixLength', p.ipv6PrefixLength, 64) },
    };
    this._check(synFloodProblem(this.spec));
  }

  /** The part's chains and rules (see {@link FirewallPart.firewallRules}). */
  public firewallRules(host: PartHost): PartRules {
    return this._contribution().rules(host);
  }

  /** @internal */
  public _contribution(): PartContribution<any> {
    return new SynFloodContribution(this.spec);
  }
}

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
 * @example new IcmpEchoLimit(host, 'ping-limit', { perSecond: 1 });
 */
export class IcmpEchoLimit extends FirewallPart {
  private readonly spec: EchoLimitSpec;

  public constructor(scope: Construct, id: string, props: IcmpEchoLimitProps = {}) {
    super(scope, id);
    const p = this._props.props(props, 'IcmpEchoLimit');
    this.spec = { path: this.node.path, perSecond: this._props.num('perSecond', p.perSecond, 1), burst: this._props.num('burst', p.burst, 5) };
    this._check(echoLimitProblem(this.spec));
  }

  /** The part's chains and rules (see {@link FirewallPart.firewallRules}). */
  public firewallRules(host: PartHost): PartRules {
    return this._contribution().rules(host);
  }

  /** @internal */
  public _contribution(): PartContribution<any> {
    return new EchoLimitContribution(this.spec);
  }
}

/**
 * Properties of a {@link DropLogger}.
 * @example { prefix: 'fw-drop: ', perMinute: 5 }
 */
export interface DropLoggerProps {
  /** Log prefix (at most 29 characters). @default "iptables denied: " */
  readonly prefix?: string;
  /** Log lines per minute at most. @default 5 */
  readonly perMinute?: number;
  /** Burst above the rate. @default 5 */
  readonly burst?: number;
  /** Syslog level, 0 (emerg) to 7 (debug). @default 4 */
  readonly level?: number;
}

/**
 * Logs, rate-limited, what INPUT is about to refuse (before the final rules).
 * @example new DropLogger(host, 'log', { prefix: 'fw-drop: ' });
 */
export class DropLogger extends FirewallPart {
  private readonly spec: DropLoggerSpec;

  public constructor(scope: Construct, id: string, props: DropLoggerProps = {}) {
    super(scope, id);
    const r = this._props;
    const p = r.props(props, 'DropLogger');
    this.spec = {
      path: this.node.path,
      prefix: r.str('prefix', p.prefix, 'iptables denied: ')!,
      perMinute: r.num('perMinute', p.perMinute, 5),
      burst: r.num('burst', p.burst, 5),
      level: r.num('level', p.level, 4),
    };
    this._check(dropLoggerProblem(this.spec));
  }

  /** The part's chains and rules (see {@link FirewallPart.firewallRules}). */
  public firewallRules(host: PartHost): PartRules {
    return this._contribution().rules(host);
  }

  /** @internal */
  public _contribution(): PartContribution<any> {
    return new DropLoggerContribution(this.spec);
  }
}
