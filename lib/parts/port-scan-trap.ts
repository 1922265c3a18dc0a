import { Construct } from 'constructs';
import { FirewallPart } from '../constructs/firewall-part';
import { IpFamily } from '../iptables/family';
import { prefixLengthProblem, windowSecondsProblem } from '../iptables/kernel-limits';
import { recentList, SourcePrefix } from '../iptables/spelling';
import { markLibraryPart } from '../private/brand';
import { firstProblem, ValueProblem } from '../private/errors';
import { LibraryRules } from '../rules/library-rules';
import { Match, RecentAction } from '../rules/match';
import { PartHost } from '../rules/part-host';
import { PartRules, SlottedRule } from '../rules/part-rules';
import { HostRule, RuleSlot } from '../rules/slot';
import { Target } from '../rules/target';
import { ClosedPortResponse } from '../values/options';
import { Peer } from '../values/peer';
import { Protocol } from '../values/port';

/**
 * Properties of a {@link PortScanTrap}.
 * @example { seconds: 60, exempt: [Peer.ipv4('198.51.100.0/24')] }
 */
export interface PortScanTrapProps {
  /**
   * How long a source that touched a closed port sees every port closed
   * (renewed while it keeps trying).
   * @default 60
   */
  readonly seconds?: number;
  /** Trap TCP (SYN scans). @default true */
  readonly tcp?: boolean;
  /** Trap UDP scans. @default true */
  readonly udp?: boolean;
  /**
   * Peers never put on the lists: spoofed probes could otherwise lock out
   * your real clients. Give your management networks.
   * @default - none
   */
  readonly exempt?: Peer[];
  /**
   * IPv6 sources are listed per prefix of this length: a scanner rotating
   * addresses inside its /64 is still one scanner.
   * @default 64
   * @example 56
   */
  readonly ipv6PrefixLength?: number;
  /**
   * IPv4 sources are listed per prefix of this length.
   * @default 32
   * @example 24
   */
  readonly ipv4PrefixLength?: number;
}

/**
 * A port-scan trap: a source refused at a closed port is refused at every
 * port for `seconds` (renewed while it keeps trying), so a scan finds at most
 * the open port it happened to probe first. Exempt peers are refused without
 * being listed, so spoofed probes cannot lock them out.
 *
 * @example
 * new PortScanTrap(host, 'trap', { seconds: 60 });
 */
export class PortScanTrap extends FirewallPart {
  private readonly spec: TrapSettings;

  public constructor(scope: Construct, id: string, props: PortScanTrapProps = {}) {
    super(scope, id);
    markLibraryPart(this);
    const r = this._props;
    const p = r.props(props, 'PortScanTrap');
    this.spec = {
      seconds: r.num('seconds', p.seconds, 60),
      tcp: r.bool('tcp', p.tcp, true),
      udp: r.bool('udp', p.udp, true),
      exempt: this._checkPeers('exempt', p.exempt),
      prefix: { [IpFamily.V4]: r.num('ipv4PrefixLength', p.ipv4PrefixLength, 32), [IpFamily.V6]: r.num('ipv6PrefixLength', p.ipv6PrefixLength, 64) },
    };
    this._check(trapProblem(this.spec));
  }

  /** The trap's rules: a listed source is refused at the top of the service chains, the final refusal lists it. */
  public firewallRules(host: PartHost): PartRules {
    const s = this.spec;
    const reject = host.closedPortResponse === ClosedPortResponse.REJECT;
    const verdict = reject ? Target.reject() : Target.DROP;
    const prefix = { ipv4PrefixLength: s.prefix[IpFamily.V4], ipv6PrefixLength: s.prefix[IpFamily.V6] };
    const rules: SlottedRule[] = [];
    const tcp = { proto: Protocol.TCP, list: TCP_TRAP_LIST, trap: RuleSlot.TCP_TRAP, refuse: RuleSlot.INPUT_REFUSE_TCP, id: HostRule.REFUSE_TCP };
    const udp = { proto: Protocol.UDP, list: UDP_TRAP_LIST, trap: RuleSlot.UDP_TRAP, refuse: RuleSlot.INPUT_REFUSE_UDP, id: HostRule.REFUSE_UDP };
    const protocols = [...(s.tcp ? [tcp] : []), ...(s.udp ? [udp] : [])];
    for (const p of protocols) {
      // top of the service chain: a listed source is refused (and stays listed while it keeps trying)
      const listed = Match.recent({ list: p.list, action: RecentAction.UPDATE, seconds: s.seconds, ...prefix });
      rules.push({ slot: p.trap, matches: [Match.protocol(p.proto), listed], target: verdict });
      // exempt peers are refused without being listed
      for (const peer of s.exempt) rules.push({ slot: p.refuse, order: -1, matches: [Match.source(peer), Match.protocol(p.proto)], target: verdict });
      // the final refusal lists the source
      rules.push({
        slot: p.refuse,
        replaces: reject ? p.id : undefined,
        matches: [Match.protocol(p.proto), Match.recent({ list: p.list, action: RecentAction.SET, ...prefix })],
        target: verdict,
      });
    }
    const trap: LibraryRules = {
      rules,
      claims: protocols.flatMap((p) => host.families.map((f) => ({ kind: 'recent list', name: recentList(f, p.list), fix: 'A host takes one PortScanTrap: remove one of them.' }))),
    };
    return trap;
  }
}

/** The trap's recent-list names. */
const TCP_TRAP_LIST = 'TCP-PORTSCAN';
const UDP_TRAP_LIST = 'UDP-PORTSCAN';

/** A trap's checked settings. */
interface TrapSettings {
  readonly seconds: number;
  readonly tcp: boolean;
  readonly udp: boolean;
  readonly exempt: readonly Peer[];
  readonly prefix: SourcePrefix;
}

/** What is wrong with a trap's settings, if anything. */
function trapProblem(spec: TrapSettings): ValueProblem | undefined {
  return firstProblem(
    windowSecondsProblem('seconds', spec.seconds),
    !spec.tcp && !spec.udp ? { message: 'tcp and udp are both false: the trap would do nothing', fix: 'Leave one of them on, or remove the trap.' } : undefined,
    ...spec.exempt.map((p) => p._problem()),
    prefixLengthProblem('ipv4PrefixLength', spec.prefix[IpFamily.V4], false),
    prefixLengthProblem('ipv6PrefixLength', spec.prefix[IpFamily.V6], true),
  );
}
