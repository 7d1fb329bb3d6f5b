import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChatTemplate, chatMessagesMax, chatTemplateCharactersMax, plainTemplateStops, type ChatMessage } from '../../src/model/chat-template.js';
import { ChatTemplateError } from '../../src/model/errors.js';
import { openGguf, writeGgufFile } from '../../src/model/gguf/gguf-file.js';
import { defaultModelPath, loadModel } from '../../src/model/load-file.js';

// Written for these tests in the shape of the ChatML templates that qwen2 files carry.
const chatMlTemplate = [
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}",
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
].join('');

// In the shape of Llama 2's: a BOS token, [INST] wrapping, and a raise_exception guard.
const instTemplate = [
  '{% for message in messages %}',
  "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant') }}{% endif %}",
  "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + message['content'] + ' [/INST]' }}{% else %}{{ ' ' + message['content'] + eos_token }}{% endif %}",
  '{% endfor %}',
].join('');

const conversation: ChatMessage[] = [
  { role: 'system', content: 'Answer briefly.' },
  { role: 'user', content: 'Who said it?' },
  { role: 'assistant', content: 'God.' },
  { role: 'user', content: 'Where?' },
];

describe('a model file with its own chat template', () => {
  it('renders ChatML with the generation prompt, and without it when asked', () => {
    const template = ChatTemplate.fromModel(chatMlTemplate, {}, 'test.gguf');
    expect(template.kind).toBe('gguf');
    expect(template.render(conversation)).toBe(
      '<|im_start|>system\nAnswer briefly.<|im_end|>\n<|im_start|>user\nWho said it?<|im_end|>\n' +
        '<|im_start|>assistant\nGod.<|im_end|>\n<|im_start|>user\nWhere?<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(template.render(conversation.slice(0, 2), { addGenerationPrompt: false })).toBe('<|im_start|>system\nAnswer briefly.<|im_end|>\n<|im_start|>user\nWho said it?<|im_end|>\n');
  });

  it('passes the BOS and EOS token strings', () => {
    const template = ChatTemplate.fromModel(instTemplate, { bosToken: '<s>', eosToken: '</s>' }, 'test.gguf');
    expect(template.render(conversation.slice(1))).toBe('<s>[INST] Who said it? [/INST] God.</s><s>[INST] Where? [/INST]');
  });

  it('turns the template\'s raise_exception into a ChatTemplateError with its message', () => {
    const template = ChatTemplate.fromModel(instTemplate, {}, 'test.gguf');
    expect(() => template.render([{ role: 'assistant', content: 'first' }])).toThrow(/roles must alternate/);
    expect(() => template.render([{ role: 'assistant', content: 'first' }])).toThrow(ChatTemplateError);
  });

  it('refuses a template that does not parse, naming the file', () => {
    expect(() => ChatTemplate.fromModel('{% for message in messages %}{{ message', {}, 'broken.gguf')).toThrow(/broken\.gguf: tokenizer\.chat_template does not parse/);
  });

  it('refuses a template over the size limit', () => {
    const huge = `{{ '${'x'.repeat(chatTemplateCharactersMax)}' }}`;
    expect(() => ChatTemplate.fromModel(huge, {}, 'huge.gguf')).toThrow(/over the limit of 65536/);
  });
});

describe('the plain template (files without one)', () => {
  it('writes one turn per role, a blank line apart, and opens the assistant turn', () => {
    const template = ChatTemplate.fromModel(undefined, {}, 'test.gguf');
    expect(template.kind).toBe('plain');
    expect(template.render(conversation)).toBe('System: Answer briefly.\n\nUser: Who said it?\n\nAssistant: God.\n\nUser: Where?\n\nAssistant:');
    expect(template.stops).toEqual(plainTemplateStops);
  });

  it('is also what an empty template gives', () => {
    expect(ChatTemplate.fromModel('  \n', {}, 'test.gguf').kind).toBe('plain');
  });
});

describe('conversations a template cannot render', () => {
  const template = ChatTemplate.plain();

  it('refuses no messages, too many, an unknown role and non-string content', () => {
    expect(() => template.render([])).toThrow(/has no messages/);
    const many: ChatMessage[] = Array.from({ length: chatMessagesMax + 1 }, () => ({ role: 'user', content: 'x' }));
    expect(() => template.render(many)).toThrow(/over the limit of 4096/);
    expect(() => template.render([{ role: 'tool' as 'user', content: 'x' }])).toThrow(/message 0: role "tool" is not one of system, user, assistant/);
    expect(() => template.render([{ role: 'user', content: 7 as unknown as string }])).toThrow(/content must be a string/);
  });
});

describe('loadModel', () => {
  const directory = mkdtempSync(join(tmpdir(), 'nines-chat-template-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('gives the default model (which has no template) the plain one', async () => {
    const model = loadModel(defaultModelPath, { threads: 1, kernels: 'js' });
    expect(model.chatTemplate.kind).toBe('plain');
    await model.close();
  });

  it('reads tokenizer.chat_template from the file', async () => {
    const source = openGguf(defaultModelPath);
    const path = join(directory, 'with-template.gguf');
    try {
      const metadata = [...source.metadata.entries()];
      metadata.push(['tokenizer.chat_template', { type: 'string', value: chatMlTemplate }]);
      const tensors = source.tensors.map((info) => ({ name: info.name, type: info.type, dims: info.dims, data: source.readTensor(info.name) }));
      writeGgufFile(path, { metadata, tensors });
    } finally {
      source.close();
    }
    const model = loadModel(path, { threads: 1, kernels: 'js' });
    expect(model.chatTemplate.kind).toBe('gguf');
    expect(model.chatTemplate.render([{ role: 'user', content: 'hi' }])).toBe('<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
    await model.close();
  });
});
