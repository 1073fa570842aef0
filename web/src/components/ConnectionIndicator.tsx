// How this page is getting its data: a dot and a few words.
import type { ConnectionState } from '../lib/live/types';
import { useNow } from '../hooks/useNow';

export function connectionWords(state: ConnectionState, retryInSeconds: number | null): string {
  switch (state) {
    case 'live': return 'Live';
    case 'polling': return 'Polling';
    case 'reconnecting':
      return retryInSeconds !== null ? `Reconnecting in ${Math.max(0, Math.ceil(retryInSeconds))}s` : 'Reconnecting…';
    case 'offline': return 'Offline';
    case 'following': return 'Following another tab';
    case 'connecting': return 'Connecting…';
    case 'ended': return 'Ended';
  }
}

interface Props {
  state: ConnectionState;
  role?: 'leader' | 'follower' | 'none';
  /** When the next attempt is due (ms since the epoch): the words count down to it. */
  retryAt?: number | null;
  testId?: string;
  compact?: boolean;
}

export function ConnectionIndicator({ state, role, retryAt = null, testId = 'connection', compact }: Props) {
  const counting = state === 'reconnecting' && retryAt !== null;
  const now = useNow(1000, counting);
  const words = connectionWords(state, counting ? (retryAt - now) / 1000 : null);
  return (
    <span
      className={`conn conn-${state}${compact ? ' conn-compact' : ''}`}
      data-testid={testId}
      data-state={state}
      data-role={role}
      role="status"
      aria-live="polite"
      title={role && role !== 'none' ? `${words} (this tab is the ${role})` : words}
    >
      <span className="conn-dot" aria-hidden="true" />
      <span className="conn-words">{words}</span>
    </span>
  );
}
