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

/** Builds the one error shape the library throws for bad input. */
export function firewallError(where: string, problem: ValueProblem): Error {
  const prefix = where ? `[${where}] ` : '';
  const fix = problem.fix ? ` ${problem.fix}` : '';
  const err = new Error(`${prefix}${problem.message}.${fix}`);
  err.name = 'FirewallConfigError';
  return err;
}

/** Quotes a user value for an error message, showing control characters. */
export function showValue(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** True when a string carries an unresolved cdktf/CDK token. */
export function looksLikeToken(value: string): boolean {
  return /\$\{Token\[|\$\{TfToken\[|\$\{[^}]*\}/.test(value);
}

/** True when a number is an encoded cdktf/CDK token (a huge negative double). */
export function numberLooksLikeToken(value: number): boolean {
  return typeof value === 'number' && value <= -1e289;
}
