/**
 * What a host declared, read from its validated spec and its parts' specs
 * (the built-in parts; a part this module does not know declares nothing, so
 * anything it opens is reported).
 */
import { DeclaredIntent } from './intent';
import { RouteProps } from './types';
import { IpFamily } from '../iptables/family';
import { HostFirewallSpec, Opening } from '../firewall/skeleton';
import { BlocklistSpec } from '../parts/blocklist-rules';
import { BOGON_EXCEPTIONS_V4, BOGON_EXCEPTIONS_V6, BOGONS_V4, BOGONS_V6, BogonFilterSpec } from '../parts/bogon-filter-rules';
import { NatGatewaySpec } from '../parts/nat-gateway-rules';
import { SshGuardSpec } from '../parts/ssh-bruteforce-guard-rules';
import { Peer } from '../values/peer';

function cidrOf(peer: Peer | undefined, family: IpFamily): string | undefined | null {
  if (!peer || peer.isAny) return peer && !peer.hasFamily(family) ? null : undefined;
  return peer.hasFamily(family) ? peer.cidr : null;
}

function specOf<T>(part: unknown): T {
  return (part as { spec: T }).spec;
}

/*
 * Parts are recognised by the shape of their spec, not by class: a part made
 * by another copy of this library (two versions in one app) declares the same.
 */
type AnySpec = Record<string, unknown> | undefined;
const isGuard = (s: AnySpec) => !!s && typeof s.chain === 'string' && (s.mode === 'recent' || s.mode === 'hashlimit') && !!s.port;
const isBogonFilter = (s: AnySpec) => !!s && typeof s.iface === 'string' && Array.isArray(s.allow) && !('wan' in s);
const isNatGateway = (s: AnySpec) => !!s && typeof s.wan === 'string' && Array.isArray(s.lans) && Array.isArray(s.forwards);
const isBlocklist = (s: AnySpec) => !!s && typeof s.names === 'object' && Array.isArray(s.peers);

/** The declared intent of a host for `family`. */
export function declaredIntent(
  spec: HostFirewallSpec, family: IpFamily, partOpenings: readonly Opening[] = [], partTrusted: readonly string[] = [],
): DeclaredIntent {
  const openings: Array<DeclaredIntent['openings'][number]> = [];
  // the host's openings, and what parts declared they open (PartRules.opens)
  for (const o of [...spec.openings, ...partOpenings]) {
    const cidr = cidrOf(o.peer, family);
    if (cidr === null) continue;
    openings.push({ protocol: o.port.protocol, fromPort: o.port.fromPort, toPort: o.port.toPort, cidr, iface: o.iface, owner: o.owner });
  }
  const guards: Array<DeclaredIntent['guards'][number]> = [];
  const bogons: Array<DeclaredIntent['bogons'][number]> = [];
  const forwards: Array<DeclaredIntent['forwards'][number]> = [];
  const blocks = spec.blocks.map((b) => ({ cidr: cidrOf(b.peer, family), owner: b.owner }));
  for (const part of spec.parts ?? []) {
    const shape = specOf<AnySpec>(part);
    if (isBlocklist(shape)) {
      const s = specOf<BlocklistSpec>(part);
      blocks.push(...s.peers.map((p) => ({ cidr: cidrOf(p, family), owner: s.path })));
    }
    if (isGuard(shape)) {
      const s = specOf<SshGuardSpec>(part);
      guards.push({ protocol: s.port.protocol, port: s.port.fromPort, owner: s.path });
    } else if (isBogonFilter(shape)) {
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
    } else if (isNatGateway(shape) && family === IpFamily.V4) {
      const s = specOf<NatGatewaySpec>(part);
      for (const f of s.forwards) {
        forwards.push({
          protocol: f.port.protocol,
          fromPort: f.port.fromPort,
          toPort: f.port.toPort,
          wan: s.wan,
          spoofed: s.lans.map((l) => l.cidr.cidr),
          from: f.from && !f.from.isAny ? f.from.cidr : undefined,
          owner: s.path,
        });
      }
    }
  }
  return {
    family,
    owner: spec.path,
    ping: spec.ping,
    trusted: [...spec.trustedInterfaces, ...partTrusted],
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
    if (isNatGateway(specOf<AnySpec>(part))) {
      for (const lan of specOf<NatGatewaySpec>(part).lans) routes.push({ cidr: lan.cidr.cidr, iface: lan.iface });
    }
  }
  return routes;
}
