/**
 * The forwarded and outbound sections of a reachability report: the new
 * connections a host routes and sends, from the same packet-set walk the
 * intent check uses, in words.
 */
import { PacketWords } from './describe';
import { Engine } from './engine';
import { InterfaceSpace } from './interfaces';
import { PathName, PathWalker } from './paths';
import { Box, Dim, narrow, point, setIntersect, STATE_VALUES } from './space';
import { PathEntry, Reach } from './types';

/** The forwarded and outbound entries of a ruleset, and their text (empty when the host forwards nothing and filters nothing it sends). */
export function pathSections(engine: Engine): { forwarded?: PathEntry[]; outbound?: PathEntry[]; text: string } {
  const space = new InterfaceSpace(PathWalker.interfaceTokens(engine.rules));
  const walker = new PathWalker(engine.rules, engine.sets, space);
  const words = new PacketWords(engine.rules.family, space);
  const newOnly = (boxes: Box[]) => boxes.flatMap((b) => { const n = narrow(b, Dim.STATE, point(STATE_VALUES.NEW)); return n ? [n] : []; });
  const section = (path: PathName): PathEntry[] => {
    const r = walker.walkPath(path);
    const admitted = newOnly(r.admitted);
    const refused = newOnly(r.refused);
    const entries = words.groups(path, admitted).map((g): PathEntry => ({
      protocol: g.protocol,
      what: g.what,
      ports: g.ports,
      inInterfaces: star(g.inInterfaces),
      outInterfaces: star(g.outInterfaces),
      reach: setIntersect(g.boxes, refused).length > 0 ? Reach.GUARDED : Reach.OPENED,
      sources: g.sources,
      destinations: g.destinations,
      portForwarded: g.portForwarded,
    }));
    return entries.sort(byLine);
  };
  const forward = walker.walkPath('forward');
  const forwarded = newOnly(forward.admitted).length > 0 ? section('forward') : undefined;
  const out = walker.walkPath('output');
  const outbound = newOnly(out.refused).length > 0 ? section('output') : undefined;
  const lines: string[] = [];
  if (forwarded) {
    lines.push(
      '# forwarded: new connections routed through the host, by protocol, port, arrival -> leaving interface (* = any); anything else is refused or dropped',
      ...forwarded.map((e) => row(e.what, `${e.inInterfaces} -> ${e.outInterfaces}`, e.reach, `from ${e.sources.join(' ')} to ${e.destinations.join(' ')}${e.portForwarded ? ' (port forwarded)' : ''}`)),
    );
  }
  if (outbound) {
    lines.push(
      '# outbound: new connections and packets the host sends, by protocol, port and leaving interface (* = any); anything else is refused or dropped',
      ...outbound.map((e) => row(e.what, `on ${e.outInterfaces}`, e.reach, `to ${e.destinations.join(' ')}`)),
    );
  }
  return { forwarded, outbound, text: lines.length ? `${lines.join('\n')}\n` : '' };
}

function star(ifaces: string): string {
  return ifaces === 'any interface' ? '*' : ifaces.replace(/^any interface but /, '* but ');
}

const PROTOCOL_ORDER = ['all', 'tcp', 'udp', 'icmp', 'ipv6-icmp', 'other'];

function byLine(a: PathEntry, b: PathEntry): number {
  const start = (e: PathEntry) => (e.ports === '-' ? 0 : Number(e.ports.split(/[-,]/)[0]));
  const key = (e: PathEntry) => `${e.inInterfaces}\u0000${e.outInterfaces}\u0000${e.sources.join(' ')}\u0000${e.destinations.join(' ')}`;
  return PROTOCOL_ORDER.indexOf(a.protocol) - PROTOCOL_ORDER.indexOf(b.protocol) || start(a) - start(b)
    || (a.what < b.what ? -1 : a.what > b.what ? 1 : 0) || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

function row(what: string, where: string, reach: Reach, rest: string): string {
  const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
  return [pad(what, 18), pad(where, 16), pad(reach, 8), rest].join(' ').trimEnd();
}
