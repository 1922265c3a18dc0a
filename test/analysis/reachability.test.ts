/** The reachability report: pinned text, determinism, and reachability.txt beside the rule files. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { IpFamily, NatGateway, Peer, Port, Reach, StatefulHost } from '../../lib';

function web(app = new App(), reverse = false): StatefulHost {
  const h = new StatefulHost(new TerraformStack(app, 'prod'), 'web', { allow: [Port.SSH, Port.HTTP, Port.HTTPS, Port.udp(53)] });
  const steps = [() => h.allowFrom(Peer.ipv4('15.15.15.0/24'), Port.tcp(3306)), () => h.block(Peer.ipv4('15.15.15.51'))];
  for (const s of reverse ? steps.reverse() : steps) s();
  return h;
}

test('the tour host, line by line', () => {
  expect(web().reachability(IpFamily.V4).text.split('\n').slice(4)).toEqual([
    'all                on lo            opened   from any',
    'all                on *             silent   from 15.15.15.51/32',
    'tcp 1-21           on *             refused  from any',
    'tcp 22             on *             opened   from any',
    'tcp 23-79          on *             refused  from any',
    'tcp 80             on *             opened   from any',
    'tcp 81-442         on *             refused  from any',
    'tcp 443            on *             opened   from any',
    'tcp 444-3305       on *             refused  from any',
    'tcp 3306           on *             opened   from 15.15.15.0/24',
    'tcp 3306           on *             refused  from any except 15.15.15.0/24',
    'tcp 3307-65535     on *             refused  from any',
    'udp 1-52           on *             refused  from any',
    'udp 53             on *             opened   from any',
    'udp 54-65535       on *             refused  from any',
    'icmp echo-request  on *             opened   from any',
    'other protocols    on *             refused  from any',
    '',
  ]);
});

test('entries are structured and the same whatever the order of declarations', () => {
  const a = web().reachability(IpFamily.V6);
  expect(web(new App(), true).reachability(IpFamily.V6)).toEqual(a);
  expect(a.entries).toContainEqual({ interfaces: ['*'], protocol: 'tcp', ports: '22', reach: Reach.OPENED, sources: ['any'], via: [] });
});

test('a NAT forward shows where it goes', () => {
  const h = new StatefulHost(new TerraformStack(new App(), 's'), 'gw', {});
  new NatGateway(h, 'nat', { wan: 'ppp0', lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }], portForwards: [{ port: Port.tcp(8000), to: '192.168.0.6', toPort: 80 }] });
  expect(h.reachability(IpFamily.V4).entries).toContainEqual({
    interfaces: ['ppp0'], protocol: 'tcp', ports: '8000', reach: Reach.OPENED, sources: ['any', 'except', '192.168.0.0/24'], via: [], forwardedTo: '192.168.0.6:80',
  });
});

test('synth writes reachability.txt beside the rule files, both families', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfwvd-reach-'));
  try {
    const app = new App({ outdir });
    const h = web(app);
    app.synth();
    const text = fs.readFileSync(path.join(outdir, 'stacks', 'prod', 'firewall', 'web', 'reachability.txt'), 'utf8');
    expect(text).toBe(`${h.reachability(IpFamily.V4).text}\n${h.reachability(IpFamily.V6).text}`);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
