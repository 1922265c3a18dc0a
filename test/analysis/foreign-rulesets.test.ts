/**
 * Rulesets other tools and people write: the extensions the library never
 * writes are read with the kernel's meaning, what cannot be decided offline
 * makes the verdict DEPENDS with the reason, and a rule that cannot be read
 * is noted without stopping the rest of the file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Action, ConnState, IpFamily, Protocol, Reach, RulesetEvaluator } from '../../lib';
import { PacketProps } from '../../lib/analysis/types';

const V4 = IpFamily.V4;
const V6 = IpFamily.V6;
const tcp = (source: string, port: number, extra: Partial<PacketProps> = {}): PacketProps =>
  ({ family: V4, protocol: Protocol.TCP, source, destinationPort: port, ...extra });
const filter = (rules: string[], policy = 'DROP') => `*filter\n:INPUT ${policy} [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${rules.join('\n')}\nCOMMIT\n`;

describe('extensions read with the kernel\'s meaning', () => {
  test('addrtype: LOCAL, BROADCAST, MULTICAST as the host sees them', () => {
    const ev = RulesetEvaluator.fromText(V4, filter([
      '-A INPUT -m addrtype --dst-type BROADCAST -j DROP',
      '-A INPUT -m addrtype --dst-type MULTICAST -j DROP',
      '-A INPUT -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 22 -j ACCEPT',
    ]), { localAddresses: ['192.0.2.1'] });
    expect(ev.notes).toEqual([]);
    expect(ev.evaluate(tcp('198.51.100.7', 22)).action).toBe(Action.ACCEPT);
    expect(ev.evaluate({ family: V4, protocol: Protocol.UDP, source: '198.51.100.7', destination: '255.255.255.255', destinationPort: 22, inInterface: 'eth0' }).trace)
      .toEqual(['filter INPUT #1: -A INPUT -m addrtype --dst-type BROADCAST -j DROP']);
    expect(ev.evaluate({ family: V4, protocol: Protocol.UDP, source: '198.51.100.7', destination: '224.0.0.251', destinationPort: 5353 }).trace)
      .toEqual(['filter INPUT #2: -A INPUT -m addrtype --dst-type MULTICAST -j DROP']);
  });

  test('the legacy placement of "!" (-d ! net, --dport ! 22) negates as the modern one does', () => {
    const ev = RulesetEvaluator.fromText(V4, filter([
      '-A INPUT -d ! 192.168.122.0/24 -p tcp --dport ! 22 -j REJECT --reject-with tcp-reset',
      '-A INPUT -j ACCEPT',
    ]));
    expect(ev.notes).toEqual([]);
    expect(ev.evaluate(tcp('198.51.100.7', 80, { destination: '192.0.2.1' })).action).toBe(Action.REJECT);
    expect(ev.evaluate(tcp('198.51.100.7', 22, { destination: '192.0.2.1' })).action).toBe(Action.ACCEPT);
    expect(ev.evaluate(tcp('198.51.100.7', 80, { destination: '192.168.122.5' })).action).toBe(Action.ACCEPT);
  });

  test('marks set in the walk are read by later tests; CONNMARK saves and restores', () => {
    const text = [
      '*mangle', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]',
      '-A PREROUTING -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff',
      '-A PREROUTING -s 10.0.0.0/8 -j MARK --set-xmark 0x2/0xffffffff',
      '-A PREROUTING -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff',
      'COMMIT',
      ...filter(['-A INPUT -m mark --mark 0x2 -j ACCEPT', '-A INPUT -m connmark --mark 0x2/0x2 -j ACCEPT']).trim().split('\n'),
    ].join('\n');
    const ev = RulesetEvaluator.fromText(V4, text);
    expect(ev.evaluate(tcp('10.1.2.3', 5432)).action).toBe(Action.ACCEPT);
    expect(ev.evaluate(tcp('198.51.100.7', 5432)).action).toBe(Action.DROP);
    // an established connection's mark comes from its earlier packets: unknown unless given
    const later = ev.evaluate(tcp('198.51.100.7', 5432, { state: ConnState.ESTABLISHED }));
    expect(later.action).toBe(Action.DEPENDS);
    expect(later.dependsOn!.join()).toMatch(/connection's mark/);
    expect(ev.evaluate(tcp('198.51.100.7', 5432, { state: ConnState.ESTABLISHED, connmark: 2 })).action).toBe(Action.ACCEPT);
  });

  test('a mark nothing in the ruleset sets depends on what set it outside', () => {
    const ev = RulesetEvaluator.fromText(V4, filter(['-A INPUT -m mark --mark 0x4000/0x4000 -j ACCEPT']));
    const v = ev.evaluate(tcp('198.51.100.7', 80));
    expect(v.action).toBe(Action.DEPENDS);
    expect(v.dependsOn).toEqual(['the packet\'s mark, set outside the ruleset (tc, a socket\'s SO_MARK; -m mark; give mark)']);
    expect(ev.evaluate(tcp('198.51.100.7', 80, { mark: 0x4000 })).action).toBe(Action.ACCEPT);
    expect(ev.evaluate(tcp('198.51.100.7', 80, { mark: 1 })).action).toBe(Action.DROP);
  });

  test('NOTRACK makes the packet UNTRACKED for the rest of the walk', () => {
    const text = [
      '*raw', ':PREROUTING ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', '-A PREROUTING -p udp -m udp --dport 53 -j NOTRACK', 'COMMIT',
      ...filter(['-A INPUT -m conntrack --ctstate UNTRACKED -j ACCEPT']).trim().split('\n'),
    ].join('\n');
    const ev = RulesetEvaluator.fromText(V4, text);
    expect(ev.evaluate({ family: V4, protocol: Protocol.UDP, source: '198.51.100.7', destinationPort: 53 }).action).toBe(Action.ACCEPT);
    expect(ev.evaluate({ family: V4, protocol: Protocol.UDP, source: '198.51.100.7', destinationPort: 54 }).action).toBe(Action.DROP);
  });

  test('targets that change nothing the verdict reads let the packet go on', () => {
    const text = [
      '*mangle', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]',
      '-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu',
      '-A POSTROUTING -p udp -m udp --dport 68 -j CHECKSUM --checksum-fill',
      '-A PREROUTING -j DSCP --set-dscp 0x00',
      'COMMIT',
      ...filter(['-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT']).trim().split('\n'),
    ].join('\n');
    const ev = RulesetEvaluator.fromText(V4, text);
    expect(ev.notes).toEqual([]);
    expect(ev.evaluate(tcp('198.51.100.7', 22)).action).toBe(Action.ACCEPT);
  });

  test('conntrack options: the first packet\'s tuple is the packet\'s; later ones depend', () => {
    const ev = RulesetEvaluator.fromText(V4, filter([
      '-A INPUT -m conntrack --ctstate NEW --ctproto tcp --ctorigdstport 443 --ctdir ORIGINAL -j ACCEPT',
      '-A INPUT -m conntrack --ctstatus ASSURED -j ACCEPT',
    ]));
    expect(ev.evaluate(tcp('198.51.100.7', 443)).action).toBe(Action.ACCEPT);
    expect(ev.evaluate(tcp('198.51.100.7', 444)).action).toBe(Action.DROP);
    expect(ev.evaluate(tcp('198.51.100.7', 444, { state: ConnState.ESTABLISHED })).action).toBe(Action.DEPENDS);
  });

  test('REDIRECT keeps the packet on the host, on the new port', () => {
    const text = [
      '*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]',
      '-A PREROUTING -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 8080', 'COMMIT',
      ...filter(['-A INPUT -p tcp -m tcp --dport 8080 -j ACCEPT']).trim().split('\n'),
    ].join('\n');
    const v = RulesetEvaluator.fromText(V4, text).evaluate(tcp('198.51.100.7', 80));
    expect(v).toMatchObject({ action: Action.ACCEPT, forwarded: false, translatedDestinationPort: 8080 });
  });

  test('IPv6: extension-header tests match no packet the evaluator models; the rest is read', () => {
    const ev = RulesetEvaluator.fromText(V6, '*filter\n:INPUT DROP [0:0]\n-A INPUT -m rt --rt-type 0 -j DROP\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n');
    expect(ev.notes).toEqual([]);
    expect(ev.evaluate({ family: V6, protocol: Protocol.TCP, source: '2001:db8::7', destinationPort: 22 }).action).toBe(Action.ACCEPT);
  });
});

describe('what cannot be decided offline', () => {
  test('the time of day: DEPENDS with the reason, in evaluate and in reachability ("maybe")', () => {
    const ev = RulesetEvaluator.fromText(V4, filter([
      '-A INPUT -p tcp -m tcp --dport 22 -m time --timestart 08:00 --timestop 18:00 --kerneltz -j ACCEPT',
      '-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT',
    ]));
    expect(ev.notes).toEqual([]);
    const v = ev.evaluate(tcp('198.51.100.7', 22));
    expect(v.action).toBe(Action.DEPENDS);
    expect(v.dependsOn).toEqual(['the time of day or date (-m time)']);
    expect(ev.evaluate(tcp('198.51.100.7', 80)).action).toBe(Action.ACCEPT);
    const r = ev.reachability();
    expect(r.entries).toContainEqual(expect.objectContaining({ protocol: 'tcp', ports: '22', reach: Reach.MAYBE, via: ['the time of day or date (-m time)'] }));
    expect(r.text).toMatch(/tcp 22 .* maybe .*\(depends on the time of day or date \(-m time\)\)/);
  });

  test('an undecidable test that does not change the outcome leaves the verdict decided', () => {
    const ev = RulesetEvaluator.fromText(V4, filter(['-A INPUT -m owner --uid-owner 0 -j LOG', '-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT']));
    expect(ev.evaluate(tcp('198.51.100.7', 22)).action).toBe(Action.ACCEPT);
  });

  test('a queue to userspace decides outside the ruleset', () => {
    const v = RulesetEvaluator.fromText(V4, filter(['-A INPUT -p tcp -j NFQUEUE --queue-num 0 --queue-bypass'])).evaluate(tcp('198.51.100.7', 22));
    expect(v.action).toBe(Action.DEPENDS);
    expect(v.dependsOn).toEqual(['a userspace program reading the queue (-j NFQUEUE)']);
  });

  test('unknown extensions are noted per rule and the rest of the file is still read', () => {
    const ev = RulesetEvaluator.fromText(V4, filter([
      '-A INPUT -m frobnicate --frob 3 ! --wibble -j ACCEPT',
      '-A INPUT -p tcp -m tcp --dport 22 -j WIBBLE --level 3',
      '-A INPUT -s 10.0.0.300 -j ACCEPT',
      '-A INPUT -p udp -m udp --dport 53 -j ACCEPT',
    ]));
    expect(ev.notes.map((n) => [n.line, n.note])).toEqual([
      [5, 'unsupported match -m frobnicate'],
      [6, 'unsupported target WIBBLE (not a target the evaluator knows, nor a chain of table filter)'],
      [7, expect.stringMatching(/10\.0\.0\.300/)],
    ]);
    const dns = ev.evaluate({ family: V4, protocol: Protocol.UDP, source: '198.51.100.7', destinationPort: 53 });
    expect(dns.action).toBe(Action.DEPENDS);
    expect(dns.dependsOn!.join('\n')).toMatch(/-m frobnicate/);
    const unknown = RulesetEvaluator.fromText(V4, filter(['-A INPUT -p tcp -m tcp --dport 22 -j WIBBLE', '-A INPUT -p udp -j ACCEPT']));
    expect(unknown.evaluate({ family: V4, protocol: Protocol.UDP, source: '198.51.100.7', destinationPort: 53 }).action).toBe(Action.ACCEPT);
  });
});

describe('Docker\'s rule layout', () => {
  const text = fs.readFileSync(path.join(__dirname, '..', 'e2e', 'docker-layout.rules'), 'utf8');
  const ev = RulesetEvaluator.fromText(V4, text, {
    localAddresses: ['192.0.2.1', '172.17.0.1'],
    routes: [{ cidr: '172.17.0.0/16', iface: 'docker0' }, { cidr: '0.0.0.0/0', iface: 'eth0' }],
  });

  test('is read whole, and a published port is forwarded to the container from anywhere', () => {
    expect(ev.notes).toEqual([]);
    const v = ev.evaluate(tcp('198.51.100.7', 8080, { destination: '192.0.2.1' }));
    expect(v).toMatchObject({ action: Action.ACCEPT, forwarded: true, outInterface: 'docker0', translatedDestination: '172.17.0.2', translatedDestinationPort: 80 });
  });
});
