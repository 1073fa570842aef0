import { describe, expect, it } from 'vitest';
import type { Progress } from '../../../lib/api/types';
import { eid, makeEvent, makeEvents, makeProgress } from '../../../testing/fakes';
import { InvestigationModel, MAX_SAMPLES } from './model';
import { MAX_TAIL } from './view';

const model = () => new InvestigationModel((fn) => fn());
const ids = (m: InvestigationModel) => m.current.events.map((e) => e.event_id);
const at = (s: number) => new Date(Date.UTC(2026, 10, 22, 4, 0, s)).toISOString();
const snap = (version: number, over: Partial<Progress> = {}) =>
  makeProgress({ version, last_updated_at: at(version), tools_per_second: version / 10, ...over });

describe('InvestigationModel: events', () => {
  it('applies each event once, whatever overlaps and replays it gets', () => {
    const m = model();
    m.applyEvents(makeEvents(1, 3));
    m.applyEvents(makeEvents(2, 5));      // overlap
    m.applyEvents(makeEvents(1, 5));      // a full replay
    m.applyEvents([makeEvent(4)]);        // an old one alone
    m.applyEvents([makeEvent(6), makeEvent(6)]);
    expect(ids(m)).toEqual(makeEvents(1, 6).map((e) => e.event_id));
    expect(m.current.eventCount).toBe(6);
    expect(m.lastEventId).toBe(eid(6));
  });

  it('does not notify for a batch with nothing new', () => {
    let notified = 0;
    const m = model();
    m.subscribe(() => { notified += 1; });
    m.applyEvents(makeEvents(1, 2));
    const before = m.current;
    m.applyEvents(makeEvents(1, 2));
    expect(notified).toBe(1);
    expect(m.current).toBe(before);
  });

  it('batches notifications with its schedule', () => {
    const queued: (() => void)[] = [];
    const m = new InvestigationModel((fn) => { queued.push(fn); });
    let notified = 0;
    m.subscribe(() => { notified += 1; });
    m.applyEvents([makeEvent(1)]);
    m.applyEvents([makeEvent(2)]);
    m.applySnapshot(snap(1));
    expect(queued).toHaveLength(1);
    queued[0]();
    expect(notified).toBe(1);
    m.applyEvents([makeEvent(3)]);
    expect(queued).toHaveLength(2);
  });

  it('keeps only the last MAX_TAIL events but counts them all', () => {
    const m = model();
    m.applyEvents(makeEvents(1, MAX_TAIL));
    m.applyEvents(makeEvents(MAX_TAIL + 1, MAX_TAIL + 25));
    expect(m.current.events).toHaveLength(MAX_TAIL);
    expect(m.current.events[0].event_id).toBe(eid(26));
    expect(m.current.events[MAX_TAIL - 1].event_id).toBe(eid(MAX_TAIL + 25));
    expect(m.current.eventCount).toBe(MAX_TAIL + 25);
  });

  it('draws the risk history from risk_updated events', () => {
    const m = model();
    m.applyEvents([
      makeEvent(1, 'risk_updated', { overall: 0.2 }),
      makeEvent(2, 'tool_complete', { overall: 0.9 }),
      makeEvent(3, 'risk_updated', { overall: 0.7 }),
      makeEvent(4, 'risk_updated', { by_agent: {} }),       // no overall: no sample
    ]);
    m.applyEvents([makeEvent(3, 'risk_updated', { overall: 0.7 })]);  // a replay adds nothing
    expect(m.current.riskHistory).toEqual([
      { t: Date.parse(makeEvent(1).timestamp), v: 0.2 },
      { t: Date.parse(makeEvent(3).timestamp), v: 0.7 },
    ]);
  });

  it('starts the risk history over when a retry starts a new run', () => {
    const m = model();
    m.applyEvents([makeEvent(1, 'risk_updated', { overall: 0.5 })]);
    m.applyEvents([makeEvent(2, 'status_change', { from: 'failed', to: 'retrying' }),
      makeEvent(3, 'risk_updated', { overall: 0.1 })]);
    expect(m.current.riskHistory.map((s) => s.v)).toEqual([0.1]);
  });

  it('caps the risk history at MAX_SAMPLES', () => {
    const m = model();
    m.applyEvents(Array.from({ length: MAX_SAMPLES + 10 }, (_, i) => makeEvent(i + 1, 'risk_updated', { overall: i })));
    expect(m.current.riskHistory).toHaveLength(MAX_SAMPLES);
    expect(m.current.riskHistory[0].v).toBe(10);
  });

  it('goes on from where a reset says, forward or back', () => {
    const m = model();
    m.applyEvents(makeEvents(1, 3));
    m.resumeFrom(eid(10));
    expect(m.lastEventId).toBe(eid(10));
    m.applyEvents(makeEvents(9, 11));
    expect(ids(m)).toEqual([eid(1), eid(2), eid(3), eid(11)]);
    // The server's log no longer reaches the old cursor: its reset snapshot is older.
    m.resumeFrom(eid(5));
    expect(m.lastEventId).toBe(eid(5));
    m.applyEvents(makeEvents(6, 6));
    expect(ids(m)).toEqual([eid(1), eid(2), eid(3), eid(6)]);  // eid(11) left: it comes again
  });
});

