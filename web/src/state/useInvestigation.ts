// The live view model of one investigation, shared among the browser's tabs (live/tabs.ts).
import { useEffect, useMemo, useSyncExternalStore } from 'react';
import { browserFeedDeps } from '../live/feed';
import { browserShareParts, followInvestigation, type Following } from '../live/tabs';
import { InvestigationModel } from './model';
import type { InvestigationView } from './view';

export interface InvestigationHandle {
  view: InvestigationView;
  /** Follow again from where it stopped: after a retry starts a new run. */
  restart(): void;
}

export function useInvestigationFeed(id: string): InvestigationHandle {
  const model = useMemo(() => new InvestigationModel(), [id]);
  const following = useMemo(() => ({ current: null as Following | null }), [id]);
  useEffect(() => {
    const f = followInvestigation(id, model, { feed: browserFeedDeps(), ...browserShareParts() });
    following.current = f;
    return () => {
      f.close();
      following.current = null;
    };
  }, [id, model, following]);
  const view = useSyncExternalStore(model.subscribe, model.getSnapshot);
  return { view, restart: () => following.current?.restart() };
}

export function useInvestigation(id: string): InvestigationView {
  return useInvestigationFeed(id).view;
}
