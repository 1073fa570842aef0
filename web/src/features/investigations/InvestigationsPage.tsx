// The investigations, newest first, with live state from the list's socket (useListLive). The list
// itself is fetched on user action and at most every 30 s: the list route shares the default
// budget (60 requests a minute) with creation and the session.
import { useMemo, useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { api } from '../../lib/api/client';
import { investigationsKey } from '../../lib/api/queryKeys';
import { isTerminal } from '../../lib/api/types';
import { useListLive } from './hooks/useListLive';
import { errorText } from '../../utils/format';
import { ConnectionIndicator } from '../../components/ConnectionIndicator';
import { InvestigationRow } from './components/InvestigationRow';
import { canWrite, useSession } from '../../lib/session';
import { useNow } from '../../hooks/useNow';

const STATUSES = ['all', 'pending', 'initializing', 'running', 'paused', 'completed', 'failed', 'cancelled'] as const;
type StatusFilter = (typeof STATUSES)[number];
const PAGE_SIZE = 25;
const REFRESH_MS = 30_000;

export function InvestigationsPage() {
  const session = useSession();
  const [status, setStatus] = useState<StatusFilter>('all');
  // Cursors of the pages before the current one; the last is the current page's cursor.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];

  const list = useQuery({
    queryKey: [...investigationsKey, status, cursor ?? null],
    queryFn: ({ signal }) =>
      api.list({ status: status === 'all' ? undefined : status, limit: PAGE_SIZE, cursor }, signal),
    placeholderData: keepPreviousData,
    staleTime: REFRESH_MS,
    refetchInterval: REFRESH_MS,
  });

  const items = useMemo(() => list.data?.items ?? [], [list.data]);
  const idKey = items.map((i) => i.investigation_id).join(',');
  // A new array only when the set of ids changes, so the live hook does not resubscribe per render.
  const ids = useMemo(() => (idKey ? idKey.split(',') : []), [idKey]);
  const activeKey = items.filter((i) => !isTerminal(i.state)).map((i) => i.investigation_id).join(',');
  const active = useMemo(() => (activeKey ? activeKey.split(',') : []), [activeKey]);
  const live = useListLive(ids, active);
  const now = useNow(10_000);

  function changeStatus(next: StatusFilter) {
    setStatus(next);
    setCursors([undefined]);
  }

  const page = cursors.length;

  return (
    <div className="list-page">
      <div className="page-head">
        <div>
          <h1>Investigations</h1>
          <p className="subtle">Newest first{list.data ? ` · page ${page}` : ''}</p>
        </div>
        <div className="page-head-actions">
          {/* Before the first page arrives there are no rows, which the socket reports as `ended`. */}
          <ConnectionIndicator state={list.isPending ? 'connecting' : live.connection} testId="list-connection" compact />
          {canWrite(session) && <Link to="/new" className="btn btn-primary">New investigation</Link>}
        </div>
      </div>

      <div className="card">
        <div className="toolbar">
          <label className="inline-field">
            <span>Status</span>
            <select
              className="input"
              value={status}
              onChange={(e) => changeStatus(e.target.value as StatusFilter)}
              data-testid="status-filter"
            >
              {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
            </select>
          </label>
          <button
            type="button"
            className="btn btn-small"
            onClick={() => void list.refetch()}
            disabled={list.isFetching}
          >
            {list.isFetching ? 'Refreshing…' : 'Refresh'}
          </button>
          <span className="toolbar-spacer" />
          <button
            type="button"
            className="btn btn-small"
            onClick={() => setCursors([undefined])}
            disabled={page === 1}
          >
            First page
          </button>
          <button
            type="button"
            className="btn btn-small"
            onClick={() => setCursors((c) => c.slice(0, -1))}
            disabled={page === 1}
          >
            Previous page
          </button>
          <button
            type="button"
            className="btn btn-small"
            onClick={() => {
              const next = list.data?.next_cursor;
              if (next) setCursors((c) => [...c, next]);
            }}
            disabled={!list.data?.has_more || !list.data?.next_cursor || list.isPlaceholderData}
            data-testid="next-page"
          >
            Next page
          </button>
        </div>

        {list.isError && (
          <p className="alert alert-error" role="alert">Could not load the investigations: {errorText(list.error)}</p>
        )}

        <table className="table inv-table" data-testid="investigations">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col" className="col-progress">Progress</th>
              <th scope="col" className="num">Risk</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {items.map((row) => (
              <InvestigationRow key={row.investigation_id} row={row} snapshot={live.snapshots[row.investigation_id]} now={now} />
            ))}
            {list.isPending && (
              <tr><td colSpan={5} className="empty">Loading…</td></tr>
            )}
            {list.isSuccess && items.length === 0 && (
              <tr>
                <td colSpan={5} className="empty">
                  {status === 'all' ? 'No investigations yet.' : `No ${status} investigations.`}
                  {status === 'all' && canWrite(session) && <> <Link to="/new">Start one</Link>.</>}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
