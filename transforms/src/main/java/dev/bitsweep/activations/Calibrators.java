package dev.bitsweep.activations;

/**
 * Turns an activation's histogram into the range [lo, hi] its quantization covers:
 * <ul>
 *   <li>{@code minmax}: the exact min and max seen;</li>
 *   <li>{@code percentile} p: symmetric, the p-th percentile of |x| as ±t; asymmetric, the (100 - p)-th and p-th
 *       percentiles of x (bin edges that keep at least that share of values inside), clipped to [min, max];</li>
 *   <li>{@code entropy}: for each sign's tail, the clipping threshold t that minimises KL(P || Q) between the
 *       histogram P of |x| clipped at t (the clipped tail added to its last bin) and Q, its quantization to the
 *       dtype's levels on [0, t] expanded back over P's non-empty bins (Migacz, "8-bit Inference with TensorRT",
 *       2017); the range is [-t_negative, t_positive] clipped to [min, max]. The signs are kept apart so that a
 *       spike on one side (the background value of a normalized image) does not clip the other side's tail. Values that are exactly 0 (half of a Relu output) are left out of P: 0 is exact at every
 *       threshold, and the spike would otherwise pull the threshold far into the tail.</li>
 * </ul>
 * Every range holds 0 once {@link QuantParams#of} widens it.
 */
public final class Calibrators {
  private Calibrators() {}

  /** [lo, hi] for {@code histogram} under {@code config}. An empty histogram is an error naming the tensor. */
  public static double[] range(String tensor, ActivationHistogram histogram, ActivationQuantConfig config) {
    if (histogram.count() == 0) {
      throw new IllegalArgumentException("activation " + tensor + " saw no values on the calibration data");
    }
    double min = histogram.min();
    double max = histogram.max();
    if (histogram.exponent() == ActivationHistogram.NO_EXPONENT) {
      return new double[] {0, 0};
    }
    return switch (config.calibration()) {
      case MINMAX -> new double[] {min, max};
      case PERCENTILE -> percentile(histogram, config.percentile(), config.symmetric());
      case ENTROPY -> {
        int levels = !config.symmetric() && (min >= 0 || max <= 0) ? config.dtype().max() - config.dtype().min() + 1
            : 128;
        long[] counts = histogram.counts();
        int half = ActivationHistogram.BINS_PER_SIDE;
        long[] positive = java.util.Arrays.copyOfRange(counts, half, 2 * half);
        positive[0] -= histogram.zeros();
        long[] negative = new long[half];
        for (int k = 0; k < half; k++) {
          negative[k] = counts[half - 1 - k];
        }
        double w = histogram.binWidth();
        double hi = max > 0 ? Math.min(max, entropyThreshold(positive, w, levels)) : max;
        double lo = min < 0 ? Math.max(min, -entropyThreshold(negative, w, levels)) : min;
        yield new double[] {lo, hi};
      }
    };
  }

  static double[] percentile(ActivationHistogram histogram, double percent, boolean symmetric) {
    double w = histogram.binWidth();
    if (symmetric) {
      long[] abs = histogram.absoluteCounts();
      int bin = upperBin(abs, histogram.count(), percent);
      double t = Math.min((bin + 1) * w, Math.max(-histogram.min(), histogram.max()));
      return new double[] {-t, t};
    }
    long[] counts = histogram.counts();
    int half = ActivationHistogram.BINS_PER_SIDE;
    int top = upperBin(counts, histogram.count(), percent);
    long[] reversed = new long[counts.length];
    for (int i = 0; i < counts.length; i++) {
      reversed[i] = counts[counts.length - 1 - i];
    }
    int bottom = counts.length - 1 - upperBin(reversed, histogram.count(), percent);
    double hi = Math.min((top + 1 - half) * w, histogram.max());
    double lo = Math.max((bottom - half) * w, histogram.min());
    return new double[] {lo, hi};
  }

  /** The first bin at which the cumulative count reaches ceil(percent / 100 x total). */
  private static int upperBin(long[] counts, long total, double percent) {
    long target = (long) Math.ceil(percent / 100 * total);
    target = Math.max(1, Math.min(total, target));
    long cumulative = 0;
    for (int i = 0; i < counts.length; i++) {
      cumulative += counts[i];
      if (cumulative >= target) {
        return i;
      }
    }
    return counts.length - 1;
  }

  /**
   * The KL-optimal threshold over a histogram of |x| ({@code abs}, bins of width {@code w}) for {@code levels}
   * quantization levels: the candidate thresholds are the bin edges i x w for i from {@code levels} to the last
   * non-empty bin; ties keep the smallest threshold. With fewer non-empty bins than levels nothing is clipped.
   */
  static double entropyThreshold(long[] abs, double w, int levels) {
    int last = abs.length - 1;
    while (last > 0 && abs[last] == 0) {
      last--;
    }
    int end = last + 1;
    if (end <= levels) {
      return end * w;
    }
    double bestKl = Double.POSITIVE_INFINITY;
    int best = end;
    double[] p = new double[end];
    double[] q = new double[end];
    for (int i = levels; i <= end; i++) {
      double outliers = 0;
      for (int k = i; k < end; k++) {
        outliers += abs[k];
      }
      for (int k = 0; k < i; k++) {
        p[k] = abs[k];
      }
      p[i - 1] += outliers;
      // Quantize bins [0, i) into `levels` groups of (nearly) equal width, then spread each group's mass evenly
      // over its non-empty source bins.
      for (int level = 0; level < levels; level++) {
        int from = (int) ((long) level * i / levels);
        int to = (int) ((long) (level + 1) * i / levels);
        double mass = 0;
        int nonEmpty = 0;
        for (int k = from; k < to; k++) {
          mass += abs[k];
          if (abs[k] != 0) {
            nonEmpty++;
          }
        }
        for (int k = from; k < to; k++) {
          q[k] = abs[k] == 0 || nonEmpty == 0 ? 0 : mass / nonEmpty;
        }
      }
      double kl = divergence(p, q, i);
      if (kl < bestKl) {
        bestKl = kl;
        best = i;
      }
    }
    return best * w;
  }

  /** KL(P || Q) of the first n bins, both normalized; a bin where P > 0 and Q = 0 costs a small smoothing mass. */
  static double divergence(double[] p, double[] q, int n) {
    double sumP = 0;
    double sumQ = 0;
    for (int k = 0; k < n; k++) {
      sumP += p[k];
      sumQ += q[k];
    }
    if (sumP == 0 || sumQ == 0) {
      return Double.POSITIVE_INFINITY;
    }
    double kl = 0;
    for (int k = 0; k < n; k++) {
      if (p[k] == 0) {
        continue;
      }
      double pk = p[k] / sumP;
      double qk = q[k] == 0 ? 1e-10 : q[k] / sumQ;
      kl += pk * Math.log(pk / qk);
    }
    return kl;
  }
}
