import { ValueProblem } from '../../private/errors';
import { IpFamily } from '../family';
import { FinalOrder, PartContribution, HostFirewallSpec, peerArgs, perFamily, REJECT_WITH, RuleId, TCP_CHAIN, UDP_CHAIN } from '../host-firewall';
import { prefixLengthProblem, windowSecondsProblem } from '../kernel-limits';
import { firstProblem, recentCheck, recentList, recentSet, SourcePrefix } from '../matches';
import { ClosedPortResponse } from '../options';
import { Peer } from '../peer';
import { Ruleset } from '../ruleset';
import { InputSlot, ServiceSlot } from '../slots';

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

  public prepare(rs: Ruleset, host: HostFirewallSpec): void {
    const s = this.spec;
    const fams = host.families;
    const reject = host.closedPortResponse === ClosedPortResponse.REJECT;
    const protocols = [
      ...(s.tcp ? [{ proto: 'tcp' as const, chain: TCP_CHAIN, list: TCP_TRAP_LIST, order: FinalOrder.TCP, id: RuleId.FINAL_TCP }] : []),
      ...(s.udp ? [{ proto: 'udp' as const, chain: UDP_CHAIN, list: UDP_TRAP_LIST, order: FinalOrder.UDP, id: RuleId.FINAL_UDP }] : []),
    ];
    for (const p of protocols) {
      for (const f of fams) rs.claim('recent list', recentList(f, p.list), s.path, 'A host takes one PortScanTrap: remove one of them.');
      const verdict = (f: IpFamily) => (reject ? [...REJECT_WITH[p.proto][f]] : ['-j', 'DROP']);
      // top of the service chain: a listed source is refused (and stays listed while it keeps trying)
      rs.addRule({
        table: 'filter',
        chain: p.chain,
        slot: ServiceSlot.TRAP,
        owner: s.path,
        args: perFamily(fams, (f) => ['-p', p.proto, ...recentCheck(f, 'update', p.list, s.seconds, undefined, false, s.prefix), ...verdict(f)]),
      });
      // exempt peers are refused without being listed
      for (const peer of s.exempt) {
        rs.addRule({
          table: 'filter',
          chain: 'INPUT',
          slot: InputSlot.FINAL,
          order: p.order - 1,
          owner: s.path,
          args: peerArgs(peer, fams, (src, f) => [...src, '-p', p.proto, ...verdict(f)]),
        });
      }
      // the final refusal lists the source
      rs.addRule({
        table: 'filter',
        chain: 'INPUT',
        slot: InputSlot.FINAL,
        order: p.order,
        owner: s.path,
        replaces: reject ? p.id : undefined,
        args: perFamily(fams, (f) => ['-p', p.proto, ...recentSet(f, p.list, s.prefix), ...verdict(f)]),
      });
    }
  }
}
