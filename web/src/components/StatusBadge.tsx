// A state as a coloured pill: blue while working, amber paused, green completed, red failed,
// grey cancelled, neutral while pending.
import type { State } from '../lib/api/types';

const TONE: Record<State, string> = {
  created: 'neutral',
  queued: 'neutral',
  initializing: 'blue',
  running: 'blue',
  completing: 'blue',
  retrying: 'blue',
  paused: 'amber',
  completed: 'green',
  failed: 'red',
  cancelled: 'grey',
};

export function StatusBadge({ state, testId }: { state: State | null | undefined; testId?: string }) {
  if (!state) return <span className="badge badge-neutral" data-testid={testId}>—</span>;
  const tone = TONE[state] ?? 'neutral';
  return (
    <span className={`badge badge-${tone}`} data-state={state} data-testid={testId}>
      {state}
    </span>
  );
}
