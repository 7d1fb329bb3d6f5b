/*
 * Independent reference for nines' f16 and Q8_0 code, in C with the compiler's IEEE half
 * type (_Float16, GCC 12+ on x86-64 or arm64). It transcribes llama.cpp's
 * quantize_row_q8_0_ref and prints test vectors as JSON. Regenerate with:
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

/* llama.cpp's quantize_row_q8_0_ref, with GGML_FP32_TO_FP16 as the IEEE conversion. */
static void quantize_row_q8_0_ref(const float *x, block_q8_0 *y, int64_t k) {
  const int nb = k / QK8_0;
  for (int i = 0; i < nb; i++) {
    float amax = 0.0f;
    for (int j = 0; j < QK8_0; j++) {
      const float v = x[i * QK8_0 + j];
      amax = fmaxf(amax, fabsf(v));
    }
    const float d = amax / ((1 << 7) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = half_bits(d);
    for (int j = 0; j < QK8_0; ++j) {
      const float x0 = x[i * QK8_0 + j] * id;
      y[i].qs[j] = roundf(x0);
    }
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
  quantize_row_q8_0_ref(x, y, BLOCKS * QK8_0);
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
