import { ConnState } from '../analysis/types';
import { firewallError, ValueProblem } from '../private/errors';
import { IcmpType, Match } from '../rules/match';
import type { PartRules } from '../rules/part-rules';
import { RuleSlot, Table } from '../rules/slot';
import { Target } from '../rules/target';
import { IpFamily } from '../iptables/family';
import { PartContribution, HostFirewallSpec } from '../firewall/skeleton';
import { hashlimitBurstProblem, hashlimitNameProblem, limitBurstProblem, MAX_LOG_PREFIX, prefixLengthProblem, ratePerMinuteProblem, ratePerSecondProblem, wholeNumberProblem } from '../iptables/kernel-limits';
import { firstProblem, SourcePrefix } from '../iptables/spelling';
import { Ruleset } from '../rules/ruleset';

/** A validated SYN-flood guard. */
export interface SynFloodSpec {
  readonly path: string;
  readonly perSecond: number;
  readonly burst: number;
  readonly perSource: boolean;
  readonly chain: string;
  /** How sources are grouped per family (perSource only). @default /32 and /64 */
  readonly prefix?: SourcePrefix;
}

/** What is wrong with a SYN-flood guard's settings. */
export function synFloodProblem(s: SynFloodSpec): ValueProblem | undefined {
  return firstProblem(
    ratePerSecondProblem('perSecond', s.perSecond),
    s.perSource ? hashlimitBurstProblem('burst', s.burst) : limitBurstProblem('burst', s.burst, (s.perSecond as number) * 60),
    hashlimitNameProblem('chain name', s.chain),
    s.prefix ? prefixLengthProblem('ipv4PrefixLength', s.prefix[IpFamily.V4], false) : undefined,
    s.prefix ? prefixLengthProblem('ipv6PrefixLength', s.prefix[IpFamily.V6], true) : undefined,
  );
}

/**
 * secure-server-iptables.txt's `--syn -m limit` rule, made safe: the seed's
 * rule ACCEPTs SYNs to any port under the limit (opening every port); here new
 * SYNs jump to a chain that RETURNs under the limit (on to the normal port
 * checks) and DROPs above it. Per source by default (hashlimit), so one
 * flooder cannot use up everyone's budget.
 */
export class SynFloodContribution extends PartContribution<SynFloodSpec> {

  public prepare(rs: Ruleset): void {
    rs.claim('chain', this.spec.chain, this.spec.path, 'A host takes one SynFloodGuard: remove one of them.');
  }

  public rules(): PartRules {
    const s = this.spec;
    const under = s.perSource
      ? Match.hashlimit({
        name: s.chain.toLowerCase(),
        perMinute: s.perSecond * 60,
        burst: s.burst,
        above: false,
        ipv4PrefixLength: s.prefix?.[IpFamily.V4],
        ipv6PrefixLength: s.prefix?.[IpFamily.V6],
      })
      : Match.limit(s.perSecond * 60, s.burst);
    return {
      chains: [{ name: s.chain, rules: [{ matches: [under], target: Target.RETURN }, { target: Target.DROP }] }],
      rules: [{ slot: RuleSlot.INPUT_GUARD, order: -10, matches: [Match.tcpSyn(), Match.state([ConnState.NEW])], target: Target.jump(s.chain) }],
    };
  }
}

/** A validated echo-request limit. */
export interface EchoLimitSpec {
  readonly path: string;
  readonly perSecond: number;
  readonly burst: number;
}

/** What is wrong with an echo limit's settings. */
export function echoLimitProblem(s: EchoLimitSpec): ValueProblem | undefined {
  return firstProblem(ratePerSecondProblem('perSecond', s.perSecond), limitBurstProblem('burst', s.burst, (s.perSecond as number) * 60));
}

/** Chain in mangle INPUT that rate-limits echo requests. */
export const ECHO_LIMIT_CHAIN = 'ECHO_LIMIT';

/**
 * Rate-limits echo requests to the host (stateful-firewall-iptables-howto.txt's
 * "icmp ... limit"). Only the first request of a ping session is NEW: the rest
 * are ESTABLISHED and pass the conntrack rule, so a limit on the NEW ping rule
 * (as the seeds suggest) never limits a flood. The limit therefore sits in the
 * mangle table's INPUT chain, which every packet for the host crosses, before
 * filter INPUT; requests above it are dropped (not answered with an error).
 */
export class EchoLimitContribution extends PartContribution<EchoLimitSpec> {

  public prepare(rs: Ruleset, host: HostFirewallSpec): void {
    const s = this.spec;
    if (!host.ping) {
      throw firewallError(s.path, { message: 'limits ping, but the host has ping: false, so no echo request is accepted to begin with', fix: 'Remove the limit or set ping: true.' });
    }
    rs.claim('chain', ECHO_LIMIT_CHAIN, s.path, 'A host takes one IcmpEchoLimit: remove one of them.');
  }

  public rules(): PartRules {
    const s = this.spec;
    return {
      chains: [{
        name: ECHO_LIMIT_CHAIN,
        table: Table.MANGLE,
        rules: [{ matches: [Match.limit(s.perSecond * 60, s.burst)], target: Target.RETURN }, { target: Target.DROP }],
      }],
      rules: [{ slot: RuleSlot.MANGLE_INPUT, matches: [Match.icmp(IcmpType.ECHO_REQUEST)], target: Target.jump(ECHO_LIMIT_CHAIN) }],
    };
  }
}

/** A validated drop logger. */
export interface DropLoggerSpec {
  readonly path: string;
  readonly prefix: string;
  readonly perMinute: number;
  readonly burst: number;
  readonly level: number;
}

export { MAX_LOG_PREFIX };

/** What is wrong with a drop logger's settings. */
export function dropLoggerProblem(s: DropLoggerSpec): ValueProblem | undefined {
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

/**
 * Logs (rate-limited) what is about to be refused, just before the final
 * REJECT/DROP rules of INPUT (secure-server-iptables.txt, "Checking Firewall
 * Logs"). LOG does not end the packet's way: the final rules still decide.
 */
export class DropLoggerContribution extends PartContribution<DropLoggerSpec> {

  public prepare(rs: Ruleset): void {
    rs.claim('drop logger', 'INPUT', this.spec.path, 'A host takes one DropLogger: remove one of them.');
  }

  public rules(): PartRules {
    const s = this.spec;
    const log = Target.log({ prefix: s.prefix, level: s.level });
    return { rules: [{ slot: RuleSlot.INPUT_LOG, matches: [Match.limit(s.perMinute, s.burst)], target: log }] };
  }
}
