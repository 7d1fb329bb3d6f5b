import { describe, expect, it } from 'vitest';
import { ApiKeyRing, OpenAiError } from '../../../src/api/openai/index.js';

function refusal(work: () => unknown): OpenAiError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(OpenAiError);
    return error as OpenAiError;
  }
  throw new Error('expected a refusal');
}

describe('ApiKeyRing', () => {
  const ring = new ApiKeyRing({ keys: new Map([['sk-alpha-000000', { name: 'alpha' }], ['sk-beta-1111111', { name: 'beta', priority: 'low' }]]) });

  it('names the caller of a known key, with its priority', () => {
    expect(ring.authenticate('Bearer sk-alpha-000000')).toEqual({ name: 'alpha', priority: 'normal' });
    expect(ring.authenticate('bearer   sk-beta-1111111 ')).toEqual({ name: 'beta', priority: 'low' });
  });

  it('refuses a missing, malformed, unknown or near-miss key with 401 invalid_api_key', () => {
    for (const header of [undefined, '', 'sk-alpha-000000', 'Basic abc', 'Bearer', 'Bearer sk-alpha-00000', 'Bearer sk-alpha-0000000', 'Bearer SK-ALPHA-000000']) {
      const error = refusal(() => ring.authenticate(header));
      expect(error.code).toBe('invalid_api_key');
      expect(error.status).toBe(401);
      expect(error.headers()).toEqual({ 'www-authenticate': 'Bearer' });
    }
  });

  it('does not repeat a wrong key in full', () => {
    expect(refusal(() => ring.authenticate('Bearer sk-secret-guess-123456')).message).not.toContain('secret-guess');
  });

  it('serves everyone as anonymous when explicitly open', () => {
    expect(new ApiKeyRing({ open: true }).authenticate(undefined)).toEqual({ name: 'anonymous', priority: 'normal' });
    expect(new ApiKeyRing({ open: true }).authenticate('Bearer anything')).toEqual({ name: 'anonymous', priority: 'normal' });
  });

  it('refuses a configuration that could serve nobody', () => {
    expect(() => new ApiKeyRing({ keys: new Map() })).toThrow(/no request could be served.*open: true/);
    expect(() => new ApiKeyRing({ keys: new Map([['', { name: 'empty' }]]) })).toThrow(/'empty' is empty/);
  });
});

describe('a live ApiKeyRing (keys swapped while a peer runs)', () => {
  const alpha = new Map([['sk-alpha-000000', { name: 'alpha' }]]);
  const gamma = new Map([['sk-gamma-222222', { name: 'gamma', priority: 'low' as const }]]);

  it('swaps its keys at once: a revoked key is refused on its next use, a new one served', () => {
    const ring = new ApiKeyRing({ keys: alpha });
    expect(ring.authenticate('Bearer sk-alpha-000000').name).toBe('alpha');
    ring.replace({ keys: gamma });
    expect(refusal(() => ring.authenticate('Bearer sk-alpha-000000')).code).toBe('invalid_api_key');
    expect(ring.authenticate('Bearer sk-gamma-222222')).toEqual({ name: 'gamma', priority: 'low' });
    expect(ring.state).toBe('keyed');
    expect(ring.size).toBe(1);
  });

  it('shares its keys with every ring made from it, as the OpenAI, admin and key-value routes of one peer do', () => {
    const ring = new ApiKeyRing({ keys: alpha });
    const routes = new ApiKeyRing(ring);
    ring.replace({ keys: gamma });
    expect(refusal(() => routes.authenticate('Bearer sk-alpha-000000')).code).toBe('invalid_api_key');
    expect(routes.authenticate('Bearer sk-gamma-222222').name).toBe('gamma');
    routes.replace({ open: true });
    expect(ring.authenticate(undefined).name).toBe('anonymous');
  });

  it('refuses everyone with its reason while closed, whatever key is sent', () => {
    const ring = new ApiKeyRing({ closed: 'no API keys yet: nines cluster key add <name>' });
    expect(ring.state).toBe('closed');
    for (const header of [undefined, 'Bearer sk-alpha-000000']) {
      const error = refusal(() => ring.authenticate(header));
      expect(error.status).toBe(401);
      expect(error.message).toBe('no API keys yet: nines cluster key add <name>');
    }
    ring.replace({ keys: alpha });
    expect(ring.authenticate('Bearer sk-alpha-000000').name).toBe('alpha');
  });

  it('keeps its keys when handed a replacement that could not work', () => {
    const ring = new ApiKeyRing({ keys: alpha });
    expect(() => ring.replace({ keys: new Map() })).toThrow(/no request could be served/);
    expect(() => ring.replace({ closed: '' })).toThrow(/needs the reason/);
    expect(ring.authenticate('Bearer sk-alpha-000000').name).toBe('alpha');
  });
});
