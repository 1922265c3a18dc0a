import { Construct } from 'constructs';
import { FirewallPart } from '../constructs/firewall-part';
import { IpFamily } from '../iptables/family';
import {
  chainNameProblem, hashlimitBurstProblem, hashlimitNameProblem, hitCountProblem, prefixLengthProblem, ratePerMinuteProblem,
  recentListProblem, windowSecondsProblem,
} from '../iptables/kernel-limits';
import { recentList, SourcePrefix } from '../iptables/spelling';
import { markLibraryPart } from '../private/brand';
import { firstProblem, ValueProblem } from '../private/errors';
import { naturalCompare } from '../private/order';
import { LibraryRules } from '../rules/library-rules';
import { Match, RecentAction } from '../rules/match';
import { PartHost } from '../rules/part-host';
import { ChainRule, PartRules, SlottedRule } from '../rules/part-rules';
import { RuleSlot } from '../rules/slot';
import { Target } from '../rules/target';
import { Peer } from '../values/peer';
import { Port, Protocol } from '../values/port';

/** How a guard decides that a source tries too often. */
export enum GuardMode {
  /** xt_recent hit counts in time windows. */
  RECENT = 'RECENT',
  /** xt_hashlimit: a per-source token bucket. */
  HASHLIMIT = 'HASHLIMIT',
}

/**
 * A time window: a source with `hits` new connections inside the last
 * `seconds` is dropped.
 * @example { hits: 3, seconds: 10 }
 */
export interface GuardWindow {
  /** New connections already seen from the source (1..20: xt_recent keeps 20 per address). */
  readonly hits: number;
  /** Window length in seconds. */
  readonly seconds: number;
}

/**
 * Properties of an {@link SshBruteforceGuard}.
 * @example { port: Port.SSH, shortWindow: { hits: 3, seconds: 10 }, longWindow: { hits: 4, seconds: 1800 } }
 */
export interface SshBruteforceGuardProps {
  /**
   * The guarded port. When the host opens it (`allow`, `allowFrom`,
   * `allowOn`), the guard keeps to exactly those openings: the same sources
   * and interfaces, now rate-limited; a port opened to an admin subnet stays
   * closed to everyone else. When the host does not open it, the guard
   * governs it and admits it for everyone, after its checks.
   * @default Port.SSH
   */
  readonly port?: Port;
  /** @default GuardMode.RECENT */
  readonly mode?: GuardMode;
  /**
   * Burst window (RECENT mode).
   * @default { hits: 3, seconds: 10 }
   */
  readonly shortWindow?: GuardWindow;
  /**
   * Slow-attack window (RECENT mode).
   * @default { hits: 4, seconds: 1800 }
   */
  readonly longWindow?: GuardWindow;
  /**
   * New connections per minute per source (HASHLIMIT mode).
   * @default 3
   */
  readonly perMinute?: number;
  /**
   * Burst per source (HASHLIMIT mode).
   * @default 3
   */
  readonly burst?: number;
  /**
   * Count only attempts that carry the TTL of the previous one
   * (`--rttl`). Off by default: with it, an attacker who varies the TTL of each
   * attempt is never counted (xt_recent looks the entry up by TTL), which the
   * kernel tests demonstrate.
   * @default false
   */
  readonly matchTtl?: boolean;
  /**
   * Guard chain name: 1 to 28 letters, digits, `_` or `-`, not a built-in
   * chain, a target (ACCEPT, DROP, LOG, ...) or a chain of the host (TCP,
   * UDP) or of another part.
   * @default "IN_SSH" for port 22, else "IN_SSH_<port>"
   */
  readonly chainName?: string;
  /**
   * xt_recent list name (up to 198 characters; IPv6 uses it with a `6`
   * suffix), or hashlimit table name (up to 15) in HASHLIMIT mode.
   * @default "sshbf" for port 22, else "sshbf_<port>"
   */
  readonly listName?: string;
  /**
   * Sources that are never counted: they skip the guard's limits, but are
   * still admitted only where the host admits the port (an exempt peer
   * outside an `allowFrom` source stays out).
   * @default - none
   * @example [Peer.ipv4('198.51.100.0/24')]
   */
  readonly exempt?: Peer[];
  /**
   * IPv6 sources are counted per prefix of this length: an attacker holding
   * a /64 (what one customer gets) cannot rotate addresses around the limit.
   * @default 64
   * @example 56
   */
  readonly ipv6PrefixLength?: number;
  /**
   * IPv4 sources are counted per prefix of this length.
   * @default 32
   * @example 24
   */
  readonly ipv4PrefixLength?: number;
}

