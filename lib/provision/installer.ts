import * as fs from 'fs';
import * as path from 'path';
import { Construct } from 'constructs';
import { BundleFile, deployBundle, DeployBundle, sha256 } from './bundle';
import { SshConnection } from './connection';
import { DistroProfile, IPSETS_UNIT, ipsetsUnit, restoreUnit } from './distro';
import { DRIFT_CONF, DRIFT_DIR, DRIFT_SCRIPT, DRIFT_SERVICE, DRIFT_TIMER, driftConf, driftServiceUnit, DriftSettings, driftTimerUnit, KEEP_FOREIGN_AWK, KEPT_RULES_AWK, scriptText } from './drift';
import { ForeignRules } from './foreign-rules';
import { IpFamily } from '../iptables/family';
import { recentList, ruleFileName } from '../iptables/spelling';
import { Aspects, DataResource, IAspect, IConstruct, ITerraformDependable, Lazy, newNullProvider, newNullResource, TerraformProvider, TerraformStack, Token } from '../private/cdktf';
import { firewallError } from '../private/errors';

/** Which Terraform resource carries the provisioners. */
export enum Installer {
  /** `null_resource` from the hashicorp/null provider (added to the stack when missing). */
  NULL_RESOURCE = 'NULL_RESOURCE',
  /** Terraform's built-in `terraform_data` (Terraform ≥ 1.4; no provider to download). */
  TERRAFORM_DATA = 'TERRAFORM_DATA',
}

/** A guard's xt_recent list: the deploying client is forgiven there. */
export interface GuardList {
  readonly list: string;
  readonly v4Prefix: number;
  readonly v6Prefix: number;
}

/** What the firewall tree tells the deploy, computed at synth. */
export interface DeployContent {
  /** Rule file text per family the host renders. */
  readonly rules: Partial<Record<IpFamily, string>>;
  /** sysctl `key=value` settings (e.g. forwarding for a NAT gateway). */
  readonly sysctl: readonly string[];
  /** The xt_recent list of the deploy pass, when the host has brute-force guards. */
  readonly passList?: string;
  /** Recent lists of brute-force guards. */
  readonly guardLists: readonly GuardList[];
  /** Every chain the firewall declares (none may match a kept foreign chain). */
  readonly chains: readonly string[];
  /** The `ipset restore` text of the firewall's sets and their names, when it has sets. */
  readonly ipsets?: { readonly text: string; readonly names: readonly string[] };
}

/** Everything the deploy resource needs, already validated. */
export interface InstallSpec {
  readonly installer: Installer;
  readonly connection: SshConnection;
  readonly profile: DistroProfile;
  readonly families: readonly IpFamily[];
  /** Path of the host (for the bundle's header). */
  readonly hostPath: string;
  /** Folder of the host's files, relative to the stack's synth folder. */
  readonly folder: string;
  readonly rollbackSeconds: number;
  readonly takeOver: boolean;
  /** Rules of other tools kept across a load. */
  readonly keep: readonly ForeignRules[];
  /** The drift check's timer, installed on confirm; undefined: none (an old one is removed). */
  readonly drift?: DriftSettings;
  /** The firewall's files and hints, rendered at synth. */
  readonly content: () => DeployContent;
}

/** Where Terraform uploads the provisioners' scripts: the login user's home (relative to it). */
export const SCRIPT_PATH = './.cdktf-iptables-%RAND%.sh';

/** Files written next to the rule files for a deploy. */
export const BUNDLE_FILE = 'deploy.sh';
export const PROBE_FILE = 'probe.js';
const SCRIPTS = path.join(__dirname, 'scripts');

/** The settings the bundle hands to firewall.sh (all ours: validated paths, numbers and names). */
export function scriptSettings(spec: InstallSpec, content: DeployContent): Record<string, string> {
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
    CFW_SYSCTL: content.sysctl.join(' '),
    // list names as the rules spell them in each family
    CFW_PASS_LIST_V4: content.passList ? recentList(IpFamily.V4, content.passList) : '',
    CFW_PASS_LIST_V6: content.passList ? recentList(IpFamily.V6, content.passList) : '',
    CFW_GUARD_LISTS: content.guardLists.map((g) => `${recentList(IpFamily.V4, g.list)}:${recentList(IpFamily.V6, g.list)}:${g.v4Prefix}:${g.v6Prefix}`).join(' '),
    CFW_IPSETS: (content.ipsets?.names ?? []).join(' '),
    CFW_IPSETS_PATH: spec.profile.ipsetsPath,
    CFW_KEEP_CHAINS: unique(spec.keep.flatMap((k) => k.chains)).join(' '),
    CFW_KEEP_IFACES: unique(spec.keep.flatMap((k) => k.interfaces)).join(' '),
    CFW_DRIFT: spec.drift ? 'yes' : 'no',
    CFW_DRIFT_DIR: DRIFT_DIR,
  };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** A POSIX shell word for one of our values (single-quoted). */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, '\'\\\'\'')}'`;
}

