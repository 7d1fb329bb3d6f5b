/**
 * The dashboard in a real browser (Debian's chromium, headless, driven by playwright-core).
 *
 * First against a fake peer (test/web/fake-peer.ts) whose answers the test controls: the key
 * form, the graph, a peer's panel, a chat turn's tokens and their tooltips, the session
 * token carried to the next turn, the chaos buttons. Then against a real local swarm started
 * with `nines start --peers 3`: load the page from the address it prints, see three peers up,
 * chat a turn, kill a peer from the page and watch the graph and the availability change.
 *
 * Needs `npm run build` (the server in dist/ and the dashboard in dist/web). Skipped, with
 * the reason in its name, only where /usr/bin/chromium is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakePeer, fakeAnswer, fakeIds, fakeKey } from './fake-peer.js';

const chromiumPath = '/usr/bin/chromium';
// In CI (CI=true, set by .ci/run, which installs chromium) a missing browser fails the tests rather than skipping them.
const chromiumPresent = existsSync(chromiumPath) || process.env.CI === 'true';
const dashboardDirectory = resolve('dist/web');
const screenshots = resolve('test-results/screenshots');
const suffix = chromiumPresent ? '' : ` (skipped: ${chromiumPath} is missing; install it with apt-get install -y chromium)`;

/** The page polls every 2 s: a change shows within one or two polls. */
const polled = { timeout: 10_000, interval: 100 };

let browser: Browser | undefined;

beforeAll(async () => {
  if (!chromiumPresent) {
    console.warn(`the dashboard's browser tests are skipped: ${chromiumPath} is missing (apt-get install -y chromium)`);
    return;
  }
  if (!existsSync(join(dashboardDirectory, 'index.html'))) throw new Error(`${dashboardDirectory}/index.html is missing: run npm run build (or npx vite build --config web/vite.config.ts) before these tests`);
  mkdirSync(screenshots, { recursive: true });
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'], headless: true });
}, 30_000);

afterAll(async () => {
  await browser?.close();
});

async function newPage(): Promise<Page> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`the dashboard threw: ${error.message}`));
  return page;
}

