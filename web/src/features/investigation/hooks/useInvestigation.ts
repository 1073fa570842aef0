// The live view model of one investigation, shared among the browser's tabs (lib/live/tabs.ts) and
// kept for a while after its page is left (lib/linger.ts).
import { useEffect, useReducer, useSyncExternalStore } from 'react';
import { browserFeedDeps } from '../../../lib/live/feed';
import { browserShareParts, followInvestigation, type Following } from '../../../lib/live/tabs';
import { Lingering } from '../../../lib/linger';
import { InvestigationModel } from '../stores/model';
import type { InvestigationView } from '../stores/view';

export interface InvestigationHandle {
  view: InvestigationView;
  /** Follow again from where it stopped: after a retry starts a new run. */
  restart(): void;
}

interface Followed { model: InvestigationModel; following: Following }

const followed = new Lingering<Followed>(
  (id) => {
    const model = new InvestigationModel();
    return { model, following: followInvestigation(id, model, { feed: browserFeedDeps(), ...browserShareParts() }) };
  },
  ({ following }) => following.close(),
);

export function useInvestigationFeed(id: string): InvestigationHandle {
  const entry = followed.get(id);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    // Held while the page shows it; if it lapsed between render and now, draw the new one.
    if (followed.acquire(id) !== entry) rerender();
    return () => followed.release(id);
  }, [id, entry]);
  const view = useSyncExternalStore(entry.model.subscribe, entry.model.getSnapshot);
  return { view, restart: () => entry.following.restart() };
}

export function useInvestigation(id: string): InvestigationView {
  return useInvestigationFeed(id).view;
}
