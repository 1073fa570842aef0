import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, Feed, POLL_PAGE, STREAM_OPEN_TIMEOUT_MS, STREAM_SILENCE_MS } from './feed';
import { START } from './cursor';
import {
  eid, errorReply, eventsPage, FakeBrowser, flush, makeEvent, makeEvents, makeProgress, notModified,
  progressReply, RecordingSink, terminalPage,
} from '../../testing/fakes';

const STREAM_URL = '/api/v1/investigations/inv_1/runs/current/stream';

function setup(opts: { startAfter?: string | null; online?: boolean; id?: string } = {}) {
  const browser = new FakeBrowser(opts.online ?? true);
  const sink = new RecordingSink();
  const feed = new Feed(opts.id ?? 'inv_1', browser.deps, sink, opts.startAfter ?? null);
  const { clock, streams, http, network } = browser;
  return { browser, clock, streams, http, network, sink, feed };
}

/** A feed whose stream opened, then failed: it is polling. */
async function polling(opts: { startAfter?: string | null } = {}) {
  const t = setup(opts);
  t.feed.start();
  t.streams.last.open();
  t.streams.last.fail();
  await flush();
  return t;
}

/** Seconds between consecutive times. */
const gaps = (times: number[]) => times.slice(1).map((t, i) => (t - times[i]) / 1000);

describe('Feed: the stream first', () => {
  it('opens one stream from 0_000000 on a fresh start, and fetches nothing', () => {
    const { feed, streams, http } = setup();
    feed.start();
    expect(streams.opened).toHaveLength(1);
    expect(streams.last.url).toBe(`${STREAM_URL}?last_event_id=0_000000`);
    expect(streams.last.lastEventIdParam).toBe(START);
    expect(http.calls).toHaveLength(0);
  });

  it('resumes from the last event id it was given', () => {
    const { feed, streams } = setup({ startAfter: eid(42) });
    feed.start();
    expect(streams.last.lastEventIdParam).toBe(eid(42));
    expect(feed.lastEventId).toBe(eid(42));
  });

  it('escapes the investigation id in the URL', () => {
    const { feed, streams } = setup({ id: 'inv/../x y' });
    feed.start();
    expect(streams.last.url.startsWith('/api/v1/investigations/inv%2F..%2Fx%20y/runs/current/stream?')).toBe(true);
  });

  it('reports connecting, then live once the stream opens', () => {
    const { feed, streams, sink } = setup();
    feed.start();
    expect(sink.states).toEqual(['connecting']);
    streams.last.open();
    expect(sink.states).toEqual(['connecting', 'live']);
    expect(feed.connection).toBe('live');
  });

  it('hands the domain events to the sink in order, and moves the cursor', () => {
    const { feed, streams, sink } = setup();
    feed.start();
    streams.last.open();
    streams.last.send(...makeEvents(1, 3));
    expect(sink.eventIds).toEqual([eid(1), eid(2), eid(3)]);
    expect(feed.lastEventId).toBe(eid(3));
  });

  it('accepts every domain event type', () => {
    const { feed, streams, sink } = setup();
    feed.start();
    streams.last.open();
    EVENT_TYPES.forEach((type, i) => streams.last.send(makeEvent(i + 1, type)));
    expect(sink.batches.flat().map((e) => e.event_type)).toEqual([...EVENT_TYPES]);
  });

  it('drops an event it already has (a replay or an older id)', () => {
    const { feed, streams, sink } = setup();
    feed.start();
    streams.last.open();
    streams.last.send(makeEvent(1), makeEvent(2), makeEvent(2), makeEvent(1), makeEvent(3));
    expect(sink.eventIds).toEqual([eid(1), eid(2), eid(3)]);
  });

  it('drops events at or before the id it resumed from', () => {
    const { feed, streams, sink } = setup({ startAfter: eid(5) });
    feed.start();
    streams.last.open();
    streams.last.send(...makeEvents(4, 7));
    expect(sink.eventIds).toEqual([eid(6), eid(7)]);
  });

  it('applies a snapshot frame and resumes from its last_event_id', () => {
    const { feed, streams, sink } = setup();
    feed.start();
    streams.last.open();
    const p = makeProgress({ version: 7, last_event_id: eid(9) });
    streams.last.frame('snapshot', p, eid(9));
    expect(sink.snapshots).toEqual([p]);
    expect(sink.resumed).toEqual([eid(9)]);
    expect(feed.lastEventId).toBe(eid(9));
    streams.last.send(makeEvent(9), makeEvent(10));
    expect(sink.eventIds).toEqual([eid(10)]);
  });

  it('applies progress frames without moving the cursor, and ignores older versions', () => {
    const { feed, streams, sink } = setup();
    feed.start();
    streams.last.open();
    streams.last.send(makeEvent(1));
    streams.last.frame('progress', makeProgress({ version: 5, last_event_id: eid(8) }));
    streams.last.frame('progress', makeProgress({ version: 4 }));
    streams.last.frame('progress', makeProgress({ version: 6 }));
    expect(sink.snapshots.map((p) => p.version)).toEqual([5, 6]);
    expect(sink.resumed).toEqual([]);
    expect(feed.lastEventId).toBe(eid(1));
  });
});

