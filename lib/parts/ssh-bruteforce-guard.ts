import { Construct } from 'constructs';
import { FirewallPart } from '../constructs/firewall-part';
import { IpFamily } from '../iptables/family';
import { PartContribution } from '../firewall/skeleton';
import { SshGuardContribution, sshGuardProblem, SshGuardSpec } from './ssh-bruteforce-guard-rules';
import { Peer } from '../values/peer';
import { Port } from '../values/port';
import { PartHost } from '../rules/part-host';
import { PartRules } from '../rules/part-rules';

/** How a guard decides that a source tries too often. */
export enum GuardMode {
  /** xt_recent hit counts in time windows (the seed's IN_SSH recipe). */
  RECENT = 'RECENT',
  /** xt_hashlimit: a per-source token bucket (stateful-packet-filtering-lecture.txt). */
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
   * Count only attempts that carry the TTL of the previous one (the seed's
   * `--rttl`). Off by default: with it, an attacker who varies the TTL of each
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
 * Drops sources that open new connections to a port too often (the seed's
 * IN_SSH recipe with xt_recent, or a hashlimit), and accepts the rest.
 *
 * @example
 * new SshBruteforceGuard(host, 'ssh-guard', { port: Port.SSH });
 */
export class SshBruteforceGuard extends FirewallPart {
  /** The guarded port. */
  public readonly port: Port;
  private readonly spec: SshGuardSpec;

  public constructor(scope: Construct, id: string, props: SshBruteforceGuardProps = {}) {
    super(scope, id);
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
      path: this.node.path,
      port,
      chain: r.str('chainName', p.chainName, `IN_SSH${suffix}`)!,
      list: r.str('listName', p.listName, mode === GuardMode.HASHLIMIT ? `sshg${suffix || '_22'}` : `sshbf${suffix}`)!,
      mode: mode === GuardMode.HASHLIMIT ? 'hashlimit' : 'recent',
      windows: [window('shortWindow', p.shortWindow, { hits: 3, seconds: 10 }), window('longWindow', p.longWindow, { hits: 4, seconds: 1800 })],
      perMinute: r.num('perMinute', p.perMinute, 3),
      burst: r.num('burst', p.burst, 3),
      matchTtl: r.bool('matchTtl', p.matchTtl, false),
      exempt: this._checkPeers('exempt', p.exempt),
      prefix: { [IpFamily.V4]: r.num('ipv4PrefixLength', p.ipv4PrefixLength, 32), [IpFamily.V6]: r.num('ipv6PrefixLength', p.ipv6PrefixLength, 64) },
    };
    this._check(sshGuardProblem(this.spec));
  }

  /** The part's chains and rules (see {@link FirewallPart.firewallRules}). */
  public firewallRules(host: PartHost): PartRules {
    return this._contribution().rules(host);
  }

  /** @internal */
  public _contribution(): PartContribution<any> {
    return new SshGuardContribution(this.spec);
  }
}
