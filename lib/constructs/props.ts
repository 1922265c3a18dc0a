/**
 * Run-time type checks of construct props: jsii users (Python, Java, ...) and
 * programs that read JSON, YAML or environment variables pass values the
 * TypeScript types never see (`"false"`, `"3"`, `null`, a lone object for a
 * list, NaN). Each check throws a construct-path error naming the prop, what
 * was given (type only for objects: they may hold secrets) and the fix.
 */
import { Construct } from 'constructs';
import { IpFamily } from '../iptables/family';
import { firewallError, showValue, ValueProblem } from '../private/errors';
import { isUnresolved } from '../private/tokens';
import { Peer } from '../values/peer';
import { Port } from '../values/port';

/** Reads the props of one construct, throwing errors that name its path. */
export class PropReader {
  public constructor(private readonly path: string) {}

  /** Throws for a problem, prefixed with `where`. */
  public check(where: string, problem: ValueProblem | undefined): void {
    if (problem) throw firewallError(this.path, { message: where ? `${where}: ${problem.message}` : problem.message, fix: problem.fix });
  }

  /** Throws a construct-path error. */
  public fail(message: string, fix?: string): never {
    throw firewallError(this.path, { message, fix });
  }

  /** The props object itself: undefined means `{}`. */
  public props<T>(value: T | undefined, name: string, required = false): T {
    if (value === undefined && !required) return {} as T;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(`props of ${name} are ${showValue(value)}, not an object`, required ? `Pass an object, e.g. new ${name}(host, 'id', { ... }).` : 'Pass an object or leave them out.');
    }
    return value;
  }

  /** An optional boolean (never a string such as "false"). */
  public bool(where: string, value: unknown, dflt: boolean): boolean {
    if (value === undefined) return dflt;
    if (typeof value !== 'boolean') {
      const hint = value === 'false' || value === 'true' ? ` Did you mean ${value} (a boolean, without quotes)?` : '';
      this.fail(`${where} is ${showValue(value)}, not a boolean`, `Pass true or false.${hint}`);
    }
    return value;
  }

  /** An optional number: a real number, not a token (rule files are written at synth). Ranges are the model's job. */
  public num(where: string, value: unknown, dflt: number): number {
    if (value === undefined) return dflt;
    if (typeof value === 'number' && isUnresolved(value)) {
      this.fail(`${where} is an unresolved token`, 'Rule files are written at synth time: pass a literal number.');
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      const hint = typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? ` Did you mean ${Number(value)} (a number, without quotes)?` : '';
      this.fail(`${where} is ${showValue(value)}, not a finite number`, `Pass a whole number.${hint}`);
    }
    return value;
  }

  /** A required number. */
  public reqNum(where: string, value: unknown): number {
    if (value === undefined) this.fail(`${where} is missing`, 'Give a whole number.');
    return this.num(where, value, NaN);
  }

  /** An optional string for a rule file: a literal, never a token. */
  public str(where: string, value: unknown, dflt?: string): string | undefined {
    if (value === undefined) return dflt;
    if (typeof value !== 'string') this.fail(`${where} is ${showValue(value)}, not a string`);
    if (isUnresolved(value)) this.fail(`${where} ${showValue(value)} is an unresolved token`, 'Rule files are written at synth time: pass a literal value.');
    return value;
  }

  /** A required string for a rule file. */
  public reqStr(where: string, value: unknown): string {
    if (value === undefined) this.fail(`${where} is missing`);
    return this.str(where, value)!;
  }

  /** An optional list (a real array, not a lone item or a string). */
  public list<T>(where: string, value: readonly T[] | undefined): T[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) this.fail(`${where} is ${showValue(value)}, not a list`, `Wrap it in a list: [${typeof value === 'object' ? '...' : showValue(value)}].`);
    return [...value];
  }

  /** An optional object (struct). */
  public obj<T>(where: string, value: T | undefined): T | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(`${where} is ${showValue(value)}, not an object`);
    return value;
  }

  /** An optional enum member. */
  public enumOf<T extends string>(where: string, value: unknown, e: Record<string, string>, dflt: T): T {
    if (value === undefined) return dflt;
    const members = Object.values(e);
    if (typeof value !== 'string' || !members.includes(value)) {
      this.fail(`${where} is ${showValue(value)}`, `Use one of ${members.join(', ')}.`);
    }
    return value as T;
  }

  /** A valid Port. */
  public port(where: string, value: unknown): Port {
    if (!Port.isPort(value)) this.fail(`${where} is ${showValue(value)}, not a Port`, 'Use Port.tcp(n), Port.udp(n) or a range.');
    const port = Port._adopt(value);
    this.check(where, port._problem());
    return port;
  }

  /** A valid Peer of a family the host renders. */
  public peer(where: string, given: unknown, families: readonly IpFamily[]): Peer {
    if (!Peer.isPeer(given)) this.fail(`${where} is ${showValue(given)}, not a Peer`, 'Use Peer.ipv4(cidr), Peer.ipv6(cidr) or Peer.any().');
    if (isUnresolved(given.cidr)) this.fail(`${where} is an unresolved token`, 'Rule files are written at synth time: pass a literal address.');
    const value = Peer._adopt(given);
    this.check(where, value._problem());
    if (!value.families.some((f) => families.includes(f))) {
      this.fail(`${where}: ${value} is an IPv6 peer, but the host has ipv6: false and renders IPv4 rules only`, 'Set ipv6: true, or use an IPv4 peer.');
    }
    return value;
  }

  /** A list of valid peers. */
  public peers(where: string, value: readonly Peer[] | undefined, families: readonly IpFamily[]): Peer[] {
    return this.list(where, value).map((p, i) => this.peer(`${where}[${i}]`, p, families));
  }
}

/** A construct id must be a non-empty string: checked before the construct exists, naming the scope. */
export function checkId(scope: Construct, id: unknown): string {
  if (!Construct.isConstruct(scope)) {
    throw firewallError('<root>', {
      message: `the scope is ${showValue(scope)}, not a construct`,
      fix: "Pass the host (or a stack for a StatefulHost) as the first argument, e.g. new SshBruteforceGuard(host, 'ssh-guard').",
    });
  }
  if (typeof id !== 'string' || id.trim() === '') {
    throw firewallError(scope?.node?.path || '<root>', {
      message: `a construct id must be a non-empty string, got ${showValue(id)}`,
      fix: "Name it, e.g. new SshBruteforceGuard(host, 'ssh-guard').",
    });
  }
  if (scope?.node?.tryFindChild(id.replace(/\//g, '--'))) {
    throw firewallError(scope.node.path || '<root>', {
      message: `already has a construct with id ${showValue(id)}`,
      fix: 'Give each construct under one scope its own id.',
    });
  }
  return id;
}
