import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Construct, IConstruct } from 'constructs';
import type { FirewallPart } from './firewall-part';
import { FirewallAnalysis } from './host-analysis';
import { checkId, PropReader } from './props';
import { PacketProps, PathEntry, ReachabilityReport, TimedPacketProps, Verdict } from '../analysis/types';
import { CompiledFirewall, compileFirewall, PartSource } from '../firewall/compiled';
import { HostFirewallSpec } from '../firewall/skeleton';
import { IpFamily } from '../iptables/family';
import { ruleFileName } from '../iptables/spelling';
import { FIREWALL_PART_BRAND, hasBrand, LIBRARY_PART_BRAND, STATEFUL_HOST_BRAND } from '../private/brand';
import { addCustomSynthesis, Annotations, ISynthesisSession, ITerraformDependable, TerraformStack } from '../private/cdktf';
import { firewallError, isFirewallConfigError, printablePath as errorPath, problemText, showValue, ValueProblem } from '../private/errors';
import { CloudInitOptions } from '../provision/cloud-init';
import { HostDelivery } from '../provision/delivery';
import { DeployProps } from '../provision/deploy-props';
import { checkDeployProps, createDeployment, DEPLOY_PASS_LIST, deployPassSeconds } from '../provision/deployment';
import { Distro } from '../provision/distro';
import { HostInstaller } from '../provision/installer';
import { PartHost } from '../rules/part-host';
import { PartRules } from '../rules/part-rules';
import { DeclaredOpening } from '../values/intent';
import { interfaceNameProblem } from '../values/interface-name';
import { ClosedPortResponse, OutboundOptions, OutboundPolicy } from '../values/options';
import { Peer } from '../values/peer';
import { Port } from '../values/port';
import { bitsOf, PrefixIndex } from '../values/prefix';

/** The reachability report written beside the rule files. */
const REACHABILITY_FILE = 'reachability.txt';

/**
 * Properties of a {@link StatefulHost}.
 *
 * @example
 * { allow: [Port.SSH, Port.HTTPS], ipv6: true, ping: true }
 */
export interface StatefulHostProps extends DeployProps {
  /**
   * Ports opened for new connections from anywhere (the TCP / UDP chains).
   * @default - none: every new inbound connection is refused
   */
  readonly allow?: Port[];

  /**
   * Also render `ip6tables.rules`, the IPv6 twin of the IPv4 rules.
   * @default true
   */
  readonly ipv6?: boolean;

  /**
   * Accept new ICMP / ICMPv6 echo requests (ping).
   * @default true
   */
  readonly ping?: boolean;

  /**
   * Interfaces whose traffic is accepted unfiltered, as `lo` is. Beware: any
   * traffic routed to such an interface gets through.
   * @default - none besides `lo`
   */
  readonly trustedInterfaces?: string[];

  /**
   * How a new connection to a closed port is answered.
   * @default ClosedPortResponse.REJECT
   */
  readonly closedPortResponse?: ClosedPortResponse;

  /**
   * Outbound filtering.
   * @default - OUTPUT policy ACCEPT
   */
  readonly outbound?: OutboundOptions;

  /**
   * IPv6 reverse-path filter in the raw table (`-m rpfilter`), dropping
   * packets whose source would not be routed back out of the interface they
   * came in on. Turn off on hosts with asymmetric routing. IPv4 relies on the
   * kernel's `rp_filter` sysctl instead.
   * @default true
   */
  readonly reversePathFilter?: boolean;

  /**
   * Every rule carries its owner: `-m comment --comment "<construct path>"`,
   * so `iptables -L -v` or `iptables-save` on the host shows which construct
   * made each rule. Off gives the bare rules (a few bytes less per rule).
   * @default true
   */
  readonly ruleComments?: boolean;
}

/** A rule file of a host, as written at synth. */
export interface RuleFile {
  /** The family. */
  readonly family: IpFamily;
  /** `iptables.rules` or `ip6tables.rules`. */
  readonly fileName: string;
  /** Path relative to the stack's synth folder, e.g. `firewall/web/iptables.rules`. */
  readonly relativePath: string;
  /** The file's content. */
  readonly content: string;
}

