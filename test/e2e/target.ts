/**
 * Real systemd hosts for end-to-end tests: a cached Debian bookworm root fs,
 * mounted per host as an overlay (no copy), booted with systemd-nspawn inside
 * a network namespace of its own, reached from one "runner" namespace (where
 * terraform runs) over a bridge:
 *
 *   runner br0 (198.51.100.1, 2001:db8:1::1) ──veth── host i (198.51.100.(10+i), 2001:db8:1::(10+i))
 *
 * Nothing leaves the namespaces: the runner has no default route. Every boot
 * gets a fresh host namespace and veth, so a reboot really goes through the
 * units. Everything is removed by destroy(), by name, mount point and PID.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Lab, Run, sh } from '../kernel/lab';

export const RUNNER_V4 = '198.51.100.1';
export const CACHE_DIR = process.env.CDKTF_IPTABLES_IMAGE_CACHE ?? '/var/cache/cdktf-iptables';
/** Backwards-compatible names of the first host's addresses. */
export const TARGET_V4 = '198.51.100.10';
export const TARGET_V6 = '2001:db8:1::10';

/** An image layer with the other tools some tests need: fail2ban (with its systemd backend), ipset, sudo. */
export const TOOLS_LAYER = { name: 'tools-v2', packages: ['fail2ban', 'python3-systemd', 'ipset', 'sudo'] };
/**
 * The image layers test/realtools/capture.sh runs the real firewall tools in (the same lists
 * are in that script): ufw, fail2ban, ipset and firewalld; Docker (Debian's docker.io) apart.
 */
export const REALTOOLS_LAYER = { name: 'realtools-v1', packages: ['ufw', 'fail2ban', 'python3-systemd', 'ipset', 'firewalld'] };
export const REALTOOLS_DOCKER_LAYER = { name: 'realtools-docker-v1', packages: ['docker.io'] };

/** The image, built once and cached; returns its path and the seconds spent. */
export function cachedImage(): { image: string; seconds: number } {
  const t0 = Date.now();
  const image = sh('bash', [path.join(__dirname, 'image.sh'), CACHE_DIR], { timeoutMs: 900_000 }).stdout.trim().split('\n').pop()!;
  return { image, seconds: (Date.now() - t0) / 1000 };
}

