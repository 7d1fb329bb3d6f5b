/**
 * The OpenAI-compatible HTTP API: chat completions, completions and models, with OpenAI's
 * error shape, API keys, named limits and nines' extensions (seed, trace, conversations,
 * the read-after-write session header). The routes are independent of the HTTP server;
 * src/api/server.ts mounts them.
 */
export { OpenAiRoutes, openAiPaths, errorResponse, type OpenAiRequest, type OpenAiResponse, type OpenAiRoutesOptions } from './routes.js';
export { ApiKeyRing, anonymousCaller, type ApiAuth, type ApiKeyEntry, type Caller } from './auth.js';
export { OpenAiError, asOpenAiError, openAiErrorTable, isOpenAiErrorCode, type OpenAiErrorCode, type OpenAiErrorBody } from './errors.js';
export {
  defaultOpenAiLimits,
  stopSequencesMax,
  stopSequenceCharactersMax,
  conversationIdCharactersMax,
  sessionTokenCharactersMax,
  traceTopKDefault,
  retryAfterSeconds,
  sessionHeader,
  type OpenAiLimits,
} from './constants.js';
export { parseChatRequest, parseCompletionRequest, type ParsedRequest } from './schemas.js';
export type { CompletionIdentity, FinishReason, TraceEntry, Usage } from './responses.js';
export { Protection, degradedHeader, queueWaitMsMaxDefault, type Admitted, type ProtectionOptions } from './protection.js';
