/**
 * What changes for the packets when one ruleset replaces another: per path
 * (to the host, through it, from it), the packets the old rules may admit
 * and the new ones do not, and the other way round, by packet-set
 * arithmetic over every field, in words.
 */
import { PacketGroup, PacketWords } from './describe';
import { InterfaceSpace } from './interfaces';
import { PathName, PathWalker } from './paths';
import { Box, Dim, point, setSubtract, span, STATE_VALUES, universe, withField } from './space';
import { IpFamily } from '../iptables/family';
import { parseIpsets, ParsedRuleset, parseRuleset, RuleNote } from '../iptables/parse';
import { bitsOf } from '../values/prefix';

/** One ruleset to compare: its iptables-save text and the ipset sets it matches. */
export interface ComparedRuleset {
  readonly text: string;
  /** `ipset save` text of the sets its rules match. */
  readonly ipsets?: string;
}

/** The difference on one path. */
export interface PathDifference {
  readonly path: PathName;
  /** Packets the old rules may admit and the new ones refuse. */
  readonly closed: PacketGroup[];
  /** Packets the new rules admit and the old ones refused. */
  readonly opened: PacketGroup[];
}

/** The difference between two rulesets of one family. */
export interface RulesetDifference {
  readonly family: IpFamily;
  readonly paths: PathDifference[];
  /** Rules of either ruleset read only in part (their packets count as maybe admitted). */
  readonly notes: Array<RuleNote & { readonly which: 'before' | 'after' }>;
  /** Whether both admit the same packets on every path. */
  readonly same: boolean;
}

const PATHS: readonly PathName[] = ['input', 'forward', 'output'];

/**
 * Compares what `before` and `after` admit, per path. A rule whose outcome
 * cannot be decided offline counts both ways (its packets may be admitted).
 * @throws when either text is not iptables-save text
 */
export function compareRulesets(family: IpFamily, before: ComparedRuleset, after: ComparedRuleset): RulesetDifference {
  const parsed = [before, after].map((r) => parseRuleset(family, r.text, { lenient: true }));
  const sets = [before, after].map((r) => parseIpsets(family, r.ipsets ?? ''));
  const space = new InterfaceSpace([...PathWalker.interfaceTokens(parsed[0]), ...PathWalker.interfaceTokens(parsed[1])]);
  const walkers = parsed.map((p: ParsedRuleset, i) => new PathWalker(p, sets[i], space));
  const words = new PacketWords(family, space);
  // packets neither ruleset can produce are left out: untracked ones without a NOTRACK (but IPv6
  // neighbour discovery, which conntrack never tracks), translated ones without a DNAT
  const targets = new Set(parsed.flatMap((p) => [...p.tables.values()]
    .flatMap((t) => [...t.chains.values()].flatMap((c) => c.rules.map((r) => r.target.kind)))));
  const impossible: Box[] = [];
  const any = universe(bitsOf(family), space.size);
  if (!targets.has('NOTRACK')) {
    const untracked = withField(any, Dim.STATE, point(STATE_VALUES.UNTRACKED));
    if (family === IpFamily.V4) impossible.push(untracked);
    else impossible.push(withField(untracked, Dim.PROTO, span(0, 57)), withField(untracked, Dim.PROTO, span(59, 255)));
  }
  if (!targets.has('DNAT') && !targets.has('REDIRECT')) impossible.push(withField(any, Dim.DNAT, point(1)));
  const paths = PATHS.map((path): PathDifference => {
    const [was, now]: Box[][] = walkers.map((w) => setSubtract(w.walkPath(path).admitted, impossible));
    const say = (set: Box[]) => words.groups(path, set, { flags: true });
    return { path, closed: say(setSubtract(was, now)), opened: say(setSubtract(now, was)) };
  });
  return {
    family,
    paths,
    notes: [...parsed[0].notes.map((n) => ({ ...n, which: 'before' as const })), ...parsed[1].notes.map((n) => ({ ...n, which: 'after' as const }))],
    same: paths.every((p) => p.closed.length === 0 && p.opened.length === 0),
  };
}

const PATH_WORDS: Record<PathName, string> = {
  input: 'to the host',
  forward: 'routed through the host',
  output: 'sent by the host',
};

/** A difference as lines a person reads: "tcp 3306 on any interface from 10.0.0.0/8: open before, refused after". */
export function differenceText(d: RulesetDifference): string {
  const lines: string[] = [];
  const fam = d.family === IpFamily.V4 ? 'IPv4' : 'IPv6';
  for (const p of d.paths) {
    const say = (g: PacketGroup, verdict: string) => {
      const where = p.path === 'input' ? `on ${g.inInterfaces}` : p.path === 'output' ? `on ${g.outInterfaces}` : `${g.inInterfaces} -> ${g.outInterfaces}`;
      const to = g.destinations.join(' ');
      const addrs = [
        ...(p.path !== 'output' ? [`from ${g.sources.join(' ')}`] : []),
        ...(p.path !== 'input' || to !== 'any' ? [`to ${to}`] : []),
      ];
      const extra = [g.flags ? `tcp flags ${g.flags}` : '', g.states ? `state ${g.states}` : '', g.portForwarded ? 'port forwarded' : ''].filter(Boolean).join(', ');
      lines.push(`  ${g.what} ${where} ${addrs.join(' ')}${extra ? ` (${extra})` : ''}: ${verdict}`);
    };
    if (p.closed.length + p.opened.length === 0) continue;
    lines.push(`${fam}, ${PATH_WORDS[p.path]}:`);
    for (const g of p.closed) say(g, 'open before, refused after');
    for (const g of p.opened) say(g, 'refused before, open after');
  }
  if (lines.length === 0) lines.push(`${fam}: both admit the same packets on every path`);
  for (const n of d.notes) lines.push(`note (${n.which}, line ${n.line}): ${n.note} - its packets count as maybe admitted`);
  return `${lines.join('\n')}\n`;
}
