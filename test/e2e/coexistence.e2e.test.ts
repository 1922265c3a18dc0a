/**
 * Other tools' rules survive our deploys (keepForeignRules): real fail2ban
 * (Debian's package, in an image layer) banning an address across a redeploy
 * and a reboot, and Docker's rule layout (loaded as Docker creates it) still
 * forwarding a published port to a container namespace after redeploys. A
 * control deploy without keepForeignRules shows what a plain restore wipes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { TerraformStack } from 'cdktf';
import { DeployApp } from './deploy-app';
import { Fleet, Target, TOOLS_LAYER, waitUntil } from './target';
import { ForeignRules, Installer, NatGateway, Port, StatefulHost } from '../../lib';
import { startEchoServer } from '../kernel/probes';

function web(stack: TerraformStack, key: string, t: Target, opts: { keep?: ForeignRules[]; nat?: boolean; extra?: Port[] }): StatefulHost {
  const host = new StatefulHost(stack, 'web', {
    allow: [Port.SSH, ...(opts.extra ?? [])],
    installer: Installer.TERRAFORM_DATA,
    rollbackSeconds: 10,
    keepForeignRules: opts.keep,
    connection: { host: t.v4, privateKey: key, timeout: '10s' },
  });
  if (opts.nat) new NatGateway(host, 'nat', { wan: 'eth0', lans: [{ iface: 'eth1', cidr: '192.168.7.0/24' }] });
  return host;
}

/** Applies; a failure shows terraform's output. */
function applied(app: DeployApp): void {
  const r = app.apply([], false);
  expect({ status: r.status, out: r.status === 0 ? '' : `${r.stdout}${r.stderr}`.split('\n').filter((l) => /cdktf-iptables|Error|rror/.test(l)).join('\n') }).toEqual({ status: 0, out: '' });
}


