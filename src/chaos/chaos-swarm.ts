/**
 * The swarm a chaos run drives, behind one interface: either a LocalSwarm the run starts in a
 * temporary directory (it may kill and restart every peer), or an existing swarm given by
 * --target addresses, which can only have its peers killed through its own local-swarm
 * control (`POST /v1/admin/local-swarm/peers/<nodeId>/kill|restart`, present only when
 * `nines start` or `nines chaos` started it; `GET /v1/admin/swarm` says so in `localSwarm`).
 */
import { LocalSwarm, type LocalSwarmOptions } from '../node/local-swarm/index.js';
import { ChaosTargetError } from './errors.js';
import { authorizationHeaders, send } from './http-client.js';
import { problemOf } from './workload.js';

export interface ChaosSwarmPeer {
  index: number;
  nodeId: string;
  api: string;
  state: 'up' | 'down' | 'starting';
}

export interface ChaosSwarm {
  readonly apiKey: string | undefined;
  /** Why peers cannot be killed, or undefined when they can. */
  readonly killRefusal: string | undefined;
  peers(): ChaosSwarmPeer[];
  /** The API URLs the clients send to, by the index their requests record. */
  gateways(): string[];
  /** Which of those the chat clients use: the front gateways when the swarm has some, else all. */
  chatGatewayIndexes(): number[];
  kill(index: number): Promise<void>;
  /** Resolves once the peer is ready again. */
  restart(index: number): Promise<void>;
  /** The log files worth keeping with the report, by name. */
  logs(): { name: string; path: string }[];
  /** What went wrong that the run did not cause (a peer that exited on its own), for the report's notes. */
  problems(): string[];
  close(): Promise<void>;
}

/** A swarm of the run's own, started (and at the end stopped) by the run. */
export class OwnSwarm implements ChaosSwarm {
  readonly killRefusal = undefined;

  private constructor(
    private readonly swarm: LocalSwarm,
    private readonly unexpected: string[],
  ) {}

  static async start(options: LocalSwarmOptions): Promise<OwnSwarm> {
    const unexpected: string[] = [];
    const swarm = await LocalSwarm.start({
      ...options,
      onPeerExit: (peer, exit) => {
        if (!exit.expected) unexpected.push(`peer ${peer.index + 1} exited on its own (${exit.signal ?? `code ${exit.code}`}) at ${new Date().toISOString()}; see logs/peer-${peer.index + 1}.log`);
      },
    });
    return new OwnSwarm(swarm, unexpected);
  }

  problems(): string[] {
    return [...this.unexpected];
  }

  get apiKey(): string | undefined {
    return this.swarm.apiKey;
  }

  peers(): ChaosSwarmPeer[] {
    return this.swarm.peers().map(({ index, nodeId, api, state }) => ({ index, nodeId, api, state }));
  }

  gateways(): string[] {
    return [...this.swarm.peers(), ...this.swarm.frontGateways()].map((peer) => peer.api);
  }

  chatGatewayIndexes(): number[] {
    const fronts = this.swarm.frontGateways();
    return (fronts.length > 0 ? fronts : this.swarm.peers()).map((peer) => peer.index);
  }

  async kill(index: number): Promise<void> {
    await this.swarm.kill(index);
  }

  async restart(index: number): Promise<void> {
    await this.swarm.restart(index);
  }

  logs(): { name: string; path: string }[] {
    const peers = this.swarm.peers().map((peer) => ({ name: `peer-${peer.index + 1}.log`, path: this.swarm.logPath(peer.index) }));
    const fronts = this.swarm.frontLogPaths().map((path, position) => ({ name: `front-gateway-${position + 1}.log`, path }));
    return [...peers, ...fronts];
  }

  async close(): Promise<void> {
    await this.swarm.stop();
  }
}

/** Whether a URL's host is a loopback address: the only places a chaos run sends traffic. */
export function isLoopbackUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:') return false;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

interface AdminSwarmView {
  peers?: Array<{ nodeId?: unknown; api?: unknown; state?: unknown }>;
  localSwarm?: unknown;
}