describe('Feed: falling back to polling', () => {
  it('polls /events and /progress at once when the stream fails', async () => {
    const { feed, streams, http, sink, clock } = setup();
    feed.start();
    streams.last.open();
    streams.last.send(...makeEvents(1, 2));
    http.script('events', eventsPage([]));
    http.script('progress', progressReply(makeProgress({ version: 3 })));
    streams.last.fail();
    await flush();
    expect(streams.last.closed).toBe(true);
    expect(clock.now).toBe(0);
    expect(http.calls.map((c) => c.kind)).toEqual(['events', 'progress']);
    const [events, progress] = http.calls;
    expect(events.path).toBe('/api/v1/investigations/inv_1/events');
    expect(events.query.get('since')).toBe(eid(2));
    expect(events.query.get('limit')).toBe(String(POLL_PAGE));
    expect(events.headers.Accept).toBe('application/json');
    expect(progress.path).toBe('/api/v1/investigations/inv_1/progress');
    expect(sink.snapshots.map((p) => p.version)).toEqual([3]);
    expect(sink.state).toBe('polling');
  });

  it('polls from the start of the log (no since) when it has no event yet', async () => {
    const { http } = await polling();
    expect(http.of('events')[0].query.has('since')).toBe(false);
  });

  it('also falls back when the stream never opened', async () => {
    const { feed, streams, http, sink } = setup();
    feed.start();
    streams.last.fail();
    await flush();
    expect(http.of('events')).toHaveLength(1);
    expect(sink.states).toEqual(['connecting', 'polling']);
  });

  it("treats vigil's error frame as a failed stream", async () => {
    const { feed, streams, http } = setup();
    feed.start();
    streams.last.open();
    streams.last.frame('error', { code: 'internal', message: 'could not read' });
    await flush();
    expect(streams.last.closed).toBe(true);
    expect(http.of('events')).toHaveLength(1);
  });

  it('sends If-None-Match with the ETag of the same query, and takes a 304 as nothing new', async () => {
    const t = setup();
    t.feed.start();
    t.streams.last.open();
    t.streams.last.send(makeEvent(1));
    t.http.script('events', eventsPage([], { etag: '"e1-11111111"' }), notModified('1000', '"e1-11111111"'),
      eventsPage([makeEvent(2)], { etag: '"e2-22222222"' }), eventsPage([], { etag: '"e2-33333333"' }));
    t.http.script('progress', progressReply(makeProgress({ version: 1 }), { etag: '"1-aaaaaaaa"' }),
      progressReply(makeProgress({ version: 2 }), { etag: '"2-bbbbbbbb"' }));
    t.streams.last.fail();
    await flush();
    await t.clock.advance(1000);
    await t.clock.advance(1000);
    await t.clock.advance(1000);
    const ev = t.http.of('events');
    expect(ev.map((c) => [c.query.get('since'), c.headers['If-None-Match'] ?? null])).toEqual([
      [eid(1), null],                // the first poll of this query: no tag
      [eid(1), '"e1-11111111"'],     // same query again: its tag (answered 304)
      [eid(1), '"e1-11111111"'],     // still the same query and tag
      [eid(2), null],                // a new since is a new query
    ]);
    // /progress: first because there is no snapshot yet, then only after new events, with its tag.
    const pr = t.http.of('progress');
    expect(pr.map((c) => c.headers['If-None-Match'] ?? null)).toEqual([null, '"1-aaaaaaaa"']);
    expect(t.sink.eventIds).toEqual([eid(1), eid(2)]);
  });

  it('waits X-Recommended-Interval between polls', async () => {
    const { http, clock } = await (async () => {
      const t = setup();
      t.feed.start();
      t.streams.last.open();
      t.http.script('progress', progressReply(makeProgress()));
      t.http.fallback = () => eventsPage([], { interval: '2000', pollAfter: 5 });
      t.streams.last.fail();
      await flush();
      return t;
    })();
    expect(http.of('events')).toHaveLength(1);
    await clock.advance(1999);
    expect(http.of('events')).toHaveLength(1);
    await clock.advance(1);
    expect(http.of('events')).toHaveLength(2);
    await clock.advance(2000);
    expect(http.of('events')).toHaveLength(3);
  });

  it('takes the interval of a 304 from its header', async () => {
    const t = setup();
    t.feed.start();
    t.streams.last.open();
    t.streams.last.frame('progress', makeProgress());
    t.http.script('events', notModified('4000'));
    t.http.fallback = () => notModified('4000');
    t.streams.last.fail();
    await flush();
    await t.clock.advance(3999);
    expect(t.http.of('events')).toHaveLength(1);
    await t.clock.advance(1);
    expect(t.http.of('events')).toHaveLength(2);
    expect(t.http.of('progress')).toHaveLength(0);  // nothing changed and there is a snapshot
  });

  it('waits poll_after_seconds when there is no header', async () => {
    const t = setup();
    t.feed.start();
    t.streams.last.open();
    t.streams.last.frame('progress', makeProgress());
    t.http.fallback = () => eventsPage([], { interval: null, pollAfter: 3 });
    t.streams.last.fail();
    await flush();
    await t.clock.advance(2999);
    expect(t.http.of('events')).toHaveLength(1);
    await t.clock.advance(1);
    expect(t.http.of('events')).toHaveLength(2);
  });

  it('reads the log a page at a time up to the head before it waits', async () => {
    const t = setup();
    t.feed.start();
    t.http.script('events', eventsPage(makeEvents(1, 2), { hasMore: true }), eventsPage(makeEvents(3, 4), { hasMore: true }),
      eventsPage([makeEvent(5)]));
    t.http.script('progress', progressReply(makeProgress({ version: 5 })));
    t.streams.last.fail();
    await flush();
    expect(t.http.calls.map((c) => `${c.kind}:${c.query.get('since')}`)).toEqual([
      'events:null', `events:${eid(2)}`, `events:${eid(4)}`, 'progress:null',
    ]);
    expect(t.sink.eventIds).toEqual(makeEvents(1, 5).map((e) => e.event_id));
    expect(t.clock.now).toBe(0);
  });

  it('backs off 3, 6, 12, 24, 30, 30 s on poll errors, saying when it retries', async () => {
    const t = setup();
    t.feed.start();
    t.streams.last.open();
    t.http.fallback = () => errorReply(500);
    t.streams.last.fail();
    await flush();
    await t.clock.advance(105_000);
    const times = t.http.of('events').map((c) => c.at);
    expect(gaps(times)).toEqual([3, 6, 12, 24, 30, 30]);
    expect(t.http.of('progress')).toHaveLength(0);
    expect(t.sink.connections.filter(([s]) => s === 'reconnecting').map(([, r]) => r)).toEqual([3, 6, 12, 24, 30, 30, 30]);
  });

  it('backs off on network errors too', async () => {
    const t = setup();
    t.feed.start();
    t.http.fallback = () => new TypeError('Failed to fetch');
    t.streams.last.fail();
    await flush();
    await t.clock.advance(21_000);
    expect(gaps(t.http.of('events').map((c) => c.at))).toEqual([3, 6, 12]);
  });

  it('honours Retry-After when it is longer than the backoff step', async () => {
    const t = setup();
    t.feed.start();
    t.http.script('events', errorReply(503, '10'), errorReply(429, '2'), errorReply(503, '20'));
    t.http.fallback = () => errorReply(500);
    t.streams.last.fail();
    await flush();
    await t.clock.advance(60_000);
    // 10 s (Retry-After beats 3), 6 s (step beats Retry-After 2), 20 s (Retry-After beats 12), 24 s.
    expect(gaps(t.http.of('events').map((c) => c.at)).slice(0, 4)).toEqual([10, 6, 20, 24]);
  });

  it('starts the backoff over after a successful poll', async () => {
    const t = setup();
    t.feed.start();
    t.streams.last.frame('progress', makeProgress());
    t.http.script('events', errorReply(500), errorReply(500), eventsPage([], { interval: '1000' }), errorReply(500));
    t.http.fallback = () => errorReply(500);
    t.streams.last.fail();
    await flush();
    await t.clock.advance(13_000);
    // fail at 0 → 3 s → fail → 6 s → ok at 9 → 1 s → fail at 10 → 3 s (not 12) → 13
    expect(t.http.of('events').map((c) => c.at / 1000)).toEqual([0, 3, 9, 10, 13]);
    expect(t.sink.states.slice(-3)).toEqual(['polling', 'reconnecting', 'reconnecting']);
  });

  it('keeps trying the stream in the background, 3, 6, 12, 24, 30, 30 s apart', async () => {
    const t = setup();
    t.feed.start();
    t.streams.last.frame('progress', makeProgress());
    t.http.fallback = () => eventsPage([], { interval: '60000' });
    const openedAt: number[] = [];
    const fail = () => { openedAt.push(t.clock.now); t.streams.last.fail(); };
    fail();
    await flush();
    for (let i = 0; i < 6; i++) {
      const before = t.streams.opened.length;
      await t.clock.advance(t.clock.delays()[0]);
      if (t.streams.opened.length > before) fail();
      else i--;
    }
    expect(gaps(openedAt)).toEqual([3, 6, 12, 24, 30, 30]);
    expect(t.streams.openCount).toBe(0);
    expect(t.feed.connection).toBe('polling');
  });

  it('starts the stream backoff over once a stream opened', async () => {
    const t = setup();
    t.feed.start();
    t.streams.last.frame('progress', makeProgress());
    t.http.fallback = () => eventsPage([], { interval: '60000' });
    t.streams.last.fail();                           // retry in 3 s
    await flush();
    await t.clock.advance(3000);
    t.streams.last.fail();                           // retry in 6 s
    await t.clock.advance(6000);
    t.streams.last.open();
    t.streams.last.fail();                           // it had opened: 3 s again, not 12
    await flush();
    await t.clock.advance(2999);
    expect(t.streams.opened).toHaveLength(3);
    await t.clock.advance(1);
    expect(t.streams.opened).toHaveLength(4);
  });

  it('treats a retried stream that stays silent as failed, and goes on retrying', async () => {
    const t = setup();
    t.feed.start();
    t.streams.last.frame('progress', makeProgress());
    t.http.fallback = () => eventsPage([], { interval: '60000' });
    t.streams.last.fail();
    await flush();
    await t.clock.advance(3000);
    expect(t.streams.opened).toHaveLength(2);        // the retry; it never answers
    await t.clock.advance(STREAM_OPEN_TIMEOUT_MS);
    expect(t.streams.opened[1].closed).toBe(true);
    await t.clock.advance(6000);
    expect(t.streams.opened).toHaveLength(3);
  });

  it('returns to the stream as soon as it opens: no more polls', async () => {
    const t = setup();
    t.feed.start();
    t.streams.last.frame('progress', makeProgress());
    t.http.fallback = () => eventsPage([], { interval: '1000' });
    t.streams.last.fail();
    await flush();
    await t.clock.advance(3000);
    const polls = t.http.calls.length;
    expect(polls).toBeGreaterThan(1);
    t.streams.last.open();
    expect(t.feed.connection).toBe('live');
    expect(t.sink.state).toBe('live');
    expect(t.clock.pending).toBe(1);                 // only the stream's silence watch
    await t.clock.advance(60_000);
    expect(t.http.calls.length).toBe(polls);
  });

  it('aborts a poll in flight when the stream opens, and delivers nothing from it', async () => {
    const t = setup();
    t.feed.start();
    t.streams.last.frame('progress', makeProgress());
    t.streams.last.send(makeEvent(1));
    t.streams.last.fail();                           // the poll stays pending: nothing answers it
    await flush();
    const inFlight = t.http.last;
    expect(inFlight.settled).toBe(false);
    await t.clock.advance(3000);
    t.streams.last.open();
    expect(inFlight.aborted).toBe(true);
    inFlight.respond(eventsPage(makeEvents(2, 3)));  // too late
    await flush();
    expect(t.sink.eventIds).toEqual([eid(1)]);
    await t.clock.advance(60_000);
    expect(t.http.calls).toHaveLength(1);
  });

  it('loses and repeats nothing across stream → polling → stream', async () => {
    const t = setup();
    t.feed.start();
    const first = t.streams.last;
    expect(first.lastEventIdParam).toBe(START);
    first.open();
    first.frame('progress', makeProgress({ version: 1 }));
    first.send(...makeEvents(1, 3));
    // Polling answers overlap with what the stream delivered, then bring more.
    t.http.script('events', eventsPage(makeEvents(3, 6)), eventsPage(makeEvents(6, 6)), eventsPage([]));
    t.http.script('progress', progressReply(makeProgress({ version: 6 })));
    t.http.fallback = () => eventsPage([]);
    first.fail();
    await flush();
    expect(t.http.of('events')[0].query.get('since')).toBe(eid(3));
    await t.clock.advance(2000);
    expect(t.http.of('events')[1].query.get('since')).toBe(eid(6));
    await t.clock.advance(1000);                     // the stream's retry, 3 s after it failed
    const second = t.streams.last;
    expect(second).not.toBe(first);
    expect(second.lastEventIdParam).toBe(eid(6));
    second.open();
    second.send(...makeEvents(6, 8));                // replays from the overlap
    expect(t.sink.eventIds).toEqual(makeEvents(1, 8).map((e) => e.event_id));
    expect(new Set(t.sink.eventIds).size).toBe(8);
    expect(t.feed.lastEventId).toBe(eid(8));
  });

  it('resumes the stream after events that arrived by polling while it was reconnecting', async () => {
    const t = setup();
    t.feed.start();
    t.streams.last.frame('progress', makeProgress());
    t.streams.last.send(makeEvent(1));
    t.http.script('events', eventsPage([]), eventsPage([]), eventsPage([]), eventsPage([makeEvent(2)]));
    t.http.script('progress', progressReply(makeProgress({ version: 2 })));
    t.http.fallback = () => eventsPage([]);
    t.streams.last.fail();
    await flush();
    await t.clock.advance(3000);                     // the retry opens (not yet answered), then a poll
    const retry = t.streams.last;
    expect(retry.lastEventIdParam).toBe(eid(1));
    expect(t.http.of('events').map((c) => c.at)).toEqual([0, 1000, 2000, 3000]);
    expect(t.sink.eventIds).toEqual([eid(1), eid(2)]); // the poll at 3 s got e2 meanwhile
    retry.open();
    retry.send(makeEvent(2), makeEvent(3));
    expect(t.sink.eventIds).toEqual([eid(1), eid(2), eid(3)]);
  });
});

