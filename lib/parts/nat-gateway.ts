import { Construct } from 'constructs';
import * as ipaddr from 'ipaddr.js';
import { FirewallPart } from '../constructs/firewall-part';
import { IpFamily } from '../iptables/family';
import { wholeNumberProblem } from '../iptables/kernel-limits';
import { markLibraryPart } from '../private/brand';
import { firstProblem, ValueProblem } from '../private/errors';
import { naturalCompare } from '../private/order';
import { LibraryRules } from '../rules/library-rules';
import { Match } from '../rules/match';
import { PartHost } from '../rules/part-host';
import { ChainRule, PartRules, SlottedRule } from '../rules/part-rules';
import { RuleSlot } from '../rules/slot';
import { RejectWith, Target } from '../rules/target';
import { ConnState } from '../values/conn-state';
import { DeclaredForward } from '../values/intent';
import { interfaceNameProblem, interfacesOverlap, overlapText } from '../values/interface-name';
import { Peer } from '../values/peer';
import { Port, Protocol } from '../values/port';

/**
 * A LAN behind a {@link NatGateway}.
 * @example { iface: 'eth0', cidr: '192.168.0.0/24', ipv6Cidr: '2001:db8:1::/64' }
 */
export interface LanNetwork {
  /** The gateway's interface on this LAN. */
  readonly iface: string;
  /** The LAN's IPv4 subnet (masqueraded out of the WAN). */
  readonly cidr: string;
  /**
   * The LAN's IPv6 subnet: forwarded without NAT, and only from this subnet.
   * @default - IPv6 from the LAN interface is forwarded whatever its source
   */
  readonly ipv6Cidr?: string;
}

/**
 * A port forward from the gateway's WAN side to a LAN host.
 * @example { port: Port.tcp(8000), to: '192.168.0.5', toPort: 80 }
 */
export interface PortForward {
  /** The port (or range) on the WAN side, TCP or UDP. */
  readonly port: Port;
  /** The LAN host's IPv4 address; must be inside one of the LANs. */
  readonly to: string;
  /**
   * The port on the LAN host.
   * @default - the same port
   */
  readonly toPort?: number;
  /**
   * Forward only connections from this IPv4 source (a partner's network, say);
   * others get no forward (the port stays closed on the WAN).
   * @default - from everyone
   * @example Peer.ipv4('198.51.100.0/24')
   */
  readonly from?: Peer;
}

/**
 * Properties of a {@link NatGateway}.
 * @example { wan: 'ppp0', lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }], portForwards: [{ port: Port.tcp(8000), to: '192.168.0.5', toPort: 80 }] }
 */
export interface NatGatewayProps {
  /** The WAN (Internet-facing) interface. */
  readonly wan: string;
  /** The LANs behind the gateway. */
  readonly lans: LanNetwork[];
  /** @default - none */
  readonly portForwards?: PortForward[];
  /**
   * A static WAN address to SNAT to, instead of MASQUERADE.
   * @default - MASQUERADE
   */
  readonly snat?: string;
}

/**
 * A NAT gateway: stateful FORWARD (`fw-interfaces`, `fw-open`), MASQUERADE
 * (or SNAT) of each LAN out of the WAN, DNAT port forwards, and stateful IPv6
 * forwarding without NAT. The host is marked as needing IP forwarding.
 *
 * @example
 * new NatGateway(host, 'nat', {
 *   wan: 'ppp0',
 *   lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }],
 *   portForwards: [{ port: Port.tcp(8000), to: '192.168.0.5', toPort: 80 }],
 * });
 */
export class NatGateway extends FirewallPart {
  private readonly spec: GatewaySettings;

