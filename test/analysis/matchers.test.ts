/** The jest matchers users import from cdktf-iptables/lib/testing. */
import '../../lib/testing';
import { App, TerraformStack } from 'cdktf';
import { IpFamily, Peer, Port, Protocol, RulesetEvaluator, StatefulHost } from '../../lib';

const host = new StatefulHost(new TerraformStack(new App(), 's'), 'web', { ruleComments: false, allow: [Port.HTTPS] });
host.allowFrom(Peer.ipv4('192.0.2.0/24'), Port.SSH);
host.block(Peer.ipv4('203.0.113.66'));
const ssh = (source: string) => ({ family: IpFamily.V4, protocol: Protocol.TCP, source, destinationPort: 22 });

test('toAccept / toReject / toDrop on a host', () => {
  expect(host).toAccept(ssh('192.0.2.10'));
  expect(host).toReject(ssh('198.51.100.7'));
  expect(host).toReject(ssh('198.51.100.7'), 'tcp-reset');
  expect(host).toDrop(ssh('203.0.113.66'));
  expect(host).not.toAccept(ssh('198.51.100.7'));
});

test('on any iptables-save text', () => {
  const rules = RulesetEvaluator.fromText(IpFamily.V4, host.renderRules(IpFamily.V4));
  expect(rules).toAccept({ family: IpFamily.V4, protocol: Protocol.TCP, source: '198.51.100.7', destinationPort: 443 });
});

test('a failure prints the packet, the verdict and the trace', () => {
  let message = '';
  try {
    expect(host).toAccept(ssh('198.51.100.7'));
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).toContain('expected V4 tcp from 198.51.100.7 to the host:22 on eth0 state NEW to be ACCEPT, the firewall says REJECT (tcp-reset)');
  expect(message).toContain('filter INPUT #9: -A INPUT -p tcp -j REJECT --reject-with tcp-reset');
  expect(message).toContain('filter INPUT #7: -A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j TCP');
});

test('a verdict that depends on what the rules alone cannot tell fails with and without .not, naming what it depends on', () => {
  const rules = RulesetEvaluator.fromText(IpFamily.V4, '*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -m time --timestart 08:00 -j ACCEPT\nCOMMIT\n');
  expect(() => expect(rules).toAccept(ssh('198.51.100.7'))).toThrow(/depends on the time of day or date \(-m time\)/);
  expect(() => expect(rules).not.toAccept(ssh('198.51.100.7'))).toThrow(/depends on the time of day/);
  expect(() => expect(rules).toDrop(ssh('198.51.100.7'))).toThrow(/cannot be decided from the rules alone/);
});
