/**
 * Targets: what a rule does with the packets it matches. REJECT's answer is
 * chosen per family and protocol here (TCP reset, ICMP port unreachable,
 * ICMPv6 administratively prohibited, ...), nowhere else.
 */
import * as ipaddr from 'ipaddr.js';
import { IpFamily } from '../iptables/family';
import { BUILTIN_CHAIN_NAMES, MAX_CHAIN_NAME, MAX_LOG_PREFIX, objectNameProblem, TARGET_NAMES, wholeNumberProblem } from '../iptables/kernel-limits';
import { SPELLING } from '../iptables/spelling';
import { firstProblem, ValueProblem } from '../private/errors';

/** How a REJECT answers. */
export enum RejectWith {
  /** By the protocol: TCP reset for TCP, port unreachable for UDP, protocol unreachable (IPv6: administratively prohibited) for the rest. */
  AUTO = 'AUTO',
  /** ICMP port unreachable (ICMPv6 port unreachable). */
  PORT_UNREACHABLE = 'PORT_UNREACHABLE',
  /** ICMP host unreachable (ICMPv6 address unreachable). */
  HOST_UNREACHABLE = 'HOST_UNREACHABLE',
  /** ICMP administratively prohibited (ICMPv6 the same). */
  ADMIN_PROHIBITED = 'ADMIN_PROHIBITED',
  /** TCP reset (TCP rules only). */
  TCP_RESET = 'TCP_RESET',
}

/**
 * The REJECT arguments for `family`, by the rule's protocol (`tcp`, `udp` or
 * anything else) when `how` is AUTO.
 */
function rejectArgs(family: IpFamily, how: RejectWith, protocol: string | undefined): string[] {
  const answers = SPELLING[family].reject;
  const auto = protocol === 'tcp' ? 'tcp-reset' : protocol === 'udp' ? answers.portUnreachable : answers.protocolUnreachable;
  const type = {
    [RejectWith.AUTO]: auto,
    [RejectWith.TCP_RESET]: 'tcp-reset',
    [RejectWith.PORT_UNREACHABLE]: answers.portUnreachable,
    [RejectWith.HOST_UNREACHABLE]: answers.hostUnreachable,
    [RejectWith.ADMIN_PROHIBITED]: answers.adminProhibited,
  }[how];
  return ['-j', 'REJECT', '--reject-with', type];
}

/**
 * Options of {@link Target.log}.
 * @example { prefix: 'web-drop: ', level: 4 }
 */
export interface LogTargetOptions {
  /** Text before each logged packet: 1 to 29 letters, digits, spaces and `_ . : = ( ) [ ] # / -`. */
  readonly prefix: string;
  /**
   * Syslog level (0 emerg .. 7 debug).
   * @default 4
   */
  readonly level?: number;
}

/** How a target renders: its argv in a family, given the rule's protocol. */
type TargetRender = (family: IpFamily, protocol: string | undefined) => string[] | undefined;

const TARGET_BRAND = Symbol.for('cdktf-iptables.Target');

/**
 * What a rule does with a matched packet.
 *
 * @example
 * Target.ACCEPT; Target.reject(); Target.jump('MY_CHAIN'); Target.log({ prefix: 'scan: ' })
 */
export class Target {
  /** Let the packet through (ends the walk of this table). */
  public static readonly ACCEPT = new Target('ACCEPT', () => ['-j', 'ACCEPT']);
  /** Drop the packet silently. */
  public static readonly DROP = new Target('DROP', () => ['-j', 'DROP']);
  /** Go back to the chain that jumped here. */
  public static readonly RETURN = new Target('RETURN', () => ['-j', 'RETURN']);

  /** Refuse the packet with an answer (see {@link RejectWith}). */
  public static reject(how?: RejectWith): Target {
    const h = how ?? RejectWith.AUTO;
    const problem: ValueProblem | undefined = Object.values(RejectWith).includes(h) ? undefined : { message: `${String(h)} is not a RejectWith`, fix: 'Use RejectWith.AUTO, ...' };
    return new Target(`REJECT ${h}`, (f, proto) => rejectArgs(f, h, proto), problem, h === RejectWith.TCP_RESET ? 'tcp' : undefined);
  }

  /** Continue in the chain `chain` (one of the part's own chains, or of the host). */
  public static jump(chain: string): Target {
    const problem = objectNameProblem('jump target', chain, MAX_CHAIN_NAME)
      ?? (TARGET_NAMES.includes(chain) ? { message: `jump target ${JSON.stringify(chain)} is a target, not a chain`, fix: `Use Target.${chain === 'ACCEPT' || chain === 'DROP' || chain === 'RETURN' ? chain : 'reject() / log(...)'}.` } : undefined)
      ?? (BUILTIN_CHAIN_NAMES.includes(chain) ? { message: `jump target ${JSON.stringify(chain)} is a built-in chain, which iptables cannot jump to`, fix: 'Jump to a chain of your part, or put the rule in a slot of that chain.' } : undefined);
    return new Target(`jump ${chain}`, () => ['-j', chain], problem, undefined, chain);
  }