/** The files a deploy carries to the host: rule files, units, firewall.sh, settings. */
export function bundleFiles(spec: InstallSpec, content: DeployContent): BundleFile[] {
  const files: BundleFile[] = [];
  for (const f of spec.families) {
    const rules = content.rules[f];
    if (rules === undefined) throw new Error(`internal: no ${ruleFileName(f)} for the deploy`);
    files.push({ name: ruleFileName(f), content: rules, mode: '600' });
  }
  for (const f of spec.families) {
    files.push({ name: spec.profile.unit[f], content: restoreUnit(f, spec.profile.rulesPath[f]), mode: '644' });
  }
  files.push({ name: 'firewall.sh', content: fs.readFileSync(path.join(SCRIPTS, 'firewall.sh'), 'utf8'), mode: '700' });
  if (content.ipsets) {
    files.push({ name: 'ipsets.rules', content: content.ipsets.text, mode: '600' });
    files.push({ name: IPSETS_UNIT, content: ipsetsUnit(spec.profile.ipsetsPath), mode: '644' });
  }
  if (spec.keep.length > 0) {
    checkOwnChains(spec.hostPath, spec.keep, content.chains);
    files.push({ name: KEPT_RULES_AWK, content: scriptText(KEPT_RULES_AWK), mode: '600' });
  }
  // the stage prints the drift its load replaces; the timer checks on the host (installed on confirm)
  files.push({ name: DRIFT_SCRIPT, content: scriptText(DRIFT_SCRIPT), mode: '700' });
  files.push({ name: KEEP_FOREIGN_AWK, content: scriptText(KEEP_FOREIGN_AWK), mode: '600' });
  if (spec.drift) {
    files.push({ name: DRIFT_CONF, content: driftConf(spec.profile, spec.families, spec.keep, spec.drift.repair), mode: '600' });
    files.push({ name: DRIFT_SERVICE, content: driftServiceUnit(), mode: '644' });
    files.push({ name: DRIFT_TIMER, content: driftTimerUnit(spec.drift.intervalSeconds), mode: '644' });
  }
  const settings = Object.entries(scriptSettings(spec, content)).map(([k, v]) => `${k}=${shellQuote(v)}`);
  files.push({ name: 'settings', content: `# cdktf-iptables deploy settings (sourced by firewall.sh)\n${settings.join('\n')}\n`, mode: '600' });
  return files;
}

/** None of the firewall's own chains may match a kept glob (it would be treated as another tool's). */
export function checkOwnChains(hostPath: string, keep: readonly ForeignRules[], chains: readonly string[]): void {
  for (const chain of chains) {
    const k = keep.find((f) => f.matchesChain(chain));
    if (k) {
      throw firewallError(hostPath, {
        message: `the firewall's own chain ${chain} matches the kept foreign chains ${k.chains.join(', ')}: a deploy would treat it as another tool's`,
        fix: 'Rename the chain (e.g. a guard\'s chainName), or narrow keepForeignRules.',
      });
    }
  }
}

/** The remote command that confirms a deploy (as root: sudo -n for another user). */
export function confirmCommand(deployId: string): string[] {
  return [
    'set -e',
    'chmod 700 "$0" 2>/dev/null || true',
    'if [ "$(id -u)" -ne 0 ]; then SUDO="sudo -n"; else SUDO=""; fi',
    `$SUDO /bin/sh /var/lib/cdktf-iptables/firewall.sh confirm ${deployId}`,
  ];
}

