// The wire shapes of vigil's API (docs/api.md). Member names are the server's, snake_case.

export type State =
  | 'created' | 'queued' | 'initializing' | 'running' | 'paused'
  | 'completing' | 'completed' | 'failed' | 'cancelled' | 'retrying';

export const TERMINAL_STATES: readonly State[] = ['completed', 'failed', 'cancelled'];
export const isTerminal = (s: State | string | undefined): boolean =>
  s === 'completed' || s === 'failed' || s === 'cancelled';

export interface Entity {
  id: string;
  type: string;
  value: string;
  label: string;
  metadata: Record<string, unknown>;
  added_at: string;
}

export interface Relationship {
  id: string;
  source_entity_id: string;
  target_entity_id: string;
  relationship_type: string;
  confidence: number;
  metadata: Record<string, unknown>;
  discovered_at: string;
}

export interface Finding { finding?: string; severity?: string; [k: string]: unknown }

export interface ToolExecution {
  id: string;
  tool_name: string;
  agent_type: string;
  agent_name?: string;
  phase_id: string | null;
  status: 'queued' | 'running' | 'completed' | 'failed' | 'skipped';
  queued_at: string | null;
  started_at: string | null;
  completed_at: string | null;
  execution_time_ms: number;
  input?: unknown;
  result: { success: boolean; risk_score?: number; findings: Finding[]; metadata: unknown } | null;
  error: { code: string; message: string; details: unknown } | null;
  retry_count: number;
  max_retries: number;
  skip_reason?: string;
}

export interface AgentStatus {
  agent_type: string;
  agent_name: string;
  status: string;
  tools_completed: number;
  total_tools: number;
  progress_percent: number;
  average_execution_time_ms: number;
  findings_count: number;
  risk_score: number;
  max_risk_detected: number;
  started_at: string | null;
  completed_at: string | null;
}

export interface Phase {
  id: string;
  name: string;
  order: number;
  status: 'pending' | 'in_progress' | 'completed' | 'failed' | 'skipped';
  completion_percent: number;
  tool_execution_ids: string[];
  started_at: string | null;
  completed_at: string | null;
  estimated_duration_ms: number;
}

export interface ErrorEntry {
  id: string;
  code: string;
  message: string;
  timestamp: string;
  severity: 'warning' | 'error' | 'critical';
  context: Record<string, unknown>;
}

/** The body of GET /progress, of the SSE `snapshot` and `progress` events. */
export interface Progress {
  id: string;
  investigation_id: string;
  run_id: string;
  status: string;
  lifecycle_stage: string;
  state: State;
  completion_percent: number;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  last_updated_at: string;
  tool_executions: ToolExecution[];
  total_tools: number;
  completed_tools: number;
  running_tools: number;
  queued_tools: number;
  failed_tools: number;
  skipped_tools: number;
  agent_statuses: AgentStatus[];
  risk_metrics: {
    overall: number;
    confidence: number;
    last_calculated: string | null;
    by_agent: Record<string, number>;
  };
  phases: Phase[];
  current_phase: string | null;
  entities: Entity[];
  relationships: Relationship[];
  tools_per_second: number;
  peak_tools_per_second: number;
  ice_connected: boolean;
  errors: ErrorEntry[];
  version: number;
  last_event_id: string;
}

/** One event of the log (GET /events items, SSE domain events). */
export interface VigilEvent {
  event_id: string;
  investigation_id: string;
  run_id: string;
  event_type: string;
  actor: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export interface EventsPage {
  items: VigilEvent[];
  next_cursor: string | null;
  has_more: boolean;
  poll_after_seconds: number | null;
  etag: string;
}

export interface PlanTool { tool_name: string; agent_type: string }
export interface PlanPhase {
  id?: string;
  name: string;
  order?: number;
  estimated_duration_ms?: number;
  tools?: PlanTool[];
}

/** An item of GET /investigations. */
export interface InvestigationSummary {
  investigation_id: string;
  owner: string;
  name: string;
  state: State;
  status: string;
  lifecycle_stage: string;
  run_id: string;
  version: number;
  completion_percent: number;
  last_event_id: string;
  created_at: string;
  updated_at: string;
}

/** GET /investigations/{id}, and the answer of create and transitions. */
export interface Investigation extends InvestigationSummary {
  entities: Entity[];
  plan: { phases: PlanPhase[] };
  settings: Record<string, unknown>;
  runner: string | null;
  allowed_transitions: State[];
}

export interface InvestigationList {
  items: InvestigationSummary[];
  next_cursor: string | null;
  has_more: boolean;
}

export interface Session {
  user: string;
  roles: string[];
  expires_at: string;
  via: 'cookie' | 'bearer';
}

/** An application/problem+json body. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  field?: string;
  instance?: string;
  request_id?: string;
  [k: string]: unknown;
}
