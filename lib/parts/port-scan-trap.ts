import { Construct } from 'constructs';
import { FirewallPart } from '../constructs/firewall-part';
import { IpFamily } from '../iptables/family';
import { PartContribution } from '../firewall/skeleton';
import { PortScanTrapContribution, portScanTrapProblem, PortScanTrapSpec } from './port-scan-trap-rules';
import { Peer } from '../values/peer';
import { PartHost } from '../rules/part-host';
import { PartRules } from '../rules/part-rules';

/**
 * Properties of a {@link PortScanTrap}.
 * @example { seconds: 60, exempt: [Peer.ipv4('198.51.100.0/24')] }
 */
export interface PortScanTrapProps {
  /**
   * How long a source that touched a closed port sees every port closed
   * (renewed while it keeps trying).
   * @default 60
   */
  readonly seconds?: number;
  /** Trap TCP (SYN scans). @default true */
  readonly tcp?: boolean;
  /** Trap UDP scans. @default true */
  readonly udp?: boolean;
  /**
   * Peers never put on the lists: spoofed probes could otherwise lock out
   * your real clients (the seed's warning). Give your management networks.
   * @default - none
   */
  readonly exempt?: Peer[];
  /**
   * IPv6 sources are listed per prefix of this length: a scanner rotating
   * addresses inside its /64 is still one scanner.
   * @default 64
   * @example 56
   */
  readonly ipv6PrefixLength?: number;
  /**
   * IPv4 sources are listed per prefix of this length.
   * @default 32
   * @example 24
   */
  readonly ipv4PrefixLength?: number;
}

/**
 * The seed's port-scan trap (TCP-PORTSCAN / UDP-PORTSCAN): a source refused at
 * a closed port is refused at every port for `seconds`, so a scan finds at
 * most the open port it happened to probe first.
 *
 * @example
 * new PortScanTrap(host, 'trap', { seconds: 60 });
 */
export class PortScanTrap extends FirewallPart {
  private readonly spec: PortScanTrapSpec;

  public constructor(scope: Construct, id: string, props: PortScanTrapProps = {}) {
    super(scope, id);
    const r = this._props;
    const p = r.props(props, 'PortScanTrap');
    this.spec = {
      path: this.node.path,
      seconds: r.num('seconds', p.seconds, 60),
      tcp: r.bool('tcp', p.tcp, true),
      udp: r.bool('udp', p.udp, true),
      exempt: this._checkPeers('exempt', p.exempt),
      prefix: { [IpFamily.V4]: r.num('ipv4PrefixLength', p.ipv4PrefixLength, 32), [IpFamily.V6]: r.num('ipv6PrefixLength', p.ipv6PrefixLength, 64) },
    };
    this._check(portScanTrapProblem(this.spec));
  }

  /** The part's chains and rules (see {@link FirewallPart.firewallRules}). */
  public firewallRules(host: PartHost): PartRules {
    return this._contribution().rules(host);
  }

  /** @internal */
  public _contribution(): PartContribution<any> {
    return new PortScanTrapContribution(this.spec);
  }
}