/**
 * One machine's stateful firewall: INPUT policy DROP, conntrack first, TCP and
 * UDP chains for opened ports, polite REJECTs, and the IPv6 twin.
 *
 * At synth the host writes `iptables.rules` (and `ip6tables.rules`) into
 * `<outdir>/stacks/<stack>/firewall/<host path>/`.
 *
 * @example
 * const host = new StatefulHost(stack, 'web', { allow: [Port.SSH, Port.HTTPS] });
 * host.allowFrom(Peer.ipv4('15.15.15.0/24'), Port.tcp(3306));
 * host.block(Peer.ipv4('15.15.15.51'));
 */
export class StatefulHost extends Construct {
  /** True when `x` is a StatefulHost (from any copy of this library). */
  public static isStatefulHost(x: any): x is StatefulHost {
    return hasBrand(x, STATEFUL_HOST_BRAND);
  }

  /**
   * The host that `construct` sits under (or is).
   * @throws when there is none, naming the construct's path
   */
  public static of(construct: IConstruct): StatefulHost {
    if (!Construct.isConstruct(construct)) {
      throw firewallError('<root>', { message: `StatefulHost.of() got ${showValue(construct)}, not a construct`, fix: 'Pass a construct inside a StatefulHost.' });
    }
    for (let c: IConstruct | undefined = construct; c; c = c.node.scope) {
      if (StatefulHost.isStatefulHost(c)) return c;
    }
    throw firewallError(construct.node.path, {
      message: 'is not inside a StatefulHost',
      fix: 'Create it with a StatefulHost as its scope: new Part(host, id, props).',
    });
  }

  /** The families this host renders: IPv4, and IPv6 unless `ipv6: false`. */
  public readonly families: IpFamily[];

  private readonly ping: boolean;
  private readonly trustedInterfaces: string[];
  private readonly closedPortResponse: ClosedPortResponse;
  private readonly outbound: Required<Pick<OutboundOptions, 'policy' | 'ping'>> & { allow: Port[]; allowTo: Peer[] };
  private readonly reversePathFilter: boolean;
  private readonly ruleComments: boolean;
  /** The distro profile used for deploys and cloud-init. */
  public readonly distro: Distro;
  /** @internal */
  public readonly _installer?: HostInstaller;
  /** How the rules reach the machine: the deploy bundle's content, cloud-init user-data. */
  private readonly delivery: HostDelivery;
  private readonly openings: DeclaredOpening[] = [];
  private sshPort = 22;
  private readonly blocks: Peer[] = [];
  private readonly blockIndex = new PrefixIndex<Peer>();
  private readonly blockCidrs = new Set<string>();
  private readonly openingKeys = new Set<string>();
  private readonly openingPeers = new PrefixIndex<DeclaredOpening>();
  private readonly props: PropReader;
  /** The last compilation and the tree state it was made for. */
  private memo?: { key: string; firewall?: CompiledFirewall; error?: Error; analysis?: FirewallAnalysis };

