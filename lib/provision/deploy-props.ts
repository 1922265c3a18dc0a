/**
 * The deploy settings of a host: how its rules reach the machine over SSH.
 * StatefulHostProps extends these; they are checked here, before use.
 */
import { SshConnection } from './connection';
import { Distro } from './distro';
import { ForeignRules } from './foreign-rules';
import { Installer } from './installer';

/**
 * How a host's rules are deployed (part of {@link StatefulHostProps}).
 * @example { connection: { host: '203.0.113.10', privateKey: key.stringValue }, rollbackSeconds: 60 }
 */
export interface DeployProps {
  /**
   * Deploy the rules to the host over SSH with Terraform provisioners: upload,
   * test on the host, load with an armed rollback, confirm over a new
   * connection, persist and enable the units.
   * @default - files only: nothing is deployed
   */
  readonly connection?: SshConnection;

  /**
   * The target's distro: rule file paths and units.
   * @default Distro.DEBIAN
   */
  readonly distro?: Distro;

  /**
   * The resource type that carries the provisioners.
   * @default Installer.NULL_RESOURCE (cdktf-iptables); Installer.TERRAFORM_DATA (cdktn-iptables, CDK Terrain)
   */
  readonly installer?: Installer;

  /**
   * Seconds after the new rules are loaded (counted from the end of the load)
   * before the host restores its previous rules unless
   * a new connection confirmed the new ones (5 to 3600).
   * @default 30
   */
  readonly rollbackSeconds?: number;

  /**
   * Stop (and on confirm, mask) an active firewalld, ufw or nftables service
   * instead of failing.
   * @default false
   */
  readonly takeOver?: boolean;

  /**
   * Rules of other tools that a deploy keeps: Docker's chains and forwarding
   * rules, fail2ban's bans, or chains you name. They are merged into the new
   * rules on the host at load time (atomically); nothing of theirs is persisted.
   * @default - none: a load replaces whole tables, other tools' rules included
   * @example [ForeignRules.DOCKER, ForeignRules.FAIL2BAN]
   */
  readonly keepForeignRules?: ForeignRules[];
}
