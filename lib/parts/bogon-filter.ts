import { Construct } from 'constructs';
import { FirewallPart } from '../constructs/firewall-part';
import { PartContribution } from '../firewall/skeleton';
import { BogonFilterContribution, bogonFilterProblem, BogonFilterSpec } from './bogon-filter-rules';
import { Peer } from '../values/peer';
import { PartHost } from '../rules/part-host';
import { PartRules } from '../rules/part-rules';

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
 * loopback, documentation, multicast, reserved, ... for IPv4 and IPv6), in the
 * raw table so it covers the host and anything it forwards.
 * @example new BogonFilter(host, 'bogons', { iface: 'eth0' });
 */
export class BogonFilter extends FirewallPart {
  private readonly spec: BogonFilterSpec;

  public constructor(scope: Construct, id: string, props: BogonFilterProps) {
    super(scope, id);
    const p = this._props.props(props, 'BogonFilter', true);
    this.spec = { path: this.node.path, iface: this._props.reqStr('iface', p.iface), allow: this._checkPeers('allow', p.allow) };
    this._check(bogonFilterProblem(this.spec));
  }

  /** The part's chains and rules (see {@link FirewallPart.firewallRules}). */
  public firewallRules(host: PartHost): PartRules {
    return this._contribution().rules(host);
  }

  /** @internal */
  public _contribution(): PartContribution<any> {
    return new BogonFilterContribution(this.spec);
  }
}