  public constructor(scope: Construct, id: string, props: NatGatewayProps) {
    super(scope, id);
    markLibraryPart(this);
    const r = this._props;
    const p = r.props(props, 'NatGateway', true);
    const lans: Lan[] = r.list('lans', p.lans).map((raw, i) => {
      const l = r.obj(`lans[${i}]`, raw) ?? r.fail(`lans[${i}] is missing`);
      return {
        iface: r.reqStr(`lans[${i}].iface`, l.iface),
        cidr: Peer.ipv4(r.reqStr(`lans[${i}].cidr`, l.cidr)),
        ipv6Cidr: l.ipv6Cidr !== undefined ? Peer.ipv6(r.str(`lans[${i}].ipv6Cidr`, l.ipv6Cidr)!) : undefined,
      };
    });
    const forwards = r.list('portForwards', p.portForwards).map((raw, i) => {
      const f = r.obj(`portForwards[${i}]`, raw) ?? r.fail(`portForwards[${i}] is missing`);
      return {
        port: r.port(`portForwards[${i}].port`, f.port),
        to: r.reqStr(`portForwards[${i}].to`, f.to),
        toPort: f.toPort === undefined ? undefined : r.num(`portForwards[${i}].toPort`, f.toPort, NaN),
        from: f.from === undefined ? undefined : ipv4Only(r.peer(`portForwards[${i}].from`, f.from, [IpFamily.V4]), `portForwards[${i}].from`, (m, fix) => r.fail(m, fix)),
      };
    });
    this.spec = {
      wan: r.reqStr('wan', p.wan),
      lans,
      forwards,
      snat: r.str('snat', p.snat),
    };
    this._check(gatewayProblem(this.spec));
  }

  /**
   * Stateful FORWARD (`fw-interfaces` admits each LAN from its own subnet,
   * to the WAN only; `fw-open` only packets translated by a port forward), LAN sources arriving
   * on the WAN dropped, an icmp-host-unreachable refusal for the rest;
   * MASQUERADE (or SNAT) of each LAN out of the WAN and DNAT port forwards.
   */
  public firewallRules(host: PartHost): PartRules {
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
        // the LAN may go out to the WAN, from its own subnet only (any source when its IPv6 subnet is not given);
        // replies come back through the conntrack rule. Anything else (LAN to LAN, WAN to LAN) needs a part's declaration.
        lanRules.push({
          matches: [...(net ? [Match.source(net)] : []), Match.inInterface(lan.iface), Match.outInterface(s.wan)],
          target: Target.ACCEPT,
          family: f,
          key: `${net ? `-s ${net.cidr} ` : ''}-i ${lan.iface} -o ${s.wan}`,
        });
      }
      const translate = s.snat ? Target.snat(s.snat) : Target.masquerade();
      rules.push({ slot: RuleSlot.NAT_POSTROUTING, matches: [Match.source(lan.cidr), Match.outInterface(s.wan)], target: translate });
    }
    const openRules: Array<ChainRule & { key: string }> = [];
    for (const f of s.forwards) {
      const from = f.from ? [Match.source(f.from)] : [];
      rules.push({ slot: RuleSlot.NAT_PREROUTING, matches: [...from, wan, Match.port(f.port)], target: Target.dnat(f.to, f.toPort) });
      const inner = innerPort(f);
      openRules.push({
        matches: [...from, Match.destination(Peer.ipv4(f.to)), wan, Match.port(inner), Match.portForwarded()],
        target: Target.ACCEPT,
        family: IpFamily.V4,
        key: `${f.from ? `-s ${f.from.cidr} ` : ''}-d ${f.to}/32 -i ${s.wan} -p ${inner.protocol} -m ${inner.protocol} --dport ${inner.fromPort}`,
      });
    }
    const gateway: LibraryRules = {
      chains: [{ name: FW_INTERFACES, rules: byKey(lanRules) }, { name: FW_OPEN, rules: byKey(openRules) }],
      rules,
      forwarding: true,
      claims: [FW_INTERFACES, FW_OPEN].map((name) => ({ kind: 'chain', name, fix: 'A host takes one NatGateway: list every LAN in it.' })),
      forwards: [
        { anyProtocol: true, states: [ConnState.ESTABLISHED, ConnState.RELATED] },
        ...s.lans.flatMap((lan): DeclaredForward[] => [
          { anyProtocol: true, inInterface: lan.iface, outInterface: s.wan, source: lan.cidr },
          { anyProtocol: true, inInterface: lan.iface, outInterface: s.wan, source: lan.ipv6Cidr ?? Peer.anyIpv6() },
        ]),
        ...s.forwards.map((f): DeclaredForward => ({
          port: innerPort(f), destination: Peer.ipv4(f.to), inInterface: s.wan, source: f.from ?? Peer.anyIpv4(), portForwarded: true,
        })),
      ],
      refuses: s.lans.flatMap((lan) => [lan.cidr, ...(lan.ipv6Cidr ? [lan.ipv6Cidr] : [])].map((peer) => ({ peer, iface: s.wan }))),
      routes: s.lans.map((lan) => ({ family: IpFamily.V4, cidr: lan.cidr.cidr, iface: lan.iface })),
    };
    return gateway;
  }
}

