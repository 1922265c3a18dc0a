/* eslint-disable no-bitwise */ // address, mask and TCP-flag arithmetic
/**
 * A parser of iptables-save text (as this library renders it, and as a host's
 * `iptables-save [-c]` prints it) into tables, chains and typed rules. Every
 * match and target is understood or refused by name: nothing is guessed.
 */
import { IpFamily } from './family';
import { BUILTIN_CHAINS } from './kernel-limits';
import { ICMP_TYPE_NAMES, PROTOCOL_NUMBERS } from './spelling';
import { ruleLine } from './syntax';
import { CONTINUING_TARGETS, EXTENSION_HEADER_MATCHES, UNDECIDABLE_MATCHES, UNDECIDABLE_TARGETS } from './undecidable';
import { Cidr, parseAddress, parseCidr } from '../values/prefix';

export { PROTOCOL_NUMBERS };

/** Built-in chains by table name (every table a host may print, security included). */
const BUILTIN: Readonly<Record<string, readonly string[]>> = BUILTIN_CHAINS;

/** One option of a match or target, with its `!` and its values. */
interface Opt {
  readonly name: string;
  readonly neg: boolean;
  readonly values: string[];
}

/** An address match: a prefix, or a range (iprange), maybe negated. */
export interface AddrTest {
  readonly neg: boolean;
  readonly cidr?: Cidr;
  readonly from?: bigint;
  readonly to?: bigint;
}

/** An interface match (`eth+` is a prefix). */
export interface IfaceTest {
  readonly neg: boolean;
  readonly name: string;
}

/** A port list test: ranges, maybe negated. */
export interface PortTest {
  readonly neg: boolean;
  readonly ranges: Array<[number, number]>;
}

/** A typed match of a rule. */
export type Match =
  | { kind: 'ctstate'; neg: boolean; states: string[]; module: string }
  | { kind: 'sport' | 'dport' | 'anyport'; port: PortTest }
  | { kind: 'tcpflags'; neg: boolean; mask: number; comp: number }
  | { kind: 'icmptype'; neg: boolean; type: number; code?: number; v6: boolean }
  | { kind: 'recent'; neg: boolean; op: 'set' | 'rcheck' | 'update' | 'remove'; name: string; seconds?: number; hitcount?: number; rttl: boolean; mask: bigint; rdest: boolean; reap: boolean }
  | { kind: 'limit'; neg: boolean; perSecond: number; burst: number; id: string }
  | { kind: 'hashlimit'; above: boolean; perSecond: number; burst: number; name: string; mode: string[]; srcPrefix?: number; dstPrefix?: number; expireMs: number }
  | { kind: 'ttl'; neg: boolean; op: 'eq' | 'lt' | 'gt'; value: number }
  | { kind: 'rpfilter'; loose: boolean; invert: boolean; acceptLocal: boolean }
  | { kind: 'srcrange' | 'dstrange'; addr: AddrTest }
  | { kind: 'comment'; text: string }
  | { kind: 'set'; neg: boolean; name: string; dst: boolean }
  /** Cannot be decided offline (time of day, socket owner, an unknown extension): the reason in words. */
  | { kind: 'depends'; reason: string }
  /** Matches no packet the evaluator models (an IPv6 extension header test). */
  | { kind: 'never' }
  | { kind: 'addrtype'; dst: boolean; neg: boolean; types: string[] }
  /** `-m mark` (conn false) or `-m connmark` (conn true): (mark & mask) == value. */
  | { kind: 'mark'; neg: boolean; value: number; mask: number; conn: boolean }
  | { kind: 'length'; neg: boolean; lo: number; hi: number }
  | { kind: 'pkttype'; neg: boolean; type: string }
  /** `-m tos` / `-m dscp`: (tos & mask) == value. */
  | { kind: 'tos'; neg: boolean; value: number; mask: number }
  | { kind: 'ctproto'; neg: boolean; num: number }
  | { kind: 'cttuple'; field: 'origsrc' | 'origdst' | 'replsrc' | 'repldst'; addr: AddrTest }
  | { kind: 'ctport'; field: 'origsrc' | 'origdst' | 'replsrc' | 'repldst'; port: PortTest }
  | { kind: 'ctstatus'; neg: boolean; statuses: string[] }
  | { kind: 'ctdir'; dir: 'ORIGINAL' | 'REPLY' }
  /** A condition on a connection's past (its expiry): decided only for its first packet. */
  | { kind: 'ctexpire' };

/** A typed target of a rule. */
export type Target =
  | { kind: 'ACCEPT' | 'DROP' | 'RETURN' }
  | { kind: 'REJECT'; with: string }
  | { kind: 'LOG' | 'NFLOG' }
  | { kind: 'jump' | 'goto'; chain: string }
  | { kind: 'DNAT'; address?: string; port?: number; portTo?: number }
  | { kind: 'SNAT'; address: string }
  | { kind: 'MASQUERADE' }
  /** MARK (conn false) or CONNMARK --set-xmark (conn true): mark = (mark & ~mask) ^ value. */
  | { kind: 'MARK'; conn: boolean; value: number; mask: number }
  /** CONNMARK --save-mark (to the connection) or --restore-mark (to the packet). */
  | { kind: 'CONNMARK'; op: 'save' | 'restore'; nfmask: number; ctmask: number }
  /** NOTRACK, CT --notrack: the packet's connection is not tracked (state UNTRACKED). */
  | { kind: 'NOTRACK' }
  /** REDIRECT: DNAT to the host itself, maybe to other ports. */
  | { kind: 'REDIRECT'; port?: number; portTo?: number }
  /** A target that changes nothing the verdict reads (CHECKSUM, TCPMSS, DSCP, ...). */
  | { kind: 'continue'; name: string }
  /** A target whose outcome is decided outside the ruleset (NFQUEUE, TPROXY, an unknown one). */
  | { kind: 'depends'; reason: string }
  | { kind: 'none' };

/** One parsed rule. */
export interface ParsedRule {
  readonly table: string;
  readonly chain: string;
  /** 1-based position in its chain. */
  readonly index: number;
  /** 1-based line of the file the rule was read from (0 when it was not read from a file). */
  readonly line: number;
  /** The rule as `-A CHAIN ...`, counters removed. */
  readonly text: string;
  readonly src?: AddrTest;
  readonly dst?: AddrTest;
  readonly inIface?: IfaceTest;
  readonly outIface?: IfaceTest;
  /** Protocol number (undefined: any), maybe negated. */
  readonly proto?: { neg: boolean; num: number };
  readonly matches: Match[];
  readonly target: Target;
  /**
   * What of the rule is not understood (an unknown extension, a value that
   * cannot be read): the rule's verdict then depends on it.
   */
  readonly notes?: readonly string[];
}

