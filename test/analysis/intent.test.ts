/**
 * The intent check: reachability computed from rule text must equal what the
 * program declared. The two known bugs are pinned as rule text (as the
 * renderer once produced them), so these tests stay meaningful after the
 * bugs are fixed at their source; a third-party part that opens a port
 * without declaring it must fail synth.
 */
import { App, TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import {
  ConnState, DeclaredOpening, FirewallPart, IcmpType, IpFamily, Match, PartRules, Peer, Port, Protocol, RuleSlot, SshBruteforceGuard, StatefulHost,
  Target,
} from '../../lib';
import { checkIntent } from '../../lib/analysis/intent';
import { parseRuleset } from '../../lib/iptables/parse';
import { Declarations } from '../../lib/values/declarations';

const BASE = [
  '*filter', ':INPUT DROP [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]', ':IN_SSH - [0:0]', ':TCP - [0:0]', ':UDP - [0:0]',
  '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  '-A INPUT -i lo -j ACCEPT',
  '-A INPUT -m conntrack --ctstate INVALID -j DROP',
  '-A INPUT -p icmp -m icmp --icmp-type 8 -m conntrack --ctstate NEW -j ACCEPT',
  '-A INPUT -p udp -m conntrack --ctstate NEW -j UDP',
  '-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j TCP',
  '-A INPUT -p udp -j REJECT --reject-with icmp-port-unreachable',
  '-A INPUT -p tcp -j REJECT --reject-with tcp-reset',
  '-A INPUT -j REJECT --reject-with icmp-proto-unreachable',
];
const GUARD = (chain: string) => [
  `-A ${chain} -m recent --rcheck --seconds 10 --hitcount 3 --name sshbf --mask 255.255.255.255 --rsource -j DROP`,
  `-A ${chain} -m recent --rcheck --seconds 1800 --hitcount 4 --name sshbf --mask 255.255.255.255 --rsource -j DROP`,
  `-A ${chain} -m recent --set --name sshbf --mask 255.255.255.255 --rsource -j ACCEPT`,
];
const file = (rules: string[]) => [...BASE, ...rules, 'COMMIT', ''].join('\n');
/** What the host's skeleton declares (replies, loopback, ping, everything out), plus `opens` of parts. */
const intent = (opens: Array<[string, DeclaredOpening]>): Declarations => ({
  opens: [
    { owner: 's/h', declared: { anyProtocol: true, states: [ConnState.ESTABLISHED, ConnState.RELATED] } },
    { owner: 's/h', declared: { icmp: IcmpType.ECHO_REQUEST } },
    ...opens.map(([owner, declared]) => ({ owner, declared })),
  ],
  trusts: [{ owner: 's/h', declared: 'lo' }],
  forwards: [],
  egress: [{ owner: 's/h', declared: { anyProtocol: true } }],
  refuses: [],
});
const check = (text: string, d: Declarations) =>
  checkIntent({ rules: parseRuleset(IpFamily.V4, text), sets: new Map(), declarations: d }).map((p) => p.message);

describe('bug 1: a guard whose chain is named UDP opens every UDP port', () => {
  // the guard governs a port nobody opened: it declares the opening
  const declared = intent([['s/h', { port: Port.udp(53) }], ['s/h/guard', { port: Port.SSH }]]);
  test('the buggy rendering fails, naming the ports, the rules and the parts', () => {
    const buggy = file(['-A TCP -p tcp -m tcp --dport 22 -j UDP', ...GUARD('UDP').slice(0, 2), '-A UDP -p udp -m udp --dport 53 -j ACCEPT', GUARD('UDP')[2]]);
    const problems = check(buggy, declared);
    expect(problems).toEqual([
      expect.stringMatching(/^V4 udp 0-52,54-65535 \(NEW packets\) on any interface but lo is guarded, but nothing declares it: from any; rules matched: .*\[filter UDP #4: -A UDP -m recent --set --name sshbf .* -j ACCEPT\]; parts involved: none$/),
    ]);
  });
  test('the correct rendering passes', () => {
    expect(check(file(['-A TCP -p tcp -m tcp --dport 22 -j IN_SSH', ...GUARD('IN_SSH'), '-A UDP -p udp -m udp --dport 53 -j ACCEPT']), declared)).toEqual([]);
  });
});

describe('bug 2: a guard next to an admin-only allowFrom opens SSH to everyone', () => {
  // the host opens SSH to an admin network: the guard keeps to it and declares nothing
  const declared = intent([['s/h', { port: Port.SSH, peer: Peer.ipv4('192.0.2.0/24') }]]);
  test('the buggy rendering (guard jump before the admin-only accept) fails', () => {
    const buggy = file([...GUARD('IN_SSH'), '-A TCP -p tcp -m tcp --dport 22 -j IN_SSH', '-A TCP -s 192.0.2.0/24 -p tcp -m tcp --dport 22 -j ACCEPT']);
    expect(check(buggy, declared)).toEqual([
      expect.stringMatching(/^V4 tcp 22 \(NEW packets\) on any interface but lo is guarded, but nothing declares it: from any except 192\.0\.2\.0\/24; rules matched: .*\[filter TCP #1: -A TCP -p tcp -m tcp --dport 22 -j IN_SSH\]/),
    ]);
  });
  test('a guard limited to the admitted sources passes', () => {
    const fixed = file([...GUARD('IN_SSH'), '-A TCP -s 192.0.2.0/24 -p tcp -m tcp --dport 22 -j IN_SSH']);
    expect(check(fixed, declared)).toEqual([]);
  });
  test('declared but refused is reported too', () => {
    expect(check(file([]), declared)).toEqual([expect.stringMatching(/^V4 tcp 22 \(NEW packets\) on any interface but lo is declared open, but the rules refuse it: from 192\.0\.2\.0\/24; parts involved: s\/h$/)]);
  });
});

/** A third-party part that opens UDP without declaring it: the kind of bug the check exists for. */
class LeakyPart extends FirewallPart {
  public constructor(scope: Construct, id: string, private readonly declare = false) { super(scope, id); }
  public firewallRules(): PartRules {
    return {
      rules: [{ slot: RuleSlot.UDP_OPEN, matches: [Match.protocol(Protocol.UDP)], target: Target.ACCEPT, family: IpFamily.V4 }],
      opens: this.declare ? [{ port: Port.udpRange(1, 65535), peer: Peer.anyIpv4() }] : [],
    };
  }
}

describe('at synth', () => {
  test('a part that opens what nobody declared fails synth, naming the part', () => {
    const stack = new TerraformStack(new App(), 's');
    const h = new StatefulHost(stack, 'h', { ruleComments: false, allow: [Port.SSH] });
    new LeakyPart(h, 'leaky');
    expect(() => Testing.synth(stack, true)).toThrow(/\[s\/h\] intent check: V4 udp 0-65535 \(NEW packets\) on any interface but lo is opened, but nothing declares it: from any; rules matched: .*parts involved: s\/h, s\/h\/leaky/);
  });

  test('the same part declaring what it opens (PartRules.opens) passes the check', () => {
    const stack = new TerraformStack(new App(), 's');
    const h = new StatefulHost(stack, 'h', { ruleComments: false, allow: [Port.SSH] });
    new LeakyPart(h, 'declared', true);
    expect(() => Testing.synth(stack, true)).not.toThrow();
  });

  test('a guard with chainName UDP never ships (an error at construction or at synth)', () => {
    expect(() => {
      const stack = new TerraformStack(new App(), 's');
      const h = new StatefulHost(stack, 'h', { ruleComments: false, allow: [Port.udp(53)] });
      new SshBruteforceGuard(h, 'guard', { chainName: 'UDP' });
      Testing.synth(stack, true);
    }).toThrow(/UDP/);
  });

  test('a guard beside an admin-only allowFrom never opens SSH to everyone', () => {
    const stack = new TerraformStack(new App(), 's');
    const h = new StatefulHost(stack, 'h', {});
    h.allowFrom(Peer.ipv4('192.0.2.0/24'), Port.SSH);
    let threw = false;
    try {
      new SshBruteforceGuard(h, 'guard');
      Testing.synth(stack, true);
    } catch (e) {
      threw = true;
      expect((e as Error).message).toMatch(/SSH|tcp 22|22/);
    }
    if (!threw) {
      // fixed at the source: then the rules must admit only the admin network
      expect(h.evaluate({ family: IpFamily.V4, protocol: 'tcp' as any, source: '198.51.100.7', destinationPort: 22 }).action).not.toBe('ACCEPT');
      expect(h.evaluate({ family: IpFamily.V4, protocol: 'tcp' as any, source: '192.0.2.7', destinationPort: 22 }).action).toBe('ACCEPT');
    }
  });

  test('every example host passes its own intent check and writes reachability.txt', () => {
    // examples synthesize with validations on (App.synth); see test/examples.test.ts for the files
    const stack = new TerraformStack(new App(), 's');
    const h = new StatefulHost(stack, 'web', { ruleComments: false, allow: [Port.HTTP], trustedInterfaces: ['wg0'] });
    h.allowOn('eth1', Port.tcp(5432));
    h.block(Peer.ipv4('198.51.100.66'));
    new SshBruteforceGuard(h, 'ssh');
    expect(() => Testing.synth(stack, true)).not.toThrow();
    expect(h.reachability(IpFamily.V4).text).toContain('tcp 5432           on eth1');
  });
});

test('a guard that governs a port declares it open, and opens nothing else', () => {
  const declared = intent([['s/h/guard', { port: Port.SSH }]]);
  expect(check(file(['-A TCP -p tcp -m tcp --dport 22 -j IN_SSH', ...GUARD('IN_SSH')]), declared)).toEqual([]);
  expect(check(file(['-A TCP -p tcp -m tcp --dport 23 -j IN_SSH', ...GUARD('IN_SSH')]), declared)).toEqual([
    expect.stringMatching(/^V4 tcp 23 \(NEW packets\) on any interface but lo is guarded, but nothing declares it/),
    expect.stringMatching(/^V4 tcp 22 \(NEW packets\) on any interface but lo is declared open, but the rules refuse it: from any; parts involved: s\/h\/guard$/),
  ]);
});

describe('exact over every field: what one sample packet per cell would miss', () => {
  const declared = intent([['s/h', { port: Port.SSH }]]);
  test.each([
    ['a source port', '-A INPUT -p udp -m udp --sport 53 -j ACCEPT', /^V4 udp 0-65535 .*opened, but nothing declares it/],
    ['SCTP', '-A INPUT -p sctp -j ACCEPT', /^V4 protocol 132 .*opened, but nothing declares it/],
    ['protocol 41', '-A INPUT -p 41 -j ACCEPT', /^V4 protocol 41 .*opened, but nothing declares it/],
    ['a TTL', '-A INPUT -m ttl --ttl-eq 3 -j ACCEPT', /is opened, but nothing declares it/],
    ['a knock (recent check)', '-A INPUT -p tcp -m recent --rcheck --name knock -j ACCEPT', /^V4 tcp 0-21,23-65535 \(INVALID,NEW,UNTRACKED packets\) .*is guarded, but nothing declares it.*\[filter INPUT #3: -A INPUT -p tcp -m recent --rcheck --name knock -j ACCEPT\]/],
    ['a negated limit', '-A INPUT -p tcp -m tcp --dport 8080 -m limit ! --limit 1/sec -j ACCEPT', /^V4 tcp 8080 .*is guarded, but nothing declares it/],
    ['another ICMP type', '-A INPUT -p icmp -m icmp --icmp-type 13 -j ACCEPT', /^V4 icmp types 13 .*is opened, but nothing declares it/],
    ['an interface pattern', '-A INPUT -i eth+ -p tcp -m tcp --dport 25 -j ACCEPT', /^V4 tcp 25 \(INVALID,NEW,UNTRACKED packets\) on eth\+ is opened/],
  ])('%s', (_name, rule, message) => {
    const text = file([]).replace('-A INPUT -m conntrack --ctstate INVALID -j DROP', `${rule}\n-A INPUT -m conntrack --ctstate INVALID -j DROP`);
    const problems = check(text, declared).filter((p) => !/declared open, but the rules refuse/.test(p));
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
  });
});