describe.skipIf(!chromiumPresent)(`the dashboard against a fake peer${suffix}`, () => {
  let fake: FakePeer;
  let page: Page;

  beforeAll(async () => {
    fake = await FakePeer.start(dashboardDirectory);
    page = await newPage();
  });

  afterAll(async () => {
    await page?.context().close();
    await fake?.close();
  });

  it('asks for the API key on a 401, then shows the swarm: three peers up, the leader ringed, every pair linked', async () => {
    await page.goto(`${fake.url}/`);
    await page.getByTestId('key-form').waitFor({ state: 'visible' });
    await page.getByTestId('key-input').fill(fakeKey);
    await page.getByTestId('key-submit').click();
    await page.getByTestId('key-form').waitFor({ state: 'hidden' });
    await expect.poll(() => page.locator('[data-testid="peer-node"][data-state="up"]').count(), polled).toBe(3);
    expect(await page.locator('[data-testid="peer-node"][data-leader]').getAttribute('data-node-id')).toBe(fakeIds[0]);
    expect(await page.locator('[data-testid="peer-edge"].mutual').count()).toBe(3);
    expect(await page.getByTestId('swarm-summary').textContent()).toMatch(/3 peers, 3 up · leader 1a1a1a1a · single-leader replication/);
  });

  it('takes the key from the URL fragment and removes it from the address bar', async () => {
    const other = await newPage();
    await other.goto(`${fake.url}/#key=${fakeKey}`);
    await expect.poll(() => other.getByTestId('peer-node').count(), polled).toBe(3);
    expect(new URL(other.url()).hash).toBe('');
    expect(await other.getByTestId('key-form').isVisible()).toBe(false);
    await other.context().close();
  });

  it('opens a peer: its routing table, its Raft status and its gateway\'s circuit breakers', async () => {
    await page.locator(`[data-testid="peer-node"][data-node-id="${fakeIds[1]}"]`).click();
    await expect.poll(() => page.getByTestId('routing-table').locator('tbody tr').count(), polled).toBe(2);
    const replication = await page.getByTestId('replication-status').textContent();
    expect(replication).toContain('follower');
    expect(replication).toContain('mode: single-leader');
    expect(await page.getByTestId('compute-peers').textContent()).toContain('closed');
  });

  it('chats: the tokens alternate in colour, a hover shows the candidates and the peer, the session goes with the next turn', async () => {
    await expect.poll(() => page.getByTestId('model-select').inputValue(), polled).toBe('nines-kjv');
    await page.getByTestId('chat-input').fill('In the beginning');
    await page.getByTestId('chat-send').click();
    const tokens = page.getByTestId('token');
    await expect.poll(() => tokens.count(), polled).toBe(fakeAnswer.length);
    expect(await page.getByTestId('chat-answer').first().textContent()).toBe('In the beginning');
    const classes = await tokens.evaluateAll((spans) => spans.map((span) => span.className));
    expect(classes).toEqual(['token token-a', 'token token-b', 'token token-a', 'token token-b']);
    await tokens.nth(2).hover();
    const tooltip = page.getByTestId('token-tooltip');
    await tooltip.waitFor({ state: 'visible' });
    expect(await tooltip.getByTestId('candidate').count()).toBe(3);
    const text = await tooltip.textContent();
    expect(text).toContain('sampled " begin" (id 1801) with probability 40.0%');
    expect(text).toContain('" beginning"50.0%');
    expect(text).toContain(`computed by peer ${fakeIds[1].slice(0, 8)}`);
    await page.screenshot({ path: join(screenshots, 'fake-chat-tooltip.png'), fullPage: true });
    expect(await page.getByTestId('chat-status').textContent()).toBe('finished: max tokens reached · computed by peer 5c5c5c5c');

    await page.getByTestId('chat-input').fill('and the earth');
    await page.getByTestId('chat-send').click();
    await expect.poll(() => tokens.count(), polled).toBe(2 * fakeAnswer.length);
    await expect.poll(() => page.getByTestId('chat-status').textContent(), polled).toBe('finished: max tokens reached · computed by peers 5c5c5c5c → e7e7e7e7: the gateway failed over mid-answer');
    const [first, second] = fake.chats;
    expect(first.body).toMatchObject({ model: 'nines-kjv', stream: true, trace: true, trace_top_k: 5, messages: [{ role: 'user', content: 'In the beginning' }] });
    expect(first.session).toBeUndefined();
    expect(second.body.conversation_id).toBe(first.body.conversation_id);
    expect(second.body.messages).toEqual([{ role: 'user', content: 'and the earth' }]);
    expect(second.session).toBe('17');
  });

  it('kills a peer from its button: the graph shows it down and the nines fall', async () => {
    expect(await page.getByTestId('cluster-availability').textContent()).toBe('100%');
    expect(await page.getByTestId('plot-requests').locator('canvas').count()).toBe(1);
    const victim = fakeIds[2];
    await page.locator(`[data-testid="kill-button"][data-node-id="${victim}"]`).click();
    await expect.poll(() => page.locator(`[data-testid="peer-node"][data-node-id="${victim}"]`).getAttribute('data-state'), polled).toBe('down');
    expect(fake.kills).toEqual([victim]);
    await expect.poll(() => page.getByTestId('cluster-availability').textContent(), polled).toBe('99.80%');
    expect(await page.getByTestId('cluster-nines').textContent()).toBe('nines: 2.7');
    expect(await page.getByTestId('error-budget').textContent()).toBe('-900.0%');
    expect(await page.locator('[data-testid="peer-edge"].mutual').count()).toBe(1);
    expect(await page.getByTestId('chaos-status').textContent()).toMatch(/was killed/);
    await page.screenshot({ path: join(screenshots, 'fake-after-kill.png'), fullPage: true });
  });

  it('restarts the peer from its button: it comes back up', async () => {
    const victim = fakeIds[2];
    const restart = page.locator(`[data-testid="restart-button"][data-node-id="${victim}"]`);
    expect(await restart.isEnabled()).toBe(true);
    await restart.click();
    await expect.poll(() => page.locator(`[data-testid="peer-node"][data-node-id="${victim}"]`).getAttribute('data-state'), polled).toBe('up');
    expect(fake.restarts).toEqual([victim]);
    expect(await page.locator('[data-testid="peer-edge"].mutual').count()).toBe(3);
  });

  it('hides the chaos buttons when the swarm is not a local one', async () => {
    fake.localSwarm = false;
    await expect.poll(() => page.getByTestId('kill-button').count(), polled).toBe(0);
    expect(await page.getByTestId('restart-button').count()).toBe(0);
    fake.localSwarm = true;
  });
});

