// Shared formatting of times, durations, percentages and scores. Every formatter answers DASH for
// a value that is not there yet, so no page ever invents a number.
import { ApiError } from '../lib/api/client';

export const DASH = '—';

type Maybe<T> = T | null | undefined;

function toDate(iso: Maybe<string>): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

// One formatter for every call: toLocaleTimeString with options builds a new Intl.DateTimeFormat
// each time, which dominated the page's render time with hundreds of events and errors.
let timeFormat: Intl.DateTimeFormat | null = null;

/** Local wall-clock time with seconds: 14:03:27. */
export function formatTime(iso: Maybe<string>): string {
  const d = toDate(iso);
  if (!d) return DASH;
  timeFormat ??= new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  return timeFormat.format(d);
}

/** Local date and time: 2026-11-22 14:03:27. */
export function formatDateTime(iso: Maybe<string>): string {
  const d = toDate(iso);
  if (!d) return DASH;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** "12 s ago", "5 min ago", "3 h ago", then the date. */
export function formatRelative(iso: Maybe<string>, now: number = Date.now()): string {
  const d = toDate(iso);
  if (!d) return DASH;
  const s = Math.round((now - d.getTime()) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ago`;
  return formatDateTime(iso);
}

/** A tool's duration: "204 ms", "1.24 s", "2 min 04 s", "1 h 02 min". */
export function formatDuration(ms: Maybe<number>): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return DASH;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const totalS = Math.floor(ms / 1000);
  const m = Math.floor(totalS / 60);
  const s = totalS % 60;
  if (m < 60) return `${m} min ${String(s).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m % 60).padStart(2, '0')} min`;
}

/** Elapsed time as a clock: 0:04:09, or 2d 3:04:09. */
export function formatElapsed(ms: Maybe<number>): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  const total = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const clock = `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return d > 0 ? `${d}d ${clock}` : clock;
}

/** A 0–100 percentage: "77%". */
export function formatPercent(p: Maybe<number>): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return DASH;
  return `${Math.round(p)}%`;
}

/** A 0–1 fraction as a percentage: 0.65 → "65%". */
export function formatFraction(f: Maybe<number>): string {
  if (f === null || f === undefined || !Number.isFinite(f)) return DASH;
  return `${Math.round(f * 100)}%`;
}

/** A 0–1 risk score on a 0–100 scale: 0.833 → "83". */
export function formatRisk(r: Maybe<number>): string {
  if (r === null || r === undefined || !Number.isFinite(r)) return DASH;
  return String(Math.round(r * 100));
}

/** low / medium / high, for colouring a 0–1 score. */
export function riskLevel(r: Maybe<number>): 'none' | 'low' | 'medium' | 'high' {
  if (r === null || r === undefined || !Number.isFinite(r)) return 'none';
  if (r >= 0.7) return 'high';
  if (r >= 0.4) return 'medium';
  return 'low';
}

/** A rate such as tools per second: "2.44". */
export function formatRate(r: Maybe<number>): string {
  if (r === null || r === undefined || !Number.isFinite(r)) return DASH;
  return r.toFixed(2);
}

export function formatCount(n: Maybe<number>): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  return n.toLocaleString();
}

/** JSON on one line, cut to `max` characters. */
export function shortJson(value: unknown, max = 140): string {
  let s: string;
  try {
    s = JSON.stringify(value) ?? '';
  } catch {
    s = String(value);
  }
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Words to show for a failed request: the problem's detail when the server sent one. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.problem?.detail) return err.problem.detail;
    if (err.status === 429) return 'Too many requests; try again in a moment.';
    return `The server answered ${err.status}.`;
  }
  if (err instanceof Error) {
    if (err.name === 'TypeError') return 'The server could not be reached.';
    return err.message;
  }
  return 'Something went wrong.';
}

export const isStatus = (err: unknown, status: number): boolean =>
  err instanceof ApiError && err.status === status;

/** Bytes of a string in UTF-8 (the API's length limits count bytes). */
export const byteLength = (s: string): number => new TextEncoder().encode(s).length;
