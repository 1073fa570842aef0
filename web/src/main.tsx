import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { Router } from 'wouter';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { ApiError } from './lib/api/client';
import { App } from './app/App';
import { SESSION_KEY } from './lib/session';

// A 401 anywhere means the session has ended: forget it, and the shell shows the sign-in page.
function onApiError(err: unknown) {
  if (err instanceof ApiError && err.status === 401) queryClient.setQueryData(SESSION_KEY, null);
}

const queryClient: QueryClient = new QueryClient({
  queryCache: new QueryCache({ onError: onApiError }),
  mutationCache: new MutationCache({ onError: onApiError }),
  defaultOptions: {
    queries: {
      // 401, 403 and 404 will not change by asking again; 400 neither.
      retry: (failureCount, err) => {
        if (err instanceof ApiError && [400, 401, 403, 404].includes(err.status)) return false;
        return failureCount < 3;
      },
      // Honour Retry-After (429, 503); otherwise back off 1 s, 2 s, 4 s.
      retryDelay: (attempt, err) => {
        if (err instanceof ApiError && err.retryAfterSeconds !== null) return err.retryAfterSeconds * 1000;
        return Math.min(1000 * 2 ** attempt, 30_000);
      },
      refetchOnWindowFocus: false,
    },
    mutations: { retry: false },
  },
});

const root = document.getElementById('root');
if (!root) throw new Error('no #root element');

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <Router>
        <App />
      </Router>
    </QueryClientProvider>
  </StrictMode>,
);
