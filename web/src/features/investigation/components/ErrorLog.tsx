// The run's errors, newest first.
import { memo } from 'react';
import type { Progress } from '../../../lib/api/types';
import { formatDateTime, formatTime } from '../../../utils/format';
import { Panel } from './Panel';

function contextTool(ctx: Record<string, unknown>): string | null {
  const v = ctx.tool_name ?? ctx.tool_execution_id;
  return typeof v === 'string' ? v : null;
}

function ErrorLogImpl({ progress }: { progress: Progress | null }) {
  const errors = progress ? [...progress.errors].reverse() : [];
  const counts = { warning: 0, error: 0, critical: 0 };
  for (const e of errors) if (e.severity in counts) counts[e.severity] += 1;
  return (
    <Panel
      title="Errors"
      id="errors"
      className="span-4"
      testId="errors"
      actions={
        <span className="subtle small">
          {counts.critical > 0 && <span className="sev-count sev-critical">{counts.critical} critical</span>}
          {counts.error > 0 && <span className="sev-count sev-error">{counts.error} error</span>}
          {counts.warning > 0 && <span className="sev-count sev-warning">{counts.warning} warning</span>}
        </span>
      }
    >
      {!progress ? (
        <p className="empty">—</p>
      ) : errors.length === 0 ? (
        <p className="empty">No errors reported.</p>
      ) : (
        <ol className="error-list scroll-box">
          {errors.map((e) => {
            const tool = contextTool(e.context);
            return (
              <li key={e.id} className={`error-item sev-${e.severity}`} data-error-id={e.id} data-severity={e.severity}>
                <div className="error-head">
                  <span className={`sev-badge sev-badge-${e.severity}`}>{e.severity}</span>
                  <code className="error-code">{e.code}</code>
                  <time className="subtle small" dateTime={e.timestamp} title={formatDateTime(e.timestamp)}>{formatTime(e.timestamp)}</time>
                </div>
                <div className="error-message">{e.message}</div>
                {tool && <div className="subtle small">tool: <span className="mono">{tool}</span></div>}
              </li>
            );
          })}
        </ol>
      )}
    </Panel>
  );
}

// Re-renders only when the snapshot changes, not on every event the page receives.
export const ErrorLog = memo(ErrorLogImpl);
