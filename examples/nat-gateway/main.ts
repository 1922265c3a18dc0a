/**
 * The seed's two-LAN NAT gateway ("Setting up a NAT gateway"): ppp0 to the
 * Internet, 192.168.0.0/24 on eth0 and 10.3.0.0/16 on eth1, SSH (22) forwarded
 * to 192.168.0.5 and port 8000 to the web server 192.168.0.6:80. The gateway
 * itself only admits SSH from the LANs.
 */
import { App, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { NatGateway, Port, StatefulHost } from '../../lib';

export class NatGatewayStack extends TerraformStack {
  public readonly host: StatefulHost;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.host = new StatefulHost(this, 'gateway', {});
    this.host.allowOn('eth0', Port.SSH);
    this.host.allowOn('eth1', Port.SSH);
    new NatGateway(this.host, 'nat', {
      wan: 'ppp0',
      lans: [
        { iface: 'eth0', cidr: '192.168.0.0/24', ipv6Cidr: '2001:db8:0:1::/64' },
        { iface: 'eth1', cidr: '10.3.0.0/16', ipv6Cidr: '2001:db8:0:2::/64' },
      ],
      portForwards: [
        { port: Port.tcp(22), to: '192.168.0.5' },
        { port: Port.tcp(8000), to: '192.168.0.6', toPort: 80 },
      ],
    });
  }
}

if (require.main === module) {
  const app = new App();
  new NatGatewayStack(app, 'nat-gateway');
  app.synth();
}
