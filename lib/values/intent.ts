/**
 * What a part means its rules to do, declared beside them: the traffic it
 * opens to the host, forwards through it, lets leave it, and refuses on
 * purpose. Every part declares (the host's own skeleton included); the intent
 * check at synth compares what the rendered files admit on every path with
 * these declarations, and nothing infers intent from a part's shape.
 */
import { ConnState } from './conn-state';
import { IcmpType } from './icmp';
import { Peer } from './peer';
import { Port, Protocol } from './port';

/**
 * Which packets a declaration is about: give exactly one of `port`, `icmp`,
 * `protocol` or `anyProtocol`.
 *
 * @example { port: Port.tcp(8443) }
 */
export interface DeclaredTraffic {
  /**
   * TCP or UDP packets to this destination port (or range).
   * @default - not a port declaration
   */
  readonly port?: Port;
  /**
   * ICMP (IPv4) or ICMPv6 (IPv6) messages of this type.
   * @default - not an ICMP declaration
   */
  readonly icmp?: IcmpType;
  /**
   * Every packet of this IP protocol.
   * @default - not a protocol declaration
   */
  readonly protocol?: Protocol;
  /**
   * Every packet of every protocol.
   * @default false
   */
  readonly anyProtocol?: boolean;
  /**
   * Only packets in these conntrack states (replies of established
   * connections: `[ConnState.ESTABLISHED, ConnState.RELATED]`).
   * @default - packets in every state
   */
  readonly states?: ConnState[];
}

/**
 * Traffic to the host that a part admits on purpose.
 * @example { port: Port.tcp(8443), peer: Peer.ipv4('10.0.0.0/8') }
 */
export interface DeclaredOpening extends DeclaredTraffic {
  /** @default Peer.any() */
  readonly peer?: Peer;
  /**
   * The interface (or `+` pattern) the traffic arrives on.
   * @default - any interface
   */
  readonly iface?: string;
}

/**
 * Traffic a part lets the host forward (route from one interface to another), on purpose.
 * @example { port: Port.tcp(80), destination: Peer.ipv4('192.168.0.5'), inInterface: 'ppp0', portForwarded: true }
 */
export interface DeclaredForward extends DeclaredTraffic {
  /** @default Peer.any() */
  readonly source?: Peer;
  /** The destination as the FORWARD chain sees it (after a port forward's translation). @default Peer.any() */
  readonly destination?: Peer;
  /** The interface (or `+` pattern) the traffic arrives on. @default - any interface */
  readonly inInterface?: string;
  /** The interface (or `+` pattern) the traffic leaves on. @default - any interface */
  readonly outInterface?: string;
  /**
   * Only connections whose destination a port forward translated (`--ctstate DNAT`).
   * @default false
   */
  readonly portForwarded?: boolean;
}

/**
 * Traffic a part lets the host send, on purpose (it matters when the host's
 * outbound policy is DROP).
 * @example { port: Port.tcp(5432), destination: Peer.ipv4('10.0.0.5') }
 */
export interface DeclaredEgress extends DeclaredTraffic {
  /** @default Peer.any() */
  readonly destination?: Peer;
  /** The interface (or `+` pattern) the traffic leaves on. @default - any interface */
  readonly outInterface?: string;
}

/**
 * Sources a part drops on purpose (a blocklist, a bogon filter): traffic the
 * host declares open elsewhere may be refused from these without a finding.
 * @example { peer: Peer.ipv4('203.0.113.0/24') }
 */
export interface DeclaredRefusal {
  /** The refused sources. */
  readonly peer: Peer;
  /** Only when arriving on this interface (or `+` pattern). @default - any interface */
  readonly iface?: string;
}

