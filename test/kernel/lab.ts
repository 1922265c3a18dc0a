/**
 * A throw-away network lab for kernel tests: network namespaces joined by veth
 * pairs, with addresses we assign ourselves (documentation ranges
 * 198.51.100.0/24, 203.0.113.0/24, 192.0.2.0/24 and 2001:db8::/32). Nothing
 * leaves the namespaces: they have no route to the host's network.
 *
 * Everything the lab creates (namespaces, processes) is recorded and removed
 * by `destroy()`, by name and PID only.
 */
import { ChildProcess, spawn, spawnSync, SpawnSyncReturns } from 'child_process';

let labCounter = 0;

/** How to run a command: stdin, a time limit, whether a failure throws, the environment. */
export interface RunOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
  readonly check?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** Result of a command. */
export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export class Lab {
  public readonly prefix: string;
  private readonly namespaces: string[] = [];
  private readonly processes: ChildProcess[] = [];
  private vethCounter = 0;

  /** @param prefix namespace name prefix (default `cfw`); the pid and a counter keep labs apart. */
  public constructor(prefix = 'cfw') {
    labCounter += 1;
    this.prefix = `${prefix}${process.pid}x${labCounter}`;
  }

  /** Creates a namespace `<prefix>-<name>` with loopback up; returns its full name. */
  public netns(name: string): string {
    const ns = `${this.prefix}-${name}`;
    sh('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    this.exec(ns, 'ip', ['link', 'set', 'lo', 'up']);
    // no duplicate-address detection in a lab: link-local addresses (which routers and
    // neighbour discovery use) are usable at once instead of tentative for a second or two
    this.exec(ns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    return ns;
  }

  /**
   * Joins two namespaces with a veth pair named `aIf` / `bIf` inside them and
   * assigns the addresses (CIDR form, IPv6 with nodad so they are usable at once).
   */
  public link(a: string, aIf: string, aAddrs: string[], b: string, bIf: string, bAddrs: string[], opts: { bMac?: string } = {}): void {
    this.vethCounter += 1;
    const tmpA = `cfa${process.pid % 100000}${this.vethCounter}`.slice(0, 15);
    const tmpB = `cfb${process.pid % 100000}${this.vethCounter}`.slice(0, 15);
    sh('ip', ['link', 'add', tmpA, 'netns', a, 'type', 'veth', 'peer', 'name', tmpB, ...(opts.bMac ? ['address', opts.bMac] : []), 'netns', b]);
    for (const [ns, tmp, name, addrs] of [[a, tmpA, aIf, aAddrs], [b, tmpB, bIf, bAddrs]] as const) {
      this.exec(ns, 'ip', ['link', 'set', tmp, 'name', name]);
      for (const addr of addrs) {
        this.exec(ns, 'ip', ['addr', 'add', addr, 'dev', name, ...(addr.includes(':') ? ['nodad'] : [])]);
      }
      this.exec(ns, 'ip', ['link', 'set', name, 'up']);
    }
  }

  /** Runs a command inside `ns`; throws on a non-zero exit unless `check` is false. */
  public exec(ns: string, cmd: string, args: string[], opts: RunOptions = {}): Run {
    return sh('ip', ['netns', 'exec', ns, cmd, ...args], opts);
  }

  /** Like exec, but never throws: for probes whose failure is the answer. */
  public probe(ns: string, cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Run {
    return this.exec(ns, cmd, args, { ...opts, check: false });
  }

  /** Starts a long-running process inside `ns`; it is killed by destroy(). */
  public start(ns: string, cmd: string, args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.processes.push(child);
    return child;
  }

  /** Waits (bounded) until `ready()` is true. */
  public async waitFor(what: string, ready: () => boolean, timeoutMs = 5000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (let i = 0; i < 500 && Date.now() < until; i++) {
      if (ready()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }

  /** Loads a rule file with iptables-restore / ip6tables-restore in `ns`. */
  public loadRules(ns: string, family: 'v4' | 'v6', content: string): void {
    this.exec(ns, family === 'v4' ? 'iptables-restore' : 'ip6tables-restore', [], { input: content });
  }

  /** Removes every process and namespace this lab made. Safe to call twice. */
  public destroy(): void {
    for (const p of this.processes.splice(0)) {
      if (p.pid && p.exitCode === null) {
        try { process.kill(-p.pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    }
    for (const ns of this.namespaces.splice(0).reverse()) {
      // any process still inside one of *our* namespaces (listed by the kernel) is ours
      const pids = sh('ip', ['netns', 'pids', ns], { check: false }).stdout.split(/\s+/).filter(Boolean);
      for (const pid of pids) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
      }
      sh('ip', ['netns', 'del', ns], { check: false });
    }
  }
}

/** Runs a command synchronously with a timeout. */
export function sh(cmd: string, args: string[], opts: RunOptions = {}): Run {
  const t0 = Date.now();
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    input: opts.input,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 20_000,
    killSignal: 'SIGKILL',
    env: opts.env ?? process.env,
  });
  const run = { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Date.now() - t0 };
  if ((opts.check ?? true) && r.status !== 0) {
    // both streams (a provisioner's output is on stdout, terraform's error on stderr), the last 12 kB
    const said = `${run.stdout}${run.stderr}`.slice(-12_000);
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${said}${r.error ? ` ${r.error.message}` : ''}`);
  }
  return run;
}

/** True when this process may create network namespaces (root with CAP_NET_ADMIN). */
export function canUseNetns(): boolean {
  if (process.getuid?.() !== 0) return false;
  return sh('ip', ['netns', 'list'], { check: false }).status === 0;
}
