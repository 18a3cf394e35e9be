package dev.bitsweep.plan;

import java.util.Arrays;

/**
 * Spearman's rank correlation: Pearson's correlation of the ranks, tied values sharing the average of the ranks they
 * span. Tells whether a cheap proxy (weight SNR, output error) orders layers the way the measured metric deltas do.
 */
public final class RankCorrelation {
  private RankCorrelation() {}

  /** NaN when there are fewer than two pairs or one side is constant (no ranking to compare). */
  public static double spearman(double[] x, double[] y) {
    if (x.length != y.length) {
      throw new IllegalArgumentException("rank correlation needs pairs: " + x.length + " vs " + y.length + " values");
    }
    for (int i = 0; i < x.length; i++) {
      if (Double.isNaN(x[i]) || Double.isNaN(y[i])) {
        throw new IllegalArgumentException("rank correlation got NaN at pair " + i + "; drop unmeasured pairs first");
      }
    }
    if (x.length < 2) {
      return Double.NaN;
    }
    return pearson(ranks(x), ranks(y));
  }

  /** 1-based ranks, ties averaged. */
  static double[] ranks(double[] values) {
    int n = values.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(values[a], values[b]));
    double[] ranks = new double[n];
    for (int start = 0; start < n; ) {
      int end = start;
      while (end + 1 < n && Double.compare(values[order[end + 1]], values[order[start]]) == 0) {
        end++;
      }
      double average = (start + end) / 2.0 + 1;
      for (int k = start; k <= end; k++) {
        ranks[order[k]] = average;
      }
      start = end + 1;
    }
    return ranks;
  }

  private static double pearson(double[] a, double[] b) {
    double meanA = Arrays.stream(a).average().orElseThrow();
    double meanB = Arrays.stream(b).average().orElseThrow();
    double sab = 0;
    double saa = 0;
    double sbb = 0;
    for (int i = 0; i < a.length; i++) {
      sab += (a[i] - meanA) * (b[i] - meanB);
      saa += (a[i] - meanA) * (a[i] - meanA);
      sbb += (b[i] - meanB) * (b[i] - meanB);
    }
    return saa == 0 || sbb == 0 ? Double.NaN : sab / Math.sqrt(saa * sbb);
  }
}
