import { ValueProblem } from '../private/errors';
import { Match, RecentAction } from '../rules/match';
import type { PartHost } from '../rules/part-host';
import type { ChainRule, PartRules, SlottedRule } from '../rules/part-rules';
import { RuleSlot } from '../rules/slot';
import { Target } from '../rules/target';
import { IpFamily } from '../iptables/family';
import { PartContribution, HostFirewallSpec, Opening } from '../firewall/skeleton';
import {
  chainNameProblem, hashlimitBurstProblem, hashlimitNameProblem, hitCountProblem, MAX_WINDOW_SECONDS, prefixLengthProblem,
  ratePerMinuteProblem, recentListProblem, windowSecondsProblem,
} from '../iptables/kernel-limits';
import { firstProblem, recentList, SourcePrefix } from '../iptables/spelling';
import { Peer } from '../values/peer';
import { Port, Protocol } from '../values/port';
import { naturalCompare, Ruleset } from '../rules/ruleset';

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
    if (s.mode === 'recent') {
      for (const f of host.families) rs.claim('recent list', recentList(f, s.list), s.path);
      rs.noteGuardList({ list: s.list, v4Prefix: s.prefix?.[IpFamily.V4] ?? 32, v6Prefix: s.prefix?.[IpFamily.V6] ?? 64 });
    } else {rs.claim('hashlimit table', s.list, s.path);}
  }

  public rules(host: PartHost): PartRules {
    const s = this.spec;
    const prefix = { ipv4PrefixLength: s.prefix?.[IpFamily.V4], ipv6PrefixLength: s.prefix?.[IpFamily.V6] };
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
    const exempt = [...(s.exempt ?? [])].sort((a, b) => naturalCompare(exemptKey(a), exemptKey(b)));
    for (const peer of exempt) chain.push({ matches: [Match.source(peer)], target: Target.ACCEPT });
    // the deploying client, listed by the deploy after it authenticated, is never counted
    const pass = host.deployPass();
    if (pass) chain.push({ matches: [pass], target: Target.ACCEPT });
    if (s.mode === 'recent') {
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
    return { chains: [{ name: s.chain, rules: chain }], rules: jumps };
  }
}

/** The text an exempt peer's rule sorts by (as the rules' own order within a slot). */
function exemptKey(p: Peer): string {
  return `${p.isAny ? '' : `-s ${p.cidr} `}-j ACCEPT`;
}
