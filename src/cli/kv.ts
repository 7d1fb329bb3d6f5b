/**
 * `nines kv put|get|delete|cas|append|watch` and `nines cluster status`: clients of a storage
 * peer's HTTP API (src/api/kv-routes.ts, and replica-kv-routes.ts in the multi-leader and
 * leaderless modes, where reads may return concurrent values with a context to resolve them). The peer is `--peer http://host:port`, or the
 * node running in `--data-dir D` (its node.json says where its API listens), or
 * $NINES_PEER. Requests carry one of the cluster's API keys (`--api-key`, or $NINES_API_KEY):
 * the key-value API takes the same keys as the OpenAI API, unless the cluster is open.
 *
 * A write refused as unavailable (503: no leader yet, an election under way) was never
 * proposed, so it is retried until `--retry-ms` runs out; any other failure is reported.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { sessionHeader } from '../api/kv-routes.js';
import { readNodeFile } from '../node/node-file.js';
import { integerOption } from './options.js';

interface PeerOptions {
  peer?: string;
  dataDir?: string;
  retryMs: number;
  json?: boolean;
  apiKey?: string;
}

class KvClientError extends Error {
  override name = 'KvClientError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const retryPauseMs = 100;

function peerUrl(options: PeerOptions): string {
  if (options.peer !== undefined) return options.peer.replace(/\/+$/, '');
  if (options.dataDir !== undefined) {
    const node = readNodeFile(options.dataDir);
    if (node.api === undefined) throw new KvClientError('NO_API', `the node in ${options.dataDir} serves no API: start it with --storage`);
    return `http://${node.api.host}:${node.api.port}`;
  }
  const fromEnvironment = process.env.NINES_PEER;
  if (fromEnvironment !== undefined && fromEnvironment !== '') return fromEnvironment.replace(/\/+$/, '');
  throw new KvClientError('NO_PEER', 'say which peer to ask: --peer http://127.0.0.1:<port>, --data-dir <a running node\'s data dir>, or NINES_PEER');
}

function parseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`--peer must be a URL like http://127.0.0.1:7400, got '${value}'.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(`--peer must be an http:// or https:// URL, got '${value}'.`);
  return value;
}

interface Answer {
  status: number;
  session: string | null;
  body: { error?: { code: string; message: string; leader?: string } } & Record<string, unknown>;
}

async function call(options: PeerOptions, method: string, path: string, body?: string): Promise<Answer> {
  const url = `${peerUrl(options)}${path}`;
  const deadline = Date.now() + options.retryMs;
  for (;;) {
    let response: Response;
    try {
      response = await fetch(url, { method, body, headers: authorizationHeaders(options), signal: AbortSignal.timeout(Math.max(1_000, options.retryMs)) });
    } catch (error) {
      throw new KvClientError('PEER_UNREACHABLE', `cannot reach ${url}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`);
    }
    let parsed: Answer['body'];
    try {
      parsed = (await response.json()) as Answer['body'];
    } catch {
      throw new KvClientError('BAD_ANSWER', `${url} answered ${response.status} without JSON: is that a nines storage peer's API (the "api http://…" line nines node prints)?`);
    }
    const answer: Answer = { status: response.status, session: response.headers.get(sessionHeader), body: parsed };
    if (answer.status === 503 && Date.now() + retryPauseMs < deadline) {
      await new Promise((resolve) => setTimeout(resolve, retryPauseMs));
      continue;
    }
    return answer;
  }
}

/** The key from --api-key, else $NINES_API_KEY; no header at all without one (an open cluster needs none). */
function authorizationHeaders(options: PeerOptions): Record<string, string> {
  const key = options.apiKey ?? process.env.NINES_API_KEY;
  return key === undefined || key === '' ? {} : { authorization: `Bearer ${key}` };
}

function failIfError(answer: Answer): void {
  const error = answer.body.error;
  if (error !== undefined) throw new KvClientError(error.code, `${error.code}: ${error.message}${error.leader === undefined ? '' : ` (leader: ${error.leader})`}`);
}

function keyPath(key: string, suffix = ''): string {
  return `/v1/kv/${encodeURIComponent(key)}${suffix}`;
}

