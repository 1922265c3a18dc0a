import { firewallError, ValueProblem } from '../../private/errors';
import { IpFamily } from '../family';
import { PartContribution, HostFirewallSpec, perFamily } from '../host-firewall';
import { hashlimitBurstProblem, hashlimitNameProblem, limitBurstProblem, MAX_LOG_PREFIX, prefixLengthProblem, ratePerMinuteProblem, ratePerSecondProblem, wholeNumberProblem } from '../kernel-limits';
import { firstProblem, hashlimit, limit, SourcePrefix } from '../matches';
import { Ruleset } from '../ruleset';
import { InputSlot } from '../slots';

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

  public contribute(rs: Ruleset, host: HostFirewallSpec): void {
    const s = this.spec;
    const fams = host.families;
    rs.claim('chain', s.chain, s.path, 'A host takes one SynFloodGuard: remove one of them.');
    if (s.perSource) rs.claim('hashlimit table', s.chain.toLowerCase(), s.path);
    rs.declareChain({ table: 'filter', name: s.chain, families: fams, owner: s.path });
    rs.addRule({
      table: 'filter',
      chain: 'INPUT',
      slot: InputSlot.GUARD,
      order: -10,
      owner: s.path,
      args: perFamily(fams, () => ['-p', 'tcp', '-m', 'tcp', '--tcp-flags', 'FIN,SYN,RST,ACK', 'SYN', '-m', 'conntrack', '--ctstate', 'NEW', '-j', s.chain]),
    });
    const under = (f: IpFamily) => (s.perSource ? hashlimit('upto', s.perSecond * 60, s.burst, s.chain.toLowerCase(), f, s.prefix) : limit(s.perSecond * 60, s.burst));
    rs.addRule({ table: 'filter', chain: s.chain, slot: 100, owner: s.path, args: perFamily(fams, (f) => [...under(f), '-j', 'RETURN']) });
    rs.addRule({ table: 'filter', chain: s.chain, slot: 900, owner: s.path, args: perFamily(fams, () => ['-j', 'DROP']) });
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

const ECHO: Record<IpFamily, string[]> = {
  [IpFamily.V4]: ['-p', 'icmp', '-m', 'icmp', '--icmp-type', '8'],
  [IpFamily.V6]: ['-p', 'ipv6-icmp', '-m', 'icmp6', '--icmpv6-type', '128'],
};

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

  public contribute(rs: Ruleset, host: HostFirewallSpec): void {
    const s = this.spec;
    if (!host.ping) {
      throw firewallError(s.path, { message: 'limits ping, but the host has ping: false, so no echo request is accepted to begin with', fix: 'Remove the limit or set ping: true.' });
    }
    const fams = host.families;
    rs.claim('chain', ECHO_LIMIT_CHAIN, s.path, 'A host takes one IcmpEchoLimit: remove one of them.');
    for (const name of ['INPUT', ECHO_LIMIT_CHAIN]) rs.declareChain({ table: 'mangle', name, families: fams, owner: s.path });
    rs.addRule({ table: 'mangle', chain: 'INPUT', slot: 100, owner: s.path, args: perFamily(fams, (f) => [...ECHO[f], '-j', ECHO_LIMIT_CHAIN]) });
    rs.addRule({ table: 'mangle', chain: ECHO_LIMIT_CHAIN, slot: 100, owner: s.path, args: perFamily(fams, () => [...limit(s.perSecond * 60, s.burst), '-j', 'RETURN']) });
    rs.addRule({ table: 'mangle', chain: ECHO_LIMIT_CHAIN, slot: 900, owner: s.path, args: perFamily(fams, () => ['-j', 'DROP']) });
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

  public contribute(rs: Ruleset, host: HostFirewallSpec): void {
    const s = this.spec;
    rs.claim('drop logger', 'INPUT', s.path, 'A host takes one DropLogger: remove one of them.');
    rs.addRule({
      table: 'filter',
      chain: 'INPUT',
      slot: InputSlot.LOG,
      owner: s.path,
      args: perFamily(host.families, () => [...limit(s.perMinute, s.burst), '-j', 'LOG', '--log-prefix', s.prefix, ...(s.level !== 4 ? ['--log-level', String(s.level)] : [])]),
    });
  }
}
