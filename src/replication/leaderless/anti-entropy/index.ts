/** Merkle-tree anti-entropy for leaderless replication: the public face of the folder. */
export { AntiEntropy, type AntiEntropyReady, type AntiEntropyStats } from './anti-entropy.js';
export { MerkleTree, bucketIndex, emptyTreeHash, innerHash, keyHash, leafHash, leafIndex, saltedShortHash, stateDigest } from './merkle.js';
export { antiEntropyMessageProblem, messageBytes, messageOverheadBytes, type AntiEntropyMessage, type AntiEntropyRefusal } from './messages.js';
export { AntiEntropySettingsError, antiEntropyDefaults, antiEntropySettings, shortHashHexDigits, type AntiEntropySettings } from './settings.js';
