/**
 * How a host's finished rules reach the machine: what a deploy carries, and
 * the cloud-init user-data. The host construct hands over its rules; nothing
 * here decides what the rules are.
 */
import { CloudInitEncoding, CloudInitOptions, cloudInitOptionsProblem, renderUserData, sysctlFor, UserData, userDataSizeProblem } from './cloud-init';
import { DEPLOY_PASS_LIST } from './deployment';
import { Distro, distroProfile } from './distro';
import { DeployContent } from './installer';
import { IpFamily } from '../iptables/family';
import { Ruleset } from '../rules/ruleset';
import { IConstruct, Lazy, Token } from '../private/cdktf';
import { firewallError } from '../private/errors';

/** The host's rules, as delivery reads them (rendered on demand, after the tree is complete). */
export interface FirewallSource {
  readonly path: string;
  readonly families: readonly IpFamily[];
  readonly distro: Distro;
  renderRules(family: IpFamily): string;
  ipsetRules(): string | undefined;
  ruleset(): Ruleset;
}

/** A host's deploy content and cloud-init user-data. */
export class HostDelivery {
  public constructor(private readonly scope: IConstruct, private readonly source: FirewallSource) {}

  /** What a deploy carries: the rule files, sysctls, the guards' lists, the chains and sets. */
  public deployContent(): DeployContent {
    const rs = this.source.ruleset();
    return {
      rules: this.rules(),
      sysctl: sysctlFor(rs.requirements),
      passList: rs.guardLists.length > 0 ? DEPLOY_PASS_LIST : undefined,
      guardLists: rs.guardLists,
      chains: [...new Set(rs.declaredChains.map((c) => c.name))].sort(),
      ipsets: rs.sets.length > 0 ? { text: this.source.ipsetRules()!, names: rs.sets.map((x) => x.name) } : undefined,
    };
  }

  /** The user-data as a lazy string, resolved at synth; its size is checked as a validation. */
  public cloudInit(options: CloudInitOptions): string {
    const problem = cloudInitOptionsProblem(options ?? {});
    if (problem) throw firewallError(this.source.path, problem);
    const opts = { ...options, parts: [...(options.parts ?? [])] };
    const gz = opts.encoding === CloudInitEncoding.GZIP_BASE64;
    if (gz && opts.parts.some((p) => Token.isUnresolved(p.content))) {
      throw firewallError(this.source.path, { message: 'cloudInit() parts carry an unresolved token, which gzip cannot encode', fix: 'Use encoding PLAIN with token parts, or pass plain strings.' });
    }
    this.scope.node.addValidation({
      validate: () => {
        const size = userDataSizeProblem(this.userData(opts), opts);
        return size ? [firewallError(this.source.path, size).message] : [];
      },
    });
    return Lazy.stringValue({
      produce: () => {
        const ud = this.userData(opts);
        const size = userDataSizeProblem(ud, opts);
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

  private rules(): Partial<Record<IpFamily, string>> {
    const rules: Partial<Record<IpFamily, string>> = {};
    for (const f of this.source.families) rules[f] = this.source.renderRules(f);
    return rules;
  }

  private userData(options: CloudInitOptions): UserData {
    const profile = distroProfile(this.source.distro);
    const sysctl = sysctlFor(this.source.ruleset().requirements);
    return renderUserData({ profile, rules: this.rules(), sysctl, ipsets: this.source.ipsetRules() }, options);
  }
}
