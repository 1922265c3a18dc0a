import { numberLooksLikeToken, ValueProblem } from '../private/errors';

const PORT_BRAND = Symbol.for('cdktf-iptables.Port');

/**
 * An IP protocol, spelled as iptables spells it. Ports exist for TCP and UDP
 * only; the others are for packets given to the verdict evaluator.
 */
export enum Protocol {
  /** TCP: new connections start with SYN. */
  TCP = 'tcp',
  /** UDP: connectionless; "new" is the first packet of a flow. */
  UDP = 'udp',
  /** ICMP (IPv4 only), protocol 1. */
  ICMP = 'icmp',
  /** ICMPv6 (IPv6 only), protocol 58. */
  ICMPV6 = 'ipv6-icmp',
  /** GRE, protocol 47 (any other protocol: `PacketProps.protocolNumber`). */
  GRE = 'gre',
  /** ESP (IPsec), protocol 50. */
  ESP = 'esp',
  /** SCTP, protocol 132. */
  SCTP = 'sctp',
}

/**
 * A destination port (or range) of a protocol, opened or guarded by the firewall.
 *
 * Checked when a construct uses it: a bad value fails synth with the construct
 * path, the value and the fix.
 *
 * @example
 * Port.tcp(22); Port.udp(53); Port.tcpRange(6000, 6010); Port.HTTPS
 */
export class Port {
  /** SSH, TCP 22. */
  public static readonly SSH = Port.tcp(22);
  /** HTTP, TCP 80. */
  public static readonly HTTP = Port.tcp(80);
  /** HTTPS, TCP 443. */
  public static readonly HTTPS = Port.tcp(443);

  /** A single TCP port (1..65535). */
  public static tcp(port: number): Port {
    return new Port(Protocol.TCP, port, port);
  }

  /** A single UDP port (1..65535). */
  public static udp(port: number): Port {
    return new Port(Protocol.UDP, port, port);
  }

  /** A TCP port range, both ends included; `from` must not exceed `to`. */
  public static tcpRange(from: number, to: number): Port {
    return new Port(Protocol.TCP, from, to);
  }

  /** A UDP port range, both ends included; `from` must not exceed `to`. */
  public static udpRange(from: number, to: number): Port {
    return new Port(Protocol.UDP, from, to);
  }

  /** True when `x` is a Port, from this or any other copy of this library. */
  public static isPort(x: unknown): x is Port {
    return typeof x === 'object' && x !== null && (x as any)[PORT_BRAND] === true;
  }

  /**
   * This copy's Port for a port of any copy (checked as any port is).
   * @internal
   */
  public static _adopt(x: Port): Port {
    if (x instanceof Port) return x;
    const other: { protocol: Protocol; fromPort: number; toPort: number } = x;
    return new Port(other.protocol, other.fromPort, other.toPort);
  }

  /**
   * @param protocol the transport protocol
   * @param fromPort first port of the range
   * @param toPort last port of the range (equal to fromPort for one port)
   */
  private constructor(
    public readonly protocol: Protocol,
    public readonly fromPort: number,
    public readonly toPort: number,
  ) {
    Object.defineProperty(this, PORT_BRAND, { value: true });
  }

  /** True when this is a range of more than one port. */
  public get isRange(): boolean {
    return this.fromPort !== this.toPort;
  }

  /** For humans: `tcp/22`, `udp/6000-6010`. */
  public toString(): string {
    const span = this.isRange ? `${this.fromPort}-${this.toPort}` : `${this.fromPort}`;
    return `${this.protocol}/${span}`;
  }

  /**
   * What is wrong with this port, if anything.
   * @internal
   */
  public _problem(): ValueProblem | undefined {
    for (const n of [this.fromPort, this.toPort]) {
      if (typeof n === 'number' && numberLooksLikeToken(n)) {
        return {
          message: `port of ${this.protocol} is an unresolved token`,
          fix: 'Rule files are written at synth time: pass a literal port number.',
        };
      }
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
        return {
          message: `port ${String(n)} of ${this.protocol} is not a whole number from 1 to 65535`,
          fix: n === 0 ? 'Port 0 cannot be matched; did you mean a range such as Port.tcpRange(1, 65535)?' : 'Use a port from 1 to 65535.',
        };
      }
    }
    if (this.fromPort > this.toPort) {
      return {
        message: `port range ${this.fromPort}-${this.toPort} of ${this.protocol} runs backwards`,
        fix: `Did you mean Port.${this.protocol}Range(${this.toPort}, ${this.fromPort})?`,
      };
    }
    return undefined;
  }

  /**
   * True when this port (range) covers every port of `other`.
   * @internal
   */
  public _covers(other: Port): boolean {
    return this.protocol === other.protocol && this.fromPort <= other.fromPort && this.toPort >= other.toPort;
  }

  /**
   * True when this port (range) shares at least one port with `other`.
   * @internal
   */
  public _overlaps(other: Port): boolean {
    return this.protocol === other.protocol && this.fromPort <= other.toPort && other.fromPort <= this.toPort;
  }
}
