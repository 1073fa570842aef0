import { describe, expect, it } from 'vitest';
import type { Progress } from '../api/types';
import type { ConnectionState } from './types';
import { ListSocket } from './listSocket';
import { FakeClock, FakeSockets, flush, makeProgress } from '../../testing/fakes';

const URL = 'ws://vigil.test/api/v1/ws';

function setup() {
  const clock = new FakeClock();
  const sockets = new FakeSockets();
  const progress: [string, Progress][] = [];
  const connections: [ConnectionState, number | null][] = [];
  const list = new ListSocket(URL, { openSocket: sockets.open, setTimeout: clock.setTimeout, clearTimeout: clock.clearTimeout },
    (id, p) => progress.push([id, p]), (s, r) => connections.push([s, r]));
  const states = () => connections.map(([s]) => s);
  return { clock, sockets, progress, connections, states, list };
}

/** A list following `ids` over an open socket. */
function following(...ids: string[]) {
  const t = setup();
  t.list.follow(ids);
  t.sockets.last.open();
  return t;
}

const end = (id: string) => ({ type: 'end', investigation_id: id, data: { reason: 'completed', status: 'completed', last_event_id: '1_000000' } });

describe('ListSocket', () => {
  it('opens one socket and subscribes each id once it is open', () => {
    const { list, sockets, states } = setup();
    list.follow(['a', 'b']);
    expect(sockets.opened).toHaveLength(1);
    expect(sockets.last.url).toBe(URL);
    expect(sockets.last.sent).toEqual([]);
    expect(states()).toEqual(['connecting']);
    sockets.last.open();
    expect(states()).toEqual(['connecting', 'live']);
    expect(sockets.last.sent).toEqual([
      { type: 'subscribe', investigation_id: 'a', after: null },
      { type: 'subscribe', investigation_id: 'b', after: null },
    ]);
  });

  it('does not subscribe again when the same rows are followed again', () => {
    const { list, sockets } = following('a', 'b');
    list.follow(['a', 'b']);
    list.follow(['b', 'a']);
    expect(sockets.last.sentOfType('subscribe')).toEqual(['a', 'b']);
    expect(sockets.opened).toHaveLength(1);
  });

  it('unsubscribes the rows that left and subscribes the new ones', () => {
    const { list, sockets } = following('a', 'b');
    list.follow(['b', 'c']);
    expect(sockets.last.sent.slice(2)).toEqual([
      { type: 'unsubscribe', investigation_id: 'a' },
      { type: 'subscribe', investigation_id: 'c', after: null },
    ]);
    list.follow(['a']);
    expect(sockets.last.sentOfType('unsubscribe')).toEqual(['a', 'b', 'c']);
    expect(sockets.last.sentOfType('subscribe')).toEqual(['a', 'b', 'c', 'a']);
  });

  it('subscribes only the rows wanted when the socket opens', () => {
    const { list, sockets } = setup();
    list.follow(['a', 'b']);
    list.follow(['b', 'c']);
    expect(sockets.opened).toHaveLength(1);
    sockets.last.open();
    expect(sockets.last.sentOfType('subscribe')).toEqual(['b', 'c']);
    expect(sockets.last.sentOfType('unsubscribe')).toEqual([]);
  });

  it('passes snapshot and progress messages on, and nothing else', () => {
    const { sockets, progress } = following('a', 'b');
    const p1 = makeProgress({ id: 'a', version: 1 });
    const p2 = makeProgress({ id: 'b', version: 3 });
    sockets.last.receive({ type: 'snapshot', investigation_id: 'a', data: p1 });
    sockets.last.receive({ type: 'progress', investigation_id: 'b', data: p2 });
    sockets.last.receive({ type: 'event', investigation_id: 'a', id: '1_000001', data: { event_id: '1_000001' } });
    sockets.last.receive({ type: 'caught_up', investigation_id: 'a', data: { last_event_id: '1_000001' } });
    sockets.last.receive({ type: 'pong', data: {} });
    sockets.last.receive({ type: 'progress', data: p1 });   // no investigation id
    expect(progress).toEqual([['a', p1], ['b', p2]]);
  });

  it('closes the socket and reports ended once every row has ended, and does not reconnect', async () => {
    const { sockets, clock, states } = following('a', 'b');
    sockets.last.receive(end('a'));
    expect(sockets.last.readyState).toBe(1);
    sockets.last.receive(end('b'));
    expect(sockets.last.readyState).toBe(3);
    expect(states().at(-1)).toBe('ended');
    await flush();                                  // the close event comes later
    expect(states().at(-1)).toBe('ended');
    expect(clock.pending).toBe(0);
    await clock.advance(3600_000);
    expect(sockets.opened).toHaveLength(1);
  });

  it('reconnects a dropped socket with the backoff, subscribing the rows that have not ended', async () => {
    const { sockets, clock, connections } = following('a', 'b', 'c');
    sockets.last.receive(end('b'));
    sockets.last.drop();
    expect(connections.at(-1)).toEqual(['reconnecting', 3]);
    await clock.advance(2999);
    expect(sockets.opened).toHaveLength(1);
    await clock.advance(1);
    expect(sockets.opened).toHaveLength(2);
    sockets.last.open();
    expect(sockets.last.sent).toEqual([
      { type: 'subscribe', investigation_id: 'a', after: null },
      { type: 'subscribe', investigation_id: 'c', after: null },
    ]);
  });

  it('waits 3, 6, 12, 24, 30, 30 s between failed attempts, and starts over after an open', async () => {
    const { sockets, clock, connections } = following('a');
    const openedAt: number[] = [];
    for (let i = 0; i < 6; i++) {
      sockets.last.drop();
      await clock.advance(clock.delays()[0]);
      openedAt.push(clock.now);
    }
    expect(connections.filter(([s]) => s === 'reconnecting').map(([, r]) => r)).toEqual([3, 6, 12, 24, 30, 30]);
    expect(openedAt).toEqual([3, 9, 21, 45, 75, 105].map((s) => s * 1000));
    sockets.last.open();
    sockets.last.drop();
    expect(connections.at(-1)).toEqual(['reconnecting', 3]);
  });

  it('does not subscribe again to a row that is not found', async () => {
    const { sockets, clock, progress } = following('a', 'b');
    sockets.last.receive({ type: 'error', investigation_id: 'a', data: { code: 'not_found', message: 'investigation not found' } });
    expect(sockets.last.sentOfType('subscribe')).toEqual(['a', 'b']);
    sockets.last.drop();
    await clock.advance(3000);
    sockets.last.open();
    expect(sockets.last.sentOfType('subscribe')).toEqual(['b']);
    expect(progress).toEqual([]);
  });

  it('asks again after 3, then 6 s for a row refused for now (rate limited, unavailable)', async () => {
    const { sockets, clock } = following('a', 'b');
    const refuse = (code: string) => sockets.last.receive({ type: 'error', investigation_id: 'a', data: { code, message: 'later' } });
    refuse('rate_limited');
    await clock.advance(2999);
    expect(sockets.last.sentOfType('subscribe')).toEqual(['a', 'b']);
    await clock.advance(1);
    expect(sockets.last.sentOfType('subscribe')).toEqual(['a', 'b', 'a']);
    refuse('unavailable');
    await clock.advance(5999);
    expect(sockets.last.sentOfType('subscribe')).toEqual(['a', 'b', 'a']);
    await clock.advance(1);
    expect(sockets.last.sentOfType('subscribe')).toEqual(['a', 'b', 'a', 'a']);
  });

  it('follows again a row that ended when the list shows it active again (a retry)', () => {
    const { list, sockets } = following('a', 'b');
    sockets.last.receive(end('a'));
    list.follow(['a', 'b'], ['b']);
    expect(sockets.last.sentOfType('subscribe')).toEqual(['a', 'b']);
    list.follow(['a', 'b'], ['a', 'b']);
    expect(sockets.last.sentOfType('subscribe')).toEqual(['a', 'b', 'a']);
  });

  it('closes the socket when the last row left is not found', async () => {
    const { sockets, clock, states } = following('a', 'b');
    sockets.last.receive(end('a'));
    sockets.last.receive({ type: 'error', investigation_id: 'b', data: { code: 'not_found', message: 'investigation not found' } });
    expect(sockets.last.readyState).toBe(3);
    expect(states().at(-1)).toBe('ended');
    await clock.advance(3600_000);
    expect(sockets.opened).toHaveLength(1);
  });

  it('subscribes again at once to a row dropped as a slow consumer, and after a reconnect', async () => {
    const { sockets, clock } = following('a', 'b');
    sockets.last.receive({ type: 'error', investigation_id: 'a', data: { code: 'slow_consumer', message: 'fell behind', last_event_id: '1_000000' } });
    expect(sockets.last.sentOfType('subscribe')).toEqual(['a', 'b', 'a']);
    sockets.last.drop();
    await clock.advance(3000);
    sockets.last.open();
    expect(sockets.last.sentOfType('subscribe')).toEqual(['a', 'b']);
  });

  it('follows new rows after everything had ended, on a new socket', () => {
    const { list, sockets, states } = following('a');
    sockets.last.receive(end('a'));
    list.follow(['a', 'b']);
    expect(sockets.opened).toHaveLength(2);
    sockets.last.open();
    expect(sockets.last.sentOfType('subscribe')).toEqual(['b']);
    expect(states().slice(-2)).toEqual(['connecting', 'live']);
  });

  it('is not confused by the late close of the socket it ended, when new rows opened another', async () => {
    const { list, sockets, clock, states } = following('a');
    sockets.last.receive(end('a'));
    list.follow(['a', 'b']);                       // before the old socket's close event arrives
    const fresh = sockets.last;
    expect(sockets.opened).toHaveLength(2);
    await flush();                                  // the old close event
    fresh.open();
    expect(fresh.sentOfType('subscribe')).toEqual(['b']);
    expect(states()).not.toContain('reconnecting');
    expect(clock.pending).toBe(0);
    expect(sockets.opened).toHaveLength(2);
  });

  it('opens nothing for a list of finished or no rows', () => {
    const { list, sockets, states } = setup();
    list.follow([]);
    expect(sockets.opened).toHaveLength(0);
    expect(states()).toEqual(['ended']);
  });

  it('stops for good on close(), even while waiting to reconnect', async () => {
    const { list, sockets, clock } = following('a');
    sockets.last.drop();
    expect(clock.pending).toBe(1);
    list.close();
    expect(clock.pending).toBe(0);
    await clock.advance(3600_000);
    list.follow(['a', 'b']);
    expect(sockets.opened).toHaveLength(1);
  });

  it('closes an open socket on close() without reconnecting', async () => {
    const { list, sockets, clock, states } = following('a');
    list.close();
    expect(sockets.last.readyState).toBe(3);
    await flush();
    expect(states()).toEqual(['connecting', 'live']);
    expect(clock.pending).toBe(0);
  });
});
