// The view model of one investigation page, fed by the live transport (lib/live/).
import type { Progress, VigilEvent } from '../../../lib/api/types';
import type { ConnectionState } from '../../../lib/live/types';

export interface Sample { t: number; v: number }

export interface InvestigationView {
  /** The latest snapshot (the /progress body), or null before the first arrives. */
  progress: Progress | null;
  /** The live tail of the log, oldest first, at most MAX_TAIL events. */
  events: VigilEvent[];
  /** Events received so far (all of them, not only the tail). */
  eventCount: number;
  /** risk_metrics.overall over time, from risk_updated events (t = ms since epoch). */
  riskHistory: Sample[];
  /** tools_per_second over time, folded from the events as vigil computes it (stores/rate.ts). */
  rateHistory: Sample[];
  connection: ConnectionState;
  /** Whether this tab holds the connection (leader) or follows another tab. */
  role: 'leader' | 'follower' | 'none';
  /** Seconds until the next retry while reconnecting, when known. */
  retryInSeconds: number | null;
  /** When that retry is due (ms since the epoch), for a countdown. */
  retryAt: number | null;
  /** The investigation does not exist or is not the user's. */
  notFound: boolean;
  /** An error that stops following, in words to show. */
  error: string | null;
  lastEventId: string | null;
}

export const MAX_TAIL = 1000;
