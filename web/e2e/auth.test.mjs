// Sign-in, sign-out, the new-investigation form, and isolation between users, in a real browser.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Vigil, createInvestigation, cspViolations, launchBrowser, newContext, signedInContext, waitFor,
} from './support.mjs';

let vigil;
let browser;

before(async () => {
  vigil = await Vigil.start({ env: { DEMO_SPEED: '4' } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await vigil?.stop();
});

describe('signing in and out', () => {
  test('a pasted token signs in; sign-out ends the session', async () => {
    const token = vigil.token('carol');
    const context = await newContext(browser, vigil);
    const page = await context.newPage();
    await page.goto('/');
    await page.waitForURL('**/signin');
    await page.getByLabel(/token/i).fill('not-a-token');
    await page.getByRole('button', { name: /sign in/i }).click();
    await page.getByText(/malformed/i).first().waitFor();  // the server's problem detail

    await page.getByLabel(/token/i).fill(token);
    await page.getByRole('button', { name: /sign in/i }).click();
    await page.getByText('carol').first().waitFor();
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'vigil_session');
    assert.ok(session, 'the session cookie is set');
    assert.equal(session.httpOnly, true);
    assert.equal(await page.evaluate(() => document.cookie.includes('vigil_session')), false, 'scripts cannot read it');
    assert.equal(await page.evaluate(() => JSON.stringify(localStorage)).then((s) => s.includes(token.slice(-20))), false,
      'the token is not stored');

    assert.deepEqual(await cspViolations(page), []);
    await page.getByRole('button', { name: /sign out/i }).click();
    await page.waitForURL('**/signin');
    // The old cookie is dead on the server, not only forgotten by the browser.
    const r = await fetch(`${vigil.url}/api/v1/auth/session`, { headers: { Cookie: `vigil_session=${session.value}` } });
    assert.equal(r.status, 401);
    await context.close();
  });

  test('signing in from a link to an investigation lands on it', async () => {
    const alice = vigil.token('alice');
    const id = await createInvestigation(vigil, alice, 'Deep link');
    const context = await newContext(browser, vigil);
    const page = await context.newPage();
    await page.goto(`/investigations/${id}`);
    await page.waitForURL(/\/signin\?next=/);
    await page.getByLabel(/token/i).fill(alice);
    await page.getByRole('button', { name: /sign in/i }).click();
    await page.waitForURL(`**/investigations/${id}`);
    await page.getByText('Deep link').first().waitFor();
    await context.close();

    // Only paths of this site: a `next` that names another site leads home.
    const other = await newContext(browser, vigil);
    const page2 = await other.newPage();
    await page2.goto('/signin?next=//example.com/x');
    await page2.getByLabel(/token/i).fill(alice);
    await page2.getByRole('button', { name: /sign in/i }).click();
    await page2.getByText('Deep link').first().waitFor();  // the list
    assert.equal(page2.url(), `${vigil.url}/`);
    await other.close();
  });

  test('another user cannot open the first user\'s investigation, nor see it listed', async () => {
    const alice = vigil.token('alice');
    const id = await createInvestigation(vigil, alice, 'Alice only');
    const bob = await signedInContext(browser, vigil, vigil.token('bob'));
    const page = await bob.newPage();
    await page.goto(`/investigations/${id}`);
    await page.locator('[data-testid="not-found"]').waitFor();
    assert.equal(await page.getByText('Alice only').count(), 0);
    await page.goto('/');
    await page.getByText(/no investigations/i).first().waitFor();
    assert.equal(await page.getByText('Alice only').count(), 0);

    const aliceContext = await signedInContext(browser, vigil, alice);
    const alicePage = await aliceContext.newPage();
    await alicePage.goto('/');
    await alicePage.getByText('Alice only').first().waitFor();
    await aliceContext.close();
    await bob.close();
  });

  test('the new-investigation form starts a simulated investigation that the page follows', async () => {
    const context = await signedInContext(browser, vigil, vigil.token('dana'));
    const page = await context.newPage();
    await page.goto('/new');
    await page.getByLabel(/^name/i).fill('Card testing: merchant 42');
    await page.getByRole('button', { name: /create|start/i }).first().click();
    await page.waitForURL(/\/investigations\/inv_[0-9a-f]{24}$/);
    const id = page.url().split('/').pop();
    const dana = vigil.token('dana');
    const created = await vigil.api(dana, 'GET', `/api/v1/investigations/${id}`);
    assert.equal(created.status, 200);
    assert.equal(created.body.name, 'Card testing: merchant 42');
    assert.equal(created.body.runner, 'simulated');
    // The simulator drives it; the page follows what the server says.
    await waitFor('progress on the page', async () =>
      Number(await page.getByRole('progressbar').first().getAttribute('aria-valuenow')) > 0, 30_000, 200);
    assert.deepEqual(await cspViolations(page), []);
    await context.close();
  });

  test('a read-only user is told why there is no new-investigation form', async () => {
    const context = await signedInContext(browser, vigil, vigil.token('erin', 'read'));
    const page = await context.newPage();
    await page.goto('/new');
    await page.locator('[data-testid="no-write-role"]').waitFor();
    assert.equal(await page.getByRole('button', { name: /create|start/i }).count(), 0);
    await context.close();
  });
});