/** Waits (bounded in time and tries) until `ok()` holds. */
export async function waitUntil(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (let i = 0; i < 1000 && Date.now() < end; i++) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * True until the process has exited: a child of this process that exited is
 * a zombie until the event loop reaps it, so its state comes from /proc.
 */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Waits synchronously (bounded by `ms`, in 50 ms steps) until `ok()`; returns whether it held. */
function waitSync(ok: () => boolean, ms: number): boolean {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const until = Date.now() + ms;
  for (let i = 0; i < 1000 && Date.now() < until; i++) {
    if (ok()) return true;
    Atomics.wait(cell, 0, 0, 50);
  }
  return ok();
}

/** A runner namespace with a bridge, a key pair, and any number of hosts. */
export class Fleet {
  public readonly lab: Lab;
  /** Prefix of every name this fleet makes (namespaces, machines, its folder). */
  public readonly prefix: string;
  public readonly runner: string;
  public readonly work: string;
  public readonly keyFile: string;
  public readonly image: string;
  public readonly imageSeconds: number;
  private readonly targets: Target[] = [];

  /**
   * @param layer extra Debian packages: the hosts boot an image layer that has
   * them (built once by image-layer.sh and cached under its name), configured
   * by the `configure` script if given
   * @param opts.prefix prefix of the fleet's names (default `cfw`): tests
   * that may run beside other suites' fleets use their own
   */
  public constructor(layer?: { name: string; packages: string[]; configure?: string }, opts: { prefix?: string } = {}) {
    if (process.getuid?.() !== 0) throw new Error('the e2e tests need root, network namespaces and systemd-nspawn (see README)');
    this.prefix = opts.prefix ?? 'cfw';
    this.lab = new Lab(this.prefix);
    const { image, seconds } = cachedImage();
    const t0 = Date.now();
    this.image = layer
      ? sh('bash', [path.join(__dirname, 'image-layer.sh'), CACHE_DIR, image, layer.name, ...layer.packages], {
        timeoutMs: 900_000,
        env: { ...process.env, LAYER_CONFIGURE: layer.configure ?? '' },
      }).stdout.trim().split('\n').pop()!
      : image;
    this.imageSeconds = seconds + (Date.now() - t0) / 1000;
    this.work = fs.mkdtempSync(path.join(os.tmpdir(), `${this.prefix}-e2e-`));
    this.keyFile = path.join(this.work, 'id_ed25519');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'cdktf-iptables-e2e', '-f', this.keyFile]);
    this.runner = this.lab.netns('runner');
    // no STP forward delay, no multicast snooping: IPv6 neighbour discovery works at once on new ports
    this.lab.exec(this.runner, 'ip', ['link', 'add', 'br0', 'type', 'bridge', 'forward_delay', '0', 'mcast_snooping', '0']);
    this.lab.exec(this.runner, 'ip', ['addr', 'add', `${RUNNER_V4}/24`, 'dev', 'br0']);
    this.lab.exec(this.runner, 'ip', ['addr', 'add', '2001:db8:1::1/64', 'dev', 'br0', 'nodad']);
    this.lab.exec(this.runner, 'ip', ['link', 'set', 'br0', 'up']);
    // systemd in every container takes inotify instances; 20 of them exceed Debian's default 128
    const limit = '/proc/sys/fs/inotify/max_user_instances';
    if (Number(fs.readFileSync(limit, 'utf8')) < 1024) fs.writeFileSync(limit, '1024');
  }

  /** A new host (not booted yet) with index `i` (addresses .10+i). */
  public target(): Target {
    const t = new Target(this, this.targets.length);
    this.targets.push(t);
    return t;
  }

  /** Boots hosts side by side; resolves when every sshd answers. Returns seconds. */
  public async bootAll(targets: readonly Target[]): Promise<number> {
    const t0 = Date.now();
    for (const t of targets) t.start();
    for (const t of targets) await t.ready();
    return (Date.now() - t0) / 1000;
  }

  /** Powers every host off and removes everything this fleet made. */
  public destroy(): void {
    // every host is told to end first, then each is waited for: the ends overlap
    for (const t of this.targets) t.kill();
    for (const t of this.targets) t.destroy();
    this.lab.destroy();
    fs.rmSync(this.work, { recursive: true, force: true });
  }
}

/** One booted host of a fleet. */
export class Target {
  public readonly v4: string;
  public readonly v6: string;
  public ns = '';
  private readonly root: string;
  private readonly mounted: string;
  private nspawn?: ChildProcess;
  private boots = 0;
  private readonly name: string;

