/**
 * Error factories. Every message names where the problem is (a construct path
 * when there is one), the bad value, and, where we can tell, the fix.
 */

/** A problem found in a value before it knows which construct uses it. */
export interface ValueProblem {
  /** What is wrong, e.g. "port 70000 is out of range 1..65535". */
  readonly message: string;
  /** How to fix it, e.g. "Did you mean 10.0.0.0/24?". */
  readonly fix?: string;
}

/** The first problem of a list, if any. */
export function firstProblem(...problems: (ValueProblem | undefined)[]): ValueProblem | undefined {
  return problems.find((p) => p !== undefined);
}

/** A problem as one sentence and its fix, without a construct path (a validation's message: the framework names the construct). */
export function problemText(problem: ValueProblem): string {
  return `${problem.message}.${problem.fix ? ` ${problem.fix}` : ''}`;
}

/** The error the library throws for bad input: its message names the construct path; `constructPath` and `problem` keep the parts. */
export interface FirewallConfigError extends Error {
  readonly constructPath: string;
  readonly problem: ValueProblem;
}

/** Builds the one error shape the library throws for bad input. */
export function firewallError(where: string, problem: ValueProblem): FirewallConfigError {
  const prefix = where ? `[${printablePath(where)}] ` : '';
  const err = new Error(`${prefix}${problemText(problem)}`) as Error & { constructPath: string; problem: ValueProblem };
  err.name = 'FirewallConfigError';
  err.constructPath = where;
  err.problem = problem;
  return err;
}

/** True when `e` is one of the library's configuration errors (from any copy of it). */
export function isFirewallConfigError(e: unknown): e is FirewallConfigError {
  return e instanceof Error && e.name === 'FirewallConfigError';
}

/**
 * A construct path fit for one line of an error: control characters shown as
 * `?`, very long segments (ids) cut with `…`.
 */
export function printablePath(path: string): string {
  return String(path).split('/').map((seg) => {
    const clean = seg.replace(/[\x00-\x1f\x7f]/g, '?');
    return clean.length > 64 ? `${clean.slice(0, 60)}…` : clean;
  }).join('/');
}

/**
 * Quotes a user value for an error message, showing control characters.
 * Long strings are cut; objects (Buffers, class instances) show their type
 * only, never their content: they may be secrets.
 */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return value.length > 120 ? `${JSON.stringify(value.slice(0, 120))}… (${value.length} characters)` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof Buffer !== 'undefined' && Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  const name = (value as object).constructor?.name;
  if (name && name !== 'Object') return `a ${name}`;
  // a plain object: its keys (the values may hold secrets)
  const keys = Object.keys(value as object).slice(0, 8).map((k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)));
  return keys.length > 0 ? `an object {${keys.join(', ')}}` : 'an empty object';
}

/**
 * True when a string carries cdktf's token marker (`${TfToken[...]}`). For
 * messages in the model only ("is an unresolved token"): the model refuses
 * such values either way. Whether a value really is a token is decided with
 * cdktf's `Token.isUnresolved` (lib/private/tokens.ts), never by this.
 */
export function looksLikeToken(value: string): boolean {
  return typeof value === 'string' && /\$\{Tf(Token)?\[[A-Za-z0-9:._-]+\]\}|#\{TfToken\[|&\{TfToken\[/.test(value);
}

/** True when a number is an encoded cdktf/CDK token (a huge negative double). */
export function numberLooksLikeToken(value: number): boolean {
  return typeof value === 'number' && value <= -1e289;
}
