/**
 * Matches: the conditions of a rule, as typed values. Each one knows how it is
 * spelled in each address family (the ONE place where ICMP and ICMPv6, `-s`
 * of an IPv4 peer and of an IPv6 peer, xt_recent masks and hashlimit source
 * masks are told apart) and what is wrong with it. Rendered to iptables-save
 * argv only by the rule compiler.
 */
import { MatchArgs, MatchName } from './match-args';
import { IpFamily } from '../iptables/family';
import { matchSet } from '../iptables/ipset';
import {
  hashlimitBurstProblem, hashlimitNameProblem, hitCountProblem, limitBurstProblem, MAX_COMMENT, prefixLengthProblem, ratePerMinuteProblem,
  recentListProblem, wholeNumberProblem, windowSecondsProblem,
} from '../iptables/kernel-limits';
import {
  DEFAULT_SOURCE_PREFIX, FULL_PREFIX, hashlimit, hopLimitEquals, ICMP_TYPES, icmpType, limit, recentCheck, recentList, recentSet, SourcePrefix,
} from '../iptables/spelling';
import { firstProblem, ValueProblem } from '../private/errors';
import { ConnState } from '../values/conn-state';
import { IcmpType } from '../values/icmp';
import { interfaceNameProblem } from '../values/interface-name';
import { Peer } from '../values/peer';
import { Port, Protocol } from '../values/port';

/** What an xt_recent match does with its list. */
export enum RecentAction {
  /** Adds the source to the list (and matches). */
  SET = 'SET',
  /** Matches when the source is on the list (within `seconds`, with `hits`). */
  CHECK = 'CHECK',
  /** Like CHECK, and refreshes the source's last-seen time when it matches. */
  UPDATE = 'UPDATE',
}

/**
 * Options of {@link Match.recent}.
 * @example { list: 'scanners', action: RecentAction.CHECK, seconds: 60, hits: 3 }
 */
export interface RecentMatchOptions {
  /** The list's name (IPv6 rules use it with a `6` suffix, so the families never share entries). */
  readonly list: string;
  /** What the match does with the list. */
  readonly action: RecentAction;
  /**
   * CHECK / UPDATE: only entries seen within this many seconds count.
   * @default - any age
   */
  readonly seconds?: number;
  /**
   * CHECK / UPDATE: the source must have been seen this many times (1..20).
   * @default - once
   */
  readonly hits?: number;
  /**
   * CHECK / UPDATE: count only entries with the TTL of this packet (`--rttl`).
   * Beware: an attacker who varies the TTL is then never counted.
   * @default false
   */
  readonly matchTtl?: boolean;
  /**
   * IPv4 sources are grouped per prefix of this length.
   * @default 32
   */
  readonly ipv4PrefixLength?: number;
  /**
   * IPv6 sources are grouped per prefix of this length (one customer holds a /64).
   * @default 64
   */
  readonly ipv6PrefixLength?: number;
}

/**
 * Options of {@link Match.hashlimit}: a token bucket per source (prefix).
 * @example { name: 'api', perMinute: 120, burst: 20, above: true }
 */
export interface HashlimitMatchOptions {
  /** The table's name (up to 15 characters), unique on the host. */
  readonly name: string;
  /** Packets per minute per source. */
  readonly perMinute: number;
  /**
   * Bucket size.
   * @default 5
   */
  readonly burst?: number;
  /**
   * true: match the packets ABOVE the rate (to drop them); false: match those within it.
   * @default true
   */
  readonly above?: boolean;
  /** @default 32 */
  readonly ipv4PrefixLength?: number;
  /** @default 64 */
  readonly ipv6PrefixLength?: number;
}

const MATCH_BRAND = Symbol.for('cdktf-iptables.Match');

/**
 * One condition of a rule. Built with the static factories; checked at
 * creation for what it can know alone, and again where a part uses it (the
 * error then names the part's construct path).
 *
 * @example
 * [Match.source(Peer.ipv4('10.0.0.0/8')), Match.port(Port.tcp(5432)), Match.state([ConnState.NEW])]
 */
