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
  public applyInBackground(): ChildProcess {
    const log = fs.openSync(path.join(this.outdir, 'background-apply.log'), 'w');
    const child = spawn('ip', ['netns', 'exec', this.fleet.runner, TERRAFORM, `-chdir=${this.stackDir}`, 'apply', '-auto-approve', '-input=false', '-no-color'], {
      env: this.env(), stdio: ['ignore', log, log], detached: true,
    });
    fs.closeSync(log);
    return child;
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

/** Kills a background process group and waits (bounded) for it to end. */
export async function killGroup(child: ChildProcess): Promise<void> {
  if (child.pid && child.exitCode === null) {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  const until = Date.now() + 10_000;
  while (child.exitCode === null && child.signalCode === null && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
}