/** One parsed chain. */
export interface ParsedChain {
  readonly name: string;
  /** Policy of a built-in chain; undefined for user chains. */
  readonly policy?: string;
  readonly rules: ParsedRule[];
}

/** A parsed table. */
export interface ParsedTable {
  readonly name: string;
  readonly chains: Map<string, ParsedChain>;
}

/** A rule the parser could not read wholly: where it is and why. */
export interface RuleNote {
  /** 1-based line of the file. */
  readonly line: number;
  readonly table: string;
  readonly chain: string;
  /** The rule as read. */
  readonly rule: string;
  /** What is not understood, and what the verdict then depends on. */
  readonly note: string;
}

/** A parsed file. */
export interface ParsedRuleset {
  readonly family: IpFamily;
  readonly tables: Map<string, ParsedTable>;
  /** Rules read only in part (lenient parsing): their verdicts say "depends on". */
  readonly notes: readonly RuleNote[];
}

/** How a parser treats what it does not understand. */
export interface ParseOptions {
  /**
   * Read extensions the library never writes (addrtype, marks, NOTRACK, ...)
   * and turn what cannot be understood into "depends on" conditions with a
   * note, instead of refusing.
   * @default false - refuse (a part's raw rule must be understood wholly)
   */
  readonly lenient?: boolean;
}

const TCP_FLAGS: Record<string, number> = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32, ECE: 64, CWR: 128 };

/** Parses `SYN,ACK` / `ALL` / `NONE` into a bit mask. */
export function parseTcpFlags(text: string): number {
  let out = 0;
  for (const f of text.toUpperCase().split(/[,|]/).map((x) => x.trim()).filter(Boolean)) {
    if (f === 'NONE') continue;
    if (f === 'ALL') { out |= 0x3f; continue; }
    const bit = TCP_FLAGS[f];
    if (bit === undefined) throw new Error(`unknown TCP flag ${JSON.stringify(f)} (use ${Object.keys(TCP_FLAGS).join(', ')}, ALL or NONE)`);
    out |= bit;
  }
  return out;
}

/** Option arities per match module; anything not listed is refused by name. */
const MATCH_OPTIONS: Record<string, Record<string, number>> = {
  conntrack: { '--ctstate': 1 },
  state: { '--state': 1 },
  tcp: { '--dport': 1, '--destination-port': 1, '--sport': 1, '--source-port': 1, '--tcp-flags': 2, '--syn': 0 },
  udp: { '--dport': 1, '--destination-port': 1, '--sport': 1, '--source-port': 1 },
  icmp: { '--icmp-type': 1 },
  icmp6: { '--icmpv6-type': 1 },
  multiport: { '--dports': 1, '--destination-ports': 1, '--sports': 1, '--source-ports': 1, '--ports': 1 },
  recent: {
    '--set': 0,
    '--rcheck': 0,
    '--update': 0,
    '--remove': 0,
    '--seconds': 1,
    '--reap': 0,
    '--hitcount': 1,
    '--rttl': 0,
    '--name': 1,
    '--mask': 1,
    '--rsource': 0,
    '--rdest': 0,
  },
  limit: { '--limit': 1, '--limit-burst': 1 },
  hashlimit: {
    '--hashlimit-upto': 1,
    '--hashlimit-above': 1,
    '--hashlimit': 1,
    '--hashlimit-burst': 1,
    '--hashlimit-mode': 1,
    '--hashlimit-name': 1,
    '--hashlimit-srcmask': 1,
    '--hashlimit-dstmask': 1,
    '--hashlimit-htable-size': 1,
    '--hashlimit-htable-max': 1,
    '--hashlimit-htable-expire': 1,
    '--hashlimit-htable-gcinterval': 1,
  },
  hl: { '--hl-eq': 1, '--hl-lt': 1, '--hl-gt': 1 },
  ttl: { '--ttl-eq': 1, '--ttl-lt': 1, '--ttl-gt': 1 },
  rpfilter: { '--loose': 0, '--validmark': 0, '--accept-local': 0, '--invert': 0 },
  comment: { '--comment': 1 },
  iprange: { '--src-range': 1, '--dst-range': 1 },
  set: { '--match-set': 2 },
};

const PORT_OPTIONS = { '--dport': 1, '--destination-port': 1, '--sport': 1, '--source-port': 1 };

/** Options of the extensions read only in lenient parsing (rulesets of other tools and hand-written ones). */
const FOREIGN_MATCH_OPTIONS: Record<string, Record<string, number>> = {
  addrtype: { '--src-type': 1, '--dst-type': 1, '--limit-iface-in': 0, '--limit-iface-out': 0 },
  mark: { '--mark': 1 },
  connmark: { '--mark': 1 },
  length: { '--length': 1 },
  pkttype: { '--pkt-type': 1 },
  tos: { '--tos': 1 },
  dscp: { '--dscp': 1, '--dscp-class': 1 },
  sctp: { ...PORT_OPTIONS, '--chunk-types': 2 },
  dccp: { ...PORT_OPTIONS, '--dccp-types': 1, '--dccp-option': 1 },
  udplite: PORT_OPTIONS,
  tcp: { '--tcp-option': 1 },
  conntrack: {
    '--ctproto': 1,
    '--ctorigsrc': 1,
    '--ctorigdst': 1,
    '--ctreplsrc': 1,
    '--ctrepldst': 1,
    '--ctorigsrcport': 1,
    '--ctorigdstport': 1,
    '--ctreplsrcport': 1,
    '--ctrepldstport': 1,
    '--ctstatus': 1,
    '--ctexpire': 1,
    '--ctdir': 1,
  },
  rpfilter: { '--validmark': 0 },
  hashlimit: {},
  set: { '--return-nomatch': 0, '--update-counters': 0, '--update-subcounters': 0, '--packets-eq': 1, '--packets-lt': 1, '--packets-gt': 1, '--bytes-eq': 1, '--bytes-lt': 1, '--bytes-gt': 1 },
};