describe('Feed: terminal states', () => {
  it('stops everything at an end frame, however far time goes', async () => {
    const { feed, streams, http, clock, sink, network } = setup();
    feed.start();
    streams.last.open();
    streams.last.send(makeEvent(1));
    streams.last.frame('progress', makeProgress({ state: 'completed', version: 9 }));
    streams.last.frame('end', { reason: 'completed', status: 'completed', last_event_id: eid(1) });
    expect(streams.last.closed).toBe(true);
    expect(sink.state).toBe('ended');
    expect(feed.connection).toBe('ended');
    expect(clock.pending).toBe(0);
    expect(network.listenerCount).toBe(0);
    network.set(false);
    network.set(true);
    await clock.advance(24 * 3600_000);
    expect(streams.opened).toHaveLength(1);
    expect(http.calls).toHaveLength(0);
  });

  it('stops when a poll answers without an interval (terminal), background stream retries included', async () => {
    const t = setup();
    t.feed.start();
    t.streams.last.open();
    t.streams.last.send(makeEvent(1));
    t.http.script('events', terminalPage([makeEvent(2)]));
    t.http.script('progress', progressReply(makeProgress({ state: 'completed' }), { interval: null }));
    t.streams.last.fail();
    await flush();
    expect(t.http.calls.map((c) => c.kind)).toEqual(['events', 'progress']);
    expect(t.sink.eventIds).toEqual([eid(1), eid(2)]);
    expect(t.sink.state).toBe('ended');
    expect(t.clock.pending).toBe(0);
    const requests = t.browser.requests;
    await t.clock.advance(3600_000);
    expect(t.browser.requests).toBe(requests);
  });

  it('stops on a 304 without an interval', async () => {
    const t = setup();
    t.feed.start();
    t.streams.last.frame('progress', makeProgress());
    t.http.script('events', eventsPage([], { etag: '"e1-aa"' }), notModified(null, '"e1-aa"'));
    t.http.script('progress', { status: 304, headers: { ETag: '"1-bb"' } });
    t.streams.last.fail();
    await flush();
    await t.clock.advance(1000);
    expect(t.sink.state).toBe('ended');
    expect(t.clock.pending).toBe(0);
  });

  it('stops when /progress says the state is terminal', async () => {
    const t = setup();
    t.feed.start();
    t.http.script('events', eventsPage([makeEvent(1)]));
    t.http.script('progress', progressReply(makeProgress({ state: 'cancelled' })));
    t.streams.last.fail();
    await flush();
    expect(t.sink.state).toBe('ended');
    expect(t.clock.pending).toBe(0);
  });

  it('polls within 5 s when the stream neither opens nor fails, and only then counts silence', async () => {
    const t = setup();
    t.feed.start();
    t.http.fallback = () => eventsPage([], { interval: '60000' });
    await t.clock.advance(STREAM_OPEN_TIMEOUT_MS - 1);
    expect(t.http.calls).toHaveLength(0);
    await t.clock.advance(1);
    await flush();
    expect(t.streams.opened[0].closed).toBe(true);
    expect(t.sink.state).toBe('polling');
    expect(t.http.of('events')).toHaveLength(1);
    // A stream that opens is given the long silence watch, not the open timeout.
    await t.clock.advance(3000);
    t.streams.last.open();
    await t.clock.advance(STREAM_SILENCE_MS - 1);
    expect(t.streams.last.closed).toBe(false);
  });

  it('goes on from the snapshot when the server refuses its cursor (400), without a gap in polling', async () => {
    const t = setup({ startAfter: eid(3) });
    t.feed.start();
    t.http.script('events', errorReply(400), eventsPage([makeEvent(11)]));
    t.http.script('progress', progressReply(makeProgress({ version: 10, last_event_id: eid(10) })));
    t.streams.last.fail();
    await flush();
    await t.clock.advance(0);
    await flush();
    expect(t.sink.resumed).toEqual([eid(10)]);
    const events = t.http.of('events');
    expect(events).toHaveLength(2);
    expect(events[1].url).toContain(`since=${encodeURIComponent(eid(10))}`);
    expect(t.sink.eventIds).toEqual([eid(11)]);
    expect(t.sink.state).toBe('polling');
  });

  it.each([
    [404, 'not_found'],
    [401, 'unauthorized'],
    [403, 'unauthorized'],
  ] as const)('stops for good on %i from /events', async (status, reason) => {
    const t = setup();
    t.feed.start();
    t.http.fallback = () => errorReply(status);
    t.streams.last.fail();
    await flush();
    expect(t.sink.stops).toEqual([reason]);
    expect(t.clock.pending).toBe(0);
    expect(t.network.listenerCount).toBe(0);
    const requests = t.browser.requests;
    await t.clock.advance(3600_000);
    expect(t.browser.requests).toBe(requests);
  });

  it('stops for good on 404 from /progress', async () => {
    const t = setup();
    t.feed.start();
    t.http.script('events', eventsPage([]));
    t.http.script('progress', errorReply(404));
    t.streams.last.fail();
    await flush();
    expect(t.sink.stops).toEqual(['not_found']);
    expect(t.clock.pending).toBe(0);
  });

  it('makes no request after stop()', async () => {
    const t = setup();
    t.feed.start();
    t.streams.last.fail();
    await flush();
    const call = t.http.last;
    t.feed.stop();
    expect(call.aborted).toBe(true);
    expect(t.clock.pending).toBe(0);
    await t.clock.advance(3600_000);
    expect(t.browser.requests).toBe(2);
  });
});

