/**
 * A seeded pseudo-random generator whose whole state is plain data.
 *
 * Every random choice in nines (sampler coins, election jitter, lookup order, the
 * simulator's faults, weight initialisation) comes from one of these, so a run can be
 * replayed from its seed and a generation can be saved on one peer and resumed on
 * another. The algorithm is xoshiro128** (Blackman and Vigna), seeded through
 * splitmix32 so that nearby seeds give unrelated streams.
 */

/** The generator's complete state: four unsigned 32-bit words. Safe to JSON-encode. */
export interface RngState {
  s0: number;
  s1: number;
  s2: number;
  s3: number;
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function rngStateFromSeed(seed: number): RngState {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  // Mix the high bits in too, so that seeds above 2^32 are distinct streams.
  const high = Math.floor(seed / 0x1_0000_0000) >>> 0;
  const next = splitmix32((seed >>> 0) ^ Math.imul(high, 0x27d4eb2d));
  const state = { s0: next(), s1: next(), s2: next(), s3: next() };
  if ((state.s0 | state.s1 | state.s2 | state.s3) === 0) state.s0 = 1;
  return state;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seedOrState: number | RngState) {
    const state = typeof seedOrState === 'number' ? rngStateFromSeed(seedOrState) : seedOrState;
    this.s0 = state.s0 >>> 0;
    this.s1 = state.s1 >>> 0;
    this.s2 = state.s2 >>> 0;
    this.s3 = state.s3 >>> 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) throw new RangeError('an all-zero xoshiro state never leaves zero');
  }

  /** A copy of the state, to save and later hand to `new Rng(state)`. */
  state(): RngState {
    return { s0: this.s0, s1: this.s1, s2: this.s2, s3: this.s3 };
  }

  /** The next unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A float in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** An integer in [0, bound), without modulo bias. */
  nextInt(bound: number): number {
    if (!Number.isInteger(bound) || bound <= 0 || bound > 0x1_0000_0000) throw new RangeError(`bound must be an integer in [1, 2^32], got ${bound}`);
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % bound);
    for (;;) {
      const value = this.nextUint32();
      if (value < limit) return value % bound;
    }
  }

  /** A standard normal sample (Box-Muller; uses two uniforms per call, no cached spare, so the state stays the whole story). */
  nextGaussian(): number {
    let u = 0;
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** An independent generator derived from this one (for giving each simulated peer its own stream). */
  fork(): Rng {
    return new Rng(rngStateFromSeed(this.nextUint32() * 0x20_0000 + (this.nextUint32() >>> 11)));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
