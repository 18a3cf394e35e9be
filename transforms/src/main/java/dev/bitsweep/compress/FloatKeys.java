package dev.bitsweep.compress;

/**
 * Integer keys whose signed order is the order of the floats they come from (-0.0 is folded into +0.0 first), and
 * an LSD radix sort of such keys: sorting a group of weights is the first step of exact 1-D k-means.
 */
final class FloatKeys {
  private FloatKeys() {}

  static int key(float value) {
    int bits = Float.floatToRawIntBits(value + 0.0f);
    return bits ^ ((bits >> 31) & 0x7fffffff);
  }

  static float value(int key) {
    int bits = key < 0 ? key ^ 0x7fffffff : key;
    return Float.intBitsToFloat(bits);
  }

  /** Sorts {@code keys[0..n)} ascending, permuting {@code payload} (may be null) alongside. Three 11-bit passes. */
  static void sort(int[] keys, float[] payload, int n) {
    int[] keysScratch = new int[n];
    float[] payloadScratch = payload == null ? null : new float[n];
    int[] from = keys;
    int[] to = keysScratch;
    float[] payloadFrom = payload;
    float[] payloadTo = payloadScratch;
    int[] counts = new int[2048];
    for (int shift = 0; shift < 33; shift += 11) {
      java.util.Arrays.fill(counts, 0);
      for (int i = 0; i < n; i++) {
        counts[digit(from[i], shift)]++;
      }
      int total = 0;
      for (int d = 0; d < counts.length; d++) {
        int count = counts[d];
        counts[d] = total;
        total += count;
      }
      for (int i = 0; i < n; i++) {
        int position = counts[digit(from[i], shift)]++;
        to[position] = from[i];
        if (payloadFrom != null) {
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
    // three passes leave the sorted data in the scratch arrays
    System.arraycopy(from, 0, keys, 0, n);
    if (payload != null) {
      System.arraycopy(payloadFrom, 0, payload, 0, n);
    }
  }

  /** The 11-bit digit of the key read as unsigned, so negative keys sort first. */
  private static int digit(int key, int shift) {
    return ((key ^ 0x80000000) >>> shift) & 0x7ff;
  }
}
