/** The README's "Testing your firewall" example, verbatim but for the import paths. */
import '../../lib/testing'; // registers toAccept / toDrop / toReject
import { App, TerraformStack } from 'cdktf';
import { Action, ConnState, IpFamily, Peer, Port, PortScanTrap, Protocol, SshBruteforceGuard, StatefulHost } from '../../lib';

const host = new StatefulHost(new TerraformStack(new App(), 'prod'), 'web', { allow: [Port.SSH, Port.HTTPS] });
host.allowFrom(Peer.ipv4('192.0.2.0/24'), Port.tcp(5432));
new SshBruteforceGuard(host, 'ssh-guard');
new PortScanTrap(host, 'trap', { seconds: 60 });

const syn = (source: string, destinationPort: number) =>
  ({ family: IpFamily.V4, protocol: Protocol.TCP, source, destinationPort });

test('PostgreSQL only from the admin network', () => {
  expect(host).toAccept(syn('192.0.2.10', 5432));
  expect(host).toReject(syn('198.51.100.7', 5432), 'tcp-reset');
  expect(host).toAccept(syn('198.51.100.7', 443));
  expect(host).toAccept({ ...syn('198.51.100.7', 5000), state: ConnState.ESTABLISHED, tcpFlags: 'ACK' });
  expect(host).toDrop({ ...syn('198.51.100.7', 443), state: ConnState.INVALID });
});

test('the 4th SSH attempt inside 10 s is dropped', () => {
  const v = host.simulate([0, 1, 2, 3].map((at) => ({ at, ...syn('198.51.100.7', 22) })));
  expect(v.map((x) => x.action)).toEqual([Action.ACCEPT, Action.ACCEPT, Action.ACCEPT, Action.DROP]);
});

test('after touching a closed port, a scanner sees every port closed', () => {
  const v = host.simulate([{ at: 0, ...syn('198.51.100.7', 8080) }, { at: 1, ...syn('198.51.100.7', 443) }]);
  expect(v[1]).toMatchObject({ action: Action.REJECT, rejectWith: 'tcp-reset' });
});

test('a failure prints the trace (the README excerpt)', () => {
  let message = '';
  try { expect(host).toAccept(syn('198.51.100.7', 5432)); } catch (e) { message = (e as Error).message; }
  expect(message).toMatch(/to be ACCEPT, the firewall says REJECT \(tcp-reset\)/);
});
