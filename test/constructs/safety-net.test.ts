/**
 * The safety net on every path, at synth: what a program's files admit to
 * the host, through it and from it must be declared; raw rules must mean to
 * iptables what they mean to the checks; a deployed host must not be able to
 * cut its deploy's SSH.
 */
import { App, TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import {
  ConnState, DeclaredEgress, DeclaredForward, DeclaredOpening, FirewallPart, IcmpType, Installer, IpFamily, Match, NatGateway, OutboundPolicy,
  PartHost, PartRules, Peer, Port, Protocol, RuleSlot, SlottedRule, StatefulHost, Target,
} from '../../lib';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n';

/** A part made of the given rules and declarations. */
class Part extends FirewallPart {
  public constructor(scope: Construct, id: string, private readonly out: PartRules) { super(scope, id); }
  public firewallRules(_host: PartHost): PartRules { return this.out; }
}

function synthError(build: (stack: TerraformStack) => void): string {
  const stack = new TerraformStack(new App(), 's');
  build(stack);
  try {
    Testing.synth(stack, true);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

const host = (stack: TerraformStack, props: object = {}) => new StatefulHost(stack, 'h', { allow: [Port.SSH], ruleComments: true, ...props });

describe('undeclared traffic fails synth, on every path and every field', () => {
  const inputCases: Array<[string, SlottedRule, RegExp, DeclaredOpening]> = [
    ['a source port', { slot: RuleSlot.INPUT_GUARD, raw: ['-p', 'udp', '-m', 'udp', '--sport', '53', '-j', 'ACCEPT'], family: IpFamily.V4 }, /V4 udp 0-65535 \(NEW,UNTRACKED packets\) on any interface but lo is opened, but nothing declares it.*parts involved: s\/h\/p/, { protocol: Protocol.UDP }],
    ['SCTP', { slot: RuleSlot.INPUT_GUARD, matches: [Match.protocol(Protocol.SCTP)], target: Target.ACCEPT }, /V[46] protocol 132 .* is opened, but nothing declares it/, { protocol: Protocol.SCTP }],
    ['protocol 41', { slot: RuleSlot.INPUT_GUARD, raw: ['-p', '41', '-j', 'ACCEPT'], family: IpFamily.V4 }, /V4 protocol 41 .* is opened, but nothing declares it/, { anyProtocol: true }],
    ['a TTL', { slot: RuleSlot.INPUT_GUARD, matches: [Match.hopLimit(3)], target: Target.ACCEPT }, /is opened, but nothing declares it.*-m ttl --ttl-eq 3/, { anyProtocol: true }],
    ['a recent knock', { slot: RuleSlot.INPUT_GUARD, matches: [Match.protocol(Protocol.TCP), Match.recent({ list: 'knock', action: 'CHECK' as any })], target: Target.ACCEPT }, /V4 tcp 0-21,23-65535 .* is guarded, but nothing declares it/, { protocol: Protocol.TCP }],
    ['a negated limit', { slot: RuleSlot.INPUT_GUARD, raw: ['-p', 'tcp', '-m', 'tcp', '--dport', '8080', '-m', 'limit', '!', '--limit', '1/sec', '-j', 'ACCEPT'], family: IpFamily.V4 }, /V4 tcp 8080 .* is guarded, but nothing declares it/, { port: Port.tcp(8080), peer: Peer.anyIpv4() }],
  ];
  test.each(inputCases)('to the host: %s', (_name, rule, message, declared) => {
    expect(synthError((s) => new Part(host(s), 'p', { rules: [rule] }))).toMatch(message);
    // declared on purpose, it passes
    expect(synthError((s) => new Part(host(s), 'p', { rules: [rule], opens: [declared] }))).toBe('');
  });

  test('to the host: another ICMP type on a host without ping', () => {
    const rule: SlottedRule = { slot: RuleSlot.INPUT_ICMP, matches: [Match.icmp(IcmpType.TIME_EXCEEDED)], target: Target.ACCEPT };
    expect(synthError((s) => new Part(host(s, { ping: false }), 'p', { rules: [rule] }))).toMatch(/V4 icmp types 11 .* is opened, but nothing declares it/);
    expect(synthError((s) => new Part(host(s, { ping: false }), 'p', { rules: [rule], opens: [{ icmp: IcmpType.TIME_EXCEEDED }] }))).toBe('');
  });

  test('through the host: an ACCEPT in FORWARD_ACCEPT needs a declaration', () => {
    const rule: SlottedRule = { slot: RuleSlot.FORWARD_ACCEPT, matches: [Match.inInterface('eth1'), Match.port(Port.tcp(25))], target: Target.ACCEPT };
    expect(synthError((s) => new Part(host(s), 'p', { rules: [rule], forwarding: true }))).toMatch(
      /\[s\/h\] intent check: V4 forwarded tcp 25 \(.*\) from eth1 to any interface is opened, but nothing declares it: from any to any; rules matched: \[filter FORWARD #1: -A FORWARD -i eth1 -p tcp -m tcp --dport 25 -m comment --comment "s\/h\/p" -j ACCEPT\]; parts involved: s\/h\/p/);
    const forwards: DeclaredForward[] = [{ port: Port.tcp(25), inInterface: 'eth1' }];
    expect(synthError((s) => new Part(host(s), 'p', { rules: [rule], forwards, forwarding: true }))).toBe('');
  });

  test('from the host: under an outbound policy DROP, what a part lets out needs a declaration', () => {
    const out = { outbound: { policy: OutboundPolicy.DROP, allow: [Port.udp(53)] } };
    const rule: SlottedRule = { slot: RuleSlot.OUTPUT_OPEN, matches: [Match.destination(Peer.ipv4('10.0.0.5')), Match.port(Port.tcp(5432))], target: Target.ACCEPT };
    expect(synthError((s) => new Part(host(s, out), 'p', { rules: [rule] }))).toMatch(/V4 outbound tcp 5432 \(.*\) on any interface but lo is opened, but nothing declares it: to 10\.0\.0\.5\/32/);
    const egress: DeclaredEgress[] = [{ port: Port.tcp(5432), destination: Peer.ipv4('10.0.0.5') }];
    expect(synthError((s) => new Part(host(s, out), 'p', { rules: [rule], egress }))).toBe('');
  });

  test('a NAT gateway declares what it forwards: its own rules pass, IPv6 from the WAN stays out', () => {
    const stack = new TerraformStack(new App(), 's');
    const gw = host(stack);
    new NatGateway(gw, 'nat', { wan: 'eth0', lans: [{ iface: 'eth1', cidr: '192.168.0.0/24' }], portForwards: [{ port: Port.tcp(8000), to: '192.168.0.5', toPort: 80 }] });
    expect(() => Testing.synth(stack, true)).not.toThrow();
    const r6 = gw.reachability(IpFamily.V6);
    expect(r6.forwarded!.map((e) => `${e.what} ${e.inInterfaces} -> ${e.outInterfaces}`)).toEqual(['all eth1 -> eth0']);
    expect(gw.evaluate({ family: IpFamily.V6, protocol: Protocol.TCP, source: '2001:db8:77::1', destination: '2001:db8:9::5', inInterface: 'eth0', outInterface: 'eth1', destinationPort: 22 }).action).not.toBe('ACCEPT');
  });
});

describe('what is checked is what ships: raw values in the spelling iptables-save prints', () => {
  test.each([
    ['an octal-looking port', ['-p', 'tcp', '-m', 'tcp', '--dport', '022', '-j', 'ACCEPT'], /port "022": write decimal ports.*leading zero as octal/],
    ['a short address', ['-s', '10.1', '-j', 'DROP'], /10\.1 is not written as four decimal octets/],
    ['an address with a leading zero', ['-s', '010.0.0.1', '-j', 'DROP'], /010\.0\.0\.1 is not written as four decimal octets/],
    ['host bits', ['-s', '10.0.0.1/8', '-j', 'DROP'], /10\.0\.0\.1\/8 has host bits set, which iptables drops: write 10\.0\.0\.0\/8/],
    ['a netmask', ['-s', '10.0.0.0/255.0.0.0', '-j', 'DROP'], /write the prefix length as a number.*netmask/],
    ['an uppercase protocol', ['-p', 'TCP', '-j', 'DROP'], /protocol "TCP": write a lowercase name/],
    ['a rate spelled out', ['-m', 'limit', '--limit', '5/second', '-j', 'DROP'], /rate "5\/second": write it as iptables-save prints it/],
    ['a hex number', ['-m', 'ttl', '--ttl-eq', '0x10', '-j', 'DROP'], /--ttl-eq "0x10": write a decimal number/],
    ['an address list', ['-s', '10.0.0.0/8,192.168.0.0/16', '-j', 'DROP'], /give one address per rule|not understood|address lists/],
  ])('%s is refused, naming what to write', (_name, raw, message) => {
    const rule: SlottedRule = { slot: RuleSlot.INPUT_GUARD, raw, family: IpFamily.V4 };
    expect(synthError((s) => new Part(host(s), 'p', { rules: [rule] }))).toMatch(message);
  });

  test('canonical raw rules are written as given', () => {
    const stack = new TerraformStack(new App(), 's');
    const h = host(stack, { ruleComments: false });
    new Part(h, 'p', { rules: [{ slot: RuleSlot.INPUT_GUARD, raw: ['-s', '203.0.113.0/24', '-p', 'tcp', '-m', 'tcp', '--dport', '1024:2048', '-j', 'DROP'], family: IpFamily.V4 }] });
    expect(h.renderRules(IpFamily.V4)).toContain('-A INPUT -s 203.0.113.0/24 -p tcp -m tcp --dport 1024:2048 -j DROP');
  });
});

describe('lock-outs are refused at synth on a deployed host', () => {
  const deployed = { installer: Installer.TERRAFORM_DATA, connection: { host: '192.0.2.10', privateKey: KEY } };
  const established = { slot: RuleSlot.MANGLE_INPUT, matches: [Match.state([ConnState.ESTABLISHED])], target: Target.DROP };
  const repliesOut = { slot: RuleSlot.OUTPUT_OPEN, matches: [Match.sourcePort(Port.tcp(22))], target: Target.DROP };

  test('a DROP of ESTABLISHED in mangle', () => {
    const message = synthError((s) => new Part(host(s, deployed), 'p', { rules: [established] }));
    expect(message).toMatch(/\[s\/h\] lock-out: \[mangle INPUT #1: -A INPUT -m conntrack --ctstate ESTABLISHED -m comment --comment "s\/h\/p" -j DROP\] \(s\/h\/p\) can drop the deploy's SSH \(V4 tcp 22 to the host, new and established\)/);
    expect(message).not.toContain(KEY);
  });

  test('a DROP of source port 22 in OUTPUT', () => {
    expect(synthError((s) => new Part(host(s, deployed), 'p', { rules: [repliesOut] }))).toMatch(/lock-out: \[filter OUTPUT #1: -A OUTPUT -p tcp -m tcp --sport 22 .*-j DROP\] \(s\/h\/p\) can drop the deploy's SSH \(V4 tcp replies from port 22\)/);
  });

  test('the host\'s own outbound policy DROP lets the replies out: not a lock-out', () => {
    expect(synthError((s) => host(s, { ...deployed, outbound: { policy: OutboundPolicy.DROP } }))).toBe('');
  });

  test('a cloud-init host, which has no probe to roll back with, gets the same check', () => {
    expect(synthError((s) => {
      const h = host(s);
      new Part(h, 'p', { rules: [established] });
      h.cloudInit();
    })).toMatch(/lock-out: \[mangle INPUT #1/);
  });

  test('files-only hosts, guards and declared refusals are not lock-outs', () => {
    expect(synthError((s) => new Part(host(s), 'p', { rules: [established], opens: [{ anyProtocol: true, states: [ConnState.ESTABLISHED] }] }))).toBe('');
    expect(synthError((s) => {
      const h = host(s, deployed);
      h.block(Peer.ipv4('203.0.113.0/24'));
      new Part(h, 'p', { rules: [{ slot: RuleSlot.INPUT_BLOCK, matches: [Match.source(Peer.ipv4('198.51.100.0/24'))], target: Target.DROP }], refuses: [{ peer: Peer.ipv4('198.51.100.0/24') }] });
    })).toBe('');
    expect(synthError((s) => {
      const h = host(s, deployed);
      // a per-source rate limit on SSH is decided by state, not by the rules' shape
      new Part(h, 'p', { rules: [{ slot: RuleSlot.INPUT_GUARD, matches: [Match.port(Port.SSH), Match.hashlimit({ name: 'sshrate', perMinute: 60 })], target: Target.DROP }] });
    })).toBe('');
  });
});