describe('Feed: stream control frames', () => {
  it('reopens at once from the last id on reconnect, without polling', async () => {
    const { feed, streams, http, clock } = setup();
    feed.start();
    const first = streams.last;
    first.open();
    first.send(...makeEvents(1, 4));
    first.frame('reconnect', { reason: 'max_duration', last_event_id: eid(4) });
    expect(first.closed).toBe(true);
    expect(streams.opened).toHaveLength(2);
    expect(streams.last.lastEventIdParam).toBe(eid(4));
    streams.last.open();
    await clock.advance(10_000);
    expect(http.calls).toHaveLength(0);
    expect(streams.opened).toHaveLength(2);
  });

  it('goes on from the snapshot of a reset, even one before the old cursor', () => {
    const { feed, streams, sink } = setup({ startAfter: eid(50) });
    feed.start();
    const p = makeProgress({ version: 3, last_event_id: eid(20) });
    streams.last.open();
    streams.last.frame('reset', { reason: 'after the newest event', progress: p }, eid(20));
    expect(sink.resumed).toEqual([eid(20)]);
    expect(sink.snapshots).toEqual([p]);
    expect(feed.lastEventId).toBe(eid(20));
    streams.last.send(makeEvent(21));
    expect(sink.eventIds).toEqual([eid(21)]);
    streams.last.frame('reconnect', { reason: 'max_duration', last_event_id: eid(21) });
    expect(streams.last.lastEventIdParam).toBe(eid(21));
  });

  it('treats STREAM_SILENCE_MS without a frame as a failure', async () => {
    const { feed, streams, http, clock } = setup();
    feed.start();
    streams.last.open();
    await clock.advance(STREAM_SILENCE_MS - 1);
    expect(streams.last.closed).toBe(false);
    expect(http.calls).toHaveLength(0);
    await clock.advance(1);
    expect(streams.last.closed).toBe(true);
    expect(http.calls).toHaveLength(1);
    expect(feed.connection).toBe('polling');
  });

  it('counts silence from the last frame', async () => {
    const { feed, streams, clock, http } = setup();
    feed.start();
    streams.last.open();
    await clock.advance(60_000);
    streams.last.send(makeEvent(1));
    await clock.advance(STREAM_SILENCE_MS - 1);
    expect(http.calls).toHaveLength(0);
    await clock.advance(1);
    expect(http.calls).toHaveLength(1);
  });

  it('stays live on heartbeats alone', async () => {
    const { feed, streams, clock, http } = setup();
    feed.start();
    streams.last.open();
    for (let i = 0; i < 20; i++) {
      await clock.advance(30_000);
      streams.last.frame('heartbeat', { timestamp: new Date(clock.now).toISOString() });
    }
    expect(streams.opened).toHaveLength(1);
    expect(streams.last.closed).toBe(false);
    expect(http.calls).toHaveLength(0);
    expect(feed.connection).toBe('live');
  });

  it('counts caught_up as a sign of life', async () => {
    const { feed, streams, clock, http } = setup();
    feed.start();
    streams.last.open();
    await clock.advance(STREAM_SILENCE_MS - 1000);
    streams.last.frame('caught_up', { last_event_id: eid(0) });
    await clock.advance(STREAM_SILENCE_MS - 1000);
    expect(http.calls).toHaveLength(0);
  });
});