/** Targets read only in lenient parsing, with their options. */
const FOREIGN_TARGET_OPTIONS: Record<string, Record<string, number>> = {
  MARK: { '--set-xmark': 1, '--set-mark': 1, '--and-mark': 1, '--or-mark': 1, '--xor-mark': 1 },
  CONNMARK: {
    '--set-xmark': 1, '--set-mark': 1, '--and-mark': 1, '--or-mark': 1, '--xor-mark': 1, '--save-mark': 0, '--restore-mark': 0, '--nfmask': 1, '--ctmask': 1, '--mask': 1,
  },
  NOTRACK: {},
  CT: { '--notrack': 0, '--helper': 1, '--zone': 1, '--zone-orig': 1, '--zone-reply': 1, '--ctevents': 1, '--expevents': 1, '--timeout': 1 },
  REDIRECT: { '--to-ports': 1, '--random': 0 },
};

const TARGET_OPTIONS: Record<string, Record<string, number>> = {
  ACCEPT: {},
  DROP: {},
  RETURN: {},
  REJECT: { '--reject-with': 1 },
  LOG: { '--log-prefix': 1, '--log-level': 1, '--log-tcp-sequence': 0, '--log-tcp-options': 0, '--log-ip-options': 0, '--log-uid': 0, '--log-macdecode': 0 },
  NFLOG: { '--nflog-group': 1, '--nflog-prefix': 1, '--nflog-range': 1, '--nflog-size': 1, '--nflog-threshold': 1 },
  DNAT: { '--to-destination': 1, '--random': 0, '--persistent': 0 },
  SNAT: { '--to-source': 1, '--random': 0, '--random-fully': 0, '--persistent': 0 },
  MASQUERADE: { '--to-ports': 1, '--random': 0, '--random-fully': 0 },
};

/** Splits one line into arguments the way iptables-restore does (double quotes, backslash escapes). */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inQuote) {
      if (c === '\\' && i + 1 < line.length) { cur += line[++i]; continue; }
      if (c === '"') { inQuote = false; continue; }
      cur += c;
      continue;
    }
    if (c === '"') { inQuote = true; has = true; continue; }
    if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
      continue;
    }
    cur += c;
  }
  if (inQuote) throw new Error('unterminated quote');
  if (has || cur) out.push(cur);
  return out;
}

function rateOf(text: string, what: string): number {
  const m = /^(\d+)(?:\/(s|sec|second|m|min|minute|h|hour|d|day))?$/.exec(text);
  if (!m) throw new Error(`${what} ${JSON.stringify(text)} is not a rate like 5/min`);
  const unit = (m[2] ?? 'sec')[0];
  const per = unit === 's' ? 1 : unit === 'm' ? 60 : unit === 'h' ? 3600 : 86400;
  return Number(m[1]) / per;
}

function portRanges(text: string, multi: boolean): Array<[number, number]> {
  const parts = multi ? text.split(',') : [text];
  return parts.map((p) => {
    const [a, b] = p.split(':');
    const lo = a === '' ? 0 : Number(a);
    const hi = b === undefined ? lo : b === '' ? 65535 : Number(b);
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > 65535) throw new Error(`port ${JSON.stringify(p)} is not a port or range`);
    return [Math.min(lo, hi), Math.max(lo, hi)] as [number, number];
  });
}

function icmpType(text: string, v6: boolean): readonly [number, number?] {
  const names = ICMP_TYPE_NAMES[v6 ? IpFamily.V6 : IpFamily.V4];
  if (Object.prototype.hasOwnProperty.call(names, text)) return names[text];
  const m = /^(\d+)(?:\/(\d+))?$/.exec(text);
  if (!m) throw new Error(`ICMP${v6 ? 'v6' : ''} type ${JSON.stringify(text)} is not known`);
  return m[2] !== undefined ? [Number(m[1]), Number(m[2])] : [Number(m[1])];
}

function addrTest(family: IpFamily, neg: boolean, text: string): AddrTest {
  if (text.includes(',')) throw new Error(`address lists (${text}) are not supported: iptables-save prints one rule per address`);
  return { neg, cidr: parseCidr(family, text) };
}

function rangeTest(family: IpFamily, neg: boolean, text: string): AddrTest {
  const [a, b] = text.split('-');
  const from = parseAddress(family, a);
  return { neg, from, to: b === undefined ? from : parseAddress(family, b) };
}

