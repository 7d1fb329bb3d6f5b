/**
 * Model distribution with real `nines node` processes: two compute peers hold a model file
 * the test writes; a third, started with `--fetch-model <name>` and no model, fetches it from
 * them in verified chunks, then serves completions with it — still after both seeders are
 * killed — and seeds it in turn: a fourth peer fetches it from the third alone.
 * Run `npm run build` first (the processes run dist/).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRandomModel } from '../../../bench/random-model.js';
import { loadModelHeader } from '../../../src/model/load-file.js';
import { modelPaths } from '../../../src/service/model-distribution/index.js';
import { freePorts } from '../../node/free-ports.js';
import { checkBuilt, mainScript, startNodeProcess, stopAll, type NodeProcess } from '../../node/swarm.js';

const name = 'fetch-test';
const directory = mkdtempSync(join(tmpdir(), 'nines-model-fetch-'));
const modelPath = join(directory, `${name}.gguf`);
const clusterDir = join(directory, 'cluster');

function cli(args: string[]): string {
  return execFileSync(process.execPath, [mainScript, ...args], { encoding: 'utf8' });
}

/** Issues a peer identity in `dataDir` and returns its node ID (needed up front for --voters). */
function issue(dataDir: string): string {
  return /node ([0-9a-f]{40})/.exec(cli(['cluster', 'issue', '--cluster-dir', clusterDir, '--data-dir', dataDir]))![1];
}

async function complete(apiPort: number): Promise<{ status: number; text: string; peers: Set<string> }> {
  const response = await fetch(`http://127.0.0.1:${apiPort}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: name, prompt: 'And God said', max_tokens: 8, temperature: 0, trace: true }),
  }).catch(() => undefined);
  if (response === undefined) return { status: 0, text: '', peers: new Set() };
  const body = (await response.json()) as { choices?: Array<{ text: string }>; nines_trace?: Array<{ peer?: string }> };
  return { status: response.status, text: body.choices?.[0]?.text ?? '', peers: new Set((body.nines_trace ?? []).flatMap((entry) => (entry.peer === undefined ? [] : [entry.peer]))) };
}

const logMessages = (node: NodeProcess) => node.logs.map((line) => line.msg);

beforeAll(() => {
  checkBuilt();
  const base = loadModelHeader();
  writeRandomModel(modelPath, {
    config: { architecture: 'llama', vocabSize: base.tokenizer.vocabSize, dim: 128, hiddenDim: 256, layerCount: 2, headCount: 4, kvHeadCount: 4, contextLength: 256, ropeFreqBase: 10000, normEpsilon: 1e-5, tiedEmbeddings: false },
    tokenizer: base.tokenizer, matrixType: 'F32', seed: 7, name, nextTokenMap: true,
  });
  cli(['cluster', 'init', '--dir', clusterDir, '--open']);
}, 60_000);

afterAll(async () => {
  await stopAll();
  rmSync(directory, { recursive: true, force: true });
});

describe('nines node --fetch-model', () => {
  it('fetches the model from the compute peers that have it, serves completions with it, and seeds it to the next peer', async () => {
    const [portA, portB, portC, apiC, portD] = await freePorts(5);
    const common = ['--cluster-dir', clusterDir, '--threads', '1'];
    const seederA = await startNodeProcess(join(directory, 'a'), [...common, '--listen', `127.0.0.1:${portA}`, '--compute', '--model', modelPath]);
    const bootstrap = ['--bootstrap', seederA.contact];
    const seederB = await startNodeProcess(join(directory, 'b'), [...common, '--listen', `127.0.0.1:${portB}`, '--compute', '--model', modelPath, ...bootstrap]);

    const dataC = join(directory, 'c');
    const idC = issue(dataC);
    const fetcher = await startNodeProcess(dataC, [
      ...common, '--listen', `127.0.0.1:${portC}`, '--api', `127.0.0.1:${apiC}`, '--storage', '--voters', `127.0.0.1:${portC}#${idC}`,
      '--gateway', '--compute', '--fetch-model', name, ...bootstrap,
    ]);
    const original = readFileSync(modelPath);
    expect(readFileSync(modelPaths(dataC, name).file).equals(original)).toBe(true);
    const fetched = fetcher.logs.find((line) => line.msg === 'fetched the model file; every chunk verified')!;
    expect(fetched).toBeDefined();
    expect(Object.keys(fetched.chunksByProvider as object).every((id) => id === seederA.nodeId || id === seederB.nodeId)).toBe(true);
    expect(logMessages(fetcher)).toContain('fetching the model file');

    // With both seeders gone, the answers come from the fetched copy on the fetcher itself.
    seederA.child.kill('SIGKILL');
    seederB.child.kill('SIGKILL');
    let answer = await complete(apiC);
    for (const deadline = Date.now() + 20_000; answer.status !== 200 && Date.now() < deadline; answer = await complete(apiC)) await new Promise((resolve) => setTimeout(resolve, 250));
    expect(answer.status).toBe(200);
    expect(answer.text.length).toBeGreaterThan(0);
    expect([...answer.peers]).toEqual([fetcher.nodeId]);

    // The fetcher seeds what it fetched: a fourth peer gets the model from it alone.
    const dataD = join(directory, 'd');
    const latecomer = await startNodeProcess(dataD, [...common, '--listen', `127.0.0.1:${portD}`, '--compute', '--fetch-model', name, '--bootstrap', fetcher.contact]);
    expect(readFileSync(modelPaths(dataD, name).file).equals(original)).toBe(true);
    const fromC = latecomer.logs.find((line) => line.msg === 'fetched the model file; every chunk verified')!;
    expect(Object.keys(fromC.chunksByProvider as object)).toEqual([fetcher.nodeId]);
  }, 120_000);

  it('refuses --fetch-model with --model, without a role that uses a model, or with a name that is not a plain file name', () => {
    const refusal = (args: string[]) => {
      try {
        execFileSync(process.execPath, [mainScript, 'node', '--data-dir', join(directory, 'refused'), ...args], { encoding: 'utf8', stdio: 'pipe' });
        return 'started';
      } catch (error) {
        return String((error as { stderr?: string }).stderr);
      }
    };
    expect(refusal(['--compute', '--fetch-model', name, '--model', modelPath])).toMatch(/--fetch-model and --model both name the model/);
    expect(refusal(['--dht-only', '--fetch-model', name])).toMatch(/--fetch-model needs --compute or --gateway/);
    expect(refusal(['--compute', '--fetch-model', '../etc'])).toMatch(/--fetch-model: a model name holds only letters/);
  });
});
