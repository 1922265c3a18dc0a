/**
 * What a part may know of its host when it makes its rules: the families it
 * renders, its trusted interfaces, what it opens, its deploy pass.
 */
import { PartHostInfo } from './host-info';
import { Match } from './match';
import { IpFamily } from '../iptables/family';
import { DeclaredOpening } from '../values/intent';
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
   * A view of a host's settings.
   * @internal
   */
  public static _of(info: PartHostInfo): PartHost {
    return new PartHost(info);
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
  /** Every port the host opens (`allow`, `allowFrom`, `allowOn`, `allowFromOn`), with its source and interface; `port` is always set. */
  public readonly openings: DeclaredOpening[];
  /**
   * Whether the host routes packets (a part of it, such as a NatGateway,
   * asks for IP forwarding): a part that blocks sources should then block
   * them in FORWARD too (RuleSlot.FORWARD_BLOCK).
   */
  public readonly forwards: boolean;

  private constructor(private readonly info: PartHostInfo) {
    this.path = info.path;
    this.families = [...info.families];
    this.trustedInterfaces = [...info.trustedInterfaces];
    this.ping = info.ping;
    this.closedPortResponse = info.closedPortResponse;
    this.outboundPolicy = info.outboundPolicy;
    this.openings = info.openings.map((o) => ({ port: o.port, peer: o.peer, iface: o.iface }));
    this.forwards = info.forwards === true;
  }

  /** The host's openings that admit (part of) `port`. */
  public openingsOf(port: Port): DeclaredOpening[] {
    const p = Port._adopt(port);
    return this.openings.filter((o) => o.port !== undefined && o.port._overlaps(p));
  }

  /**
   * When the host is deployed over SSH and has brute-force guards: a match of
   * the deploying client, for a guard of your own to accept first (the deploy
   * lists the client after it authenticated, and removes it at confirm or
   * rollback).
   * @returns undefined when the host has no deploy pass
   */
  public deployPass(): Match | undefined {
    const pass = this.info.deployPass;
    return pass ? Match._listed(pass.list, pass.seconds) : undefined;
  }
}
