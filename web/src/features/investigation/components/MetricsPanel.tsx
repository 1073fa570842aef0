// Live throughput and counts. In a terminal state the chart stops and a note says the numbers are
// final.
import { useRef } from 'react';
import type { Progress } from '../../../lib/api/types';
import { isTerminal } from '../../../lib/api/types';
import type { Sample } from '../stores/view';
import { formatCount, formatDateTime, formatRate } from '../../../utils/format';
import { Panel } from './Panel';
import { TimeChart } from './TimeChart';

interface Props { progress: Progress | null; rateHistory: Sample[] }

export function MetricsPanel({ progress, rateHistory }: Props) {
  const terminal = !!progress && isTerminal(progress.state);
  // Freeze the chart at the moment the investigation ended; a retry thaws it.
  const frozen = useRef<Sample[] | null>(null);
  if (terminal && frozen.current === null) frozen.current = rateHistory;
  if (!terminal) frozen.current = null;
  const samples = frozen.current ?? rateHistory;

  const p = progress;
  return (
    <Panel title="Live metrics" id="metrics" className="span-4" testId="metrics">
      <div className="metrics-top">
        <div className="big-stat">
          <span className="big-number" data-testid="tools-per-second">{formatRate(p?.tools_per_second)}</span>
          <span className="stat-label">tools / s</span>
        </div>
        <dl className="stat-list">
          <div><dt>Peak tools/s</dt><dd data-testid="peak-tools-per-second">{formatRate(p?.peak_tools_per_second)}</dd></div>
          <div><dt>Tools completed</dt><dd data-testid="tools-done">{p ? `${formatCount(p.completed_tools)} / ${formatCount(p.total_tools)}` : '—'}</dd></div>
        </dl>
      </div>
      <dl className="metric-grid">
        <div><dt>Entities</dt><dd data-testid="entity-count">{formatCount(p?.entities.length)}</dd></div>
        <div><dt>Relationships</dt><dd data-testid="relationship-count">{formatCount(p?.relationships.length)}</dd></div>
        <div><dt>Errors</dt><dd data-testid="error-count">{formatCount(p?.errors.length)}</dd></div>
        <div><dt>Running</dt><dd>{formatCount(p?.running_tools)}</dd></div>
        <div><dt>Queued</dt><dd>{formatCount(p?.queued_tools)}</dd></div>
        <div><dt>Failed</dt><dd>{formatCount(p?.failed_tools)}</dd></div>
      </dl>
      <TimeChart samples={samples} label="Tools per second over time" height={110} formatValue={(v) => v.toFixed(1)} testId="rate-chart" />
      {terminal && p && (
        <p className="final-note" data-testid="metrics-final">
          Final — {p.state} at {formatDateTime(p.completed_at ?? p.last_updated_at)}
        </p>
      )}
    </Panel>
  );
}
