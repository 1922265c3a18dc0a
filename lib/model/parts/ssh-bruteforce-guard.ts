import { ValueProblem } from '../../private/errors';
import { IpFamily } from '../family';
import { PartContribution, HostFirewallSpec, Opening, peerArgs, perFamily, TCP_CHAIN, UDP_CHAIN } from '../host-firewall';
import {
  chainNameProblem, hashlimitBurstProblem, hashlimitNameProblem, hitCountProblem, MAX_WINDOW_SECONDS, prefixLengthProblem,
  ratePerMinuteProblem, recentListProblem, windowSecondsProblem,
} from '../kernel-limits';
import { firstProblem, FULL_PREFIX, hashlimit, recentCheck, recentList, recentSet, SourcePrefix } from '../matches';
import { Peer } from '../peer';
import { Port, Protocol } from '../port';
import { Ruleset } from '../ruleset';
import { ServiceSlot } from '../slots';

export { MAX_WINDOW_SECONDS };

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
  /** Sources that skip the counting (still admitted only where the port is). @default none */
  readonly exempt?: readonly Peer[];
  /** How sources are grouped for counting, per family. @default /32 and /64 */
  readonly prefix?: SourcePrefix;
}

/** What is wrong with a guard's settings, if anything. */
export function sshGuardProblem(spec: SshGuardSpec): ValueProblem | undefined {
  return firstProblem(
    spec.port._problem(),
    spec.port.isRange ? { message: `port ${spec.port} is a range; a guard protects one port`, fix: 'Use a single port, e.g. Port.tcp(2222).' } : undefined,
    chainNameProblem('chainName', spec.chain),
    spec.mode === 'hashlimit' ? hashlimitNameProblem('listName (the hashlimit table)', spec.list) : recentListProblem('listName', spec.list, true),
    ...spec.windows.flatMap((w, i) => [
      hitCountProblem(`${i === 0 ? 'shortWindow' : 'longWindow'}.hits`, w.hits),
      windowSecondsProblem(`${i === 0 ? 'shortWindow' : 'longWindow'}.seconds`, w.seconds),
    ]),
    ratePerMinuteProblem('perMinute', spec.perMinute),
    hashlimitBurstProblem('burst', spec.burst),
    ...(spec.exempt ?? []).map((p) => p._problem()),
    spec.prefix ? prefixLengthProblem('ipv4PrefixLength', spec.prefix[IpFamily.V4], false) : undefined,
    spec.prefix ? prefixLengthProblem('ipv6PrefixLength', spec.prefix[IpFamily.V6], true) : undefined,
  );
}

/** The host's openings that admit (part of) `port`: the sources and interfaces a guard must keep to. */
export function openingsOf(host: HostFirewallSpec, port: Port): Opening[] {
  return host.openings.filter((o) => o.port._overlaps(port));
}

/**
 * The seed's IN_SSH recipe: new connections to the port jump (from the TCP or
 * UDP chain, after the port-scan trap) to a guard chain that drops a source
 * with too many recent attempts and accepts the rest.
 *
 * Resolved by intent: when the host opens the port (`allow`, `allowFrom`,
 * `allowOn`), the guard keeps to exactly those openings, one jump per opening
 * with the opening's `-s` / `-i`: a port open to an admin subnet stays open to
 * that subnet only, now rate-limited. When the host does not open the port,
 * the guard governs it and admits it for everyone, after its checks.
 */
export class SshGuardContribution extends PartContribution<SshGuardSpec> {

  public prepare(rs: Ruleset, host: HostFirewallSpec): void {
    const s = this.spec;
    rs.claim('chain', s.chain, s.path);
    // a second guard on the same port would never see a packet: the first one accepts
    rs.claim('guarded port', s.port.toString(), s.path);
    if (s.mode === 'recent') for (const f of host.families) rs.claim('recent list', recentList(f, s.list), s.path);
    else rs.claim('hashlimit table', s.list, s.path);
    rs.declareChain({ table: 'filter', name: s.chain, families: host.families, owner: s.path });
    const fams = host.families;
    const service = s.port.protocol === Protocol.TCP ? TCP_CHAIN : UDP_CHAIN;
    const openings = openingsOf(host, s.port);
    const entries = openings.length > 0
      ? openings.map((o) => ({ peer: o.peer ?? Peer.any(), iface: o.iface }))
      : [{ peer: Peer.any(), iface: undefined }];
    for (const e of entries) {
      const iface = e.iface ? ['-i', e.iface] : [];
      rs.addRule({ table: 'filter', chain: service, slot: ServiceSlot.GUARD, owner: s.path, args: peerArgs(e.peer, fams, (src) => [...src, ...iface, ...s.port._matchArgs(), '-j', s.chain]) });
    }
    // exempt sources skip the counting; only admitted traffic reaches this chain
    for (const peer of s.exempt ?? []) {
      rs.addRule({ table: 'filter', chain: s.chain, slot: 50, owner: s.path, args: peerArgs(peer, fams, (src) => [...src, '-j', 'ACCEPT']) });
    }
    if (host.deployPass) {
      // the deploying client, listed by the deploy after it authenticated, is never counted
      // (the deploy lists its full address: the pass is checked per address, not per prefix)
      const pass = host.deployPass;
      rs.addRule({ table: 'filter', chain: s.chain, slot: 50, order: 1, owner: s.path, args: perFamily(fams, (f) => [...recentCheck(f, 'rcheck', pass.list, pass.seconds, undefined, false, FULL_PREFIX), '-j', 'ACCEPT']) });
    }
    if (s.mode === 'recent') {
      rs.noteGuardList({ list: s.list, v4Prefix: s.prefix?.[IpFamily.V4] ?? 32, v6Prefix: s.prefix?.[IpFamily.V6] ?? 64 });
      s.windows.forEach((w, i) => rs.addRule({
        table: 'filter',
        chain: s.chain,
        slot: 100,
        order: i,
        owner: s.path,
        args: perFamily(fams, (f: IpFamily) => [...recentCheck(f, 'rcheck', s.list, w.seconds, w.hits, s.matchTtl, s.prefix), '-j', 'DROP']),
      }));
      rs.addRule({ table: 'filter', chain: s.chain, slot: 900, owner: s.path, args: perFamily(fams, (f) => [...recentSet(f, s.list, s.prefix), '-j', 'ACCEPT']) });
    } else {
      rs.addRule({ table: 'filter', chain: s.chain, slot: 100, owner: s.path, args: perFamily(fams, (f) => [...hashlimit('above', s.perMinute, s.burst, s.list, f, s.prefix), '-j', 'DROP']) });
      rs.addRule({ table: 'filter', chain: s.chain, slot: 900, owner: s.path, args: perFamily(fams, () => ['-j', 'ACCEPT']) });
    }
  }
}