  public constructor(private readonly fleet: Fleet, public readonly index: number) {
    this.v4 = `198.51.100.${10 + index}`;
    this.v6 = `2001:db8:1::${10 + index}`;
    this.name = `${fleet.prefix}${process.pid % 100000}t${index}`;
    this.root = path.join(fleet.work, `host${index}`);
    this.mounted = path.join(this.root, 'root');
    for (const d of ['upper', 'work', 'root']) fs.mkdirSync(path.join(this.root, d), { recursive: true });
    sh('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${fleet.image},upperdir=${this.root}/upper,workdir=${this.root}/work`, this.mounted]);
    const ssh = path.join(this.mounted, 'root', '.ssh');
    fs.mkdirSync(ssh, { recursive: true, mode: 0o700 });
    fs.copyFileSync(`${fleet.keyFile}.pub`, path.join(ssh, 'authorized_keys'));
    fs.chmodSync(path.join(ssh, 'authorized_keys'), 0o600);
  }

  public get lab(): Lab { return this.fleet.lab; }
  public get runner(): string { return this.fleet.runner; }
  public get keyFile(): string { return this.fleet.keyFile; }
  public get work(): string { return this.root; }

  /** Boots the host in a fresh namespace; resolves when sshd answers. Returns seconds. */
  public async boot(): Promise<number> {
    const t0 = Date.now();
    this.start();
    await this.waitForSsh(90_000);
    return (Date.now() - t0) / 1000;
  }

  /** Starts the host's boot in a fresh namespace (see {@link Fleet.bootAll}). */
  public start(): void {
    this.boots += 1;
    this.ns = this.lab.netns(`h${this.index}b${this.boots}`);
    const veth = `vh${this.index}b${this.boots}`;
    // the same MAC address on every boot: neighbours' caches stay right across a reboot
    const hex = (n: number) => n.toString(16).padStart(2, '0');
    const mac = `02:cf:00:00:${hex(Math.floor(this.index / 256) % 256)}:${hex(this.index % 256)}`;
    this.lab.link(this.runner, veth, [], this.ns, 'eth0', [`${this.v4}/24`, `${this.v6}/64`], { bMac: mac });
    this.lab.exec(this.runner, 'ip', ['link', 'set', veth, 'master', 'br0']);
    const log = fs.openSync(path.join(this.root, `boot${this.boots}.log`), 'w');
    this.nspawn = spawn('systemd-nspawn', [
      '-b', '-D', this.mounted, '-M', this.name, '--register=no', '--keep-unit',
      `--network-namespace-path=/run/netns/${this.ns}`, '--capability=CAP_NET_ADMIN,CAP_NET_RAW', '--console=passive',
    ], {
      stdio: ['ignore', log, log],
      detached: true,
      // /proc/sys/net writable, as on a real host: a NAT gateway's deploy sets forwarding
      env: { ...process.env, SYSTEMD_NSPAWN_API_VFS_WRITABLE: 'network' },
    });
    fs.closeSync(log);
  }

  /** Resolves when sshd on the started host answers. */
  public async ready(): Promise<void> {
    await this.waitForSsh(90_000);
  }

  /** Asks the host to reboot, waits for nspawn to exit, and boots it again in a fresh namespace. */
  public async reboot(): Promise<number> {
    const t0 = Date.now();
    const old = this.nspawn!;
    const exited = new Promise<number | null>((resolve) => old.once('exit', (code) => resolve(code)));
    this.exec('systemctl reboot', { check: false, timeoutMs: 10_000 });
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<null>((r) => { timer = setTimeout(() => r(null), 60_000); })]);
    clearTimeout(timer);
    if (old.exitCode === null) throw new Error('the host did not go down within 60 s of systemctl reboot');
    if (code !== 133) throw new Error(`systemd-nspawn exited with ${code}, not 133 (reboot)`);
    this.dropLink();
    await this.boot();
    return (Date.now() - t0) / 1000;
  }

  /** Runs a command on the host over SSH from the runner namespace. */
  public ssh(command: string, opts: { check?: boolean; timeoutMs?: number } = {}): Run {
    return this.lab.exec(this.runner, 'ssh', [
      '-i', this.keyFile, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
      '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=5', `root@${this.v4}`, command,
    ], { check: opts.check ?? true, timeoutMs: opts.timeoutMs ?? 30_000 });
  }

  /**
   * Runs a command inside the host without SSH (nsenter into its init's
   * namespaces): checks that must not count as SSH attempts against a guard.
   */
  public exec(command: string, opts: { check?: boolean; timeoutMs?: number; input?: string } = {}): Run {
    return sh('nsenter', ['-t', String(this.initPid()), '-m', '-u', '-i', '-n', '-p', '--', '/bin/sh', '-c', command], { check: opts.check ?? true, timeoutMs: opts.timeoutMs ?? 30_000, input: opts.input });
  }

  /** The PID (on this machine) of the host's systemd. */
  private initPid(): number {
    let pids = [this.nspawn!.pid!];
    for (let depth = 0; depth < 3; depth++) {
      const next: number[] = [];
      for (const pid of pids) {
        const children = sh('ps', ['-o', 'pid=,comm=', '--ppid', String(pid)], { check: false }).stdout.trim().split('\n').filter(Boolean);
        for (const line of children) {
          const [child, comm] = line.trim().split(/\s+/);
          if (comm === 'systemd') return Number(child);
          next.push(Number(child));
        }
      }
      pids = next;
    }
    throw new Error(`no systemd found under systemd-nspawn ${this.nspawn!.pid}`);
  }

  /**
   * A stand-in ufw (the image has no ufw package): a real unit that runs, and
   * /etc/ufw/ufw.conf saying whether ufw is on (stock Ubuntu runs the unit
   * even with `ENABLED=no`).
   */
  public standInUfw(enabled: boolean): void {
    this.exec([
      "printf '[Unit]\\nDescription=stand-in ufw\\n[Service]\\nExecStart=/bin/sleep infinity\\n[Install]\\nWantedBy=multi-user.target\\n' > /lib/systemd/system/ufw.service",
      `mkdir -p /etc/ufw && echo ENABLED=${enabled ? 'yes' : 'no'} > /etc/ufw/ufw.conf`,
      'systemctl daemon-reload && systemctl enable --now --quiet ufw.service',
    ].join(' && '));
  }

  /** True when a new TCP connection to the host's SSH port succeeds within `ms`. */
  public sshPortAnswers(ms = 3000): boolean {
    return this.lab.probe(this.runner, 'nc', ['-z', '-w', String(Math.ceil(ms / 1000)), this.v4, '22']).status === 0;
  }

  /** Waits (bounded) until a new connection to SSH answers again. */
  public async waitForSshPort(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    for (let i = 0; i < 400 && Date.now() < until; i++) {
      if (this.sshPortAnswers(2000)) return true;
      await new Promise((r) => setTimeout(r, 500));
    }
    return false;
  }

  /**
   * Ends the host at once (SIGKILL to its init ends its whole PID namespace: a
   * clean shutdown of a throw-away host only costs time) and removes its
   * mount. Safe to call twice.
   */
  public destroy(): void {
    const p = this.nspawn;
    if (p?.pid && running(p.pid)) {
      this.kill();
      // synchronous waits: the ChildProcess's exitCode is only updated by the event loop, which
      // a synchronous loop blocks, so the loops read the process's state from /proc instead
      if (!waitSync(() => !running(p.pid!), 10_000)) {
        try { process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ }
        waitSync(() => !running(p.pid!), 5000);
      }
    }
    this.nspawn = undefined;
    if (fs.existsSync(this.mounted)) sh('umount', ['-l', this.mounted], { check: false });
  }

  /** Sends SIGKILL to the host's init, if it runs (see {@link destroy}). */
  public kill(): void {
    const p = this.nspawn;
    if (!p?.pid || !running(p.pid)) return;
    try { process.kill(this.initPid(), 'SIGKILL'); } catch { /* gone */ }
  }

  private dropLink(): void {
    // namespace teardown is asynchronous in the kernel: drop the old link from the runner side too
    this.lab.exec(this.runner, 'ip', ['link', 'del', `vh${this.index}b${this.boots}`], { check: false });
    sh('ip', ['netns', 'del', this.ns], { check: false });
  }

  private async waitForSsh(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (let i = 0; i < 600 && Date.now() < until; i++) {
      if (this.nspawn!.exitCode !== null) throw new Error(`systemd-nspawn exited early (${this.nspawn!.exitCode}); see ${this.root}/boot${this.boots}.log`);
      if (this.ssh('true', { check: false, timeoutMs: 8000 }).status === 0) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`sshd on ${this.v4} did not answer within ${timeoutMs} ms`);
  }
}
