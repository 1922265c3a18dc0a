/**
 * The compiled firewall: built once per host per synth, read by everything
 * downstream; honest errors at its edges.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import {
  Blocklist, CloudInitEncoding, FirewallPart, Installer, IpFamily, NatGateway, PartHost, PartRules, Peer, Port, PortScanTrap, SshBruteforceGuard,
  StatefulHost,
} from '../../lib';
import { compileStats } from '../../lib/firewall/compiled';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n';

describe('compiled once', () => {
  test('one compilation per host per synth, whatever reads it (files, deploy bundle, cloud-init, report, intent check)', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-compiled-'));
    try {
      const app = new App({ outdir });
      const stack = new TerraformStack(app, 'prod');
      const hosts = [0, 1, 2].map((i) => {
        const h = new StatefulHost(stack, `web${i}`, {
          allow: [Port.SSH, Port.HTTPS],
          installer: Installer.TERRAFORM_DATA,
          connection: { host: `192.0.2.${10 + i}`, privateKey: KEY },
        });
        h.allowFrom(Peer.ipv4(`10.${i}.0.0/16`), Port.tcp(5432));
        new SshBruteforceGuard(h, 'ssh-guard');
        new PortScanTrap(h, 'trap');
        new Blocklist(h, 'feed', { peers: Array.from({ length: 20 }, (_, k) => Peer.ipv4(`203.0.113.${k}`)) });
        return h;
      });
      hosts[0].cloudInit({ encoding: CloudInitEncoding.GZIP_BASE64 });
      const before = compileStats.count;
      app.synth();
      expect(compileStats.count - before).toBe(hosts.length);
      // reading again after synth compiles nothing more
      for (const h of hosts) {
        h.renderRules(IpFamily.V4);
        h.reachability(IpFamily.V6);
        h.evaluate({ family: IpFamily.V4, protocol: 'tcp' as any, source: '198.51.100.7', destinationPort: 22 });
      }
      expect(compileStats.count - before).toBe(hosts.length);
      // a part added later is in the next compilation
      new PortScanTrap(new StatefulHost(stack, 'late', { allow: [Port.SSH] }), 'trap');
      expect(() => Testing.synth(stack, true)).not.toThrow();
      expect(compileStats.count - before).toBe(hosts.length + 1);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

/** A part whose own code fails. */
class Broken extends FirewallPart {
  public constructor(scope: Construct, id: string) { super(scope, id); }
  public firewallRules(_host: PartHost): PartRules {
    throw new TypeError("Cannot read properties of undefined (reading 'port')");
  }
}

describe('honest errors', () => {
  test("an exception in a part's firewallRules() is that part's error: its path once, its message, no library bug", () => {
    const stack = new TerraformStack(new App(), 's');
    const h = new StatefulHost(stack, 'server', { allow: [Port.SSH] });
    new Broken(h, 'part');
    let message = '';
    try {
      Testing.synth(stack, true);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/\[s\/server\/part\] firewallRules\(\) threw TypeError: Cannot read properties of undefined \(reading 'port'\)\. The error comes from this part's own code: fix the part\./);
    expect(message).not.toMatch(/bug of cdktf-iptables/);
    expect(message).not.toMatch(/\[s\/server\] \[/);
    expect(() => h.renderRules(IpFamily.V4)).toThrow(/^\[s\/server\/part\] firewallRules\(\) threw TypeError/);
  });

  test('a conflict between two parts names the second part once', () => {
    const stack = new TerraformStack(new App(), 's');
    const h = new StatefulHost(stack, 'server', { allow: [Port.SSH] });
    new NatGateway(h, 'a', { wan: 'ppp0', lans: [{ iface: 'eth0', cidr: '192.168.0.0/24' }] });
    new NatGateway(h, 'b', { wan: 'ppp1', lans: [{ iface: 'eth1', cidr: '192.168.1.0/24' }] });
    expect(() => Testing.synth(stack, true)).toThrow(/\n {2}\[s\/server\/b\] chain "fw-interfaces" is already used by s\/server\/a\. A host takes one NatGateway/);
  });

  test('two hosts whose ids map to one folder fail synth, naming both; nothing is written', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-clash-'));
    try {
      const app = new App({ outdir });
      const stack = new TerraformStack(app, 'prod');
      const a = new StatefulHost(stack, 'web 1', { allow: [Port.SSH] });
      const b = new StatefulHost(stack, 'web_1-5bcf3c83', { allow: [Port.SSH] });
      expect(a.outputFolder).toBe(b.outputFolder);
      expect(() => app.synth()).toThrow(/\[prod\/web 1\] writes its files into firewall\/web_1-5bcf3c83, the folder of prod\/web_1-5bcf3c83 too/);
      expect(fs.existsSync(path.join(outdir, 'stacks', 'prod', 'firewall'))).toBe(false);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('a program error reached while Terraform values resolve is a validation error, not a resolution error', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-resolve-'));
    try {
      const app = new App({ outdir });
      const stack = new TerraformStack(app, 'prod');
      const h = new StatefulHost(stack, 'web', { allow: [Port.SSH], installer: Installer.TERRAFORM_DATA, connection: { host: '192.0.2.10', privateKey: KEY } });
      new PortScanTrap(h, 'a');
      new PortScanTrap(h, 'b');
      h.cloudInit();
      let message = '';
      try {
        app.synth();
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/^Validation failed with the following errors:\n {2}\[prod\/web\/b\] recent list "TCP-PORTSCAN" is already used by prod\/web\/a/);
      expect(message).not.toMatch(/Resolution error|Object creation stack/);
      expect(message).not.toContain(KEY);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
