import { Construct } from 'constructs';
import { checkId, PropReader } from './props';
import { StatefulHost } from './stateful-host';
import { FIREWALL_PART_BRAND, hasBrand } from '../private/brand';
import { firewallError, ValueProblem } from '../private/errors';
import { PartHost } from '../rules/part-host';
import { PartRules } from '../rules/part-rules';
import { Peer } from '../values/peer';

/**
 * Base of the parts that compose a host's firewall (guards, traps, NAT, ...),
 * the built-in ones and yours. A part must sit under a {@link StatefulHost};
 * it stores its checked settings, and at synth the host asks it for its
 * chains and rules ({@link FirewallPart.firewallRules}), so parts may be added
 * in any order. Every part's rules go through the same compiler, slots,
 * ordering, de-duplication, name claims and checks.
 *
 * @example
 * class AllowOnVpn extends FirewallPart {
 *   constructor(scope: Construct, id: string, private readonly port: Port) { super(scope, id); }
 *   public firewallRules(_host: PartHost): PartRules {
 *     return {
 *       rules: [{ slot: RuleSlot.TCP_OPEN, matches: [Match.inInterface('wg0'), Match.port(this.port)], target: Target.ACCEPT }],
 *       opens: [{ port: this.port, iface: 'wg0' }],
 *     };
 *   }
 * }
 */
export abstract class FirewallPart extends Construct {
  /** True when `x` is a firewall part (from any copy of this library). */
  public static isFirewallPart(x: any): x is FirewallPart {
    return hasBrand(x, FIREWALL_PART_BRAND);
  }

  /** The host whose firewall this part belongs to. */
  public readonly host: StatefulHost;

  /**
   * Run-time checks of the part's props, naming this construct's path.
   * @internal
   */
  protected readonly _props: PropReader;

  protected constructor(scope: Construct, id: string) {
    super(scope, checkId(scope, id));
    Object.defineProperty(this, FIREWALL_PART_BRAND, { value: true });
    this._props = new PropReader(this.node.path);
    this.host = StatefulHost.of(this);
    // an error in this part's rules is reported here, with this part's path
    this.node.addValidation({ validate: () => (typeof this.host._errorsOf === 'function' ? this.host._errorsOf(this.node.path) : []) });
  }

  /**
   * The part's own chains and its rules in the host's chains (by slot), and
   * what the part means to admit (its declarations), asked for when the host
   * compiles: after every construct was added, and possibly more than once
   * (again when another part makes the host route packets). Return the same
   * rules for the same `host`, without side effects. An exception thrown
   * here is reported as this part's error.
   * @param host what the part may know of its host
   */
  public abstract firewallRules(host: PartHost): PartRules;

  /**
   * Throws a construct-path error for a settings problem.
   * @internal
   */
  protected _check(problem: ValueProblem | undefined, where?: string): void {
    if (problem) {
      throw firewallError(this.node.path, { message: where ? `${where}: ${problem.message}` : problem.message, fix: problem.fix });
    }
  }

  /**
   * Checks peers: valid, and of a family the host renders.
   * @internal
   */
  protected _checkPeers(where: string, peers: Peer[] | undefined): Peer[] {
    return this._props.peers(where, peers, this.host.families);
  }
}
