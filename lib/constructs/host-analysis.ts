/**
 * The analysis of one compiled firewall: the rendered files parsed once per
 * family (what the kernel gets), the evaluator, the reachability report and
 * the intent check over the parts' declarations, each computed once.
 */
import { RulesetEvaluator } from '../analysis/evaluator';
import { checkIntent } from '../analysis/intent';
import { lockoutProblems } from '../analysis/lockout';
import { ReachabilityReport } from '../analysis/types';
import { CompiledFirewall } from '../firewall/compiled';
import { IpFamily } from '../iptables/family';
import { ruleFileName } from '../iptables/spelling';

/** The analysis of a compiled firewall, computed on demand and kept. */
export class FirewallAnalysis {
  private readonly evaluators = new Map<IpFamily, RulesetEvaluator>();
  private readonly reports = new Map<IpFamily, ReachabilityReport>();
  private problems?: string[];

  public constructor(public readonly firewall: CompiledFirewall, private readonly printablePath: string) {}

  /** The evaluator over the rendered file of `family`. */
  public evaluator(family: IpFamily): RulesetEvaluator {
    let ev = this.evaluators.get(family);
    if (!ev) {
      const routes = this.firewall.routes.filter((r) => r.family === family).map((r) => ({ cidr: r.cidr, iface: r.iface }));
      ev = RulesetEvaluator.fromText(family, this.firewall.files[family]!.text, { routes, ipsets: this.firewall.ipsets });
      this.evaluators.set(family, ev);
    }
    return ev;
  }

  /** The reachability report of `family`. */
  public reachability(family: IpFamily): ReachabilityReport {
    let r = this.reports.get(family);
    if (!r) {
      r = this.evaluator(family).reachability(`reachability of ${this.printablePath}, ${family} (from ${ruleFileName(family)})`);
      this.reports.set(family, r);
    }
    return r;
  }

  /** The rules that can cut the deploy's SSH on `sshPort`, as messages (for hosts that are deployed). */
  public lockoutProblems(sshPort: number): string[] {
    return this.firewall.families.flatMap((family) => {
      const engine = this.evaluator(family)._engine;
      const lineOwners = this.firewall.files[family]!.lineOwners;
      return lockoutProblems({ rules: engine.rules, sets: engine.sets, declarations: this.firewall.declarations, lineOwners, sshPort });
    });
  }

  /** What the rules admit beyond the declarations (and declared openings they refuse), as messages. */
  public intentProblems(): string[] {
    if (!this.problems) {
      this.problems = this.firewall.families.flatMap((family) => {
        const engine = this.evaluator(family)._engine;
        return checkIntent({
          rules: engine.rules,
          sets: engine.sets,
          declarations: this.firewall.declarations,
          lineOwners: this.firewall.files[family]!.lineOwners,
        }).map((p) => `intent check: ${p.message}`);
      });
    }
    return this.problems;
  }
}
