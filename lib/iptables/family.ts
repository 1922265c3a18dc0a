/**
 * An IP protocol family: which rule file a rule lands in.
 */
export enum IpFamily {
  /** IPv4: `iptables.rules`, loaded with `iptables-restore`. */
  V4 = 'V4',
  /** IPv6: `ip6tables.rules`, loaded with `ip6tables-restore`. */
  V6 = 'V6',
}

/** Both families, in render order. */
export const ALL_FAMILIES: readonly IpFamily[] = [IpFamily.V4, IpFamily.V6];
