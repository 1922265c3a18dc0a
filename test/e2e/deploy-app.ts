/**
 * Synthesizes a deploy stack in-process and runs terraform on it from the
 * runner namespace of a fleet. The private key travels in the environment,
 * never on a command line.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { App, LocalBackend, TerraformStack, TerraformVariable } from 'cdktf';
import { Fleet } from './target';
import { Run } from '../kernel/lab';

export const TERRAFORM = process.env.TERRAFORM ?? '/usr/local/bin/terraform';

/** One Terraform working folder: a stack synthesized again for every change. */
export class DeployApp {
  public readonly outdir: string;
  public readonly stackDir: string;
  private initialized = false;

  public constructor(private readonly fleet: Fleet, public readonly name: string) {
    this.outdir = path.join(fleet.work, `app-${name}`);
    this.stackDir = path.join(this.outdir, 'stacks', name);
  }

  /** Synthesizes the stack that `build` makes (with the `ssh_private_key` variable's value). */
  public synth(build: (stack: TerraformStack, key: string) => void): void {
    const app = new App({ outdir: this.outdir });
    const stack = new TerraformStack(app, this.name);
    // state inside this app's folder (cdktf's default is the process's working folder)
    new LocalBackend(stack, { path: path.join(this.outdir, 'terraform.tfstate') });
    const key = new TerraformVariable(stack, 'ssh_private_key', { type: 'string', sensitive: true });
    build(stack, key.stringValue);
    app.synth();
  }

  /** Runs terraform (init first, once). */
  public terraform(args: string[], check = true): Run {
    if (!this.initialized) {
      this.initialized = true;
      this.terraform(['init', '-input=false', '-no-color']);
    }
    return this.fleet.lab.exec(this.fleet.runner, TERRAFORM, [`-chdir=${this.stackDir}`, ...args], { check, timeoutMs: 300_000, env: this.env() });
  }

  /** `terraform apply -auto-approve` with extra flags. */
  public apply(extra: string[] = [], check = true): Run {
    return this.terraform(['apply', '-auto-approve', '-input=false', '-no-color', ...extra], check);
  }

  /** Starts an apply in the background (its own process group), to be killed. */
  public applyInBackground(env: NodeJS.ProcessEnv = this.env()): ChildProcess {
    const log = fs.openSync(this.backgroundLog, 'w');
    const child = spawn('ip', ['netns', 'exec', this.fleet.runner, TERRAFORM, `-chdir=${this.stackDir}`, 'apply', '-auto-approve', '-input=false', '-no-color'], {
      env, stdio: ['ignore', log, log], detached: true,
    });
    fs.closeSync(log);
    return child;
  }

  /** terraform's output of the last background apply. */
  public get backgroundLog(): string {
    return path.join(this.outdir, 'background-apply.log');
  }

  /**
   * Starts an apply in the background, lets it stage and load the new rules,
   * and kills terraform while the deploy's probe step is held: between the
   * load and the confirm by construction, however fast the host is.
   *
   * How: a deploy resource runs `node <folder>/probe.js` (local-exec) right
   * after the stage, and the confirm only after that command ends. For this
   * apply only, a stand-in `node` comes first on terraform's PATH: for the
   * probe it records its PID and waits for the test instead of probing (any
   * other command runs the real node). The test sees the record, kills
   * terraform's process group, and ends the stand-in by its PID. Nothing in
   * lib/ knows about it; the host sees a deploy whose confirm never comes.
   * Returns terraform's output up to the kill.
   */
  public async applyKilledBeforeConfirm(timeoutMs = 120_000): Promise<string> {
    const hold = fs.mkdtempSync(path.join(this.outdir, 'hold-'));
    const held = path.join(hold, 'held');
    const release = path.join(hold, 'release');
    fs.writeFileSync(path.join(hold, 'node'), [
      '#!/bin/sh',
      "# test-only stand-in for node (test/e2e/deploy-app.ts applyKilledBeforeConfirm): holds the deploy's probe",
      'case "${1:-}" in',
      '  */probe.js) ;;',
      `  *) exec ${shellQuote(process.execPath)} "$@" ;;`,
      'esac',
      `echo $$ > ${shellQuote(held)}.tmp && mv ${shellQuote(held)}.tmp ${shellQuote(held)}`,
      '# held until the test kills terraform (and this process); bounded: at most 10 minutes',
      'i=0',
      `while [ ! -e ${shellQuote(release)} ] && [ "$i" -lt 2400 ]; do sleep 0.25; i=$((i + 1)); done`,
      'exit 1',
      '',
    ].join('\n'), { mode: 0o755 });
    const env = this.env();
    const child = this.applyInBackground({ ...env, PATH: `${hold}:${env.PATH}` });
    let shim: number | undefined;
    try {
      const end = Date.now() + timeoutMs;
      for (let i = 0; i < 2000 && Date.now() < end && !fs.existsSync(held); i++) {
        if (child.exitCode !== null || child.signalCode !== null) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      if (!fs.existsSync(held)) {
        throw new Error(`the apply did not reach the probe step within ${timeoutMs} ms (terraform ${child.exitCode === null ? 'still running' : `exited with ${child.exitCode}`}):\n${fs.readFileSync(this.backgroundLog, 'utf8').slice(-4000)}`);
      }
      shim = Number(fs.readFileSync(held, 'utf8').trim());
    } finally {
      await killGroup(child);
      fs.writeFileSync(release, '');
      if (shim) await killPid(shim, hold);
    }
    return fs.readFileSync(this.backgroundLog, 'utf8');
  }

  /** The file a host wrote in this stack's synth folder. */
  public file(host: string, name: string): string {
    return fs.readFileSync(path.join(this.stackDir, 'firewall', host, name), 'utf8');
  }

  /** The environment terraform runs with (the key in TF_VAR_ssh_private_key). */
  public env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      TF_VAR_ssh_private_key: fs.readFileSync(this.fleet.keyFile, 'utf8'),
      CHECKPOINT_DISABLE: '1',
      TF_IN_AUTOMATION: '1',
      TF_CLI_CONFIG_FILE: '/dev/null',
      PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`,
    };
  }
}

/**
 * Kills one process by PID, if it still runs and its command line names
 * `mark` (a PID freed by then may belong to another process), and waits
 * (bounded) for it to be gone.
 */
async function killPid(pid: number, mark: string): Promise<void> {
  const ours = () => { try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(mark); } catch { return false; } };
  // a zombie (ended, not yet reaped by whoever inherited it) counts as gone
  const alive = () => { try { return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; } };
  if (alive() && ours()) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } else {return;}
  const until = Date.now() + 10_000;
  while (alive() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
}

/** A word for /bin/sh. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}

/** Kills a background process group and waits (bounded) for it to end. */
export async function killGroup(child: ChildProcess): Promise<void> {
  if (child.pid && child.exitCode === null) {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  const until = Date.now() + 10_000;
  while (child.exitCode === null && child.signalCode === null && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
}