function compileMatch(family: IpFamily, module: string, opts: Opt[], ruleId: string): Match[] {
  const one = (name: string) => opts.find((o) => o.name === name);
  const has = (name: string) => opts.some((o) => o.name === name);
  switch (module) {
    case 'conntrack':
    case 'state':
      return opts.map((o) => (o.name === '--ctstate' || o.name === '--state'
        ? { kind: 'ctstate', neg: o.neg, states: o.values[0].split(','), module }
        : conntrackMore(family, o)));
    case 'tcp':
    case 'udp': {
      const out: Match[] = [];
      for (const o of opts) {
        if (o.name === '--dport' || o.name === '--destination-port') out.push({ kind: 'dport', port: { neg: o.neg, ranges: portRanges(o.values[0], false) } });
        else if (o.name === '--sport' || o.name === '--source-port') out.push({ kind: 'sport', port: { neg: o.neg, ranges: portRanges(o.values[0], false) } });
        else if (o.name === '--syn') out.push({ kind: 'tcpflags', neg: o.neg, mask: parseTcpFlags('FIN,SYN,RST,ACK'), comp: parseTcpFlags('SYN') });
        else if (o.name === '--tcp-flags') out.push({ kind: 'tcpflags', neg: o.neg, mask: parseTcpFlags(o.values[0]), comp: parseTcpFlags(o.values[1]) });
        else if (o.name === '--tcp-option') out.push({ kind: 'depends', reason: `the TCP options (--tcp-option ${o.values[0]})` });
      }
      return out;
    }
    case 'icmp':
    case 'icmp6': {
      const o = opts[0];
      if (!o) return [];
      const [type, code] = icmpType(o.values[0], module === 'icmp6');
      if (type === -1) return o.neg ? [{ kind: 'icmptype', neg: false, type: -2, v6: false }] : [];
      return [{ kind: 'icmptype', neg: o.neg, type, code, v6: module === 'icmp6' }];
    }
    case 'multiport':
      return opts.map((o) => ({
        kind: o.name.startsWith('--d') ? 'dport' : o.name.startsWith('--s') ? 'sport' : 'anyport',
        port: { neg: o.neg, ranges: portRanges(o.values[0], true) },
      }) as Match);
    case 'recent': {
      const ops = (['set', 'rcheck', 'update', 'remove'] as const).filter((x) => has(`--${x}`));
      if (ops.length !== 1) throw new Error('-m recent needs exactly one of --set, --rcheck, --update, --remove');
      const neg = opts.some((o) => o.neg && ['--set', '--rcheck', '--update', '--remove'].includes(o.name));
      const mask = one('--mask') ? parseAddress(family, one('--mask')!.values[0], 'recent mask') : (family === IpFamily.V4 ? 0xffffffffn : (1n << 128n) - 1n);
      return [{
        kind: 'recent',
        neg,
        op: ops[0],
        name: one('--name')?.values[0] ?? 'DEFAULT',
        seconds: one('--seconds') ? Number(one('--seconds')!.values[0]) : undefined,
        hitcount: one('--hitcount') ? Number(one('--hitcount')!.values[0]) : undefined,
        rttl: has('--rttl'),
        mask,
        rdest: has('--rdest'),
        reap: has('--reap'),
      }];
    }
    case 'limit': {
      const neg = opts.some((o) => o.neg);
      return [{
        kind: 'limit',
        neg,
        perSecond: rateOf(one('--limit')?.values[0] ?? '3/hour', '--limit'),
        burst: Number(one('--limit-burst')?.values[0] ?? 5),
        id: ruleId,
      }];
    }
    case 'hashlimit': {
      const up = one('--hashlimit-upto') ?? one('--hashlimit');
      const above = one('--hashlimit-above');
      if (!up && !above) throw new Error('-m hashlimit needs --hashlimit-upto or --hashlimit-above');
      if (opts.some((o) => o.neg)) throw new Error('-m hashlimit with ! is not supported');
      const name = one('--hashlimit-name')?.values[0];
      if (!name) throw new Error('-m hashlimit needs --hashlimit-name');
      const mode = (one('--hashlimit-mode')?.values[0] ?? '').split(',').filter(Boolean);
      for (const m of mode) if (!['srcip', 'dstip', 'srcport', 'dstport'].includes(m)) throw new Error(`--hashlimit-mode ${m} is not supported`);
      return [{
        kind: 'hashlimit',
        above: !!above,
        perSecond: rateOf((above ?? up)!.values[0], '--hashlimit'),
        burst: Number(one('--hashlimit-burst')?.values[0] ?? 5),
        name,
        mode,
        srcPrefix: one('--hashlimit-srcmask') ? Number(one('--hashlimit-srcmask')!.values[0]) : undefined,
        dstPrefix: one('--hashlimit-dstmask') ? Number(one('--hashlimit-dstmask')!.values[0]) : undefined,
        expireMs: Number(one('--hashlimit-htable-expire')?.values[0] ?? 10000),
      }];
    }
    case 'hl':
    case 'ttl':
      return opts.map((o) => ({ kind: 'ttl', neg: o.neg, op: o.name.slice(-2) as 'eq' | 'lt' | 'gt', value: Number(o.values[0]) }));
    case 'rpfilter':
      // --validmark (lenient only) picks the routing table by the packet's mark: the evaluator has one table of routes
      return [{ kind: 'rpfilter', loose: has('--loose'), invert: has('--invert'), acceptLocal: has('--accept-local') }];
    case 'comment':
      return [{ kind: 'comment', text: opts[0]?.values[0] ?? '' }];
    case 'set':
      return opts.map((o) => {
        if (!['src', 'dst'].includes(o.values[1])) throw new Error(`-m set --match-set ${o.values[0]} ${o.values[1]}: only one-dimensional src or dst sets are supported`);
        return { kind: 'set', neg: o.neg, name: o.values[0], dst: o.values[1] === 'dst' } as Match;
      });
    case 'iprange':
      return opts.map((o) => ({ kind: o.name === '--src-range' ? 'srcrange' : 'dstrange', addr: rangeTest(family, o.neg, o.values[0]) }) as Match);
    case 'addrtype': {
      if (has('--limit-iface-in') || has('--limit-iface-out')) return [{ kind: 'depends', reason: 'the addresses of one interface (-m addrtype --limit-iface-in/out)' }];
      return opts.map((o) => {
        const types = o.values[0].split(',');
        const unknown = types.find((t) => !ADDRESS_TYPES.includes(t));
        if (unknown) throw new Error(`address type ${unknown} is not known`);
        const undecided = types.find((t) => !DECIDED_ADDRESS_TYPES.includes(t));
        if (undecided) return { kind: 'depends', reason: `the route type of the address (-m addrtype ${undecided})` } as Match;
        return { kind: 'addrtype', dst: o.name === '--dst-type', neg: o.neg, types } as Match;
      });
    }
    case 'mark':
    case 'connmark':
      return opts.map((o) => ({ kind: 'mark', neg: o.neg, conn: module === 'connmark', ...markValue(o.values[0]) }) as Match);
    case 'length':
      return opts.map((o) => {
        const [lo, hi] = portRanges(o.values[0].replace(/^(\d+):$/, '$1:65535'), false)[0];
        return { kind: 'length', neg: o.neg, lo, hi } as Match;
      });
    case 'pkttype':
      return opts.map((o) => {
        const type = o.values[0].toLowerCase();
        if (!['unicast', 'broadcast', 'multicast', 'host'].includes(type)) throw new Error(`packet type ${o.values[0]} is not known`);
        return { kind: 'pkttype', neg: o.neg, type: type === 'host' ? 'unicast' : type } as Match;
      });
    case 'tos':
      return opts.map((o) => {
        const v = markValue(o.values[0], 0xff);
        return { kind: 'tos', neg: o.neg, value: v.value, mask: v.mask } as Match;
      });
    case 'dscp':
      return opts.map((o) => {
        const dscp = o.name === '--dscp-class' ? DSCP_CLASSES[o.values[0].toUpperCase()] : Number(o.values[0]);
        if (dscp === undefined || !Number.isInteger(dscp) || dscp < 0 || dscp > 63) throw new Error(`DSCP ${o.values[0]} is not known`);
        return { kind: 'tos', neg: o.neg, value: dscp << 2, mask: 0xfc } as Match;
      });
    case 'sctp':
    case 'dccp':
    case 'udplite':
      return opts.map((o) => {
        if (!o.name.endsWith('port')) return { kind: 'depends', reason: `the ${module} header (${o.name})` } as Match;
        return { kind: o.name.includes('dest') || o.name === '--dport' ? 'dport' : 'sport', port: { neg: o.neg, ranges: portRanges(o.values[0], false) } } as Match;
      });
    default:
      if (EXTENSION_HEADER_MATCHES.includes(module)) return [{ kind: 'never' }];
      throw new Error(`unsupported match -m ${module}`);
  }
}

