import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Construct, IConstruct } from 'constructs';
import type { FirewallPart } from './firewall-part';
import { checkId, PropReader } from './props';
import { declaredIntent, impliedRoutes } from '../analysis/declare';
import { RulesetEvaluator } from '../analysis/evaluator';
import { checkIntent } from '../analysis/intent';
import { PacketProps, ReachabilityReport, TimedPacketProps, Verdict } from '../analysis/types';
import { IpFamily, ALL_FAMILIES, ruleFileName } from '../iptables/family';
import { Block, FirewallContribution, hostFirewall, HostFirewallSpec, Opening, PartContribution } from '../firewall/skeleton';
import { interfaceNameProblem } from '../values/interface-name';
import { renderIpsets } from '../iptables/ipset';
import { ClosedPortResponse, OutboundOptions, OutboundPolicy } from '../values/options';
import { Peer } from '../values/peer';
import { Port } from '../values/port';
import { PrefixIndex } from '../values/prefix-index';
import { Ruleset } from '../rules/ruleset';
import { FIREWALL_PART_BRAND, hasBrand, STATEFUL_HOST_BRAND } from '../private/brand';
import { addCustomSynthesis, Annotations, ISynthesisSession, ITerraformDependable, TerraformStack } from '../private/cdktf';
import { firewallError, showValue, ValueProblem } from '../private/errors';
import { CloudInitOptions } from '../provision/cloud-init';
import { HostDelivery } from '../provision/delivery';
import { DeployProps } from '../provision/deploy-props';
import { checkDeployProps, createDeployment, DEPLOY_PASS_LIST, deployPassSeconds } from '../provision/deployment';
import { Distro } from '../provision/distro';
import { HostInstaller } from '../provision/installer';
import { renderIptablesSave, ruleLine } from '../iptables/syntax';
import { compilePart, partOpenings, partTrusted } from '../rules/compile';
import { PartHost } from '../rules/part-host';

/** The reachability report written beside the rule files. */
const REACHABILITY_FILE = 'reachability.txt';

/** Reachability reports by rule text (titles set per host): identical hosts are analysed once. */
const REACH_CACHE = new Map<string, ReachabilityReport>();

/** Rule texts and declarations (without owners) that passed the intent check. */
const INTENT_CLEAN = new Set<string>();
/** Evaluators by rule text and routes. */
const EVALUATORS = new Map<string, RulesetEvaluator>();

