import { showValue, ValueProblem } from '../private/errors';
import { hasTemplateSequence, isUnresolved } from '../private/tokens';

/**
 * A jump host the provisioner connects through.
 * @example { host: 'bastion.example.com', user: 'ops', privateKey: key.value }
 */
export interface SshBastion {
  /** Address of the bastion (may be a token). */
  readonly host: string;
  /** @default - the target's user */
  readonly user?: string;
  /** @default 22 */
  readonly port?: number;
  /** @default - the target's private key */
  readonly privateKey?: string;
  /**
   * The bastion's public host key, to pin it.
   * @default - not pinned
   */
  readonly hostKey?: string;
}

/**
 * How Terraform reaches a host over SSH to install its rules.
 *
 * Pass secrets as tokens (e.g. a sensitive TerraformVariable): they end up in
 * the Terraform configuration only, never in rule files or logs.
 *
 * @example { host: server.publicIp, user: 'root', privateKey: key.value, port: 22 }
 */
export interface SshConnection {
  /** Address of the host (may be a token, e.g. an instance's public IP). */
  readonly host: string;
  /**
   * Login user; a user other than root needs password-less sudo.
   * @default "root"
   */
  readonly user?: string;
  /**
   * SSH port. The firewall must admit it: a tree that does not is rolled back.
   * @default 22
   */
  readonly port?: number;
  /** Private key contents (may be a token). */
  readonly privateKey: string;
  /**
   * The host's public key (as in known_hosts, without the host name), to pin it.
   * @default - not pinned
   */
  readonly hostKey?: string;
  /** @default - direct connection */
  readonly bastion?: SshBastion;
  /**
   * How long to wait for the SSH connection, as Terraform durations ("30s", "2m").
   * @default "30s"
   */
  readonly timeout?: string;
}

const USER = /^[a-z_][a-z0-9_.-]{0,31}$/;
const DURATION = /^[1-9][0-9]{0,4}(s|m)$/;

/**
 * A connection string: a non-empty string (or a cdktf token), no line breaks
 * outside keys, no literal Terraform template sequence (`${` or `%{`: Terraform
 * would evaluate it, e.g. `${file("...")}`), and matching `pattern` when it is
 * not a token. Secrets (`what` ending in "Key") are never shown, only their type.
 */
function stringProblem(what: string, value: unknown, pattern?: RegExp, fix?: string): ValueProblem | undefined {
  const secret = /privateKey$/.test(what);
  const shown = secret ? secretType(value) : showValue(value);
  if (typeof value !== 'string' || value.trim() === '') {
    return { message: `${what} is ${shown}; it must be a non-empty string`, fix: secret ? 'Pass the key text (e.g. fs.readFileSync(path, "utf8") or a sensitive TerraformVariable), not a Buffer.' : undefined };
  }
  if (/[\n\r\0]/.test(value) && !what.includes('Key')) return { message: `${what} contains a line break or NUL` };
  if (hasTemplateSequence(value)) {
    return {
      message: `${what}${secret ? '' : ` ${showValue(value)}`} holds a literal "\${" or "%{", which Terraform would evaluate as a template`,
      fix: 'Pass a plain value, or a token (e.g. a TerraformVariable\'s value) for anything computed.',
    };
  }
  if (pattern && !isUnresolved(value) && !pattern.test(value)) return { message: `${what} ${showValue(value)} is not valid`, fix };
  return undefined;
}

/** What a secret is, never what it holds. */
function secretType(value: unknown): string {
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (typeof value === 'object' && value !== null) return showValue(value); // objects show their type only
  return value === undefined || value === null ? String(value) : `a ${typeof value}`;
}

function portProblem(what: string, value: unknown): ValueProblem | undefined {
  if (typeof value === 'number' && isUnresolved(value)) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    return { message: `${what} is ${showValue(value)}; it must be a whole number from 1 to 65535` };
  }
  return undefined;
}

const HOST = /^[A-Za-z0-9.:_-]{1,253}$/;
const HOST_FIX = 'Give an IP address or DNS name (or a token such as an instance\'s public IP).';

/** What is wrong with a connection, if anything. */
export function connectionProblem(c: SshConnection): ValueProblem | undefined {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return { message: 'connection must be an object with host and privateKey' };
  if (c.bastion !== undefined && (typeof c.bastion !== 'object' || c.bastion === null || Array.isArray(c.bastion))) {
    return { message: `connection.bastion is ${showValue(c.bastion)}, not an object` };
  }
  return stringProblem('connection.host', c.host, HOST, HOST_FIX)
    ?? (c.user !== undefined ? stringProblem('connection.user', c.user, USER, 'Use a POSIX user name such as root or admin.') : undefined)
    ?? (c.port !== undefined ? portProblem('connection.port', c.port) : undefined)
    ?? stringProblem('connection.privateKey', c.privateKey)
    ?? (c.hostKey !== undefined ? stringProblem('connection.hostKey', c.hostKey) : undefined)
    ?? (c.timeout !== undefined ? stringProblem('connection.timeout', c.timeout, DURATION, 'Write a duration such as "30s" or "2m".') : undefined)
    ?? (c.bastion !== undefined ? bastionProblem(c.bastion) : undefined);
}

function bastionProblem(b: SshBastion): ValueProblem | undefined {
  return stringProblem('connection.bastion.host', b.host, HOST, HOST_FIX)
    ?? (b.user !== undefined ? stringProblem('connection.bastion.user', b.user, USER) : undefined)
    ?? (b.port !== undefined ? portProblem('connection.bastion.port', b.port) : undefined)
    ?? (b.privateKey !== undefined ? stringProblem('connection.bastion.privateKey', b.privateKey) : undefined)
    ?? (b.hostKey !== undefined ? stringProblem('connection.bastion.hostKey', b.hostKey) : undefined);
}

/** Terraform duration to seconds ("2m" → 120). */
export function durationSeconds(d: string): number {
  const n = Number(d.slice(0, -1));
  return d.endsWith('m') ? n * 60 : n;
}
