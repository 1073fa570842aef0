// The tools a new investigation can plan, by phase, in order.
export interface CatalogPhase {
  name: string;
  estimated_duration_ms: number;
  tools: { tool_name: string; agent_type: string }[];
}

export const CATALOG: CatalogPhase[] = [
  { name: 'initialization', estimated_duration_ms: 2000, tools: [{ tool_name: 'entity_loader', agent_type: 'orchestrator' }] },
  {
    name: 'device_analysis', estimated_duration_ms: 8000,
    tools: [{ tool_name: 'device_fingerprint', agent_type: 'device' }, { tool_name: 'device_reputation', agent_type: 'device' }],
  },
  {
    name: 'network_analysis', estimated_duration_ms: 12000,
    tools: [
      { tool_name: 'ip_reputation', agent_type: 'network' }, { tool_name: 'vpn_detection', agent_type: 'network' },
      { tool_name: 'proxy_detection', agent_type: 'network' }, { tool_name: 'tor_check', agent_type: 'network' },
    ],
  },
  {
    name: 'location_analysis', estimated_duration_ms: 8000,
    tools: [{ tool_name: 'ip_geolocation', agent_type: 'location' }, { tool_name: 'impossible_travel', agent_type: 'location' }],
  },
  {
    name: 'logs_analysis', estimated_duration_ms: 10000,
    tools: [
      { tool_name: 'log_query', agent_type: 'logs' }, { tool_name: 'auth_anomaly', agent_type: 'logs' },
      { tool_name: 'session_timeline', agent_type: 'logs' },
    ],
  },
  { name: 'risk_assessment', estimated_duration_ms: 4000, tools: [{ tool_name: 'risk_aggregator', agent_type: 'risk' }] },
  { name: 'finalization', estimated_duration_ms: 2000, tools: [{ tool_name: 'report_builder', agent_type: 'orchestrator' }] },
];

export const ENTITY_TYPES = ['ip', 'user_id', 'email', 'device_id', 'merchant', 'payment_method_token', 'account_id'] as const;

/** The key of a tool in the form's selection. */
export const toolKey = (phase: string, tool: string) => `${phase}/${tool}`;