/** Rule text without comment lines (the header names the host): what the kernel gets. */
function semanticText(text: string): string {
  return text.replace(/^#.*\n/gm, '');
}

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
  private readonly openings: Opening[] = [];
  private sshPort = 22;
  private readonly rendered = new Map<string, string>();
  private readonly blocks: Block[] = [];
  private readonly blockIndex = new PrefixIndex<Block>();
  private readonly blockCidrs = new Set<string>();
  private readonly openingKeys = new Set<string>();
  private readonly openingPeers = new PrefixIndex<Opening>();
  private readonly props: PropReader;

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
    this.delivery = new HostDelivery(this, {
      path: this.node.path,
      families: this.families,
      distro: this.distro,
      renderRules: (f) => this.renderRules(f),
      ipsetRules: () => this.ipsetRules(),
      ruleset: () => this.ruleset(),
    });
    this._installer = createDeployment(this, props, {
      families: this.families,
      folder: this.outputFolder,
      content: () => this.delivery.deployContent(),
    });
    const port = props.connection?.port;
    if (typeof port === 'number' && Number.isInteger(port) && port > 0) this.sshPort = port;

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
    const o = this.openingPeers.inside(p);
    if (o) {
      throw firewallError(this.node.path, {
        message: `block(${p}) conflicts with allowFrom(${o.peer}, ${o.port}): the blocked range covers the whole admitted peer, so the allow can never match`,
        fix: 'Remove one of the two, or block a narrower range.',
      });
    }
    this.blocks.push({ peer: p, owner: this.node.path });
    this.blockIndex.add(p, this.blocks[this.blocks.length - 1]);
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
    const key = `${family}|${this.stateKey()}`;
    const cached = this.rendered.get(key);
    if (cached !== undefined) return cached;
    const text = this.renderChecked(family);
    this.rendered.set(key, text);
    return text;
  }

  /** Renders, turning an internal error into one that names this host (a library bug, never silent). */
  private renderChecked(family: IpFamily): string {
    const header = `cdktf-iptables: ${ruleFileName(family)} of ${printablePath(this.node.path)}. Generated; edit the cdktf program, not this file.`;
    try {
      return renderIptablesSave(family, this.ruleset().ordered(family), { header });
    } catch (e) {
      if ((e as Error).name === 'FirewallConfigError') throw e;
      throw firewallError(this.node.path, { message: `cannot render ${ruleFileName(family)}: ${(e as Error).message}`, fix: 'This is a bug of cdktf-iptables: please report it with the program.' });
    }
  }

  /**
   * Changes whenever the firewall can change: the host's own lists grow only
   * through its methods, and parts (immutable once built) only by being added
   * under it. Synth renders each file several times (validation, writing,
   * hashes); this keeps that to once.
   */
  private stateKey(): string {
    return `${this.openings.length}/${this.blocks.length}/${this.node.findAll().length}`;
  }

  /**
   * The `ipset restore` text of this host's sets (a {@link Blocklist}, or
   * `block()` beyond a few peers), or undefined when it has none. Written as
   * `ipsets.rules` next to the rule files; load it before them.
   */
  public ipsetRules(): string | undefined {
    const sets = this.ruleset().sets.filter((s) => this.families.includes(s.family));
    if (sets.length === 0) return undefined;
    return renderIpsets(sets, `cdktf-iptables: ipset sets of ${printablePath(this.node.path)}. Generated; edit the cdktf program, not this file.`);
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
   * Every file written for this host at synth: the rule files and, with a
   * connection, the deploy bundle and the probe.
   */
  private outputFiles(): Array<{ relativePath: string; content: string; mode: number }> {
    const files = this.ruleFiles().map((f) => ({ relativePath: f.relativePath, content: f.content, mode: 0o644 }));
    const sets = this.ipsetRules();
    if (sets !== undefined) files.push({ relativePath: path.posix.join(this.outputFolder, 'ipsets.rules'), content: sets, mode: 0o644 });
    for (const f of this._installer?.outputFiles() ?? []) {
      files.push({ relativePath: path.posix.join(this.outputFolder, f.name), content: f.content, mode: f.mode });
    }
    return files;
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

  /** The whole ruleset of this host: its own rules and its parts'. */
  private ruleset(): Ruleset {
    return hostFirewall(this.firewallSpec());
  }

  /** Everything the host's rules are made of (also what the intent check reads). */
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
      parts: this.parts().map(partContribution),
    };
  }

  /**
   * The verdict of this host's rules for `family` on one packet, computed
   * offline from the rendered rule file (fresh rate limits, empty recent lists).
   * @example host.evaluate({ family: IpFamily.V4, protocol: Protocol.TCP, source: '198.51.100.7', destinationPort: 22 }).action
   */
  public evaluate(packet: PacketProps): Verdict {
    return this.evaluator(packet.family).evaluate(packet);
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
    return this.evaluator(fam).simulate(packets);
  }

  /**
   * Which sources reach which ports on which interfaces of this host, for
   * `family`: opened, guarded, refused or silent (also written at synth as
   * `reachability.txt` beside the rule files).
   * @example host.reachability(IpFamily.V4).text
   */
  public reachability(family: IpFamily): ReachabilityReport {
    const title = `reachability of ${printablePath(this.node.path)}, ${family} (from ${ruleFileName(family)})`;
    const key = `${family}\u0000${semanticText(this.renderRules(family))}\u0000${JSON.stringify(impliedRoutes(this.firewallSpec(), family))}\u0000${semanticText(this.ipsetRules() ?? '')}`;
    let r = REACH_CACHE.get(key);
    if (!r) {
      r = this.evaluator(family).reachability('\u0000');
      if (REACH_CACHE.size > 1000) REACH_CACHE.clear();
      REACH_CACHE.set(key, r);
    }
    return { family: r.family, entries: r.entries.map((e) => ({ ...e, interfaces: [...e.interfaces], sources: [...e.sources], via: [...e.via] })), text: r.text.replace('\u0000', title) };
  }

  /** The evaluator over the rendered file of `family` (shared by hosts with the same rules). */
  private evaluator(family: IpFamily): RulesetEvaluator {
    const routes = impliedRoutes(this.firewallSpec(), family);
    const key = `${family}\u0000${semanticText(this.renderRules(family))}\u0000${JSON.stringify(routes)}\u0000${semanticText(this.ipsetRules() ?? '')}`;
    let ev = EVALUATORS.get(key);
    if (!ev) {
      ev = RulesetEvaluator.fromText(family, this.renderRules(family), { routes, ipsets: this.ipsetRules() });
      if (EVALUATORS.size > 1000) EVALUATORS.clear();
      EVALUATORS.set(key, ev);
    }
    return ev;
  }

  /** Undeclared reachability (and declared openings the rules refuse), as messages naming the parts. */
  private intentProblems(): string[] {
    const spec = this.firewallSpec();
    const rs = hostFirewall(spec);
    const out: string[] = [];
    for (const family of this.families) {
      const intent = declaredIntent(spec, family, partOpenings(rs), partTrusted(rs));
      // identical rules and declarations (whoever owns them) are checked once
      const key = `${family}\u0000${semanticText(this.renderRules(family))}\u0000${semanticText(this.ipsetRules() ?? '')}\u0000${JSON.stringify(intent, (k, v) => (k === 'owner' ? undefined : v))}`;
      if (INTENT_CLEAN.has(key)) continue;
      const owners = new Map<string, string[]>();
      for (const r of rs.allRules) {
        if (!r.args[family]) continue;
        const text = ruleLine(r.chain, rs.rendered(r, family));
        owners.set(text, [...(owners.get(text) ?? []), r.owner]);
      }
      const problems = checkIntent(this.evaluator(family)._engine, intent, owners).map((p) => p.message);
      if (problems.length === 0) {
        if (INTENT_CLEAN.size > 1000) INTENT_CLEAN.clear();
        INTENT_CLEAN.add(key);
      }
      out.push(...problems.map((m) => `intent check: ${m}`));
    }
    return out;
  }

  /** The firewall parts whose nearest host is this one. */
  private parts(): FirewallPart[] {
    return this.node.findAll()
      .filter((c) => c !== this && hasBrand(c, FIREWALL_PART_BRAND) && StatefulHost.of(c) === this) as any;
  }

  /**
   * What the host's machine must provide for these rules, e.g.
   * `ipv4-forwarding` for a NAT gateway (provisioning writes the sysctl).
   */
  public get requirements(): string[] {
    return this.ruleset().requirements;
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
    const blocked = peer && !peer.isAny ? this.blockIndex.covering(peer) : undefined;
    if (blocked) {
      throw firewallError(this.node.path, {
        message: `${where} admits ${peer} to ${p}, but block(${blocked.peer}) drops all of it first`,
        fix: 'Remove one of the two, or block a narrower range.',
      });
    }
    const opening = { port: p, peer, iface, owner: this.node.path };
    this.openings.push(opening);
    this.openingKeys.add(key);
    if (peer && !peer.isAny) this.openingPeers.add(peer, opening);
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

  /** Tree-wide checks at synth: everything renders, and remote access stays possible. */
  private validateTree(): string[] {
    const errors: string[] = [];
    try {
      for (const family of this.families) this.renderRules(family);
      void this.outputFolder;
    } catch (e) {
      errors.push((e as Error).message);
    }
    if (errors.length === 0) {
      try {
        errors.push(...this.intentProblems());
      } catch (e) {
        errors.push(`intent check could not read the rendered rules: ${(e as Error).message}`);
      }
    }
    const ssh = Port.tcp(this.sshPort);
    const guarded = this.parts().some((p) => Port.isPort((p as any).port) && Port._adopt((p as any).port)._covers(ssh));
    const sshOpen = guarded || this.openings.some((o) => o.port._covers(ssh));
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
    const files = this.outputFiles(); // render everything before writing anything
    // what is reachable, beside the rule files (not a deploy input: no trigger changes)
    files.push({
      relativePath: path.posix.join(this.outputFolder, REACHABILITY_FILE),
      content: this.families.map((f) => this.reachability(f).text).join('\n'),
      mode: 0o644,
    });
    for (const f of files) {
      const target = path.join(stackDir, f.relativePath);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, f.content, { mode: f.mode });
    }
  }
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

// keep ALL_FAMILIES referenced for readers: the host renders a subset of it
void ALL_FAMILIES;

/**
 * How the host collects a part, built-in or not: the part's bookkeeping (the
 * built-in parts' claims and lists), then its PartRules through the compiler.
 */
function partContribution(part: FirewallPart): FirewallContribution & { readonly spec?: unknown } {
  const builtin = typeof (part as any)._contribution === 'function' ? (part as any)._contribution() as PartContribution<{ path: string }> : undefined;
  const owner = part.node.path;
  return {
    path: owner,
    spec: builtin?.spec,
    contribute(rs, host) {
      builtin?.prepare(rs, host);
      compilePart(rs, host, owner, part.firewallRules(PartHost._of(host)), builtin?.compileOptions() ?? {});
    },
  };
}
