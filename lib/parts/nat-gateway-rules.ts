import * as ipaddr from 'ipaddr.js';
import { ConnState } from '../analysis/types';
import { ValueProblem } from '../private/errors';
import { Match } from '../rules/match';
import type { PartHost } from '../rules/part-host';
import type { ChainRule, PartRules, SlottedRule } from '../rules/part-rules';
import { RuleSlot } from '../rules/slot';
import { RejectWith, Target } from '../rules/target';
import { IpFamily } from '../iptables/family';
import { PartContribution } from '../firewall/skeleton';
import { interfaceNameProblem } from '../values/interface-name';
import { firstProblem, wholeNumberProblem } from '../iptables/spelling';
import { Peer } from '../values/peer';
import { Port, Protocol } from '../values/port';
import { naturalCompare, Ruleset } from '../rules/ruleset';

/** A validated LAN behind the gateway. */
export interface Lan {
  readonly iface: string;
  /** IPv4 subnet (canonical). */
  readonly cidr: Peer;
  /** IPv6 subnet (canonical), when the LAN has one. */
  readonly ipv6Cidr?: Peer;
}

/** A validated port forward from the WAN to a LAN host. */
export interface Forward {
  readonly port: Port;
  readonly to: string;
  readonly toPort?: number;
  /** Only from these sources (IPv4). @default everyone */
  readonly from?: Peer;
}

/** A validated NAT gateway. */
export interface NatGatewaySpec {
  readonly path: string;
  readonly wan: string;
  readonly lans: readonly Lan[];
  readonly forwards: readonly Forward[];
  /** Static WAN address for SNAT instead of MASQUERADE. */
  readonly snat?: string;
}

/** Chain names of the seed. */
export const FW_INTERFACES = 'fw-interfaces';
export const FW_OPEN = 'fw-open';

/** Checks one IPv4 address (no prefix). */
export function ipv4AddressProblem(what: string, value: string): ValueProblem | undefined {
  if (typeof value !== 'string' || !ipaddr.IPv4.isValidFourPartDecimal(value)) {
    return { message: `${what} ${JSON.stringify(value)} is not an IPv4 address`, fix: 'Write four decimal octets, e.g. 192.168.0.5.' };
  }
  return undefined;
}

/** What is wrong with a gateway's settings (each LAN, forward, and how they fit together). */
export function natGatewayProblem(spec: NatGatewaySpec): ValueProblem | undefined {
  const wanProblem = interfaceNameProblem(spec.wan);
  if (wanProblem) return { message: `wan: ${wanProblem.message}`, fix: wanProblem.fix };
  if (spec.lans.length === 0) return { message: 'lans is empty: a gateway needs at least one LAN', fix: "Add { iface: 'eth0', cidr: '192.168.0.0/24' }." };
  for (const [i, lan] of spec.lans.entries()) {
    const p = firstProblem(interfaceNameProblem(lan.iface), lan.cidr._problem(), lan.ipv6Cidr?._problem());
    if (p) return { message: `lans[${i}]: ${p.message}`, fix: p.fix };
    if (lan.iface === spec.wan) {
      return { message: `interface ${JSON.stringify(lan.iface)} is both the WAN and lans[${i}]`, fix: 'The WAN and each LAN need their own interface.' };
    }
    for (const [j, other] of spec.lans.entries()) {
      if (j <= i) continue;
      if (lan.cidr._overlaps(other.cidr) || (lan.ipv6Cidr && other.ipv6Cidr && lan.ipv6Cidr._overlaps(other.ipv6Cidr))) {
        return { message: `lans[${i}] (${lan.cidr}) overlaps lans[${j}] (${other.cidr})`, fix: 'Give each LAN its own subnet.' };
      }
    }
  }
  if (spec.snat !== undefined) {
    const p = ipv4AddressProblem('snat', spec.snat);
    if (p) return p;
  }
  for (const [i, fwd] of spec.forwards.entries()) {
    const p = firstProblem(
      fwd.port._problem(),
      ipv4AddressProblem(`portForwards[${i}].to`, fwd.to),
      fwd.toPort !== undefined ? wholeNumberProblem(`portForwards[${i}].toPort`, fwd.toPort, 1, 65535) : undefined,
    );
    if (p) return { message: p.message.startsWith('portForwards') ? p.message : `portForwards[${i}]: ${p.message}`, fix: p.fix };
    if (fwd.port.isRange && fwd.toPort !== undefined) {
      return { message: `portForwards[${i}] forwards the range ${fwd.port} to one port ${fwd.toPort}`, fix: 'Leave toPort out to keep the ports, or forward a single port.' };
    }
    const target = Peer.ipv4(fwd.to);
    if (!spec.lans.some((l) => l.cidr._covers(target))) {
      return {
        message: `portForwards[${i}] forwards ${fwd.port} to ${fwd.to}, which is outside every LAN (${spec.lans.map((l) => l.cidr).join(', ')})`,
        fix: 'Forward to a host on one of the LANs.',
      };
    }
    for (const [j, other] of spec.forwards.entries()) {
      if (j < i && other.port._overlaps(fwd.port)) {
        return { message: `portForwards[${i}] (${fwd.port}) overlaps portForwards[${j}] (${other.port}) on the WAN`, fix: 'Each WAN port can be forwarded once.' };
      }
    }
  }
  return undefined;
}

