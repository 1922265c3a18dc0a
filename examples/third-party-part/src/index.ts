/**
 * Firewall parts of a third party, built only on the public API of
 * cdktf-iptables (imported from the package root, declared as a peer
 * dependency so the app's single copy of the library is used).
 */
import { Construct } from 'constructs';
import {
  ConnState, FirewallPart, Match, OutboundPolicy, PartHost, PartRules, Peer, Port, RuleSlot, SshBruteforceGuard, StatefulHost, Target,
} from 'cdktf-iptables';

/** Accepts everything arriving on one interface (a VPN, say). */
export class TrustedInterface extends FirewallPart {
  public constructor(scope: Construct, id: string, private readonly iface: string) {
    super(scope, id);
  }

  public firewallRules(_host: PartHost): PartRules {
    return {
      rules: [{ slot: RuleSlot.INPUT_TRUSTED, matches: [Match.inInterface(this.iface)], target: Target.ACCEPT }],
      // what it opens on purpose, so the host's intent check accepts it
      trusts: [this.iface],
    };
  }
}

/** Properties of a {@link RateLimitedPort}. */
export interface RateLimitedPortProps {
  readonly port: Port;
  /** New connections per minute per source. */
  readonly perMinute: number;
  /** Chain name (unique on the host). */
  readonly chain: string;
}

/** Opens a TCP port to everyone, at most `perMinute` new connections per source: its own chain, a hashlimit table. */
export class RateLimitedPort extends FirewallPart {
  public constructor(scope: Construct, id: string, private readonly props: RateLimitedPortProps) {
    super(scope, id);
  }

  public firewallRules(_host: PartHost): PartRules {
    const p = this.props;
    return {
      chains: [{
        name: p.chain,
        rules: [
          { matches: [Match.hashlimit({ name: p.chain.toLowerCase(), perMinute: p.perMinute, burst: 3 })], target: Target.DROP },
          { target: Target.ACCEPT },
        ],
      }],
      rules: [{ slot: RuleSlot.TCP_OPEN, matches: [Match.port(p.port), Match.state([ConnState.NEW])], target: Target.jump(p.chain) }],
      opens: [{ port: p.port }],
    };
  }
}

/** Lets the host open connections to one port of one peer (with an outbound policy DROP). */
export class OutboundTo extends FirewallPart {
  public constructor(scope: Construct, id: string, private readonly peer: Peer, private readonly port: Port) {
    super(scope, id);
  }

  public firewallRules(_host: PartHost): PartRules {
    return {
      rules: [{ slot: RuleSlot.OUTPUT_OPEN, matches: [Match.destination(this.peer), Match.port(this.port)], target: Target.ACCEPT }],
      // what it lets out on purpose, so the host's intent check accepts it
      egress: [{ port: this.port, destination: this.peer }],
    };
  }
}

/** Properties of a {@link Bastion}. */
export interface BastionProps {
  /** The VPN interface, trusted. */
  readonly vpnInterface: string;
  /** The database the bastion may reach. */
  readonly database: Peer;
}

/** A composite: a bastion host with a guarded SSH, a rate-limited HTTPS, a trusted VPN and one outbound database. */
export class Bastion extends Construct {
  public readonly host: StatefulHost;

  public constructor(scope: Construct, id: string, props: BastionProps) {
    super(scope, id);
    this.host = new StatefulHost(this, 'host', { allow: [Port.SSH], outbound: { policy: OutboundPolicy.DROP, allow: [Port.udp(53)] } });
    new SshBruteforceGuard(this.host, 'ssh-guard');
    new TrustedInterface(this.host, 'vpn', props.vpnInterface);
    new RateLimitedPort(this.host, 'https', { port: Port.HTTPS, perMinute: 30, chain: 'HTTPS_LIMIT' });
    new OutboundTo(this.host, 'db', props.database, Port.tcp(5432));
  }
}
