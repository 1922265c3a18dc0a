/**
 * What ships is what is checked: a raw rule's values must be written the one
 * way iptables-save prints them, so that the parser, the kernel and the
 * drift check read the same thing. iptables reads more spellings than it
 * prints (`--dport 022` is octal 18 to iptables, `-s 10.1` is 10.0.0.1, `-p TCP`,
 * `10.0.0.1/8` loses its host bits, a service or host name depends on the
 * machine's files and DNS); each such spelling is refused here, naming the
 * form to write instead.
 */
import * as ipaddr from 'ipaddr.js';
import { IpFamily } from './family';
import { ICMP_TYPE_NAMES, PROTOCOL_NUMBERS, SPELLING } from './spelling';
import { TEXT_OPTIONS } from './syntax';
import { interfaceNameProblem } from '../values/interface-name';

const ADDRESS_OPTIONS = new Set(['-s', '--source', '--src', '-d', '--destination', '--dst']);
const RANGE_OPTIONS = new Set(['--src-range', '--dst-range']);
const PORT_OPTIONS = new Set(['--dport', '--destination-port', '--sport', '--source-port']);
const PORT_LIST_OPTIONS = new Set(['--dports', '--destination-ports', '--sports', '--source-ports', '--ports']);
const NUMBER_OPTIONS = new Set([
  '--seconds', '--hitcount', '--limit-burst', '--hashlimit-burst', '--hashlimit-srcmask', '--hashlimit-dstmask',
  '--hashlimit-htable-size', '--hashlimit-htable-max', '--hashlimit-htable-expire', '--hashlimit-htable-gcinterval',
  '--ttl-eq', '--ttl-lt', '--ttl-gt', '--hl-eq', '--hl-lt', '--hl-gt', '--log-level', '--nflog-group',
]);
const RATE_OPTIONS = new Set(['--limit', '--hashlimit-upto', '--hashlimit-above', '--hashlimit']);
const INTERFACE_OPTIONS = new Set(['-i', '--in-interface', '-o', '--out-interface']);

/** A decimal whole number as iptables-save prints it (no sign, no leading zero, no hex or octal). */
function decimal(text: string, max: number): boolean {
  return /^(0|[1-9]\d*)$/.test(text) && Number(text) <= max;
}

/** What is wrong with the spelling of one address or prefix, if anything. */
function addressProblem(family: IpFamily, text: string): string | undefined {
  const [addr, len, extra] = text.split('/');
  const bits = SPELLING[family].addressBits;
  if (extra !== undefined) return `${text} is not an address or prefix`;
  if (len !== undefined && !decimal(len, bits)) {
    return `${text}: write the prefix length as a number from 0 to ${bits}${len.includes('.') ? ' (iptables-save prints a netmask as its length)' : ''}`;
  }
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  if (family === IpFamily.V4) {
    if (!/^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/.test(addr) || !ipaddr.IPv4.isValidFourPartDecimal(addr)) {
      return `${addr} is not written as four decimal octets without leading zeros (iptables reads other forms, such as 10.1 or 010.0.0.1, as other addresses)`;
    }
    parsed = ipaddr.IPv4.parse(addr);
  } else {
    if (!ipaddr.IPv6.isValid(addr) || addr.includes('%')) return `${addr} is not an IPv6 address`;
    parsed = ipaddr.IPv6.parse(addr);
    const canonical = parsed.toString();
    if (canonical !== addr && !(parsed.isIPv4MappedAddress() && addr.toLowerCase() === addr)) return `${addr}: write ${canonical}, as ip6tables-save prints it`;
  }
  if (len !== undefined) {
    const network = family === IpFamily.V4 ? ipaddr.IPv4.networkAddressFromCIDR(`${addr}/${len}`) : ipaddr.IPv6.networkAddressFromCIDR(`${addr}/${len}`);
    if (network.toString() !== parsed.toString()) return `${text} has host bits set, which iptables drops: write ${network.toString()}/${len}`;
  }
  return undefined;
}

/** What is wrong with the spelling of one port or `a:b` range. */
function portProblem(text: string): string | undefined {
  const parts = text.split(':');
  if (parts.length > 2 || parts.some((p) => !decimal(p, 65535))) {
    return `port ${JSON.stringify(text)}: write decimal ports from 0 to 65535, a range as FROM:TO (iptables reads a leading zero as octal, a name from /etc/services)`;
  }
  if (parts.length === 2 && Number(parts[0]) > Number(parts[1])) return `port range ${text} runs backwards: write ${parts[1]}:${parts[0]}`;
  return undefined;
}

/** What is wrong with a rate (`5/min`): iptables-save prints whole numbers per sec, min, hour or day. */
function rateProblem(text: string): string | undefined {
  return /^[1-9]\d*\/(sec|min|hour|day)$/.test(text) ? undefined : `rate ${JSON.stringify(text)}: write it as iptables-save prints it, e.g. 5/sec, 30/min, 100/hour or 1000/day`;
}

/**
 * The first value of raw argv (what follows `-A CHAIN`) that is not written
 * the one way iptables-save prints it, as a message naming the form to write;
 * undefined when every value is canonical.
 */
export function spellingProblem(family: IpFamily, args: readonly string[]): string | undefined {
  const names = ICMP_TYPE_NAMES[family];
  for (let i = 0; i < args.length - 1; i++) {
    const opt = args[i];
    const v = args[i + 1];
    if (i > 0 && TEXT_OPTIONS.has(args[i - 1])) continue;
    let problem: string | undefined;
    if (ADDRESS_OPTIONS.has(opt)) {
      problem = v.includes(',') ? `${v}: give one address per rule (iptables makes one rule of each)` : addressProblem(family, v);
    } else if (RANGE_OPTIONS.has(opt)) {
      problem = v.split('-').length !== 2 ? `${v} is not FROM-TO` : v.split('-').map((a) => addressProblem(family, a)).find((p) => p !== undefined);
    } else if (PORT_OPTIONS.has(opt)) {
      problem = portProblem(v);
    } else if (PORT_LIST_OPTIONS.has(opt)) {
      problem = v.split(',').map(portProblem).find((p) => p !== undefined);
    } else if (opt === '-p' || opt === '--protocol') {
      const known = Object.prototype.hasOwnProperty.call(PROTOCOL_NUMBERS, v) || v === 'all';
      problem = known || decimal(v, 255) ? undefined : `protocol ${JSON.stringify(v)}: write a lowercase name iptables knows (tcp, udp, ${SPELLING[family].icmpProtocol}, ...) or a decimal number`;
    } else if (NUMBER_OPTIONS.has(opt)) {
      problem = decimal(v, 0xffffffff) ? undefined : `${opt} ${JSON.stringify(v)}: write a decimal number without leading zeros`;
    } else if (RATE_OPTIONS.has(opt)) {
      problem = rateProblem(v);
    } else if (INTERFACE_OPTIONS.has(opt)) {
      problem = interfaceNameProblem(v)?.message;
    } else if (opt === '--icmp-type' || opt === '--icmpv6-type') {
      const [type, code, extra] = v.split('/');
      const numeric = extra === undefined && decimal(type, 255) && (code === undefined || decimal(code, 255));
      problem = numeric || Object.prototype.hasOwnProperty.call(names, v) ? undefined : `${opt} ${JSON.stringify(v)}: write a type name iptables knows or TYPE[/CODE] in decimal`;
    } else {
      continue;
    }
    if (problem) return problem;
    i++;
  }
  return undefined;
}