  public constructor(scope: Construct, id: string, props: StatefulHostProps = {}) {
    if (Construct.isConstruct(scope) && (typeof id !== 'string' || id.trim() === '')) {
      throw firewallError(scope?.node?.path || '<root>', {
        message: `a StatefulHost needs a non-empty id, got ${showValue(id)}`,
        fix: "Name the host, e.g. new StatefulHost(stack, 'web', ...).",
      });
    }
    checkId(scope, id);
    super(scope, id);
    Object.defineProperty(this, STATEFUL_HOST_BRAND, { value: true });
    for (let c = scope as IConstruct | undefined; c; c = c.node.scope) {
      if (StatefulHost.isStatefulHost(c)) {
        throw firewallError(this.node.path, { message: `is a StatefulHost inside the StatefulHost ${c.node.path}`, fix: 'Give each machine its own host, side by side.' });
      }
    }
    this.props = new PropReader(this.node.path);
    props = this.props.props(props, 'StatefulHost');
    checkDeployProps(this.props, props);

    this.families = this.props.bool('ipv6', props.ipv6, true) ? [IpFamily.V4, IpFamily.V6] : [IpFamily.V4];
    this.ping = this.props.bool('ping', props.ping, true);
    this.reversePathFilter = this.props.bool('reversePathFilter', props.reversePathFilter, true);
    this.ruleComments = this.props.bool('ruleComments', props.ruleComments, true);
    this.closedPortResponse = this.props.enumOf('closedPortResponse', props.closedPortResponse, ClosedPortResponse, ClosedPortResponse.REJECT);

    this.trustedInterfaces = [];
    this.props.list('trustedInterfaces', props.trustedInterfaces).forEach((name, i) => {
      this.props.str(`trustedInterfaces[${i}]`, name);
      this.check(`trustedInterfaces[${i}]`, interfaceNameProblem(name));
      if (name === 'lo') {
        throw firewallError(this.node.path, { message: `trustedInterfaces[${i}] is "lo", which is always trusted`, fix: 'Leave "lo" out.' });
      }
      if (this.trustedInterfaces.includes(name)) {
        throw firewallError(this.node.path, { message: `trustedInterfaces lists ${showValue(name)} twice`, fix: 'List each interface once.' });
      }
      this.trustedInterfaces.push(name);
    });

    const out = this.props.obj('outbound', props.outbound) ?? {};
    const policy = this.props.enumOf('outbound.policy', out.policy, OutboundPolicy, OutboundPolicy.ACCEPT);
    const allowOut = this.props.list('outbound.allow', out.allow).map((p, i) => this.checkPort(`outbound.allow[${i}]`, p));
    const allowTo = this.props.list('outbound.allowTo', out.allowTo).map((p, i) => this.checkPeer(`outbound.allowTo[${i}]`, p));
    if (policy === OutboundPolicy.ACCEPT && (allowOut.length > 0 || allowTo.length > 0)) {
      throw firewallError(this.node.path, {
        message: 'outbound.allow / outbound.allowTo only mean something with outbound.policy DROP (everything leaves under ACCEPT)',
        fix: 'Set outbound.policy to OutboundPolicy.DROP, or drop the lists.',
      });
    }
    this.outbound = { policy, ping: this.props.bool('outbound.ping', out.ping, true), allow: allowOut, allowTo };

    this.props.list('allow', props.allow).forEach((p, i) => this.open(`allow[${i}]`, p));

    this.distro = this.checkEnum('distro', props.distro ?? Distro.DEBIAN, Distro);
    const source = {
      path: this.node.path,
      families: this.families,
      distro: this.distro,
      deploy: props,
      compiled: () => this.compiled(),
      compiledOrNothing: () => this.compileOutcome().firewall,
    };
    this.delivery = new HostDelivery(this, source);
    this._installer = createDeployment(this, props, {
      families: this.families,
      folder: this.outputFolder,
      content: () => this.delivery.deployContent(),
    });
    const port = props.connection?.port;
    if (typeof port === 'number' && Number.isInteger(port) && port > 0) this.sshPort = port;

    hostsOf(TerraformStack.of(this)).hosts.push(this);
    this.node.addValidation({ validate: () => this.validateTree() });
    addCustomSynthesis(this, { onSynthesize: (session: ISynthesisSession) => this.writeRuleFiles(session) });
  }

  /**
   * Opens `port` for new connections from anywhere.
   * @example host.allow(Port.HTTPS)
   */
  public allow(port: Port): void {
    this.open('allow()', port);
  }

  /**
   * Opens `port` for new connections from `peer` only (an IPv4 peer opens it
   * in the IPv4 file only, an IPv6 peer in the IPv6 file only).
   * @example host.allowFrom(Peer.ipv4('15.15.15.0/24'), Port.tcp(3306))
   */
  public allowFrom(peer: Peer, port: Port): void {
    this.open('allowFrom()', port, this.checkPeer('allowFrom() peer', peer));
  }

  /**
   * Opens `port` for new connections arriving on interface `iface`.
   * @example host.allowOn('eth1', Port.tcp(5432))
   */
  public allowOn(iface: string, port: Port): void {
    this.props.str('allowOn() interface', iface);
    this.check('allowOn() interface', interfaceNameProblem(iface));
    if (iface === 'lo' || iface === 'lo+' || iface === 'l+') {
      throw firewallError(this.node.path, {
        message: `allowOn(${showValue(iface)}, ${showValue(port instanceof Port ? port.toString() : port)}) would open one port on loopback, but loopback is always accepted whole`,
        fix: 'Leave it out: local connections are admitted already.',
      });
    }
    this.open('allowOn()', port, undefined, iface);
  }

