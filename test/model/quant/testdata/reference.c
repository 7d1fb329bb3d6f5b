/*
 * Independent reference for nines' f16 and Q8_0 code, in C with the compiler's IEEE half
 * type (_Float16, GCC 12+ on x86-64 or arm64). It states ggml's Q8_0 rounding rule in
 * float32 C arithmetic (scale d = max|x| / 127 stored as f16; q = roundf(x * (1 / d)))
 * and prints test vectors as JSON. Regenerate with:
 *
 *   gcc -O0 -std=c11 -o /tmp/reference test/model/quant/testdata/reference.c -lm \
 *     && /tmp/reference > test/model/quant/testdata/reference.json
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint64_t state = 0x9e3779b97f4a7c15ull;
static uint64_t next64(void) { /* splitmix64 */
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static float uniform(void) { return (float)(next64() >> 40) / (float)(1 << 24) * 2.0f - 1.0f; }
static uint32_t bits_of(float x) { uint32_t b; memcpy(&b, &x, 4); return b; }
static float float_of(uint32_t b) { float x; memcpy(&x, &b, 4); return x; }
static uint16_t half_bits(float x) { _Float16 h = (_Float16)x; uint16_t b; memcpy(&b, &h, 2); return b; }
static float half_value(uint16_t b) { _Float16 h; memcpy(&h, &b, 2); return (float)h; }

#define QK8_0 32
typedef struct { uint16_t d; int8_t qs[QK8_0]; } block_q8_0;

/* Q8_0 as the format defines it: per block of 32, d = max|x| / 127 (in float32, then
 * stored as f16) and each q = roundf(x * (1 / d)), half away from zero; d = 0 gives q = 0. */
static void quantize_q8_0(const float *values, block_q8_0 *blocks, int64_t count) {
  for (int64_t block = 0; block < count / QK8_0; block++) {
    const float *x = values + block * QK8_0;
    float largest = 0.0f;
    for (int j = 0; j < QK8_0; j++) largest = fmaxf(largest, fabsf(x[j]));
    const float scale = largest / 127.0f;
    const float inverse = scale != 0.0f ? 1.0f / scale : 0.0f;
    blocks[block].d = half_bits(scale);
    for (int j = 0; j < QK8_0; j++) blocks[block].qs[j] = (int8_t)roundf(x[j] * inverse);
  }
}

#define F16_CASES 3000
#define BLOCKS 96

int main(void) {
  /* f32 -> f16: random bit patterns, exact midpoints between adjacent halves and their float neighbours. */
  printf("{\n  \"f32ToF16\": [");
  for (int i = 0; i < F16_CASES; i++) {
    uint32_t b;
    int kind = i % 3;
    if (kind == 0) {
      b = (uint32_t)next64();
    } else {
      uint16_t h = (uint16_t)(next64() % 0x7bff);
      float mid = (half_value(h) + half_value(h + 1)) / 2.0f;
      b = bits_of(mid) + (kind == 1 ? 0 : ((next64() & 1) ? 1 : -1));
      if (next64() & 1) b |= 0x80000000u;
    }
    float x = float_of(b);
    if (isnan(x)) b = 0x3f800000u; /* NaN payload handling is checked separately */
    printf("%s[%u, %u]", i ? ", " : "", b, half_bits(float_of(b)));
  }
  printf("],\n");

  /* Q8_0: blocks of assorted magnitudes, including exact .5 ties and zeros. */
  static float x[BLOCKS * QK8_0];
  for (int blk = 0; blk < BLOCKS; blk++) {
    float scale = powf(10.0f, (float)(blk % 12) - 9.0f); /* 1e-9 to 1e2: every scale fits an f16 */
    for (int j = 0; j < QK8_0; j++) {
      float v;
      switch (blk % 6) {
        case 0: v = uniform() * scale; break;
        case 1: v = (j == 0 ? 127.0f : (float)((int)(uniform() * 126.0f)) + 0.5f); break; /* ties at d = 1 */
        case 2: v = 0.0f; break;
        case 3: v = (j == 5 ? -scale : uniform() * scale * 1e-3f); break; /* negative extreme */
        case 4: v = float_of((uint32_t)(next64() % 0x00800000u)) * ((next64() & 1) ? 1.0f : -1.0f); break; /* subnormals */
        default: v = uniform() * uniform() * scale * 1000.0f; break;
      }
      x[blk * QK8_0 + j] = v;
    }
  }
  static block_q8_0 y[BLOCKS];
  quantize_q8_0(x, y, BLOCKS * QK8_0);
  printf("  \"q8_0Input\": [");
  for (int i = 0; i < BLOCKS * QK8_0; i++) printf("%s%u", i ? ", " : "", bits_of(x[i]));
  printf("],\n  \"q8_0Output\": [");
  for (int blk = 0; blk < BLOCKS; blk++) {
    printf("%s%u, %u", blk ? ", " : "", y[blk].d & 0xff, y[blk].d >> 8);
    for (int j = 0; j < QK8_0; j++) printf(", %u", (uint8_t)y[blk].qs[j]);
  }
  printf("]\n}\n");
  return 0;
}
