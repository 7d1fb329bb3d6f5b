/**
 * Ports for real-process tests: asked of the operating system (bind to port 0, read the port,
 * close), not drawn at random — a random port in the ephemeral range can be taken by any
 * outgoing connection of a test running alongside.
 */
import { createServer } from 'node:net';

export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  // Held open together, so the count are distinct; released just before the peers bind them.
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
