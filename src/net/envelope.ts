/**
 * Envelopes: what every frame's msgpack body holds. Five types make up the protocol:
 *
 *   hello   { type, nodeId, listenPort }          first frame each side sends after TLS
 *   req     { type, id, method, timeoutMs, body? } a request; `timeoutMs` is the time the
 *                                                  caller still waits, measured from sending
 *   res     { type, id, body? }                    the answer to request `id`
 *   err     { type, id, code, message }            the failure of request `id`
 *   cancel  { type, id }                           the caller no longer wants request `id`
 *
 * A body that is not one of these (another type, a missing or extra field, a field of the
 * wrong kind) is an unknown frame, and unknown frames close the connection. A request for
 * a method nobody registered is a well-formed frame, so it gets an error response instead.
 */
import { errorCodeLengthMax, errorMessageLengthMax, methodNameLengthMax, requestIdMax, requestTimeoutMsMax } from './constants.js';
import { FrameError } from './errors.js';

export interface GreetingEnvelope {
  type: 'hello';
  /** The sender's node ID; it must be the one its certificate proves. */
  nodeId: string;
  /** The port the sender accepts connections on, or 0 when it accepts none. */
  listenPort: number;
}

export interface RequestEnvelope {
  type: 'req';
  id: number;
  method: string;
  timeoutMs: number;
  body?: unknown;
}

export interface ResponseEnvelope {
  type: 'res';
  id: number;
  body?: unknown;
}

export interface ErrorEnvelope {
  type: 'err';
  id: number;
  code: string;
  message: string;
}

export interface CancelEnvelope {
  type: 'cancel';
  id: number;
}

export type Envelope = GreetingEnvelope | RequestEnvelope | ResponseEnvelope | ErrorEnvelope | CancelEnvelope;

const nodeIdLengthMax = 128;
const portMax = 65535;
const methodNamePattern = /^[A-Za-z0-9_.:/-]+$/;

/** Method names are short ASCII words such as `kademlia.findNode`. */
export function isMethodName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= methodNameLengthMax && methodNamePattern.test(value);
}

export function isRequestId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= requestIdMax;
}

export function isRequestTimeoutMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= requestTimeoutMsMax;
}

const fieldsOfType: Record<Envelope['type'], readonly string[]> = {
  hello: ['type', 'nodeId', 'listenPort'],
  req: ['type', 'id', 'method', 'timeoutMs', 'body'],
  res: ['type', 'id', 'body'],
  err: ['type', 'id', 'code', 'message'],
  cancel: ['type', 'id'],
};

/** Checks a decoded frame body against the envelope types; never throws. */
export function parseEnvelope(value: unknown): Envelope | FrameError {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) {
    return invalid(`a frame body must be a msgpack map, got ${describe(value)}`);
  }
  const record = value as Record<string, unknown>;
  const type = record.type;
  if (typeof type !== 'string' || !Object.hasOwn(fieldsOfType, type)) {
    return invalid(`unknown envelope type ${describe(type)}`);
  }
  const allowed = fieldsOfType[type as Envelope['type']];
  const extra = Object.keys(record).find((key) => !allowed.includes(key));
  if (extra !== undefined) return invalid(`a "${type}" envelope has no field "${extra.slice(0, 64)}"`);
  switch (type as Envelope['type']) {
    case 'hello':
      if (typeof record.nodeId !== 'string' || record.nodeId.length === 0 || record.nodeId.length > nodeIdLengthMax) {
        return invalid('a "hello" envelope needs a node id string');
      }
      if (!Number.isInteger(record.listenPort) || (record.listenPort as number) < 0 || (record.listenPort as number) > portMax) {
        return invalid(`a "hello" envelope needs a listen port from 0 to ${portMax}`);
      }
      return { type: 'hello', nodeId: record.nodeId, listenPort: record.listenPort as number };
    case 'req':
      if (!isRequestId(record.id)) return invalidId(type);
      if (!isMethodName(record.method)) return invalid(`request ${record.id} has an invalid method name ${describe(record.method)}`);
      if (!isRequestTimeoutMs(record.timeoutMs)) {
        return invalid(`request ${record.id} needs a timeout from 1 to ${requestTimeoutMsMax} ms, got ${describe(record.timeoutMs)}`);
      }
      return { type: 'req', id: record.id, method: record.method, timeoutMs: record.timeoutMs, body: record.body };
    case 'res':
      if (!isRequestId(record.id)) return invalidId(type);
      return { type: 'res', id: record.id, body: record.body };
    case 'err':
      if (!isRequestId(record.id)) return invalidId(type);
      if (typeof record.code !== 'string' || record.code.length === 0 || record.code.length > errorCodeLengthMax) {
        return invalid(`error response ${record.id} needs a code of 1 to ${errorCodeLengthMax} characters`);
      }
      if (typeof record.message !== 'string' || record.message.length > errorMessageLengthMax) {
        return invalid(`error response ${record.id} needs a message of at most ${errorMessageLengthMax} characters`);
      }
      return { type: 'err', id: record.id, code: record.code, message: record.message };
    case 'cancel':
      if (!isRequestId(record.id)) return invalidId(type);
      return { type: 'cancel', id: record.id };
  }
}

function invalid(message: string): FrameError {
  return new FrameError('FRAME_ENVELOPE_INVALID', message);
}

function invalidId(type: string): FrameError {
  return invalid(`a "${type}" envelope needs a request id that is an integer from 1 to ${requestIdMax}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'binary data';
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 64));
  if (typeof value === 'object') return 'an object of another kind';
  return `${typeof value} ${String(value).slice(0, 64)}`;
}
