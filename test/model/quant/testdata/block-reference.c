/*
 * Independent reference for nines' Q4_0, Q5_0, Q4_K and Q6_K code, in C float32 arithmetic
 * with the compiler's IEEE half type (_Float16, GCC 12+ on x86-64 or arm64). It states the
 * block layouts of ggml (ggml-common.h) as C structs, decodes them with ggml's formulas
 * (dequantize_row_* in ggml-quants.c), and quantizes with the algorithms of ggml's
 * reference quantizers (quantize_row_*_ref) as their descriptions give them, all in float,
 * as llama.cpp computes. It prints test vectors as JSON. Regenerate with:
 *
 *   gcc -O0 -std=c11 -o /tmp/block-reference test/model/quant/testdata/block-reference.c -lm \
 *     && /tmp/block-reference > test/model/quant/testdata/block-reference.json
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint64_t state = 0x2545f4914f6cdd1dull;
static uint64_t next64(void) { /* splitmix64 */
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static float uniform(void) { return (float)(next64() >> 40) / (float)(1 << 24) * 2.0f - 1.0f; }
static float gaussian(void) { /* sum of 4 uniforms: close enough to bell-shaped for test data */
  return (uniform() + uniform() + uniform() + uniform()) * 0.866f;
}
static uint32_t bits_of(float x) { uint32_t b; memcpy(&b, &x, 4); return b; }
static uint16_t half_bits(float x) { _Float16 h = (_Float16)x; uint16_t b; memcpy(&b, &h, 2); return b; }
static float half_value(uint16_t b) { _Float16 h; memcpy(&h, &b, 2); return (float)h; }
/* To nearest, ties to even, in float: what ggml's nearest_int computes. */
static int nearest(float x) { return (int)rintf(x); }
static int clamp(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

typedef struct { uint16_t d; uint8_t qs[16]; } block_q4_0;
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; } block_q5_0;
typedef struct { uint16_t d; uint16_t dmin; uint8_t scales[12]; uint8_t qs[128]; } block_q4_K;
typedef struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; } block_q6_K;

/* ---- Q4_0 and Q5_0: d = (value of largest magnitude) / -8 or / -16 ---- */

static float extreme_of(const float *x, int n) {
  float magnitude = 0.0f, extreme = 0.0f;
  for (int j = 0; j < n; j++) if (fabsf(x[j]) > magnitude) { magnitude = fabsf(x[j]); extreme = x[j]; }
  return extreme;
}

static void quantize_q4_0(const float *x, block_q4_0 *y) {
  const float d = extreme_of(x, 32) / -8.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  y->d = half_bits(d);
  for (int j = 0; j < 16; j++) {
    int lo = (int8_t)(x[j] * id + 8.5f), hi = (int8_t)(x[j + 16] * id + 8.5f);
    y->qs[j] = (uint8_t)((lo < 15 ? lo : 15) | ((hi < 15 ? hi : 15) << 4));
  }
}

static void dequantize_q4_0(const block_q4_0 *b, float *out) {
  const float d = half_value(b->d);
  for (int j = 0; j < 16; j++) { out[j] = ((b->qs[j] & 15) - 8) * d; out[j + 16] = ((b->qs[j] >> 4) - 8) * d; }
}

static void quantize_q5_0(const float *x, block_q5_0 *y) {
  const float d = extreme_of(x, 32) / -16.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  y->d = half_bits(d);
  uint32_t qh = 0;
  for (int j = 0; j < 16; j++) {
    int lo = (int8_t)(x[j] * id + 16.5f), hi = (int8_t)(x[j + 16] * id + 16.5f);
    lo = lo < 31 ? lo : 31;
    hi = hi < 31 ? hi : 31;
    y->qs[j] = (uint8_t)((lo & 15) | ((hi & 15) << 4));
    qh |= (uint32_t)(lo >> 4) << j;
    qh |= (uint32_t)(hi >> 4) << (j + 16);
  }
  memcpy(y->qh, &qh, 4); /* little-endian host */
}

static void dequantize_q5_0(const block_q5_0 *b, float *out) {
  const float d = half_value(b->d);
  uint32_t qh;
  memcpy(&qh, b->qh, 4);
  for (int j = 0; j < 16; j++) {
    out[j] = (int)(((b->qs[j] & 15) | (((qh >> j) & 1) << 4)) - 16) * d;
    out[j + 16] = (int)(((b->qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16) * d;
  }
}

/* ---- Q4_K ---- */

static void scale_min_of(int j, const uint8_t *s, int *scale, int *min) {
  if (j < 4) { *scale = s[j] & 63; *min = s[j + 4] & 63; }
  else { *scale = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4); *min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4); }
}

