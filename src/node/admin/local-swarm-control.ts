/**
 * The chaos buttons of a local swarm: a peer started by `nines start` or `nines chaos` is
 * told, in its environment, where its supervisor's control server listens (loopback only)
 * and the token it takes. The admin API forwards kill and restart there; a peer started any
 * other way has no such environment, and the routes say so.
 */
export const localSwarmControlEnv = 'NINES_LOCAL_SWARM_CONTROL';
export const localSwarmTokenEnv = 'NINES_LOCAL_SWARM_TOKEN';
const controlTimeoutMs = 70_000;

export class LocalSwarmControl {
  private constructor(
    private readonly base: URL,
    private readonly token: string,
  ) {}

  /** The control named by this process's environment, if it was started by a local swarm. */
  static fromEnvironment(environment: NodeJS.ProcessEnv = process.env): LocalSwarmControl | undefined {
    const address = environment[localSwarmControlEnv];
    const token = environment[localSwarmTokenEnv];
    if (address === undefined || token === undefined || address === '' || token === '') return undefined;
    const base = new URL(address);
    // Traffic to the supervisor stays on this machine whatever the environment says.
    if (base.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname)) {
      throw new Error(`${localSwarmControlEnv}=${address} is not a loopback http address`);
    }
    return new LocalSwarmControl(base, token);
  }

  kill(nodeId: string): Promise<void> {
    return this.act(nodeId, 'kill');
  }

  restart(nodeId: string): Promise<void> {
    return this.act(nodeId, 'restart');
  }

  /** The supervisor's control server names peers by index or by node ID; the admin API knows node IDs. */
  private async act(nodeId: string, action: 'kill' | 'restart'): Promise<void> {
    await this.call('POST', `/peers/${nodeId}/${action}`);
  }

  private async call(method: string, path: string): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.base), { method, headers: { authorization: `Bearer ${this.token}` }, signal: AbortSignal.timeout(controlTimeoutMs) });
    } catch (error) {
      throw Object.assign(new Error(`the local swarm's supervisor did not answer: ${(error as Error).message}`), { code: 'ADMIN_UNAVAILABLE' });
    }
    const body: unknown = await response.json().catch(() => ({}));
    if (!response.ok) {
      const { code, message } = (body as { error?: { code?: string; message?: string } }).error ?? {};
      throw Object.assign(new Error(`the local swarm's supervisor refused: ${message ?? `status ${response.status}`}`), { code: code === 'LOCAL_PEER_NOT_FOUND' ? 'ADMIN_PEER_UNKNOWN' : 'ADMIN_UNAVAILABLE' });
    }
    return body;
  }
}
