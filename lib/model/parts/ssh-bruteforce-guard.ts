import { ValueProblem } from '../../private/errors';
import { IpFamily } from '../family';
import { PartContribution, HostFirewallSpec, perFamily, TCP_CHAIN, UDP_CHAIN } from '../host-firewall';
import { firstProblem, hashlimit, kernelNameProblem, recentCheck, recentList, recentSet, RECENT_MAX_HITS, wholeNumberProblem } from '../matches';
import { Port, Protocol } from '../port';
import { Ruleset } from '../ruleset';
import { ServiceSlot } from '../slots';

/** Hits allowed inside a time window. */
export interface Window {
  readonly hits: number;
  readonly seconds: number;
}

/** A validated brute-force guard. */
export interface SshGuardSpec {
  readonly path: string;
  readonly port: Port;
  readonly chain: string;
  readonly list: string;
  readonly mode: 'recent' | 'hashlimit';
  readonly windows: readonly Window[];
  readonly perMinute: number;
  readonly burst: number;
  /** Count only attempts with the TTL of the last one (`--rttl`). */
  readonly matchTtl: boolean;
}

/** Longest time window: a year, well inside what xt_recent can count. */
export const MAX_WINDOW_SECONDS = 31_536_000;

/** What is wrong with a guard's settings, if anything. */
export function sshGuardProblem(spec: SshGuardSpec): ValueProblem | undefined {
  return firstProblem(
    spec.port._problem(),
    spec.port.isRange ? { message: `port ${spec.port} is a range; a guard protects one port`, fix: 'Use a single port, e.g. Port.tcp(2222).' } : undefined,
    kernelNameProblem('chain name', spec.chain, 28),
    kernelNameProblem('list name', spec.list, 199),
    ...spec.windows.flatMap((w, i) => [
      wholeNumberProblem(`window ${i + 1} hits`, w.hits, 1, RECENT_MAX_HITS,
        `xt_recent remembers ${RECENT_MAX_HITS} hits per address (module parameter ip_pkt_list_tot): a larger count can never match.`),
      wholeNumberProblem(`window ${i + 1} seconds`, w.seconds, 1, MAX_WINDOW_SECONDS),
    ]),
    wholeNumberProblem('hashlimit rate per minute', spec.perMinute, 1, 60_000),
    wholeNumberProblem('hashlimit burst', spec.burst, 1, 10_000),
    spec.mode === 'hashlimit' ? kernelNameProblem('hashlimit table name', spec.list, 15) : undefined,
  );
}

/**
 * The seed's IN_SSH recipe: new connections to the port jump (from the TCP or
 * UDP chain, after the port-scan trap) to a guard chain that drops a source
 * with too many recent attempts and accepts the rest. The guard governs its
 * port: it accepts it even if the host does not list it.
 */
export class SshGuardContribution extends PartContribution<SshGuardSpec> {

  public contribute(rs: Ruleset, host: HostFirewallSpec): void {
    const s = this.spec;
    rs.claim('chain', s.chain, s.path);
    if (s.mode === 'recent') for (const f of host.families) rs.claim('recent list', recentList(f, s.list), s.path);
    else rs.claim('hashlimit table', s.list, s.path);
    rs.declareChain({ table: 'filter', name: s.chain, families: host.families, owner: s.path });
    const fams = host.families;
    const service = s.port.protocol === Protocol.TCP ? TCP_CHAIN : UDP_CHAIN;
    rs.addRule({ table: 'filter', chain: service, slot: ServiceSlot.GUARD, owner: s.path, args: perFamily(fams, () => [...s.port._matchArgs(), '-j', s.chain]) });
    if (host.deployPass) {
      // the deploying client, listed by the deploy after it authenticated, is never counted
      const pass = host.deployPass;
      rs.addRule({ table: 'filter', chain: s.chain, slot: 50, owner: s.path, args: perFamily(fams, (f) => [...recentCheck(f, 'rcheck', pass.list, pass.seconds), '-j', 'ACCEPT']) });
    }
    if (s.mode === 'recent') {
      rs.noteGuardList({ list: s.list, v4Prefix: 32, v6Prefix: 128 });
      s.windows.forEach((w, i) => rs.addRule({
        table: 'filter',
        chain: s.chain,
        slot: 100,
        order: i,
        owner: s.path,
        args: perFamily(fams, (f: IpFamily) => [...recentCheck(f, 'rcheck', s.list, w.seconds, w.hits, s.matchTtl), '-j', 'DROP']),
      }));
      rs.addRule({ table: 'filter', chain: s.chain, slot: 900, owner: s.path, args: perFamily(fams, (f) => [...recentSet(f, s.list), '-j', 'ACCEPT']) });
    } else {
      rs.addRule({ table: 'filter', chain: s.chain, slot: 100, owner: s.path, args: perFamily(fams, () => [...hashlimit('above', s.perMinute, s.burst, s.list), '-j', 'DROP']) });
      rs.addRule({ table: 'filter', chain: s.chain, slot: 900, owner: s.path, args: perFamily(fams, () => ['-j', 'ACCEPT']) });
    }
  }
}
