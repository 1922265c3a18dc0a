/** An app using the third-party parts: `npx ts-node app.ts` writes cdktf.out/. */
import { App, TerraformStack } from 'cdktf';
import { Peer } from 'cdktf-iptables';
import { Bastion } from './src';

const app = new App();
const stack = new TerraformStack(app, 'bastion');
new Bastion(stack, 'edge', { vpnInterface: 'eth2', database: Peer.ipv4('203.0.113.2/32') });
app.synth();