  /**
   * Drops every new packet from `peer` (a host or subnet), before anything
   * could admit it. Connections that were established before the rules were
   * loaded are not cut.
   * @example host.block(Peer.ipv4('15.15.15.51'))
   */
  public block(peer: Peer): void {
    const p = this.checkPeer('block()', peer);
    if (p.isAny) {
      throw firewallError(this.node.path, {
        message: `block(${p}) would drop every source, SSH included, and lock you out`,
        fix: 'Block specific hosts or subnets; closed ports are refused already.',
      });
    }
    if (this.blockCidrs.has(p.cidr)) {
      throw firewallError(this.node.path, { message: `block(${p}) is given twice`, fix: 'Block each peer once.' });
    }
    const bits = bitsOf(p.families[0]);
    const o = this.openingPeers.inside(p._prefix()!, bits);
    if (o) {
      throw firewallError(this.node.path, {
        message: `block(${p}) conflicts with allowFrom(${o.peer}, ${o.port}): the blocked range covers the whole admitted peer, so the allow can never match`,
        fix: 'Remove one of the two, or block a narrower range.',
      });
    }
    this.blocks.push(p);
    this.blockIndex.add(p._prefix()!, bits, p);
    this.blockCidrs.add(p.cidr);
  }

  /**
   * The exact text of this host's rule file for `family`.
   * @throws when `family` is IPv6 and the host has `ipv6: false`
   */
  public renderRules(family: IpFamily): string {
    if (!Object.values(IpFamily).includes(family)) this.props.fail(`renderRules() family is ${showValue(family)}`, 'Use IpFamily.V4 or IpFamily.V6.');
    if (!this.families.includes(family)) {
      throw firewallError(this.node.path, { message: `renders no ${ruleFileName(family)}: the host has ipv6: false`, fix: 'Set ipv6: true to get the IPv6 twin.' });
    }
    return this.compiled().files[family]!.text;
  }

  /**
   * The `ipset restore` text of this host's sets (a {@link Blocklist}, or
   * `block()` beyond a few peers), or undefined when it has none. Written as
   * `ipsets.rules` next to the rule files; load it before them.
   */
  public ipsetRules(): string | undefined {
    return this.compiled().ipsets;
  }

  /** The rule files this host writes, with paths relative to the stack's synth folder. */
  public ruleFiles(): RuleFile[] {
    return this.families.map((family) => ({
      family,
      fileName: ruleFileName(family),
      relativePath: path.posix.join(this.outputFolder, ruleFileName(family)),
      content: this.renderRules(family),
    }));
  }

  /**
   * The Terraform resource that deploys this host's rules (when `connection`
   * is set): it finishes only after the new rules were confirmed over a new
   * connection and persisted, so `dependsOn: [host.deployment]` runs a
   * resource after the firewall is in place.
   * @example new TerraformOutput(stack, 'ready', { value: 'yes', dependsOn: [host.deployment!] })
   */
  public get deployment(): ITerraformDependable | undefined {
    return this._installer?.resource;
  }

  /**
   * This host's firewall as cloud-init user-data, resolved at synth: it
   * always carries the rules of the finished tree, whatever the order in
   * which parts are added and this is called. cloud-init installs and loads
   * the rules in `bootcmd` (before sshd starts), enables
   * iptables.service / ip6tables.service, and only then turns forwarding on;
   * any failure makes cloud-init report an error. Once per instance: changed
   * user-data never reaches a running instance (deploy over SSH, or replace
   * the instance). A document over `maxBytes` fails synth.
   * @param options format, encoding, your own parts, size limit
   * @example new Instance(stack, 'vm', { userDataBase64: host.cloudInit({ encoding: CloudInitEncoding.GZIP_BASE64 }), ... })
   */
  public cloudInit(options: CloudInitOptions = {}): string {
    return this.delivery.cloudInit(options);
  }

