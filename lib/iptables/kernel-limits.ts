/**
 * Kernel names and kernel limits, in one place: what netfilter (and the
 * iptables tools that load our files) refuse or silently reinterpret. Every
 * check returns a {@link ValueProblem} naming the value and the fix; parts
 * turn it into a synth error with their construct path.
 *
 * Sources: linux/netfilter/x_tables.h (XT_EXTENSION_MAXNAMELEN),
 * xt_recent.c (XT_RECENT_NAME_LEN, ip_pkt_list_tot), xt_hashlimit.h
 * (name[IFNAMSIZ]), xt_limit.c / libxt_limit.c (XT_LIMIT_SCALE, burst
 * 0..10000, the u32 `avg * burst` credit cap), and libxt_hashlimit.c.
 * The limits were checked against iptables 1.8.9 with iptables-restore.
 */
import { ValueProblem } from '../private/errors';

/** The iptables tables this library writes, in the order they are rendered. */
export const TABLES = ['raw', 'mangle', 'nat', 'filter'] as const;
/** One of {@link TABLES}. */
export type TableName = typeof TABLES[number];

/** Built-in chains of each table, in iptables-save order (the security table is read, never written). */
export const BUILTIN_CHAINS: Readonly<Record<TableName | 'security', readonly string[]>> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** A chain's default verdict (built-in chains only). */
export type ChainPolicy = 'ACCEPT' | 'DROP';

/** Linux IFNAMSIZ is 16 bytes including the terminating NUL. */
export const MAX_INTERFACE_NAME = 15;

/** The longest comment the kernel keeps (XT_MAX_COMMENT_LEN 256, with the NUL). */
export const MAX_COMMENT = 255;

/** The kernel allows 31 characters in a set name; a deploy loads new contents under `NAME_n` and swaps them in, so we use 29. */
export const IPSET_NAME_MAX = 29;

/** Longest user chain name iptables accepts ("must be under 29 chars"). */
export const MAX_CHAIN_NAME = 28;

/** Longest xt_recent list name (XT_RECENT_NAME_LEN 200, with the NUL). */
export const MAX_RECENT_NAME = 199;

/** Longest hashlimit table name (IFNAMSIZ 16, with the NUL). */
export const MAX_HASHLIMIT_NAME = 15;

/** Longest LOG prefix (29 characters, with the NUL 30). */
export const MAX_LOG_PREFIX = 29;

/** xt_recent keeps this many hits per address unless the module is loaded with another ip_pkt_list_tot. */
export const RECENT_MAX_HITS = 20;

/** Longest xt_recent time window we render: a year (`--seconds` is a u32; iptables-save prints large values negative). */
export const MAX_WINDOW_SECONDS = 31_536_000;

/** xt_limit / hashlimit (revision 1) scale: the fastest rate is 10,000 per second. */
export const MAX_RATE_PER_SECOND = 10_000;

/** Largest `--limit-burst` (libxt_limit: 0..10000) and the largest hashlimit burst we render. */
export const MAX_BURST = 10_000;

/**
 * Target names iptables knows (standard verdicts and target extensions). A
 * chain with one of these names is refused ("chain name may not clash with
 * target name"), and a jump to it would mean the target, not the chain.
 */
export const TARGET_NAMES: readonly string[] = [
  'ACCEPT', 'DROP', 'QUEUE', 'RETURN', 'ERROR',
  'AUDIT', 'CHECKSUM', 'CLASSIFY', 'CLUSTERIP', 'CONNMARK', 'CONNSECMARK', 'CT', 'DNAT', 'DNPT', 'DSCP', 'ECN', 'HL', 'HMARK',
  'IDLETIMER', 'LED', 'LOG', 'MARK', 'MASQUERADE', 'MIRROR', 'NETMAP', 'NFLOG', 'NFQUEUE', 'NOTRACK', 'RATEEST', 'REDIRECT',
  'REJECT', 'SAME', 'SECMARK', 'SET', 'SNAT', 'SNPT', 'SYNPROXY', 'TCPMSS', 'TCPOPTSTRIP', 'TEE', 'TOS', 'TPROXY', 'TRACE',
  'TTL', 'ULOG',
];