describe('InvestigationModel: snapshots', () => {
  it('takes a newer snapshot and ignores an older version', () => {
    const m = model();
    m.applySnapshot(snap(5));
    m.applySnapshot(snap(3));
    expect(m.current.progress?.version).toBe(5);
    m.applySnapshot(snap(6));
    expect(m.current.progress?.version).toBe(6);
  });

});

describe('InvestigationModel: the rate history, folded from the events as vigil folds it', () => {
  const run = () => [
    makeEvent(1, 'status_change', { to: 'initializing' }),
    makeEvent(2, 'tool_complete', { tool_execution_id: 't1' }),
    makeEvent(3, 'tool_complete', { tool_execution_id: 't2' }),
    makeEvent(4, 'tool_error', { tool_execution_id: 't3', will_retry: true }),
    makeEvent(5, 'tool_skipped', { tool_execution_id: 't4' }),
  ];

  it('counts finishes over the run so far, then over 10 s', () => {
    const m = model();
    m.applyEvents(run());
    // 0 of 1 s, 1 of 1 s, 2 of 2 s, a retry is no finish (2 of 3 s), 3 of 4 s.
    expect(m.current.rateHistory.map((x) => x.v)).toEqual([0, 1, 1, 0.67, 0.75]);
    m.applyEvents([makeEvent(14, 'tool_error', { tool_execution_id: 't3' })]);  // a failure finishes
    // At 14 s the window is 10 s and holds the finishes after 4 s: t4 and t3.
    expect(m.current.rateHistory.at(-1)).toEqual({ t: Date.parse(makeEvent(14).timestamp), v: 0.2 });
    m.applyEvents([makeEvent(30)]);
    expect(m.current.rateHistory.at(-1)?.v).toBe(0);
  });

  it('is the same whether the events come at once or one by one, or through another tab', () => {
    const together = model();
    together.applyEvents(run());
    const apart = model();
    for (const e of run().slice(0, 3)) apart.applyEvents([e]);
    const other = model();
    other.importState(structuredClone(apart.exportState()));
    for (const e of run().slice(3)) { apart.applyEvents([e]); other.applyEvents([e]); }
    expect(apart.current.rateHistory).toEqual(together.current.rateHistory);
    expect(other.current.rateHistory).toEqual(together.current.rateHistory);
  });

  it('keeps one sample per millisecond, the latest', () => {
    const m = model();
    const a = makeEvent(1, 'status_change', { to: 'initializing' });
    const b = { ...makeEvent(2, 'tool_complete', { tool_execution_id: 't1' }), timestamp: a.timestamp };
    m.applyEvents([a, b]);
    expect(m.current.rateHistory).toEqual([{ t: Date.parse(a.timestamp), v: 1 }]);
  });

  it('starts over with a new run, like the risk history', () => {
    const m = model();
    m.applyEvents([...run(), makeEvent(6, 'risk_updated', { overall: 0.5 }),
      makeEvent(7, 'status_change', { to: 'failed' }), makeEvent(8, 'status_change', { to: 'retrying' })]);
    expect(m.current.rateHistory).toEqual([]);
    expect(m.current.riskHistory).toEqual([]);
    m.applyEvents([makeEvent(9, 'status_change', { to: 'initializing' }), makeEvent(10, 'tool_complete', {})]);
    expect(m.current.rateHistory.map((x) => x.v)).toEqual([0, 1]);
    expect(m.current.events).toHaveLength(10);  // the log spans runs
  });

  it('caps the rate history at MAX_SAMPLES', () => {
    const m = model();
    m.applyEvents(makeEvents(1, MAX_SAMPLES + 5));
    expect(m.current.rateHistory).toHaveLength(MAX_SAMPLES);
    expect(m.current.rateHistory[0].t).toBe(Date.parse(makeEvent(6).timestamp));
  });
});

