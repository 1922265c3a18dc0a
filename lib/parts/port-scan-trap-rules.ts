import { ValueProblem } from '../private/errors';
import { Match, RecentAction } from '../rules/match';
import type { PartHost } from '../rules/part-host';
import type { PartRules, SlottedRule } from '../rules/part-rules';
import { HostRule, RuleSlot } from '../rules/slot';
import { Target } from '../rules/target';
import { IpFamily } from '../iptables/family';
import { PartContribution, HostFirewallSpec } from '../firewall/skeleton';
import { prefixLengthProblem, windowSecondsProblem } from '../iptables/kernel-limits';
import { firstProblem, recentList, SourcePrefix } from '../iptables/spelling';
import { ClosedPortResponse } from '../values/options';
import { Peer } from '../values/peer';
import { Protocol } from '../values/port';
import { Ruleset } from '../rules/ruleset';

/** A validated port-scan trap. */
export interface PortScanTrapSpec {
  readonly path: string;
  readonly seconds: number;
  readonly tcp: boolean;
  readonly udp: boolean;
  readonly exempt: readonly Peer[];
  /** How sources are grouped per family. @default /32 and /64 */
  readonly prefix?: SourcePrefix;
}

/** The seed's recent-list names. */
export const TCP_TRAP_LIST = 'TCP-PORTSCAN';
export const UDP_TRAP_LIST = 'UDP-PORTSCAN';

/** What is wrong with a trap's settings, if anything. */
export function portScanTrapProblem(spec: PortScanTrapSpec): ValueProblem | undefined {
  return firstProblem(
    windowSecondsProblem('seconds', spec.seconds),
    !spec.tcp && !spec.udp ? { message: 'tcp and udp are both false: the trap would do nothing', fix: 'Leave one of them on, or remove the trap.' } : undefined,
    ...spec.exempt.map((p) => p._problem()),
    spec.prefix ? prefixLengthProblem('ipv4PrefixLength', spec.prefix[IpFamily.V4], false) : undefined,
    spec.prefix ? prefixLengthProblem('ipv6PrefixLength', spec.prefix[IpFamily.V6], true) : undefined,
  );
}

/**
 * The seed's "Tricking port scanners": a source refused at a closed port is
 * put on a recent list, and for `seconds` afterwards every new connection it
 * makes (to open ports too) is refused as if closed. Exempt peers are refused
 * without being listed, so spoofed probes cannot lock them out.
 */
export class PortScanTrapContribution extends PartContribution<PortScanTrapSpec> {

  private get protocols() {
    const s = this.spec;
    return [
      ...(s.tcp ? [{
        proto: Protocol.TCP, list: TCP_TRAP_LIST, trap: RuleSlot.TCP_TRAP, refuse: RuleSlot.INPUT_REFUSE_TCP, id: HostRule.REFUSE_TCP,
      }] : []),
      ...(s.udp ? [{
        proto: Protocol.UDP, list: UDP_TRAP_LIST, trap: RuleSlot.UDP_TRAP, refuse: RuleSlot.INPUT_REFUSE_UDP, id: HostRule.REFUSE_UDP,
      }] : []),
    ];
  }

  public prepare(rs: Ruleset, host: HostFirewallSpec): void {
    for (const p of this.protocols) {
      for (const f of host.families) rs.claim('recent list', recentList(f, p.list), this.spec.path, 'A host takes one PortScanTrap: remove one of them.');
    }
  }

  public rules(host: PartHost): PartRules {
    const s = this.spec;
    const reject = host.closedPortResponse === ClosedPortResponse.REJECT;
    const verdict = reject ? Target.reject() : Target.DROP;
    const prefix = { ipv4PrefixLength: s.prefix?.[IpFamily.V4], ipv6PrefixLength: s.prefix?.[IpFamily.V6] };
    const rules: SlottedRule[] = [];
    for (const p of this.protocols) {
      // top of the service chain: a listed source is refused (and stays listed while it keeps trying)
      const listed = Match.recent({ list: p.list, action: RecentAction.UPDATE, seconds: s.seconds, ...prefix });
      rules.push({ slot: p.trap, matches: [Match.protocol(p.proto), listed], target: verdict });
      // exempt peers are refused without being listed
      for (const peer of s.exempt) rules.push({ slot: p.refuse, order: -1, matches: [Match.source(peer), Match.protocol(p.proto)], target: verdict });
      // the final refusal lists the source
      rules.push({
        slot: p.refuse,
        replaces: reject ? p.id : undefined,
        matches: [Match.protocol(p.proto), Match.recent({ list: p.list, action: RecentAction.SET, ...prefix })],
        target: verdict,
      });
    }
    return { rules };
  }
}
