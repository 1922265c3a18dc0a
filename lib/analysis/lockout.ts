/**
 * Lock-outs refused at synth: on a host that is deployed (over SSH, or by
 * cloud-init, which has no probe to roll back with), no rule may drop or
 * reject the SSH the host declares open: its new connections and its
 * established ones, in either direction, in any table or chain. Drops of
 * sources a part refuses on purpose are left out, and so are drops that only
 * state decides (a guard's rate limit or recent list: the deploy pass keeps
 * the deploying client clear of those).
 */
import { InterfaceSpace } from './interfaces';
import { PathName, PathWalker, Refusal } from './paths';
import { Box, Dim, fromRanges, point, setIntersect, setSubtract, span, STATE_VALUES, withField } from './space';
import { ParsedRuleset, ParsedSet } from '../iptables/parse';
import { Declarations } from '../values/declarations';
import { bitsOf, lastOf } from '../values/prefix';

/** What the lock-out check reads. */
export interface LockoutInput {
  readonly rules: ParsedRuleset;
  readonly sets: ReadonlyMap<string, ParsedSet>;
  readonly declarations: Declarations;
  readonly lineOwners?: readonly string[];
  /** The SSH port the deploy uses. */
  readonly sshPort: number;
}

/** The rules (or policies) that can cut the deploy's SSH, as messages naming them and their owners. */
export function lockoutProblems(input: LockoutInput): string[] {
  const fam = input.rules.family;
  const d = input.declarations;
  const ssh = input.sshPort;
  const ifaceTokens = [
    ...PathWalker.interfaceTokens(input.rules),
    ...d.opens.flatMap((o) => (o.declared.iface ? [o.declared.iface] : [])),
    ...d.trusts.map((t) => t.declared),
    ...d.refuses.flatMap((r) => (r.declared.iface ? [r.declared.iface] : [])),
  ];
  const space = new InterfaceSpace(ifaceTokens);
  const refusals: Refusal[] = [];
  const walker = new PathWalker(input.rules, input.sets, space, undefined, (r) => refusals.push(r));
  const bits = bitsOf(fam);
  const addresses = (peer: Declarations['opens'][number]['declared']['peer']) => {
    if (!peer) return span(0n, (1n << BigInt(bits)) - 1n); // eslint-disable-line no-bitwise
    if (!peer.hasFamily(fam)) return undefined;
    const p = peer._prefix();
    return p ? span(p.base, lastOf(bits, p)) : span(0n, (1n << BigInt(bits)) - 1n); // eslint-disable-line no-bitwise
  };
  // where SSH comes from: the declared openings of the port (sources and interfaces), less what parts refuse on purpose
  const base = walker.baseOf('input');
  const from: Box[] = [];
  for (const o of d.opens) {
    const port = o.declared.port;
    if (!port || port.protocol !== 'tcp' || port.fromPort > ssh || port.toPort < ssh) continue;
    const src = addresses(o.declared.peer);
    if (!src) continue;
    from.push(withField(withField(base, Dim.SRC, src), Dim.IN, space.match(o.declared.iface)));
  }
  if (from.length === 0) return [];
  const refused = d.refuses.flatMap((r) => {
    const src = addresses(r.declared.peer);
    return src ? [withField(withField(base, Dim.SRC, src), Dim.IN, space.match(r.declared.iface))] : [];
  });
  const clients = setSubtract(from, refused);
  const tcp = (b: Box) => withField(b, Dim.PROTO, point(6));
  const synOnly = fromRanges(Array.from({ length: 256 }, (_, v) => v).filter((v) => (v & 0x17) === 0x02).map((v) => [v, v] as [number, number])); // eslint-disable-line no-bitwise
  const inbound = clients.flatMap((b) => [
    withField(withField(withField(tcp(b), Dim.DPORT, point(ssh)), Dim.STATE, point(STATE_VALUES.NEW)), Dim.FLAGS, synOnly),
    withField(withField(tcp(b), Dim.DPORT, point(ssh)), Dim.STATE, point(STATE_VALUES.ESTABLISHED)),
  ]);
  // the host's replies go back to the same clients, from the SSH port
  const outbound = clients.map((b) => withField(withField(withField(withField(tcp(walker.baseOf('output')), Dim.DST, b[Dim.SRC]), Dim.SPORT, point(ssh)),
    Dim.STATE, point(STATE_VALUES.ESTABLISHED)), Dim.OUT, space.all));
  const problems: string[] = [];
  const seen = new Set<string>();
  const check = (path: PathName, flow: Box[], what: string) => {
    refusals.length = 0;
    walker.walkPath(path, flow);
    for (const r of refusals) {
      if (r.conditional || setIntersect(r.boxes, flow).length === 0) continue;
      const rule = r.rules[r.rules.length - 1];
      const where = rule ? `[${rule.table} ${rule.chain} #${rule.index}: ${rule.text}]` : `the ${r.table} ${r.chain} policy (DROP)`;
      const owner = rule ? input.lineOwners?.[rule.line - 1] : undefined;
      const key = `${where}\u0000${what}`;
      if (seen.has(key)) continue;
      seen.add(key);
      problems.push(`lock-out: ${where}${owner ? ` (${owner})` : ''} can drop the deploy's SSH (${fam} ${what}): `
        + 'a deploy would cut its own connection, and a cloud-init host would boot unreachable. '
        + 'Remove or narrow the rule so that it spares SSH; to refuse some sources on purpose, declare them (refuses)');
    }
  };
  check('input', inbound, `tcp ${ssh} to the host, new and established`);
  check('output', outbound, `tcp replies from port ${ssh}`);
  return problems;
}
