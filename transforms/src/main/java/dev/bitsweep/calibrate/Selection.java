package dev.bitsweep.calibrate;

/** Order statistics without a full sort. */
final class Selection {
  private Selection() {}

  /** The k-th smallest value (0-based) of {@code values}, which is reordered in place (Hoare quickselect). */
  static float kthSmallest(float[] values, int k) {
    int lo = 0;
    int hi = values.length - 1;
    while (lo < hi) {
      float pivot = medianOfThree(values[lo], values[(lo + hi) >>> 1], values[hi]);
      int i = lo;
      int j = hi;
      while (i <= j) {
        while (values[i] < pivot) {
          i++;
        }
        while (values[j] > pivot) {
          j--;
        }
        if (i <= j) {
          float swap = values[i];
          values[i] = values[j];
          values[j] = swap;
          i++;
          j--;
        }
      }
      if (k <= j) {
        hi = j;
      } else if (k >= i) {
        lo = i;
      } else {
        return values[k];
      }
    }
    return values[k];
  }

  private static float medianOfThree(float a, float b, float c) {
    return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
  }
}
