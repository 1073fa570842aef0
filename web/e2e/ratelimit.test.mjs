// The UI's default behaviour never trips vigil's default rate limits: a user with the list and an
// investigation open, in several tabs, with the stream working and with it blocked (polling),
// gets no 429, and the requests each budget sees, projected over a minute, stay inside it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Vigil, createInvestigation, launchBrowser, report, signedInContext, startRunning, waitFor } from './support.mjs';

const BUDGETS = { default: 60, read: 600, report: 1200, stream: 30, auth: 10 };  // docs/api.md §1.8
const OBSERVE_MS = 20_000;

let vigil;
let browser;

before(async () => {
  // Default limits (RATE_LIMIT_ENABLED is on unless set); demo investigations keep changing.
  vigil = await Vigil.start({ env: { RATE_LIMIT_ENABLED: 'true' }, args: ['--demo', '--demo-investigations', '3'] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await vigil?.stop();
});

function budgetOf(method, path) {
  if (/^\/api\/v1\/(healthz|readyz|rate-limit)/.test(path)) return null;
  if (/^\/api\/v1\/auth\/(session|login)/.test(path) && method !== 'GET') return 'auth';
  if (/\/stream(\?|$)/.test(path) || /^\/api\/v1\/ws/.test(path)) return 'stream';
  if (/^\/api\/v1\/investigations\/[^/]+(\/(progress|events|tools))?(\?|$)/.test(path) && method === 'GET') return 'read';
  if (/^\/api\/v1\/investigations\/[^/]+\/(events|transitions|start|pause|resume|cancel|retry)$/.test(path)) return 'report';
  return path.startsWith('/api/') ? 'default' : null;
}

test('the UI stays inside the default rate limits, streaming and polling, in three tabs', async (t) => {
  const token = vigil.token('demo');
  // The followed investigation is one the test keeps running and changing, as an agent would: a
  // demo run can fail or finish inside the window, and an ended investigation is never polled.
  const id = await createInvestigation(vigil, token, 'followed in three tabs');
  await startRunning(vigil, token, id);
  let producing = true;
  const producer = (async () => {
    for (let i = 1; producing; i++) {
      await report(vigil, token, id, [{ event_type: 'risk_updated', data: { overall: (i % 100) / 100 } }]);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  producer.catch(() => {});  // its failure is reported where it is awaited, not as unhandled
  t.after(() => { producing = false; });  // however the test ends, the producer stops
  const context = await signedInContext(browser, vigil, token);
  const seen = [];
  context.on('response', (res) => {
    const url = new URL(res.url());
    seen.push({ method: res.request().method(), path: url.pathname + url.search, status: res.status(), at: Date.now() });
  });
  // Sockets are requests too: opening one spends the stream budget, each subscribe a read.
  const sockets = { opened: 0, subscribes: [] };
  context.on('page', (page) => page.on('websocket', (ws) => {
    sockets.opened += 1;
    ws.on('framesent', (f) => {
      if (typeof f.payload === 'string' && f.payload.includes('"subscribe"')) sockets.subscribes.push(Date.now());
    });
  }));
  const list = await context.newPage();
  await list.goto('/');
  const href = `/investigations/${id}`;
  await list.locator(`a[href="${href}"]`).waitFor();
  const tabs = [await context.newPage(), await context.newPage()];
  for (const tab of tabs) await tab.goto(href);
  const start = Date.now();
  const socketsAtStart = sockets.opened;
  await list.waitForTimeout(OBSERVE_MS / 2);

  // Now with the stream blocked: the leader polls.
  await context.route('**/runs/current/stream**', (route) => route.abort());
  await list.reload();
  for (const tab of tabs) await tab.reload();
  await waitFor('a tab polling', async () => {
    for (const tab of tabs) {
      if (await tab.locator('[data-testid="connection"]').getAttribute('data-state') === 'polling') return true;
    }
    return false;
  }, 10_000);
  await list.waitForTimeout(OBSERVE_MS / 2);
  const elapsed = Date.now() - start;
  producing = false;
  await producer;

  assert.deepEqual(seen.filter((r) => r.status === 429), [], 'no request was refused');
  const counts = {};
  for (const r of seen.filter((x) => x.at >= start)) {
    const b = budgetOf(r.method, r.path);
    if (b && r.status !== 304 && r.status !== 101) counts[b] = (counts[b] ?? 0) + 1;  // a 304 costs nothing
  }
  counts.stream = (counts.stream ?? 0) + (sockets.opened - socketsAtStart);
  counts.read = (counts.read ?? 0) + sockets.subscribes.filter((t) => t >= start).length;
  for (const [budget, n] of Object.entries(counts)) {
    const perMinute = (n * 60_000) / elapsed;
    console.log(`# ${budget}: ${n} requests in ${elapsed} ms, ${perMinute.toFixed(0)}/min of ${BUDGETS[budget]}`);
    assert.ok(perMinute < BUDGETS[budget] / 2, `${budget} budget: ${perMinute.toFixed(0)}/min is more than half of ${BUDGETS[budget]}`);
  }
  const status = (await vigil.api(token, 'GET', '/api/v1/rate-limit/status')).body;
  for (const [name, b] of Object.entries(status.budgets)) assert.ok(b.remaining > 0, `${name} budget has requests left`);
  await context.close();
});

test('going back and forth between the list and an investigation reuses the open stream and socket', async () => {
  const token = vigil.token('demo');
  const context = await signedInContext(browser, vigil, token);
  const page = await context.newPage();
  let streams = 0;
  let sockets = 0;
  page.on('request', (r) => { if (/\/runs\/current\/stream/.test(r.url())) streams += 1; });
  page.on('websocket', () => { sockets += 1; });
  await page.goto('/');
  const first = page.locator('tr[data-live="yes"] a[href^="/investigations/inv_"]').first();
  await first.waitFor();
  const href = await first.getAttribute('href');
  for (let i = 0; i < 5; i++) {
    await page.locator(`a[href="${href}"]`).click();
    await page.locator('[data-testid="investigation"]').waitFor();
    await page.goBack();
    await page.locator(`a[href="${href}"]`).waitFor();
  }
  assert.equal(sockets, 1, 'one WebSocket for the list, kept across visits');
  assert.equal(streams, 1, 'one stream for the investigation, kept across visits');
  await context.close();
});
