/**
 * Blocklists in the kernel: the rendered ipset sets are restored into the
 * firewalled namespace, then the rules that match them; real packets show a
 * blocked address and a blocked subnet (both families) silenced while their
 * neighbours pass.
 */
import { tcpSyn } from './probes';
import { savedRules } from './rules-io';
import { host, requireNetns, SRV, Topology } from './topology';
import { Blocklist, Peer, Port, StatefulHost } from '../../lib';

requireNetns();

/** 1,000 peers nobody in the lab uses: the sets hold real volume. */
const FILLER = Array.from({ length: 1000 }, (_, i) => Peer.ipv4(`10.${Math.floor(i / 256) % 256}.${i % 256}.0/24`));

function loadWithSets(topo: Topology, h: StatefulHost): void {
  const sets = h.ipsetRules();
  expect(sets).toBeDefined();
  topo.lab.exec(topo.srv, 'ipset', ['restore'], { input: sets });
  topo.load(h);
}

describe.each([
  ['a Blocklist', (h: StatefulHost) => new Blocklist(h, 'feed', { peers: [...FILLER, Peer.ipv4('192.0.2.2'), Peer.ipv6('2001:db8:2::/64'), Peer.ipv6('2001:db8:3::99')] })],
  ['block() beyond 16 peers', (h: StatefulHost) => {
    for (const p of FILLER.slice(0, 40)) h.block(p);
    h.block(Peer.ipv4('192.0.2.2'));
    h.block(Peer.ipv6('2001:db8:2::/64'));
    h.block(Peer.ipv6('2001:db8:3::99'));
  }],
])('%s', (_name, add) => {
  const topo = new Topology();
  let h: StatefulHost;
  beforeAll(async () => {
    await topo.up();
    h = host({ allow: [Port.SSH] }, (x) => add(x));
    loadWithSets(topo, h);
  });
  afterAll(() => topo.lab.destroy());

  test('the rules match sets (one rule per family), not one rule per peer', () => {
    const v4 = savedRules(topo.lab, topo.srv, 'v4');
    expect(v4.split('\n').filter((l) => l.includes('--match-set'))).toHaveLength(1);
    expect(v4).not.toContain('-s 10.0.0.0/24');
    expect(topo.lab.exec(topo.srv, 'ipset', ['list', '-t']).stdout).toMatch(/Number of entries: 10\d\d|Number of entries: 4\d/);
  });

  test('a blocked IPv4 address is silenced; its neighbour network passes; its IPv6 side passes', () => {
    expect(tcpSyn(topo.lab, topo.cl[2], SRV.v4[2], 22)).toMatchObject({ state: 'filtered', reason: 'no-response' });
    expect(tcpSyn(topo.lab, topo.cl[0], SRV.v4[0], 22)).toMatchObject({ state: 'open' });
    expect(tcpSyn(topo.lab, topo.cl[2], SRV.v6[2], 22)).toMatchObject({ state: 'open' });
  });

  test('a blocked IPv6 subnet is silenced; the same host over IPv4 passes', () => {
    expect(tcpSyn(topo.lab, topo.cl[1], SRV.v6[1], 22)).toMatchObject({ state: 'filtered', reason: 'no-response' });
    expect(tcpSyn(topo.lab, topo.cl[1], SRV.v4[1], 22)).toMatchObject({ state: 'open' });
    expect(tcpSyn(topo.lab, topo.cl[0], SRV.v6[0], 22)).toMatchObject({ state: 'open' });
  });

  test('a blocked single IPv6 address silences only itself', () => {
    // cl3 takes the blocked address 2001:db8:3::99 as well as its own
    topo.lab.exec(topo.cl[2], 'ip', ['addr', 'add', '2001:db8:3::99/64', 'dev', 'eth0', 'nodad']);
    const from99 = topo.lab.probe(topo.cl[2], 'nmap', ['-n', '-Pn', '-6', '-sS', '-p', '22', '-S', '2001:db8:3::99', '-e', 'eth0', '--max-retries', '1', '--host-timeout', '10s', SRV.v6[2]]);
    expect(from99.stdout).toMatch(/22\/tcp\s+filtered/);
    topo.lab.exec(topo.cl[2], 'ip', ['addr', 'del', '2001:db8:3::99/64', 'dev', 'eth0']);
    expect(tcpSyn(topo.lab, topo.cl[2], SRV.v6[2], 22)).toMatchObject({ state: 'open' });
  });
});
