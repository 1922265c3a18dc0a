import { MAX_INTERFACE_NAME } from '../iptables/kernel-limits';
import { looksLikeToken, showValue, ValueProblem } from '../private/errors';

/**
 * Checks a network interface name as iptables `-i`/`-o` takes it: 1..15
 * characters of letters, digits, `_ . - @`, optionally ending in the `+`
 * wildcard (`eth+`). No `/`, spaces, quotes or anything a shell would read.
 */
export function interfaceNameProblem(name: string): ValueProblem | undefined {
  if (typeof name !== 'string' || name.length === 0) {
    return { message: `interface name ${showValue(name)} is empty`, fix: 'Name a Linux interface such as eth0.' };
  }
  if (looksLikeToken(name)) {
    return { message: `interface name ${showValue(name)} is an unresolved token`, fix: 'Rule files are written at synth time: pass a literal name.' };
  }
  if (name.length > MAX_INTERFACE_NAME) {
    return { message: `interface name ${showValue(name)} is ${name.length} characters long; Linux allows at most ${MAX_INTERFACE_NAME}` };
  }
  if (name.startsWith('-') || name.startsWith('!')) {
    return { message: `interface name ${showValue(name)} starts with "${name[0]}", which iptables reads as an option or a negation`, fix: 'Start the name with a letter or digit.' };
  }
  if (name === '.' || name === '..' || !/^[A-Za-z0-9_.@-]*[A-Za-z0-9_.@+-]$/.test(name) || name === '+') {
    return {
      message: `interface name ${showValue(name)} is not a valid Linux interface name`,
      fix: 'Use letters, digits and _ . - @ only (a trailing + matches a prefix, e.g. eth+); no /, spaces or quotes.',
    };
  }
  return undefined;
}

/**
 * Whether two `-i` / `-o` values can name one interface, as the kernel
 * matches them: `eth+` is every name that starts with `eth`, `+` every name.
 */
export function interfacesOverlap(a: string, b: string): boolean {
  const pa = a.endsWith('+') ? a.slice(0, -1) : undefined;
  const pb = b.endsWith('+') ? b.slice(0, -1) : undefined;
  if (pa === undefined && pb === undefined) return a === b;
  if (pa !== undefined && pb !== undefined) return pa.startsWith(pb) || pb.startsWith(pa);
  return pa !== undefined ? b.startsWith(pa) : a.startsWith(pb!);
}

/** Words for why two interface values overlap, e.g. `eth+ matches eth0`. */
export function overlapText(a: string, b: string): string {
  if (a === b) return `both are ${a}`;
  if (a.endsWith('+') && (!b.endsWith('+') || b.length > a.length)) return `${a} matches ${b}`;
  return `${b} matches ${a}`;
}
