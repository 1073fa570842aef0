// What the live transport tells the page: the connection it is on, and (through the page's view
// model) the snapshot and events it received.

/**
 * - `connecting`: the first connection is being made.
 * - `live`: the Server-Sent Events stream is open.
 * - `polling`: the stream failed; `/progress` and `/events` are polled while it is retried.
 * - `reconnecting`: a request failed; waiting to try again (backoff).
 * - `offline`: the browser is offline; waiting for it to come back.
 * - `following`: another tab of this browser holds the connection and shares what it receives.
 * - `ended`: the investigation reached a terminal state; no more requests are made.
 */
export type ConnectionState =
  | 'connecting' | 'live' | 'polling' | 'reconnecting' | 'offline' | 'following' | 'ended';
