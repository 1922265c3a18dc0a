import * as ipaddr from 'ipaddr.js';
import { bitsOf, Cidr, cidrCovers, cidrsOverlap, parseCidr } from './prefix';
import { IpFamily } from '../iptables/family';
import { looksLikeToken, showValue, ValueProblem } from '../private/errors';

const PEER_BRAND = Symbol.for('cdktf-iptables.Peer');

/**
 * A source of traffic: one address, a subnet, or anyone.
 *
 * An IPv4 peer renders only into `iptables.rules`, an IPv6 peer only into
 * `ip6tables.rules`; `Peer.any()` into both. Addresses are parsed with
 * ipaddr.js and printed the way iptables-save prints them.
 *
 * @example
 * Peer.ipv4('15.15.15.0/24'); Peer.ipv4('15.15.15.51'); Peer.ipv6('2001:db8::/64'); Peer.any()
 */
export class Peer {
  /** An IPv4 address (`/32` implied) or CIDR block whose host bits are zero. */
  public static ipv4(cidr: string): Peer {
    return Peer.parse(IpFamily.V4, cidr);
  }

  /** An IPv6 address (`/128` implied) or CIDR block whose host bits are zero. */
  public static ipv6(cidr: string): Peer {
    return Peer.parse(IpFamily.V6, cidr);
  }

  /** Every IPv4 source (renders into the IPv4 file only). */
  public static anyIpv4(): Peer {
    return new Peer([IpFamily.V4], '0.0.0.0/0');
  }

  /** Every IPv6 source (renders into the IPv6 file only). */
  public static anyIpv6(): Peer {
    return new Peer([IpFamily.V6], '::/0');
  }

  /** Every source of both families. */
  public static any(): Peer {
    return new Peer([IpFamily.V4, IpFamily.V6], 'any');
  }

  /**
   * True when `x` is a Peer, from this or any other copy of this library (a
   * part library may bring its own copy).
   */
  public static isPeer(x: unknown): x is Peer {
    return typeof x === 'object' && x !== null && (x as any)[PEER_BRAND] === true;
  }

  /**
   * This copy's Peer for a peer of any copy: parsed again from its CIDR, so
   * it is checked as any peer is.
   * @internal
   */
  public static _adopt(x: Peer): Peer {
    if (x instanceof Peer) return x;
    const other: { families: unknown; cidr: unknown } = x;
    const families = Array.isArray(other.families) ? other.families : [];
    if (other.cidr === 'any') return Peer.any();
    return Peer.parse(families.includes(IpFamily.V6) && !families.includes(IpFamily.V4) ? IpFamily.V6 : IpFamily.V4, String(other.cidr));
  }

  /**
   * A peer of a prefix the library itself writes down (a registry block such
   * as IPv4-mapped IPv6, which `ipv6()` refuses as a user's input), in the
   * form iptables-save prints it.
   * @internal
   */
  public static _ofPrefix(family: IpFamily, cidr: string): Peer {
    const parsed = parseCidr(family, cidr);
    return new Peer([family], cidr.includes('/') ? cidr : `${cidr}/${parsed.prefix}`);
  }

  private static parse(family: IpFamily, input: string): Peer {
    const [canonical, problem] = canonicalCidr(family, input);
    return new Peer([family], canonical ?? (typeof input === 'string' ? input : showValue(input)), problem);
  }

  /**
   * @param families the families this peer renders into
   * @param cidr the canonical CIDR ("any" for both families)
   * @param problem what is wrong with the input, if anything
   */
  private constructor(
    public readonly families: IpFamily[],
    public readonly cidr: string,
    private readonly problem?: ValueProblem,
  ) {
    Object.defineProperty(this, PEER_BRAND, { value: true });
  }

  /** For humans: the canonical CIDR, or `any`. */
  public toString(): string {
    return this.cidr;
  }

  /**
   * What is wrong with this peer, if anything.
   * @internal
   */
  public _problem(): ValueProblem | undefined {
    return this.problem;
  }

  /** True when this peer has addresses of `family`. */
  public hasFamily(family: IpFamily): boolean {
    return this.families.includes(family);
  }

  /** True when this peer is every address of its families (no `-s` match). */
  public get isAny(): boolean {
    return this.cidr === 'any' || this.cidr === '0.0.0.0/0' || this.cidr === '::/0';
  }

  /**
   * The peer's prefix as numbers, in its one family; undefined for a peer
   * of every address (or an invalid one).
   * @internal
   */
  public _prefix(): Cidr | undefined {
    if (this.isAny || this.problem) return undefined;
    let p = PARSED.get(this);
    if (!p) PARSED.set(this, (p = parseCidr(this.families[0], this.cidr)));
    return p;
  }

