/**
 * Contacts: the node triple (host, port, node ID), written `host:port#nodeid` on the
 * command line, with IPv6 hosts in brackets (`[::1]:4000#<id>`). A peer address is the
 * same thing with the node ID optional; when present it pins the peer, so a dial that
 * reaches a different node is refused.
 *
 * This file does no I/O so that pure cores (Kademlia, the simulator) may use it.
 */
import { ContactInvalidError, NodeIdInvalidError } from './errors.js';
import { parseNodeId, type NodeId } from './node-id.js';

/** Where a peer listens and who it is. */
export interface Contact {
  host: string;
  port: number;
  nodeId: NodeId;
}

/** Where a peer listens, and optionally who it must turn out to be. */
export interface PeerAddress {
  host: string;
  port: number;
  nodeId?: NodeId;
}

const portMax = 65535;
const hostnameLengthMax = 253;
const hostnameLabelPattern = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
const example = '127.0.0.1:4000#<40 hex characters>';

/** Parses `host:port#nodeid`; the node ID is required. */
export function parseContact(text: string): Contact {
  const address = parsePeerAddress(text);
  if (address.nodeId === undefined) {
    throw new ContactInvalidError(`contact "${text}" has no node id: write it as host:port#nodeid, e.g. ${example}`);
  }
  return { host: address.host, port: address.port, nodeId: address.nodeId };
}

/** Parses `host:port` or `host:port#nodeid`. */
export function parsePeerAddress(text: string): PeerAddress {
  const trimmed = text.trim();
  if (trimmed === '') throw new ContactInvalidError(`a contact is host:port#nodeid, e.g. ${example}; got an empty string`);
  const hashIndex = trimmed.indexOf('#');
  const location = hashIndex === -1 ? trimmed : trimmed.slice(0, hashIndex);
  const nodeIdText = hashIndex === -1 ? undefined : trimmed.slice(hashIndex + 1);
  const { host, portText } = splitHostPort(location, text);
  const port = parsePort(portText, text);
  if (nodeIdText === undefined) return { host, port };
  try {
    return { host, port, nodeId: parseNodeId(nodeIdText) };
  } catch (error) {
    if (error instanceof NodeIdInvalidError) throw new ContactInvalidError(`contact "${text}": ${error.message}`);
    throw error;
  }
}

/** Writes a contact or address back as text, bracketing IPv6 hosts. */
export function formatContact(address: PeerAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  const location = `${host}:${address.port}`;
  return address.nodeId === undefined ? location : `${location}#${address.nodeId}`;
}

function splitHostPort(location: string, original: string): { host: string; portText: string } {
  if (location.startsWith('[')) {
    const close = location.indexOf(']');
    if (close === -1) throw new ContactInvalidError(`contact "${original}": the IPv6 address has no closing "]"`);
    if (location[close + 1] !== ':') {
      throw new ContactInvalidError(`contact "${original}": expected ":port" right after the "]", e.g. [::1]:4000`);
    }
    return { host: parseIpv6(location.slice(1, close), original), portText: location.slice(close + 2) };
  }
  const colon = location.lastIndexOf(':');
  if (colon === -1) throw new ContactInvalidError(`contact "${original}" has no port: write host:port#nodeid, e.g. ${example}`);
  const host = location.slice(0, colon);
  if (host.includes(':')) {
    throw new ContactInvalidError(`contact "${original}": IPv6 addresses must be written in brackets, e.g. [::1]:4000#<node id>`);
  }
  return { host: parseHostname(host, original), portText: location.slice(colon + 1) };
}

function parseIpv6(inner: string, original: string): string {
  // WHATWG URL parsing is the strictest IPv6 validator available without the network
  // modules, and it also normalises the address (e.g. 0:0:0:0:0:0:0:1 becomes ::1).
  try {
    if (!/^[0-9a-fA-F:.]+$/.test(inner)) throw new Error('bad characters');
    const hostname = new URL(`http://[${inner}]/`).hostname;
    return hostname.slice(1, -1);
  } catch {
    throw new ContactInvalidError(`contact "${original}": "${inner}" is not a valid IPv6 address`);
  }
}

function parseHostname(host: string, original: string): string {
  if (host === '') throw new ContactInvalidError(`contact "${original}" has no host before the port`);
  if (host.length > hostnameLengthMax) {
    throw new ContactInvalidError(`contact "${original}": host names are at most ${hostnameLengthMax} characters`);
  }
  const labels = host.split('.');
  if (!labels.every((label) => hostnameLabelPattern.test(label))) {
    throw new ContactInvalidError(`contact "${original}": "${host}" is not a valid host name or IPv4 address`);
  }
  const numeric = labels.every((label) => /^[0-9]+$/.test(label));
  if (numeric && (labels.length !== 4 || labels.some((label) => Number(label) > 255 || (label.length > 1 && label.startsWith('0'))))) {
    throw new ContactInvalidError(`contact "${original}": "${host}" is not a valid IPv4 address (four numbers from 0 to 255)`);
  }
  return host.toLowerCase();
}

function parsePort(portText: string, original: string): number {
  if (!/^[0-9]{1,5}$/.test(portText)) {
    throw new ContactInvalidError(`contact "${original}": port must be a number from 1 to ${portMax}, got "${portText}"`);
  }
  const port = Number(portText);
  if (port < 1 || port > portMax) {
    throw new ContactInvalidError(`contact "${original}": port must be from 1 to ${portMax}, got ${port}`);
  }
  return port;
}
