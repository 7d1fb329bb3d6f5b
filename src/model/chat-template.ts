/**
 * Chat templates: how a conversation becomes the one prompt a model continues.
 *
 * A GGUF file may carry its model's template in `tokenizer.chat_template`, a Jinja
 * program written for Hugging Face's `apply_chat_template`. nines renders it with
 * @huggingface/jinja and the same variables: `messages` (role and content),
 * `add_generation_prompt`, `bos_token`, `eos_token`, plus `raise_exception` and
 * `strftime_now`, which that library provides.
 *
 * A file without a template gets the plain template below, documented in the README:
 *
 *   System: <content>
 *   User: <content>
 *   Assistant: <content>
 *   Assistant:            <- the generation prompt: the model writes the next answer
 *
 * one message per line (a blank line between messages), and generation stops at the
 * next line that starts a turn (`plainTemplateStops`), since a model without a chat
 * format would otherwise go on to write the user's next turn itself.
 */
import { Template } from '@huggingface/jinja';
import { ChatTemplateError } from './errors.js';

export const chatRoles = ['system', 'user', 'assistant'] as const;
export type ChatRole = (typeof chatRoles)[number];

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** Templates longer than this are refused: real ones are a few kilobytes. */
export const chatTemplateCharactersMax = 64 * 1024;

/** Messages in one conversation rendered at once; the context window binds long before. */
export const chatMessagesMax = 4096;

/** The plain template's turn prefixes, by role. */
const plainRolePrefix: Record<ChatRole, string> = { system: 'System:', user: 'User:', assistant: 'Assistant:' };

/** Stop texts for the plain template: a new line that starts somebody's turn. */
export const plainTemplateStops: readonly string[] = ['\nUser:', '\nSystem:', '\nAssistant:'];

export interface ChatTemplateTokens {
  bosToken?: string;
  eosToken?: string;
}

export interface RenderOptions {
  /** End with the opening of an assistant turn, for the model to fill (default true). */
  addGenerationPrompt?: boolean;
}

export class ChatTemplate {
  private constructor(
    /** Where the template came from: 'gguf' (the file's own) or 'plain' (nines' fallback). */
    readonly kind: 'gguf' | 'plain',
    private readonly compiled: Template | undefined,
    private readonly tokens: ChatTemplateTokens,
    /** Texts that end an answer besides the end-of-text token. */
    readonly stops: readonly string[],
  ) {}

  /**
   * The file's template when it has one, else the plain template.
   * @param source the model's path, for error messages
   */
  static fromModel(templateSource: string | undefined, tokens: ChatTemplateTokens, source: string): ChatTemplate {
    if (templateSource === undefined || templateSource.trim() === '') return ChatTemplate.plain();
    if (templateSource.length > chatTemplateCharactersMax) {
      throw new ChatTemplateError(source, `tokenizer.chat_template is ${templateSource.length} characters, over the limit of ${chatTemplateCharactersMax}; this is not a chat template nines can trust`);
    }
    let compiled: Template;
    try {
      compiled = new Template(templateSource);
    } catch (error) {
      throw new ChatTemplateError(source, `tokenizer.chat_template does not parse as Jinja (${messageOf(error)}); the file is damaged or uses Jinja that @huggingface/jinja does not support`);
    }
    return new ChatTemplate('gguf', compiled, tokens, []);
  }

  static plain(): ChatTemplate {
    return new ChatTemplate('plain', undefined, {}, plainTemplateStops);
  }

  /** The prompt text for a conversation. Special tokens in it (e.g. `<|im_start|>`) are meant to be encoded as such. */
  render(messages: readonly ChatMessage[], options: RenderOptions = {}): string {
    checkMessages(messages);
    const addGenerationPrompt = options.addGenerationPrompt ?? true;
    if (this.compiled === undefined) return renderPlain(messages, addGenerationPrompt);
    try {
      return this.compiled.render({
        messages: messages.map((message) => ({ role: message.role, content: message.content })),
        add_generation_prompt: addGenerationPrompt,
        bos_token: this.tokens.bosToken ?? '',
        eos_token: this.tokens.eosToken ?? '',
      });
    } catch (error) {
      throw new ChatTemplateError('the model\'s chat template', `rendering failed: ${messageOf(error)}`);
    }
  }
}

function renderPlain(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string {
  const turns = messages.map((message) => `${plainRolePrefix[message.role]} ${message.content}`);
  if (addGenerationPrompt) turns.push(plainRolePrefix.assistant);
  return turns.join('\n\n');
}

function checkMessages(messages: readonly ChatMessage[]): void {
  if (messages.length === 0) throw new ChatTemplateError('the conversation', 'has no messages; send at least one');
  if (messages.length > chatMessagesMax) throw new ChatTemplateError('the conversation', `has ${messages.length} messages, over the limit of ${chatMessagesMax}`);
  messages.forEach((message, index) => {
    if (!(chatRoles as readonly string[]).includes(message.role)) {
      throw new ChatTemplateError(`message ${index}`, `role ${JSON.stringify(message.role)} is not one of ${chatRoles.join(', ')}`);
    }
    if (typeof message.content !== 'string') throw new ChatTemplateError(`message ${index}`, 'content must be a string');
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