describe('other tools keep working across deploys (keepForeignRules)', () => {
  let fleet: Fleet;
  let docker: Target;
  let f2b: Target;

  beforeAll(async () => {
    fleet = new Fleet(TOOLS_LAYER);
    docker = fleet.target();
    f2b = fleet.target();
    await fleet.bootAll([docker, f2b]);
  }, 900_000);

  afterAll(() => fleet?.destroy());

  /** A new connection from `ns` to `addr:port` succeeds. */
  const connects = (ns: string, addr: string, port: number) => fleet.lab.probe(ns, 'nc', ['-z', '-w', '2', addr, String(port)]).status === 0;

  test('Docker: a published port still forwards to the container namespace after deploys', async () => {
    // the container: a namespace on a docker0 bridge inside the host's network namespace
    const ctr = fleet.lab.netns('ctr');
    fleet.lab.link(docker.ns, 'vethctr', [], ctr, 'eth0', ['172.17.0.2/16']);
    for (const cmd of [['link', 'add', 'docker0', 'type', 'bridge'], ['addr', 'add', '172.17.0.1/16', 'dev', 'docker0'], ['link', 'set', 'vethctr', 'master', 'docker0'], ['link', 'set', 'docker0', 'up']]) {
      fleet.lab.exec(docker.ns, 'ip', cmd);
    }
    fleet.lab.exec(docker.ns, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    fleet.lab.exec(ctr, 'ip', ['route', 'add', 'default', 'via', '172.17.0.1']);
    await startEchoServer(fleet.lab, ctr, [80]);
    docker.exec('iptables-restore --noflush', { input: fs.readFileSync(path.join(__dirname, 'docker-layout.rules'), 'utf8') });
    expect(connects(fleet.runner, docker.v4, 8080)).toBe(true);

    const app = new DeployApp(fleet, 'docker');
    app.synth((s, key) => web(s, key, docker, { keep: [ForeignRules.DOCKER] }));
    applied(app);
    expect(connects(fleet.runner, docker.v4, 8080)).toBe(true);
    expect(docker.exec('iptables-save').stdout).toMatch(/^-A FORWARD -j DOCKER-USER$/m);
    expect(docker.exec('iptables-save -t filter').stdout).toMatch(/^:INPUT DROP/m); // ours
    // ours are live too: a port nobody opened is refused
    expect(connects(fleet.runner, docker.v4, 8081)).toBe(false);

    // a changed tree that writes the nat table too (a NatGateway): Docker's DNAT is merged there
    app.synth((s, key) => web(s, key, docker, { keep: [ForeignRules.DOCKER], nat: true }));
    applied(app);
    expect(docker.exec('iptables-save -t nat').stdout).toContain('--to-destination 172.17.0.2:80');
    expect(connects(fleet.runner, docker.v4, 8080)).toBe(true);
    // the persisted file is ours alone
    expect(docker.exec('cat /etc/iptables/iptables.rules').stdout).not.toContain('DOCKER');

    // control: the same tree without keepForeignRules wipes Docker's rules, and the port is gone
    app.synth((s, key) => web(s, key, docker, { nat: true, extra: [Port.tcp(9)] }));
    applied(app);
    expect(docker.exec('iptables-save').stdout).not.toContain('DOCKER');
    expect(connects(fleet.runner, docker.v4, 8080)).toBe(false);
  }, 300_000);

  test('fail2ban: a ban survives a redeploy and a reboot', async () => {
    f2b.exec("printf '[sshd]\\nbackend = systemd\\nbantime = 1h\\n' > /etc/fail2ban/jail.d/zz-e2e.conf && systemctl restart fail2ban");
    await waitUntil('fail2ban to answer', () => f2b.exec('fail2ban-client ping', { check: false }).status === 0, 30_000);
    const banned = fleet.lab.netns('banned');
    fleet.lab.link(fleet.runner, 'vbanned', [], banned, 'eth0', ['198.51.100.66/24']);
    fleet.lab.exec(fleet.runner, 'ip', ['link', 'set', 'vbanned', 'master', 'br0']);
    const other = fleet.lab.netns('other');
    fleet.lab.link(fleet.runner, 'vother', [], other, 'eth0', ['198.51.100.67/24']);
    fleet.lab.exec(fleet.runner, 'ip', ['link', 'set', 'vother', 'master', 'br0']);
    expect(connects(banned, f2b.v4, 22)).toBe(true);
    f2b.exec('fail2ban-client set sshd banip 198.51.100.66');
    await waitUntil('the ban', () => f2b.exec('iptables-save').stdout.includes('-A f2b-sshd -s 198.51.100.66/32'), 20_000);
    expect(connects(banned, f2b.v4, 22)).toBe(false);

    const app = new DeployApp(fleet, 'f2b');
    app.synth((s, key) => web(s, key, f2b, { keep: [ForeignRules.FAIL2BAN] }));
    applied(app);
    app.synth((s, key) => web(s, key, f2b, { keep: [ForeignRules.FAIL2BAN], extra: [Port.HTTPS] }));
    applied(app);
    expect(f2b.exec('iptables-save').stdout).toMatch(/^-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd$/m);
    expect(f2b.exec('iptables-save').stdout).toContain('--dport 443');
    expect(connects(banned, f2b.v4, 22)).toBe(false);
    expect(connects(other, f2b.v4, 22)).toBe(true);
    expect(f2b.exec('cat /etc/iptables/iptables.rules').stdout).not.toContain('f2b-');

    await f2b.reboot();
    await waitUntil('fail2ban to restore its ban after the reboot', () => f2b.exec('iptables-save', { check: false }).stdout.includes('-A f2b-sshd -s 198.51.100.66/32'), 60_000);
    expect(f2b.exec('iptables-save').stdout).toContain('--dport 443'); // ours, from the unit
    expect(connects(banned, f2b.v4, 22)).toBe(false);
    expect(connects(other, f2b.v4, 22)).toBe(true);
  }, 300_000);
});
