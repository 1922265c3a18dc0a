import * as fs from 'fs';
import { Construct } from 'constructs';
import { FirewallPart } from '../constructs/firewall-part';
import { blockWithSets } from '../firewall/skeleton';
import { IpFamily } from '../iptables/family';
import { IPSET_NAME_MAX, ipsetNameProblem } from '../iptables/kernel-limits';
import { markLibraryPart } from '../private/brand';
import { firewallError, ValueProblem } from '../private/errors';
import { LibraryRules } from '../rules/library-rules';
import { PartHost } from '../rules/part-host';
import { PartRules } from '../rules/part-rules';
import { Peer } from '../values/peer';

/**
 * Properties of a {@link Blocklist}.
 * @example { peers: [Peer.ipv4('203.0.113.0/24')], file: 'blocklists/feed.txt' }
 */
export interface BlocklistProps {
  /**
   * Peers to block (hosts or subnets, either family).
   * @default - none (give `file` then)
   */
  readonly peers?: Peer[];
  /**
   * A plain-text list read at synth: one address or CIDR a line, `#` starts a
   * comment, blank lines ignored; IPv6 entries contain `:`.
   * @default - none
   */
  readonly file?: string;
  /**
   * The ipset set name; the sets are `<setName>-v4` and `<setName>-v6`.
   * @default "bl-<construct id>"
   */
  readonly setName?: string;
}

/**
 * Blocks many peers at the cost of one hash lookup per packet: the peers go
 * into an ipset `hash:net` set per family, matched by one `-m set` DROP rule
 * per family where `block()` puts its drops. The sets are written as
 * `ipsets.rules` next to the rule files, restored before the rules at boot,
 * and swapped in live by a deploy.
 *
 * @example
 * new Blocklist(host, 'feed', { file: 'blocklists/firehol_level1.txt' });
 */
export class Blocklist extends FirewallPart {
  private readonly names: Record<IpFamily, string>;
  private readonly peers: Peer[];

  public constructor(scope: Construct, id: string, props: BlocklistProps = {}) {
    super(scope, id);
    markLibraryPart(this);
    const r = this._props;
    const p = r.props(props, 'Blocklist');
    const peers = this._checkPeers('peers', p.peers);
    // a file name, never a number (fs would read that file descriptor) or a token
    const file = r.str('file', p.file);
    if (file !== undefined) peers.push(...this.readList(file));
    const setName = r.str('setName', p.setName);
    this.names = setName !== undefined
      ? { [IpFamily.V4]: `${setName}-v4`, [IpFamily.V6]: `${setName}-v6` }
      : defaultSetNames(id);
    this.peers = dedupe(peers);
    this._check(blocklistProblem(this.names, this.peers));
  }

  /** How many peers the list blocks (duplicates once). */
  public get size(): number {
    return this.peers.length;
  }

  /** One `-m set` DROP rule per family in the INPUT_BLOCK slot, and the sets. */
  public firewallRules(host: PartHost): PartRules {
    const rules: LibraryRules = {
      ...blockWithSets(host, this.peers, this.names),
      refuses: this.peers.map((peer) => ({ peer })),
    };
    return rules;
  }

  private readList(file: string): Peer[] {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw firewallError(this.node.path, { message: `file ${JSON.stringify(file)} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, fix: 'Give a path relative to where synth runs, or an absolute one.' });
    }
    const out: Peer[] = [];
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.replace(/#.*/, '').trim();
      if (line === '') return;
      const cidr = line.includes('/') ? line : `${line}/${line.includes(':') ? 128 : 32}`;
      const peer = line.includes(':') ? Peer.ipv6(cidr) : Peer.ipv4(cidr);
      const problem = peer._problem();
      if (problem) throw firewallError(this.node.path, { message: `${file} line ${i + 1}: ${problem.message}`, fix: problem.fix });
      if (!peer.families.some((f) => this.host.families.includes(f))) {
        throw firewallError(this.node.path, { message: `${file} line ${i + 1}: ${line} is an IPv6 address, but the host has ipv6: false`, fix: 'Remove IPv6 lines or set ipv6: true.' });
      }
      out.push(peer);
    });
    return out;
  }
}

/** The default set names of a blocklist with construct id `id`: `bl-<id>-v4` / `-v6`. */
function defaultSetNames(id: string): Record<IpFamily, string> {
  const base = `bl-${id.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, IPSET_NAME_MAX - 3);
  return { [IpFamily.V4]: `${base}-v4`, [IpFamily.V6]: `${base}-v6` };
}

/** What is wrong with a blocklist, if anything. */
function blocklistProblem(names: Record<IpFamily, string>, peers: readonly Peer[]): ValueProblem | undefined {
  for (const name of Object.values(names)) {
    const p = ipsetNameProblem(name);
    if (p) return { message: p, fix: 'Give the blocklist a setName of letters, digits, _ or -.' };
  }
  if (peers.length === 0) return { message: 'blocks no peers', fix: 'Give peers, or a list file with at least one address.' };
  const any = peers.find((p) => p.isAny);
  if (any) return { message: `blocks ${any}, every source, SSH included: that locks you out`, fix: 'Block specific hosts or subnets.' };
  return undefined;
}

function dedupe(peers: Peer[]): Peer[] {
  const seen = new Set<string>();
  return peers.filter((p) => (seen.has(p.cidr) ? false : (seen.add(p.cidr), true)));
}
