/**
 * A hardened web server: the stateful host plus the seed's defences, an SSH
 * brute-force guard, a port-scan trap (sparing the admin network), a SYN-flood
 * guard, rate-limited ping, a bogon filter on the public interface and a
 * rate-limited log of what is refused.
 */
import { App, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { BogonFilter, DropLogger, IcmpEchoLimit, Peer, Port, PortScanTrap, SshBruteforceGuard, StatefulHost, SynFloodGuard } from '../../lib';

export class HardenedWebStack extends TerraformStack {
  public readonly host: StatefulHost;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // the admin network (documentation ranges stand in for yours)
    const admin = [Peer.ipv4('198.51.100.0/24'), Peer.ipv6('2001:db8:100::/48')];
    this.host = new StatefulHost(this, 'web', { allow: [Port.HTTP, Port.HTTPS] });
    new SshBruteforceGuard(this.host, 'ssh-guard', { port: Port.SSH });
    new PortScanTrap(this.host, 'trap', { seconds: 60, exempt: admin });
    new SynFloodGuard(this.host, 'syn-flood', { perSecond: 20, burst: 40 });
    new IcmpEchoLimit(this.host, 'ping-limit', { perSecond: 2, burst: 10 });
    new BogonFilter(this.host, 'bogons', { iface: 'eth0', allow: admin });
    new DropLogger(this.host, 'log', { prefix: 'fw-drop: ' });
  }
}

if (require.main === module) {
  const app = new App();
  new HardenedWebStack(app, 'hardened-web');
  app.synth();
}