/** The connection tracking options beyond --ctstate. */
function conntrackMore(family: IpFamily, o: Opt): Match {
  const field = (o.name.match(/^--ct(orig|repl)(src|dst)/) ?? []).slice(1).join('') as 'origsrc' | 'origdst' | 'replsrc' | 'repldst';
  switch (o.name) {
    case '--ctproto': {
      const lower = o.values[0].toLowerCase();
      const num = /^\d+$/.test(lower) ? Number(lower) : PROTOCOL_NUMBERS[lower];
      if (num === undefined) throw new Error(`protocol ${o.values[0]} is not known`);
      return { kind: 'ctproto', neg: o.neg, num };
    }
    case '--ctorigsrc': case '--ctorigdst': case '--ctreplsrc': case '--ctrepldst':
      return { kind: 'cttuple', field, addr: addrTest(family, o.neg, o.values[0]) };
    case '--ctorigsrcport': case '--ctorigdstport': case '--ctreplsrcport': case '--ctrepldstport':
      return { kind: 'ctport', field, port: { neg: o.neg, ranges: portRanges(o.values[0], false) } };
    case '--ctstatus': {
      const statuses = o.values[0].split(',');
      const bad = statuses.find((x) => !['NONE', 'EXPECTED', 'SEEN_REPLY', 'ASSURED', 'CONFIRMED', 'DNAT', 'SNAT'].includes(x));
      if (bad) throw new Error(`conntrack status ${bad} is not known`);
      return { kind: 'ctstatus', neg: o.neg, statuses };
    }
    case '--ctdir': {
      const dir = o.values[0].toUpperCase();
      if (dir !== 'ORIGINAL' && dir !== 'REPLY') throw new Error(`--ctdir ${o.values[0]} is not ORIGINAL or REPLY`);
      return { kind: 'ctdir', dir };
    }
    default:
      return { kind: 'ctexpire' };
  }
}

/** Address types of -m addrtype, and the ones decided without the host's routes. */
const ADDRESS_TYPES = ['UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'ANYCAST', 'MULTICAST', 'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE'];
const DECIDED_ADDRESS_TYPES = ['UNICAST', 'LOCAL', 'BROADCAST', 'MULTICAST', 'UNSPEC'];

const DSCP_CLASSES: Record<string, number> = {
  CS0: 0,
  CS1: 8,
  CS2: 16,
  CS3: 24,
  CS4: 32,
  CS5: 40,
  CS6: 48,
  CS7: 56,
  BE: 0,
  EF: 46,
  AF11: 10,
  AF12: 12,
  AF13: 14,
  AF21: 18,
  AF22: 20,
  AF23: 22,
  AF31: 26,
  AF32: 28,
  AF33: 30,
  AF41: 34,
  AF42: 36,
  AF43: 38,
};

/** `value[/mask]` in hex or decimal, 32 bits unless `full` says otherwise. */
function markValue(text: string, full = 0xffffffff): { value: number; mask: number } {
  const [v, m] = text.split('/');
  const num = (x: string) => {
    const n = Number(x);
    if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(x) || n > full) throw new Error(`${JSON.stringify(text)} is not a value[/mask]`);
    return n;
  };
  return { value: num(v), mask: m === undefined ? full : num(m) };
}

