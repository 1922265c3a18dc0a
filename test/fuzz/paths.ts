/**
 * The fuzz oracle on the FORWARD and OUTPUT paths: what a program declared
 * (a NAT gateway's LAN → WAN forwards and port forwards, an outbound policy
 * DROP's allow / allowTo / ping, OUTPUT_OPEN parts' egress), the probes that
 * test it, and the verdict of the rendered files on each probe
 * (`RulesetEvaluator`, the engine the kernel differential checks on every
 * path).
 */
import * as ipaddr from 'ipaddr.js';
import { DeclaredNat, Declared } from './programs';
import { Action, ConnState, IpFamily, PacketProps, Peer, Port, Protocol, RulesetEvaluator } from '../../lib';

/** The gateway's own WAN address, for port forwards (DNAT happens on the way in, to this address). */
export const GATEWAY_WAN = { [IpFamily.V4]: '203.0.113.1', [IpFamily.V6]: '2001:db8:ff::1' };
const OUTSIDERS: Record<IpFamily, string[]> = { [IpFamily.V4]: ['198.51.100.77', '203.0.113.9', '8.8.4.4'], [IpFamily.V6]: ['2001:db8:77::7', '2001:db8:2::9'] };

/** One packet routed through the host, or sent by it. */
export interface PathProbe {
  readonly path: 'forward' | 'output';
  readonly family: IpFamily;
  readonly proto: 'tcp' | 'udp' | 'icmp';
  readonly src: string;
  readonly dst: string;
  readonly port?: number;
  readonly inIface?: string;
  readonly outIface: string;
  readonly state: ConnState;
}

export function familyOf(addr: string): IpFamily {
  return addr.includes(':') ? IpFamily.V6 : IpFamily.V4;
}

export function peerHas(p: Peer, addr: string): boolean {
  const f = familyOf(addr);
  if (!p.hasFamily(f)) return false;
  if (p.isAny) return true;
  const [net, len] = ipaddr.parseCIDR(p.cidr);
  const a = ipaddr.parse(addr);
  return a.kind() === net.kind() && a.match(net, len);
}

