import { Construct } from 'constructs';
import { FirewallPart } from '../constructs/firewall-part';
import { IpFamily } from '../iptables/family';
import { PartContribution } from '../firewall/skeleton';
import { Lan, NatGatewayContribution, natGatewayProblem, NatGatewaySpec } from './nat-gateway-rules';
import { Peer } from '../values/peer';
import { Port } from '../values/port';
import { PartHost } from '../rules/part-host';
import { PartRules } from '../rules/part-rules';

/**
 * A LAN behind a {@link NatGateway}.
 * @example { iface: 'eth0', cidr: '192.168.0.0/24', ipv6Cidr: '2001:db8:1::/64' }
 */
export interface LanNetwork {
  /** The gateway's interface on this LAN. */
  readonly iface: string;
  /** The LAN's IPv4 subnet (masqueraded out of the WAN). */
  readonly cidr: string;
  /**
   * The LAN's IPv6 subnet: forwarded without NAT, and only from this subnet.
   * @default - IPv6 from the LAN interface is forwarded whatever its source
   */
  readonly ipv6Cidr?: string;
}

/**
 * A port forward from the gateway's WAN side to a LAN host.
 * @example { port: Port.tcp(8000), to: '192.168.0.5', toPort: 80 }
 */
export interface PortForward {
  /** The port (or range) on the WAN side, TCP or UDP. */
  readonly port: Port;
  /** The LAN host's IPv4 address; must be inside one of the LANs. */
  readonly to: string;
  /**
   * The port on the LAN host.
   * @default - the same port
   */
  readonly toPort?: number;
  /**
   * Forward only connections from this IPv4 source (a partner's network, say);
   * others get no forward (the port stays closed on the WAN).
   * @default - from everyone
   * @example Peer.ipv4('198.51.100.0/24')
   */
  readonly from?: Peer;
}

/**
 * Properties of a {@link NatGateway}.
 * @example { wan: 'ppp0', lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }], portForwards: [{ port: Port.tcp(8000), to: '192.168.0.5', toPort: 80 }] }
 */
export interface NatGatewayProps {
  /** The WAN (Internet-facing) interface. */
  readonly wan: string;
  /** The LANs behind the gateway. */
  readonly lans: LanNetwork[];
  /** @default - none */
  readonly portForwards?: PortForward[];
  /**
   * A static WAN address to SNAT to, instead of MASQUERADE.
   * @default - MASQUERADE
   */
  readonly snat?: string;
}

/**
 * The seed's NAT gateway: stateful FORWARD (`fw-interfaces`, `fw-open`),
 * MASQUERADE (or SNAT) of each LAN out of the WAN, DNAT port forwards, and
 * stateful IPv6 forwarding without NAT. The host is marked as needing IP
 * forwarding.
 *
 * @example
 * new NatGateway(host, 'nat', {
 *   wan: 'ppp0',
 *   lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }],
 *   portForwards: [{ port: Port.tcp(8000), to: '192.168.0.5', toPort: 80 }],
 * });
 */
export class NatGateway extends FirewallPart {
  private readonly spec: NatGatewaySpec;

  public constructor(scope: Construct, id: string, props: NatGatewayProps) {
    super(scope, id);
    const r = this._props;
    const p = r.props(props, 'NatGateway', true);
    const lans: Lan[] = r.list('lans', p.lans).map((raw, i) => {
      const l = r.obj(`lans[${i}]`, raw) ?? r.fail(`lans[${i}] is missing`);
      return {
        iface: r.reqStr(`lans[${i}].iface`, l.iface),
        cidr: Peer.ipv4(r.reqStr(`lans[${i}].cidr`, l.cidr)),
        ipv6Cidr: l.ipv6Cidr !== undefined ? Peer.ipv6(r.str(`lans[${i}].ipv6Cidr`, l.ipv6Cidr)!) : undefined,
      };
    });
    const forwards = r.list('portForwards', p.portForwards).map((raw, i) => {
      const f = r.obj(`portForwards[${i}]`, raw) ?? r.fail(`portForwards[${i}] is missing`);
      return {
        port: r.port(`portForwards[${i}].port`, f.port),
        to: r.reqStr(`portForwards[${i}].to`, f.to),
        toPort: f.toPort === undefined ? undefined : r.num(`portForwards[${i}].toPort`, f.toPort, NaN),
        from: f.from === undefined ? undefined : ipv4Only(r.peer(`portForwards[${i}].from`, f.from, [IpFamily.V4]), `portForwards[${i}].from`, (m, fix) => r.fail(m, fix)),
      };
    });
    this.spec = {
      path: this.node.path,
      wan: r.reqStr('wan', p.wan),
      lans,
      forwards,
      snat: r.str('snat', p.snat),
    };
    this._check(natGatewayProblem(this.spec));
  }

  /** The part's chains and rules (see {@link FirewallPart.firewallRules}). */
  public firewallRules(host: PartHost): PartRules {
    return this._contribution().rules(host);
  }

  /** @internal */
  public _contribution(): PartContribution<any> {
    return new NatGatewayContribution(this.spec);
  }
}

/** An IPv4 peer: port forwards are IPv4 (DNAT). */
function ipv4Only(peer: Peer, where: string, fail: (message: string, fix?: string) => never): Peer {
  if (!peer.hasFamily(IpFamily.V4) || peer.families.length !== 1) {
    fail(`${where}: ${peer} is not an IPv4 peer; port forwards translate IPv4 only`, "Use Peer.ipv4('198.51.100.0/24').");
  }
  return peer;
}
