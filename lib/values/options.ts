import { Peer } from './peer';
import { Port } from './port';

/** How a host answers a new connection to a port it has not opened. */
export enum ClosedPortResponse {
  /**
   * Refuse politely, as Linux does without a firewall: TCP RST, ICMP port
   * unreachable for UDP, ICMP protocol unreachable for other protocols
   * (IPv6: icmp6-port-unreachable and icmp6-adm-prohibited).
   */
  REJECT = 'REJECT',
  /** Stay silent: the packet is dropped by the INPUT policy. */
  DROP = 'DROP',
}

/** What the OUTPUT chain does with packets that no rule accepts. */
export enum OutboundPolicy {
  /** Every outbound packet is accepted. */
  ACCEPT = 'ACCEPT',
  /**
   * Outbound packets are dropped unless they belong to an established
   * connection, go to loopback, or match `allow` / `allowTo`.
   */
  DROP = 'DROP',
}

/**
 * Outbound filtering of a host.
 *
 * @example
 * { policy: OutboundPolicy.DROP, allow: [Port.tcp(443), Port.udp(53)], allowTo: [Peer.ipv4('10.0.0.0/8')] }
 */
export interface OutboundOptions {
  /**
   * What happens to outbound packets that no rule accepts.
   * @default OutboundPolicy.ACCEPT
   */
  readonly policy?: OutboundPolicy;

  /**
   * Destination ports the host may open new connections to (policy DROP only).
   * @default - none
   */
  readonly allow?: Port[];

  /**
   * Destinations the host may reach on any port (policy DROP only).
   * @default - none
   */
  readonly allowTo?: Peer[];

  /**
   * Whether the host may send echo requests (ping) when the policy is DROP.
   * @default true
   */
  readonly ping?: boolean;
}
