/**
 * `nines chat`: a conversation with a model on this machine. Each line you type becomes a
 * user message; the whole conversation is rendered with the model's chat template (the
 * GGUF's `tokenizer.chat_template`, or nines' plain template when the file has none) and
 * the model writes the assistant's answer, which joins the conversation.
 */
import { randomInt } from 'node:crypto';
import type { Command } from 'commander';
import type { ChatMessage } from '../model/chat-template.js';
import { generate } from '../model/generate.js';
import type { LoadedModel } from '../model/load-file.js';
import { addSamplingOptions, samplerSettingsOf, withModel, type SamplingOptions } from './generate.js';
import { type Interruption, type ReplSettings, runRepl, sharedCommandsHelp, stoppedByUser } from './repl.js';

const helpText = `Type a message and press Enter: the model answers, token by token.
Commands:
  /reset           forget the conversation (the system message stays)
  /history         show the conversation as the model sees it
${sharedCommandsHelp}`;

interface ChatOptions extends SamplingOptions {
  system?: string;
}

export function registerChat(program: Command): void {
  const command = program
    .command('chat')
    .description("a conversation with a model on this machine, through the model's chat template")
    .option('--system <text>', 'a system message that opens the conversation');
  addSamplingOptions(command).action(async (options: ChatOptions) => {
    await withModel(options, runChat);
  });
}

async function runChat(loaded: LoadedModel, options: ChatOptions): Promise<void> {
  const settings: ReplSettings = { ...options, seed: options.seed ?? randomInt(0, 2 ** 31) };
  const opening: ChatMessage[] = options.system === undefined ? [] : [{ role: 'system', content: options.system }];
  let messages = [...opening];
  const templateName = loaded.chatTemplate.kind === 'gguf' ? "the file's chat template" : 'the plain chat template (the file has none)';
  process.stdout.write(`nines chat: ${loaded.name}, ${templateName}\n`);
  process.stdout.write(`seed ${settings.seed}, temperature ${settings.temperature}, max ${settings.maxTokens} tokens per answer. /help for commands.\n`);
  let turn = 0;
  await runRepl(settings, {
    helpText,
    answer: async (text, interruption) => {
      const asked: ChatMessage[] = [...messages, { role: 'user', content: text }];
      const reply = await answer(loaded, asked, { ...settings, seed: settings.seed + turn }, interruption);
      turn++;
      messages = [...asked, { role: 'assistant', content: reply }];
    },
    command: (name) => {
      if (name === '/reset') {
        messages = [...opening];
        process.stdout.write('conversation forgotten\n');
        return true;
      }
      if (name === '/history') {
        process.stdout.write(`${messages.length === 0 ? '(empty)' : loaded.chatTemplate.render(messages, { addGenerationPrompt: false })}\n`);
        return true;
      }
      return false;
    },
  });
}

/** Streams the assistant's answer and returns its text. */
async function answer(loaded: LoadedModel, messages: readonly ChatMessage[], options: ReplSettings, interruption: Interruption): Promise<string> {
  const template = loaded.chatTemplate;
  // A file's own template writes its special tokens (<|im_start|> and the like) as text
  // that must become those tokens; the plain template has none.
  const prompt = loaded.tokenizer.encode(template.render(messages), { allowedSpecial: template.kind === 'gguf' ? 'all' : new Set() });
  const steps = generate({
    model: loaded.transformer,
    tokenizer: loaded.tokenizer,
    prompt,
    sampler: { ...samplerSettingsOf(options), seed: options.seed },
    maxTokens: options.maxTokens,
    stop: [...template.stops, ...(options.stop ?? [])],
  });
  let reply = '';
  for await (const step of steps) {
    if (step.kind === 'token') {
      process.stdout.write(step.text);
      reply += step.text;
    }
    if (await stoppedByUser(interruption)) {
      process.stdout.write(' [stopped]');
      break;
    }
  }
  process.stdout.write('\n');
  return reply.trim();
}
