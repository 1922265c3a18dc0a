/**
 * Blocklists on a booted host: the sets are created by the first deploy,
 * swapped live by a redeploy, swapped back by a rollback, and restored at
 * boot before the rules.
 */
import { TerraformStack } from 'cdktf';
import { DeployApp } from './deploy-app';
import { Fleet, Target, TOOLS_LAYER } from './target';
import { Blocklist, Installer, Peer, Port, StatefulHost } from '../../lib';

const FILLER = Array.from({ length: 2000 }, (_, i) => Peer.ipv4(`10.${Math.floor(i / 256) % 256}.${i % 256}.0/24`));

function web(stack: TerraformStack, key: string, t: Target, blocked: string[], allow: Port[] = [Port.SSH]): StatefulHost {
  const host = new StatefulHost(stack, 'web', {
    allow,
    installer: Installer.TERRAFORM_DATA,
    rollbackSeconds: 15,
    connection: { host: t.v4, privateKey: key, timeout: '10s' },
  });
  new Blocklist(host, 'feed', { peers: [...FILLER, ...blocked.map((a) => Peer.ipv4(a))] });
  return host;
}

describe('a Blocklist deployed to a booted host', () => {
  let fleet: Fleet;
  let t: Target;
  const clients: Record<string, string> = {};

  beforeAll(async () => {
    fleet = new Fleet(TOOLS_LAYER);
    t = fleet.target();
    await t.boot();
    for (const last of [66, 67]) {
      const ns = fleet.lab.netns(`c${last}`);
      fleet.lab.link(fleet.runner, `vc${last}`, [], ns, 'eth0', [`198.51.100.${last}/24`]);
      fleet.lab.exec(fleet.runner, 'ip', ['link', 'set', `vc${last}`, 'master', 'br0']);
      clients[`198.51.100.${last}`] = ns;
    }
  }, 900_000);

  afterAll(() => fleet?.destroy());

  const connects = (addr: string) => fleet.lab.probe(clients[addr], 'nc', ['-z', '-w', '2', t.v4, '22']).status === 0;
  const members = () => t.exec('ipset list bl-feed-v4').stdout;

  test('first deploy creates the sets; a redeploy swaps them live; a rollback swaps them back; a reboot restores them before the rules', async () => {
    const app = new DeployApp(fleet, 'bl');
    app.synth((s, key) => web(s, key, t, ['198.51.100.66']));
    app.apply();
    expect(connects('198.51.100.66')).toBe(false);
    expect(connects('198.51.100.67')).toBe(true);
    expect(members()).toMatch(/Number of entries: 2001/);

    // redeploy: 66 unblocked, 67 blocked, swapped in live
    app.synth((s, key) => web(s, key, t, ['198.51.100.67']));
    app.apply();
    expect(connects('198.51.100.66')).toBe(true);
    expect(connects('198.51.100.67')).toBe(false);
    expect(t.exec('ipset list -n').stdout.split('\n').filter(Boolean).sort()).toEqual(['bl-feed-v4']);
    expect(t.exec('cat /etc/iptables/ipsets').stdout).toContain('add bl-feed-v4 198.51.100.67');

    // a tree that shuts SSH out and changes the list: rolled back, the previous set is back
    app.synth((s, key) => web(s, key, t, ['198.51.100.66'], [Port.HTTPS]));
    const failed = app.apply([], false);
    expect(failed.status).not.toBe(0);
    expect(`${failed.stdout}${failed.stderr}`).toMatch(/ROLLED BACK/);
    expect(members()).toContain('198.51.100.67');
    expect(members()).not.toContain('198.51.100.66');
    expect(connects('198.51.100.66')).toBe(true);
    expect(connects('198.51.100.67')).toBe(false);

    // reboot: the unit restores the persisted sets before the rules that match them
    await t.reboot();
    expect(t.exec('systemctl is-active cdktf-ipsets.service iptables.service').stdout.split('\n').filter(Boolean)).toEqual(['active', 'active']);
    expect(members()).toMatch(/Number of entries: 2001/);
    expect(t.exec('iptables-save').stdout).toContain('-m set --match-set bl-feed-v4 src -m comment --comment "bl/web/feed" -j DROP');
    expect(connects('198.51.100.67')).toBe(false);
    expect(connects('198.51.100.66')).toBe(true);
  }, 300_000);
});
