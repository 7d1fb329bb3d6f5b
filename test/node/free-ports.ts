/**
 * Ports for real-process tests: asked of the operating system (bind to port 0, read the port,
 * close), not drawn at random — a random port in the ephemeral range can be taken by any
 * outgoing connection of a test running alongside. The local swarm asks for its ports the
 * same way, with the same function.
 */
export { freePorts } from '../../src/node/local-swarm/cluster-setup.js';
