// lib/live/tabs.ts sharing one connection among tabs, each tab with the real view model: the test
// needs both, and lives on the view model's side because the transport never imports it.
import { describe, expect, it } from 'vitest';
import type { Following } from '../../../lib/live/tabs';
import { followInvestigation } from '../../../lib/live/tabs';
import { InvestigationModel } from './model';
import {
  eid, errorReply, FakeBrowser, FakeChannelHub, FakeLocks, flush, makeEvent, makeEvents, makeProgress,
} from '../../../testing/fakes';

interface Tab { n: number; model: InvestigationModel; following: Following }

/** One browser: tabs share its network (FakeBrowser), its locks and its channels. */
function browser(opts: { locks?: boolean } = {}) {
  const b = new FakeBrowser();
  const locks = opts.locks === false ? null : new FakeLocks();
  const hub = new FakeChannelHub();
  const tabs: Tab[] = [];
  /** Who opened each stream, from which id, and what that tab's model had then. */
  const opens: { tab: number; from: string | null; modelHad: string | null }[] = [];

  const open = (): Tab => {
    const n = tabs.length;
    const model = new InvestigationModel((fn) => fn());
    const feed = {
      ...b.deps,
      openStream: (url: string) => {
        const s = b.streams.open(url);
        opens.push({ tab: n, from: s.lastEventIdParam, modelHad: model.lastEventId });
        return s;
      },
    };
    const following = followInvestigation('inv_1', model, { feed, locks, channel: hub.channel });
    const tab = { n, model, following };
    tabs.push(tab);
    return tab;
  };

  return { b, locks, hub, tabs, opens, open };
}

const ids = (t: Tab) => t.model.current.events.map((e) => e.event_id);
const range = (from: number, to: number) => makeEvents(from, to).map((e) => e.event_id);
const roles = (tabs: Tab[]) => tabs.map((t) => t.model.current.role);

/** The leader's stream delivers three events, then the run fails and the stream ends. */
async function failRun(stream: ReturnType<FakeBrowser['streams']['open']>) {
  stream.open();
  stream.send(...makeEvents(1, 3));
  stream.frame('progress', makeProgress({ version: 5, state: 'failed' }));
  stream.frame('end', { reason: 'failed', status: 'failed', last_event_id: eid(3) });
  await flush();
}

async function threeTabs() {
  const w = browser();
  w.open(); w.open(); w.open();
  await flush();
  return w;
}

