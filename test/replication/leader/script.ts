/**
 * A tiny scripting language for Raft interaction tests, in the style of etcd-io/raft's
 * datadriven testdata: each block is a command, a `----` line, and the output the command
 * must produce. Commands:
 *
 *   cluster 1 2 3 [preVote=false] [checkQuorum=false] [electionTicks=N] [heartbeatTicks=N] [appendEntriesMax=N]
 *   campaign ID                          start an election on ID now
 *   tick ID [xN]                         N ticks on ID (no output; Readies wait for `stabilize`)
 *   tick-all [xN]                        N ticks on every live peer, each tick followed by a stabilize
 *   stabilize                            process Readies and deliver messages until nothing moves
 *   process-ready ID / deliver [ID]      one step of that by hand
 *   drop [ID]                            discard the messages in flight (to ID)
 *   propose ID [put] KEY VALUE [acks=A] [id=P]  a put from client "script"
 *   add-voter|add-learner|remove ID PEER a membership change proposed on ID
 *   transfer ID TARGET                   leadership transfer
 *   read ID REQUEST                      a linearizable read (ReadIndex)
 *   compact ID                           snapshot ID's state machine at its applied index
 *   partition 1,2 3 / heal               cut the network into groups, or mend it
 *   restart ID / add-peer ID             crash and recover from the memory store; start an empty peer
 *   status [ID...] / log ID / get ID KEY
 */
import { encodeKvCommand, type AckLevel, type RaftSettings } from '../../../src/replication/leader/index.js';
import { Harness } from './harness.js';

export interface ScriptBlock {
  command: string;
  expected: string;
}

export function parseScript(text: string): ScriptBlock[] {
  const blocks: ScriptBlock[] = [];
  const lines = text.split('\n');
  let position = 0;
  while (position < lines.length) {
    const line = lines[position];
    if (line.trim() === '' || line.startsWith('#')) {
      position++;
      continue;
    }
    if (lines[position + 1] !== '----') throw new Error(`line ${position + 2}: expected ---- after the command ${JSON.stringify(line)}`);
    const expected: string[] = [];
    position += 2;
    while (position < lines.length && lines[position] !== '') expected.push(lines[position++]);
    blocks.push({ command: line, expected: expected.join('\n') });
  }
  return blocks;
}

export function formatScript(blocks: readonly ScriptBlock[]): string {
  return blocks.map((block) => `${block.command}\n----\n${block.expected}\n`).join('\n');
}

export class ScriptRunner {
  private harness: Harness | undefined;
  private sequence = 0;

  run(command: string): string {
    const [name, ...args] = command.trim().split(/\s+/);
    const options = new Map(args.filter((arg) => arg.includes('=')).map((arg) => arg.split('=') as [string, string]));
    const positional = args.filter((arg) => !arg.includes('='));
    if (name === 'cluster') return this.cluster(positional, options);
    const harness = this.harness;
    if (harness === undefined) throw new Error('the script must start with `cluster`');
    harness.output.length = 0;
    const node = (id: string) => harness.peer(id).node;
    const attempt = (action: () => void) => {
      try {
        action();
      } catch (error) {
        harness.output.push(`error ${(error as { code?: string }).code ?? ''}: ${(error as Error).message}`);
      }
    };
    const times = Number((positional.find((arg) => arg.startsWith('x')) ?? 'x1').slice(1));
    switch (name) {
      case 'campaign': node(positional[0]).campaign(); break;
      case 'tick': for (let count = 0; count < times; count++) node(positional[0]).tick(); break;
      case 'tick-all':
        for (let count = 0; count < times; count++) {
          for (const [, peer] of harness.peers) if (peer.up) peer.node.tick();
          harness.stabilize();
        }
        break;
      case 'stabilize': harness.stabilize(); break;
      case 'process-ready': harness.processReady(positional[0]); break;
      case 'deliver': harness.deliver(positional[0]); break;
      case 'drop': {
        const dropped = harness.mailbox.filter((message) => positional[0] === undefined || message.to === positional[0]);
        harness.mailbox = harness.mailbox.filter((message) => !dropped.includes(message));
        harness.output.push(`dropped ${dropped.length} messages`);
        break;
      }
      case 'propose': attempt(() => {
        // `propose 1 put k v` and `propose 1 k v` both mean a put.
        const [id, key, value] = positional[1] === 'put' ? [positional[0], positional[2], positional[3]] : positional;
        const result = node(id).propose(encodeKvCommand({ op: 'put', key, value, client: 'script', sequence: ++this.sequence }), { proposalId: options.get('id'), acks: options.get('acks') as AckLevel | undefined });
        harness.output.push(`proposed at index ${result.index} term ${result.term}`);
      }); break;
      case 'add-voter':
      case 'add-learner':
      case 'remove': attempt(() => {
        const kind = name === 'add-voter' ? 'addVoter' : name === 'add-learner' ? 'addLearner' : 'removePeer';
        const result = node(positional[0]).proposeMembershipChange({ kind, peer: positional[1] });
        harness.output.push(`proposed ${kind} ${positional[1]} at index ${result.index}`);
      }); break;
      case 'transfer': attempt(() => node(positional[0]).transferLeadership(positional[1])); break;
      case 'read': attempt(() => node(positional[0]).readIndex(positional[1])); break;
      case 'compact': {
        const peer = harness.peer(positional[0]);
        peer.node.compact(peer.kv.appliedIndex, peer.kv.snapshot());
        harness.output.push(`compacted through ${peer.kv.appliedIndex}`);
        break;
      }
      case 'partition': harness.partition(positional.map((group) => group.split(','))); break;
      case 'heal': harness.heal(); break;
      case 'restart': harness.restart(positional[0]); break;
      case 'add-peer': harness.addPeer(positional[0]); break;
      case 'status': for (const id of positional.length > 0 ? positional : [...harness.peers.keys()].sort()) harness.output.push(harness.status(id)); break;
      case 'log': harness.output.push(node(positional[0]).logEntries().map((entry) => `${entry.index}@${entry.term}:${entry.type} ${entry.hash.slice(0, 8)}`).join('\n')); break;
      case 'get': harness.output.push(`${positional[1]}=${harness.peer(positional[0]).kv.get(positional[1]) ?? '(absent)'}`); break;
      default: throw new Error(`unknown script command ${JSON.stringify(name)}`);
    }
    if (harness.readResults.length > 0) harness.output.push(...harness.readResults.splice(0));
    harness.acknowledged.length = 0;
    return harness.output.length === 0 ? 'ok' : harness.output.join('\n');
  }

  private cluster(ids: string[], options: Map<string, string>): string {
    const settings: Partial<RaftSettings> = {};
    for (const [name, value] of options) {
      (settings as Record<string, unknown>)[name] = value === 'true' ? true : value === 'false' ? false : Number(value);
    }
    this.harness = new Harness(ids, settings);
    return 'ok';
  }
}