  /**
   * True when every address of `other` is also an address of this peer.
   * @internal
   */
  public _covers(other: Peer): boolean {
    if (!other.families.every((f) => this.families.includes(f))) return false;
    if (this.isAny) return true;
    if (other.isAny) return false;
    return cidrCovers(this._prefix()!, other._prefix()!, bitsOf(this.families[0]));
  }

  /**
   * True when this peer and `other` share at least one address.
   * @internal
   */
  public _overlaps(other: Peer): boolean {
    const shared = this.families.filter((f) => other.families.includes(f));
    if (shared.length === 0) return false;
    if (this.isAny || other.isAny) return true;
    return cidrsOverlap(this._prefix()!, other._prefix()!, bitsOf(shared[0]));
  }
}

/** Parsed prefixes of peers (computed on first use). */
const PARSED = new WeakMap<Peer, Cidr>();

/** Parses and checks a CIDR, returning its canonical form or the problem. */
function canonicalCidr(family: IpFamily, input: string): [string | undefined, ValueProblem | undefined] {
  const v = family === IpFamily.V4 ? 'IPv4' : 'IPv6';
  const factory = family === IpFamily.V4 ? 'Peer.ipv4' : 'Peer.ipv6';
  if (typeof input !== 'string' || input.trim() === '') {
    return [undefined, { message: `${factory}() needs an ${v} address or CIDR, got ${showValue(input)}` }];
  }
  if (looksLikeToken(input)) {
    return [undefined, {
      message: `${factory}(${showValue(input)}) is an unresolved token`,
      fix: 'Rule files are written at synth time: pass a literal address.',
    }];
  }
  if (input !== input.trim() && !/\s/.test(input.trim())) {
    return [undefined, { message: `${factory}(${showValue(input)}) contains white space`, fix: `Did you mean ${showValue(input.trim())}?` }];
  }
  const slash = input.indexOf('/');
  const addrText = slash < 0 ? input : input.slice(0, slash);
  const lenText = slash < 0 ? undefined : input.slice(slash + 1);
  const maxLen = family === IpFamily.V4 ? 32 : 128;

  if (family === IpFamily.V4 && !ipaddr.IPv4.isValidFourPartDecimal(addrText)) {
    const hint = ipaddr.IPv6.isValid(addrText) ? `Use Peer.ipv6(${showValue(input)}).` : 'Write four decimal octets, e.g. 192.0.2.10 or 192.0.2.0/24.';
    return [undefined, { message: `${factory}(${showValue(input)}) is not an IPv4 address or CIDR`, fix: hint }];
  }
  if (family === IpFamily.V6) {
    if (addrText.includes('%')) {
      return [undefined, { message: `${factory}(${showValue(input)}) has a zone index`, fix: 'Leave out the %zone: a rule matches addresses, use the interface options for the link.' }];
    }
    if (!ipaddr.IPv6.isValid(addrText)) {
      const hint = ipaddr.IPv4.isValidFourPartDecimal(addrText) ? `Use Peer.ipv4(${showValue(input)}).` : 'Write an IPv6 address such as 2001:db8::1 or 2001:db8::/64.';
      return [undefined, { message: `${factory}(${showValue(input)}) is not an IPv6 address or CIDR`, fix: hint }];
    }
    if (ipaddr.IPv6.parse(addrText).isIPv4MappedAddress()) {
      const v4 = ipaddr.IPv6.parse(addrText).toIPv4Address().toString();
      return [undefined, { message: `${factory}(${showValue(input)}) is an IPv4-mapped address that ip6tables never sees`, fix: `Use Peer.ipv4(${showValue(v4)}).` }];
    }
  }
  let len = maxLen;
  if (lenText !== undefined) {
    if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > maxLen) {
      return [undefined, { message: `${factory}(${showValue(input)}) has prefix length ${showValue(lenText)}; it must be 0 to ${maxLen}` }];
    }
    len = Number(lenText);
  }
  const addr = family === IpFamily.V4 ? ipaddr.IPv4.parse(addrText) : ipaddr.IPv6.parse(addrText);
  const network = family === IpFamily.V4
    ? ipaddr.IPv4.networkAddressFromCIDR(`${addrText}/${len}`)
    : ipaddr.IPv6.networkAddressFromCIDR(`${addrText}/${len}`);
  if (network.toString() !== addr.toString()) {
    return [undefined, {
      message: `${factory}(${showValue(input)}) has host bits set`,
      fix: `Did you mean ${network.toString()}/${len} (the network) or ${addr.toString()}/${maxLen} (the one address)?`,
    }];
  }
  return [`${network.toString()}/${len}`, undefined];
}
