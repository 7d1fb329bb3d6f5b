/**
 * report.html in a real browser (playwright-core driving Debian's chromium, headless): the page
 * draws its three plots with the inlined uPlot, throws no error, and asks the network for nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { buildChaosReport, readUplotAssets, reportHtml } from '../../src/chaos/index.js';
import { input } from './report-fixture.js';

const directory = mkdtempSync(join(tmpdir(), 'nines-chaos-html-'));

afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('report.html in chromium', () => {
  it('draws the peer timeline, the requests and the latency plots offline, without errors', async () => {
    const path = join(directory, 'report.html');
    writeFileSync(path, reportHtml(buildChaosReport(input()), readUplotAssets()));
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(String(error)));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('request', (request) => {
        if (!request.url().startsWith('file:')) problems.push(`network request ${request.url()}`);
      });
      await page.goto(`file://${path}`);
      await page.waitForSelector('#plot-latency canvas');
      expect(problems).toEqual([]);
      expect(await page.locator('.uplot').count()).toBe(3);
      expect(await page.locator('.uplot .u-title').allTextContents()).toEqual([
        'Peers: each line is high while the peer is up, low while it is down; a dot marks a new storage leader',
        'Requests per second',
        'Chat latency (ms)',
      ]);
      expect(await page.locator('td.met').count()).toBe(3);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
