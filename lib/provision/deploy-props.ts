/**
 * The deploy settings of a host: how its rules reach the machine over SSH.
 * StatefulHostProps extends these; they are checked here, before use.
 */
import { SshConnection } from './connection';
import { Distro } from './distro';
import { ForeignRules } from './foreign-rules';
import { Installer } from './installer';

/**
 * The drift check of a host (part of {@link DeployProps}): a systemd timer on
 * the host compares the live rules with the persisted files, logs drift to
 * the journal (identifier `cdktf-iptables`) and, with `repair`, loads the
 * persisted rules again.
 *
 * @example { intervalSeconds: 60, repair: true }
 */
export interface DriftCheckOptions {
  /**
   * Install the timer. `false` installs none (a deploy removes one an earlier
   * deploy installed); a deploy's stage still prints the drift its load replaces.
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * Seconds between two checks (10 to 86400). The first check runs one
   * interval after the timer starts (at boot, or when a deploy installs it).
   * @default 300
   */
  readonly intervalSeconds?: number;

  /**
   * Load the persisted rules and sets again when the live ones drifted, as a
   * deploy does: atomically, keeping the live rules of the tools named in
   * `keepForeignRules`. The drift is logged first.
   * @default false
   */
  readonly repair?: boolean;
}

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
   * With cloud-init user-data (no `connection`) they only tell the drift
   * check what is not ours.
   * @default - none: a load replaces whole tables, other tools' rules included
   * @example [ForeignRules.DOCKER, ForeignRules.FAIL2BAN]
   */
  readonly keepForeignRules?: ForeignRules[];

  /**
   * Check on a systemd timer that the live rules still equal the persisted
   * files (counters and the kept rules of other tools aside); log drift to the
   * journal (`journalctl -t cdktf-iptables`), with the added and removed rule
   * lines and the owner comments they carry; repair it if asked. Deploys over
   * SSH install it on confirm; cloud-init user-data carries it when `drift`
   * is set (its files take about 6.5 KB of the 16 KB AWS allows).
   * @default - deploys over SSH: checked every 300 s, logged, not repaired; cloud-init user-data: no check
   * @example { intervalSeconds: 60, repair: true }
   */
  readonly drift?: DriftCheckOptions;
}
