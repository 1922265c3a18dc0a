/**
 * The single-host stateful firewall of the seed ("Firewall for a single
 * machine") with the everyday service rules: SSH, a web server, DNS, MySQL for
 * one subnet only, and one blocked address. Synthesize with
 * `npx projen synth:example` (or `cdktf synth` in this folder).
 */
import { App, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { Peer, Port, StatefulHost } from '../../lib';

export class SingleHostStack extends TerraformStack {
  public readonly host: StatefulHost;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.host = new StatefulHost(this, 'web', {
      allow: [Port.SSH, Port.HTTP, Port.HTTPS, Port.udp(53)],
    });
    this.host.allowFrom(Peer.ipv4('15.15.15.0/24'), Port.tcp(3306));
    this.host.allowFrom(Peer.ipv6('2001:db8:15::/64'), Port.tcp(3306));
    this.host.block(Peer.ipv4('15.15.15.51'));
  }
}

if (require.main === module) {
  const app = new App();
  new SingleHostStack(app, 'single-host');
  app.synth();
}
