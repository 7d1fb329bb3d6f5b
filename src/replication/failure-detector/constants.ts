/**
 * Limits of the failure detector, named with their units.
 */

/**
 * The most peers one detector watches. A swarm is tens of peers; the limit keeps a flood of
 * discovered contacts (or a bug) from growing the per-tick work without bound.
 */
export const watchedPeersMax = 1_024;
