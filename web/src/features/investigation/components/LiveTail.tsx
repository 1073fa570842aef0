// The events this page received, newest at the bottom. It follows new events unless the reader
// has scrolled up. Every event of the tail (at most MAX_TAIL) is in the DOM, so the whole tail can
// be searched and read; rows off screen are skipped by the browser (content-visibility).
import { useLayoutEffect, useRef, useState } from 'react';
import type { VigilEvent } from '../../../lib/api/types';
import { formatCount } from '../../../utils/format';
import { EventRow } from './EventRow';

/** How close to the bottom (px) still counts as "at the bottom". */
const SLACK = 30;

interface Props { events: VigilEvent[]; eventCount: number; visible: boolean }

export function LiveTail({ events, eventCount, visible }: Props) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  const followRef = useRef(true);

  const last = events.length > 0 ? events[events.length - 1].event_id : '';
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (el && followRef.current) el.scrollTop = el.scrollHeight;
  }, [last, events.length, visible]);

  function onScroll() {
    const el = scrollRef.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= SLACK;
    if (atBottom !== followRef.current) {
      followRef.current = atBottom;
      setFollow(atBottom);
    }
  }

  function jumpToLatest() {
    const el = scrollRef.current;
    followRef.current = true;
    setFollow(true);
    if (el) el.scrollTop = el.scrollHeight;
  }

  return (
    <div className="tail">
      <div className="tail-bar subtle small">
        <span data-testid="event-count">
          {formatCount(eventCount)} received{eventCount > events.length ? ` · showing the last ${formatCount(events.length)}` : ''}
        </span>
        {!follow && (
          <button type="button" className="btn-link small" onClick={jumpToLatest}>Jump to latest ↓</button>
        )}
      </div>
      <div className="event-head event-row" aria-hidden="true">
        <span>Time</span><span>Type</span><span>Actor</span><span>Data</span>
      </div>
      <div
        ref={scrollRef}
        className="tail-body"
        onScroll={onScroll}
        data-testid="live-tail"
        data-following={follow ? 'yes' : 'no'}
        tabIndex={0}
        role="log"
        aria-label="Live events, newest at the bottom"
        aria-live="off"
      >
        {events.length === 0 ? (
          <div className="empty">No events yet.</div>
        ) : (
          events.map((e) => <EventRow key={e.event_id} event={e} source="tail" />)
        )}
      </div>
    </div>
  );
}