  /**
   * The user-data that `cloudInit()` resolves to, rendered now, for tests and checks.
   * Parts added after this call are missing from the text it returns.
   * @example expect(host.cloudInitText()).toMatch(/^#cloud-config/)
   */
  public cloudInitText(options: CloudInitOptions = {}): string {
    return this.delivery.cloudInitText(options);
  }

  /** Folder of this host's files, relative to the stack's synth folder: `firewall/<path under the stack>`. */
  public get outputFolder(): string {
    const stack = TerraformStack.of(this);
    const segments = this.node.scopes.slice(stack.node.scopes.length).map((c) => c.node.id);
    return path.posix.join('firewall', ...segments.map(safeSegment));
  }

  /**
   * The verdict of this host's rules for `family` on one packet, computed
   * offline from the rendered rule file (fresh rate limits, empty recent lists).
   * @example host.evaluate({ family: IpFamily.V4, protocol: Protocol.TCP, source: '198.51.100.7', destinationPort: 22 }).action
   */
  public evaluate(packet: PacketProps): Verdict {
    return this.analysis().evaluator(packet.family).evaluate(packet);
  }

  /**
   * The verdicts on a sequence of packets (all of one family), carrying
   * recent lists and rate limits from packet to packet.
   * @example host.simulate([0, 1, 2, 3].map((at) => ({ at, ...sshSyn })))[3].action // DROP under SshBruteforceGuard
   */
  public simulate(packets: TimedPacketProps[]): Verdict[] {
    if (packets.length === 0) return [];
    const fam = packets[0].family;
    if (packets.some((p) => p.family !== fam)) {
      throw firewallError(this.node.path, { message: 'simulate() takes packets of one family', fix: 'Simulate IPv4 and IPv6 sequences separately.' });
    }
    return this.analysis().evaluator(fam).simulate(packets);
  }

  /**
   * Which sources reach which ports on which interfaces of this host, for
   * `family`: opened, guarded, refused or silent (also written at synth as
   * `reachability.txt` beside the rule files).
   * @example host.reachability(IpFamily.V4).text
   */
  public reachability(family: IpFamily): ReachabilityReport {
    const r = this.analysis().reachability(family);
    const entries = r.entries.map((e) => ({ ...e, interfaces: [...e.interfaces], sources: [...e.sources], via: [...e.via] }));
    const copy = (xs?: PathEntry[]) => xs?.map((e) => ({ ...e, sources: [...e.sources], destinations: [...e.destinations] }));
    return { family: r.family, entries, forwarded: copy(r.forwarded), outbound: copy(r.outbound), text: r.text };
  }

  /**
   * What the host's machine must provide for these rules, e.g.
   * `ipv4-forwarding` for a NAT gateway (provisioning writes the sysctl).
   */
  public get requirements(): string[] {
    return [...this.compiled().requirements];
  }

  /**
   * The error of the compilation when it is `path`'s (a part reports its own errors).
   * @internal
   */
  public _errorsOf(partPath: string): string[] {
    const e = this.compileOutcome().error;
    return e && isFirewallConfigError(e) && e.constructPath === partPath ? [problemText(e.problem)] : [];
  }

  /** The compiled firewall (once per state of the tree); throws the program's error. */
  private compiled(): CompiledFirewall {
    const o = this.compileOutcome();
    if (o.error) throw o.error;
    return o.firewall!;
  }

  /** The analysis of the compiled firewall. */
  private analysis(): FirewallAnalysis {
    const o = this.compileOutcome();
    if (o.error) throw o.error;
    o.analysis ??= new FirewallAnalysis(o.firewall!, printablePath(this.node.path));
    return o.analysis;
  }

  /**
   * Compiles the firewall when the tree changed since the last time: the
   * host's own lists grow only through its methods, and parts (immutable
   * once built) only by being added under it.
   */
  private compileOutcome(): { firewall?: CompiledFirewall; error?: Error; analysis?: FirewallAnalysis } {
    const key = `${this.openings.length}/${this.blocks.length}/${this.node.findAll().length}`;
    if (this.memo?.key === key) return this.memo;
    try {
      this.memo = { key, firewall: compileFirewall(this.firewallSpec(), this.parts()) };
    } catch (e) {
      this.memo = { key, error: e as Error };
    }
    return this.memo;
  }

