/**
 * The public part protocol at synth: a part's rules go through the same
 * compiler as the built-in parts (slots, claims, checks), and bad rules fail
 * with the part's construct path, the value and the fix.
 */
import { App, TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import {
  ConnState, FirewallPart, IcmpType, IpFamily, Match, PartHost, PartRules, Peer, Port, RecentAction, RuleSlot, SshBruteforceGuard,
  StatefulHost, Table, Target,
} from '../../lib';

class Custom extends FirewallPart {
  public constructor(scope: Construct, id: string, private readonly out: (h: PartHost) => PartRules) { super(scope, id); }
  public firewallRules(h: PartHost): PartRules { return this.out(h); }
}

function hostWith(out: (h: PartHost) => PartRules, props = {}): StatefulHost {
  const h = new StatefulHost(new TerraformStack(new App(), 's'), 'h', { ruleComments: false, allow: [Port.SSH], ...props });
  new Custom(h, 'p', out);
  return h;
}

describe('typed rules', () => {
  test('one rule renders per family: ICMP vs ICMPv6, the peer\'s family only, REJECT by protocol', () => {
    const h = hostWith(() => ({
      rules: [
        { slot: RuleSlot.INPUT_GUARD, matches: [Match.icmp(IcmpType.ECHO_REQUEST), Match.limit(60, 5)], target: Target.ACCEPT },
        { slot: RuleSlot.TCP_OPEN, matches: [Match.source(Peer.ipv6('2001:db8::/32')), Match.port(Port.tcp(8443)), Match.comment('lab "net"')], target: Target.reject() },
      ],
    }));
    expect(h.renderRules(IpFamily.V4)).toContain('-A INPUT -p icmp -m icmp --icmp-type 8 -m limit --limit 1/sec -j ACCEPT');
    expect(h.renderRules(IpFamily.V6)).toContain('-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m limit --limit 1/sec -j ACCEPT');
    expect(h.renderRules(IpFamily.V6)).toContain('-A TCP -s 2001:db8::/32 -p tcp -m tcp --dport 8443 -m comment --comment "lab \\"net\\"" -j REJECT --reject-with tcp-reset');
    expect(h.renderRules(IpFamily.V4)).not.toContain('8443');
  });

  test('own chains keep their order, in any table; the host declares them', () => {
    const h = hostWith(() => ({
      chains: [{ name: 'MY_LIMIT', table: Table.MANGLE, rules: [{ matches: [Match.recent({ list: 'mine', action: RecentAction.CHECK, seconds: 60, hits: 5 })], target: Target.DROP }, { matches: [Match.recent({ list: 'mine', action: RecentAction.SET })], target: Target.RETURN }] }],
      rules: [{ slot: RuleSlot.MANGLE_INPUT, matches: [Match.tcpSyn(), Match.state([ConnState.NEW])], target: Target.jump('MY_LIMIT') }],
    }));
    const v4 = h.renderRules(IpFamily.V4);
    expect(v4).toMatch(/\*mangle\n[\s\S]*:MY_LIMIT - \[0:0\][\s\S]*-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j MY_LIMIT\n-A MY_LIMIT -m recent --rcheck --seconds 60 --hitcount 5 --name mine --mask 255.255.255.255 --rsource -j DROP\n-A MY_LIMIT -m recent --set --name mine --mask 255.255.255.255 --rsource -j RETURN\n/);
    expect(h.renderRules(IpFamily.V6)).toContain('--name mine6 --mask ffff:ffff:ffff:ffff:: --rsource');
  });

  test('raw argv passes the parser and is written as given; what the parser cannot read fails synth', () => {
    const ok = hostWith(() => ({ rules: [{ slot: RuleSlot.TCP_OPEN, raw: ['-p', 'tcp', '-m', 'multiport', '--dports', '8000,8001', '-j', 'ACCEPT'] }] }));
    expect(ok.renderRules(IpFamily.V4)).toContain('-A TCP -p tcp -m multiport --dports 8000,8001 -j ACCEPT');
    const bad = hostWith(() => ({ rules: [{ slot: RuleSlot.TCP_OPEN, raw: ['-p', 'tcp', '-m', 'u32', '--u32', '0>>22&0x3C@ 12>>26&0x3C@ 0=0', '-j', 'ACCEPT'] }] }));
    expect(() => bad.renderRules(IpFamily.V4)).toThrow(/\[s\/h\/p\] rules\[0\]\.raw .* is not a rule this library understands for V4/);
    const v4only = hostWith(() => ({ rules: [{ slot: RuleSlot.TCP_OPEN, raw: ['-s', '10.0.0.0/8', '-p', 'tcp', '-j', 'ACCEPT'] }] }));
    expect(() => v4only.renderRules(IpFamily.V4)).toThrow(/for V6[\s\S]*give family: IpFamily.V4/);
    const newline = hostWith(() => ({ rules: [{ slot: RuleSlot.TCP_OPEN, raw: ['-j', 'ACCEPT\n-A INPUT -j ACCEPT'] }] }));
    expect(() => newline.renderRules(IpFamily.V4)).toThrow(/line break/);
  });

  test('an opening made through a part and not declared fails synth; declared, it passes', () => {
    const rule = { slot: RuleSlot.TCP_OPEN, matches: [Match.port(Port.tcp(9000))], target: Target.ACCEPT };
    const leaky = hostWith(() => ({ rules: [rule] }));
    expect(() => Testing.synth(leaky.node.scope as TerraformStack, true)).toThrow(/tcp 9000 .*nothing declares it.*s\/h\/p/);
    const declared = hostWith(() => ({ rules: [rule], opens: [{ port: Port.tcp(9000) }] }));
    expect(() => Testing.synth(declared.node.scope as TerraformStack, true)).not.toThrow();
  });
});

describe('the same checks as the built-in parts', () => {
  test.each([
    ['a chain name of the host', () => ({ chains: [{ name: 'TCP', rules: [] }] }), /chains\[0\]: name "TCP" is the host's own service chain/],
    ['a jump to a chain nobody declares', () => ({ rules: [{ slot: RuleSlot.INPUT_GUARD, target: Target.jump('NOWHERE') }] }), /jumps to chain "NOWHERE", which is not one of the part's own chains/],
    ['a jump to a built-in chain', () => ({ rules: [{ slot: RuleSlot.TCP_OPEN, target: Target.jump('INPUT') }] }), /is a built-in chain, which iptables cannot jump to/],
    ['a loop of jumps', () => ({
      chains: [{ name: 'LOOP_A', rules: [{ target: Target.jump('LOOP_B') }] }, { name: 'LOOP_B', rules: [{ target: Target.jump('LOOP_A') }] }],
      rules: [{ slot: RuleSlot.INPUT_GUARD, target: Target.jump('LOOP_A') }],
    }), /the jumps LOOP_A -> LOOP_B -> LOOP_A form a loop/],
    ['a comment with a line break', () => ({ rules: [{ slot: RuleSlot.TCP_OPEN, matches: [Match.comment('a\n-A INPUT -j ACCEPT')], target: Target.DROP }] }), /comment .* must be 1 to 255 printable ASCII/],
    // found by attacking the API: each passed synth before
    ['raw counters hiding a "!" (-c 1,2 ! --dport 22 opened every other port)', () => ({ rules: [{ slot: RuleSlot.TCP_OPEN, raw: ['-p', 'tcp', '-c', '1,2', '!', '--dport', '22', '-j', 'ACCEPT'] }] }), /sets counters \(-c\)/],
    ['a "!" before the target', () => ({ rules: [{ slot: RuleSlot.TCP_OPEN, raw: ['-p', 'tcp', '!', '-j', 'DROP'] }] }), /a target cannot be negated/],
    ['a dangling "!"', () => ({ rules: [{ slot: RuleSlot.TCP_OPEN, raw: ['-p', 'tcp', '-j', 'DROP', '!'] }] }), /not a rule this library understands/],
    ['DROP in the nat table', () => ({ rules: [{ slot: RuleSlot.NAT_PREROUTING, matches: [Match.port(Port.tcp(22))], target: Target.DROP }] }), /DROP in the nat table/],
    ['DROP in an own nat chain', () => ({ chains: [{ name: 'MY_NAT', table: Table.NAT, rules: [{ target: Target.DROP }] }] }), /DROP in the nat table/],
    ['REJECT in mangle', () => ({ rules: [{ slot: RuleSlot.MANGLE_INPUT, target: Target.reject() }] }), /REJECT in the mangle table/],
    ['DNAT in a filter slot', () => ({ rules: [{ slot: RuleSlot.TCP_OPEN, matches: [Match.port(Port.tcp(80))], target: Target.dnat('10.0.0.5') }] }), /DNAT in filter TCP/],
    ['MASQUERADE in nat PREROUTING (raw)', () => ({ rules: [{ slot: RuleSlot.NAT_PREROUTING, raw: ['-j', 'MASQUERADE'], family: IpFamily.V4 }] }), /MASQUERADE in nat PREROUTING/],
    ['a jump into another part\'s chain (the SSH guard accepts)', () => ({ rules: [{ slot: RuleSlot.INPUT_GUARD, matches: [Match.sourcePort(Port.tcp(1234))], target: Target.jump('IN_SSH') }] }), /jumps to chain "IN_SSH", which is not one of the part's own chains/],
    ['the same with raw --goto', () => ({ rules: [{ slot: RuleSlot.INPUT_GUARD, raw: ['--goto', 'IN_SSH'] }] }), /jumps to chain "IN_SSH", which is not one of the part's own chains/],
    ['a rule without a target', () => ({ rules: [{ slot: RuleSlot.INPUT_GUARD, matches: [Match.port(Port.tcp(1))] }] }), /rules\[0\] has no target/],
    ['a match that is not a Match', () => ({ rules: [{ slot: RuleSlot.INPUT_GUARD, matches: [{ args: ['-j', 'ACCEPT'] } as any], target: Target.ACCEPT }] }), /matches\[0\] is a Object, not a Match/],
    ['two sources in one rule', () => ({ rules: [{ slot: RuleSlot.INPUT_GUARD, matches: [Match.source(Peer.ipv4('10.0.0.1')), Match.source(Peer.ipv4('10.0.0.2'))], target: Target.DROP }] }), /contradicts another match \(source/],
    ['an IPv4 source with an IPv6 destination', () => ({ rules: [{ slot: RuleSlot.INPUT_GUARD, matches: [Match.source(Peer.ipv4('10.0.0.1')), Match.destination(Peer.ipv6('::1'))], target: Target.DROP }] }), /matches no packet in either family/],
    ['a bad slot', () => ({ rules: [{ slot: 'INPUT_TOP' as any, target: Target.DROP }] }), /slot INPUT_TOP is not a RuleSlot/],
    ['a TCP reset on a UDP rule', () => ({ rules: [{ slot: RuleSlot.UDP_OPEN, matches: [Match.port(Port.udp(53))], target: Target.reject('TCP_RESET' as any) }] }), /needs a tcp rule/],
    ['a bad interface', () => ({ rules: [{ slot: RuleSlot.INPUT_TRUSTED, matches: [Match.inInterface('eth0; reboot')], target: Target.ACCEPT }] }), /inInterface/],
  ])('%s', (_what, out, message) => {
    expect(() => hostWith(out as any).renderRules(IpFamily.V4)).toThrow(message as RegExp);
  });

  test('a raw rule writing a guard\'s recent list is claimed too: it cannot poison the guard', () => {
    const h = hostWith(() => ({ rules: [{ slot: RuleSlot.INPUT_GUARD, raw: ['-m', 'recent', '--set', '--name', 'sshbf', '--mask', '255.255.255.255', '--rsource', '-j', 'RETURN'], family: IpFamily.V4 }] }));
    new SshBruteforceGuard(h, 'guard');
    expect(() => h.renderRules(IpFamily.V4)).toThrow(/recent list "sshbf" is already used by/);
  });

  test('UPDATE writes a list too: a part refreshing the guard\'s list is refused', () => {
    const h = hostWith(() => ({ rules: [{ slot: RuleSlot.INPUT_GUARD, matches: [Match.recent({ list: 'sshbf', action: RecentAction.UPDATE })], target: Target.RETURN }] }));
    new SshBruteforceGuard(h, 'guard');
    expect(() => h.renderRules(IpFamily.V4)).toThrow(/recent list "sshbf" is already used by/);
  });

  test('"-j" and "-g" as text (a comment, a log prefix) are text, not jumps', () => {
    const h = hostWith(() => ({ rules: [{ slot: RuleSlot.INPUT_LOG, matches: [Match.comment('-j'), Match.limit(60)], target: Target.log({ prefix: '-g', level: 5 }) }] }));
    expect(h.renderRules(IpFamily.V4)).toContain('-A INPUT -m comment --comment -j -m limit --limit 1/sec -j LOG --log-prefix -g --log-level 5');
    // with owner comments, the owner's comment still lands before the target, not inside the text
    const c = new StatefulHost(new TerraformStack(new App(), 's'), 'c', { allow: [Port.SSH] });
    new Custom(c, 'p', () => ({ rules: [{ slot: RuleSlot.INPUT_LOG, matches: [Match.comment('-j')], target: Target.log({ prefix: '-g' }) }] }));
    expect(c.renderRules(IpFamily.V4)).toContain('-A INPUT -m comment --comment -j -m comment --comment "s/c/p" -j LOG --log-prefix -g');
  });

  test('a recent list another part writes is claimed: the second writer fails naming both', () => {
    const h = hostWith(() => ({ chains: [{ name: 'MINE', rules: [{ matches: [Match.recent({ list: 'sshbf', action: RecentAction.SET })], target: Target.RETURN }] }] }));
    new SshBruteforceGuard(h, 'guard');
    expect(() => h.renderRules(IpFamily.V4)).toThrow(/recent list "sshbf" is already used by/);
  });

  test('the host\'s options reach the part', () => {
    const seen: PartHost[] = [];
    const h = hostWith((host) => { seen.push(host); return {}; }, { trustedInterfaces: ['wg0'] });
    h.allowFrom(Peer.ipv4('10.0.0.0/8'), Port.tcp(5432));
    h.renderRules(IpFamily.V4);
    expect(seen[0].trustedInterfaces).toEqual(['wg0']);
    expect(seen[0].openingsOf(Port.tcp(5432)).map((o) => o.peer?.cidr)).toEqual(['10.0.0.0/8']);
    expect(seen[0].families).toEqual([IpFamily.V4, IpFamily.V6]);
  });
});
