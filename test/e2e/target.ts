/**
 * A real systemd host for end-to-end tests: a cached Debian bookworm root fs
 * booted with systemd-nspawn inside a network namespace of our own, reached
 * from a "runner" namespace (where terraform runs) over a veth pair.
 *
 *   runner (198.51.100.1, 2001:db8:1::1) ──veth── target (198.51.100.10, 2001:db8:1::10)
 *
 * Nothing leaves the namespaces: the runner has no default route. Every boot
 * gets a fresh target namespace and veth, so a reboot really goes through the
 * units (rules do not survive in a kept namespace). Everything is removed by
 * destroy(), by name and PID.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Lab, Run, sh } from '../kernel/lab';

export const TARGET_V4 = '198.51.100.10';
export const TARGET_V6 = '2001:db8:1::10';
export const RUNNER_V4 = '198.51.100.1';
export const CACHE_DIR = process.env.CDKTF_IPTABLES_IMAGE_CACHE ?? '/var/cache/cdktf-iptables';

export class Target {
  public readonly lab = new Lab();
  public readonly runner: string;
  public readonly work: string;
  public readonly keyFile: string;
  public ns = '';
  private rootfs = '';
  private nspawn?: ChildProcess;
  private boots = 0;
  private readonly name: string;

  public constructor() {
    this.runner = this.lab.netns('runner');
    this.work = fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-e2e-'));
    this.keyFile = path.join(this.work, 'id_ed25519');
    this.name = `cfw${process.pid}`;
  }

  /** Builds or reuses the cached image, copies it for this run; returns seconds spent. */
  public prepareImage(): { imageSeconds: number; copySeconds: number } {
    const t0 = Date.now();
    const image = sh('bash', [path.join(__dirname, 'image.sh'), CACHE_DIR], { timeoutMs: 900_000 }).stdout.trim().split('\n').pop()!;
    const t1 = Date.now();
    this.rootfs = path.join(this.work, 'rootfs');
    sh('cp', ['-a', image, this.rootfs], { timeoutMs: 300_000 });
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'cdktf-iptables-e2e', '-f', this.keyFile]);
    const ssh = path.join(this.rootfs, 'root', '.ssh');
    fs.mkdirSync(ssh, { recursive: true, mode: 0o700 });
    fs.copyFileSync(`${this.keyFile}.pub`, path.join(ssh, 'authorized_keys'));
    fs.chmodSync(path.join(ssh, 'authorized_keys'), 0o600);
    return { imageSeconds: (t1 - t0) / 1000, copySeconds: (Date.now() - t1) / 1000 };
  }

  /** Boots the target in a fresh namespace; resolves when sshd answers. Returns seconds. */
  public async boot(): Promise<number> {
    const t0 = Date.now();
    this.boots += 1;
    this.ns = this.lab.netns(`target${this.boots}`);
    this.lab.link(this.runner, `veth${this.boots}`, [`${RUNNER_V4}/24`, '2001:db8:1::1/64'], this.ns, 'eth0', [`${TARGET_V4}/24`, `${TARGET_V6}/64`]);
    const log = fs.openSync(path.join(this.work, `boot${this.boots}.log`), 'w');
    this.nspawn = spawn('systemd-nspawn', [
      '-b', '-D', this.rootfs, '-M', this.name, '--register=no', '--keep-unit',
      `--network-namespace-path=/run/netns/${this.ns}`, '--capability=CAP_NET_ADMIN,CAP_NET_RAW', '--console=passive',
    ], { stdio: ['ignore', log, log], detached: true });
    await this.waitForSsh(90_000);
    return (Date.now() - t0) / 1000;
  }

  /** Asks the target to reboot, waits for nspawn to exit, and boots it again in a fresh namespace. */
  public async reboot(): Promise<number> {
    const t0 = Date.now();
    const old = this.nspawn!;
    const exited = new Promise<number | null>((resolve) => old.once('exit', (code) => resolve(code)));
    this.ssh('systemctl reboot', { check: false });
    const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 60_000))]);
    if (old.exitCode === null) throw new Error('the target did not go down within 60 s of systemctl reboot');
    if (code !== 133) throw new Error(`systemd-nspawn exited with ${code}, not 133 (reboot)`);
    // drop the old link from the runner side too: namespace teardown is asynchronous in the
    // kernel, and a lingering old eth0 with the same address would answer in the new one's place
    this.lab.exec(this.runner, 'ip', ['link', 'del', `veth${this.boots}`], { check: false });
    sh('ip', ['netns', 'del', this.ns], { check: false });
    await this.boot();
    return (Date.now() - t0) / 1000;
  }

  /** Runs a command on the target over SSH from the runner namespace. */
  public ssh(command: string, opts: { check?: boolean; timeoutMs?: number } = {}): Run {
    return this.lab.exec(this.runner, 'ssh', [
      '-i', this.keyFile, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
      '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=5', `root@${TARGET_V4}`, command,
    ], { check: opts.check ?? true, timeoutMs: opts.timeoutMs ?? 30_000 });
  }

  /** True when a new TCP connection to the target's SSH port succeeds within `ms`. */
  public sshPortAnswers(ms = 3000): boolean {
    return this.lab.probe(this.runner, 'nc', ['-z', '-w', String(Math.ceil(ms / 1000)), TARGET_V4, '22']).status === 0;
  }

  /** Powers the target off and removes everything this run made. */
  public destroy(): void {
    const p = this.nspawn;
    if (p && p.exitCode === null && p.pid) {
      this.ssh('systemctl poweroff', { check: false, timeoutMs: 5000 });
      const until = Date.now() + 15_000;
      while (p.exitCode === null && Date.now() < until) sh('sleep', ['0.2']);
      if (p.exitCode === null) { try { process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ } }
    }
    this.lab.destroy();
    fs.rmSync(this.work, { recursive: true, force: true });
  }

  private async waitForSsh(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (let i = 0; i < 600 && Date.now() < until; i++) {
      if (this.nspawn!.exitCode !== null) throw new Error(`systemd-nspawn exited early (${this.nspawn!.exitCode}); see ${this.work}/boot${this.boots}.log`);
      if (this.ssh('true', { check: false, timeoutMs: 8000 }).status === 0) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`sshd on the target did not answer within ${timeoutMs} ms`);
  }
}

