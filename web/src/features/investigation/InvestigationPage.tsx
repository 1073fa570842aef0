// One investigation, live. Everything shown comes from the view model (useInvestigation) and,
// for the name, plan, owner and allowed transitions, from GET /investigations/{id}, which is read
// once and again only when the live state moves.
import { useEffect, useRef } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../../lib/api/client';
import type { Entity, Relationship } from '../../lib/api/types';
import { useInvestigationFeed } from './hooks/useInvestigation';
import { errorText, isStatus } from '../../utils/format';
import { NotFoundPage } from '../../components/NotFoundPage';
import { investigationKey } from '../../lib/api/queryKeys';
import { InvestigationHeader } from './components/InvestigationHeader';
import { CompletionBanner } from './components/CompletionBanner';
import { PhasesPanel } from './components/PhasesPanel';
import { RiskPanel } from './components/RiskPanel';
import { MetricsPanel } from './components/MetricsPanel';
import { ToolsPanel } from './components/ToolsPanel';
import { ErrorLog } from './components/ErrorLog';
import { EntityGraphPanel } from './components/EntityGraphPanel';
import { EventsPanel } from './components/EventsPanel';

// Stable empty lists, so the memoized panels do not re-render for a new [] on every render.
const NO_ENTITIES: Entity[] = [];
const NO_RELATIONSHIPS: Relationship[] = [];

export function InvestigationPage({ id }: { id: string }) {
  // useInvestigation(id) plus restart(), to follow again once a retry starts a new run (or a
  // failed run is closed as cancelled).
  const { view, restart } = useInvestigationFeed(id);
  const progress = view.progress;
  const inv = useQuery({
    queryKey: investigationKey(id),
    queryFn: ({ signal }) => api.get(id, signal),
    staleTime: Infinity,
  });

  // Read the investigation again when the live state moves away from the one it shows (not on
  // every event): its allowed transitions, run and state change only with the state.
  const latest = useRef({ inv: inv.data, version: progress?.version ?? 0, refetch: inv.refetch });
  latest.current = { inv: inv.data, version: progress?.version ?? 0, refetch: inv.refetch };
  const liveState = progress?.state;
  const liveRun = progress?.run_id;
  const loaded = inv.data !== undefined;
  useEffect(() => {
    const { inv: shown, version, refetch } = latest.current;
    if (!liveState || !shown) return;
    const differs = shown.state !== liveState || (liveRun !== undefined && shown.run_id !== liveRun);
    if (differs && version > shown.version) void refetch();
  }, [liveState, liveRun, loaded]);

  if (view.notFound || isStatus(inv.error, 404)) {
    return (
      <NotFoundPage
        title="Investigation not found"
        message="There is no investigation with this id, or it is not yours to see."
      />
    );
  }

  const state = progress?.state ?? inv.data?.state ?? null;

  return (
    <div
      className="inv-page"
      data-testid="investigation"
      data-version={progress?.version}
      data-state={state ?? undefined}
    >
      <InvestigationHeader id={id} inv={inv.data} invFetching={inv.isFetching} view={view} onRetried={restart} />
      {view.error && <p className="alert alert-error" role="alert">{view.error}</p>}
      {inv.isError && (
        <p className="alert alert-error" role="alert">Could not read the investigation: {errorText(inv.error)}</p>
      )}
      <CompletionBanner progress={progress} />
      <div className="inv-grid">
        <PhasesPanel progress={progress} />
        <RiskPanel progress={progress} history={view.riskHistory} />
        <MetricsPanel progress={progress} rateHistory={view.rateHistory} />
        <ToolsPanel progress={progress} />
        <ErrorLog progress={progress} />
        <EntityGraphPanel
          entities={progress?.entities ?? inv.data?.entities ?? NO_ENTITIES}
          relationships={progress?.relationships ?? NO_RELATIONSHIPS}
        />
        <EventsPanel id={id} events={view.events} eventCount={view.eventCount} />
      </div>
    </div>
  );
}