describe('InvestigationModel: connection and errors', () => {
  it('gives every wait its own due time, for the countdown', () => {
    let now = 1_000_000;
    const m = new InvestigationModel((fn) => fn(), () => now);
    m.setConnection('reconnecting', 30);
    expect(m.current.retryAt).toBe(1_030_000);
    now += 30_000;
    m.setConnection('reconnecting', 30);  // the same wait again, later
    expect(m.current.retryAt).toBe(1_060_000);
    m.setConnection('polling');
    expect(m.current.retryAt).toBeNull();
  });

  it('records the connection, role, not found and errors', () => {
    const m = model();
    expect(m.current.connection).toBe('connecting');
    m.setConnection('reconnecting', 6);
    expect(m.current).toMatchObject({ connection: 'reconnecting', retryInSeconds: 6 });
    m.setRole('leader');
    expect(m.current.role).toBe('leader');
    m.setNotFound();
    expect(m.current).toMatchObject({ notFound: true, connection: 'ended' });
    const n = model();
    n.setError('Your session has ended. Sign in again.');
    expect(n.current).toMatchObject({ error: 'Your session has ended. Sign in again.', connection: 'ended' });
  });
});

describe('InvestigationModel: sharing state between tabs', () => {
  function ahead() {
    const m = model();
    m.applySnapshot(snap(1));
    m.applySnapshot(snap(2));
    m.applyEvents([makeEvent(1, 'risk_updated', { overall: 0.3 }), ...makeEvents(2, 4)]);
    m.setConnection('live');
    return m;
  }

  it('exports everything but the connection', () => {
    const s = ahead().exportState();
    expect(Object.keys(s).sort()).toEqual(['error', 'eventCount', 'events', 'lastEventId', 'notFound', 'progress', 'rate', 'rateHistory', 'riskHistory']);
    expect(s.lastEventId).toBe(eid(4));
    expect(s.eventCount).toBe(4);
  });

  it('imports a state that is ahead, and goes on from it without repeats', () => {
    const source = ahead();
    const m = model();
    m.applyEvents(makeEvents(1, 2));
    expect(m.importState(structuredClone(source.exportState()))).toBe(true);
    expect(m.exportState()).toEqual(source.exportState());
    expect(m.current.connection).toBe('connecting');   // its own, not the other tab's
    m.applyEvents(makeEvents(3, 5));
    expect(ids(m)).toEqual(makeEvents(1, 5).map((e) => e.event_id));
    expect(m.current.eventCount).toBe(5);
  });

  it('imports into an empty model', () => {
    const source = ahead();
    const m = model();
    expect(m.importState(source.exportState())).toBe(true);
    expect(m.lastEventId).toBe(eid(4));
  });

  it('keeps its own state when the other is not ahead, but takes a newer snapshot', () => {
    const m = ahead();
    const behind = model();
    behind.applySnapshot(snap(9));
    behind.applyEvents(makeEvents(1, 3));
    const mine = m.current.events;
    expect(m.importState(behind.exportState())).toBe(false);
    expect(m.current.events).toBe(mine);
    expect(m.lastEventId).toBe(eid(4));
    expect(m.current.progress?.version).toBe(9);

    const same = model();
    same.applyEvents(makeEvents(1, 4));
    expect(m.importState(same.exportState())).toBe(false);
    expect(m.current.eventCount).toBe(4);
  });

  it('does not import a state without events over one with events', () => {
    const m = ahead();
    const empty = model();
    empty.applySnapshot(snap(1));
    expect(m.importState(empty.exportState())).toBe(false);
    expect(m.current.progress?.version).toBe(2);
    expect(m.lastEventId).toBe(eid(4));
  });
});
