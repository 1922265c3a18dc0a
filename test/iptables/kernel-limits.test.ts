import { IpFamily } from '../../lib/iptables/family';
import { chainNameProblem, limitBurstProblem, objectNameProblem, reservedChainName, TARGET_NAMES } from '../../lib/iptables/kernel-limits';
import { recentMask } from '../../lib/iptables/spelling';

describe('kernel names', () => {
  test('built-in chains, targets, the host\'s chains and option-like names are reserved', () => {
    for (const n of ['INPUT', 'FORWARD', 'OUTPUT', 'PREROUTING', 'POSTROUTING', 'TCP', 'UDP', ...TARGET_NAMES]) expect(reservedChainName(n)).toBeDefined();
    expect(chainNameProblem('chainName', '-A')?.message).toMatch(/starts with "-"/);
    expect(chainNameProblem('chainName', 'IN_SSH')).toBeUndefined();
    expect(objectNameProblem('x', 'a'.repeat(28), 28)).toBeUndefined();
    expect(objectNameProblem('x', 'a'.repeat(29), 28)?.message).toMatch(/29 characters long/);
    expect(objectNameProblem('x', 12, 28)?.message).toBe('x is a number, not a string');
  });

  test('the limit credit cap: avg x burst must fit 32 bits', () => {
    expect(limitBurstProblem('burst', 10_000, 60)).toBeUndefined(); // 1/sec: avg 10000
    expect(limitBurstProblem('burst', 7158, 1)).toBeUndefined(); // 1/min: avg 600000
    expect(limitBurstProblem('burst', 7159, 1)?.message).toMatch(/overflows above a burst of 7158/);
  });

  test('recent masks as iptables-save prints them', () => {
    expect(recentMask(IpFamily.V4, 32)).toBe('255.255.255.255');
    expect(recentMask(IpFamily.V4, 24)).toBe('255.255.255.0');
    expect(recentMask(IpFamily.V6, 64)).toBe('ffff:ffff:ffff:ffff::');
    expect(recentMask(IpFamily.V6, 112)).toBe('ffff:ffff:ffff:ffff:ffff:ffff:ffff:0');
    expect(recentMask(IpFamily.V6, 128)).toBe('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
  });
});