describe('followInvestigation: one connection per browser', () => {
  it('opens exactly one stream for three tabs', async () => {
    const w = await threeTabs();
    expect(w.b.streams.opened).toHaveLength(1);
    expect(w.opens.map((o) => o.tab)).toEqual([0]);
    expect(roles(w.tabs)).toEqual(['leader', 'follower', 'follower']);
    expect(w.tabs[1].model.current.connection).toBe('following');
    expect(w.b.http.calls).toHaveLength(0);
  });

  it("hands the leader's snapshot and events to every follower", async () => {
    const w = await threeTabs();
    const s = w.b.streams.last;
    s.open();
    s.frame('progress', makeProgress({ version: 4 }));
    s.send(...makeEvents(1, 3));
    await flush();
    for (const t of w.tabs) {
      expect(ids(t)).toEqual(range(1, 3));
      expect(t.model.current.progress?.version).toBe(4);
      expect(t.model.exportState()).toEqual(w.tabs[0].model.exportState());
    }
    expect(w.tabs[0].model.current.connection).toBe('live');
    expect(w.tabs[2].model.current.connection).toBe('following');
  });

  it('gives a tab that opens later the state so far, then the new events', async () => {
    const w = browser();
    const leader = w.open();
    await flush();
    const s = w.b.streams.last;
    s.open();
    s.frame('progress', makeProgress({ version: 2 }));
    s.send(...makeEvents(1, 5));
    const late = w.open();
    expect(late.model.current.events).toEqual([]);
    await flush();
    expect(late.model.exportState()).toEqual(leader.model.exportState());
    s.send(...makeEvents(6, 7));
    await flush();
    expect(ids(late)).toEqual(range(1, 7));
    expect(late.model.current.eventCount).toBe(7);
    expect(late.model.exportState()).toEqual(leader.model.exportState());
    expect(w.b.streams.opened).toHaveLength(1);
  });

  it('hands over to exactly one tab when the leader closes, resuming from its last id', async () => {
    const w = await threeTabs();
    const first = w.b.streams.last;
    first.open();
    first.send(...makeEvents(1, 3));
    await flush();
    w.tabs[0].following.close();
    await flush();
    expect(first.closed).toBe(true);
    expect(w.b.streams.opened).toHaveLength(2);
    expect(w.opens.map((o) => o.tab)).toEqual([0, 1]);
    expect(roles(w.tabs.slice(1))).toEqual(['leader', 'follower']);
    const second = w.b.streams.last;
    expect(second.lastEventIdParam).toBe(eid(3));
    second.open();
    second.send(...makeEvents(2, 6));   // a replay that overlaps
    await flush();
    for (const t of w.tabs.slice(1)) {
      expect(ids(t)).toEqual(range(1, 6));
      expect(t.model.current.eventCount).toBe(6);
    }
    expect(w.tabs[2].model.exportState()).toEqual(w.tabs[1].model.exportState());
  });

  it('loses nothing when the leader closes right after receiving events', async () => {
    const w = await threeTabs();
    const first = w.b.streams.last;
    first.open();
    first.send(...makeEvents(1, 3));
    await flush();
    first.send(makeEvent(4));
    w.tabs[0].following.close();       // e4 is still on its way to the others
    await flush();
    const taken = w.opens[1];
    expect(taken.tab).toBe(1);
    expect(taken.from).toBe(taken.modelHad);
    const second = w.b.streams.last;
    second.open();
    second.send(...makeEvents(Number(taken.from!.slice(-6)) + 1, 6));
    await flush();
    for (const t of w.tabs.slice(1)) expect(ids(t)).toEqual(range(1, 6));
  });

  it('loses and repeats nothing when the new leader takes over before the last events reach it', async () => {
    const w = await threeTabs();
    const first = w.b.streams.last;
    first.open();
    first.send(...makeEvents(1, 3));
    await flush();
    w.hub.pause();
    first.send(makeEvent(4));          // held back on its way to the others
    w.tabs[0].following.close();
    await flush();
    expect(w.opens[1]).toEqual({ tab: 1, from: eid(3), modelHad: eid(3) });
    const second = w.b.streams.last;
    second.open();
    second.send(...makeEvents(4, 6));  // the new leader's stream has e4 as well
    w.hub.resume();                    // now the old leader's e4 arrives, then the new one's
    await flush();
    for (const t of w.tabs.slice(1)) {
      expect(ids(t)).toEqual(range(1, 6));
      expect(t.model.current.eventCount).toBe(6);
    }
  });

  it('goes down the line: when the new leader closes too, the last tab leads', async () => {
    const w = await threeTabs();
    w.b.streams.last.open();
    w.b.streams.last.send(...makeEvents(1, 2));
    await flush();
    w.tabs[0].following.close();
    await flush();
    w.b.streams.last.open();
    w.b.streams.last.send(...makeEvents(3, 4));
    await flush();
    w.tabs[1].following.close();
    await flush();
    expect(w.opens.map((o) => [o.tab, o.from])).toEqual([[0, '0_000000'], [1, eid(2)], [2, eid(4)]]);
    expect(w.b.streams.openCount).toBe(1);
    expect(w.tabs[2].model.current.role).toBe('leader');
  });

  it('never makes a closed follower the leader', async () => {
    const w = await threeTabs();
    w.tabs[1].following.close();
    await flush();
    expect(w.locks!.waiting('vigil:investigation:inv_1')).toBe(1);
    w.tabs[0].following.close();
    await flush();
    expect(w.opens.map((o) => o.tab)).toEqual([0, 2]);
    expect(w.tabs[1].model.current.role).toBe('follower');
  });

  it('opens nothing when the new leader takes over an investigation that is over', async () => {
    const w = await threeTabs();
    const s = w.b.streams.last;
    s.open();
    s.send(...makeEvents(1, 2));
    s.frame('progress', makeProgress({ version: 9, state: 'completed' }));
    s.frame('end', { reason: 'completed', status: 'completed', last_event_id: eid(2) });
    await flush();
    expect(w.tabs.map((t) => t.model.current.connection)).toEqual(['ended', 'ended', 'ended']);
    w.tabs[0].following.close();
    await flush();
    expect(w.tabs[1].model.current.role).toBe('leader');
    expect(w.b.streams.opened).toHaveLength(1);
    expect(w.b.http.calls).toHaveLength(0);
    expect(w.b.clock.pending).toBe(0);
    await w.b.clock.advance(3600_000);
    expect(w.b.requests).toBe(1);
    // A tab that opens now hears that it is over, not that it follows a live tab.
    const late = w.open();
    await flush();
    expect(late.model.current.connection).toBe('ended');
    expect(late.model.current.events).toHaveLength(2);
  });

  it('keeps a restart asked while no tab leads, and does it on taking over', async () => {
    const w = await threeTabs();
    await failRun(w.b.streams.last);
    w.hub.pause();                 // the leader never hears the request...
    w.tabs[1].following.restart();
    w.tabs[0].following.close();   // ...because it closes
    w.hub.resume();
    await flush();
    expect(w.tabs[1].model.current.role).toBe('leader');
    expect(w.opens.map((o) => [o.tab, o.from])).toEqual([[0, '0_000000'], [1, eid(3)]]);
  });

  it('restarts the leader when a follower asks', async () => {
    const w = await threeTabs();
    await failRun(w.b.streams.last);
    w.tabs[2].following.restart();
    await flush();
    expect(w.opens.map((o) => [o.tab, o.from])).toEqual([[0, '0_000000'], [0, eid(3)]]);
    expect(w.tabs[0].model.current.connection).toBe('connecting');
    expect(w.tabs[2].model.current.connection).toBe('following');
    const second = w.b.streams.last;
    second.open();
    second.send(...makeEvents(3, 5));
    await flush();
    for (const t of w.tabs) expect(ids(t)).toEqual(range(1, 5));
  });

  it('restarts a running feed in the leader itself', async () => {
    const w = await threeTabs();
    const first = w.b.streams.last;
    first.open();
    w.tabs[0].following.restart();
    expect(first.closed).toBe(true);
    expect(w.b.streams.opened).toHaveLength(2);
    expect(w.b.streams.openCount).toBe(1);
  });

  it('tells the followers when the investigation is not found', async () => {
    const w = await threeTabs();
    w.b.http.fallback = () => errorReply(404);
    w.b.streams.last.fail();
    await flush();
    expect(w.tabs.map((t) => t.model.current.notFound)).toEqual([true, true, true]);
    expect(w.b.clock.pending).toBe(0);
  });

  it('tells a tab that opens after the leader stopped why it stopped', async () => {
    const w = await threeTabs();
    w.b.http.fallback = () => errorReply(404);
    w.b.streams.last.fail();
    await flush();
    const late = w.open();
    await flush();
    expect(late.model.current.notFound).toBe(true);
    expect(late.model.current.connection).toBe('ended');
    expect(w.b.streams.opened).toHaveLength(1);
  });

  it('connects every tab by itself without Web Locks', async () => {
    const w = browser({ locks: false });
    w.open(); w.open();
    await flush();
    expect(w.opens.map((o) => o.tab)).toEqual([0, 1]);
    expect(roles(w.tabs)).toEqual(['leader', 'leader']);
  });

  it('stops everything when the only tab closes', async () => {
    const w = browser();
    const t = w.open();
    await flush();
    w.b.streams.last.open();
    t.following.close();
    await flush();
    expect(w.b.streams.openCount).toBe(0);
    expect(w.b.clock.pending).toBe(0);
    expect(w.locks!.isHeld('vigil:investigation:inv_1')).toBe(false);
  });
});