/**
 * Drops sources that open new connections to a port too often (xt_recent
 * windows, or a hashlimit), and accepts the rest.
 *
 * @example
 * new SshBruteforceGuard(host, 'ssh-guard', { port: Port.SSH });
 */
export class SshBruteforceGuard extends FirewallPart {
  /** The guarded port. */
  public readonly port: Port;
  private readonly spec: GuardSettings;

  public constructor(scope: Construct, id: string, props: SshBruteforceGuardProps = {}) {
    super(scope, id);
    markLibraryPart(this);
    const r = this._props;
    const p = r.props(props, 'SshBruteforceGuard');
    const port = p.port === undefined ? Port.SSH : r.port('port', p.port);
    const suffix = port.fromPort === 22 && port.protocol === 'tcp' ? '' : `_${port.protocol === 'tcp' ? '' : 'udp'}${port.fromPort}`;
    const mode = r.enumOf<GuardMode>('mode', p.mode, GuardMode, GuardMode.RECENT);
    const window = (name: string, w: GuardWindow | undefined, dflt: GuardWindow): GuardWindow => {
      const o = r.obj(name, w);
      return o === undefined ? dflt : { hits: r.reqNum(`${name}.hits`, o.hits), seconds: r.reqNum(`${name}.seconds`, o.seconds) };
    };
    this.port = port;
    this.spec = {
      port,
      chain: r.str('chainName', p.chainName, `IN_SSH${suffix}`)!,
      list: r.str('listName', p.listName, mode === GuardMode.HASHLIMIT ? `sshg${suffix || '_22'}` : `sshbf${suffix}`)!,
      mode,
      windows: [window('shortWindow', p.shortWindow, { hits: 3, seconds: 10 }), window('longWindow', p.longWindow, { hits: 4, seconds: 1800 })],
      perMinute: r.num('perMinute', p.perMinute, 3),
      burst: r.num('burst', p.burst, 3),
      matchTtl: r.bool('matchTtl', p.matchTtl, false),
      exempt: this._checkPeers('exempt', p.exempt),
      prefix: { [IpFamily.V4]: r.num('ipv4PrefixLength', p.ipv4PrefixLength, 32), [IpFamily.V6]: r.num('ipv6PrefixLength', p.ipv6PrefixLength, 64) },
    };
    this._check(guardProblem(this.spec));
  }

