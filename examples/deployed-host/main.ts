/**
 * A host whose rules are deployed over SSH: uploaded, tested on the host,
 * loaded with a rollback armed, confirmed over a new connection, persisted and
 * enabled as iptables.service / ip6tables.service.
 *
 *   TF_VAR_ssh_private_key="$(cat id_ed25519)" terraform apply   (in cdktf.out/stacks/deployed-host)
 *
 * Settings from the environment (the end-to-end test uses them):
 *   CFW_TARGET_HOST   the host's address            (default 203.0.113.10)
 *   CFW_INSTALLER     NULL_RESOURCE | TERRAFORM_DATA (default NULL_RESOURCE)
 *   CFW_VARIANT       base | https | closed          (closed: a tree that shuts SSH out, to see the rollback)
 *   CFW_ROLLBACK      rollback seconds              (default 30)
 *   CFW_TAKE_OVER     yes: stop and mask an active firewalld / ufw / nftables
 */
import { App, TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { Distro, Installer, Port, StatefulHost } from '../../lib';

export class DeployedHostStack extends TerraformStack {
  public readonly host: StatefulHost;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const key = new TerraformVariable(this, 'ssh_private_key', {
      type: 'string',
      sensitive: true,
      description: 'Private key (contents) that logs in to the host as root',
    });
    const variant = process.env.CFW_VARIANT ?? 'base';
    const allow = {
      base: [Port.SSH],
      https: [Port.SSH, Port.HTTPS],
      closed: [Port.HTTPS],
    }[variant];
    if (!allow) throw new Error(`CFW_VARIANT must be base, https or closed, not ${variant}`);
    this.host = new StatefulHost(this, 'web', {
      allow,
      distro: Distro.DEBIAN,
      installer: process.env.CFW_INSTALLER === 'TERRAFORM_DATA' ? Installer.TERRAFORM_DATA : Installer.NULL_RESOURCE,
      rollbackSeconds: Number(process.env.CFW_ROLLBACK ?? '30'),
      takeOver: process.env.CFW_TAKE_OVER === 'yes',
      connection: {
        host: process.env.CFW_TARGET_HOST ?? '203.0.113.10',
        user: 'root',
        privateKey: key.stringValue,
        timeout: '15s',
      },
    });
  }
}

if (require.main === module) {
  const app = new App();
  new DeployedHostStack(app, 'deployed-host');
  app.synth();
}
