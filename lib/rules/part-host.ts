/**
 * What a part may know of its host when it makes its rules: the families it
 * renders, its trusted interfaces, what it opens, its deploy pass.
 */
import { Match } from './match';
import { DeclaredOpening } from './part-rules';
import { IpFamily } from '../iptables/family';
import { HostFirewallSpec } from '../firewall/skeleton';
import { FULL_PREFIX, recentCheck } from '../iptables/spelling';
import { ClosedPortResponse, OutboundPolicy } from '../values/options';
import { Port } from '../values/port';

/**
 * The host a part belongs to, as its rules see it (read-only).
 *
 * @example
 * public firewallRules(host: PartHost): PartRules {
 *   return { rules: host.trustedInterfaces.map((i) => ({ slot: RuleSlot.INPUT_GUARD, matches: [Match.inInterface(i)], target: Target.RETURN })) };
 * }
 */
export class PartHost {
  /**
   * A view of a validated host spec.
   * @internal
   */
  public static _of(spec: HostFirewallSpec): PartHost {
    return new PartHost(spec);
  }

  /** The host's construct path. */
  public readonly path: string;
  /** The address families the host renders. */
  public readonly families: IpFamily[];
  /** Interfaces the host accepts everything on. */
  public readonly trustedInterfaces: string[];
  /** Whether the host answers ping. */
  public readonly ping: boolean;
  /** How the host refuses closed ports. */
  public readonly closedPortResponse: ClosedPortResponse;
  /** What OUTPUT does with packets no rule accepts. */
  public readonly outboundPolicy: OutboundPolicy;
  /** Every port the host opens (`allow`, `allowFrom`, `allowOn`, `allowFromOn`), with its source and interface. */
  public readonly openings: DeclaredOpening[];

  private constructor(private readonly spec: HostFirewallSpec) {
    this.path = spec.path;
    this.families = [...spec.families];
    this.trustedInterfaces = [...spec.trustedInterfaces];
    this.ping = spec.ping;
    this.closedPortResponse = spec.closedPortResponse;
    this.outboundPolicy = spec.outboundPolicy;
    this.openings = spec.openings.map((o) => ({ port: o.port, peer: o.peer, iface: o.iface }));
  }

  /** The host's openings that admit (part of) `port`. */
  public openingsOf(port: Port): DeclaredOpening[] {
    const p = Port._adopt(port);
    return this.openings.filter((o) => o.port._overlaps(p));
  }

  /**
   * When the host is deployed over SSH and has brute-force guards: a match of
   * the deploying client, for a guard of your own to accept first (the deploy
   * lists the client after it authenticated, and removes it at confirm or
   * rollback).
   * @returns undefined when the host has no deploy pass
   */
  public deployPass(): Match | undefined {
    const pass = this.spec.deployPass;
    if (!pass) return undefined;
    return Match._of(`deploy pass ${pass.list}`, (f) => ({ basic: {}, module: recentCheck(f, 'rcheck', pass.list, pass.seconds, undefined, false, FULL_PREFIX) }));
  }
}
