// tools_per_second, folded from the log exactly as vigil folds it (docs/api.md §6.1): the tool
// finishes (tool_complete, tool_skipped, and tool_error without will_retry) in the 10 seconds
// before the latest event, divided by the window in seconds, rounded to 2 decimals; the window is
// shorter at the start of a run (latest event − the run's first `initializing`, at least 1 s).
// Folding it per event gives the page the rate's true history, also for a log it replays, where
// the stream sends one snapshot at the end.
import type { VigilEvent } from '../../../lib/api/types';

export const RATE_WINDOW_MS = 10_000;

export interface RateFold {
  /** When the current run first entered `initializing`, if it has. */
  runStartMs: number | null;
  /** Finish times of the current run within the window, oldest first. */
  finishes: number[];
}

export const emptyRateFold = (): RateFold => ({ runStartMs: null, finishes: [] });

/** Applies one event to `fold` (in place) and returns the rate after it, or null for a new run. */
export function foldRate(fold: RateFold, e: VigilEvent): number | null {
  const t = Date.parse(e.timestamp);
  if (e.event_type === 'status_change') {
    if (e.data.to === 'retrying') {
      fold.runStartMs = null;
      fold.finishes = [];
      return null;
    }
    if (e.data.to === 'initializing' && fold.runStartMs === null) fold.runStartMs = t;
  }
  const finish = e.event_type === 'tool_complete' || e.event_type === 'tool_skipped' ||
    (e.event_type === 'tool_error' && e.data.will_retry !== true);
  if (finish) fold.finishes.push(t);
  let drop = 0;
  while (drop < fold.finishes.length && fold.finishes[drop] <= t - RATE_WINDOW_MS) drop++;
  if (drop > 0) fold.finishes.splice(0, drop);
  const window = fold.runStartMs === null
    ? RATE_WINDOW_MS
    : Math.min(RATE_WINDOW_MS, Math.max(1000, t - fold.runStartMs));
  return Math.round((fold.finishes.length * 1000 / window) * 100) / 100;
}
