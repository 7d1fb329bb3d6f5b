/**
 * One peer of a local swarm: a `nines node` child process with fixed ports and a fixed data
 * directory, so that a restart is the same peer (same node ID, same address, same data). It
 * knows the peer is ready when the child prints its contact line and its API line on standard
 * output; the child's standard error (its JSON-lines log) is appended to <data dir>/node.log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { peerOutputBytesMax, peerStartTimeoutMs } from './constants.js';
import { LocalSwarmStartError } from './errors.js';

export type LocalPeerState = 'up' | 'down' | 'starting';

/** What a caller may know about a peer: plain data, safe to serve as JSON. */
export interface LocalPeerView {
  /** The peer's position in the swarm, from 0 (printed as "peer <index + 1>"). */
  index: number;
  nodeId: string;
  /** host:port#nodeId, the address other peers dial. */
  contact: string;
  /** The peer's HTTP API, http://127.0.0.1:<port>. */
  api: string;
  state: LocalPeerState;
  /** The running process's id; null while the peer is down. */
  pid: number | null;
}

export interface PeerSpec {
  index: number;
  dataDir: string;
  nodeId: string;
  transportPort: number;
  apiPort: number;
}

export interface PeerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the swarm killed or stopped the peer itself; false when it died on its own. */
  expected: boolean;
}

export class PeerProcess {
  private child: ChildProcess | undefined;
  private current: LocalPeerState = 'down';
  private expectingExit = false;

  constructor(
    readonly spec: PeerSpec,
    private readonly onExit: (peer: PeerProcess, exit: PeerExit) => void,
  ) {}

  get contact(): string {
    return `127.0.0.1:${this.spec.transportPort}#${this.spec.nodeId}`;
  }

  get logPath(): string {
    return join(this.spec.dataDir, 'node.log');
  }

  get state(): LocalPeerState {
    return this.current;
  }

  view(): LocalPeerView {
    const { index, nodeId, apiPort } = this.spec;
    return { index, nodeId, contact: this.contact, api: `http://127.0.0.1:${apiPort}`, state: this.current, pid: this.current === 'down' ? null : (this.child?.pid ?? null) };
  }

  /** Spawns `node <mainScript> <args>` and resolves once the peer has printed its contact and API lines. */
  launch(mainScript: string, args: readonly string[], environment: NodeJS.ProcessEnv): Promise<void> {
    // In a process group of its own: a Ctrl-C in the terminal reaches the swarm's supervisor
    // only, which decides when each peer stops (a chaos run still reads back and reports).
    const child = spawn(process.execPath, [mainScript, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: environment, detached: true });
    this.child = child;
    this.current = 'starting';
    this.expectingExit = false;
    child.stderr!.pipe(createWriteStream(this.logPath, { flags: 'a' }));
    const exited = new Promise<PeerExit>((resolve) => {
      child.once('exit', (code, signal) => {
        const exit = { code, signal, expected: this.expectingExit };
        if (this.child === child) this.current = 'down';
        resolve(exit);
        this.onExit(this, exit);
      });
    });
    return this.awaitReady(child, exited);
  }

  private awaitReady(child: ChildProcess, exited: Promise<PeerExit>): Promise<void> {
    const name = `peer ${this.spec.index + 1}`;
    return new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => {
        reject(new LocalSwarmStartError(`${name} did not start within ${peerStartTimeoutMs / 1000} s; see ${this.logPath}`));
        child.kill('SIGKILL');
      }, peerStartTimeoutMs);
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        if (output.length < peerOutputBytesMax) output += chunk;
        const contact = /^(\S+#[0-9a-f]{40})$/m.exec(output);
        const api = /^api (http:\/\/\S+)$/m.exec(output);
        if (contact === null || api === null || this.current !== 'starting') return;
        clearTimeout(timer);
        if (!contact[1].endsWith(`#${this.spec.nodeId}`)) {
          reject(new LocalSwarmStartError(`${name} came up as ${contact[1]}, not as node ${this.spec.nodeId}: its data directory ${this.spec.dataDir} holds another identity`));
          child.kill('SIGKILL');
          return;
        }
        this.current = 'up';
        resolve();
      });
      void exited.then((exit) => {
        clearTimeout(timer);
        reject(new LocalSwarmStartError(`${name} did not start (it exited with ${exit.signal ?? `code ${exit.code}`}); see ${this.logPath}`));
      });
    });
  }

  /** SIGKILL at once, without waiting: for a supervisor that is exiting and must not leave peers behind. */
  killNow(): void {
    const child = this.child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      this.expectingExit = true;
      child.kill('SIGKILL');
    }
  }

  /** SIGKILL: the peer dies at once, as in a crash. Resolves when the process is gone. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL', undefined);
  }

  /** SIGTERM, then SIGKILL after `graceMs` if the peer has not stopped by then. */
  async terminate(graceMs: number): Promise<void> {
    await this.signal('SIGTERM', graceMs);
  }

  private async signal(signal: NodeJS.Signals, graceMs: number | undefined): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    this.expectingExit = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = graceMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
