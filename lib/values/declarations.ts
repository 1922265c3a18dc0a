/** What the parts of one host declared, each declaration with its owner (internal: what the compiler collects and the intent check reads). */
import { DeclaredEgress, DeclaredForward, DeclaredOpening, DeclaredRefusal } from './intent';

/** A declaration and the construct path of the part that made it (internal). */
export interface Owned<T> {
  readonly owner: string;
  readonly declared: T;
}

/** Everything the parts of one host declared (internal). */
export interface Declarations {
  readonly opens: readonly Owned<DeclaredOpening>[];
  readonly trusts: readonly Owned<string>[];
  readonly forwards: readonly Owned<DeclaredForward>[];
  readonly egress: readonly Owned<DeclaredEgress>[];
  readonly refuses: readonly Owned<DeclaredRefusal>[];
}
