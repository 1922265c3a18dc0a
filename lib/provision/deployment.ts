import { Construct } from 'constructs';
import { connectionProblem } from './connection';
import type { DeployProps } from './deploy-props';
import { Distro, distroProfile } from './distro';
import { driftSettings } from './drift';
import { ForeignRules } from './foreign-rules';
import { DeployContent, HostInstaller, Installer } from './installer';
import type { PropReader } from '../constructs/props';
import { IpFamily } from '../iptables/family';
import { DEFAULT_INSTALLER } from '../private/cdktf';
import { firewallError, showValue } from '../private/errors';

/** Default seconds before an unconfirmed load is rolled back. */
export const DEFAULT_ROLLBACK_SECONDS = 30;

/**
 * Extra seconds the deploy pass of the brute-force guards lasts beyond the
 * rollback window: the confirm runs inside the window, so the pass never
 * outlives a deploy by more than this.
 */
export const DEPLOY_PASS_MARGIN_SECONDS = 60;

/** The xt_recent list that lets the deploying client past the guards. */
export const DEPLOY_PASS_LIST = 'cfwdeploy';

/** What the host gives its deployment. */
export interface DeploymentSource {
  readonly families: readonly IpFamily[];
  /** The host's folder in the synth output. */
  readonly folder: string;
  /** The firewall's files and hints, rendered at synth. */
  readonly content: () => DeployContent;
}

/**
 * Checks a host's deploy settings and, with a `connection`, creates the
 * resource that deploys its rules (`<host>/deploy`). Returns undefined for a
 * files-only host.
 */
export function createDeployment(host: Construct, settings: DeployProps, source: DeploymentSource): HostInstaller | undefined {
  const where = host.node.path;
  const distro = checkEnum(where, 'distro', settings.distro ?? Distro.DEBIAN, Distro);
  void distro;
  // used by cloud-init user-data too: checked with or without a connection
  const keep = checkKeep(where, settings.keepForeignRules);
  const drift = driftSettings(where, settings.drift);
  if (settings.connection === undefined) {
    const deployOnly = [settings.installer, settings.rollbackSeconds, settings.takeOver];
    if (deployOnly.some((v) => v !== undefined)) {
      throw firewallError(where, {
        message: 'installer, rollbackSeconds and takeOver only apply to a deploy, and connection is not set',
        fix: 'Add connection: { host, privateKey, ... }, or drop those settings.',
      });
    }
    return undefined;
  }
  const problem = connectionProblem(settings.connection);
  if (problem) throw firewallError(where, problem);
  const installer = checkEnum(where, 'installer', settings.installer ?? Installer[DEFAULT_INSTALLER], Installer);
  const rollbackSeconds = settings.rollbackSeconds ?? DEFAULT_ROLLBACK_SECONDS;
  if (typeof rollbackSeconds !== 'number' || !Number.isInteger(rollbackSeconds) || rollbackSeconds < 5 || rollbackSeconds > 3600) {
    throw firewallError(where, { message: `rollbackSeconds is ${showValue(rollbackSeconds)}; it must be a whole number from 5 to 3600` });
  }
  const takeOver = settings.takeOver ?? false;
  if (typeof takeOver !== 'boolean') {
    throw firewallError(where, { message: `takeOver is ${showValue(takeOver)}, not a boolean`, fix: 'Use takeOver: true or false (not a string).' });
  }
  try {
    return new HostInstaller(host, 'deploy', {
      keep,
      installer,
      connection: settings.connection,
      profile: distroProfile(settings.distro ?? Distro.DEBIAN),
      families: source.families,
      hostPath: where,
      folder: source.folder,
      rollbackSeconds,
      takeOver,
      drift,
      content: source.content,
    });
  } catch (e) {
    if ((e as Error).name === 'FirewallConfigError') throw firewallError(where, { message: (e as Error).message });
    throw e;
  }
}

/** Checks `keepForeignRules`; errors name the host. */
export function checkKeep(where: string, value: unknown): ForeignRules[] {
  const keep = value ?? [];
  if (!Array.isArray(keep)) throw firewallError(where, { message: `keepForeignRules is ${showValue(keep)}, not an array`, fix: 'Use e.g. [ForeignRules.DOCKER, ForeignRules.FAIL2BAN].' });
  keep.forEach((k, i) => {
    if (!ForeignRules.isForeignRules(k)) throw firewallError(where, { message: `keepForeignRules[${i}] is ${showValue(k)}, not a ForeignRules`, fix: 'Use ForeignRules.DOCKER, ForeignRules.FAIL2BAN or ForeignRules.of({ chains, interfaces }).' });
    const globs = k._problem();
    if (globs) throw firewallError(where, { message: `keepForeignRules[${i}] ${globs.message}`, fix: globs.fix });
  });
  return keep;
}

/** The seconds a deploy pass lasts for a rollback window. */
export function deployPassSeconds(rollbackSeconds: number): number {
  return rollbackSeconds + DEPLOY_PASS_MARGIN_SECONDS;
}

function checkEnum<T extends string>(where: string, what: string, value: T, e: Record<string, string>): T {
  if (!Object.values(e).includes(value)) {
    throw firewallError(where, { message: `${what} is ${showValue(value)}`, fix: `Use one of ${Object.values(e).join(', ')}.` });
  }
  return value;
}

/**
 * Run-time types of the deploy settings, checked before they are used: a
 * `takeOver: "false"` from a config file must not mean true.
 */
export function checkDeployProps(r: PropReader, props: DeployProps): void {
  r.bool('takeOver', props.takeOver, false);
  r.num('rollbackSeconds', props.rollbackSeconds, 30);
  r.enumOf('installer', props.installer, Installer, Installer.NULL_RESOURCE);
  r.enumOf('distro', props.distro, Distro, Distro.DEBIAN);
  r.obj('connection', props.connection);
  const drift = r.obj('drift', props.drift);
  if (drift) {
    r.bool('drift.enabled', drift.enabled, true);
    r.num('drift.intervalSeconds', drift.intervalSeconds, 300);
    r.bool('drift.repair', drift.repair, false);
  }
}
