/** Defaults and limits of a chaos run, with their units. */

/** The longest run `nines chaos` accepts: a day. */
export const durationMsMax = 86_400_000;
/** The shortest mean time between kills and repair time accepted. */
export const mtbfMsMin = 1_000;
export const repairMsMin = 100;
/** Kills one run may plan at most, whatever --kills-max says. */
export const killsMaxLimit = 10_000;
/** Targets (--target) one run may drive. */
export const targetsMax = 16;

/** Concurrent chat clients; each holds one conversation at a time. */
export const chatClients = 3;
/** Turns per conversation before a client starts a new one (the history grows into the prompt). */
export const turnsPerConversation = 5;
/** Tokens each chat answer may have: short, so a turn is quick. */
export const chatTokensMax = 8;
/** Concurrent key-value clients; each alternates a put of a new numbered key and a get of an acknowledged one. */
export const kvClients = 2;
/** Pauses between one client's requests, so the workload is steady and leaves the two shared cores to the peers. */
export const chatPauseMs = 150;
export const kvPauseMs = 100;
/** A request that has no answer by then has failed. */
export const chatRequestTimeoutMs = 30_000;
export const kvRequestTimeoutMs = 10_000;
/** When every gateway refuses connections, a client waits this long before trying again. */
export const allRefusedPauseMs = 200;
/** Request outcomes one run keeps at most; beyond it the run stops its workload and says so. */
export const requestRecordsMax = 2_000_000;
/** Bytes of an answer body a client reads at most. */
export const responseBytesMax = 1024 * 1024;

/** How often the leader is polled on every live peer, and how often while a failover is open. */
export const leaderPollMs = 200;
export const leaderPollFailoverMs = 50;
/** How often the failover probe tries a write after the leader is killed, and for how long at most. */
export const failoverProbeMs = 50;
export const failoverProbeTimeoutMs = 30_000;
/** Each status poll and probe write gives up after this long. */
export const probeRequestTimeoutMs = 1_000;

/** After the run: how long the read-back may retry while the swarm settles (a restart still finishing). */
export const readBackTimeoutMs = 60_000;
export const readBackRetryMs = 250;

/** The targets a run is held to (issue 8). */
export const chatSuccessTarget = 0.999;
export const failoverMttrMsTarget = 1_000;
/** The SLO handed to the availability report, on chat requests. */
export const sloTarget = 0.999;

/** Peers a run needs before it may kill any: with fewer, a minority is no peer at all. */
export const peersForKillsMin = 3;

/**
 * Requests a minute the run's own API key may make on each gateway: well above what its clients
 * send (about 15 a second in all), so a 429 in a run is never its own quota at work. With one
 * front gateway taking every chat request, the default 600 a minute would refuse a third of them.
 */
export const chaosKeyRequestsPerMinute = 100_000;