  /** Everything the host's own rules are made of. */
  private firewallSpec(): HostFirewallSpec {
    return {
      path: this.node.path,
      families: this.families,
      ping: this.ping,
      trustedInterfaces: this.trustedInterfaces,
      closedPortResponse: this.closedPortResponse,
      outboundPolicy: this.outbound.policy,
      outboundPorts: this.outbound.allow,
      outboundPeers: this.outbound.allowTo,
      outboundPing: this.outbound.ping,
      reversePathFilter: this.reversePathFilter,
      ruleComments: this.ruleComments,
      deployPass: this._installer ? { list: DEPLOY_PASS_LIST, seconds: deployPassSeconds(this._installer.rollbackSeconds) } : undefined,
      openings: this.openings,
      blocks: this.blocks,
    };
  }

  /** The firewall parts whose nearest host is this one, as the compiler asks them. */
  private parts(): PartSource[] {
    return this.node.findAll()
      .filter((c) => c !== this && hasBrand(c, FIREWALL_PART_BRAND) && StatefulHost.of(c) === this)
      .map((c) => {
        const part = c as FirewallPart;
        return {
          path: part.node.path,
          library: hasBrand(part, LIBRARY_PART_BRAND),
          firewallRules: (host: PartHost): PartRules => part.firewallRules(host),
        };
      });
  }

  private open(where: string, port: Port, peer?: Peer, iface?: string): void {
    const p = this.checkPort(where, port);
    const key = `${p}|${peer?.cidr ?? 'any'}|${iface ?? ''}`;
    if (this.openingKeys.has(key)) {
      throw firewallError(this.node.path, {
        message: `${where} opens ${p}${peer ? ` from ${peer}` : ''}${iface ? ` on ${iface}` : ''}, which is already open`,
        fix: 'Open each port once.',
      });
    }
    const prefix = peer && !peer.isAny ? peer._prefix() : undefined;
    const blocked = prefix ? this.blockIndex.covering(prefix, bitsOf(peer!.families[0])) : undefined;
    if (blocked) {
      throw firewallError(this.node.path, {
        message: `${where} admits ${peer} to ${p}, but block(${blocked}) drops all of it first`,
        fix: 'Remove one of the two, or block a narrower range.',
      });
    }
    const opening: DeclaredOpening = { port: p, peer, iface };
    this.openings.push(opening);
    this.openingKeys.add(key);
    if (prefix) this.openingPeers.add(prefix, bitsOf(peer!.families[0]), opening);
  }

  private checkPort(where: string, port: Port): Port {
    return this.props.port(where, port);
  }

  private checkPeer(where: string, peer: Peer): Peer {
    return this.props.peer(where, peer, this.families);
  }

  private check(where: string, problem: ValueProblem | undefined): void {
    if (problem) throw firewallError(this.node.path, { message: where ? `${where}: ${problem.message}` : problem.message, fix: problem.fix });
  }

  private checkEnum<T extends string>(where: string, value: T, e: Record<string, string>): T {
    if (!Object.values(e).includes(value)) {
      throw firewallError(this.node.path, { message: `${where} is ${showValue(value)}`, fix: `Use one of ${Object.values(e).join(', ')}.` });
    }
    return value;
  }

