/**
 * The dashboard's start: one client for the peer that served the page, three panels
 * (swarm, chat, availability with live plots), and polling every two seconds. A 401 from
 * any call shows the key form; a new key refreshes everything at once.
 */
import { ApiClient } from './api.js';
import { AvailabilityPanel } from './availability-view.js';
import { ChatPanel } from './chat-view.js';
import { required } from './dom.js';
import { PeerPanel } from './peer-panel.js';
import { TrafficPlots } from './plots.js';
import { Poller } from './poller.js';
import { SwarmPanel } from './swarm-view.js';
import { modeOf, type AvailabilityReport, type RequestSeries, type SwarmView } from './types.js';

/** How often the swarm, the availability report and the traffic series are asked for. */
const pollIntervalMs = 2_000;
/** The seconds of traffic the live plots show. */
const trafficSeconds = 300;

const api = new ApiClient();
const peerPanel = new PeerPanel(required('peer-panel'), api);
const swarm = new SwarmPanel(required('swarm'), (peer) => void peerPanel.show(peer));
const chat = new ChatPanel(required('chat'), api);
const plots = new TrafficPlots(required('plots'));
const windowSelect = required<HTMLSelectElement>('window-select');
const headerStatus = required('header-status');

const poller = new Poller(pollIntervalMs, async () => {
  await Promise.all([pollSwarm(), pollAvailability(), pollTraffic()]);
});
const availability = new AvailabilityPanel(required('availability'), api, () => poller.refreshNow());

async function pollSwarm(): Promise<void> {
  try {
    const view = await api.getJson<SwarmView>('/v1/admin/swarm');
    swarm.render(view);
    availability.renderSwarm(view);
    headerStatus.textContent = `${modeOf(view)} replication · ${view.peers.filter((peer) => peer.state === 'up').length} of ${view.peers.length} peers up${view.localSwarm ? ' · a local swarm' : ''} · updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    swarm.showError(messageOf(error));
    headerStatus.textContent = `This peer does not answer: ${messageOf(error)}`;
  }
}

async function pollAvailability(): Promise<void> {
  // A duration back from the peer's own clock (5m, 1h, 1d) rather than a time from the browser's, which may not agree with it; 0 is the beginning.
  try {
    availability.renderReport(await api.getJson<AvailabilityReport>(`/v1/admin/availability?since=${encodeURIComponent(windowSelect.value)}`));
  } catch (error) {
    availability.showError(messageOf(error));
  }
}

async function pollTraffic(): Promise<void> {
  try {
    plots.render((await api.getJson<RequestSeries>(`/v1/admin/requests?seconds=${trafficSeconds}`)).series);
  } catch (error) {
    plots.showError(messageOf(error));
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const keyForm = required<HTMLFormElement>('key-form');
const keyInput = required<HTMLInputElement>('key-input');
api.onUnauthorized(() => {
  if (keyForm.hidden) {
    keyForm.hidden = false;
    keyInput.focus();
  }
});
keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (keyInput.value.trim() === '') return;
  api.setKey(keyInput.value);
  keyInput.value = '';
  keyForm.hidden = true;
  poller.refreshNow();
  void chat.loadModels();
});
windowSelect.addEventListener('change', () => poller.refreshNow());

poller.start();
void chat.loadModels();
