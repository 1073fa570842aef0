// The one place that talks HTTP to vigil's JSON API. Requests carry the session cookie (same
// origin); any request that changes something adds X-Requested-With, which vigil requires of
// cookie-authenticated writes (docs/api.md §1.7). Errors become ApiError with the problem body.
import type {
  Investigation, InvestigationList, Problem, Session,
} from './types';
import { retryAfterSeconds } from './retryAfter';

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;
  readonly retryAfterSeconds: number | null;
  constructor(status: number, problem: Problem | null, retryAfterSeconds: number | null) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.retryAfterSeconds = retryAfterSeconds;
  }
  get field(): string | undefined { return this.problem?.field; }
}

async function toError(res: Response): Promise<ApiError> {
  let problem: Problem | null = null;
  try {
    if ((res.headers.get('Content-Type') ?? '').includes('json')) problem = await res.json();
  } catch { /* not JSON: keep the status */ }
  return new ApiError(res.status, problem, retryAfterSeconds(res.headers));
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  bearer?: string;
  signal?: AbortSignal;
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-Requested-With'] = 'vigil-web';
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (opts.bearer) headers['Authorization'] = `Bearer ${opts.bearer}`;
  const res = await fetch(path, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    credentials: 'same-origin',
    signal: opts.signal,
  });
  if (!res.ok) throw await toError(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

const base = '/api/v1';
const inv = (id: string) => `${base}/investigations/${encodeURIComponent(id)}`;

export const api = {
  session: () => request<Session>(`${base}/auth/session`),
  signIn: (token: string) => request<Session>(`${base}/auth/session`, { method: 'POST', bearer: token }),
  signOut: () => request<void>(`${base}/auth/session`, { method: 'DELETE' }),
  list: (params: { status?: string; limit?: number; cursor?: string }, signal?: AbortSignal) => {
    const q = new URLSearchParams();
    if (params.status) q.set('status', params.status);
    if (params.limit) q.set('limit', String(params.limit));
    if (params.cursor) q.set('cursor', params.cursor);
    const qs = q.toString();
    return request<InvestigationList>(`${base}/investigations${qs ? `?${qs}` : ''}`, { signal });
  },
  get: (id: string, signal?: AbortSignal) => request<Investigation>(inv(id), { signal }),
  create: (body: unknown) => request<Investigation>(`${base}/investigations`, { method: 'POST', body }),
  action: (id: string, action: 'start' | 'pause' | 'resume' | 'cancel' | 'retry', reason?: string) =>
    request<Investigation>(`${inv(id)}/${action}`, {
      method: 'POST', body: reason ? { reason } : {},
    }),
  eventsPage: (id: string, since: string | null, limit: number, signal?: AbortSignal) => {
    const q = new URLSearchParams({ limit: String(limit) });
    if (since) q.set('since', since);
    return request<import('./types').EventsPage>(`${inv(id)}/events?${q}`, { signal });
  },
};

export const paths = { inv };
