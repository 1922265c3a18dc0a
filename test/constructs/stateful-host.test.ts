import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { ClosedPortResponse, IpFamily, OutboundPolicy, Peer, Port, PortScanTrap, StatefulHost } from '../../lib';

function stack(outdir?: string): TerraformStack {
  return new TerraformStack(new App({ outdir: outdir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-')) }), 'stack');
}
const rules = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));

describe('StatefulHost: the seed file', () => {
  test('allow SSH only: exactly the seed "Example iptables.rules file" plus the SSH rule, in that order', () => {
    const h = new StatefulHost(stack(), 'web', { ruleComments: false, allow: [Port.SSH] });
    expect(rules(h.renderRules(IpFamily.V4))).toEqual([
      '*filter',
      ':INPUT DROP [0:0]',
      ':FORWARD DROP [0:0]',
      ':OUTPUT ACCEPT [0:0]',
      ':TCP - [0:0]',
      ':UDP - [0:0]',
      '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A INPUT -i lo -j ACCEPT',
      '-A INPUT -m conntrack --ctstate INVALID -j DROP',
      '-A INPUT -p icmp -m icmp --icmp-type 8 -m conntrack --ctstate NEW -j ACCEPT',
      '-A INPUT -p udp -m conntrack --ctstate NEW -j UDP',
      '-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j TCP',
      '-A INPUT -p udp -j REJECT --reject-with icmp-port-unreachable',
      '-A INPUT -p tcp -j REJECT --reject-with tcp-reset',
      '-A INPUT -j REJECT --reject-with icmp-proto-unreachable',
      '-A TCP -p tcp -m tcp --dport 22 -j ACCEPT',
      'COMMIT',
    ]);
  });

  test('the IPv6 twin: rpfilter in raw, ICMPv6 from fe80::/10 and neighbour discovery before any DROP, ICMPv6 reject codes', () => {
    const h = new StatefulHost(stack(), 'web', { ruleComments: false, allow: [Port.SSH] });
    expect(rules(h.renderRules(IpFamily.V6))).toEqual([
      '*raw',
      ':PREROUTING ACCEPT [0:0]',
      ':OUTPUT ACCEPT [0:0]',
      '-A PREROUTING -m rpfilter -j ACCEPT',
      '-A PREROUTING -j DROP',
      'COMMIT',
      '*filter',
      ':INPUT DROP [0:0]',
      ':FORWARD DROP [0:0]',
      ':OUTPUT ACCEPT [0:0]',
      ':TCP - [0:0]',
      ':UDP - [0:0]',
      '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A INPUT -i lo -j ACCEPT',
      '-A INPUT -s fe80::/10 -p ipv6-icmp -j ACCEPT',
      '-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m hl --hl-eq 255 -j ACCEPT',
      '-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 136 -m hl --hl-eq 255 -j ACCEPT',
      '-A INPUT -m conntrack --ctstate INVALID -j DROP',
      '-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m conntrack --ctstate NEW -j ACCEPT',
      '-A INPUT -p udp -m conntrack --ctstate NEW -j UDP',
      '-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j TCP',
      '-A INPUT -p udp -j REJECT --reject-with icmp6-port-unreachable',
      '-A INPUT -p tcp -j REJECT --reject-with tcp-reset',
      '-A INPUT -j REJECT --reject-with icmp6-adm-prohibited',
      '-A TCP -p tcp -m tcp --dport 22 -j ACCEPT',
      'COMMIT',
    ]);
  });

  test('the file starts with one comment line and no timestamp', () => {
    const text = new StatefulHost(stack(), 'web', { ruleComments: false }).renderRules(IpFamily.V4);
    expect(text.split('\n')[0]).toBe('# cdktf-iptables: iptables.rules of stack/web. Generated; edit the cdktf program, not this file.');
    expect(text).not.toMatch(/\d{4}-\d\d-\d\d|\d\d:\d\d:\d\d/);
  });
});

describe('StatefulHost: methods and options', () => {
  test('service rules: allow, allowFrom (per family), allowOn, block', () => {
    const h = new StatefulHost(stack(), 'db', { ruleComments: false, allow: [Port.udp(53), Port.tcpRange(6000, 6010)] });
    h.allowFrom(Peer.ipv4('15.15.15.0/24'), Port.tcp(3306));
    h.allowFrom(Peer.ipv6('2001:db8::/64'), Port.tcp(5432));
    h.allowOn('eth1', Port.tcp(873));
    h.block(Peer.ipv4('15.15.15.51'));
    const v4 = rules(h.renderRules(IpFamily.V4));
    const v6 = rules(h.renderRules(IpFamily.V6));
    expect(v4).toEqual(expect.arrayContaining([
      '-A INPUT -s 15.15.15.51/32 -j DROP',
      '-A TCP -s 15.15.15.0/24 -p tcp -m tcp --dport 3306 -j ACCEPT',
      '-A TCP -i eth1 -p tcp -m tcp --dport 873 -j ACCEPT',
      '-A TCP -p tcp -m tcp --dport 6000:6010 -j ACCEPT',
      '-A UDP -p udp -m udp --dport 53 -j ACCEPT',
    ]));
    expect(v4.join('\n')).not.toContain('5432');
    expect(v6).toEqual(expect.arrayContaining([
      '-A TCP -s 2001:db8::/64 -p tcp -m tcp --dport 5432 -j ACCEPT',
      '-A TCP -i eth1 -p tcp -m tcp --dport 873 -j ACCEPT',
    ]));
    expect(v6.join('\n')).not.toMatch(/3306|15\.15\.15/);
    // the block sits after conntrack and loopback, before anything that accepts
    expect(v4.indexOf('-A INPUT -s 15.15.15.51/32 -j DROP')).toBe(v4.indexOf('-A INPUT -i lo -j ACCEPT') + 1);
  });

  test('trusted interfaces follow lo; DROP mode has no reject rules; ping off has no echo rule', () => {
    const h = new StatefulHost(stack(), 'h', { ruleComments: false, trustedInterfaces: ['eth1'], closedPortResponse: ClosedPortResponse.DROP, ping: false });
    const v4 = rules(h.renderRules(IpFamily.V4));
    expect(v4.slice(6, 9)).toEqual(['-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', '-A INPUT -i lo -j ACCEPT', '-A INPUT -i eth1 -j ACCEPT']);
    expect(v4.join('\n')).not.toMatch(/REJECT|icmp-type 8/);
  });

  test('outbound DROP: loopback, replies, ND (v6), ping and the allowed ports', () => {
    const h = new StatefulHost(stack(), 'h', { ruleComments: false, outbound: { policy: OutboundPolicy.DROP, allow: [Port.HTTPS, Port.udp(53)], allowTo: [Peer.ipv4('10.0.0.0/8')] } });
    const v4 = rules(h.renderRules(IpFamily.V4)).filter((l) => l.includes('OUTPUT'));
    expect(v4).toEqual([
      ':OUTPUT DROP [0:0]',
      '-A OUTPUT -o lo -j ACCEPT',
      '-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-A OUTPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT',
      '-A OUTPUT -d 10.0.0.0/8 -j ACCEPT',
      '-A OUTPUT -p tcp -m tcp --dport 443 -j ACCEPT',
      '-A OUTPUT -p udp -m udp --dport 53 -j ACCEPT',
    ]);
    const v6 = rules(h.renderRules(IpFamily.V6)).filter((l) => l.includes('OUTPUT') && l.includes('icmpv6-type'));
    expect(v6).toEqual([133, 135, 136, 143, 128].map((t) => `-A OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j ACCEPT`));
  });

  test('any add order gives the same bytes', () => {
    const a = new StatefulHost(stack(), 'h', { ruleComments: false, allow: [Port.HTTPS, Port.SSH, Port.HTTP] });
    a.allowFrom(Peer.ipv4('10.0.0.0/8'), Port.tcp(3306));
    a.block(Peer.ipv4('192.0.2.1'));
    const b = new StatefulHost(stack(), 'h', { ruleComments: false, allow: [Port.HTTP] });
    b.block(Peer.ipv4('192.0.2.1'));
    b.allowFrom(Peer.ipv4('10.0.0.0/8'), Port.tcp(3306));
    b.allow(Port.SSH);
    b.allow(Port.HTTPS);
    for (const f of [IpFamily.V4, IpFamily.V6]) expect(a.renderRules(f)).toBe(b.renderRules(f));
  });

  test('rendering again after a change shows the change (methods and parts added later)', () => {
    const h = new StatefulHost(stack(), 'h', { ruleComments: false, allow: [Port.SSH] });
    const first = h.renderRules(IpFamily.V4);
    expect(h.renderRules(IpFamily.V4)).toBe(first);
    h.allow(Port.HTTPS);
    expect(h.renderRules(IpFamily.V4)).toContain('--dport 443');
    h.block(Peer.ipv4('192.0.2.7'));
    expect(h.renderRules(IpFamily.V4)).toContain('-s 192.0.2.7/32 -j DROP');
    new PortScanTrap(new Construct(h, 'group'), 'trap');
    expect(h.renderRules(IpFamily.V4)).toContain('TCP-PORTSCAN');
  });

  test('reversePathFilter: false leaves the raw table out', () => {
    expect(new StatefulHost(stack(), 'h', { ruleComments: false, reversePathFilter: false }).renderRules(IpFamily.V6)).not.toContain('*raw');
  });
});

describe('StatefulHost: synth output', () => {
  test('writes both files into the stack folder, byte-identical across runs', () => {
    const outputs = [0, 1].map(() => {
      const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-'));
      const app = new App({ outdir });
      const st = new TerraformStack(app, 'prod');
      const group = new Construct(st, 'edge');
      const h = new StatefulHost(group, 'web', { ruleComments: false, allow: [Port.SSH, Port.HTTPS] });
      app.synth();
      const dir = path.join(outdir, 'stacks', 'prod', 'firewall', 'edge', 'web');
      expect(h.outputFolder).toBe('firewall/edge/web');
      expect(h.ruleFiles().map((f) => f.relativePath)).toEqual(['firewall/edge/web/iptables.rules', 'firewall/edge/web/ip6tables.rules']);
      const v4 = fs.readFileSync(path.join(dir, 'iptables.rules'), 'utf8');
      const v6 = fs.readFileSync(path.join(dir, 'ip6tables.rules'), 'utf8');
      expect(v4).toBe(h.renderRules(IpFamily.V4));
      expect(v6).toBe(h.renderRules(IpFamily.V6));
      return v4 + v6;
    });
    expect(outputs[0]).toBe(outputs[1]);
  });

  test('ipv6: false writes only iptables.rules, and says IPv6 is unfiltered', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-'));
    const app = new App({ outdir });
    const h = new StatefulHost(new TerraformStack(app, 's'), 'h', { ruleComments: false, ipv6: false, allow: [Port.SSH] });
    app.synth();
    expect(fs.readdirSync(path.join(outdir, 'stacks', 's', 'firewall', 'h'))).toEqual(['iptables.rules', 'reachability.txt']);
    expect(() => h.renderRules(IpFamily.V6)).toThrow(/\[s\/h\] renders no ip6tables.rules: the host has ipv6: false/);
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
    expect(JSON.stringify(manifest)).toMatch(/IPv6 traffic is not filtered/);
  });

  test('a host that admits no SSH gets a lock-out warning', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-'));
    const app = new App({ outdir });
    new StatefulHost(new TerraformStack(app, 's'), 'h', { ruleComments: false, allow: [Port.HTTPS] });
    app.synth();
    expect(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8')).toMatch(/no rule admits SSH/);
  });

  test('a failing validation anywhere writes no rule file at all', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-'));
    const app = new App({ outdir });
    const st = new TerraformStack(app, 's');
    new StatefulHost(st, 'a', { ruleComments: false, allow: [Port.SSH] });
    new StatefulHost(st, 'b', { ruleComments: false, allow: [Port.SSH] });
    st.node.addValidation({ validate: () => ['something else is wrong'] });
    expect(() => app.synth()).toThrow(/something else is wrong/);
    expect(fs.existsSync(path.join(outdir, 'stacks', 's', 'firewall'))).toBe(false);
  });

  test('Testing.synth with validations passes for a good host', () => {
    const st = new TerraformStack(Testing.app(), 's');
    new StatefulHost(st, 'h', { ruleComments: false, allow: [Port.SSH] });
    expect(() => Testing.synth(st, true)).not.toThrow();
  });

  test('odd construct ids become safe, distinct folder names', () => {
    const st = stack();
    const a = new StatefulHost(st, 'web 1', { ruleComments: false, allow: [Port.SSH] });
    const b = new StatefulHost(st, 'web_1', { ruleComments: false, allow: [Port.SSH] });
    expect(a.outputFolder).toMatch(/^firewall\/web_1-[0-9a-f]{8}$/);
    expect(b.outputFolder).toBe('firewall/web_1');
    expect(a.renderRules(IpFamily.V4).split('\n')[0]).toContain('stack/web 1');
  });
});

