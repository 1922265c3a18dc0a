import { Construct } from 'constructs';
import { checkId, PropReader } from './props';
import { StatefulHost } from './stateful-host';
import { FirewallContribution } from '../model/host-firewall';
import { Peer } from '../model/peer';
import { FIREWALL_PART_BRAND, hasBrand } from '../private/brand';
import { firewallError, ValueProblem } from '../private/errors';

/**
 * Base of the parts that compose a host's firewall (guards, traps, NAT, ...).
 * A part must sit under a {@link StatefulHost}; it stores its checked settings
 * and the host pulls its rules at synth, so parts may be added in any order.
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
  }

  /**
   * The part's rules, for the host to collect.
   * @internal
   */
  public abstract _contribution(): FirewallContribution;

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
