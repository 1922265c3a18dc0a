import { IpFamily } from '../iptables/family';
import { DeclaredOpening } from '../values/intent';
import { ClosedPortResponse, OutboundPolicy } from '../values/options';

/** A host's settings as its parts see them (internal). */
export interface PartHostInfo {
  readonly path: string;
  readonly families: readonly IpFamily[];
  readonly trustedInterfaces: readonly string[];
  readonly ping: boolean;
  readonly closedPortResponse: ClosedPortResponse;
  readonly outboundPolicy: OutboundPolicy;
  /** The host's own port openings (each with a port). */
  readonly openings: readonly DeclaredOpening[];
  /** Whether some part of the host asks for IP forwarding (the host routes packets). */
  readonly forwards?: boolean;
  /** When deployed over SSH: the xt_recent list of the deploy pass and how long an entry counts. */
  readonly deployPass?: { readonly list: string; readonly seconds: number };
}