/* The weighted search for one sub-block's scale and min (value = scale * level - min). */
static float fit_affine(const float *x, const float *w, int n, int nmax, uint8_t *levels, float *min_out) {
  float lo = x[0], hi = x[0], sum_w = 0.0f, sum_x = 0.0f;
  for (int i = 0; i < n; i++) { lo = fminf(lo, x[i]); hi = fmaxf(hi, x[i]); sum_w += w[i]; sum_x += w[i] * x[i]; }
  if (lo > 0.0f) lo = 0.0f;
  if (hi == lo) { memset(levels, 0, (size_t)n); *min_out = -lo; return 0.0f; }
  float iscale = nmax / (hi - lo), scale = 1.0f / iscale, best = 0.0f;
  for (int i = 0; i < n; i++) {
    levels[i] = (uint8_t)clamp(nearest(iscale * (x[i] - lo)), 0, nmax);
    float diff = scale * levels[i] + lo - x[i];
    best += w[i] * diff * diff;
  }
  uint8_t trial[32];
  for (int step = 0; step <= 20; step++) {
    iscale = (-1.0f + 0.1f * step + nmax) / (hi - lo);
    float sum_l = 0.0f, sum_l2 = 0.0f, sum_xl = 0.0f;
    for (int i = 0; i < n; i++) {
      int l = clamp(nearest(iscale * (x[i] - lo)), 0, nmax);
      trial[i] = (uint8_t)l;
      sum_l += w[i] * l; sum_l2 += w[i] * l * l; sum_xl += w[i] * l * x[i];
    }
    float det = sum_w * sum_l2 - sum_l * sum_l;
    if (det > 0.0f) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
      if (this_min > 0.0f) { this_min = 0.0f; this_scale = sum_xl / sum_l2; }
      float error = 0.0f;
      for (int i = 0; i < n; i++) { float diff = this_scale * trial[i] + this_min - x[i]; error += w[i] * diff * diff; }
      if (error < best) { memcpy(levels, trial, (size_t)n); best = error; scale = this_scale; lo = this_min; }
    }
  }
  *min_out = -lo;
  return scale;
}

static void quantize_q4_K(const float *x, block_q4_K *y) {
  uint8_t levels[256];
  float scales[8], mins[8], w[32], max_scale = 0.0f, max_min = 0.0f;
  memset(y, 0, sizeof *y);
  for (int j = 0; j < 8; j++) {
    const float *xs = x + 32 * j;
    float sum2 = 0.0f;
    for (int l = 0; l < 32; l++) sum2 += xs[l] * xs[l];
    const float rms = sqrtf(sum2 / 32);
    for (int l = 0; l < 32; l++) w[l] = rms + fabsf(xs[l]);
    scales[j] = fit_affine(xs, w, 32, 15, levels + 32 * j, &mins[j]);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
  for (int j = 0; j < 8; j++) {
    int ls = clamp(nearest(inv_scale * scales[j]), 0, 63), lm = clamp(nearest(inv_min * mins[j]), 0, 63);
    if (j < 4) { y->scales[j] = (uint8_t)ls; y->scales[j + 4] = (uint8_t)lm; }
    else {
      y->scales[j + 4] = (uint8_t)((ls & 15) | ((lm & 15) << 4));
      y->scales[j - 4] |= (uint8_t)((ls >> 4) << 6);
      y->scales[j] |= (uint8_t)((lm >> 4) << 6);
    }
  }
  y->d = half_bits(max_scale / 63.0f);
  y->dmin = half_bits(max_min / 63.0f);
  for (int j = 0; j < 8; j++) {
    int sc, m;
    scale_min_of(j, y->scales, &sc, &m);
    const float d = half_value(y->d) * sc;
    if (d == 0.0f) continue;
    const float dm = half_value(y->dmin) * m;
    for (int l = 0; l < 32; l++) levels[32 * j + l] = (uint8_t)clamp(nearest((x[32 * j + l] + dm) / d), 0, 15);
  }
  for (int pair = 0; pair < 4; pair++)
    for (int l = 0; l < 32; l++) y->qs[32 * pair + l] = (uint8_t)(levels[64 * pair + l] | (levels[64 * pair + 32 + l] << 4));
}

static void dequantize_q4_K(const block_q4_K *b, float *out) {
  const float d = half_value(b->d), dmin = half_value(b->dmin);
  for (int pair = 0; pair < 4; pair++) {
    int sc, m;
    scale_min_of(2 * pair, b->scales, &sc, &m);
    const float d1 = d * sc, m1 = dmin * m;
    scale_min_of(2 * pair + 1, b->scales, &sc, &m);
    const float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; l++) out[64 * pair + l] = d1 * (b->qs[32 * pair + l] & 15) - m1;
    for (int l = 0; l < 32; l++) out[64 * pair + 32 + l] = d2 * (b->qs[32 * pair + l] >> 4) - m2;
  }
}

