/**
 * A fleet in one `cdktf deploy`: five booted hosts in one stack, applied at
 * -parallelism=1 with a short rollback window. Every host must be confirmed:
 * the rollback window covers only a host's own work, whatever Terraform's
 * scheduling.
 */
import { DeployApp } from './deploy-app';
import { sessionsSince, sshSessions, synthFleet } from './fleet-stack';
import { Fleet, Target } from './target';
import { normalizeRules } from '../kernel/rules-io';

describe('a fleet of five hosts at -parallelism=1', () => {
  let fleet: Fleet;
  let hosts: Target[];

  beforeAll(async () => {
    fleet = new Fleet();
    hosts = [0, 1, 2, 3, 4].map(() => fleet.target());
    await fleet.bootAll(hosts);
  }, 600_000);

  afterAll(() => fleet?.destroy());

  test('every host is confirmed, its rules live and its units enabled; at most 2 SSH sessions per host', () => {
    const app = new DeployApp(fleet, 'fleet');
    synthFleet(app, hosts, 8000, 5);
    const before = sshSessions(hosts);
    const out = app.apply(['-parallelism=1'], false);
    expect(`${out.stdout}${out.stderr}`).not.toMatch(/ROLLED BACK|rules rolled back to|Error/);
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/Apply complete! Resources: 5 added/);
    for (const h of hosts) {
      expect(normalizeRules(h.exec('iptables-save').stdout)).toEqual(normalizeRules(app.file(`web${h.index}`, 'iptables.rules')));
      expect(h.exec('systemctl is-enabled iptables.service ip6tables.service').stdout.split('\n').filter(Boolean)).toEqual(['enabled', 'enabled']);
      expect(h.exec('cat /var/lib/cdktf-iptables/confirmed').stdout.trim()).toMatch(/^[0-9a-f]{20}$/);
      expect(h.exec('test -e /run/cdktf-iptables/rolled-back', { check: false }).status).not.toBe(0);
    }
    expect(sessionsSince(hosts, before)).toEqual(hosts.map(() => 2));
    // a changed re-apply at -parallelism=1 too
    synthFleet(app, hosts, 8001, 5);
    app.apply(['-parallelism=1']);
    for (const h of hosts) expect(h.exec('iptables-save').stdout).toContain('--dport 8001');
  }, 600_000);
});