describe('StatefulHost: bad input names the construct path, the value and the fix', () => {
  const cases: Array<[string, (st: TerraformStack) => unknown, RegExp]> = [
    ['a port out of range in props', (st) => new StatefulHost(st, 'web', { ruleComments: false, allow: [Port.SSH, Port.tcp(70000)] }), /^\[stack\/web\] allow\[1\]: port 70000 of tcp is not a whole number from 1 to 65535\. Use a port from 1 to 65535\.$/],
    ['a backwards range via allow()', (st) => new StatefulHost(st, 'web', { ruleComments: false }).allow(Port.udpRange(9, 1)), /\[stack\/web\] allow\(\): port range 9-1 of udp runs backwards\. Did you mean Port\.udpRange\(1, 9\)\?/],
    ['a CIDR with host bits', (st) => new StatefulHost(st, 'web', { ruleComments: false }).allowFrom(Peer.ipv4('15.15.15.1/24'), Port.tcp(3306)), /\[stack\/web\] allowFrom\(\) peer: Peer\.ipv4\("15\.15\.15\.1\/24"\) has host bits set\. Did you mean 15\.15\.15\.0\/24/],
    ['a garbage address', (st) => new StatefulHost(st, 'web', { ruleComments: false }).block(Peer.ipv4('15.15.15.300')), /\[stack\/web\] block\(\): Peer\.ipv4\("15\.15\.15\.300"\) is not an IPv4 address/],
    ['an interface name too long', (st) => new StatefulHost(st, 'web', { ruleComments: false }).allowOn('averyveryverylongif', Port.SSH), /\[stack\/web\] allowOn\(\) interface: interface name "averyveryverylongif" is 19 characters long/],
    ['an interface name with a quote', (st) => new StatefulHost(st, 'web', { ruleComments: false, trustedInterfaces: ['eth0"; reboot'] }), /\[stack\/web\] trustedInterfaces\[0\]: interface name "eth0\\"; reboot" is not a valid Linux interface name/],
    ['lo as a trusted interface', (st) => new StatefulHost(st, 'web', { ruleComments: false, trustedInterfaces: ['lo'] }), /\[stack\/web\] trustedInterfaces\[0\] is "lo", which is always trusted/],
    ['an interface listed twice', (st) => new StatefulHost(st, 'web', { ruleComments: false, trustedInterfaces: ['eth1', 'eth1'] }), /lists "eth1" twice/],
    ['an IPv6 peer on an IPv4-only host', (st) => new StatefulHost(st, 'web', { ruleComments: false, ipv6: false }).allowFrom(Peer.ipv6('2001:db8::/64'), Port.SSH), /\[stack\/web\] allowFrom\(\) peer: 2001:db8::\/64 is an IPv6 peer, but the host has ipv6: false/],
    ['an empty id', (st) => new StatefulHost(st, '', { ruleComments: false }), /\[stack\] a StatefulHost needs a non-empty id, got ""/],
    ['a port opened twice', (st) => new StatefulHost(st, 'web', { ruleComments: false, allow: [Port.SSH] }).allow(Port.tcp(22)), /\[stack\/web\] allow\(\) opens tcp\/22, which is already open/],
    ['an allowFrom the block covers', (st) => { const h = new StatefulHost(st, 'web', { ruleComments: false }); h.block(Peer.ipv4('15.15.15.0/24')); h.allowFrom(Peer.ipv4('15.15.15.7'), Port.SSH); }, /\[stack\/web\] allowFrom\(\) admits 15\.15\.15\.7\/32 to tcp\/22, but block\(15\.15\.15\.0\/24\) drops all of it first/],
    ['a block covering an allowFrom', (st) => { const h = new StatefulHost(st, 'web', { ruleComments: false }); h.allowFrom(Peer.ipv4('15.15.15.7'), Port.SSH); h.block(Peer.ipv4('15.15.0.0/16')); }, /\[stack\/web\] block\(15\.15\.0\.0\/16\) conflicts with allowFrom\(15\.15\.15\.7\/32, tcp\/22\)/],
    ['blocking everyone', (st) => new StatefulHost(st, 'web', { ruleComments: false }).block(Peer.any()), /\[stack\/web\] block\(any\) would drop every source, SSH included, and lock you out/],
    ['a peer blocked twice', (st) => { const h = new StatefulHost(st, 'web', { ruleComments: false }); h.block(Peer.ipv4('1.2.3.4')); h.block(Peer.ipv4('1.2.3.4/32')); }, /block\(1\.2\.3\.4\/32\) is given twice/],
    ['outbound lists without DROP', (st) => new StatefulHost(st, 'web', { ruleComments: false, outbound: { allow: [Port.HTTPS] } }), /\[stack\/web\] outbound\.allow \/ outbound\.allowTo only mean something with outbound\.policy DROP/],
    ['a bad enum', (st) => new StatefulHost(st, 'web', { ruleComments: false, closedPortResponse: 'MAYBE' as any }), /\[stack\/web\] closedPortResponse is "MAYBE"\. Use one of REJECT, DROP\./],
    ['a non-Port', (st) => new StatefulHost(st, 'web', { ruleComments: false, allow: [22 as any] }), /\[stack\/web\] allow\[0\] is 22, not a Port/],
    ['a part outside a host', (st) => StatefulHost.of(new Construct(st, 'loose')), /\[stack\/loose\] is not inside a StatefulHost/],
  ];
  test.each(cases)('%s', (_name, make, msg) => {
    expect(() => make(stack())).toThrow(msg);
  });

  test('a good value is accepted and StatefulHost.of finds the host from below', () => {
    const h = new StatefulHost(stack(), 'web', { ruleComments: false });
    expect(StatefulHost.of(new Construct(new Construct(h, 'a'), 'b'))).toBe(h);
    expect(StatefulHost.isStatefulHost(h)).toBe(true);
    expect(StatefulHost.isStatefulHost({})).toBe(false);
  });

  test('nothing half-written: a bad value leaves no partial host behind in the file', () => {
    const h = new StatefulHost(stack(), 'web', { ruleComments: false, allow: [Port.SSH] });
    const before = h.renderRules(IpFamily.V4);
    expect(() => h.allowFrom(Peer.ipv4('nope'), Port.HTTP)).toThrow();
    expect(h.renderRules(IpFamily.V4)).toBe(before);
  });
});
