// What every end-to-end test needs: a real vigil (its own SQLite file, port 0, the built UI),
// tokens signed with its secret, a bearer API client, and Debian's Chromium driven by
// playwright-core. Nothing here is mocked: the page talks to the real server.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const WEB_ROOT = resolve(here, '../dist');
export const VIGIL_BIN = resolve(process.env.VIGIL_BIN ?? join(here, '../../build/vigil'));
const SECRET = 'e2e-secret-0123456789abcdef0123456789abcdef';

/** Waits until `probe` returns a truthy value, or fails with `what` after `ms`. */
export async function waitFor(what, probe, ms = 10_000, every = 50) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, every));
  }
}

export class Vigil {
  constructor(proc, dir, port) {
    this.proc = proc;
    this.dir = dir;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Starts `vigil serve` on 127.0.0.1:0 with the built UI; `env` adds or overrides settings. */
  static async start({ env = {}, args = [] } = {}) {
    if (!existsSync(join(WEB_ROOT, 'index.html'))) throw new Error(`no UI build at ${WEB_ROOT}: run npm run build`);
    const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-'));
    const db = join(dir, 'vigil.db');
    const fullEnv = { ...process.env, VIGIL_JWT_SECRET: SECRET, RATE_LIMIT_ENABLED: 'false', ...env };
    const migrate = spawnSync(VIGIL_BIN, ['migrate', '--db', db], { env: fullEnv, encoding: 'utf8' });
    if (migrate.status !== 0) throw new Error(`vigil migrate failed: ${migrate.stderr}`);
    const portFile = join(dir, 'port');
    const proc = spawn(VIGIL_BIN, ['serve', '--listen', '127.0.0.1:0', '--db', db, '--port-file', portFile,
      '--web-root', WEB_ROOT, ...args], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    proc.stdout.on('data', (d) => { log += d; });
    proc.stderr.on('data', (d) => { log += d; });
    const port = await waitFor('vigil to listen', () => {
      if (proc.exitCode !== null) throw new Error(`vigil exited ${proc.exitCode}: ${log}`);
      const text = existsSync(portFile) ? readFileSync(portFile, 'utf8').trim() : '';
      return /^\d+$/.test(text) ? Number(text) : 0;
    }, 20_000);
    const vigil = new Vigil(proc, dir, port);
    vigil.log = () => log;
    return vigil;
  }

  token(user, roles = 'read,dev') {
    const r = spawnSync(VIGIL_BIN, ['token', '--user', user, '--roles', roles],
      { env: { ...process.env, VIGIL_JWT_SECRET: SECRET }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`vigil token failed: ${r.stderr}`);
    return r.stdout.trim();
  }

  /** A JSON API call with a bearer token; returns {status, headers, body}. */
  async api(token, method, path, body) {
    const res = await fetch(this.url + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    return { status: res.status, headers: res.headers, body: json, text };
  }

  /** A gauge or counter of /metrics (summed over labels), read with an admin token. */
  async metric(name) {
    const admin = this.adminToken ??= this.token('ops', 'admin');
    const { text } = await this.api(admin, 'GET', '/metrics');
    let sum = 0;
    for (const line of text.split('\n')) {
      const m = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
      if (m) sum += Number(m[2]);
    }
    return sum;
  }

  async stop() {
    if (this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** An investigation with an outside producer (the test reports its events). */
export async function createInvestigation(vigil, token, name = 'e2e investigation', extra = {}) {
  const r = await vigil.api(token, 'POST', '/api/v1/investigations', {
    name,
    entities: [{ type: 'ip', value: '203.0.113.7' }],
    plan: { phases: [
      { name: 'network_analysis', estimated_duration_ms: 1000,
        tools: [{ tool_name: 'ip_reputation', agent_type: 'network' }, { tool_name: 'vpn_detection', agent_type: 'network' }] },
      { name: 'logs_analysis', estimated_duration_ms: 1000,
        tools: [{ tool_name: 'log_query', agent_type: 'logs' }] },
    ] },
    ...extra,
  });
  if (r.status !== 201) throw new Error(`create: ${r.status} ${r.text}`);
  return r.body.investigation_id;
}

export async function report(vigil, token, id, events) {
  const r = await vigil.api(token, 'POST', `/api/v1/investigations/${id}/events`, { events });
  if (r.status !== 200 && r.status !== 201) throw new Error(`report: ${r.status} ${r.text}`);
  return r.body;
}

export async function transition(vigil, token, id, to) {
  const r = await vigil.api(token, 'POST', `/api/v1/investigations/${id}/transitions`, { to });
  if (r.status !== 200) throw new Error(`transition to ${to}: ${r.status} ${r.text}`);
  return r.body;
}

/** Moves an outside-producer investigation to running. */
export async function startRunning(vigil, token, id) {
  for (const to of ['queued', 'initializing', 'running']) await transition(vigil, token, id, to);
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows'],
  });
}

/**
 * A browser context whose pages record every Content-Security-Policy violation (the UI is served
 * with a strict policy: no inline script or style markup); `cspViolations(page)` reads them.
 */
export async function newContext(browser, vigil) {
  const context = await browser.newContext({ baseURL: vigil.url, viewport: { width: 1280, height: 900 } });
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation',
      (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return context;
}

export const cspViolations = (page) => page.evaluate(() => window.__cspViolations ?? ['no recorder']);

/** A browser context signed in as the holder of `token` (the cookie the sign-in sets). */
export async function signedInContext(browser, vigil, token) {
  const context = await newContext(browser, vigil);
  const r = await context.request.post('/api/v1/auth/session', { headers: { Authorization: `Bearer ${token}` } });
  if (r.status() !== 201) throw new Error(`sign-in: ${r.status()} ${await r.text()}`);
  return context;
}

/** Records every request a page makes to the API (method, path, when). */
export function recordRequests(page) {
  const log = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.pathname.startsWith('/api/')) log.push({ method: req.method(), path: url.pathname + url.search, at: Date.now() });
  });
  return log;
}
