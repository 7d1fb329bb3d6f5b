/**
 * The node: the composition root that wires identity, transport, DHT, discovery and the
 * local admin channel into one running peer (DESIGN.md section 2: cli -> node -> the rest).
 *
 * - node.ts          startNode / Node: start, inspect, stop
 * - node-file.ts     <data dir>/node.json: where a running node listens, for local commands
 * - admin-server.ts  the loopback-only admin channel; admin-client.ts calls it
 * - log.ts           JSON-lines logging
 */
export * from './constants.js';
export * from './errors.js';
export { adminRequest } from './admin-client.js';
export { AdminServer, resultSummary, type AdminApi } from './admin-server.js';
export { jsonLinesLogger, logLevels, type LogLevel } from './log.js';
export { nodeFilePath, readNodeFile, removeNodeFile, writeNodeFile, type NodeFile } from './node-file.js';
export { checkListenHost, loadOrIssueIdentity, Node, startNode, type NodeConfig, type NodeRole } from './node.js';
