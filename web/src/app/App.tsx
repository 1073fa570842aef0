// The shell: who is signed in, the header, and the routes.
import { Component, Suspense, lazy, useEffect, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Redirect, Route, Switch, useLocation } from 'wouter';
import { ApiError, api } from '../lib/api/client';
import type { Session } from '../lib/api/types';
import { errorText } from '../utils/format';
import { AppHeader } from './AppHeader';
import { SESSION_KEY, SessionContext } from '../lib/session';
import { SignInPage } from '../features/auth/SignInPage';
import { InvestigationsPage } from '../features/investigations/InvestigationsPage';
import { NewInvestigationPage } from '../features/new-investigation/NewInvestigationPage';
import { NotFoundPage } from '../components/NotFoundPage';

/** The session, or null when there is none (401). */
async function loadSession(): Promise<Session | null> {
  try {
    return await api.session();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

/**
 * Without a boundary, any error while rendering a page unmounts the whole app and leaves a blank
 * page: for example the investigation page's lazy chunk failing to load because vigil was
 * restarted with a new build (new hashed file names) while this tab was open. Keyed by the
 * location, so moving to another page tries again.
 */
class PageErrorBoundary extends Component<{ children: ReactNode }, { error: unknown; failed: boolean }> {
  state = { error: null as unknown, failed: false };
  static getDerivedStateFromError(error: unknown) { return { error, failed: true }; }
  render() {
    if (!this.state.failed) return this.props.children;
    return (
      <section className="card page-narrow" role="alert" data-testid="page-error">
        <h1>This page could not be shown</h1>
        <p>{errorText(this.state.error)}</p>
        <p>If vigil was updated since this tab was opened, reloading loads the new version.</p>
        <button type="button" className="btn" onClick={() => window.location.reload()}>Reload</button>
      </section>
    );
  }
}

// The investigation page carries the charts, the graph layout and the virtualized tables: load it
// (and them) only when one is opened.
const InvestigationPage = lazy(() =>
  import('../features/investigation/InvestigationPage').then((m) => ({ default: m.InvestigationPage })));

export function App() {
  const [location] = useLocation();
  const session = useQuery({ queryKey: SESSION_KEY, queryFn: loadSession, staleTime: Infinity });
  // A new page starts at the top (the router keeps the scroll position otherwise).
  useEffect(() => { window.scrollTo(0, 0); }, [location]);

  if (session.isPending) {
    return <div className="boot" role="status">Loading…</div>;
  }
  if (session.isError) {
    return (
      <main className="page page-narrow">
        <div className="card">
          <h1>vigil</h1>
          <p className="alert alert-error" role="alert">Could not reach vigil: {errorText(session.error)}</p>
          <button type="button" className="btn" onClick={() => void session.refetch()}>Try again</button>
        </div>
      </main>
    );
  }

  const user = session.data;
  if (!user) {
    return (
      <>
        <AppHeader session={null} />
        <main className="page">
          {location === '/signin'
            ? <SignInPage />
            : <Redirect to={location === '/' ? '/signin' : `/signin?next=${encodeURIComponent(location)}`} replace />}
        </main>
      </>
    );
  }

  return (
    <SessionContext.Provider value={user}>
      <AppHeader session={user} />
      <main className="page">
        <PageErrorBoundary key={location}>
          <Switch>
            <Route path="/"><InvestigationsPage /></Route>
            <Route path="/signin"><SignInPage /></Route>
            <Route path="/new"><NewInvestigationPage /></Route>
            <Route path="/investigations/:id">
              {(params) => (
                <Suspense fallback={<div className="boot" role="status">Loading…</div>}>
                  <InvestigationPage key={params.id} id={params.id} />
                </Suspense>
              )}
            </Route>
            <Route><NotFoundPage /></Route>
          </Switch>
        </PageErrorBoundary>
      </main>
    </SessionContext.Provider>
  );
}