/** Built-in chain names of every table (including tables this library does not write). */
export const BUILTIN_CHAIN_NAMES: readonly string[] = [...new Set(Object.values(BUILTIN_CHAINS).flat())].sort();

/**
 * Chains the library itself declares: the host's service chains and the
 * fixed chains of the built-in parts. A part may not take one of these names;
 * names that parts choose at run time are checked by claims at synth.
 */
export const LIBRARY_CHAIN_NAMES: readonly string[] = ['TCP', 'UDP', 'fw-interfaces', 'fw-open', 'SYN_FLOOD', 'ECHO_LIMIT'];

/** Chain names nobody may choose: built-in chains, targets, and the library's own chains. */
export function reservedChainName(name: string): string | undefined {
  const upper = name.toUpperCase();
  if (BUILTIN_CHAIN_NAMES.includes(name)) return 'a built-in chain';
  if (TARGET_NAMES.includes(name)) return 'a target name';
  if (LIBRARY_CHAIN_NAMES.includes(name)) return name === 'TCP' || name === 'UDP' ? "the host's own service chain" : "a chain of one of the library's parts";
  if (name.startsWith('BOGONS-')) return "the prefix of BogonFilter's chains";
  // lookalikes: `udp`, `Input`: legal for the kernel, confusing for every reader of the file
  if (BUILTIN_CHAIN_NAMES.includes(upper) || TARGET_NAMES.includes(upper) || ['TCP', 'UDP'].includes(upper)) return `a case variant of ${upper}`;
  return undefined;
}

/**
 * A kernel object name (chain, recent list, hashlimit table): 1..max letters,
 * digits, `_` and `-`, not starting with `-` (iptables would read an option).
 */
export function objectNameProblem(what: string, name: unknown, maxLength: number): ValueProblem | undefined {
  if (typeof name !== 'string') {
    return { message: `${what} is ${describeType(name)}, not a string`, fix: 'Pass a name such as "IN_SSH".' };
  }
  if (name.length === 0 || name.length > maxLength) {
    return { message: `${what} ${JSON.stringify(name.slice(0, 64))}${name.length > 64 ? '…' : ''} is ${name.length} characters long; the kernel takes 1 to ${maxLength}` };
  }
  if (!/^[A-Za-z0-9_-]+$/.test(name)) {
    return { message: `${what} ${JSON.stringify(name)} may hold only letters, digits, _ and -`, fix: 'For example "IN_SSH_2222".' };
  }
  if (name.startsWith('-')) {
    return { message: `${what} ${JSON.stringify(name)} starts with "-", which iptables reads as an option`, fix: 'Start the name with a letter.' };
  }
  return undefined;
}

/** A user chain name: an object name that is not reserved. */
export function chainNameProblem(what: string, name: unknown): ValueProblem | undefined {
  const p = objectNameProblem(what, name, MAX_CHAIN_NAME);
  if (p) return p;
  const reserved = reservedChainName(name as string);
  if (reserved) {
    return {
      message: `${what} ${JSON.stringify(name)} is ${reserved}: rules added to it would change what that chain (or target) does`,
      fix: 'Choose a name of your own, e.g. "IN_SSH_ADMIN".',
    };
  }
  return undefined;
}

/**
 * An xt_recent list name. IPv6 lists get a `6` suffix (see matches.ts), so
 * the name leaves room for it when the host renders IPv6.
 */
export function recentListProblem(what: string, name: unknown, ipv6: boolean): ValueProblem | undefined {
  return objectNameProblem(what, name, ipv6 ? MAX_RECENT_NAME - 1 : MAX_RECENT_NAME);
}

/** A hashlimit table name. */
export function hashlimitNameProblem(what: string, name: unknown): ValueProblem | undefined {
  return objectNameProblem(what, name, MAX_HASHLIMIT_NAME);
}