/**
 * The seed's "Setting up a NAT gateway", hardened: FORWARD with conntrack
 * first, INVALID dropped, LAN sources arriving on the WAN dropped,
 * `fw-interfaces` admitting each LAN (from its own subnet only), `fw-open`
 * admitting only packets that were DNATed by a port forward, and an
 * icmp-host-unreachable refusal for the rest. IPv4 is masqueraded (or SNATed)
 * out of the WAN; IPv6 is forwarded statefully without NAT.
 */
export class NatGatewayContribution extends PartContribution<NatGatewaySpec> {

  public prepare(rs: Ruleset): void {
    for (const name of [FW_INTERFACES, FW_OPEN]) rs.claim('chain', name, this.spec.path, 'A host takes one NatGateway: list every LAN in it.');
  }

  public rules(host: PartHost): PartRules {
    const s = this.spec;
    const wan = Match.inInterface(s.wan);
    const rules: SlottedRule[] = [
      { slot: RuleSlot.FORWARD_CONNTRACK, matches: [Match.state([ConnState.RELATED, ConnState.ESTABLISHED])], target: Target.ACCEPT },
      { slot: RuleSlot.FORWARD_INVALID, matches: [Match.state([ConnState.INVALID])], target: Target.DROP },
      { slot: RuleSlot.FORWARD_ACCEPT, order: 1, target: Target.jump(FW_INTERFACES) },
      { slot: RuleSlot.FORWARD_ACCEPT, order: 2, target: Target.jump(FW_OPEN) },
      { slot: RuleSlot.FORWARD_REFUSE, target: Target.reject(RejectWith.HOST_UNREACHABLE), family: IpFamily.V4 },
      { slot: RuleSlot.FORWARD_REFUSE, target: Target.reject(RejectWith.ADMIN_PROHIBITED), family: IpFamily.V6 },
    ];
    // the chains' rules in the order of their text (as the rules of one slot sort)
    const lanRules: Array<ChainRule & { key: string }> = [];
    for (const lan of s.lans) {
      const nets: Array<[IpFamily, Peer | undefined]> = [[IpFamily.V4, lan.cidr], [IpFamily.V6, lan.ipv6Cidr]];
      for (const [f, net] of nets) {
        if (!host.families.includes(f)) continue;
        // a LAN source arriving on the WAN is spoofed
        if (net) rules.push({ slot: RuleSlot.FORWARD_ANTISPOOF, matches: [Match.source(net), wan], target: Target.DROP });
        // the LAN may go out, from its own subnet only (any source when its IPv6 subnet is not given)
        lanRules.push({ matches: [...(net ? [Match.source(net)] : []), Match.inInterface(lan.iface)], target: Target.ACCEPT, family: f, key: `${net ? `-s ${net.cidr} ` : ''}-i ${lan.iface}` });
      }
      const translate = s.snat ? Target.snat(s.snat) : Target.masquerade();
      rules.push({ slot: RuleSlot.NAT_POSTROUTING, matches: [Match.source(lan.cidr), Match.outInterface(s.wan)], target: translate });
    }
    const openRules: Array<ChainRule & { key: string }> = [];
    for (const f of s.forwards) {
      const from = f.from ? [Match.source(f.from)] : [];
      rules.push({ slot: RuleSlot.NAT_PREROUTING, matches: [...from, wan, Match.port(f.port)], target: Target.dnat(f.to, f.toPort) });
      const innerPort = f.toPort !== undefined ? (f.port.protocol === Protocol.TCP ? Port.tcp(f.toPort) : Port.udp(f.toPort)) : f.port;
      openRules.push({
        matches: [...from, Match.destination(Peer.ipv4(f.to)), wan, Match.port(innerPort), Match.portForwarded()],
        target: Target.ACCEPT,
        family: IpFamily.V4,
        key: `${f.from ? `-s ${f.from.cidr} ` : ''}-d ${f.to}/32 -i ${s.wan} -p ${innerPort.protocol} -m ${innerPort.protocol} --dport ${innerPort.fromPort}`,
      });
    }
    return {
      chains: [{ name: FW_INTERFACES, rules: byKey(lanRules) }, { name: FW_OPEN, rules: byKey(openRules) }],
      rules,
      forwarding: true,
    };
  }
}

function byKey(rules: Array<ChainRule & { key: string }>): ChainRule[] {
  return [...rules].sort((a, b) => naturalCompare(a.key, b.key)).map(({ key: _key, ...r }) => r);
}
