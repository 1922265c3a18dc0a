import { Construct } from 'constructs';
import { FirewallPart } from './firewall-part';
import { FirewallContribution } from '../model/host-firewall';
import { SshGuardContribution, sshGuardProblem, SshGuardSpec } from '../model/parts/ssh-bruteforce-guard';
import { Port } from '../model/port';

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
   * The guarded port. The guard governs it: it admits the port itself, after
   * its checks, whether or not the host lists it in `allow`.
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
   * Guard chain name.
   * @default "IN_SSH" for port 22, else "IN_SSH_<port>"
   */
  readonly chainName?: string;
  /**
   * xt_recent list (or hashlimit table) name.
   * @default "sshbf" for port 22, else "sshbf_<port>"
   */
  readonly listName?: string;
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
    const port = props.port ?? Port.SSH;
    if (!(port instanceof Port)) this._check({ message: `is ${JSON.stringify(port)}, not a Port` }, 'port');
    this._check(port._problem(), 'port');
    const suffix = port.fromPort === 22 && port.protocol === 'tcp' ? '' : `_${port.protocol === 'tcp' ? '' : 'udp'}${port.fromPort}`;
    const mode = props.mode ?? GuardMode.RECENT;
    if (!Object.values(GuardMode).includes(mode)) this._check({ message: `is ${JSON.stringify(mode)}`, fix: 'Use GuardMode.RECENT or GuardMode.HASHLIMIT.' }, 'mode');
    this.port = port;
    this.spec = {
      path: this.node.path,
      port,
      chain: props.chainName ?? `IN_SSH${suffix}`,
      list: props.listName ?? (mode === GuardMode.HASHLIMIT ? `sshg${suffix || '_22'}` : `sshbf${suffix}`),
      mode: mode === GuardMode.HASHLIMIT ? 'hashlimit' : 'recent',
      windows: [props.shortWindow ?? { hits: 3, seconds: 10 }, props.longWindow ?? { hits: 4, seconds: 1800 }],
      perMinute: props.perMinute ?? 3,
      burst: props.burst ?? 3,
      matchTtl: props.matchTtl ?? false,
    };
    this._check(sshGuardProblem(this.spec));
  }

  /** @internal */
  public _contribution(): FirewallContribution {
    return new SshGuardContribution(this.spec);
  }
}