/* ---- Q6_K ---- */

/* The best-scale search for one sub-block of 16 (levels -32..31 stored + 32, weights x^2). */
static float fit_symmetric(const float *x, int n, int nmax, uint8_t *levels) {
  float magnitude = 0.0f, extreme = 0.0f;
  for (int i = 0; i < n; i++) if (fabsf(x[i]) > magnitude) { magnitude = fabsf(x[i]); extreme = x[i]; }
  if (magnitude < 1e-15f) { memset(levels, 0, (size_t)n); return 0.0f; }
  float iscale = -nmax / extreme, sum_xl = 0.0f, sum_l2 = 0.0f;
  for (int i = 0; i < n; i++) {
    int l = clamp(nearest(iscale * x[i]), -nmax, nmax - 1);
    levels[i] = (uint8_t)(l + nmax);
    float w = x[i] * x[i];
    sum_xl += w * x[i] * l; sum_l2 += w * l * l;
  }
  float scale = sum_l2 != 0.0f ? sum_xl / sum_l2 : 0.0f, best = scale * sum_xl;
  for (int step = -9; step <= 9; step++) {
    if (step == 0) continue;
    iscale = -(nmax + 0.1f * step) / extreme;
    sum_xl = sum_l2 = 0.0f;
    for (int i = 0; i < n; i++) {
      int l = clamp(nearest(iscale * x[i]), -nmax, nmax - 1);
      float w = x[i] * x[i];
      sum_xl += w * x[i] * l; sum_l2 += w * l * l;
    }
    if (sum_l2 > 0.0f && sum_xl * sum_xl > best * sum_l2) {
      for (int i = 0; i < n; i++) levels[i] = (uint8_t)(clamp(nearest(iscale * x[i]), -nmax, nmax - 1) + nmax);
      scale = sum_xl / sum_l2; best = scale * sum_xl;
    }
  }
  return scale;
}

static void quantize_q6_K(const float *x, block_q6_K *y) {
  uint8_t levels[256];
  float scales[16], magnitude = 0.0f, extreme = 0.0f;
  memset(y, 0, sizeof *y);
  for (int j = 0; j < 16; j++) {
    scales[j] = fit_symmetric(x + 16 * j, 16, 32, levels + 16 * j);
    if (fabsf(scales[j]) > magnitude) { magnitude = fabsf(scales[j]); extreme = scales[j]; }
  }
  if (magnitude < 1e-15f) return;
  const float iscale = -128.0f / extreme;
  y->d = half_bits(1.0f / iscale);
  for (int j = 0; j < 16; j++) { int s = nearest(iscale * scales[j]); y->scales[j] = (int8_t)(s < 127 ? s : 127); }
  for (int j = 0; j < 16; j++) {
    const float d = half_value(y->d) * y->scales[j];
    if (d == 0.0f) continue;
    for (int l = 0; l < 16; l++) levels[16 * j + l] = (uint8_t)(clamp(nearest(x[16 * j + l] / d), -32, 31) + 32);
  }
  for (int half = 0; half < 2; half++) {
    const uint8_t *L = levels + 128 * half;
    for (int l = 0; l < 32; l++) {
      y->ql[64 * half + l] = (uint8_t)((L[l] & 15) | ((L[l + 64] & 15) << 4));
      y->ql[64 * half + 32 + l] = (uint8_t)((L[l + 32] & 15) | ((L[l + 96] & 15) << 4));
      y->qh[32 * half + l] = (uint8_t)((L[l] >> 4) | ((L[l + 32] >> 4) << 2) | ((L[l + 64] >> 4) << 4) | ((L[l + 96] >> 4) << 6));
    }
  }
}