describe('Feed: the browser going off- and online', () => {
  it('makes no request while it starts offline, and connects once online', async () => {
    const { feed, streams, http, clock, sink, network } = setup({ online: false });
    feed.start();
    expect(sink.states).toEqual(['offline']);
    await clock.advance(600_000);
    expect(streams.opened).toHaveLength(0);
    expect(http.calls).toHaveLength(0);
    network.set(true);
    expect(streams.opened).toHaveLength(1);
    expect(streams.last.lastEventIdParam).toBe(START);
    expect(sink.states).toEqual(['offline', 'connecting']);
  });

  it('closes the stream when offline, and resumes from the last id when back', async () => {
    const { feed, streams, http, clock, sink, network } = setup();
    feed.start();
    streams.last.open();
    streams.last.send(...makeEvents(1, 2));
    network.set(false);
    expect(streams.last.closed).toBe(true);
    expect(sink.state).toBe('offline');
    expect(clock.pending).toBe(0);
    await clock.advance(600_000);
    expect(streams.opened).toHaveLength(1);
    expect(http.calls).toHaveLength(0);
    network.set(true);
    expect(streams.opened).toHaveLength(2);
    expect(streams.last.lastEventIdParam).toBe(eid(2));
  });

  it('aborts polling when offline, and tries the stream first when back', async () => {
    const t = await polling();
    const call = t.http.last;
    t.network.set(false);
    expect(call.aborted).toBe(true);
    expect(t.clock.pending).toBe(0);
    await t.clock.advance(600_000);
    expect(t.http.calls).toHaveLength(1);
    t.network.set(true);
    expect(t.streams.opened).toHaveLength(2);
    expect(t.http.calls).toHaveLength(1);
  });

  it('ignores online while already connected', () => {
    const { feed, streams, network } = setup();
    feed.start();
    streams.last.open();
    network.set(true);
    expect(streams.opened).toHaveLength(1);
    expect(streams.last.closed).toBe(false);
  });
});
