/**
 * Moving a ufw host to cdktf-iptables: the host's present rules
 * (`ufw-before.v4.rules`, what `iptables-save` printed on it) and the tree
 * meant to replace them. After `cdktf synth`, see what the move changes:
 *
 *   npx cdktf-iptables diff examples/migration/ufw-before.v4.rules \
 *     examples/migration/cdktf.out/stacks/migration/firewall/db
 */
import { App, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { Peer, Port, StatefulHost } from '../../lib';

export class MigrationStack extends TerraformStack {
  public readonly host: StatefulHost;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.host = new StatefulHost(this, 'db', { allow: [Port.SSH] });
    this.host.allowFrom(Peer.ipv4('10.0.0.0/8'), Port.tcp(5432));
  }
}

if (require.main === module) {
  const app = new App();
  new MigrationStack(app, 'migration');
  app.synth();
}
