/**
 * One HTTP request on a fresh connection, with the outcome a chaos client needs to tell apart:
 * an answer, a refused connection (nothing listens there: the request never reached a peer,
 * so sending it to another gateway is safe) or a failure after the connection was made (the
 * peer may have acted on the request: it must not be sent again).
 *
 * No keep-alive on purpose: a pooled connection to a peer that was just killed would turn a
 * request that never left this process into an ambiguous "connection reset".
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { responseBytesMax } from './constants.js';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export type HttpOutcome =
  | { kind: 'answer'; answer: HttpAnswer }
  | { kind: 'refused'; message: string }
  | { kind: 'failed'; message: string };

export interface HttpRequestOptions {
  method: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export function send(url: string, options: HttpRequestOptions): Promise<HttpOutcome> {
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    const finish = (outcome: HttpOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const request = httpRequest(url, {
      method: options.method,
      agent: false,
      headers: { ...options.headers, ...(body !== undefined && { 'content-length': String(body.length) }), connection: 'close' },
    });
    const timer = setTimeout(() => {
      request.destroy();
      finish({ kind: 'failed', message: `no answer within ${options.timeoutMs} ms` });
    }, options.timeoutMs);
    request.once('socket', (socket) => socket.once('connect', () => (connected = true)));
    request.once('error', (error: NodeJS.ErrnoException) => {
      finish(!connected && error.code === 'ECONNREFUSED' ? { kind: 'refused', message: error.message } : { kind: 'failed', message: `${error.code ?? 'error'}: ${error.message}` });
    });
    request.once('response', (response) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes <= responseBytesMax) chunks.push(chunk);
      });
      response.once('error', (error) => finish({ kind: 'failed', message: `the answer broke off: ${error.message}` }));
      response.once('aborted', () => finish({ kind: 'failed', message: 'the answer broke off' }));
      response.once('end', () => {
        if (!response.complete) return finish({ kind: 'failed', message: 'the answer broke off' });
        if (bytes > responseBytesMax) return finish({ kind: 'failed', message: `the answer was over ${responseBytesMax} bytes` });
        finish({ kind: 'answer', answer: { status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') } });
      });
    });
    request.end(body);
  });
}

/** The Authorization header for an API key; none for an open cluster. */
export function authorizationHeaders(apiKey: string | undefined): Record<string, string> {
  return apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` };
}