/** Checks a whole number in a range; `what` names it in the message. */
export function wholeNumberProblem(what: string, value: unknown, min: number, max: number, fix?: string): ValueProblem | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const shown = typeof value === 'number' ? String(value) : `${describeType(value)} ${typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : ''}`.trim();
    return { message: `${what} is ${shown}; it must be a whole number from ${min} to ${max}`, fix };
  }
  return undefined;
}

/** A recent hit count: the kernel keeps `ip_pkt_list_tot` (20) hits per address. */
export function hitCountProblem(what: string, hits: unknown): ValueProblem | undefined {
  return wholeNumberProblem(what, hits, 1, RECENT_MAX_HITS,
    `xt_recent remembers ${RECENT_MAX_HITS} hits per address (module parameter ip_pkt_list_tot): a larger count is refused or never matches.`);
}

/** A time window for xt_recent. */
export function windowSecondsProblem(what: string, seconds: unknown): ValueProblem | undefined {
  return wholeNumberProblem(what, seconds, 1, MAX_WINDOW_SECONDS, 'Use at most a year (31536000 seconds).');
}

/** A rate per second for `-m limit` or `-m hashlimit`. */
export function ratePerSecondProblem(what: string, perSecond: unknown): ValueProblem | undefined {
  return wholeNumberProblem(what, perSecond, 1, MAX_RATE_PER_SECOND, 'iptables refuses rates above 10000/sec ("Rate too fast") or rescales them.');
}

/** A rate per minute for `-m limit` or `-m hashlimit`. */
export function ratePerMinuteProblem(what: string, perMinute: unknown): ValueProblem | undefined {
  return wholeNumberProblem(what, perMinute, 1, MAX_RATE_PER_SECOND * 60, 'iptables refuses rates above 10000/sec ("Rate too fast").');
}

/**
 * A burst for `-m limit` at `perMinute`: 1..10000, and small enough that the
 * kernel's u32 credit cap (`avg * burst`, avg = 10000 x seconds per unit /
 * rate) does not wrap around; a wrapped cap silently gives a smaller burst.
 */
export function limitBurstProblem(what: string, burst: unknown, perMinute: number): ValueProblem | undefined {
  const p = wholeNumberProblem(what, burst, 1, MAX_BURST);
  if (p) return p;
  const whole = perMinute % 60 === 0;
  const avg = Math.floor((10_000 * (whole ? 1 : 60)) / (whole ? perMinute / 60 : perMinute));
  const maxBurst = Math.floor(0xffffffff / avg);
  if ((burst as number) > maxBurst) {
    return {
      message: `${what} is ${String(burst)}; at ${perMinute} per minute the kernel's credit counter overflows above a burst of ${maxBurst} and silently grants less`,
      fix: `Use a burst of at most ${maxBurst}, or a faster rate.`,
    };
  }
  return undefined;
}

/** A hashlimit burst (1..10000, the range both hashlimit revisions accept). */
export function hashlimitBurstProblem(what: string, burst: unknown): ValueProblem | undefined {
  return wholeNumberProblem(what, burst, 1, MAX_BURST);
}

/** A prefix length that groups sources for per-source accounting. */
export function prefixLengthProblem(what: string, value: unknown, ipv6: boolean): ValueProblem | undefined {
  return ipv6
    ? wholeNumberProblem(what, value, 8, 128, 'IPv6 customers usually hold a /64 or a /56: count per /64 (the default) or a shorter prefix.')
    : wholeNumberProblem(what, value, 8, 32, 'Count per address (/32, the default) or per subnet, e.g. /24.');
}

/** A short description of a value's type for messages (never the value itself). */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof Buffer !== 'undefined' && Buffer.isBuffer(value)) return 'a Buffer';
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  return `a ${typeof value}`;
}

/** Set names: letters, digits, `_` and `-`, starting with a letter, at most {@link IPSET_NAME_MAX} characters. */
export function ipsetNameProblem(name: string): string | undefined {
  return /^[A-Za-z][A-Za-z0-9_-]*$/.test(name) && name.length <= IPSET_NAME_MAX
    ? undefined
    : `set name ${JSON.stringify(name)} must be 1 to ${IPSET_NAME_MAX} letters, digits, _ or -, starting with a letter`;
}
