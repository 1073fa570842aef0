// Event ids are cursors: `{timestamp_ms}_{sequence:06d}`, strictly increasing per investigation
// (docs/api.md §2). Ordering them is ordering the log, which is what dedup across transports and
// tabs relies on.

export const START = '0_000000';

const pattern = /^(0|[1-9][0-9]{0,14})_([0-9]{6})$/;

export function parseCursor(id: string): [number, number] | null {
  const m = pattern.exec(id);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** Negative, zero or positive as a is before, equal to or after b. Malformed ids sort first. */
export function compareCursors(a: string, b: string): number {
  const pa = parseCursor(a);
  const pb = parseCursor(b);
  if (!pa || !pb) return (pa ? 1 : 0) - (pb ? 1 : 0);
  return pa[0] - pb[0] || pa[1] - pb[1];
}

/** Whether `id` comes after `last` (everything comes after nothing). */
export const isAfter = (id: string, last: string | null): boolean =>
  last === null || compareCursors(id, last) > 0;
