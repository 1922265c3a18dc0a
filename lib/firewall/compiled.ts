/**
 * The compiled firewall: a host's skeleton and all its parts through the one
 * rule compiler, once, into an immutable object that rendering, the analysis,
 * the deploy bundle and cloud-init all read. Pure: no framework imports.
 */
import { HostFirewallSpec, hostSkeleton, TCP_CHAIN, UDP_CHAIN } from './skeleton';
import { IpFamily } from '../iptables/family';
import { renderIpsets } from '../iptables/ipset';
import { ruleFileName } from '../iptables/spelling';
import { RenderedFile, renderIptablesSave } from '../iptables/syntax';
import { firewallError } from '../private/errors';
import { byCodePoint } from '../private/order';
import { checkJumps, compilePart } from '../rules/compile';
import { LibraryRules } from '../rules/library-rules';
import { PartHost } from '../rules/part-host';
import { PartRules } from '../rules/part-rules';
import { GuardListNote, Ruleset } from '../rules/ruleset';
import { Declarations } from '../values/declarations';
import { OutboundPolicy } from '../values/options';

/** A part as the compiler asks it for its rules. */
export interface PartSource {
  /** The part's construct path (the owner of its rules). */
  readonly path: string;
  /** A part of this library (any copy): its LibraryRules extras are read. */
  readonly library: boolean;
  /** The part's rules for its host. */
  firewallRules(host: PartHost): PartRules;
}

/** A route the rules imply (a NAT gateway's LAN behind an interface). */
export interface ImpliedRoute {
  readonly family: IpFamily;
  readonly cidr: string;
  readonly iface: string;
}

/** One host's firewall, compiled once: everything downstream reads this. */
export interface CompiledFirewall {
  /** The host's construct path. */
  readonly path: string;
  /** The families the host renders. */
  readonly families: readonly IpFamily[];
  /** Each family's rule file, with the owner of each line. */
  readonly files: Readonly<Partial<Record<IpFamily, RenderedFile>>>;
  /** The `ipset restore` text of the host's sets, when it has any. */
  readonly ipsets?: string;
  /** The names of the host's sets. */
  readonly setNames: readonly string[];
  /** What the machine must provide (`ipv4-forwarding`, ...). */
  readonly requirements: readonly string[];
  /** The brute-force guards' recent lists. */
  readonly guardLists: readonly GuardListNote[];
  /** Every chain the firewall declares, by name. */
  readonly chains: readonly string[];
  /** What every part (the skeleton included) declared. */
  readonly declarations: Declarations;
  /** Routes the parts imply (for evaluating port forwards). */
  readonly routes: readonly ImpliedRoute[];
}

/** How many firewalls were compiled in this process (a test counts them). */
export const compileStats = { count: 0 };

/** Compiles a host: its skeleton, then its parts in path order, all through the same compiler. */
export function compileFirewall(spec: HostFirewallSpec, parts: readonly PartSource[]): CompiledFirewall {
  compileStats.count++;
  const fams = spec.families;
  const owner = spec.path;
  const rs = new Ruleset({ comments: spec.ruleComments === true });
  rs.declareChain({ table: 'filter', name: 'INPUT', policy: 'DROP', families: fams, owner });
  rs.declareChain({ table: 'filter', name: 'FORWARD', policy: 'DROP', families: fams, owner });
  rs.declareChain({ table: 'filter', name: 'OUTPUT', policy: spec.outboundPolicy === OutboundPolicy.DROP ? 'DROP' : 'ACCEPT', families: fams, owner });
  rs.declareChain({ table: 'filter', name: TCP_CHAIN, families: fams, owner });
  rs.declareChain({ table: 'filter', name: UDP_CHAIN, families: fams, owner });
  // the parts' rules; when one of them asks for forwarding, the host routes packets and the
  // parts are asked again knowing it (a blocklist then blocks forwarded packets too)
  const sorted = [...parts].sort((a, b) => byCodePoint(a.path, b.path));
  let answers = sorted.map((part) => askPart(part, PartHost._of(spec)));
  const forwards = answers.some((r) => r && typeof r === 'object' && r.forwarding === true);
  const info = { ...spec, forwards };
  if (forwards) answers = sorted.map((part) => askPart(part, PartHost._of(info)));
  compilePart(rs, fams, owner, hostSkeleton(info), { library: true, skeleton: true });
  const routes: ImpliedRoute[] = [];
  sorted.forEach((part, i) => {
    compilePart(rs, fams, part.path, answers[i], { library: part.library });
    if (part.library) routes.push(...((answers[i] as LibraryRules).routes ?? []));
  });
  checkJumps(rs);

  const files: Partial<Record<IpFamily, RenderedFile>> = {};
  for (const family of fams) {
    const header = `cdktf-iptables: ${ruleFileName(family)} of ${printable(spec.path)}. Generated; edit the cdktf program, not this file.`;
    try {
      files[family] = renderIptablesSave(family, rs.ordered(family), { header });
    } catch (e) {
      if ((e as Error).name === 'FirewallConfigError') throw e;
      throw firewallError(spec.path, { message: `cannot render ${ruleFileName(family)}: ${(e as Error).message}`, fix: 'This is a bug of cdktf-iptables: please report it with the program.' });
    }
  }
  const sets = rs.sets.filter((s) => fams.includes(s.family));
  return Object.freeze({
    path: spec.path,
    families: [...fams],
    files,
    ipsets: sets.length > 0 ? renderIpsets(sets, `cdktf-iptables: ipset sets of ${printable(spec.path)}. Generated; edit the cdktf program, not this file.`) : undefined,
    setNames: sets.map((s) => s.name),
    requirements: rs.requirements,
    guardLists: rs.guardLists,
    chains: [...new Set(rs.declaredChains.map((c) => c.name))].sort(),
    declarations: rs.declarations,
    routes,
  });
}

/**
 * Asks a part for its rules. An exception there is the part's own error:
 * reported with its path (once) and its message, never as a library bug.
 */
function askPart(part: PartSource, host: PartHost): PartRules {
  try {
    return part.firewallRules(host);
  } catch (e) {
    const err = e as Error;
    if (err?.name === 'FirewallConfigError') throw err;
    throw firewallError(part.path, {
      message: `firewallRules() threw ${err?.name ?? 'an error'}: ${String(err?.message ?? err)}`,
      fix: 'The error comes from this part\'s own code: fix the part.',
    });
  }
}

/** A construct path for a comment line: no control characters. */
function printable(p: string): string {
  return p.replace(/[^\x20-\x7e]/g, '?');
}
