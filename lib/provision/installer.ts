import * as path from 'path';
import { Construct } from 'constructs';
import { durationSeconds, SshConnection } from './connection';
import { DistroProfile } from './distro';
import { IpFamily, ruleFileName } from '../model/family';
import { Aspects, DataResource, IAspect, IConstruct, Lazy, NullProvider, NullResource, TerraformProvider, TerraformStack } from '../private/cdktf';

/** Which Terraform resource carries the provisioners. */
export enum Installer {
  /** `null_resource` from the hashicorp/null provider (added to the stack when missing). */
  NULL_RESOURCE = 'NULL_RESOURCE',
  /** Terraform's built-in `terraform_data` (Terraform ≥ 1.4; no provider to download). */
  TERRAFORM_DATA = 'TERRAFORM_DATA',
}

/** Everything the installer resources need, already validated. */
export interface InstallSpec {
  readonly installer: Installer;
  readonly connection: SshConnection;
  readonly profile: DistroProfile;
  readonly families: readonly IpFamily[];
  /** Folder of the host's files, relative to the stack's synth folder. */
  readonly folder: string;
  /** Where the files are uploaded on the target (a fresh, private folder). */
  readonly staging: string;
  readonly rollbackSeconds: number;
  readonly takeOver: boolean;
  /** sysctl `key=value` settings, known at synth (parts may add them). */
  readonly sysctl: () => readonly string[];
  /** Content hashes of every uploaded file, computed at synth. */
  readonly hashes: () => Record<string, string>;
}

/** Support files written next to the rule files, uploaded to the target. */
export const SCRIPT_FILE = 'firewall.sh';
export const PROBE_FILE = 'probe.js';

/** The settings passed to firewall.sh (all ours: validated paths, numbers and names). */
export function scriptEnvironment(spec: InstallSpec): Record<string, string> {
  const fam = (f: IpFamily) => (f === IpFamily.V4 ? 'v4' : 'v6');
  return {
    CFW_FAMILIES: spec.families.map(fam).join(' '),
    CFW_ROLLBACK_SECS: String(spec.rollbackSeconds),
    CFW_RULES_V4: spec.profile.rulesPath[IpFamily.V4],
    CFW_RULES_V6: spec.profile.rulesPath[IpFamily.V6],
    CFW_UNIT_V4: spec.profile.unit[IpFamily.V4],
    CFW_UNIT_V6: spec.profile.unit[IpFamily.V6],
    CFW_SHIP_UNITS: spec.profile.shipUnits ? 'yes' : 'no',
    CFW_MASK: spec.profile.mask.join(' '),
    CFW_TAKE_OVER: spec.takeOver ? 'yes' : 'no',
    CFW_SYSCTL: spec.sysctl().join(' '),
  };
}

/** A POSIX shell word for one of our values (single-quoted). */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, '\'\\\'\'')}'`;
}

/** The remote command that runs firewall.sh as root (sudo -n for another user). */
export function remoteCommand(spec: InstallSpec, verb: 'stage' | 'confirm'): string[] {
  const env = Object.entries(scriptEnvironment(spec)).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ');
  const dir = shellQuote(spec.staging);
  return [
    'set -e',
    'if [ "$(id -u)" -ne 0 ]; then SUDO="sudo -n"; else SUDO=""; fi',
    `$SUDO env ${env} sh ${dir}/${SCRIPT_FILE} ${verb} ${dir}`,
  ];
}

/** The uploaded files: rule files, units and the script. */
export function uploadedFiles(spec: InstallSpec): string[] {
  return [...spec.families.map(ruleFileName), ...spec.families.map((f) => spec.profile.unit[f]), SCRIPT_FILE];
}

/**
 * The two resources that deploy a host's rules:
 *
 * 1. `install`: uploads the files to a private staging folder, has the host's
 *    own iptables test them, snapshots the live rules, arms a rollback and
 *    loads the new rules atomically;
 * 2. `confirm`: opens a NEW connection through the new rules (a probe from
 *    where Terraform runs, then a fresh SSH session), cancels the rollback,
 *    persists the files, installs units where missing, enables and restarts
 *    iptables.service / ip6tables.service, and writes sysctl settings.
 *
 * Both are replaced whenever a file's content hash changes; an unchanged tree
 * plans no change.
 */
