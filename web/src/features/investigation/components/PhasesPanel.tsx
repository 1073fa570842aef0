// The run's phases in order, each with its own bar; the current phase stands out.
import { memo } from 'react';
import type { Phase, Progress } from '../../../lib/api/types';
import { DASH, formatDuration, formatTime } from '../../../utils/format';
import { Panel } from './Panel';
import { ProgressBar } from '../../../components/ProgressBar';

const TONE: Record<Phase['status'], 'blue' | 'green' | 'red' | 'grey'> = {
  pending: 'grey',
  in_progress: 'blue',
  completed: 'green',
  failed: 'red',
  skipped: 'grey',
};

function phaseTime(p: Phase): string {
  if (!p.started_at) return p.estimated_duration_ms ? `est. ${formatDuration(p.estimated_duration_ms)}` : DASH;
  if (!p.completed_at) return `since ${formatTime(p.started_at)}`;
  return formatDuration(Date.parse(p.completed_at) - Date.parse(p.started_at));
}

function PhasesPanelImpl({ progress }: { progress: Progress | null }) {
  const phases = progress ? [...progress.phases].sort((a, b) => a.order - b.order) : [];
  // current_phase is the phase's *name* (docs/api.md §6.1), not its id: a plan phase may have
  // `{"id": "logs", "name": "logs_analysis"}`. Names need not be unique; prefer the one in progress.
  const currentName = progress?.current_phase ?? null;
  const current = currentName === null ? null
    : (phases.find((p) => p.name === currentName && p.status === 'in_progress')
      ?? phases.find((p) => p.name === currentName))?.id ?? null;
  return (
    <Panel title="Phases" id="phases" className="span-4" testId="phases">
      {!progress && <p className="empty">{DASH}</p>}
      {progress && phases.length === 0 && <p className="empty">This run has no phases.</p>}
      <ol className="phase-list">
        {phases.map((p) => {
          const isCurrent = p.id === current;
          return (
            <li
              key={p.id}
              className={`phase${isCurrent ? ' phase-current' : ''}`}
              aria-current={isCurrent ? 'step' : undefined}
              data-phase-id={p.id}
              data-current={isCurrent ? 'true' : undefined}
            >
              <div className="phase-head">
                <span className="phase-name">{p.name}</span>
                {isCurrent && <span className="phase-now">current</span>}
                <span className={`pill pill-${p.status}`}>{p.status.replace('_', ' ')}</span>
              </div>
              <div className="phase-body">
                <ProgressBar value={p.completion_percent} label={`Phase ${p.name}`} tone={TONE[p.status]} />
                <span className="phase-foot subtle small">
                  {p.tool_execution_ids.length} {p.tool_execution_ids.length === 1 ? 'tool' : 'tools'} · {phaseTime(p)}
                </span>
              </div>
            </li>
          );
        })}
      </ol>
    </Panel>
  );
}

// Re-renders only when the snapshot changes, not on every event the page receives.
export const PhasesPanel = memo(PhasesPanelImpl);
