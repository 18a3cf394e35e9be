package dev.bitsweep.compress;

import java.util.Arrays;

/**
 * Integer keys whose signed order is the order of the floats they come from (-0.0 is folded into +0.0 first), and
 * an LSD radix sort of such keys: sorting a group of weights is the first step of exact 1-D k-means.
 */
final class FloatKeys {
  private static final int DIGIT_BITS = 11;
  private static final int RADIX = 1 << DIGIT_BITS;
  private static final int PASSES = 3;

  private FloatKeys() {}

  static int key(float value) {
    int bits = Float.floatToRawIntBits(value + 0.0f);
    return bits ^ ((bits >> 31) & 0x7fffffff);
  }

  static float value(int key) {
    int bits = key < 0 ? key ^ 0x7fffffff : key;
    return Float.intBitsToFloat(bits);
  }

  /** Sorts {@code keys[0..n)} ascending, permuting {@code payload} (may be null) alongside. */
  static void sort(int[] keys, float[] payload, int n) {
    int[][] counts = new int[PASSES][RADIX];
    for (int i = 0; i < n; i++) {
      countDigits(keys[i], counts);
    }
    sortCounted(keys, payload, n, counts, new int[n], payload == null ? null : new float[n]);
  }

  /**
   * The keys of {@code values[from..to)} sorted ascending into {@code keys[0..n)}, {@code payload[0..n)} permuted
   * alongside (null: none). The keys are made and all digits counted in one pass; a digit that every key shares
   * costs no pass. {@code keysScratch} and {@code payloadScratch} need room for n entries.
   */
  static void sortedKeys(float[] values, int from, int to, int[] keys, float[] payload, int[] keysScratch,
      float[] payloadScratch, int[][] counts) {
    int n = to - from;
    for (int[] count : counts) {
      Arrays.fill(count, 0);
    }
    for (int i = 0; i < n; i++) {
      int key = key(values[from + i]);
      keys[i] = key;
      countDigits(key, counts);
    }
    sortCounted(keys, payload, n, counts, keysScratch, payloadScratch);
  }

  static int[][] newCounts() {
    return new int[PASSES][RADIX];
  }

  private static void countDigits(int key, int[][] counts) {
    int unsigned = key ^ 0x80000000;
    counts[0][unsigned & (RADIX - 1)]++;
    counts[1][(unsigned >>> DIGIT_BITS) & (RADIX - 1)]++;
    counts[2][unsigned >>> (2 * DIGIT_BITS)]++;
  }

  /** The LSD passes over keys whose digit counts are known; the sorted keys end in {@code keys}. */
  private static void sortCounted(int[] keys, float[] payload, int n, int[][] counts, int[] keysScratch,
      float[] payloadScratch) {
    int[] from = keys;
    int[] to = keysScratch;
    float[] payloadFrom = payload;
    float[] payloadTo = payload == null ? null : payloadScratch;
    for (int pass = 0; pass < PASSES; pass++) {
      int[] count = counts[pass];
      int shift = pass * DIGIT_BITS;
      if (n == 0 || count[digit(from[0], shift)] == n) {
        continue;
      }
      int total = 0;
      for (int d = 0; d < RADIX; d++) {
        int c = count[d];
        count[d] = total;
        total += c;
      }
      if (payloadFrom == null) {
        for (int i = 0; i < n; i++) {
          int key = from[i];
          to[count[digit(key, shift)]++] = key;
        }
      } else {
        for (int i = 0; i < n; i++) {
          int key = from[i];
          int position = count[digit(key, shift)]++;
          to[position] = key;
          payloadTo[position] = payloadFrom[i];
        }
      }
      int[] swap = from;
      from = to;
      to = swap;
      float[] payloadSwap = payloadFrom;
      payloadFrom = payloadTo;
      payloadTo = payloadSwap;
    }
    if (from != keys) {
      System.arraycopy(from, 0, keys, 0, n);
      if (payload != null) {
        System.arraycopy(payloadFrom, 0, payload, 0, n);
      }
    }
  }

  /** The digit of the key read as unsigned, so negative keys sort first. */
  private static int digit(int key, int shift) {
    return ((key ^ 0x80000000) >>> shift) & (RADIX - 1);
  }
}
