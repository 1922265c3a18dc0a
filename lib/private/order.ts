/** Locale-free orders, for deterministic output. */

/** Locale-free string order. */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Order that reads numbers as numbers ("--dport 22" before "--dport 443"), locale-free. */
export function naturalCompare(a: string, b: string): number {
  return compareNaturalKeys(naturalKey(a), naturalKey(b));
}

/** A string split into runs of digits and of other characters, for {@link naturalCompare}. */
export function naturalKey(text: string): string[] {
  return text.match(/\d+|\D+/g) ?? [];
}

/** Compares two keys of {@link naturalKey}. */
export function compareNaturalKeys(ca: readonly string[], cb: readonly string[]): number {
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const x = ca[i];
    const y = cb[i];
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      return byCodePoint(x, y);
    }
    return byCodePoint(x, y);
  }
  return ca.length - cb.length;
}
