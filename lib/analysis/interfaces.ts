/**
 * Interface names by meaning, as the kernel matches them: `eth0` is one name,
 * `eth+` every name that starts with `eth` (`+` alone: every name). The names
 * and patterns a ruleset and its declarations mention cut the space of all
 * names into classes; a class is a number the packet-set arithmetic can
 * intersect and subtract, so a pattern is checked for every interface it can
 * match, not for one sample name.
 */
import { Intervals, span } from './space';

/** One class of interface names. */
export interface InterfaceClass {
  /** Its number. */
  readonly index: number;
  /** A name in the class (for evaluating one packet of it). */
  readonly sample: string;
  /** How to say it in a message. */
  readonly text: string;
}

/** The classes of interface names cut by a set of names and patterns. */
export class InterfaceSpace {
  /** The classes, in name order; the last is "no interface" (the other field of a path that has one interface only). */
  public readonly classes: readonly InterfaceClass[];
  /** The class of "no interface". */
  public readonly none: number;
  private readonly bounds: string[];
  private readonly patterns: readonly string[];

  /** @param tokens interface names and `+` patterns (as `-i` / `-o` take them) */
  public constructor(tokens: Iterable<string>) {
    const points = new Set<string>(['']);
    const pats = new Set<string>();
    for (const t of tokens) {
      if (t.endsWith('+')) {
        const prefix = t.slice(0, -1);
        pats.add(prefix);
        points.add(prefix);
        const up = successor(prefix);
        if (up !== undefined) points.add(up);
      } else {
        points.add(t);
      }
    }
    this.patterns = [...pats].sort();
    this.bounds = [...points].sort();
    const classes: InterfaceClass[] = [];
    // class 2i: the name bounds[i] itself; class 2i+1: the names strictly between bounds[i] and bounds[i+1]
    for (let i = 0; i < this.bounds.length; i++) {
      const b = this.bounds[i];
      classes.push({ index: 2 * i, sample: b === '' ? 'cfw%empty' : b, text: b === '' ? '(no name)' : b });
      const next = this.bounds[i + 1];
      const between = sampleBetween(b, next);
      classes.push({ index: 2 * i + 1, sample: between, text: this.describeGap(b, next) });
    }
    this.none = classes.length;
    classes.push({ index: this.none, sample: '', text: '(none)' });
    this.classes = classes;
  }

  /** The number of classes (the field's universe is 0 .. size - 1). */
  public get size(): number {
    return this.classes.length;
  }

  /** The classes a `-i` / `-o` value matches (a name, or a `+` pattern), every real interface when undefined. */
  public match(token: string | undefined): Intervals {
    if (token === undefined) return span(0, this.none - 1);
    if (!token.endsWith('+')) {
      const i = this.bounds.indexOf(token);
      if (i < 0) throw new Error(`internal: interface ${token} is not in the space`);
      return span(2 * i, 2 * i);
    }
    const prefix = token.slice(0, -1);
    const lo = this.bounds.indexOf(prefix);
    const up = successor(prefix);
    const hi = up === undefined ? this.bounds.length : this.bounds.indexOf(up);
    return span(2 * lo, 2 * hi - 1);
  }

  /** The real interfaces (every class but "none"). */
  public get all(): Intervals {
    return span(0, this.none - 1);
  }

  /** Words for a set of classes: the names and patterns it consists of. */
  public describe(set: Intervals): string {
    const idx: number[] = [];
    for (let i = 0; i < set.length; i += 2) for (let c = Number(set[i]); c <= Number(set[i + 1]); c++) idx.push(c);
    if (idx.length === this.none && idx.every((c, i) => c === i)) return 'any interface';
    // a pattern whose classes are all present stands for them
    const used = new Set(idx);
    const words: string[] = [];
    for (const p of this.patterns) {
      const m = this.match(`${p}+`);
      const cs: number[] = [];
      for (let c = Number(m[0]); c <= Number(m[1]); c++) cs.push(c);
      if (cs.every((c) => used.has(c))) {
        words.push(p === '' ? '+' : `${p}+`);
        for (const c of cs) used.delete(c);
      }
    }
    for (const c of [...used].sort((a, b) => a - b)) words.push(this.classes[c].text);
    return words.join(', ');
  }

  private describeGap(lo: string, hi: string | undefined): string {
    const inside = this.patterns.filter((p) => lo.startsWith(p) && (hi === undefined || successor(p) === undefined || hi <= successor(p)!));
    const widest = inside.sort((a, b) => b.length - a.length)[0];
    if (widest === undefined || widest === '') return 'other interfaces';
    return `other ${widest}+ interfaces`;
  }
}

/** The smallest string greater than every string starting with `prefix` (undefined when there is none). */
function successor(prefix: string): string | undefined {
  if (prefix === '') return undefined;
  const last = prefix.charCodeAt(prefix.length - 1);
  if (last >= 0xffff) return successor(prefix.slice(0, -1));
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/** A name strictly between `lo` and `hi` (lexicographic), for evaluating a packet of that class. */
function sampleBetween(lo: string, hi: string | undefined): string {
  const candidate = `${lo}\u0001`;
  if (hi === undefined || candidate < hi) return candidate;
  return `${lo}\u0000\u0001`;
}