  /** Log the packet to the kernel log and go on with the next rule (combine with Match.limit). */
  public static log(options: LogTargetOptions): Target {
    const o = options ?? ({} as LogTargetOptions);
    const level = o.level ?? 4;
    const bad = typeof o.prefix !== 'string' || o.prefix.length === 0 || o.prefix.length > MAX_LOG_PREFIX || !/^[A-Za-z0-9 _.:=()[\]#/-]+$/.test(o.prefix);
    return new Target(`LOG ${o.prefix}`, () => ['-j', 'LOG', '--log-prefix', o.prefix, ...(level !== 4 ? ['--log-level', String(level)] : [])],
      firstProblem(
        bad ? { message: `log prefix ${JSON.stringify(o.prefix)} must be 1 to ${MAX_LOG_PREFIX} letters, digits, spaces and _ . : = ( ) [ ] # / -`, fix: 'For example "web-drop: ".' } : undefined,
        wholeNumberProblem('level', level, 0, 7, 'Syslog levels run from 0 (emerg) to 7 (debug).'),
      ));
  }

  /**
   * IPv4 source NAT to the address of the outgoing interface (nat POSTROUTING;
   * IPv4 only: a rule with it is IPv4-only).
   */
  public static masquerade(): Target {
    return new Target('MASQUERADE', (f) => (f === IpFamily.V4 ? ['-j', 'MASQUERADE'] : undefined));
  }

  /** IPv4 source NAT to a fixed address (nat POSTROUTING; IPv4 only). */
  public static snat(address: string): Target {
    return new Target(`SNAT ${address}`, (f) => (f === IpFamily.V4 ? ['-j', 'SNAT', '--to-source', address] : undefined), ipv4Problem('snat', address));
  }

  /**
   * IPv4 destination NAT: a port forward to `address` (and `port`, when it
   * changes) (nat PREROUTING; IPv4 only).
   */
  public static dnat(address: string, port?: number): Target {
    const problem = ipv4Problem('dnat', address) ?? (port !== undefined ? wholeNumberProblem('dnat port', port, 1, 65535) : undefined);
    return new Target(`DNAT ${address}${port !== undefined ? `:${port}` : ''}`,
      (f) => (f === IpFamily.V4 ? ['-j', 'DNAT', '--to-destination', port !== undefined ? `${address}:${port}` : address] : undefined), problem);
  }

  /** True when `x` is a Target (from any copy of this library). */
  public static isTarget(x: unknown): x is Target {
    return typeof x === 'object' && x !== null && (x as any)[TARGET_BRAND] === true;
  }

  private constructor(
    /** What the target does, for messages. */
    public readonly description: string,
    private readonly render: TargetRender,
    private readonly problem?: ValueProblem,
    private readonly needsProtocol?: string,
    private readonly chain?: string,
  ) {
    Object.defineProperty(this, TARGET_BRAND, { value: true });
  }

  /** A short text of what the target does. */
  public toString(): string {
    return this.description;
  }

  /**
   * The target's argv in `family` for a rule of `protocol`.
   * @internal
   */
  public _args(family: IpFamily, protocol: string | undefined): string[] | undefined {
    return this.render(family, protocol);
  }

  /**
   * What is wrong with the target, if anything (`protocol`: the rule's).
   * @internal
   */
  public _problem(protocol?: string): ValueProblem | undefined {
    if (this.problem) return this.problem;
    if (this.needsProtocol && protocol !== this.needsProtocol) {
      return { message: `${this.description} needs a ${this.needsProtocol} rule, this one matches ${protocol ?? 'every protocol'}`, fix: 'Add Match.protocol(Protocol.TCP) or Match.port(Port.tcp(...)), or use RejectWith.AUTO.' };
    }
    return undefined;
  }

  /**
   * The verdict's kind: ACCEPT, DROP, RETURN, REJECT, LOG, SNAT, DNAT, MASQUERADE or jump.
   * @internal
   */
  public _kind(): string {
    return this.chain !== undefined ? 'jump' : this.description.split(' ')[0];
  }

  /**
   * The chain this target jumps to, if it is a jump.
   * @internal
   */
  public _jumpChain(): string | undefined {
    return this.chain;
  }
}


function ipv4Problem(what: string, address: string): ValueProblem | undefined {
  return typeof address === 'string' && ipaddr.IPv4.isValidFourPartDecimal(address)
    ? undefined
    : { message: `${what} address ${JSON.stringify(address)} is not an IPv4 address`, fix: 'Write four decimal octets, e.g. 192.168.0.5.' };
}
