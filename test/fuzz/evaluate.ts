/**
 * A small evaluator of rendered filter-table INPUT for NEW TCP/UDP packets,
 * for the fuzz test's bulk cases: follows jumps and RETURNs through the
 * chains of the rendered file and gives the verdict. It knows exactly the
 * matches this library renders and throws on anything else (so a new match
 * cannot slip by unjudged). Stateful matches are read for a fresh source:
 * recent --rcheck/--update do not match (no history), --set matches,
 * hashlimit/limit under the rate (upto/limit match, above does not).
 * The raw and mangle tables only drop, so INPUT alone decides what is admitted.
 */
import * as ipaddr from 'ipaddr.js';

/** A NEW packet to the host. */
export interface Probe {
  readonly proto: 'tcp' | 'udp';
  readonly port: number;
  readonly src: string;
  readonly iface: string;
}

export type Chains = Map<string, { policy: string; rules: string[][] }>;

/** ipset sets by name: their CIDRs (from an ipset save/restore file). */
export type IpSets = Map<string, string[]>;

/** Parses an `ipset restore` file (`create NAME ...`, `add NAME CIDR`). */
export function parseIpsets(text: string | undefined): IpSets {
  const sets: IpSets = new Map();
  for (const line of (text ?? '').split('\n')) {
    const m = line.match(/^(create|add) (\S+)(?: (\S+))?/);
    if (!m) continue;
    if (m[1] === 'create') sets.set(m[2], []);
    else sets.get(m[2])!.push(m[3].includes('/') ? m[3] : `${m[3]}/${m[3].includes(':') ? 128 : 32}`);
  }
  return sets;
}

/** Splits an iptables-save line into arguments (double quotes with \\ escapes). */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]);
  return out;
}

/** The filter table of a rendered file. */
export function filterChains(text: string): Chains {
  const chains: Chains = new Map();
  let inFilter = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) inFilter = line === '*filter';
    if (!inFilter) continue;
    const decl = line.match(/^:(\S+) (\S+) /);
    if (decl) chains.set(decl[1], { policy: decl[2], rules: [] });
    if (line.startsWith('-A ')) {
      const args = splitArgs(line);
      chains.get(args[1])!.rules.push(args.slice(2));
    }
  }
  return chains;
}

const OPTION_ARITY: Record<string, number> = {
  '--ctstate': 1,
  '--comment': 1, // an owner's comment: matches everything
  '--dport': 1,
  '--tcp-flags': 2,
  '--set': 0,
  '--rcheck': 0,
  '--update': 0,
  '--seconds': 1,
  '--hitcount': 1,
  '--rttl': 0,
  '--name': 1,
  '--mask': 1,
  '--rsource': 0,
  '--hashlimit-upto': 1,
  '--hashlimit-above': 1,
  '--hashlimit-burst': 1,
  '--hashlimit-mode': 1,
  '--hashlimit-name': 1,
  '--hashlimit-srcmask': 1,
  '--limit': 1,
  '--limit-burst': 1,
  '--icmp-type': 1,
  '--icmpv6-type': 1,
  '--hl-eq': 1,
  '--reject-with': 1,
  '--log-prefix': 1,
  '--log-level': 1,
};

function inCidr(src: string, cidr: string): boolean {
  const [net, len] = ipaddr.parseCIDR(cidr);
  const a = ipaddr.parse(src);
  return a.kind() === net.kind() && a.match(net, len);
}

/** Whether a rule's matches hold for the probe; its target and the target's arguments. */
function match(rule: readonly string[], p: Probe, sets: IpSets): { ok: boolean; target?: string } {
  let ok = true;
  let target: string | undefined;
  for (let i = 0; i < rule.length; i++) {
    const a = rule[i];
    const v = rule[i + 1];
    switch (a) {
      case '-p': ok &&= v === p.proto; i++; break;
      case '-s': ok &&= inCidr(p.src, v); i++; break;
      case '-d': i++; break; // the host's own address: INPUT packets are for the host
      case '-i': ok &&= v.endsWith('+') ? p.iface.startsWith(v.slice(0, -1)) : p.iface === v; i++; break;
      case '-m': i++; break; // the options that follow say what to match
      case '-j': case '-g': target = v; i++; break;
      case '--ctstate': ok &&= v.split(',').includes('NEW'); i++; break;
      case '--dport': {
        const [lo, hi] = v.split(':').map(Number);
        ok &&= p.port >= lo && p.port <= (hi ?? lo);
        i++;
        break;
      }
      case '--match-set': {
        if (rule[i + 2] !== 'src') throw new Error(`evaluator: --match-set ${v} ${rule[i + 2]}`);
        const set = sets.get(v);
        if (!set) throw new Error(`evaluator: no ipset ${v}`);
        ok &&= set.some((c) => inCidr(p.src, c));
        i += 2;
        break;
      }
      case '--tcp-flags': ok &&= p.proto === 'tcp' && rule[i + 2] === 'SYN'; i += 2; break;
      case '--rcheck': case '--update': case '--hashlimit-above': case '--icmp-type': case '--icmpv6-type': case '--hl-eq':
        ok = false; i += OPTION_ARITY[a]; break;
      default:
        if (!(a in OPTION_ARITY)) throw new Error(`evaluator: unknown argument ${a} in ${rule.join(' ')}`);
        i += OPTION_ARITY[a];
    }
  }
  return { ok, target };
}

/** The verdict of filter INPUT for a NEW packet: ACCEPT, DROP or REJECT (`rules`: a file's text or its parsed filter chains). */
export function verdict(rules: string | Chains, p: Probe, sets: IpSets = new Map()): string {
  const chains = typeof rules === 'string' ? filterChains(rules) : rules;
  const run = (name: string, depth: number): string | undefined => {
    if (depth > 20) throw new Error('evaluator: jump loop');
    const chain = chains.get(name);
    if (!chain) throw new Error(`evaluator: no chain ${name}`);
    for (const rule of chain.rules) {
      const { ok, target } = match(rule, p, sets);
      if (!ok || target === undefined || target === 'LOG') continue;
      if (target === 'ACCEPT' || target === 'DROP' || target === 'REJECT') return target;
      if (target === 'RETURN') return 'RETURN';
      const r = run(target, depth + 1);
      if (r !== undefined && r !== 'RETURN') return r;
    }
    return undefined;
  };
  const r = run('INPUT', 0);
  return r === undefined || r === 'RETURN' ? chains.get('INPUT')!.policy : r;
}
