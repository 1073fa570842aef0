// The whole log, 50 events a page from the start, fetched only when the reader asks.
import { useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api/client';
import { errorText } from '../../../utils/format';
import { EventRow } from './EventRow';
import { eventsPageKey } from '../../../lib/api/queryKeys';

const LIMIT = 50;

export function EventHistory({ id }: { id: string }) {
  // The `since` of every page so far; the last one is the page shown (null: the start).
  const [stack, setStack] = useState<(string | null)[]>([null]);
  const since = stack[stack.length - 1];
  const page = useQuery({
    queryKey: eventsPageKey(id, since),
    queryFn: ({ signal }) => api.eventsPage(id, since, LIMIT, signal),
    staleTime: Infinity,
    gcTime: 5 * 60_000,
    placeholderData: keepPreviousData,
    refetchOnMount: false,
    refetchOnReconnect: false,
  });

  const data = page.data;
  const next = data?.next_cursor ?? null;
  const pageNo = stack.length;
  const first = (pageNo - 1) * LIMIT + 1;

  return (
    <div className="history" data-testid="event-history">
      <div className="tail-bar">
        <span className="subtle small" data-testid="history-page">
          Page {pageNo}
          {data && data.items.length > 0 && !page.isPlaceholderData && ` · events ${first}–${first + data.items.length - 1}`}
        </span>
        <span className="toolbar-spacer" />
        <button type="button" className="btn btn-small" onClick={() => setStack([null])} disabled={pageNo === 1}>
          First page
        </button>
        <button
          type="button"
          className="btn btn-small"
          onClick={() => { if (next) setStack((s) => [...s, next]); }}
          disabled={!data?.has_more || !next || page.isFetching}
          data-testid="history-next"
        >
          Next page
        </button>
        <button
          type="button"
          className="btn btn-small"
          onClick={() => void page.refetch()}
          disabled={page.isFetching}
          title="Read this page again"
        >
          Reload
        </button>
      </div>
      {page.isError && <p className="alert alert-error small" role="alert">{errorText(page.error)}</p>}
      <div className="event-head event-row" aria-hidden="true">
        <span>Time</span><span>Type</span><span>Actor</span><span>Data</span>
      </div>
      <div className="history-body" aria-busy={page.isFetching}>
        {page.isPending && <div className="empty">Loading…</div>}
        {data && data.items.length === 0 && <div className="empty">No events on this page.</div>}
        {data?.items.map((e) => <EventRow key={e.event_id} event={e} source="history" />)}
      </div>
    </div>
  );
}
