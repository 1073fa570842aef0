// What a terminal state means for the reader: completed (metrics final), failed (with its errors)
// or cancelled.
import { memo } from 'react';
import type { Progress } from '../../../lib/api/types';
import { formatDateTime } from '../../../utils/format';

const MAX_LISTED = 10;

function CompletionBannerImpl({ progress }: { progress: Progress | null }) {
  if (!progress) return null;
  const at = formatDateTime(progress.completed_at ?? progress.last_updated_at);
  switch (progress.state) {
    case 'completed':
      return (
        <div className="banner banner-green" role="status" data-testid="completion-banner" data-state="completed">
          <strong>Investigation completed</strong> at {at}. The metrics below are final.
        </div>
      );
    case 'cancelled':
      return (
        <div className="banner banner-grey" role="status" data-testid="completion-banner" data-state="cancelled">
          <strong>Investigation cancelled</strong> at {at}. The metrics below are final.
        </div>
      );
    case 'failed': {
      const errors = progress.errors
        .filter((e) => e.severity === 'error' || e.severity === 'critical')
        .slice()
        .reverse();
      return (
        <div className="banner banner-red" role="alert" data-testid="completion-banner" data-state="failed">
          <strong>Investigation failed</strong> at {at}.
          {errors.length === 0 ? (
            <span> No error was reported with it.</span>
          ) : (
            <ul className="banner-errors">
              {errors.slice(0, MAX_LISTED).map((e) => (
                <li key={e.id} className={`sev-${e.severity}`}>
                  <span className={`sev-badge sev-badge-${e.severity}`}>{e.severity}</span>{' '}
                  <code>{e.code}</code> {e.message}
                  <span className="subtle small"> · {formatDateTime(e.timestamp)}</span>
                </li>
              ))}
              {errors.length > MAX_LISTED && (
                <li className="subtle">and {errors.length - MAX_LISTED} more in the error log</li>
              )}
            </ul>
          )}
        </div>
      );
    }
    default:
      return null;
  }
}

export const CompletionBanner = memo(CompletionBannerImpl);
