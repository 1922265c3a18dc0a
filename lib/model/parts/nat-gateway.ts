import * as ipaddr from 'ipaddr.js';
import { ValueProblem } from '../../private/errors';
import { IpFamily } from '../family';
import { PartContribution, HostFirewallSpec, perFamily } from '../host-firewall';
import { interfaceNameProblem } from '../interface-name';
import { firstProblem, wholeNumberProblem } from '../matches';
import { Peer } from '../peer';
import { Port, Protocol } from '../port';
import { Ruleset } from '../ruleset';

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

/** Slots of the FORWARD chain. */
export const ForwardSlot = {
  CONNTRACK: 100,
  INVALID: 150,
  ANTISPOOF: 200,
  DISPATCH: 800,
  FINAL: 900,
} as const;

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

  public prepare(rs: Ruleset, host: HostFirewallSpec): void {
    const s = this.spec;
    const owner = s.path;
    const fams = host.families;
    const v4 = [IpFamily.V4];
    rs.claim('chain', FW_INTERFACES, owner, 'A host takes one NatGateway: list every LAN in it.');
    rs.claim('chain', FW_OPEN, owner, 'A host takes one NatGateway: list every LAN in it.');
    rs.require('ipv4-forwarding');
    if (fams.includes(IpFamily.V6)) rs.require('ipv6-forwarding');
    for (const name of [FW_INTERFACES, FW_OPEN]) rs.declareChain({ table: 'filter', name, families: fams, owner });
    rs.declareChain({ table: 'nat', name: 'POSTROUTING', families: v4, owner });

    const fwd = (slot: number, order: number, args: Partial<Record<IpFamily, readonly string[]>>, chain = 'FORWARD') =>
      rs.addRule({ table: 'filter', chain, slot, order, owner, args });
    fwd(ForwardSlot.CONNTRACK, 0, perFamily(fams, () => ['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT']));
    fwd(ForwardSlot.INVALID, 0, perFamily(fams, () => ['-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP']));
    fwd(ForwardSlot.DISPATCH, 1, perFamily(fams, () => ['-j', FW_INTERFACES]));
    fwd(ForwardSlot.DISPATCH, 2, perFamily(fams, () => ['-j', FW_OPEN]));
    fwd(ForwardSlot.FINAL, 0, perFamily(fams, (f) => ['-j', 'REJECT', '--reject-with', f === IpFamily.V4 ? 'icmp-host-unreachable' : 'icmp6-adm-prohibited']));

    for (const lan of s.lans) {
      const nets: Array<[IpFamily, Peer | undefined]> = [[IpFamily.V4, lan.cidr], [IpFamily.V6, lan.ipv6Cidr]];
      for (const [f, net] of nets) {
        if (!fams.includes(f)) continue;
        // a LAN source arriving on the WAN is spoofed
        if (net) fwd(ForwardSlot.ANTISPOOF, 0, { [f]: ['-s', net.cidr, '-i', s.wan, '-j', 'DROP'] });
        // the LAN may go out, from its own subnet only (any source when its IPv6 subnet is not given)
        fwd(0, 0, { [f]: [...(net ? ['-s', net.cidr] : []), '-i', lan.iface, '-j', 'ACCEPT'] }, FW_INTERFACES);
      }
      rs.addRule({
        table: 'nat',
        chain: 'POSTROUTING',
        slot: 500,
        owner,
        args: { [IpFamily.V4]: ['-s', lan.cidr.cidr, '-o', s.wan, ...(s.snat ? ['-j', 'SNAT', '--to-source', s.snat] : ['-j', 'MASQUERADE'])] },
      });
    }

    for (const f of s.forwards) {
      const proto = f.port.protocol === Protocol.TCP ? 'tcp' : 'udp';
      const dest = f.toPort !== undefined ? `${f.to}:${f.toPort}` : f.to;
      rs.addRule({
        table: 'nat',
        chain: 'PREROUTING',
        slot: 500,
        owner,
        args: { [IpFamily.V4]: ['-i', s.wan, ...f.port._matchArgs(), '-j', 'DNAT', '--to-destination', dest] },
      });
      const innerPort = f.toPort !== undefined ? (proto === 'tcp' ? Port.tcp(f.toPort) : Port.udp(f.toPort)) : f.port;
      fwd(0, 0, { [IpFamily.V4]: ['-d', `${f.to}/32`, '-i', s.wan, ...innerPort._matchArgs(), '-m', 'conntrack', '--ctstate', 'DNAT', '-j', 'ACCEPT'] }, FW_OPEN);
    }
  }
}