function compileTarget(family: IpFamily, name: string, opts: Opt[], jumpKind: 'jump' | 'goto'): Target {
  const one = (n: string) => opts.find((o) => o.name === n)?.values[0];
  switch (name) {
    case 'ACCEPT': case 'DROP': case 'RETURN':
      return { kind: name };
    case 'REJECT':
      return { kind: 'REJECT', with: one('--reject-with') ?? (family === IpFamily.V4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable') };
    case 'LOG': case 'NFLOG':
      return { kind: name };
    case 'DNAT': {
      const to = one('--to-destination');
      if (!to) throw new Error('DNAT needs --to-destination');
      const m = family === IpFamily.V4 ? /^([\d.]*)(?:-[\d.]+)?(?::(\d+)(?:-(\d+))?)?$/.exec(to) : /^(?:\[([0-9a-fA-F:.]+)\]|([0-9a-fA-F:.]+))(?::(\d+)(?:-(\d+))?)?$/.exec(to);
      if (!m) throw new Error(`DNAT --to-destination ${to} is not understood`);
      if (family === IpFamily.V4 && /^[\d.]+-/.test(to)) throw new Error(`DNAT to an address range (${to}) is not supported`);
      const address = family === IpFamily.V4 ? m[1] || undefined : (m[1] ?? m[2]);
      const port = family === IpFamily.V4 ? m[2] : m[3];
      const portTo = family === IpFamily.V4 ? m[3] : m[4];
      return { kind: 'DNAT', address, port: port ? Number(port) : undefined, portTo: portTo ? Number(portTo) : undefined };
    }
    case 'SNAT': {
      const to = one('--to-source') ?? '';
      const plain = family === IpFamily.V4 ? /^[\d.]+$/.test(to) : /^\[?[0-9a-fA-F:.]+\]?$/.test(to);
      if (!plain) throw new Error(`SNAT --to-source ${to} with ranges or ports is not supported`);
      return { kind: 'SNAT', address: to.replace(/^\[|\]$/g, '') };
    }
    case 'MASQUERADE':
      return { kind: 'MASQUERADE' };
    case 'MARK':
    case 'CONNMARK': {
      const conn = name === 'CONNMARK';
      if (conn && (opts.some((o) => o.name === '--save-mark' || o.name === '--restore-mark'))) {
        const mask = one('--mask') ? markValue(one('--mask')!).value : undefined;
        return {
          kind: 'CONNMARK',
          op: opts.some((o) => o.name === '--save-mark') ? 'save' : 'restore',
          nfmask: one('--nfmask') ? markValue(one('--nfmask')!).value : mask ?? 0xffffffff,
          ctmask: one('--ctmask') ? markValue(one('--ctmask')!).value : mask ?? 0xffffffff,
        };
      }
      const o = opts[0];
      if (!o) throw new Error(`${name} needs --set-xmark, --set-mark, --and-mark, --or-mark or --xor-mark`);
      const v = markValue(o.values[0]);
      // every form as the kernel's xt_mark applies it: mark = (mark & ~mask) ^ value
      const x = o.name === '--set-xmark' ? v
        : o.name === '--set-mark' ? { value: v.value, mask: (v.mask | v.value) >>> 0 }
          : o.name === '--and-mark' ? { value: 0, mask: (~v.value) >>> 0 }
            : o.name === '--or-mark' ? { value: v.value, mask: v.value }
              : { value: v.value, mask: 0 };
      return { kind: 'MARK', conn, ...x };
    }
    case 'NOTRACK':
      return { kind: 'NOTRACK' };
    case 'CT':
      return opts.some((o) => o.name === '--notrack') ? { kind: 'NOTRACK' } : { kind: 'continue', name };
    case 'REDIRECT': {
      const ports = one('--to-ports');
      const m = ports === undefined ? undefined : /^(\d+)(?:-(\d+))?$/.exec(ports);
      if (ports !== undefined && !m) throw new Error(`REDIRECT --to-ports ${ports} is not a port or range`);
      return { kind: 'REDIRECT', port: m ? Number(m[1]) : undefined, portTo: m?.[2] ? Number(m[2]) : undefined };
    }
    default:
      if (CONTINUING_TARGETS.includes(name)) return { kind: 'continue', name };
      if (UNDECIDABLE_TARGETS[name]) return { kind: 'depends', reason: UNDECIDABLE_TARGETS[name] };
      return { kind: jumpKind, chain: name };
  }
}

/** Options that end an extension's option list (the rule's own, and those that start the next match or the target). */
const RULE_OPTIONS = new Set([
  '-s', '--source', '--src', '-d', '--destination', '--dst', '-i', '--in-interface', '-o', '--out-interface', '-p', '--protocol',
  '-m', '--match', '-j', '--jump', '-g', '--goto', '-c', '--set-counters', '-f', '--fragment',
]);

/** Parses one `-A CHAIN args...` line (counters allowed) of `table`. */
export function parseRuleArgs(
  family: IpFamily, table: string, args: string[], index: number, declared: Set<string>, line = 0, options: ParseOptions = {},
): ParsedRule {
  const lenient = options.lenient ?? false;
  const chain = args[1];
  const rest = args.slice(2);
  let src: AddrTest | undefined; let dst: AddrTest | undefined;
  let inIface: IfaceTest | undefined; let outIface: IfaceTest | undefined;
  let proto: { neg: boolean; num: number } | undefined;
  const matches: Match[] = [];
  const notes: string[] = [];
  let target: Target = { kind: 'none' };
  const textArgs: string[] = ['-A', chain];
  let i = 0;
  let neg = false;
  const ruleId = `${table}/${chain}/${index}`;
  const take = (n: number, what: string): string[] => {
    const vals = rest.slice(i + 1, i + 1 + n);
    if (vals.length < n) throw new Error(`${what} needs ${n} value(s)`);
    return vals;
  };
  /** In lenient parsing: the values of an option (or extension) not known, up to the next option. */
  const skipValues = (): string[] => {
    const out: string[] = [];
    while (i < rest.length && !rest[i].startsWith('-') && rest[i] !== '!') out.push(rest[i++]);
    return out;
  };
  const undecided = (message: string, reason = message): Match => {
    if (!lenient) throw new Error(message);
    notes.push(message);
    return { kind: 'depends', reason };
  };
  let protoName = '';
  while (i < rest.length) {
    const tok = rest[i];
    if (tok === '!') { neg = true; textArgs.push(tok); i++; continue; }
    if (tok === '-c' || tok === '--set-counters') { i += counterArity(rest[i + 1]); continue; }
    const basic: Record<string, string> = {
      '-s': 's',
      '--source': 's',
      '--src': 's',
      '-d': 'd',
      '--destination': 'd',
      '--dst': 'd',
      '-i': 'i',
      '--in-interface': 'i',
      '-o': 'o',
      '--out-interface': 'o',
      '-p': 'p',
      '--protocol': 'p',
    };
    if (basic[tok]) {
      let [v] = take(1, tok);
      let at = 2;
      // the legacy placement of "!" after the option: -s ! 10.0.0.0/8
      if (v === '!' && lenient) { neg = !neg; v = take(2, tok)[1]; at = 3; }
      textArgs.push(tok, v);
      const b = basic[tok];
      if (b === 's') {src = addrTest(family, neg, v);} else if (b === 'd') {dst = addrTest(family, neg, v);} else if (b === 'i') {inIface = { neg, name: v };} else if (b === 'o') {outIface = { neg, name: v };} else {
        const lower = v.toLowerCase();
        if (lower === 'all' || lower === '0') { if (neg) throw new Error('-p ! all matches nothing'); } else {
          const num = /^\d+$/.test(lower) ? Number(lower) : PROTOCOL_NUMBERS[lower];
          if (num === undefined) throw new Error(`protocol ${JSON.stringify(v)} is not known`);
          proto = { neg, num };
          protoName = lower === 'icmpv6' ? 'ipv6-icmp' : lower;
        }
      }
      neg = false;
      i += at;
      continue;
    }
    if (tok === '-f' || tok === '--fragment') {
      if (!lenient) throw new Error('unsupported match -f (fragments)');
      // conntrack reassembles before the first table sees a packet: no fragment reaches a rule
      textArgs.push(tok);
      if (!neg) matches.push({ kind: 'never' });
      neg = false;
      i++;
      continue;
    }
    if (tok === '-m' || tok === '--match') {
      const [module] = take(1, tok);
      if (neg) throw new Error('! before -m is not valid');
      textArgs.push(tok, module);
      i += 2;
      const foreign = lenient ? FOREIGN_MATCH_OPTIONS[module] : undefined;
      const known = MATCH_OPTIONS[module] || foreign ? { ...MATCH_OPTIONS[module], ...foreign } : undefined;
      if (!known) {
        // an extension read only as "depends": its options run up to the next option of the rule
        const decided = lenient && EXTENSION_HEADER_MATCHES.includes(module);
        const reason = UNDECIDABLE_MATCHES[module];
        const m = decided ? { kind: 'never' } as Match
          : reason !== undefined && lenient ? { kind: 'depends', reason } as Match
            : undecided(`unsupported match -m ${module}`, `an extension the evaluator does not know (-m ${module})`);
        while (i < rest.length && !RULE_OPTIONS.has(rest[i]) && !(rest[i] === '!' && RULE_OPTIONS.has(rest[i + 1] ?? ''))) textArgs.push(rest[i++]);
        matches.push(m);
        continue;
      }
      const opts: Opt[] = [];
      let optNeg = false;
      const extra: Match[] = [];
      while (i < rest.length) {
        const t = rest[i];
        if (t === '!') { optNeg = true; textArgs.push(t); i++; continue; }
        const arity = known[t];
        if (arity === undefined) {
          if (t.startsWith('--') && !(t in basic) && !['--jump', '--goto', '--match', '--set-counters', '--fragment'].includes(t)) {
            if (!lenient) throw new Error(`unsupported option ${t} of -m ${module}`);
            i++;
            const values = skipValues();
            textArgs.push(t, ...values);
            extra.push(undecided(`unsupported option ${t} of -m ${module}`, `an option the evaluator does not know (-m ${module} ${t})`));
            optNeg = false;
            continue;
          }
          break;
        }
        let values = take(arity, t);
        // the legacy placement of "!" after the option: --dport ! 22
        if (lenient && arity > 0 && values[0] === '!') { optNeg = !optNeg; values = rest.slice(i + 2, i + 2 + arity); i++; }
        textArgs.push(t, ...values);
        opts.push({ name: t, neg: optNeg, values });
        optNeg = false;
        i += 1 + arity;
      }
      if (optNeg) neg = true; // a ! before the next basic option (already in the text)
      try {
        matches.push(...compileMatch(family, module, opts, ruleId), ...extra);
      } catch (e) {
        matches.push(undecided((e as Error).message, `a match the evaluator cannot read (-m ${module}: ${(e as Error).message})`), ...extra);
      }
      continue;
    }
    if (tok === '-j' || tok === '--jump' || tok === '-g' || tok === '--goto') {
      if (neg) throw new Error(`"!" before ${tok}: a target cannot be negated`);
      const [name] = take(1, tok);
      textArgs.push(tok, name);
      i += 2;
      const foreign = lenient && !declared.has(name) ? FOREIGN_TARGET_OPTIONS[name] : undefined;
      const readAnyway = lenient && !declared.has(name) && TARGET_OPTIONS[name] === undefined && foreign === undefined;
      if (readAnyway) {
        // a target known only by what it does to the verdict (or not at all): its options are not read
        const reason = UNDECIDABLE_TARGETS[name];
        while (i < rest.length) {
          if (rest[i] === '-c' || rest[i] === '--set-counters') { i += counterArity(rest[i + 1]); continue; }
          textArgs.push(rest[i++]);
        }
        if (CONTINUING_TARGETS.includes(name)) {target = { kind: 'continue', name };} else if (reason) {target = { kind: 'depends', reason };} else {
          notes.push(`unsupported target ${name} (not a target the evaluator knows, nor a chain of table ${table})`);
          target = { kind: 'depends', reason: `a target the evaluator does not know (-j ${name})` };
        }
        continue;
      }
      if (TARGET_OPTIONS[name] === undefined && foreign === undefined && !declared.has(name)) {
        throw new Error(`unsupported target ${name} (not a target the evaluator knows, nor a chain of table ${table})`);
      }
      const known = TARGET_OPTIONS[name] ?? foreign ?? {};
      const opts: Opt[] = [];
      let unknownOption: string | undefined;
      while (i < rest.length) {
        const t = rest[i];
        if (t === '-c' || t === '--set-counters') { i += counterArity(rest[i + 1]); continue; }
        const arity = known[t];
        if (arity === undefined) {
          if (lenient) {
            unknownOption ??= t;
            textArgs.push(rest[i++]);
            continue;
          }
          if (t.startsWith('-')) throw new Error(`unsupported option ${t} of target ${name}`);
          throw new Error(`unexpected ${JSON.stringify(t)} after target ${name}`);
        }
        const values = take(arity, t);
        textArgs.push(t, ...values);
        opts.push({ name: t, neg: false, values });
        i += 1 + arity;
      }
      const isJump = tok === '-g' || tok === '--goto' ? 'goto' : 'jump';
      if (unknownOption !== undefined) {
        notes.push(`unsupported option ${unknownOption} of target ${name}`);
        target = { kind: 'depends', reason: `an option the evaluator does not know (-j ${name} ${unknownOption})` };
        continue;
      }
      try {
        target = compileTarget(family, name, opts, isJump);
      } catch (e) {
        if (!lenient) throw e;
        notes.push((e as Error).message);
        target = { kind: 'depends', reason: `a target the evaluator cannot read (-j ${name}: ${(e as Error).message})` };
      }
      continue;
    }
    // implicit protocol module: -p tcp --dport 22 without -m tcp
    const implicit = protoName === 'ipv6-icmp' ? 'icmp6' : protoName;
    const implicitOptions = { ...MATCH_OPTIONS[implicit], ...(lenient ? FOREIGN_MATCH_OPTIONS[implicit] : undefined) };
    if (implicitOptions[tok] !== undefined) {
      const arity = implicitOptions[tok];
      let values = take(arity, tok);
      let at = 1 + arity;
      if (lenient && arity > 0 && values[0] === '!') { neg = !neg; values = rest.slice(i + 2, i + 2 + arity); at++; }
      textArgs.push(tok, ...values);
      matches.push(...compileMatch(family, implicit, [{ name: tok, neg, values }], ruleId));
      neg = false;
      i += at;
      continue;
    }
    if (lenient && tok.startsWith('-')) {
      i++;
      const values = skipValues();
      textArgs.push(tok, ...values);
      matches.push(undecided(`unsupported option ${tok}`, `an option the evaluator does not know (${tok})`));
      neg = false;
      continue;
    }
    throw new Error(`unsupported option ${tok}`);
  }
  if (neg) throw new Error('a "!" with nothing after it to negate');
  return {
    table,
    chain,
    index,
    line,
    text: ruleLine(chain, textArgs.slice(2)),
    src,
    dst,
    inIface,
    outIface,
    proto,
    matches,
    target,
    ...(notes.length ? { notes } : {}),
  };
}

/** A rule read in lenient parsing that could not be read at all: it may match anything, and its target is not known. */
function opaqueRule(table: string, chain: string, index: number, line: number, text: string, message: string): ParsedRule {
  const reason = `a rule the evaluator cannot read (${message})`;
  return { table, chain, index, line, text, matches: [{ kind: 'depends', reason }], target: { kind: 'depends', reason }, notes: [message] };
}

/**
 * Parses a whole iptables-save file of `family`. Strict (the default): throws
 * naming the line and what is not understood. Lenient: what is not
 * understood becomes a "depends on" condition of its rule, noted in `notes`.
 */
export function parseRuleset(family: IpFamily, text: string, options: ParseOptions = {}): ParsedRuleset {
  const lenient = options.lenient ?? false;
  const tables = new Map<string, ParsedTable>();
  const notes: RuleNote[] = [];
  let table: ParsedTable | undefined;
  let pending: Array<{ args: string[]; line: number }> = [];
  const lines = text.split('\n');
  const finish = () => {
    if (!table) return;
    const declared = new Set(table.chains.keys());
    for (const p of pending) {
      const source = lines[p.line - 1].trim();
      const chain = table.chains.get(p.args[1]);
      if (!chain) {
        if (!lenient) throw new Error(`line ${p.line}: chain ${p.args[1]} is not declared in table ${table.name}`);
        notes.push({ line: p.line, table: table.name, chain: p.args[1], rule: source, note: `chain ${p.args[1]} is not declared in table ${table.name}: the rule is left out (iptables-restore would refuse the file)` });
        continue;
      }
      let rule: ParsedRule;
      try {
        rule = parseRuleArgs(family, table.name, p.args, chain.rules.length + 1, declared, p.line, options);
      } catch (e) {
        if (!lenient) throw new Error(`line ${p.line} (${source}): ${(e as Error).message}`);
        rule = opaqueRule(table.name, chain.name, chain.rules.length + 1, p.line, source.replace(/^\[\d+:\d+\]\s+/, ''), (e as Error).message);
      }
      for (const note of rule.notes ?? []) notes.push({ line: p.line, table: table.name, chain: chain.name, rule: rule.text, note });
      chain.rules.push(rule);
    }
    pending = [];
    tables.set(table.name, table);
    table = undefined;
  };
  lines.forEach((raw, n) => {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (line.startsWith('*')) {
      if (table) throw new Error(`line ${n + 1}: table ${line.slice(1)} starts before COMMIT of ${table.name}`);
      const name = line.slice(1);
      if (!Object.prototype.hasOwnProperty.call(BUILTIN, name)) throw new Error(`line ${n + 1}: unsupported table ${name}`);
      table = { name, chains: new Map() };
      return;
    }
    if (!table) throw new Error(`line ${n + 1}: ${JSON.stringify(line)} outside a table`);
    if (line === 'COMMIT') { finish(); return; }
    if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/);
      const builtin = BUILTIN[table.name].includes(name);
      table.chains.set(name, { name, policy: builtin ? (policy === '-' ? 'ACCEPT' : policy) : undefined, rules: [] });
      return;
    }
    line = line.replace(/^\[\d+:\d+\]\s+/, '');
    let args: string[];
    try {
      args = tokenize(line);
    } catch (e) {
      if (!lenient) throw new Error(`line ${n + 1}: ${(e as Error).message}`);
      notes.push({ line: n + 1, table: table.name, chain: '', rule: line, note: `${(e as Error).message}: the line is left out` });
      return;
    }
    if (args[0] !== '-A' && args[0] !== '--append') throw new Error(`line ${n + 1}: only -A rules are understood, got ${JSON.stringify(args[0])}`);
    pending.push({ args, line: n + 1 });
  });
  if (table) throw new Error(`table ${(table as ParsedTable).name} has no COMMIT`);
  for (const t of tables.values()) {
    for (const name of BUILTIN[t.name]) if (!t.chains.has(name)) t.chains.set(name, { name, policy: 'ACCEPT', rules: [] });
  }
  return { family, tables, notes };
}

