/**
 * jest matchers for firewall verdicts. Import once in a test file (or in
 * jest's `setupFilesAfterEnv`):
 *
 *   import 'cdktf-iptables/testing';   // (also reachable as 'cdktf-iptables/lib/testing')
 *   expect(host).toAccept({ family: IpFamily.V4, protocol: Protocol.TCP, source: '198.51.100.7', destinationPort: 22 });
 *
 * Works on a StatefulHost and on a RulesetEvaluator (any iptables-save text).
 * Failures print the packet, the verdict and the trace of rules it took.
 * Not part of the jsii API (jest is a test-time tool); nothing here is loaded
 * unless a test imports it.
 */
import { Action, PacketProps, Verdict } from './analysis/types';

/** Anything that judges packets: a StatefulHost or a RulesetEvaluator. */
export interface PacketJudge {
  evaluate(packet: PacketProps): Verdict;
}

interface MatcherResult {
  pass: boolean;
  message: () => string;
}

function describe(packet: PacketProps): string {
  const parts = [
    packet.family,
    packet.protocolNumber !== undefined ? `proto ${packet.protocolNumber}` : packet.protocol,
    `from ${packet.source}${packet.sourcePort !== undefined ? `:${packet.sourcePort}` : ''}`,
    `to ${packet.destination ?? 'the host'}${packet.destinationPort !== undefined ? `:${packet.destinationPort}` : ''}`,
    `on ${packet.inInterface ?? 'eth0'}`,
    ...(packet.outInterface ? [`out ${packet.outInterface}`] : []),
    `state ${packet.state ?? 'NEW'}`,
    ...(packet.tcpFlags ? [`flags ${packet.tcpFlags}`] : []),
    ...(packet.icmpType !== undefined ? [`icmp type ${packet.icmpType}`] : []),
  ];
  return parts.join(' ');
}

function judge(expected: Action, received: PacketJudge, packet: PacketProps, rejectWith?: string): MatcherResult {
  if (!received || typeof received.evaluate !== 'function') {
    return { pass: false, message: () => `expected a StatefulHost or RulesetEvaluator, got ${String(received)}` };
  }
  let v: Verdict;
  try {
    v = received.evaluate(packet);
  } catch (e) {
    return { pass: false, message: () => `could not evaluate ${describe(packet)}: ${(e as Error).message}` };
  }
  if (v.action === Action.DEPENDS) {
    // neither "is" nor "is not": a matcher never guesses, with or without .not
    throw new Error(`${describe(packet)}: the verdict depends on ${(v.dependsOn ?? []).join('; ')} - `
      + 'it cannot be decided from the rules alone (give the packet the missing field, or check verdict.dependsOn with evaluate())');
  }
  const pass = v.action === expected && (rejectWith === undefined || v.rejectWith === rejectWith);
  const got = `${v.action}${v.rejectWith ? ` (${v.rejectWith})` : ''}${v.translatedDestination ? ` -> ${v.translatedDestination}${v.translatedDestinationPort !== undefined ? `:${v.translatedDestinationPort}` : ''}` : ''}`;
  const want = `${expected}${rejectWith ? ` (${rejectWith})` : ''}`;
  const trace = v.trace.length ? v.trace.map((t) => `    ${t}`).join('\n') : '    (no rule matched)';
  return {
    pass,
    message: () => `expected ${describe(packet)} ${pass ? 'not ' : ''}to be ${want}, the firewall says ${got}\n  trace:\n${trace}`,
  };
}

/** The matchers, for `expect.extend` when the automatic registration is not wanted. */
export const firewallMatchers = {
  /** The packet gets through. */
  toAccept(received: PacketJudge, packet: PacketProps): MatcherResult {
    return judge(Action.ACCEPT, received, packet);
  },
  /** The packet is dropped silently. */
  toDrop(received: PacketJudge, packet: PacketProps): MatcherResult {
    return judge(Action.DROP, received, packet);
  },
  /** The packet is rejected (optionally with this `--reject-with`). */
  toReject(received: PacketJudge, packet: PacketProps, rejectWith?: string): MatcherResult {
    return judge(Action.REJECT, received, packet, rejectWith);
  },
};

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Matchers<R> {
      /** The firewall accepts the packet. */
      toAccept(packet: PacketProps): R;
      /** The firewall drops the packet silently. */
      toDrop(packet: PacketProps): R;
      /** The firewall rejects the packet (with `rejectWith`, when given). */
      toReject(packet: PacketProps, rejectWith?: string): R;
    }
  }
}

const g = globalThis as { expect?: { extend?: (m: object) => void } };
if (g.expect && typeof g.expect.extend === 'function') g.expect.extend(firewallMatchers);
