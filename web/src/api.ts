/**
 * The dashboard's calls to the peer that served it (same origin). Every /v1 call carries
 * `Authorization: Bearer <key>` when a key is known. The key arrives in the URL fragment
 * (`#key=...`, which `nines start` prints: a fragment never reaches a server or its logs),
 * is kept in sessionStorage for the tab's life, and the fragment is then removed from the
 * address bar. A 401 tells every listener, and the page asks for the key.
 */

export const keyStorageName = 'nines-api-key';
/** An admin call that takes longer than this has failed: the next poll tries again. */
export const requestTimeoutMs = 10_000;

export class ApiError extends Error {
  readonly code: string = 'API_ERROR';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export class UnauthorizedError extends ApiError {
  override readonly code = 'UNAUTHORIZED';
}

export class ApiClient {
  private key: string | null;
  private readonly unauthorizedListeners: (() => void)[] = [];

  constructor() {
    this.key = takeKeyFromFragment() ?? sessionStorage.getItem(keyStorageName);
  }

  get hasKey(): boolean {
    return this.key !== null;
  }

  setKey(key: string): void {
    this.key = key.trim();
    sessionStorage.setItem(keyStorageName, this.key);
  }

  onUnauthorized(listener: () => void): void {
    this.unauthorizedListeners.push(listener);
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.key !== null && { authorization: `Bearer ${this.key}` }), ...extra };
  }

  async getJson<T>(path: string): Promise<T> {
    const response = await this.fetch(path, { headers: this.headers(), signal: AbortSignal.timeout(requestTimeoutMs) });
    return (await response.json()) as T;
  }

  async postJson<T>(path: string, body: unknown = {}, timeoutMs = requestTimeoutMs): Promise<T> {
    const response = await this.fetch(path, {
      method: 'POST',
      headers: this.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return (await response.json()) as T;
  }

  /** A fetch that turns every non-2xx answer into an ApiError carrying the server's own message. */
  async fetch(path: string, init: RequestInit): Promise<Response> {
    const response = await fetch(path, init);
    if (response.ok) return response;
    const message = await errorMessageOf(response);
    if (response.status === 401) {
      for (const listener of this.unauthorizedListeners) listener();
      throw new UnauthorizedError(message, 401);
    }
    throw new ApiError(message, response.status);
  }
}

function takeKeyFromFragment(): string | null {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
  const key = fragment.get('key');
  if (key === null || key.trim() === '') return null;
  sessionStorage.setItem(keyStorageName, key.trim());
  fragment.delete('key');
  const rest = fragment.toString();
  history.replaceState(null, '', `${location.pathname}${location.search}${rest === '' ? '' : `#${rest}`}`);
  return key.trim();
}

/** OpenAI's shape and the KV API's both put the message under `error.message`. */
async function errorMessageOf(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
    if (typeof body.error === 'object' && typeof body.error.message === 'string') return body.error.message;
    if (typeof body.error === 'string') return body.error;
    if (typeof body.message === 'string') return body.message;
  } catch {
    // Not JSON: the text itself is the best message there is.
  }
  return `${response.status} ${response.statusText}${text === '' ? '' : `: ${text.slice(0, 200)}`}`;
}
