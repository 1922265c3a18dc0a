import * as fs from 'fs';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { Blocklist, IpFamily, Peer, Port, StatefulHost } from '../../lib';
import { tempDir } from '../temp';

const host = (props: object = {}) => new StatefulHost(new TerraformStack(new App(), 's'), 'web', { ruleComments: false, allow: [Port.SSH], ...props });

describe('Blocklist', () => {
  test('one set per family, one DROP rule per family in the block slot, entries sorted and unique', () => {
    const h = host();
    new Blocklist(h, 'feed', { peers: [Peer.ipv4('203.0.113.9'), Peer.ipv4('198.51.100.0/24'), Peer.ipv6('2001:db8::/48'), Peer.ipv4('203.0.113.9')] });
    expect(h.renderRules(IpFamily.V4)).toContain('-A INPUT -m set --match-set bl-feed-v4 src -j DROP');
    expect(h.renderRules(IpFamily.V6)).toContain('-A INPUT -m set --match-set bl-feed-v6 src -j DROP');
    const v4 = h.renderRules(IpFamily.V4).split('\n').filter((l) => l.startsWith('-A INPUT'));
    expect(v4.indexOf('-A INPUT -m set --match-set bl-feed-v4 src -j DROP')).toBe(2); // after conntrack and loopback
    expect(h.ipsetRules()).toBe([
      '# cdktf-iptables: ipset sets of s/web. Generated; edit the cdktf program, not this file.',
      'create bl-feed-v4 hash:net family inet hashsize 1024 maxelem 65536',
      'add bl-feed-v4 198.51.100.0/24',
      'add bl-feed-v4 203.0.113.9',
      'create bl-feed-v6 hash:net family inet6 hashsize 1024 maxelem 65536',
      'add bl-feed-v6 2001:db8::/48',
      '',
    ].join('\n'));
  });

  test('a list file: one address or CIDR a line, # comments, blank lines; errors name the line', () => {
    const dir = tempDir();
    const file = path.join(dir, 'feed.txt');
    fs.writeFileSync(file, '# a feed\n198.51.100.7\n\n203.0.113.0/24   # a net\n2001:db8:1::/64\n');
    const h = host();
    const bl = new Blocklist(h, 'feed', { file });
    expect(bl.size).toBe(3);
    expect(h.ipsetRules()).toContain('add bl-feed-v4 198.51.100.7\n');
    fs.writeFileSync(file, '198.51.100.7\n198.51.100.1/24\n');
    expect(() => new Blocklist(host(), 'bad', { file })).toThrow(/\[s\/web\/bad\] .*feed\.txt line 2: .*198\.51\.100\.1\/24/);
    expect(() => new Blocklist(host(), 'missing', { file: path.join(dir, 'nope.txt') })).toThrow(/\[s\/web\/missing\] file ".*nope\.txt" cannot be read \(ENOENT\)/);
    fs.writeFileSync(file, '2001:db8::1\n');
    expect(() => new Blocklist(host({ ipv6: false }), 'v6', { file })).toThrow(/line 1: 2001:db8::1 is an IPv6 address, but the host has ipv6: false/);
  });

  test('bad input is a synth error naming the part', () => {
    expect(() => new Blocklist(host(), 'empty', {})).toThrow(/\[s\/web\/empty\] blocks no peers/);
    expect(() => new Blocklist(host(), 'all', { peers: [Peer.anyIpv4()] })).toThrow(/\[s\/web\/all\] blocks 0\.0\.0\.0\/0, every source/);
    expect(() => new Blocklist(host(), 'name', { peers: [Peer.ipv4('198.51.100.7')], setName: 'bad name' })).toThrow(/\[s\/web\/name\] set name "bad name-v4"/);
    const h = host();
    new Blocklist(h, 'a', { peers: [Peer.ipv4('198.51.100.7')], setName: 'same' });
    new Blocklist(h, 'b', { peers: [Peer.ipv4('198.51.100.8')], setName: 'same' });
    expect(() => h.renderRules(IpFamily.V4)).toThrow(/ipset "same-v4" is already used by s\/web\/a/);
  });

  test('block() switches to sets beyond 16 peers with the same drops; 16 stay rules', () => {
    const sixteen = host();
    for (let i = 0; i < 16; i++) sixteen.block(Peer.ipv4(`203.0.113.${i}`));
    expect(sixteen.renderRules(IpFamily.V4)).toContain('-A INPUT -s 203.0.113.15/32 -j DROP');
    expect(sixteen.ipsetRules()).toBeUndefined();
    const many = host();
    for (let i = 0; i < 17; i++) many.block(Peer.ipv4(`203.0.113.${i}`));
    expect(many.renderRules(IpFamily.V4)).not.toContain('-s 203.0.113.15/32');
    expect(many.renderRules(IpFamily.V4)).toContain('-A INPUT -m set --match-set cfw-block-v4 src -j DROP');
    expect(many.renderRules(IpFamily.V6)).not.toContain('match-set'); // no IPv6 peers: no IPv6 set
    expect(many.ipsetRules()!.split('\n').filter((l) => l.startsWith('add cfw-block-v4'))).toHaveLength(17);
  });

  test('the same program gives byte-identical set files, whatever the add order', () => {
    const list = Array.from({ length: 300 }, (_, i) => Peer.ipv4(`10.${Math.floor(i / 256)}.${i % 256}.0/24`));
    const a = host();
    new Blocklist(a, 'f', { peers: list });
    const b = host();
    new Blocklist(b, 'f', { peers: [...list].reverse() });
    expect(a.ipsetRules()).toBe(b.ipsetRules());
  });

  test('the synth folder holds ipsets.rules next to the rule files', () => {
    const outdir = tempDir();
    const app = new App({ outdir });
    const h = new StatefulHost(new TerraformStack(app, 's'), 'web', { ruleComments: false, allow: [Port.SSH] });
    new Blocklist(h, 'feed', { peers: [Peer.ipv4('198.51.100.7')] });
    app.synth();
    expect(fs.readdirSync(path.join(outdir, 'stacks', 's', 'firewall', 'web')).sort()).toEqual(['ip6tables.rules', 'ipsets.rules', 'iptables.rules', 'reachability.txt']);
  });
});