export class Match {
  /** Packets from `peer` (a rule with an IPv4 peer is IPv4-only, and the same for IPv6). */
  public static source(peer: Peer): Match {
    const p = Peer._adopt(peer);
    return new Match(`source ${p}`, (f) => (p.hasFamily(f) ? { basic: p.isAny ? {} : { s: p.cidr }, module: [] } : undefined), p._problem());
  }

  /** Packets to `peer`. */
  public static destination(peer: Peer): Match {
    const p = Peer._adopt(peer);
    return new Match(`destination ${p}`, (f) => (p.hasFamily(f) ? { basic: p.isAny ? {} : { d: p.cidr }, module: [] } : undefined), p._problem());
  }

  /** Packets arriving on the interface `name` (`eth+` for every `eth` interface). */
  public static inInterface(name: string): Match {
    return new Match(`inInterface ${name}`, () => ({ basic: { i: name }, module: [] }), ifaceProblem('inInterface', name));
  }

  /** Packets leaving on the interface `name`. */
  public static outInterface(name: string): Match {
    return new Match(`outInterface ${name}`, () => ({ basic: { o: name }, module: [] }), ifaceProblem('outInterface', name));
  }

  /** Packets of a protocol (ICMP is IPv4-only, ICMPV6 IPv6-only). */
  public static protocol(protocol: Protocol): Match {
    return new Match(`protocol ${protocol}`, (f) => {
      if ((protocol === Protocol.ICMP && f !== IpFamily.V4) || (protocol === Protocol.ICMPV6 && f !== IpFamily.V6)) return undefined;
      return { basic: { p: protocol }, module: [] };
    }, Object.values(Protocol).includes(protocol) ? undefined : { message: `protocol ${String(protocol)} is not a Protocol`, fix: 'Use Protocol.TCP, Protocol.UDP, ...' });
  }

  /** Packets to a destination port (or range) of TCP or UDP. */
  public static port(port: Port): Match {
    const p = Port._adopt(port);
    return new Match(`port ${p}`, () => ({ basic: { p: p.protocol }, module: ['-m', p.protocol, '--dport', span(p)] }), p._problem());
  }

  /** Packets from a source port (or range) of TCP or UDP. */
  public static sourcePort(port: Port): Match {
    const p = Port._adopt(port);
    return new Match(`sourcePort ${p}`, () => ({ basic: { p: p.protocol }, module: ['-m', p.protocol, '--sport', span(p)] }), p._problem());
  }

  /** TCP packets that open a connection: SYN set, FIN, RST and ACK clear. */
  public static tcpSyn(): Match {
    return new Match('tcpSyn', () => ({ basic: { p: 'tcp' }, module: ['-m', 'tcp', '--tcp-flags', 'FIN,SYN,RST,ACK', 'SYN'] }));
  }

  /** Packets in one of the conntrack `states`. */
  public static state(states: ConnState[]): Match {
    const list = [...new Set(states ?? [])];
    const bad = list.find((s) => !Object.values(ConnState).includes(s));
    const problem: ValueProblem | undefined = list.length === 0
      ? { message: 'state() needs at least one ConnState', fix: 'For example Match.state([ConnState.NEW]).' }
      : bad !== undefined ? { message: `state ${String(bad)} is not a ConnState`, fix: 'Use ConnState.NEW, ESTABLISHED, RELATED, INVALID or UNTRACKED.' } : undefined;
    // the order iptables-save prints them in
    const ordered = STATE_ORDER.filter((s) => list.includes(s));
    return new Match(`state ${ordered.join(',')}`, () => ({ basic: {}, module: ['-m', 'conntrack', '--ctstate', ordered.join(',')] }), problem);
  }

  /** Packets of connections whose destination was translated by a port forward (`--ctstate DNAT`). */
  public static portForwarded(): Match {
    return new Match('portForwarded', () => ({ basic: {}, module: ['-m', 'conntrack', '--ctstate', 'DNAT'] }));
  }

