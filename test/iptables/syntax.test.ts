import { IpFamily } from '../../lib';
import { quoteArg, renderIptablesSave } from '../../lib/iptables/syntax';
import { Ruleset } from '../../lib/rules/ruleset';

describe('renderIptablesSave', () => {
  test('declarations, ordered rules, COMMIT per table; raw before filter; no timestamps', () => {
    const rs = new Ruleset();
    rs.declareChain({ table: 'filter', name: 'INPUT', policy: 'DROP', families: [IpFamily.V4], owner: 'a' });
    rs.declareChain({ table: 'filter', name: 'ZED', families: [IpFamily.V4], owner: 'a' });
    rs.declareChain({ table: 'filter', name: 'ABC', families: [IpFamily.V4], owner: 'a' });
    rs.addRule({ table: 'filter', chain: 'INPUT', slot: 900, owner: 'a', args: { V4: ['-j', 'REJECT'] } });
    rs.addRule({ table: 'filter', chain: 'INPUT', slot: 100, owner: 'b', args: { V4: ['-j', 'ZED'] } });
    rs.addRule({ table: 'filter', chain: 'INPUT', slot: 100, owner: 'a', args: { V4: ['-j', 'ABC'] } });
    rs.addRule({ table: 'raw', chain: 'PREROUTING', slot: 1, owner: 'a', args: { V4: ['-j', 'ACCEPT'] } });
    expect(renderIptablesSave(IpFamily.V4, rs.ordered(IpFamily.V4), { header: 'hello' }).text.split('\n')).toEqual([
      '# hello',
      '*raw',
      ':PREROUTING ACCEPT [0:0]',
      ':OUTPUT ACCEPT [0:0]',
      '-A PREROUTING -j ACCEPT',
      'COMMIT',
      '*filter',
      ':INPUT DROP [0:0]',
      ':FORWARD ACCEPT [0:0]',
      ':OUTPUT ACCEPT [0:0]',
      ':ABC - [0:0]',
      ':ZED - [0:0]',
      '-A INPUT -j ABC',
      '-A INPUT -j ZED',
      '-A INPUT -j REJECT',
      'COMMIT',
      '',
    ]);
    expect(renderIptablesSave(IpFamily.V6, rs.ordered(IpFamily.V6)).text).toBe('\n');
  });

  test('identical rules are emitted once; numbers sort as numbers', () => {
    const rs = new Ruleset();
    rs.declareChain({ table: 'filter', name: 'TCP', families: [IpFamily.V4], owner: 'a' });
    for (const p of ['443', '22', '80', '22']) {
      rs.addRule({ table: 'filter', chain: 'TCP', slot: 500, owner: 'a', args: { V4: ['-p', 'tcp', '--dport', p, '-j', 'ACCEPT'] } });
    }
    const lines = renderIptablesSave(IpFamily.V4, rs.ordered(IpFamily.V4)).text.split('\n').filter((l) => l.startsWith('-A'));
    expect(lines).toEqual(['-A TCP -p tcp --dport 22 -j ACCEPT', '-A TCP -p tcp --dport 80 -j ACCEPT', '-A TCP -p tcp --dport 443 -j ACCEPT']);
  });

  test('a jump to an undeclared chain is refused before anything leaves', () => {
    const rs = new Ruleset();
    rs.addRule({ table: 'filter', chain: 'INPUT', slot: 1, owner: 'a', args: { V4: ['-j', 'NOPE'] } });
    expect(() => renderIptablesSave(IpFamily.V4, rs.ordered(IpFamily.V4))).toThrow(/undeclared chain NOPE/);
  });

  test('conflicting policies name their owners', () => {
    const rs = new Ruleset();
    rs.declareChain({ table: 'filter', name: 'FORWARD', policy: 'DROP', families: [IpFamily.V4], owner: 's/a' });
    rs.declareChain({ table: 'filter', name: 'FORWARD', policy: 'ACCEPT', families: [IpFamily.V4], owner: 's/b' });
    expect(() => rs.ordered(IpFamily.V4)).toThrow(/\[s\/a, s\/b\] conflicting policies for filter FORWARD/);
  });

  test('quoting: bare when safe, double-quoted otherwise, newlines refused', () => {
    expect(quoteArg('--dport')).toBe('--dport');
    expect(quoteArg('fe80::/10')).toBe('fe80::/10');
    expect(quoteArg('DROP: ')).toBe('"DROP: "');
    expect(quoteArg('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(() => quoteArg('a\nb')).toThrow(/cannot go into a rule file/);
  });
});
