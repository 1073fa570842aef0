// Lifecycle buttons for dev and admin: each shown only when its target state is allowed now.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api/client';
import type { Investigation, State } from '../../../lib/api/types';
import { errorText } from '../../../utils/format';
import { canWrite, useSession } from '../../../lib/session';
import { investigationKey, investigationsKey } from '../../../lib/api/queryKeys';

type Action = 'start' | 'pause' | 'resume' | 'cancel' | 'retry';

const ACTIONS: { action: Action; label: string; target: State; from?: State; className: string }[] = [
  { action: 'start', label: 'Start', target: 'queued', from: 'created', className: 'btn-primary' },
  { action: 'pause', label: 'Pause', target: 'paused', className: '' },
  // initializing → running is legal too, but that is the runner's move, not a resume.
  { action: 'resume', label: 'Resume', target: 'running', from: 'paused', className: 'btn-primary' },
  { action: 'retry', label: 'Retry', target: 'retrying', className: 'btn-primary' },
  { action: 'cancel', label: 'Cancel', target: 'cancelled', className: 'btn-danger' },
];

interface Props {
  id: string;
  inv: Investigation | undefined;
  invFetching: boolean;
  liveState: State | null;
  onRetried: () => void;
}

export function Actions({ id, inv, invFetching, liveState, onRetried }: Props) {
  const session = useSession();
  const client = useQueryClient();
  const feedEndedFailed = liveState === 'failed';
  const mutation = useMutation({
    mutationFn: (action: Action) => api.action(id, action),
    onSuccess: (updated, action) => {
      client.setQueryData(investigationKey(id), updated);
      // The feed stopped when the run failed: a retry starts a new run to follow, and a failed run
      // closed as cancelled has that one more event to show.
      if (action === 'retry' || (action === 'cancel' && feedEndedFailed)) onRetried();
      void client.invalidateQueries({ queryKey: investigationsKey, refetchType: 'none' });
    },
    onError: () => {
      // The state moved under us (409) or similar: read the allowed transitions again.
      void client.invalidateQueries({ queryKey: investigationKey(id) });
    },
  });

  if (!canWrite(session) || !inv) return null;
  const state = inv.state;
  const visible = ACTIONS.filter(
    (a) => inv.allowed_transitions.includes(a.target) && (!a.from || a.from === state),
  );
  if (visible.length === 0 && !mutation.isError) return null;
  // While the shown investigation lags behind the live state, wait for it to be read again.
  const stale = liveState !== null && liveState !== state;
  const disabled = mutation.isPending || invFetching;

  function run(action: Action) {
    if (action === 'cancel' && !window.confirm('Cancel this investigation? This cannot be undone.')) return;
    mutation.mutate(action);
  }

  return (
    <div className="actions" data-testid="actions">
      <div className="actions-buttons" role="group" aria-label="Lifecycle actions">
        {visible.map((a) => (
          <button
            key={a.action}
            type="button"
            className={`btn ${a.className}`}
            onClick={() => run(a.action)}
            disabled={disabled}
            aria-busy={mutation.isPending && mutation.variables === a.action}
            data-action={a.action}
            title={stale ? 'Updating…' : undefined}
          >
            {mutation.isPending && mutation.variables === a.action ? `${a.label}…` : a.label}
          </button>
        ))}
      </div>
      {mutation.isError && (
        <p className="alert alert-error small" role="alert" data-testid="action-error">
          {errorText(mutation.error)}
        </p>
      )}
    </div>
  );
}