  /** ICMP (IPv4) or ICMPv6 (IPv6) messages of a type; a type that exists in one family only makes the rule that family's only. */
  public static icmp(type: IcmpType): Match {
    const numbers = Object.values(IcmpType).includes(type) ? ICMP_TYPES[type] : undefined;
    return new Match(`icmp ${type}`, (f) => {
      const n = numbers?.[f];
      if (n === undefined) return undefined;
      const spelled = icmpType(f, n);
      return { basic: { p: spelled.protocol }, module: spelled.module };
    }, numbers ? undefined : { message: `ICMP type ${String(type)} is not an IcmpType`, fix: 'Use IcmpType.ECHO_REQUEST, ...' });
  }

  /**
   * Packets whose TTL (IPv4) or hop limit (IPv6) is exactly `value` (0..255):
   * 255 on arrival means the sender is on the link (neighbour discovery).
   */
  public static hopLimit(value: number): Match {
    return new Match(`hopLimit ${value}`, (f) => ({ basic: {}, module: hopLimitEquals(f, value) }), wholeNumberProblem('hopLimit', value, 0, 255));
  }

  /** At most `perMinute` packets a minute over all sources (a global token bucket of `burst`). */
  public static limit(perMinute: number, burst?: number): Match {
    const b = burst ?? 5;
    return new Match(`limit ${perMinute}/min`, () => ({ basic: {}, module: limit(perMinute, b) }),
      firstProblem(ratePerMinuteProblem('perMinute', perMinute), limitBurstProblem('burst', b, perMinute)));
  }

  /** A token bucket per source (prefix): the packets above (or within) the rate. */
  public static hashlimit(options: HashlimitMatchOptions): Match {
    const o = options ?? ({} as HashlimitMatchOptions);
    const prefix = prefixOf(o.ipv4PrefixLength, o.ipv6PrefixLength);
    const burst = o.burst ?? 5;
    return new Match(`hashlimit ${o.name}`, (f) => ({ basic: {}, module: hashlimit(o.above === false ? 'upto' : 'above', o.perMinute, burst, o.name, f, prefix) }),
      firstProblem(
        hashlimitNameProblem('hashlimit name', o.name),
        ratePerMinuteProblem('perMinute', o.perMinute),
        hashlimitBurstProblem('burst', burst),
        prefixProblems(o.ipv4PrefixLength, o.ipv6PrefixLength),
      ),
      [{ kind: 'hashlimit table', name: o.name, writes: true }]);
  }

  /** xt_recent: remember sources on a list, or match the ones remembered. */
  public static recent(options: RecentMatchOptions): Match {
    const o = options ?? ({} as RecentMatchOptions);
    const prefix = prefixOf(o.ipv4PrefixLength, o.ipv6PrefixLength);
    const render = (f: IpFamily): MatchArgs => {
      if (o.action === RecentAction.SET) return { basic: {}, module: recentSet(f, o.list, prefix) };
      const op = o.action === RecentAction.UPDATE ? 'update' : 'rcheck';
      return { basic: {}, module: recentCheck(f, op, o.list, o.seconds, o.hits, o.matchTtl === true, prefix) };
    };
    const actionProblem: ValueProblem | undefined = Object.values(RecentAction).includes(o.action)
      ? undefined : { message: `action ${String(o.action)} is not a RecentAction`, fix: 'Use RecentAction.SET, CHECK or UPDATE.' };
    return new Match(`recent ${o.list}`, render,
      firstProblem(
        recentListProblem('list', o.list, true),
        actionProblem,
        o.action === RecentAction.SET && (o.seconds !== undefined || o.hits !== undefined || o.matchTtl !== undefined)
          ? { message: 'seconds, hits and matchTtl apply to CHECK and UPDATE, not SET', fix: 'Leave them out of the SET match.' } : undefined,
        o.seconds !== undefined ? windowSecondsProblem('seconds', o.seconds) : undefined,
        o.hits !== undefined ? hitCountProblem('hits', o.hits) : undefined,
        prefixProblems(o.ipv4PrefixLength, o.ipv6PrefixLength),
      ),
      // SET adds sources, UPDATE refreshes them: both change the list, which is then the part's
      [IpFamily.V4, IpFamily.V6].map((f) => ({ kind: 'recent list' as const, name: recentList(f, o.list), writes: o.action !== RecentAction.CHECK })));
  }