/** The port a forward reaches on the LAN host. */
function innerPort(f: Forward): Port {
  return f.toPort !== undefined ? (f.port.protocol === Protocol.TCP ? Port.tcp(f.toPort) : Port.udp(f.toPort)) : f.port;
}

/** A validated LAN behind the gateway. */
interface Lan {
  readonly iface: string;
  /** IPv4 subnet (canonical). */
  readonly cidr: Peer;
  /** IPv6 subnet (canonical), when the LAN has one. */
  readonly ipv6Cidr?: Peer;
}

/** A validated port forward from the WAN to a LAN host. */
interface Forward {
  readonly port: Port;
  readonly to: string;
  readonly toPort?: number;
  /** Only from these sources (IPv4). @default everyone */
  readonly from?: Peer;
}

/** A gateway's checked settings. */
interface GatewaySettings {
  readonly wan: string;
  readonly lans: readonly Lan[];
  readonly forwards: readonly Forward[];
  /** Static WAN address for SNAT instead of MASQUERADE. */
  readonly snat?: string;
}

/** The gateway's chains. */
const FW_INTERFACES = 'fw-interfaces';
const FW_OPEN = 'fw-open';

/** Checks one IPv4 address (no prefix). */
function ipv4AddressProblem(what: string, value: string): ValueProblem | undefined {
  if (typeof value !== 'string' || !ipaddr.IPv4.isValidFourPartDecimal(value)) {
    return { message: `${what} ${JSON.stringify(value)} is not an IPv4 address`, fix: 'Write four decimal octets, e.g. 192.168.0.5.' };
  }
  return undefined;
}

/** What is wrong with a gateway's settings (each LAN, forward, and how they fit together). */
function gatewayProblem(spec: GatewaySettings): ValueProblem | undefined {
  const wanProblem = interfaceNameProblem(spec.wan);
  if (wanProblem) return { message: `wan: ${wanProblem.message}`, fix: wanProblem.fix };
  if (spec.lans.length === 0) return { message: 'lans is empty: a gateway needs at least one LAN', fix: "Add { iface: 'eth0', cidr: '192.168.0.0/24' }." };
  // every LAN valid on its own before any two are compared
  for (const [i, lan] of spec.lans.entries()) {
    const p = firstProblem(interfaceNameProblem(lan.iface), lan.cidr._problem(), lan.ipv6Cidr?._problem());
    if (p) return { message: `lans[${i}]: ${p.message}`, fix: p.fix };
  }
  for (const [i, lan] of spec.lans.entries()) {
    if (lan.iface === spec.wan) {
      return { message: `interface ${JSON.stringify(lan.iface)} is both the WAN and lans[${i}]`, fix: 'The WAN and each LAN need their own interface.' };
    }
    // by meaning: a pattern on one side that matches the other would forward the Internet inside
    if (interfacesOverlap(lan.iface, spec.wan)) {
      return {
        message: `lans[${i}].iface ${JSON.stringify(lan.iface)} and wan ${JSON.stringify(spec.wan)} can name the same interface (${overlapText(lan.iface, spec.wan)}): `
          + 'packets arriving from the WAN would be forwarded as if they came from the LAN',
        fix: 'Name the LAN and WAN interfaces so that neither pattern matches the other, e.g. lans: [{ iface: \'eth1\' }] with wan: \'eth0\'.',
      };
    }
    for (const [j, other] of spec.lans.entries()) {
      if (j <= i) continue;
      if (interfacesOverlap(lan.iface, other.iface)) {
        return {
          message: `lans[${i}].iface ${JSON.stringify(lan.iface)} and lans[${j}].iface ${JSON.stringify(other.iface)} can name the same interface (${overlapText(lan.iface, other.iface)})`,
          fix: 'Give each LAN an interface of its own that no other LAN\'s pattern matches.',
        };
      }
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

function byKey(rules: Array<ChainRule & { key: string }>): ChainRule[] {
  return [...rules].sort((a, b) => naturalCompare(a.key, b.key)).map(({ key: _key, ...r }) => r);
}

/** An IPv4 peer: port forwards are IPv4 (DNAT). */
function ipv4Only(peer: Peer, where: string, fail: (message: string, fix?: string) => never): Peer {
  if (!peer.hasFamily(IpFamily.V4) || peer.families.length !== 1) {
    fail(`${where}: ${peer} is not an IPv4 peer; port forwards translate IPv4 only`, "Use Peer.ipv4('198.51.100.0/24').");
  }
  return peer;
}