/** An existing swarm, reached at the --target addresses (each must be loopback). */
export class TargetSwarm implements ChaosSwarm {
  private readonly states = new Map<number, ChaosSwarmPeer['state']>();

  private constructor(
    private readonly targets: readonly string[],
    private readonly members: readonly { index: number; nodeId: string; api: string }[],
    readonly apiKey: string | undefined,
    readonly killRefusal: string | undefined,
  ) {}

  static async connect(targets: readonly string[], apiKey: string | undefined): Promise<TargetSwarm> {
    for (const target of targets) if (!isLoopbackUrl(target)) throw new ChaosTargetError(`--target ${target} is not a loopback http address: a chaos run sends traffic only to this machine's own swarm (127.0.0.1, ::1 or localhost)`);
    const bases = targets.map((target) => target.replace(/\/+$/, '').replace(/\/v1$/, ''));
    const headers = authorizationHeaders(apiKey);
    const outcome = await send(`${bases[0]}/v1/admin/swarm`, { method: 'GET', headers, timeoutMs: 5_000 });
    if (outcome.kind === 'refused') throw new ChaosTargetError(`nothing listens at ${bases[0]}: start the swarm first (nines start) or run nines chaos without --target`);
    let view: AdminSwarmView = {};
    let refusal: string | undefined;
    if (outcome.kind === 'answer' && outcome.answer.status === 200) {
      view = JSON.parse(outcome.answer.text) as AdminSwarmView;
      if (view.localSwarm !== true) refusal = `${bases[0]} reports no local-swarm control (it was not started by nines start or nines chaos), so its peers cannot be killed from here`;
    } else {
      refusal = `${bases[0]} did not show its swarm (GET /v1/admin/swarm: ${problemOf(outcome)}), so its peers cannot be killed from here`;
    }
    const members = (view.peers ?? [])
      .filter((peer) => typeof peer.nodeId === 'string')
      .map((peer, index) => ({ index, nodeId: peer.nodeId as string, api: typeof peer.api === 'string' ? peer.api.replace(/\/+$/, '') : '' }));
    // Without a swarm view, each target is a peer of its own, named by its place in the list.
    const known = members.length > 0 ? members : bases.map((api, index) => ({ index, nodeId: `target-${index + 1}`, api }));
    return new TargetSwarm(bases, known, apiKey, refusal);
  }

  peers(): ChaosSwarmPeer[] {
    return this.members.map((member) => ({ ...member, state: this.states.get(member.index) ?? 'up' }));
  }

  gateways(): string[] {
    return [...this.targets];
  }

  chatGatewayIndexes(): number[] {
    return this.targets.map((_, index) => index);
  }

  async kill(index: number): Promise<void> {
    await this.act(index, 'kill');
    this.states.set(index, 'down');
  }

  async restart(index: number): Promise<void> {
    this.states.set(index, 'starting');
    await this.act(index, 'restart');
    this.states.set(index, 'up');
  }

  logs(): { name: string; path: string }[] {
    return [];
  }

  problems(): string[] {
    return [];
  }

  async close(): Promise<void> {}

  /** Asks a live target other than the victim to act through its swarm's local control. */
  private async act(index: number, action: 'kill' | 'restart'): Promise<void> {
    if (this.killRefusal !== undefined) throw new ChaosTargetError(this.killRefusal);
    const victim = this.members[index];
    const headers = authorizationHeaders(this.apiKey);
    const problems: string[] = [];
    for (const target of this.targets) {
      if (target === victim.api) continue;
      const outcome = await send(`${target}/v1/admin/local-swarm/peers/${victim.nodeId}/${action}`, { method: 'POST', headers, timeoutMs: 90_000 });
      if (outcome.kind === 'answer' && outcome.answer.status === 200) return;
      problems.push(`${target}: ${problemOf(outcome)}`);
    }
    throw new ChaosTargetError(`no target would ${action} peer ${index + 1} (${problems.join('; ') || 'give at least two --target addresses, so one can act on the other'})`);
  }
}