/**
 * The one resource that deploys a host's rules, in one Terraform step so that
 * the rollback window covers only this host's own work, whatever Terraform's
 * `-parallelism`:
 *
 * 1. `remote-exec` of the bundle (`deploy.sh`), ONE SSH connection: unpack into
 *    a fresh root-only folder, verify every file's sha256, test with the host's
 *    own iptables, snapshot the live rules (verified restorable), arm the
 *    rollback, load atomically;
 * 2. `local-exec` probe from where Terraform runs: a NEW TCP connection to the
 *    SSH port must pass the new rules;
 * 3. `remote-exec` confirm over a NEW SSH connection: disarm, persist, install
 *    units only where missing or changed, enable.
 *
 * Replaced whenever a file, the target (host, port, user) or a deploy setting
 * changes; an unchanged tree plans no change.
 */
export class HostInstaller extends Construct {
  /** The resource that deploys the rules; depend on it to run after the confirm. */
  public readonly resource: ITerraformDependable;
  private bundleMemo?: { key: string; bundle: DeployBundle };

  /** Seconds before an unconfirmed load is rolled back. */
  public readonly rollbackSeconds: number;

  public constructor(scope: Construct, id: string, private readonly spec: InstallSpec) {
    super(scope, id);
    this.rollbackSeconds = spec.rollbackSeconds;
    const c = spec.connection;
    const connection = terraformConnection(c);
    const port = portText(c.port ?? 22);
    const triggers = {
      deploy: Lazy.stringValue({ produce: () => sha256(this.bundle().script) }),
      probe: Lazy.stringValue({ produce: () => sha256(probeScript()) }),
      host: c.host,
      port,
      user: c.user ?? 'root',
    };
    const src = (file: string) => path.posix.join(spec.folder, file);
    const probe = c.bastion ? [] : [{
      type: 'local-exec',
      command: `node ${shellQuote(src(PROBE_FILE))}`,
      environment: {
        CFW_HOST: c.host,
        CFW_PORT: port,
        CFW_TIMEOUT: c.timeout ?? '30s',
        CFW_ROLLBACK_SECS: String(spec.rollbackSeconds),
        // a plain TCP probe needs no CA bundle; loading one costs ~0.08 CPU-s per host
        NODE_EXTRA_CA_CERTS: '',
        NODE_OPTIONS: '',
      },
    }];
    const provisioners: any[] = [
      { type: 'remote-exec', script: src(BUNDLE_FILE) },
      ...probe,
      { type: 'remote-exec', inline: Lazy.listValue({ produce: () => confirmCommand(this.bundle().deployId) }) },
    ];
    if (spec.installer === Installer.TERRAFORM_DATA) {
      this.resource = new DataResource(this, 'firewall', { triggersReplace: triggers, connection, provisioners });
    } else {
      ensureNullProvider(TerraformStack.of(this));
      this.resource = newNullResource(this, 'firewall', { triggers, connection, provisioners });
    }
  }

  /** The deploy bundle, rendered once per content. */
  public bundle(): DeployBundle {
    const content = this.spec.content();
    // a program that does not compile has no bundle: its validation stops the synth
    if (Object.keys(content.rules).length === 0) return { script: '', deployId: 'not-compiled' };
    const files = bundleFiles(this.spec, content);
    const key = sha256(files.map((f) => `${f.name}\0${f.mode}\0${f.content}`).join('\0'));
    if (this.bundleMemo?.key !== key) this.bundleMemo = { key, bundle: deployBundle(this.spec.hostPath, files) };
    return this.bundleMemo.bundle;
  }

  /** Files the deploy needs in the synth folder (relative to the host's folder). */
  public outputFiles(): Array<{ name: string; content: string; mode: number }> {
    return [
      { name: BUNDLE_FILE, content: this.bundle().script, mode: 0o755 },
      { name: PROBE_FILE, content: probeScript(), mode: 0o644 },
    ];
  }
}

/** A port (maybe a token) as a string. */
function portText(port: number): string {
  return Token.isUnresolved(port) ? Token.asString(port) : String(port);
}

function probeScript(): string {
  return fs.readFileSync(path.join(SCRIPTS, PROBE_FILE), 'utf8');
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
    // Terraform uploads scripts with mode 0777: into the login user's home, not a shared /tmp
    // where another local user could rewrite the script between upload and sudo
    scriptPath: SCRIPT_PATH,
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
      if (!has) newNullProvider(stack, 'cdktf-iptables-null');
    },
  };
  Aspects.of(stack).add(aspect);
}
