/**
 * Errors in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, with every
 * code's HTTP status and type in one table, so that clients written for OpenAI (the
 * official packages raise a typed error per status) understand nines' refusals.
 */
import { retryAfterSeconds } from './constants.js';

interface CodeEntry {
  status: number;
  type: string;
}

/** Every code the OpenAI routes answer with, its status and its OpenAI error type. */
export const openAiErrorTable = {
  invalid_request_error: { status: 400, type: 'invalid_request_error' },
  invalid_json: { status: 400, type: 'invalid_request_error' },
  context_length_exceeded: { status: 400, type: 'invalid_request_error' },
  prompt_too_long: { status: 400, type: 'invalid_request_error' },
  max_tokens_too_large: { status: 400, type: 'invalid_request_error' },
  unsupported_feature: { status: 400, type: 'invalid_request_error' },
  invalid_api_key: { status: 401, type: 'invalid_request_error' },
  model_not_found: { status: 404, type: 'invalid_request_error' },
  unknown_url: { status: 404, type: 'invalid_request_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  request_too_large: { status: 413, type: 'invalid_request_error' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  // nginx's convention for a client that closed the connection; nobody reads the answer.
  client_closed_request: { status: 499, type: 'invalid_request_error' },
  internal_error: { status: 500, type: 'server_error' },
  server_busy: { status: 503, type: 'server_error' },
} as const satisfies Record<string, CodeEntry>;

export type OpenAiErrorCode = keyof typeof openAiErrorTable;

export function isOpenAiErrorCode(code: unknown): code is OpenAiErrorCode {
  return typeof code === 'string' && Object.hasOwn(openAiErrorTable, code);
}

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: OpenAiErrorCode };
}

/** A refusal the routes turn into an OpenAI-shaped error response. */
export class OpenAiError extends Error {
  override name = 'OpenAiError';

  constructor(
    readonly code: OpenAiErrorCode,
    message: string,
    readonly param: string | null = null,
    /** When the client may retry (429 and 503); the default is retryAfterSeconds. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  get status(): number {
    return openAiErrorTable[this.code].status;
  }

  body(): OpenAiErrorBody {
    return { error: { message: this.message, type: openAiErrorTable[this.code].type, param: this.param, code: this.code } };
  }

  /** Headers that go with the error: when to retry, and how to authenticate. */
  headers(): Record<string, string> {
    if (this.status === 429 || this.status === 503) {
      const seconds = this.retryAfterMs === undefined ? retryAfterSeconds : Math.max(1, Math.ceil(this.retryAfterMs / 1000));
      return { 'retry-after': String(seconds) };
    }
    if (this.status === 401) return { 'www-authenticate': 'Bearer' };
    return {};
  }
}

/** Any thrown value as an OpenAiError: typed errors with a known code keep it, anything else is an internal error. */
export function asOpenAiError(error: unknown): OpenAiError {
  if (error instanceof OpenAiError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (isOpenAiErrorCode(code)) {
    const param = (error as { param?: unknown }).param;
    return new OpenAiError(code, message, typeof param === 'string' ? param : null);
  }
  return new OpenAiError('internal_error', `The server failed to complete the request: ${message}`);
}
