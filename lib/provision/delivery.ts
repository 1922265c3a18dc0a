/**
 * How a host's finished rules reach the machine: what a deploy carries, and
 * the cloud-init user-data. The host construct hands over its rules; nothing
 * here decides what the rules are.
 */
import { CloudInitEncoding, CloudInitOptions, cloudInitOptionsProblem, renderUserData, sysctlFor, UserData, userDataSizeProblem } from './cloud-init';
import type { DeployProps } from './deploy-props';
import { checkKeep, DEPLOY_PASS_LIST } from './deployment';
import { Distro, distroProfile } from './distro';
import { driftFiles, driftSettings } from './drift';
import { checkOwnChains, DeployContent } from './installer';
import { CompiledFirewall } from '../firewall/compiled';
import { IpFamily } from '../iptables/family';
import { IConstruct, Lazy, Token } from '../private/cdktf';
import { firewallError, problemText } from '../private/errors';

/** The host's compiled firewall, as delivery reads it (compiled on demand, after the tree is complete). */
export interface FirewallSource {
  readonly path: string;
  readonly families: readonly IpFamily[];
  readonly distro: Distro;
  /** The host's deploy settings (the drift check and the kept rules of other tools reach cloud-init too). */
  readonly deploy: DeployProps;
  /** The compiled firewall; throws the program's error when it does not compile. */
  compiled(): CompiledFirewall;
  /**
   * The compiled firewall, or undefined when the program has an error (the
   * host's validation reports it): Terraform values resolved before the
   * validations run must not fail with a resolution error.
   */
  compiledOrNothing(): CompiledFirewall | undefined;
}

/** A host's deploy content and cloud-init user-data. */
export class HostDelivery {
  /** Whether the host's rules are delivered as cloud-init user-data (a host with no probe to roll back with). */
  public cloudInitUsed = false;

  public constructor(private readonly scope: IConstruct, private readonly source: FirewallSource) {
    // drift and keepForeignRules serve a deploy or cloud-init user-data: a host with neither is told
    const d = source.deploy;
    if (d.connection === undefined && (d.drift !== undefined || d.keepForeignRules !== undefined)) {
      scope.node.addValidation({
        validate: () => (this.cloudInitUsed ? [] : [problemText({
          message: `${d.drift !== undefined ? 'drift' : 'keepForeignRules'} only applies to a deploy over SSH (connection) or to cloud-init user-data (host.cloudInit()), and this host has neither`,
          fix: 'Add connection: { host, privateKey, ... } or use host.cloudInit(), or drop the setting.',
        })]),
      });
    }
  }

  /**
   * What a deploy carries: the rule files, sysctls, the guards' lists, the
   * chains and sets. A program with an error carries nothing (its validation
   * stops the synth).
   */
  public deployContent(): DeployContent {
    const fw = this.source.compiledOrNothing();
    if (!fw) return { rules: {}, sysctl: [], guardLists: [], chains: [] };
    return {
      rules: rulesOf(fw),
      sysctl: sysctlFor(fw.requirements),
      passList: fw.guardLists.length > 0 ? DEPLOY_PASS_LIST : undefined,
      guardLists: fw.guardLists,
      chains: fw.chains,
      ipsets: fw.ipsets !== undefined ? { text: fw.ipsets, names: fw.setNames } : undefined,
    };
  }

  /** The user-data as a lazy string, resolved at synth; its size is checked as a validation. */
  public cloudInit(options: CloudInitOptions): string {
    const problem = cloudInitOptionsProblem(options ?? {});
    if (problem) throw firewallError(this.source.path, problem);
    this.cloudInitUsed = true;
    const opts = { ...options, parts: [...(options.parts ?? [])] };
    const gz = opts.encoding === CloudInitEncoding.GZIP_BASE64;
    if (gz && opts.parts.some((p) => Token.isUnresolved(p.content))) {
      throw firewallError(this.source.path, { message: 'cloudInit() parts carry an unresolved token, which gzip cannot encode', fix: 'Use encoding PLAIN with token parts, or pass plain strings.' });
    }
    this.scope.node.addValidation({
      validate: () => {
        // a program that does not compile is reported by the host's own validation
        if (!this.source.compiledOrNothing()) return [];
        const size = this.sizeProblem(this.userData(opts), opts);
        return size ? [problemText(size)] : [];
      },
    });
    return Lazy.stringValue({
      produce: () => {
        // resolved before the validations run: a program that does not compile (reported there) yields nothing here
        if (!this.source.compiledOrNothing()) return '';
        const ud = this.userData(opts);
        const size = this.sizeProblem(ud, opts);
        if (size) throw firewallError(this.source.path, size);
        return ud.value;
      },
    });
  }

  /** The user-data rendered now. */
  public cloudInitText(options: CloudInitOptions): string {
    const problem = cloudInitOptionsProblem(options ?? {});
    if (problem) throw firewallError(this.source.path, problem);
    return this.userData(options ?? {}).value;
  }

  /** The size problem of rendered user-data, naming what the drift check takes of it. */
  private sizeProblem(ud: UserData, options: CloudInitOptions): { message: string; fix: string } | undefined {
    const problem = userDataSizeProblem(ud, options);
    if (!problem || this.source.deploy.drift === undefined || !driftSettings(this.source.path, this.source.deploy.drift)) return problem;
    const without = this.userData(options, false);
    return { ...problem, fix: `${problem.fix} The drift check takes ${ud.bytes - without.bytes} bytes of it: drift: { enabled: false } leaves it out.` };
  }

  private userData(options: CloudInitOptions, withDrift = true): UserData {
    const fw = this.source.compiled();
    const profile = distroProfile(this.source.distro);
    const path = this.source.path;
    const keep = checkKeep(path, this.source.deploy.keepForeignRules);
    checkOwnChains(path, keep, fw.chains);
    // user-data is small (AWS: 16 KB) and the check's files take about 6.5 KB: only when asked for
    const drift = this.source.deploy.drift === undefined ? undefined : driftSettings(path, this.source.deploy.drift);
    return renderUserData({
      profile,
      rules: rulesOf(fw),
      sysctl: sysctlFor(fw.requirements),
      ipsets: fw.ipsets,
      drift: drift && withDrift ? driftFiles(profile, fw.families, keep, drift) : undefined,
    }, options);
  }
}

/** The rule files' text per family. */
function rulesOf(fw: CompiledFirewall): Partial<Record<IpFamily, string>> {
  const rules: Partial<Record<IpFamily, string>> = {};
  for (const f of fw.families) rules[f] = fw.files[f]!.text;
  return rules;
}