  /**
   * The guard chain, and one jump to it per opening of the port: when the
   * host opens the port (`allow`, `allowFrom`, `allowOn`), the guard keeps to
   * exactly those openings (their `-s` / `-i`), so a port open to an admin
   * subnet stays open to that subnet only, now rate-limited. When the host
   * does not open the port, the guard governs it and admits it for everyone,
   * after its checks (and declares so).
   */
  public firewallRules(host: PartHost): PartRules {
    const s = this.spec;
    const prefix = { ipv4PrefixLength: s.prefix[IpFamily.V4], ipv6PrefixLength: s.prefix[IpFamily.V6] };
    const openings = host.openingsOf(s.port);
    const entries = openings.length > 0 ? openings : [{ port: s.port, peer: undefined, iface: undefined }];
    const service = s.port.protocol === Protocol.TCP ? RuleSlot.TCP_GUARD : RuleSlot.UDP_GUARD;
    const jumps: SlottedRule[] = entries.map((e) => ({
      slot: service,
      matches: [Match.source(e.peer ?? Peer.any()), ...(e.iface ? [Match.inInterface(e.iface)] : []), Match.port(s.port)],
      target: Target.jump(s.chain),
    }));
    const chain: ChainRule[] = [];
    // exempt sources skip the counting; only admitted traffic reaches this chain
    const exempt = [...s.exempt].sort((a, b) => naturalCompare(exemptKey(a), exemptKey(b)));
    for (const peer of exempt) chain.push({ matches: [Match.source(peer)], target: Target.ACCEPT });
    // the deploying client, listed by the deploy after it authenticated, is never counted
    const pass = host.deployPass();
    if (pass) chain.push({ matches: [pass], target: Target.ACCEPT });
    if (s.mode === GuardMode.RECENT) {
      for (const w of s.windows) {
        const seen = Match.recent({ list: s.list, action: RecentAction.CHECK, seconds: w.seconds, hits: w.hits, matchTtl: s.matchTtl, ...prefix });
        chain.push({ matches: [seen], target: Target.DROP });
      }
      chain.push({ matches: [Match.recent({ list: s.list, action: RecentAction.SET, ...prefix })], target: Target.ACCEPT });
    } else {
      const above = Match.hashlimit({ name: s.list, perMinute: s.perMinute, burst: s.burst, above: true, ...prefix });
      chain.push({ matches: [above], target: Target.DROP });
      chain.push({ target: Target.ACCEPT });
    }
    const rules: LibraryRules = {
      chains: [{ name: s.chain, rules: chain }],
      rules: jumps,
      // a second guard on the same port would never see a packet: the first one accepts
      claims: [
        { kind: 'chain', name: s.chain },
        { kind: 'guarded port', name: s.port.toString() },
        ...(s.mode === GuardMode.RECENT ? host.families.map((f) => ({ kind: 'recent list', name: recentList(f, s.list) })) : [{ kind: 'hashlimit table', name: s.list }]),
      ],
      guardLists: s.mode === GuardMode.RECENT ? [{ list: s.list, v4Prefix: s.prefix[IpFamily.V4], v6Prefix: s.prefix[IpFamily.V6] }] : [],
      opens: openings.length > 0 ? [] : [{ port: s.port }],
    };
    return rules;
  }
}

/** A guard's checked settings. */
interface GuardSettings {
  readonly port: Port;
  readonly chain: string;
  readonly list: string;
  readonly mode: GuardMode;
  readonly windows: readonly GuardWindow[];
  readonly perMinute: number;
  readonly burst: number;
  readonly matchTtl: boolean;
  readonly exempt: readonly Peer[];
  readonly prefix: SourcePrefix;
}

/** What is wrong with a guard's settings, if anything. */
function guardProblem(spec: GuardSettings): ValueProblem | undefined {
  return firstProblem(
    spec.port._problem(),
    spec.port.isRange ? { message: `port ${spec.port} is a range; a guard protects one port`, fix: 'Use a single port, e.g. Port.tcp(2222).' } : undefined,
    chainNameProblem('chainName', spec.chain),
    spec.mode === GuardMode.HASHLIMIT ? hashlimitNameProblem('listName (the hashlimit table)', spec.list) : recentListProblem('listName', spec.list, true),
    ...spec.windows.flatMap((w, i) => [
      hitCountProblem(`${i === 0 ? 'shortWindow' : 'longWindow'}.hits`, w.hits),
      windowSecondsProblem(`${i === 0 ? 'shortWindow' : 'longWindow'}.seconds`, w.seconds),
    ]),
    ratePerMinuteProblem('perMinute', spec.perMinute),
    hashlimitBurstProblem('burst', spec.burst),
    ...spec.exempt.map((p) => p._problem()),
    prefixLengthProblem('ipv4PrefixLength', spec.prefix[IpFamily.V4], false),
    prefixLengthProblem('ipv6PrefixLength', spec.prefix[IpFamily.V6], true),
  );
}

/** The text an exempt peer's rule sorts by (as the rules' own order within a slot). */
function exemptKey(p: Peer): string {
  return `${p.isAny ? '' : `-s ${p.cidr} `}-j ACCEPT`;
}
