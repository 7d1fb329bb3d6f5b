/**
 * Errors of the multi-leader core that are not a client's reply: bad settings, and stored
 * state that contradicts itself. Client refusals travel as replies with a stable `code`
 * instead (see MultiLeaderReply), because they happen inside a Ready, not at the call.
 */
export abstract class MultiLeaderError extends Error {
  abstract readonly code: string;
}

export class MultiLeaderSettingsError extends MultiLeaderError {
  override name = 'MultiLeaderSettingsError';
  readonly code = 'MULTI_LEADER_SETTINGS_INVALID';
}

/** The state handed to the constructor at start-up is inconsistent: a damaged or mixed-up data directory. */
export class MultiLeaderStateError extends MultiLeaderError {
  override name = 'MultiLeaderStateError';
  readonly code = 'MULTI_LEADER_STATE_CORRUPT';
  constructor(problem: string) {
    super(`the stored multi-leader state is inconsistent: ${problem}; the data directory is damaged or belongs to another peer, restore it from a backup`);
  }
}
