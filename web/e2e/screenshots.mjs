// Screenshots of the main pages against a real vigil in demo mode: `make screenshots` writes them
// to docs/screenshots/, which the README shows.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Vigil, launchBrowser, signedInContext, waitFor } from './support.mjs';

const out = resolve(process.argv[2] ?? 'screenshots');
mkdirSync(out, { recursive: true });
const vigil = await Vigil.start({ args: ['--demo', '--demo-investigations', '4'] });
const browser = await launchBrowser();
try {
  const signin = await (await browser.newContext({ baseURL: vigil.url, viewport: { width: 1280, height: 800 } })).newPage();
  await signin.goto('/signin');
  await signin.screenshot({ path: `${out}/signin.png` });

  const context = await signedInContext(browser, vigil, vigil.token('demo'));
  const page = await context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  // An investigation in the middle of its run, and one that finished.
  const token = vigil.token('demo');
  const running = await waitFor('a running demo investigation past 40%', async () => {
    const items = (await vigil.api(token, 'GET', '/api/v1/investigations?status=running&limit=50')).body.items;
    return items.find((i) => i.completion_percent >= 40 && i.completion_percent <= 80);
  }, 60_000, 250);
  await page.goto(`/investigations/${running.investigation_id}`);
  await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `${out}/investigation.png`, fullPage: true });

  const done = await waitFor('a completed demo investigation', async () => {
    const items = (await vigil.api(token, 'GET', '/api/v1/investigations?status=completed&limit=1')).body.items;
    return items[0];
  }, 90_000, 500);
  await page.goto(`/investigations/${done.investigation_id}`);
  await page.locator('[data-testid="connection"][data-state="ended"]').waitFor();
  await page.screenshot({ path: `${out}/investigation-completed.png`, fullPage: true });

  // The list, once the demo has a few investigations at different stages.
  await page.goto('/');
  await page.locator('tr[data-live="yes"]').nth(2).waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1500);  // let the live rows fill in
  await page.screenshot({ path: `${out}/investigations.png` });

  await page.goto('/new');
  await page.screenshot({ path: `${out}/new-investigation.png` });
  console.log(`screenshots in ${out}`);
} finally {
  await browser.close();
  await vigil.stop();
}