export class HostInstaller extends Construct {
  /** The resource that stages, tests and loads the rules. */
  public readonly install: IConstruct;
  /** The resource that confirms the rules over a new connection and persists them. */
  public readonly confirm: IConstruct;

  public constructor(scope: Construct, id: string, spec: InstallSpec) {
    super(scope, id);
    const connection = terraformConnection(spec.connection);
    const triggers = Lazy.anyValue({ produce: () => spec.hashes() });
    const dir = spec.staging;
    const src = (file: string) => path.posix.join(spec.folder, file);

    const installProvisioners: any[] = [
      {
        type: 'remote-exec',
        inline: [
          'set -e',
          `d=${shellQuote(dir)}`,
          // a fresh folder only we own: never follow a link or reuse someone else's folder
          'rm -rf "$d" 2>/dev/null || true',
          'mkdir -m 700 "$d"',
        ],
      },
      ...uploadedFiles(spec).map((file) => ({ type: 'file', source: src(file), destination: `${dir}/${file}` })),
      { type: 'remote-exec', inline: Lazy.listValue({ produce: () => remoteCommand(spec, 'stage') }) },
    ];
    const probe = spec.connection.bastion ? [] : [{
      type: 'local-exec',
      command: `node ${shellQuote(src(PROBE_FILE))}`,
      environment: {
        CFW_HOST: spec.connection.host,
        CFW_PORT: String(spec.connection.port ?? 22),
        CFW_TIMEOUT_S: String(durationSeconds(spec.connection.timeout ?? '30s')),
        CFW_ROLLBACK_SECS: String(spec.rollbackSeconds),
      },
    }];
    const confirmProvisioners: any[] = [...probe, { type: 'remote-exec', inline: Lazy.listValue({ produce: () => remoteCommand(spec, 'confirm') }) }];

    if (spec.installer === Installer.TERRAFORM_DATA) {
      this.install = new DataResource(this, 'install', { triggersReplace: triggers, connection, provisioners: installProvisioners });
      this.confirm = new DataResource(this, 'confirm', { triggersReplace: triggers, connection, provisioners: confirmProvisioners, dependsOn: [this.install as DataResource] });
    } else {
      ensureNullProvider(TerraformStack.of(this));
      this.install = new NullResource(this, 'install', { triggers: triggers as any, connection, provisioners: installProvisioners });
      this.confirm = new NullResource(this, 'confirm', { triggers: triggers as any, connection, provisioners: confirmProvisioners, dependsOn: [this.install as NullResource] });
    }
  }
}

/** The Terraform `connection` block. */
export function terraformConnection(c: SshConnection): any {
  return {
    type: 'ssh',
    host: c.host,
    user: c.user ?? 'root',
    port: c.port ?? 22,
    privateKey: c.privateKey,
    timeout: c.timeout ?? '30s',
    ...(c.hostKey !== undefined ? { hostKey: c.hostKey } : {}),
    ...(c.bastion !== undefined ? {
      bastionHost: c.bastion.host,
      bastionUser: c.bastion.user ?? c.user ?? 'root',
      bastionPort: c.bastion.port ?? 22,
      bastionPrivateKey: c.bastion.privateKey ?? c.privateKey,
      ...(c.bastion.hostKey !== undefined ? { bastionHostKey: c.bastion.hostKey } : {}),
    } : {}),
  };
}

const NULL_PROVIDER_ASPECT = Symbol.for('cdktf-iptables.null-provider-aspect');

/** Adds the hashicorp/null provider to the stack at synth unless the user configured one. */
function ensureNullProvider(stack: TerraformStack): void {
  if ((stack as any)[NULL_PROVIDER_ASPECT]) return;
  Object.defineProperty(stack, NULL_PROVIDER_ASPECT, { value: true });
  const aspect: IAspect = {
    visit(node: IConstruct) {
      if (node !== stack) return;
      const has = stack.node.findAll().some((c) => c instanceof TerraformProvider && (c as TerraformProvider).terraformResourceType === 'null');
      if (!has) new NullProvider(stack, 'cdktf-iptables-null');
    },
  };
  Aspects.of(stack).add(aspect);
}