function query(entries: Record<string, string | undefined>): string {
  const search = new URLSearchParams(Object.entries(entries).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

function addPeerOptions(command: Command): Command {
  return command
    .option('--peer <url>', 'the peer to ask, e.g. http://127.0.0.1:7400', parseUrl)
    .option('-d, --data-dir <dir>', 'ask the node running in this data directory')
    .option('--api-key <key>', 'one of the cluster\'s API keys (default: $NINES_API_KEY; an open cluster needs none)')
    .option('--retry-ms <ms>', 'keep retrying while the cluster has no leader, up to this long', integerOption('--retry-ms', 0, 600_000), 5_000)
    .option('--json', 'print the whole answer as JSON');
}

function printWrite(answer: Answer, options: PeerOptions): void {
  failIfError(answer);
  if (options.json === true) process.stdout.write(`${JSON.stringify({ ...answer.body, session: answer.session })}\n`);
  else if (typeof answer.body.index === 'number') process.stdout.write(`OK index ${String(answer.body.index)} (session token ${answer.session})\n`);
  else {
    const parts = [typeof answer.body.id === 'string' ? `element ${answer.body.id}` : undefined, typeof answer.body.context === 'string' ? `context ${answer.body.context}` : undefined, answer.session === null ? undefined : `session token ${answer.session}`];
    process.stdout.write(`OK${parts.filter((part) => part !== undefined).map((part) => ` ${part}`).join(',')}\n`);
  }
}

/** Options of writes in the multi-leader and leaderless modes. */
interface ReplicaWriteOptions {
  context?: string;
  w?: number;
  n?: number;
  lww?: boolean;
}

function addReplicaWriteOptions(command: Command): Command {
  return command
    .option('--context <token>', 'multi-leader/leaderless: the context a read printed; the write replaces exactly the values that read saw')
    .option('--w <replicas>', 'leaderless: replicas that must fsync the write before it is acknowledged', integerOption('--w', 1, 16))
    .option('--n <replicas>', 'leaderless: replicas the write reaches now (at most the cluster\'s n; the rest get it from anti-entropy)', integerOption('--n', 1, 16))
    .option('--lww', 'multi-leader/leaderless: resolve concurrent writes to this key by last-writer-wins (hybrid logical clock) instead of keeping siblings');
}

function replicaQuery(options: ReplicaWriteOptions): Record<string, string | undefined> {
  return { context: options.context, w: options.w === undefined ? undefined : String(options.w), n: options.n === undefined ? undefined : String(options.n), lww: options.lww === true ? 'true' : undefined };
}

function printRead(key: string, answer: Answer, options: PeerOptions): void {
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify({ ...answer.body, session: answer.session })}\n`);
    return;
  }
  const { values, elements } = answer.body as { values?: string[]; elements?: Array<{ value: string }> };
  if (Array.isArray(elements)) for (const element of elements) process.stdout.write(`${element.value}\n`);
  else if (Array.isArray(values)) {
    for (const value of values) process.stdout.write(`${value}\n`);
    if (values.length > 1) process.stderr.write(`nines: ${key} has ${values.length} concurrent values; resolve them with: nines kv put ${key} <value> --context ${String(answer.body.context)}\n`);
  } else process.stdout.write(`${String(answer.body.value)}\n`);
}

export function registerKv(program: Command): void {
  const kv = program.command('kv').description('read and write the replicated key-value store');
  const acks = (value: string) => {
    if (value !== 'leader' && value !== 'quorum' && value !== 'all') throw new InvalidArgumentError(`--acks must be leader, quorum or all, got '${value}'.`);
    return value;
  };
  const consistencies = ['linearizable', 'session', 'stale', 'quorum', 'local'];
  const consistency = (value: string) => {
    if (!consistencies.includes(value)) throw new InvalidArgumentError(`--consistency must be linearizable, session or stale (single-leader), or quorum or local (multi-leader, leaderless), got '${value}'.`);
    return value;
  };

  addPeerOptions(addReplicaWriteOptions(kv.command('put').description('set a key').argument('<key>').argument('<value>').option('--acks <level>', 'single-leader: leader, quorum or all (default: the cluster\'s)', acks)))
    .action(async (key: string, value: string, options: PeerOptions & ReplicaWriteOptions & { acks?: string }) => {
      printWrite(await call(options, 'PUT', keyPath(key) + query({ acks: options.acks, ...replicaQuery(options) }), value), options);
    });

  addPeerOptions(addReplicaWriteOptions(kv.command('delete').description('remove a key').argument('<key>').option('--acks <level>', 'single-leader: leader, quorum or all', acks)))
    .action(async (key: string, options: PeerOptions & ReplicaWriteOptions & { acks?: string }) => {
      printWrite(await call(options, 'DELETE', keyPath(key) + query({ acks: options.acks, ...replicaQuery(options) })), options);
    });

  addPeerOptions(kv.command('append').description('multi-leader: add an element to an append-only set (a conversation); concurrent appends are all kept').argument('<key>').argument('<value>'))
    .action(async (key: string, value: string, options: PeerOptions) => {
      printWrite(await call(options, 'POST', keyPath(key, '/append'), value), options);
    });

  addPeerOptions(
    kv.command('cas').description('compare-and-set: write --value only if the key holds --expected')
      .argument('<key>')
      .option('--expected <value>', 'the value the key must hold (omit: the key must be absent)')
      .option('--value <value>', 'the new value (omit: delete the key)')
      .option('--acks <level>', 'leader, quorum or all', acks),
  ).action(async (key: string, options: PeerOptions & { acks?: string; expected?: string; value?: string }) => {
    const body = JSON.stringify({ expected: options.expected ?? null, value: options.value ?? null });
    const answer = await call(options, 'POST', keyPath(key, '/cas') + query({ acks: options.acks }), body);
    failIfError(answer);
    const result = answer.body.result as { succeeded: boolean; current: string | null } | undefined;
    if (options.json === true) process.stdout.write(`${JSON.stringify({ ...answer.body, session: answer.session })}\n`);
    else process.stdout.write(`${result?.succeeded === true ? 'OK' : 'NOT SET'}: ${key} is ${JSON.stringify(result?.current ?? null)} (index ${String(answer.body.index)})\n`);
    if (result?.succeeded !== true) process.exitCode = 2;
  });

  addPeerOptions(
    kv.command('get').description('read a key (prints its value; exit code 1 when absent)')
      .argument('<key>')
      .option('--consistency <level>', 'single-leader: linearizable (default), session or stale; multi-leader/leaderless: quorum (default) or local', consistency)
      .option('--session <token>', 'the session token a write printed: the peer first catches up to it (single-leader with --consistency session; multi-leader)')
      .option('--r <replicas>', 'leaderless: replicas that must answer', integerOption('--r', 1, 16))
      .option('--n <replicas>', 'leaderless: replicas asked (at most the cluster\'s n)', integerOption('--n', 1, 16)),
  ).action(async (key: string, options: PeerOptions & { consistency?: string; session?: string; r?: number; n?: number }) => {
    const answer = await call(options, 'GET', keyPath(key) + query({ consistency: options.consistency, session: options.session, r: options.r === undefined ? undefined : String(options.r), n: options.n === undefined ? undefined : String(options.n) }));
    if (answer.status === 404 && answer.body.error?.code === 'KEY_NOT_FOUND') {
      process.stderr.write(`nines: ${key}: not found\n`);
      process.exitCode = 1;
      return;
    }
    failIfError(answer);
    printRead(key, answer, options);
  });

  addPeerOptions(
    kv.command('watch').description('print the key\'s value each time it changes (polls with linearizable reads; Ctrl-C stops)')
      .argument('<key>')
      .option('--interval-ms <ms>', 'time between reads', integerOption('--interval-ms', 10, 60_000), 500),
  ).action(async (key: string, options: PeerOptions & { intervalMs: number }) => {
    let last: string | null | undefined;
    for (;;) {
      const answer = await call(options, 'GET', keyPath(key));
      if (answer.status !== 404) failIfError(answer);
      const value = answer.status === 404 ? null : (answer.body.value as string);
      if (value !== last) {
        process.stdout.write(value === null ? `${key} absent (index ${answer.session})\n` : `${key} = ${value} (index ${answer.session})\n`);
        last = value;
      }
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    }
  });
}

/** `nines cluster status`: the Raft state of the peer asked, and on a leader each follower's lag. */
export function registerClusterStatus(cluster: Command): void {
  addPeerOptions(cluster.command('status').description('single-leader: leader, term, commit and applied indexes, each follower\'s lag; multi-leader: replication lag to every peer; leaderless: peers, hints, repairs'))
    .action(async (options: PeerOptions) => {
      const answer = await call(options, 'GET', '/v1/cluster/status');
      failIfError(answer);
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify(answer.body)}\n`);
        return;
      }
      if (answer.body.mode === 'multi-leader' || answer.body.mode === 'leaderless') {
        process.stdout.write(`${replicaStatusLines(answer.body).join('\n')}\n`);
        return;
      }
      const status = answer.body as unknown as { id: string; role: string; term: number; leader?: string; commit: number; applied: number; lastIndex: number; snapshotIndex: number; membership: { voters: string[]; learners: string[] }; followers: { peer: string; match: number; state: string }[] };
      const lines = [
        `peer      ${status.id} (${status.role})`,
        `leader    ${status.leader ?? 'none known'}`,
        `term      ${status.term}`,
        `commit    ${status.commit}, applied ${status.applied}, last ${status.lastIndex}, snapshot ${status.snapshotIndex}`,
        `voters    ${status.membership.voters.join(', ')}${status.membership.learners.length > 0 ? `; learners ${status.membership.learners.join(', ')}` : ''}`,
      ];
      if (status.followers.length > 0) {
        lines.push('followers (lag = the leader\'s last index - the follower\'s match)');
        for (const follower of status.followers) lines.push(`  ${follower.peer}  match ${follower.match}  lag ${status.lastIndex - follower.match}  ${follower.state}`);
      } else if (status.role !== 'leader') {
        lines.push('(ask the leader for its followers\' lag)');
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

interface MultiLeaderStatusBody {
  id: string;
  ownSeq: number;
  logEntries: number;
  peers: Array<{ id: string; up: boolean; acknowledgedSeq: number; entriesBehind: number; ticksSinceAck: number }>;
}

interface LeaderlessStatusBody {
  id: string;
  keys: number;
  hintsHeld: number;
  pendingRequests: number;
  readRepairs: number;
  settings: { n: number; r: number; w: number };
  peers: Array<{ id: string; up: boolean }>;
  antiEntropy: { exchangesCompleted: number; keysPushed: number; bytesSent: number };
}

/** `nines cluster status` in the multi-leader and leaderless modes. */
function replicaStatusLines(body: Record<string, unknown>): string[] {
  if (body.mode === 'multi-leader') {
    const status = body as unknown as MultiLeaderStatusBody;
    const lines = [`peer      ${status.id} (multi-leader)`, `writes    ${status.ownSeq} accepted here, ${status.logEntries} still in the change log`];
    lines.push('replication lag (this peer\'s writes each peer has not yet acknowledged)');
    for (const peer of status.peers) lines.push(`  ${peer.id}  ${peer.up ? 'up  ' : 'down'}  acknowledged ${peer.acknowledgedSeq}  behind ${peer.entriesBehind}  last ack ${peer.ticksSinceAck} ticks ago`);
    return lines;
  }
  const status = body as unknown as LeaderlessStatusBody;
  return [
    `peer      ${status.id} (leaderless, n=${status.settings.n} r=${status.settings.r} w=${status.settings.w})`,
    `keys      ${status.keys} held here; ${status.hintsHeld} hints held for peers that were down; ${status.pendingRequests} requests in flight`,
    `repairs   ${status.readRepairs} by read repair; anti-entropy: ${status.antiEntropy.exchangesCompleted} exchanges, ${status.antiEntropy.keysPushed} keys pushed, ${status.antiEntropy.bytesSent} bytes`,
    `peers     ${status.peers.map((peer) => `${peer.id} ${peer.up ? 'up' : 'down'}`).join(', ')}`,
  ];
}
