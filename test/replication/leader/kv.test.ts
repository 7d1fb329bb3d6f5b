import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeKvCommand, encodeKvCommand, genesisHash, KvCommandError, KvStateMachine, keyBytesMax, makeEntry, type Entry, type KvCommand } from '../../../src/replication/leader/index.js';

const arbitraryCommand: fc.Arbitrary<Omit<KvCommand, 'sequence'>> = fc.oneof(
  fc.record({ op: fc.constant('put' as const), key: fc.constantFrom('a', 'b'), value: fc.string({ maxLength: 3 }), client: fc.constantFrom('x', 'y') }),
  fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom('a', 'b'), client: fc.constantFrom('x', 'y') }),
  fc.record({ op: fc.constant('cas' as const), key: fc.constantFrom('a', 'b'), expected: fc.option(fc.string({ maxLength: 3 })), value: fc.option(fc.string({ maxLength: 3 })), client: fc.constantFrom('x', 'y') }),
);

function entries(commands: readonly KvCommand[]): Entry[] {
  let previous = genesisHash;
  return commands.map((command, position) => {
    const entry = makeEntry(previous, 1, position + 1, 'normal', encodeKvCommand(command));
    previous = entry.hash;
    return entry;
  });
}

function withSequences(commands: readonly Omit<KvCommand, 'sequence'>[]): KvCommand[] {
  const next = new Map<string, number>();
  return commands.map((command) => {
    const sequence = (next.get(command.client) ?? 0) + 1;
    next.set(command.client, sequence);
    return { ...command, sequence } as KvCommand;
  });
}

describe('KvStateMachine', () => {
  it('encodes commands deterministically and decodes them back', () => {
    fc.assert(fc.property(arbitraryCommand, fc.integer({ min: 1, max: 1000 }), (command, sequence) => {
      const full = { ...command, sequence } as KvCommand;
      const bytes = encodeKvCommand(full);
      expect(encodeKvCommand(full)).toEqual(bytes);
      expect(decodeKvCommand(bytes)).toEqual(full);
    }));
  });

  it('behaves like a plain map with compare-and-set', () => {
    fc.assert(fc.property(fc.array(arbitraryCommand, { maxLength: 30 }), (raw) => {
      const commands = withSequences(raw);
      const machine = new KvStateMachine();
      const model = new Map<string, string>();
      for (const entry of entries(commands)) {
        const applied = machine.apply(entry)!;
        const command = applied.command;
        const current = model.get(command.key) ?? null;
        if (command.op === 'put') model.set(command.key, command.value);
        else if (command.op === 'delete') model.delete(command.key);
        else {
          expect(applied.result).toEqual({ op: 'cas', succeeded: current === command.expected, current: current === command.expected ? command.value : current });
          if (current === command.expected) {
            if (command.value === null) model.delete(command.key);
            else model.set(command.key, command.value);
          }
        }
      }
      for (const key of ['a', 'b']) expect(machine.get(key)).toBe(model.get(key) ?? null);
    }));
  });

  it('restores from its snapshot to the same state and the same next results', () => {
    fc.assert(fc.property(fc.array(arbitraryCommand, { maxLength: 30 }), fc.nat(30), (raw, cutAt) => {
      const log = entries(withSequences(raw));
      const cut = Math.min(cutAt, log.length);
      const original = new KvStateMachine();
      for (const entry of log.slice(0, cut)) original.apply(entry);
      const restored = new KvStateMachine();
      restored.restore(original.snapshot());
      expect(restored.snapshot()).toEqual(original.snapshot());
      for (const entry of log.slice(cut)) expect(restored.apply(entry)).toEqual(original.apply(entry));
    }));
  });

  it('applies a duplicated command once and answers the duplicate with the first result (dissertation §6.3)', () => {
    const machine = new KvStateMachine();
    const cas: KvCommand = { op: 'cas', key: 'k', expected: null, value: 'v', client: 'c', sequence: 1 };
    const [first, second] = entries([cas, cas]);
    expect(machine.apply(first)).toMatchObject({ duplicate: false, result: { succeeded: true } });
    expect(machine.apply(second)).toMatchObject({ duplicate: true, result: { succeeded: true } });
    expect(machine.get('k')).toBe('v');
  });

  it('refuses oversized keys with a clear error, and applies entries only in order', () => {
    expect(() => encodeKvCommand({ op: 'put', key: 'k'.repeat(keyBytesMax + 1), value: '', client: 'c', sequence: 1 })).toThrow(KvCommandError);
    expect(() => encodeKvCommand({ op: 'delete', key: '', client: 'c', sequence: 1 })).toThrow(/empty/);
    const machine = new KvStateMachine();
    const log = entries(withSequences([{ op: 'delete', key: 'a', client: 'c' }, { op: 'delete', key: 'a', client: 'c' }]));
    expect(() => machine.apply(log[1])).toThrow(/in order/);
  });
});