describe.skipIf(!chromiumPresent)(`the dashboard against a real local swarm (nines start --peers 3)${suffix}`, () => {
  const cli = resolve('dist/cli/main.js');
  let swarm: ChildProcess | undefined;
  let output = '';
  let dashboard = '';
  let root = '';
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build before these tests`);
    root = mkdtempSync(join(tmpdir(), 'nines-dashboard-swarm-'));
    swarm = spawn(process.execPath, [cli, 'start', '--peers', '3', '--dir', root], { stdio: ['ignore', 'pipe', 'pipe'] });
    swarm.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    swarm.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 75_000;
    while (!output.includes('Ctrl-C stops every peer')) {
      if (Date.now() > deadline || swarm.exitCode !== null) throw new Error(`nines start did not come up:\n${output}`);
      await new Promise((done) => setTimeout(done, 100));
    }
    const line = /^dashboard: (http:\/\/\S+)$/m.exec(output);
    if (line === null) throw new Error(`nines start printed no 'dashboard: http://...' line:\n${output}`);
    dashboard = line[1];
    const served = await fetch(new URL('/', dashboard));
    if (served.status !== 200) throw new Error(`the peer at ${dashboard} answers ${served.status} at /, not the dashboard: src/api/server.ts must call mountDashboard(app) (src/api/dashboard.ts), and npm run build must build it. It said: ${(await served.text()).slice(0, 200)}`);
    page = await newPage();
  }, 90_000);

  afterAll(async () => {
    await page?.context().close();
    if (swarm !== undefined && swarm.exitCode === null && swarm.signalCode === null) {
      const exited = new Promise((done) => swarm!.once('exit', done));
      swarm.kill('SIGINT');
      const timer = setTimeout(() => swarm!.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (root !== '') rmSync(root, { recursive: true, force: true });
  }, 30_000);

  it('loads from the printed address and shows three peers up, with a leader', async () => {
    expect(dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#key=nines-/);
    await page.goto(dashboard);
    await expect.poll(() => page.locator('[data-testid="peer-node"][data-state="up"]').count(), { timeout: 30_000 }).toBe(3);
    await expect.poll(() => page.locator('[data-testid="peer-node"][data-leader]').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.getByTestId('key-form').isVisible()).toBe(false);
  }, 60_000);

  it('chats one turn: coloured tokens, and a hover shows the candidates and the peer that computed them', async () => {
    await expect.poll(() => page.getByTestId('model-select').inputValue(), { timeout: 10_000 }).not.toBe('');
    await page.locator('input[aria-label="max tokens"]').fill('12');
    await page.getByTestId('chat-input').fill('Who made the light?');
    await page.getByTestId('chat-send').click();
    await page.locator('[data-testid="chat-answer"][data-done="true"]').waitFor({ timeout: 30_000 });
    const tokens = page.getByTestId('token');
    expect(await tokens.count()).toBeGreaterThan(1);
    const classes = await tokens.evaluateAll((spans) => spans.map((span) => span.className));
    classes.forEach((name, index) => expect(name).toBe(`token token-${index % 2 === 0 ? 'a' : 'b'}`));
    await tokens.first().hover();
    const tooltip = page.getByTestId('token-tooltip');
    await tooltip.waitFor({ state: 'visible' });
    expect(await tooltip.getByTestId('candidate').count()).toBeGreaterThan(0);
    expect(await tooltip.textContent()).toMatch(/sampled ".*" \(id \d+\) with probability \d+\.\d%/);
    expect(await tooltip.getByTestId('token-peer').textContent()).toMatch(/computed by peer [0-9a-f]{8}/);
    await page.screenshot({ path: join(screenshots, 'swarm-chat.png'), fullPage: true });
  }, 60_000);

  it('kills a peer from its button: the graph shows it down and its availability falls', async () => {
    const self = await page.locator('[data-testid="peer-node"].self').getAttribute('data-node-id');
    const ids = await page.getByTestId('peer-node').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-node-id')!));
    // Not the peer that serves this page, which would take the dashboard down with it.
    const victim = ids.find((id) => id !== self)!;
    const row = page.locator(`[data-testid="availability-peer-row"][data-node-id="${victim}"]`);
    await expect.poll(() => row.locator('[data-field="availability"]').textContent(), { timeout: 15_000 }).toBe('100%');
    await page.screenshot({ path: join(screenshots, 'swarm-before-kill.png'), fullPage: true });
    await row.getByTestId('kill-button').click();
    await expect.poll(() => page.getByTestId('chaos-status').textContent(), { timeout: 10_000 }).toMatch(/was killed/);
    await expect.poll(() => page.locator(`[data-testid="peer-node"][data-node-id="${victim}"]`).getAttribute('data-state'), { timeout: 20_000 }).toBe('down');
    await expect.poll(() => row.locator('[data-field="availability"]').textContent(), { timeout: 20_000 }).not.toBe('100%');
    expect(await row.locator('[data-field="nines"]').textContent()).not.toBe('no downtime');
    await page.screenshot({ path: join(screenshots, 'swarm-after-kill.png'), fullPage: true });
  }, 60_000);
});
