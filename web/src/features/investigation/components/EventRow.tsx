import { memo } from 'react';
import type { VigilEvent } from '../../../lib/api/types';
import { formatDateTime, formatTime, shortJson } from '../../../utils/format';

interface Props {
  event: VigilEvent;
  /** The live tail marks its rows with data-event-id; the history pages with data-history-event-id. */
  source: 'tail' | 'history';
}

function EventRowImpl({ event: e, source }: Props) {
  const full = shortJson(e.data, 2000);
  return (
    <div
      className="event-row"
      data-event-id={source === 'tail' ? e.event_id : undefined}
      data-history-event-id={source === 'history' ? e.event_id : undefined}
      data-event-type={e.event_type}
    >
      <time className="mono subtle" dateTime={e.timestamp} title={`${formatDateTime(e.timestamp)} · ${e.event_id}`}>
        {formatTime(e.timestamp)}
      </time>
      <span className={`event-type et-${e.event_type}`}>{e.event_type}</span>
      <span className="event-actor ellipsis" title={e.actor}>{e.actor}</span>
      <span className="event-data mono ellipsis" title={full}>{shortJson(e.data, 160)}</span>
    </div>
  );
}

export const EventRow = memo(EventRowImpl);