  /**
   * A comment of your own on the rule (`-m comment`): 1 to 255 printable
   * ASCII characters. Every rule already names its part when the host's
   * `ruleComments` is on; this adds a word on why.
   */
  public static comment(text: string): Match {
    const problem: ValueProblem | undefined = typeof text !== 'string' || text.length === 0 || text.length > MAX_COMMENT || !/^[\x20-\x7e]+$/.test(text)
      ? { message: `comment ${JSON.stringify(text)} must be 1 to ${MAX_COMMENT} printable ASCII characters`, fix: 'For example Match.comment("office VPN").' }
      : undefined;
    return new Match(`comment ${text}`, () => ({ basic: {}, module: ['-m', 'comment', '--comment', text] }), problem);
  }

  /** True when `x` is a Match (from any copy of this library). */
  public static isMatch(x: unknown): x is Match {
    return typeof x === 'object' && x !== null && (x as any)[MATCH_BRAND] === true;
  }

  /**
   * Packets whose source would be routed back out of the interface they came
   * in on (`-m rpfilter`: the reverse-path filter, raw PREROUTING).
   * @internal
   */
  public static _reversePath(): Match {
    return new Match('reversePath', () => ({ basic: {}, module: ['-m', 'rpfilter'] }));
  }

  /**
   * Packets whose source is in the ipset set `name` (the library's blocklists).
   * @internal
   */
  public static _sourceInSet(name: string): Match {
    return new Match(`source in set ${name}`, () => ({ basic: {}, module: matchSet(name) }));
  }

  /**
   * Sources on the xt_recent list `list` within `seconds`, one entry per
   * address: the deploy pass that the deploy adds the deploying client to.
   * @internal
   */
  public static _listed(list: string, seconds: number): Match {
    return new Match(`deploy pass ${list}`, (f) => ({ basic: {}, module: recentCheck(f, 'rcheck', list, seconds, undefined, false, FULL_PREFIX) }));
  }

  private constructor(
    /** What the match tests, for messages. */
    public readonly description: string,
    private readonly render: (family: IpFamily) => MatchArgs | undefined,
    private readonly problem?: ValueProblem,
    private readonly names: MatchName[] = [],
  ) {
    Object.defineProperty(this, MATCH_BRAND, { value: true });
  }

  /** A short text of what the match tests. */
  public toString(): string {
    return this.description;
  }

  /**
   * The match's arguments in `family`, or undefined when it does not exist there.
   * @internal
   */
  public _args(family: IpFamily): MatchArgs | undefined {
    return this.render(family);
  }

  /**
   * What is wrong with the match, if anything.
   * @internal
   */
  public _problem(): ValueProblem | undefined {
    return this.problem;
  }

  /**
   * The kernel-wide names the match uses.
   * @internal
   */
  public _names(): readonly MatchName[] {
    return this.names;
  }
}


/** The order iptables-save prints conntrack states in. */
const STATE_ORDER: readonly ConnState[] = [ConnState.INVALID, ConnState.NEW, ConnState.RELATED, ConnState.ESTABLISHED, ConnState.UNTRACKED];

function span(p: Port): string {
  return p.isRange ? `${p.fromPort}:${p.toPort}` : `${p.fromPort}`;
}

function ifaceProblem(what: string, name: string): ValueProblem | undefined {
  const p = interfaceNameProblem(name);
  return p ? { message: `${what}: ${p.message}`, fix: p.fix } : undefined;
}

function prefixOf(v4?: number, v6?: number): SourcePrefix {
  return { [IpFamily.V4]: v4 ?? DEFAULT_SOURCE_PREFIX[IpFamily.V4], [IpFamily.V6]: v6 ?? DEFAULT_SOURCE_PREFIX[IpFamily.V6] };
}

function prefixProblems(v4?: number, v6?: number): ValueProblem | undefined {
  return firstProblem(
    v4 !== undefined ? prefixLengthProblem('ipv4PrefixLength', v4, false) : undefined,
    v6 !== undefined ? prefixLengthProblem('ipv6PrefixLength', v6, true) : undefined,
  );
}