/** One ipset set: its type and entries (prefixes). */
export interface ParsedSet {
  readonly name: string;
  readonly entries: Cidr[];
}

/** Parses `ipset save` / `ipset restore` text (hash:net and hash:ip sets of `family`). */
export function parseIpsets(family: IpFamily, text: string): Map<string, ParsedSet> {
  const sets = new Map<string, ParsedSet>();
  text.split('\n').forEach((raw, n) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const args = tokenize(line);
    const where = `ipset line ${n + 1}`;
    if (args[0] === 'create' || args[0] === '-N' || args[0] === '-exist') {
      const [, name, type] = args;
      if (!['hash:net', 'hash:ip'].includes(type)) throw new Error(`${where}: set ${name} is of type ${type}; only hash:net and hash:ip are supported`);
      const fi = args.indexOf('family');
      const fam = fi >= 0 ? args[fi + 1] : 'inet';
      if ((fam === 'inet6') !== (family === IpFamily.V6)) return; // the other family's set
      sets.set(name, { name, entries: [] });
    } else if (args[0] === 'add' || args[0] === '-A') {
      const set = sets.get(args[1]);
      if (!set) {
        if (args[2] && args[2].includes(':') !== (family === IpFamily.V6)) return;
        throw new Error(`${where}: add to set ${args[1]}, which was not created`);
      }
      set.entries.push(parseCidr(family, args[2]));
    } else if (args[0] === 'swap' || args[0] === 'destroy' || args[0] === 'flush') {
      throw new Error(`${where}: ${args[0]} is not understood; give the sets as \`ipset save\` prints them`);
    } else {
      throw new Error(`${where}: ${JSON.stringify(args[0])} is not understood`);
    }
  });
  return sets;
}

/** How many arguments `-c` takes with its value: iptables reads "-c PKTS,BYTES" as one, "-c PKTS BYTES" as two. */
function counterArity(value: string | undefined): number {
  if (value !== undefined && /^\d+,\d+$/.test(value)) return 2;
  return 3;
}
