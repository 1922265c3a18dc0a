import { Engine, EngineState, EngineVerdict } from './engine';
import { pathSections } from './path-report';
import { cells, report } from './reachability';
import { EvaluatorOptions, PacketProps, ReachabilityReport, RulesetNote, TimedPacketProps, Verdict } from './types';
import { IpFamily } from '../iptables/family';
import { parseRuleset } from '../iptables/parse';
import { ruleFileName } from '../iptables/spelling';

/**
 * Judges packets against iptables-save text exactly as the kernel walks it:
 * the rules this library renders, or a live host's `iptables-save [-c]`
 * output (ufw, Docker, fail2ban, firewalld, Shorewall, hand-written). What
 * cannot be decided offline (the time of day, a socket's owner, a mark set
 * outside the ruleset, an extension it does not know) makes a verdict
 * `Action.DEPENDS` with the reason in `dependsOn`, and each rule read only in
 * part is listed in `notes`: nothing is guessed, and one unknown rule does
 * not stop the rest of the file from being read.
 *
 * @example
 * const rules = RulesetEvaluator.fromText(IpFamily.V4, fs.readFileSync('iptables.rules', 'utf8'));
 * rules.evaluate({ family: IpFamily.V4, protocol: Protocol.TCP, source: '198.51.100.7', destinationPort: 22 }).action; // Action.ACCEPT
 */
export class RulesetEvaluator {
  /**
   * Parses iptables-save text of `family`.
   * @param family the family of the text (iptables-save or ip6tables-save)
   * @param text the text, with or without counters
   * @param options the host's addresses and routes, when they matter
   * @throws naming the line when the text is not iptables-save text (no table, no COMMIT)
   */
  public static fromText(family: IpFamily, text: string, options?: EvaluatorOptions): RulesetEvaluator {
    return new RulesetEvaluator(family, text, options ?? {});
  }

  /** The family of the rules. */
  public readonly family: IpFamily;
  /**
   * The rules read only in part: what is not understood, per rule. Their
   * verdicts say "depends on".
   */
  public readonly notes: RulesetNote[];
  private readonly engine: Engine;
  private readonly name: string;

  private constructor(family: IpFamily, text: string, options: EvaluatorOptions) {
    this.family = family;
    const parsed = parseRuleset(family, text, { lenient: true });
    this.notes = parsed.notes.map((n) => ({ ...n }));
    this.engine = new Engine(parsed, options);
    this.name = ruleFileName(family);
  }

  /**
   * The verdict on one packet, with fresh rate limits and empty recent lists.
   * @example rules.evaluate({ family: IpFamily.V4, protocol: Protocol.UDP, source: '203.0.113.9', destinationPort: 53 })
   */
  public evaluate(packet: PacketProps): Verdict {
    return strip(this.engine.run(packet, 0, new EngineState()));
  }

  /**
   * The verdicts on a sequence of packets, carrying xt_recent lists, limit
   * and hashlimit buckets from packet to packet (`at` in seconds, never
   * decreasing).
   * @example rules.simulate([{ at: 0, ...ssh }, { at: 1, ...ssh }, { at: 2, ...ssh }, { at: 3, ...ssh }])[3].action // DROP
   */
  public simulate(packets: TimedPacketProps[]): Verdict[] {
    return this._simulate(packets).map(strip);
  }

  /**
   * Like simulate, with the counters each packet moved.
   * @internal
   */
  public _simulate(packets: readonly TimedPacketProps[]): EngineVerdict[] {
    const state = new EngineState();
    let last = -Infinity;
    return packets.map((p, i) => {
      if (typeof p.at !== 'number' || !Number.isFinite(p.at) || p.at < last) {
        throw new Error(`packet ${i}: at ${String(p.at)} must be a number no smaller than the one before (${last})`);
      }
      last = p.at;
      return this.engine.run(p, p.at, state);
    });
  }

  /**
   * Which sources reach which ports on which interfaces (new packets to the
   * host): opened, guarded, refused or silent.
   * @param title the report's first line (default "reachability of iptables.rules")
   * @example rules.reachability().text
   */
  public reachability(title?: string): ReachabilityReport {
    const input = report(this.family, cells(this.engine), title ?? `reachability of ${this.name}`);
    const paths = pathSections(this.engine);
    return { ...input, forwarded: paths.forwarded, outbound: paths.outbound, text: input.text + paths.text };
  }

  /** @internal */
  public get _engine(): Engine {
    return this.engine;
  }
}

function strip(v: EngineVerdict): Verdict {
  const { hits, ...rest } = v;
  void hits;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(rest)) if (val !== undefined) out[k] = val;
  return out as unknown as Verdict;
}
