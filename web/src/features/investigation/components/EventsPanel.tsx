// The log: the live tail (what this page received) and the history, paged from the start on
// request.
import { useRef, useState, type KeyboardEvent } from 'react';
import type { VigilEvent } from '../../../lib/api/types';
import { Panel } from './Panel';
import { LiveTail } from './LiveTail';
import { EventHistory } from './EventHistory';

type Tab = 'tail' | 'history';
const TABS: { id: Tab; label: string }[] = [
  { id: 'tail', label: 'Live tail' },
  { id: 'history', label: 'History' },
];

interface Props { id: string; events: VigilEvent[]; eventCount: number }

export function EventsPanel({ id, events, eventCount }: Props) {
  const [tab, setTab] = useState<Tab>('tail');
  // History is fetched only once the reader opens it, and kept (with its page) after that.
  const [historyOpened, setHistoryOpened] = useState(false);
  function select(t: Tab) {
    setTab(t);
    if (t === 'history') setHistoryOpened(true);
  }
  const tabRefs = useRef<Record<Tab, HTMLButtonElement | null>>({ tail: null, history: null });

  function onKey(e: KeyboardEvent<HTMLDivElement>) {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft' && e.key !== 'Home' && e.key !== 'End') return;
    e.preventDefault();
    const i = TABS.findIndex((t) => t.id === tab);
    let next = i;
    if (e.key === 'ArrowRight') next = (i + 1) % TABS.length;
    if (e.key === 'ArrowLeft') next = (i - 1 + TABS.length) % TABS.length;
    if (e.key === 'Home') next = 0;
    if (e.key === 'End') next = TABS.length - 1;
    select(TABS[next].id);
    tabRefs.current[TABS[next].id]?.focus();
  }

  return (
    <Panel
      title="Events"
      id="events"
      className="span-6"
      testId="events"
      actions={
        <div className="tabs" role="tablist" aria-label="Event views" onKeyDown={onKey}>
          {TABS.map((t) => (
            <button
              key={t.id}
              ref={(el) => { tabRefs.current[t.id] = el; }}
              type="button"
              role="tab"
              id={`events-tab-${t.id}`}
              aria-selected={tab === t.id}
              aria-controls={`events-panel-${t.id}`}
              tabIndex={tab === t.id ? 0 : -1}
              className={`tab${tab === t.id ? ' tab-active' : ''}`}
              onClick={() => select(t.id)}
              data-testid={`events-tab-${t.id}`}
            >
              {t.label}
            </button>
          ))}
        </div>
      }
    >
      <div role="tabpanel" id="events-panel-tail" aria-labelledby="events-tab-tail" hidden={tab !== 'tail'}>
        <LiveTail events={events} eventCount={eventCount} visible={tab === 'tail'} />
      </div>
      <div role="tabpanel" id="events-panel-history" aria-labelledby="events-tab-history" hidden={tab !== 'history'}>
        {historyOpened && <EventHistory id={id} />}
      </div>
    </Panel>
  );
}
