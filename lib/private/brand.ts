/** Brand symbols: how parts recognise each other across copies of the library. */
export const STATEFUL_HOST_BRAND = Symbol.for('cdktf-iptables.StatefulHost');

/** True when `x` carries `brand`. */
export function hasBrand(x: unknown, brand: symbol): boolean {
  return typeof x === 'object' && x !== null && (x as any)[brand] === true;
}

/** Brand of firewall parts (guards, traps, NAT, ...) that a host collects at synth. */
export const FIREWALL_PART_BRAND = Symbol.for('cdktf-iptables.FirewallPart');

/** Brand of the library's own parts (in any copy of it): their internal extras are read. */
export const LIBRARY_PART_BRAND = Symbol.for('cdktf-iptables.LibraryPart');

/** Marks `part` as one of the library's own parts. */
export function markLibraryPart(part: object): void {
  Object.defineProperty(part, LIBRARY_PART_BRAND, { value: true });
}
