/**
 * What a host declared, read from its validated spec and its parts' specs
 * (the built-in parts; a part this module does not know declares nothing, so
 * anything it opens is reported).
 */
import { DeclaredIntent } from './intent';
import { RouteProps } from './types';
import { IpFamily } from '../model/family';
import { HostFirewallSpec } from '../model/host-firewall';
import { BlocklistContribution, BlocklistSpec } from '../model/parts/blocklist';
import { BOGON_EXCEPTIONS_V4, BOGON_EXCEPTIONS_V6, BogonFilterContribution, BOGONS_V4, BOGONS_V6, BogonFilterSpec } from '../model/parts/bogon-filter';
import { NatGatewayContribution, NatGatewaySpec } from '../model/parts/nat-gateway';
import { SshGuardContribution, SshGuardSpec } from '../model/parts/ssh-bruteforce-guard';
import { Peer } from '../model/peer';

function cidrOf(peer: Peer | undefined, family: IpFamily): string | undefined | null {
  if (!peer || peer.isAny) return peer && !peer.hasFamily(family) ? null : undefined;
  return peer.hasFamily(family) ? peer.cidr : null;
}

function specOf<T>(part: unknown): T {
  return (part as { spec: T }).spec;
}

/** The declared intent of a host for `family`. */
export function declaredIntent(spec: HostFirewallSpec, family: IpFamily): DeclaredIntent {
  const openings: Array<DeclaredIntent['openings'][number]> = [];
  for (const o of spec.openings) {
    const cidr = cidrOf(o.peer, family);
    if (cidr === null) continue;
    openings.push({ protocol: o.port.protocol, fromPort: o.port.fromPort, toPort: o.port.toPort, cidr, iface: o.iface, owner: o.owner });
  }
  const guards: Array<DeclaredIntent['guards'][number]> = [];
  const bogons: Array<DeclaredIntent['bogons'][number]> = [];
  const forwards: Array<DeclaredIntent['forwards'][number]> = [];
  const blocks = spec.blocks.map((b) => ({ cidr: cidrOf(b.peer, family), owner: b.owner }));
  for (const part of spec.parts ?? []) {
    if (part instanceof BlocklistContribution) {
      const s = specOf<BlocklistSpec>(part);
      blocks.push(...s.peers.map((p) => ({ cidr: cidrOf(p, family), owner: s.path })));
    }
    if (part instanceof SshGuardContribution) {
      const s = specOf<SshGuardSpec>(part);
      guards.push({ protocol: s.port.protocol, port: s.port.fromPort, owner: s.path });
    } else if (part instanceof BogonFilterContribution) {
      const s = specOf<BogonFilterSpec>(part);
      bogons.push({
        iface: s.iface,
        drop: family === IpFamily.V4 ? BOGONS_V4 : BOGONS_V6,
        // the user's allow list, and the globally reachable exceptions inside special-purpose blocks
        allow: [
          ...s.allow.map((a) => cidrOf(a, family)).filter((c): c is string => typeof c === 'string'),
          ...(family === IpFamily.V4 ? BOGON_EXCEPTIONS_V4 : BOGON_EXCEPTIONS_V6),
        ],
        owner: s.path,
      });
    } else if (part instanceof NatGatewayContribution && family === IpFamily.V4) {
      const s = specOf<NatGatewaySpec>(part);
      for (const f of s.forwards) {
        forwards.push({
          protocol: f.port.protocol,
          fromPort: f.port.fromPort,
          toPort: f.port.toPort,
          wan: s.wan,
          spoofed: s.lans.map((l) => l.cidr.cidr),
          owner: s.path,
        });
      }
    }
  }
  return {
    family,
    owner: spec.path,
    ping: spec.ping,
    trusted: spec.trustedInterfaces,
    openings,
    guards,
    blocks: blocks.filter((b): b is { cidr: string; owner: string } => typeof b.cidr === 'string'),
    bogons,
    forwards,
  };
}

/** Routes a host's parts imply (a NAT gateway's LANs, IPv4), for routing packets after DNAT. */
export function impliedRoutes(spec: HostFirewallSpec, family: IpFamily): RouteProps[] {
  const routes: RouteProps[] = [];
  if (family !== IpFamily.V4) return routes;
  for (const part of spec.parts ?? []) {
    if (part instanceof NatGatewayContribution) {
      for (const lan of specOf<NatGatewaySpec>(part).lans) routes.push({ cidr: lan.cidr.cidr, iface: lan.iface });
    }
  }
  return routes;
}
