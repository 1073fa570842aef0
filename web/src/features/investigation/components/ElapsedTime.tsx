// Time since the run started: ticks once a second, and stops at completed_at.
import { formatDateTime, formatElapsed } from '../../../utils/format';
import { useNow } from '../../../hooks/useNow';

interface Props {
  startedAt: string | null | undefined;
  completedAt: string | null | undefined;
  /** The investigation is terminal: stop ticking even if completed_at is missing. */
  stopped?: boolean;
  stoppedAt?: string | null;
}

export function ElapsedTime({ startedAt, completedAt, stopped = false, stoppedAt }: Props) {
  const endIso = completedAt ?? (stopped ? stoppedAt : null);
  const ticking = !!startedAt && !endIso;
  const now = useNow(1000, ticking);
  const start = startedAt ? Date.parse(startedAt) : NaN;
  let value: number | null = null;
  if (!Number.isNaN(start)) {
    const end = endIso ? Date.parse(endIso) : now;
    value = Number.isNaN(end) ? null : end - start;
  }
  const title = startedAt
    ? `Started ${formatDateTime(startedAt)}${endIso ? `, ended ${formatDateTime(endIso)}` : ''}`
    : 'Not started yet';
  return (
    <span className="mono" data-testid="elapsed" data-ticking={ticking ? 'yes' : 'no'} title={title}>
      {formatElapsed(value)}
    </span>
  );
}
