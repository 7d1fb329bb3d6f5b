/**
 * Writing a chaos report to its directory: report.json, report.html (with uPlot's script and
 * stylesheet read from node_modules and inlined, so the page needs no network) and the peers'
 * logs under logs/.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ChaosReport } from './report.js';
import { reportHtml, type UplotAssets } from './report-html.js';

/** uPlot's browser build and stylesheet, from the installed package. */
export function readUplotAssets(): UplotAssets {
  const require = createRequire(import.meta.url);
  return {
    script: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
}

export interface WrittenReport {
  json: string;
  html: string;
  logs: string[];
}

export function writeReport(directory: string, report: ChaosReport, logs: readonly { name: string; path: string }[]): WrittenReport {
  mkdirSync(directory, { recursive: true });
  const json = join(directory, 'report.json');
  const html = join(directory, 'report.html');
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(html, reportHtml(report, readUplotAssets()));
  const kept: string[] = [];
  if (logs.length > 0) mkdirSync(join(directory, 'logs'), { recursive: true });
  for (const log of logs) {
    if (!existsSync(log.path)) continue;
    const destination = join(directory, 'logs', log.name);
    copyFileSync(log.path, destination);
    kept.push(destination);
  }
  return { json, html, logs: kept };
}
