/** How matches render: the compiler's view of a Match (internal). */

/** The basic header fields, in the order iptables-save prints them. */
export const BASIC_FIELDS = ['s', 'd', 'i', 'o', 'p'] as const;
/** One of {@link BASIC_FIELDS}. */
export type BasicField = typeof BASIC_FIELDS[number];

/** How one match renders in one family; undefined: the match does not exist in that family. */
export interface MatchArgs {
  /** Basic header fields (`-s`, `-d`, `-i`, `-o`, `-p`) with their values. */
  readonly basic: Partial<Record<BasicField, string>>;
  /** Module arguments (`-m ...`), in order. */
  readonly module: readonly string[];
}

/** A kernel-wide name a match uses: claimed by the part that writes to it. */
export interface MatchName {
  readonly kind: 'recent list' | 'hashlimit table';
  readonly name: string;
  /** True when the match writes to it (SET, or a hashlimit table). */
  readonly writes: boolean;
}