  /**
   * Tree-wide checks at synth: everything compiles (a part's own error is
   * reported by the part), the files admit only what was declared, no other
   * host writes into this host's folder, and remote access stays possible.
   */
  private validateTree(): string[] {
    const errors: string[] = [];
    const outcome = this.compileOutcome();
    if (outcome.error) {
      const e = outcome.error;
      const mine = !isFirewallConfigError(e) || e.constructPath === this.node.path || !this.parts().some((p) => p.path === e.constructPath);
      if (mine) errors.push(isFirewallConfigError(e) && e.constructPath === this.node.path ? problemText(e.problem) : e.message);
    } else {
      errors.push(...this.analysis().intentProblems());
      // a deployed host must not be able to cut its deploy's SSH (cloud-init hosts have no probe to roll back with)
      if (this._installer || this.delivery.cloudInitUsed) errors.push(...this.analysis().lockoutProblems(this.sshPort));
    }
    const clash = foldersOf(TerraformStack.of(this)).get(this.outputFolder)!.filter((h) => h !== this);
    for (const other of clash) {
      errors.push(problemText({
        message: `writes its files into ${this.outputFolder}, the folder of ${errorPath(other.node.path)} too (their ids map to the same folder name), so one host's rule files and deploy bundle would replace the other's`,
        fix: 'Give one of the hosts another id (letters, digits, _ . - keep a folder name as it is).',
      }));
    }
    const ssh = Port.tcp(this.sshPort);
    // whoever declares it: the host's openings, a guard that governs the port, a part of yours
    const opens = outcome.firewall?.declarations.opens.map((o) => o.declared) ?? this.openings;
    const sshOpen = opens.some((o) => o.port !== undefined && o.port._covers(ssh));
    if (!sshOpen && this.trustedInterfaces.length === 0) {
      const deploy = this._installer ? ' A deploy of these rules fails its new-connection check and rolls back.' : '';
      Annotations.of(this).addWarning(`no rule admits SSH (${ssh}); once loaded, this host is reachable over SSH only through an already open session.${deploy}`);
    }
    if (!this.families.includes(IpFamily.V6)) {
      Annotations.of(this).addWarning('ipv6 is false, so no ip6tables.rules is written and IPv6 traffic is not filtered by this host\'s rules.');
    }
    return errors;
  }

  private writeRuleFiles(session: ISynthesisSession): void {
    const stack = TerraformStack.of(this);
    const stackDir = path.join(session.manifest.outdir, session.manifest.forStack(stack).synthesizedStackPath, '..');
    // render everything before writing anything
    const fw = this.compiled();
    const files = this.families.map((f) => ({
      relativePath: path.posix.join(this.outputFolder, ruleFileName(f)), content: fw.files[f]!.text, mode: 0o644,
    }));
    if (fw.ipsets !== undefined) files.push({ relativePath: path.posix.join(this.outputFolder, 'ipsets.rules'), content: fw.ipsets, mode: 0o644 });
    for (const f of this._installer?.outputFiles() ?? []) {
      files.push({ relativePath: path.posix.join(this.outputFolder, f.name), content: f.content, mode: f.mode });
    }
    // what is reachable, beside the rule files (not a deploy input: no trigger changes)
    files.push({
      relativePath: path.posix.join(this.outputFolder, REACHABILITY_FILE),
      content: this.families.map((f) => this.analysis().reachability(f).text).join('\n'),
      mode: 0o644,
    });
    for (const f of files) {
      const target = path.join(stackDir, f.relativePath);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, f.content, { mode: f.mode });
    }
  }
}

/** The hosts of each stack, and their folders (a folder clash is looked up here, not by walking the tree per host). */
const HOSTS = new WeakMap<object, { hosts: StatefulHost[]; folders?: Map<string, StatefulHost[]>; count?: number }>();

function hostsOf(stack: object): { hosts: StatefulHost[]; folders?: Map<string, StatefulHost[]>; count?: number } {
  let entry = HOSTS.get(stack);
  if (!entry) HOSTS.set(stack, (entry = { hosts: [] }));
  return entry;
}

/** The hosts of a stack by output folder (computed once per number of hosts). */
function foldersOf(stack: object): Map<string, StatefulHost[]> {
  const entry = hostsOf(stack);
  if (entry.count !== entry.hosts.length) {
    entry.folders = new Map();
    for (const h of entry.hosts) {
      const list = entry.folders.get(h.outputFolder);
      if (list) list.push(h);
      else entry.folders.set(h.outputFolder, [h]);
    }
    entry.count = entry.hosts.length;
  }
  return entry.folders!;
}

/** A construct id as a folder name: unsafe characters become `_`, with a short hash to keep names apart. */
function safeSegment(id: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(id)) return id;
  // unsafe or long ids (a file name holds at most 255 bytes: ENAMETOOLONG) get a hash
  const hash = crypto.createHash('sha256').update(id).digest('hex').slice(0, 8);
  return `${id.slice(0, 48).replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[._-]/, '_')}-${hash}`;
}

/** A construct path for a comment line: no control characters. */
function printablePath(p: string): string {
  return p.replace(/[^\x20-\x7e]/g, '?');
}
