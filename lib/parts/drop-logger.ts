import { Construct } from 'constructs';
import { FirewallPart } from '../constructs/firewall-part';
import { limitBurstProblem, MAX_LOG_PREFIX, ratePerMinuteProblem, wholeNumberProblem } from '../iptables/kernel-limits';
import { markLibraryPart } from '../private/brand';
import { firstProblem, ValueProblem } from '../private/errors';
import { LibraryRules } from '../rules/library-rules';
import { Match } from '../rules/match';
import { PartHost } from '../rules/part-host';
import { PartRules } from '../rules/part-rules';
import { RuleSlot } from '../rules/slot';
import { Target } from '../rules/target';

/**
 * Properties of a {@link DropLogger}.
 * @example { prefix: 'fw-drop: ', perMinute: 5 }
 */
export interface DropLoggerProps {
  /** Log prefix (at most 29 characters). @default "iptables denied: " */
  readonly prefix?: string;
  /** Log lines per minute at most. @default 5 */
  readonly perMinute?: number;
  /** Burst above the rate. @default 5 */
  readonly burst?: number;
  /** Syslog level, 0 (emerg) to 7 (debug). @default 4 */
  readonly level?: number;
}

/**
 * Logs, rate-limited, what INPUT is about to refuse (before the final rules).
 * LOG does not end the packet's way: the final rules still decide.
 * @example new DropLogger(host, 'log', { prefix: 'fw-drop: ' });
 */
export class DropLogger extends FirewallPart {
  private readonly spec: { prefix: string; perMinute: number; burst: number; level: number };

  public constructor(scope: Construct, id: string, props: DropLoggerProps = {}) {
    super(scope, id);
    markLibraryPart(this);
    const r = this._props;
    const p = r.props(props, 'DropLogger');
    this.spec = {
      prefix: r.str('prefix', p.prefix, 'iptables denied: ')!,
      perMinute: r.num('perMinute', p.perMinute, 5),
      burst: r.num('burst', p.burst, 5),
      level: r.num('level', p.level, 4),
    };
    this._check(dropLoggerProblem(this.spec));
  }

  /** One rate-limited LOG rule in the INPUT_LOG slot. */
  public firewallRules(_host: PartHost): PartRules {
    const s = this.spec;
    const rules: LibraryRules = {
      rules: [{ slot: RuleSlot.INPUT_LOG, matches: [Match.limit(s.perMinute, s.burst)], target: Target.log({ prefix: s.prefix, level: s.level }) }],
      claims: [{ kind: 'drop logger', name: 'INPUT', fix: 'A host takes one DropLogger: remove one of them.' }],
    };
    return rules;
  }
}

/** What is wrong with a drop logger's settings. */
function dropLoggerProblem(s: { prefix: string; perMinute: number; burst: number; level: number }): ValueProblem | undefined {
  if (typeof s.prefix !== 'string' || s.prefix.length === 0 || s.prefix.length > MAX_LOG_PREFIX || !/^[A-Za-z0-9 _.:=()[\]#/-]+$/.test(s.prefix)) {
    return {
      message: `prefix ${JSON.stringify(s.prefix)} must be 1 to ${MAX_LOG_PREFIX} characters of letters, digits, spaces and _ . : = ( ) [ ] # / -`,
      fix: 'For example "fw-drop: ".',
    };
  }
  return firstProblem(
    ratePerMinuteProblem('perMinute', s.perMinute),
    limitBurstProblem('burst', s.burst, s.perMinute),
    wholeNumberProblem('level', s.level, 0, 7, 'Syslog levels run from 0 (emerg) to 7 (debug).'),
  );
}
