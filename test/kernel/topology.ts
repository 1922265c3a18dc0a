/**
 * The kernel-test topology: a firewalled server and three clients.
 *
 *   cl1 (198.51.100.2, 2001:db8:1::2) ──eth0─┐
 *   cl2 (203.0.113.2,  2001:db8:2::2) ──eth1─┤ srv (the firewalled host)
 *   cl3 (192.0.2.2,    2001:db8:3::2) ──eth2─┘
 */
import { App, TerraformStack } from 'cdktf';
import { canUseNetns, Lab } from './lab';
import { startEchoServer } from './probes';
import { IpFamily, StatefulHost, StatefulHostProps } from '../../lib';

export const SRV = { v4: ['198.51.100.1', '203.0.113.1', '192.0.2.1'], v6: ['2001:db8:1::1', '2001:db8:2::1', '2001:db8:3::1'] };
export const CL = { v4: ['198.51.100.2', '203.0.113.2', '192.0.2.2'], v6: ['2001:db8:1::2', '2001:db8:2::2', '2001:db8:3::2'] };
export const FAMILIES = [['v4', IpFamily.V4], ['v6', IpFamily.V6]] as const;
/** Every port the server listens on, opened or not: a refusal must come from the firewall. */
export const TCP_LISTEN = [22, 80, 3306, 5432, 8080];
export const UDP_LISTEN = [53, 5353];

/** Fails the suite loudly (never skips) when the machine cannot run kernel tests. */
export function requireNetns(): void {
  beforeAll(() => {
    if (!canUseNetns()) {
      throw new Error('kernel tests need root and network namespaces (run as root; see README). Nothing was tested.');
    }
  });
}

/** A server and three clients; rules are loaded per test group. */
export class Topology {
  public readonly lab: Lab;
  public srv = '';
  public cl: string[] = [];

  /** @param labPrefix namespace prefix of this topology's lab (default `cfw`) */
  public constructor(labPrefix?: string) {
    this.lab = new Lab(labPrefix);
  }

  public async up(): Promise<void> {
    this.srv = this.lab.netns('srv');
    for (let i = 0; i < 3; i++) {
      const c = this.lab.netns(`cl${i + 1}`);
      this.cl.push(c);
      const net4 = (a: string) => `${a}/24`;
      const net6 = (a: string) => `${a}/64`;
      this.lab.link(this.srv, `eth${i}`, [net4(SRV.v4[i]), net6(SRV.v6[i])], c, 'eth0', [net4(CL.v4[i]), net6(CL.v6[i])]);
    }
    await startEchoServer(this.lab, this.srv, TCP_LISTEN, UDP_LISTEN);
  }

  /** Loads a host's files into srv (and flushes neighbour caches so IPv6 ND must pass the new rules). */
  public load(firewall: StatefulHost): void {
    for (const [fam, family] of FAMILIES) {
      if (firewall.families.includes(family)) this.lab.loadRules(this.srv, fam, firewall.renderRules(family));
    }
    for (const ns of [this.srv, ...this.cl]) {
      this.lab.exec(ns, 'ip', ['neigh', 'flush', 'all'], { check: false });
      this.lab.exec(ns, 'ip', ['-6', 'neigh', 'flush', 'all'], { check: false });
      this.lab.exec(ns, 'conntrack', ['-F'], { check: false });
    }
  }
}

export function host(props: StatefulHostProps, more?: (h: StatefulHost) => void): StatefulHost {
  const stack = new TerraformStack(new App(), 'kernel');
  const h = new StatefulHost(stack, 'srv', props);
  more?.(h);
  return h;
}

