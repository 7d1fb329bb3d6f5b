/**
 * Versions shared by the multi-leader and leaderless modes: version vectors (what a replica
 * has seen), hybrid logical clocks (what order wall clocks put writes in), and the register
 * with dotted version vectors that turns concurrent writes into siblings.
 */
export * from './version-vector.js';
export * from './hlc.js';
export * from './register.js';
