// Name, id, entities, state, stage, run, elapsed time, connection, actions and the overall bar.
import type { Investigation, Progress } from '../../../lib/api/types';
import { isTerminal } from '../../../lib/api/types';
import type { InvestigationView } from '../stores/view';
import { DASH, formatCount, formatDateTime } from '../../../utils/format';
import { StatusBadge } from '../../../components/StatusBadge';
import { ProgressBar } from '../../../components/ProgressBar';
import { ConnectionIndicator } from '../../../components/ConnectionIndicator';
import { ElapsedTime } from './ElapsedTime';
import { EntityChips } from './EntityChips';
import { Actions } from './Actions';
import { progressTone } from '../../../components/progressTone';

interface Props {
  id: string;
  inv: Investigation | undefined;
  invFetching: boolean;
  view: InvestigationView;
  /**
   * Called after a retry, or the cancel of a failed run, succeeded: the live feed had ended with
   * the failed run, and is to follow again.
   */
  onRetried: () => void;
}

export function InvestigationHeader({ id, inv, invFetching, view, onRetried }: Props) {
  const p = view.progress;
  const state = p?.state ?? inv?.state ?? null;
  const stage = p?.lifecycle_stage ?? inv?.lifecycle_stage;
  const runId = p?.run_id ?? inv?.run_id;
  const entities = p?.entities ?? inv?.entities ?? [];
  return (
    <section className="card inv-header" aria-labelledby="inv-title">
      <div className="inv-header-top">
        <div className="inv-title-block">
          <div className="inv-title-row">
            <h1 id="inv-title" data-testid="inv-name">{inv?.name ?? (inv ? DASH : 'Loading…')}</h1>
            <StatusBadge state={state} testId="status" />
          </div>
          <dl className="meta">
            <div><dt>ID</dt><dd className="mono">{id}</dd></div>
            <div><dt>Stage</dt><dd data-testid="lifecycle-stage">{stage ?? DASH}</dd></div>
            <div><dt>Run</dt><dd className="mono" data-testid="run-id">{runId ?? DASH}</dd></div>
            <div><dt>Elapsed</dt><dd>
              <ElapsedTime
                startedAt={p?.started_at}
                completedAt={p?.completed_at}
                stopped={isTerminal(state ?? undefined)}
                stoppedAt={p?.last_updated_at}
              />
            </dd></div>
            {inv && <div><dt>Owner</dt><dd>{inv.owner}</dd></div>}
            {inv?.runner && <div><dt>Runner</dt><dd><span className="sim-tag" title="Driven by vigil's built-in simulator: its results are random, not real findings">{inv.runner} (simulated data)</span></dd></div>}
            <div><dt>Created</dt><dd>{formatDateTime(p?.created_at ?? inv?.created_at)}</dd></div>
          </dl>
          <EntityChips entities={entities} />
        </div>
        <div className="inv-header-side">
          <ConnectionIndicator state={view.connection} role={view.role} retryAt={view.retryAt} />
          <Actions id={id} inv={inv} invFetching={invFetching} liveState={p?.state ?? null} onRetried={onRetried} />
        </div>
      </div>
      <div className="inv-progress">
        <ProgressBar
          value={p?.completion_percent}
          label="Investigation progress"
          testId="progress"
          size="large"
          tone={progressTone(state)}
        />
        <span className="subtle small">
          {p ? toolsFinished(p) : 'Waiting for the first snapshot…'}
        </span>
      </div>
    </section>
  );
}

/** What the bar counts: finished tools (completed, failed or skipped) of all the run's tools. */
function toolsFinished(p: Progress): string {
  const finished = p.completed_tools + p.failed_tools + p.skipped_tools;
  const other = [p.failed_tools > 0 && `${formatCount(p.failed_tools)} failed`,
    p.skipped_tools > 0 && `${formatCount(p.skipped_tools)} skipped`].filter(Boolean).join(', ');
  return `${formatCount(finished)} of ${formatCount(p.total_tools)} tools finished${other ? ` (${other})` : ''}`;
}
