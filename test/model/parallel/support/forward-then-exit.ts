// A process that computes on kernel worker threads with two models, closes one and
// forgets the other, then simply ends: the test checks that it exits promptly.
import { Rng } from '../../../../src/core/rng.js';
import { KernelMemory } from '../../../../src/model/kernels/wasm/index.js';
import { createKernelBackend } from '../../../../src/model/parallel/thread-pool-shell.js';
import { InferenceSession, Transformer } from '../../../../src/model/transformer.js';
import { randomTensors, testConfig } from '../../helpers.js';

const config = testConfig({ dim: 32, headCount: 4, kvHeadCount: 2, hiddenDim: 64 });
const models = [1, 2].map((seed) => Transformer.fromTensors(config, randomTensors(config, new Rng(seed), 'F32'), 'exit test', { backend: createKernelBackend(KernelMemory.create(), { threads: 2, execArgv: process.execArgv }) }));
for (const model of models) process.stdout.write(`logits ${new InferenceSession(model).forwardBatch([1, 2, 3], 0).length}\n`);
await models[0].close();