/** An interface name a rule's `-i` / `-o` test names (a `+` pattern matches every name it starts). */
export function ifaceMatches(pattern: string, name: string): boolean {
  return pattern.endsWith('+') ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

/** A concrete interface a name or pattern stands for. */
export function concrete(iface: string): string {
  return iface.endsWith('+') ? `${iface.slice(0, -1)}7` : iface;
}

function portHas(port: Port, proto: string, n: number | undefined): boolean {
  return n !== undefined && port.protocol === proto && port.fromPort <= n && n <= port.toPort;
}

function first(p: Peer, family: IpFamily): string | undefined {
  if (!p.hasFamily(family)) return undefined;
  if (p.isAny) return family === IpFamily.V4 ? '203.0.113.200' : '2001:db8:abc::1';
  return ipaddr.parseCIDR(p.cidr)[0].toString();
}

function inside(p: Peer, family: IpFamily, offset: number): string | undefined {
  const a = first(p, family);
  if (!a) return undefined;
  const bytes = ipaddr.parse(a).toByteArray();
  bytes[bytes.length - 1] += offset;
  return ipaddr.fromByteArray(bytes).toString();
}

/** The inner port a port forward reaches. */
function innerPort(f: DeclaredNat['forwards'][number]): Port {
  if (f.toPort === undefined) return f.port;
  return f.port.protocol === 'tcp' ? Port.tcp(f.toPort) : Port.udp(f.toPort);
}

/** The LAN a port forward's target lives on. */
function lanOf(nat: DeclaredNat, addr: string) {
  return nat.lans.find((l) => peerHas(l.cidr, addr) || (l.ipv6Cidr !== undefined && peerHas(l.ipv6Cidr, addr)));
}

/**
 * What the program declared for a packet routed through the host: admitted,
 * and as what (a port forward's translation).
 */
export function declaredForward(d: Declared, p: PathProbe): { admitted: boolean; to?: string; toPort?: number } {
  const nat = d.nat;
  if (!nat || nat === 'unknown') return { admitted: false };
  if (p.state === ConnState.ESTABLISHED || p.state === ConnState.RELATED) return { admitted: true };
  if (p.state !== ConnState.NEW) return { admitted: false };
  // blocked peers are dropped in FORWARD too; a LAN's own source arriving on the WAN is refused on purpose
  if (d.blocks.some((b) => peerHas(b, p.src))) return { admitted: false };
  const onWan = ifaceMatches(nat.wan, p.inIface!);
  const lanSource = nat.lans.some((l) => peerHas(l.cidr, p.src) || (l.ipv6Cidr !== undefined && peerHas(l.ipv6Cidr, p.src)));
  if (onWan && lanSource) return { admitted: false };
  // each LAN out to the WAN, from its own subnet (IPv6: any source when its subnet is not given)
  for (const l of nat.lans) {
    if (!ifaceMatches(l.iface, p.inIface!) || !ifaceMatches(nat.wan, p.outIface)) continue;
    const net = p.family === IpFamily.V4 ? l.cidr : l.ipv6Cidr;
    if (net === undefined ? p.family === IpFamily.V6 : peerHas(net, p.src)) return { admitted: true };
  }
  // a port forward: arriving on the WAN for the gateway's address, from its `from`
  if (onWan && p.family === IpFamily.V4 && p.dst === GATEWAY_WAN[IpFamily.V4] && p.proto !== 'icmp') {
    for (const f of nat.forwards) {
      if (!portHas(f.port, p.proto, p.port) || (f.from && !peerHas(f.from, p.src))) continue;
      const toPort = f.toPort ?? p.port;
      if (!portHas(innerPort(f), p.proto, toPort)) continue;
      return { admitted: true, to: f.to, toPort };
    }
  }
  return { admitted: false };
}

/** What the program declared for a packet the host sends: may it leave? */
export function declaredOutput(d: Declared, p: PathProbe): boolean {
  const out = d.outbound;
  if (out === undefined) return true; // policy ACCEPT: everything leaves
  if (out === 'unknown') throw new Error('unknown outbound declaration');
  if (p.outIface === 'lo') return true;
  if (p.state === ConnState.ESTABLISHED || p.state === ConnState.RELATED) return true;
  if (p.proto === 'icmp') {
    // echo requests when ping is on; IPv6 neighbour discovery, router solicitation and MLD always
    if (out.ping && p.port === (p.family === IpFamily.V4 ? 8 : 128)) return true;
    if (p.family === IpFamily.V6 && [133, 135, 136, 143].includes(p.port!)) return true;
  }
  if (p.proto !== 'icmp' && out.allow.some((port) => portHas(port, p.proto, p.port))) return true;
  if (out.allowTo.some((peer) => peerHas(peer, p.dst))) return true;
  return d.egress.some((e) => peerHas(e.destination, p.dst) && p.proto !== 'icmp' && portHas(e.port, p.proto, p.port));
}

/** Probes of the FORWARD path: every arrival and leaving interface of the gateway, LAN and outside sources, port forwards. */
export function forwardProbes(d: Declared, family: IpFamily, rnd: () => number): PathProbe[] {
  const nat = d.nat as DeclaredNat;
  const ifaces = [...new Set([concrete(nat.wan), ...nat.lans.map((l) => concrete(l.iface)), 'eth9'])];
  const srcs = new Set(OUTSIDERS[family]);
  for (const l of nat.lans) {
    const net = family === IpFamily.V4 ? l.cidr : l.ipv6Cidr;
    for (const off of [2, 200]) { const a = net && inside(net, family, off); if (a) srcs.add(a); }
  }
  for (const b of d.blocks) { const a = first(b, family); if (a) srcs.add(a); }
  for (const f of nat.forwards) if (f.from) { const a = first(f.from, family); if (a) srcs.add(a); }
  const ports: Array<['tcp' | 'udp' | 'icmp', number]> = [['tcp', 80], ['udp', 53], ['icmp', family === IpFamily.V4 ? 8 : 128]];
  for (let i = 0; i < 2; i++) ports.push([rnd() < 0.5 ? 'tcp' : 'udp', 1 + Math.floor(rnd() * 65535)]);
  const out: PathProbe[] = [];
  const dstOn = (iface: string) => {
    const l = nat.lans.find((x) => ifaceMatches(x.iface, iface));
    const net = l && (family === IpFamily.V4 ? l.cidr : l.ipv6Cidr);
    return (net && inside(net, family, 5)) ?? (family === IpFamily.V4 ? '198.51.100.50' : '2001:db8:50::50');
  };
  for (const src of srcs) {
    for (const inIface of ifaces) {
      for (const outIface of ifaces) {
        if (outIface === inIface) continue;
        for (const [proto, port] of ports) {
          out.push({ path: 'forward', family, proto, src, dst: dstOn(outIface), port, inIface, outIface, state: ConnState.NEW });
        }
      }
    }
  }
  // replies of forwarded connections, and packets conntrack calls INVALID
  for (const state of [ConnState.ESTABLISHED, ConnState.INVALID]) {
    out.push({ path: 'forward', family, proto: 'tcp', src: OUTSIDERS[family][0], dst: dstOn(ifaces[1] ?? ifaces[0]), port: 443, inIface: ifaces[0], outIface: ifaces[1] ?? 'eth9', state });
  }
  // port forwards: to the gateway's WAN address, on and beside each forwarded port
  if (family === IpFamily.V4) {
    for (const f of nat.forwards) {
      const lan = lanOf(nat, f.to);
      if (!lan) continue;
      for (const src of srcs) {
        for (const port of [f.port.fromPort, f.port.toPort, f.port.toPort + 1]) {
          out.push({ path: 'forward', family, proto: f.port.protocol as 'tcp' | 'udp', src, dst: GATEWAY_WAN[family], port, inIface: concrete(nat.wan), outIface: concrete(lan.iface), state: ConnState.NEW });
        }
      }
    }
  }
  return out;
}

/** Probes of the OUTPUT path: to allowed peers and others, on allowed ports and others, ping, loopback, replies. */
export function outputProbes(d: Declared, family: IpFamily, rnd: () => number): PathProbe[] {
  const out = d.outbound;
  const dsts = new Set(OUTSIDERS[family]);
  const ports: Array<['tcp' | 'udp', number]> = [['tcp', 22], ['udp', 53]];
  const peers = [...(out && out !== 'unknown' ? out.allowTo : []), ...d.egress.map((e) => e.destination)];
  for (const p of peers) if (p instanceof Peer) { const a = first(p, family); if (a) dsts.add(a); }
  const allowed = [...(out && out !== 'unknown' ? out.allow : []), ...d.egress.map((e) => e.port)];
  for (const port of allowed) {
    if (!(port instanceof Port)) continue;
    ports.push([port.protocol as 'tcp' | 'udp', port.fromPort], [port.protocol as 'tcp' | 'udp', port.toPort], [port.protocol as 'tcp' | 'udp', port.toPort + 1]);
  }
  for (let i = 0; i < 2; i++) ports.push([rnd() < 0.5 ? 'tcp' : 'udp', 1 + Math.floor(rnd() * 65535)]);
  const src = family === IpFamily.V4 ? '198.51.100.1' : '2001:db8:1::1';
  const probes: PathProbe[] = [];
  for (const dst of dsts) {
    for (const [proto, port] of ports) probes.push({ path: 'output', family, proto, src, dst, port, outIface: 'eth0', state: ConnState.NEW });
    for (const type of family === IpFamily.V4 ? [8, 13] : [128, 135, 1]) probes.push({ path: 'output', family, proto: 'icmp', src, dst, port: type, outIface: 'eth0', state: ConnState.NEW });
  }
  const any = [...dsts][0];
  probes.push({ path: 'output', family, proto: 'tcp', src, dst: any, port: 5000, outIface: 'eth0', state: ConnState.ESTABLISHED });
  probes.push({ path: 'output', family, proto: 'tcp', src, dst: any, port: 5000, outIface: 'lo', state: ConnState.NEW });
  return probes;
}

/** The packet the evaluator judges for a probe. */
export function packetOf(p: PathProbe): PacketProps {
  const icmp = p.proto === 'icmp';
  return {
    family: p.family,
    protocol: icmp ? (p.family === IpFamily.V4 ? Protocol.ICMP : Protocol.ICMPV6) : p.proto === 'tcp' ? Protocol.TCP : Protocol.UDP,
    source: p.src,
    destination: p.dst,
    destinationPort: icmp ? undefined : p.port,
    icmpType: icmp ? p.port : undefined,
    state: p.state,
    tcpFlags: p.proto === 'tcp' ? (p.state === ConnState.NEW ? 'SYN' : 'ACK') : undefined,
    ttl: icmp && p.family === IpFamily.V6 && [133, 135, 136].includes(p.port!) ? 255 : 64,
    ...(p.path === 'output' ? { outbound: true, outInterface: p.outIface } : { inInterface: p.inIface, outInterface: p.outIface }),
  };
}

/** The rendered files' verdict on a probe: admitted, and as what. */
export function judged(rules: RulesetEvaluator, p: PathProbe): { admitted: boolean; to?: string; toPort?: number } {
  const v = rules.evaluate(packetOf(p));
  return { admitted: v.action === Action.ACCEPT, to: v.translatedDestination, toPort: v.translatedDestinationPort };
}

export function describeProbe(p: PathProbe): string {
  const what = p.proto === 'icmp' ? `icmp type ${p.port}` : `${p.proto}/${p.port}`;
  const where = p.path === 'forward' ? `${p.inIface} → ${p.outIface}` : `out ${p.outIface}`;
  return `${p.family} ${p.state} ${p.path} ${what} ${p.src} > ${p.dst} (${where})`;
}