static void dequantize_q6_K(const block_q6_K *b, float *out) {
  const float d = half_value(b->d);
  for (int half = 0; half < 2; half++) {
    const uint8_t *ql = b->ql + 64 * half, *qh = b->qh + 32 * half;
    const int8_t *sc = b->scales + 8 * half;
    float *y = out + 128 * half;
    for (int l = 0; l < 32; l++) {
      int is = l / 16;
      y[l] = d * sc[is] * (int)(((ql[l] & 15) | ((qh[l] & 3) << 4)) - 32);
      y[l + 32] = d * sc[is + 2] * (int)(((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32);
      y[l + 64] = d * sc[is + 4] * (int)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
      y[l + 96] = d * sc[is + 6] * (int)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
    }
  }
}

/* ---- test vectors ---- */

#define SUPER_BLOCKS 24 /* every pairing of the 8 kinds of data with the 6 magnitudes */

static void print_bytes(const char *name, const void *data, size_t size, int last) {
  const uint8_t *bytes = data;
  printf("  \"%s\": [", name);
  for (size_t i = 0; i < size; i++) printf("%s%u", i ? ", " : "", bytes[i]);
  printf("]%s\n", last ? "" : ",");
}

static void print_floats(const char *name, const float *values, int count, int last) {
  printf("  \"%s\": [", name);
  for (int i = 0; i < count; i++) printf("%s%u", i ? ", " : "", bits_of(values[i]));
  printf("]%s\n", last ? "" : ",");
}

int main(void) {
  static float x[SUPER_BLOCKS * 256];
  for (int blk = 0; blk < SUPER_BLOCKS; blk++) {
    const float scale = powf(10.0f, (float)(blk % 6) - 3.0f); /* 1e-3 to 1e2 */
    const float offset = (blk % 4 == 1) ? 2.0f * scale : 0.0f; /* some all-positive blocks, where the min matters */
    for (int j = 0; j < 256; j++) {
      float v;
      switch (blk % 8) {
        case 0: v = uniform() * scale; break;
        case 3: v = 0.0f; break;
        case 5: v = (j % 37 == 0 ? 8.0f : 1.0f) * gaussian() * scale; break; /* outliers */
        case 6: v = (float)((int)(uniform() * 8.0f)) * scale; break; /* few distinct values: ties */
        default: v = gaussian() * scale + offset; break;
      }
      x[blk * 256 + j] = v;
    }
  }
  static block_q4_0 q4_0[SUPER_BLOCKS * 8];
  static block_q5_0 q5_0[SUPER_BLOCKS * 8];
  static block_q4_K q4_K[SUPER_BLOCKS];
  static block_q6_K q6_K[SUPER_BLOCKS];
  static float d4_0[SUPER_BLOCKS * 256], d5_0[SUPER_BLOCKS * 256], d4_K[SUPER_BLOCKS * 256], d6_K[SUPER_BLOCKS * 256];
  for (int b = 0; b < SUPER_BLOCKS * 8; b++) {
    quantize_q4_0(x + 32 * b, &q4_0[b]);
    dequantize_q4_0(&q4_0[b], d4_0 + 32 * b);
    quantize_q5_0(x + 32 * b, &q5_0[b]);
    dequantize_q5_0(&q5_0[b], d5_0 + 32 * b);
  }
  /* Q4_0's and Q5_0's values are small integers times d, exact in float: only their sum is printed, as a check. */
  double sum4_0 = 0.0, sum5_0 = 0.0;
  for (int i = 0; i < SUPER_BLOCKS * 256; i++) { sum4_0 += d4_0[i]; sum5_0 += d5_0[i]; }
  for (int b = 0; b < SUPER_BLOCKS; b++) {
    quantize_q4_K(x + 256 * b, &q4_K[b]);
    dequantize_q4_K(&q4_K[b], d4_K + 256 * b);
    quantize_q6_K(x + 256 * b, &q6_K[b]);
    dequantize_q6_K(&q6_K[b], d6_K + 256 * b);
  }
  printf("{\n");
  print_floats("input", x, SUPER_BLOCKS * 256, 0);
  print_bytes("q4_0", q4_0, sizeof q4_0, 0);
  printf("  \"q4_0ValueSum\": %.17g,\n", sum4_0);
  print_bytes("q5_0", q5_0, sizeof q5_0, 0);
  printf("  \"q5_0ValueSum\": %.17g,\n", sum5_0);
  print_bytes("q4_K", q4_K, sizeof q4_K, 0);
  print_floats("q4_KValues", d4_K, SUPER_BLOCKS * 256, 0);
  print_bytes("q6_K", q6_K, sizeof q6_K, 0);
  print_floats("q6_KValues", d6_K, SUPER_BLOCKS * 256, 1);
  printf("}\n");
  return 0;
}
