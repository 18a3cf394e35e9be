package dev.bitsweep.activations;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The distribution of one activation tensor's values over some calibration samples: element count, exact min and
 * max, and a histogram of {@link #BINS_PER_SIDE} bins per sign over [-R, R), where R = 2^{@link #exponent()} is the
 * smallest power of two strictly above max|x|.
 *
 * <p>Bin edges are fixed by R alone, so two partials combine exactly: the one with the smaller R is rebinned onto
 * the larger by merging 2^(difference) adjacent bins (its edges nest in the larger's, because the bin count is a
 * power of two). {@code a.plus(b)} therefore equals the histogram of all of a's and b's values taken at once, bit for
 * bit, in any grouping and order, which is what a CombineFn across workers needs.
 */
public final class ActivationHistogram implements Serializable {
  private static final long serialVersionUID = 1L;
  /** Bins for each sign; 2 x 2048 in all (the entropy calibrator's usual 2048 bins over |x|). */
  public static final int BINS_PER_SIDE = 2048;
  private static final int LOG2_BINS = 11;
  /** The exponent of an all-zero (or empty) histogram: every counted value sits in the bin just above 0. */
  static final int NO_EXPONENT = Integer.MIN_VALUE;

  private final long count;
  private final long zeros;
  private final double min;
  private final double max;
  private final int exponent;
  private final long[] counts;

  private ActivationHistogram(long count, long zeros, double min, double max, int exponent, long[] counts) {
    this.count = count;
    this.zeros = zeros;
    this.min = min;
    this.max = max;
    this.exponent = exponent;
    this.counts = counts;
  }

  public static ActivationHistogram empty() {
    return new ActivationHistogram(0, 0, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, NO_EXPONENT,
        new long[2 * BINS_PER_SIDE]);
  }

  /** The histogram of {@code values}; NaN or infinite values are an error naming {@code tensor}. */
  public static ActivationHistogram of(String tensor, float[] values) {
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    long zeros = 0;
    for (float v : values) {
      zeros += v == 0 ? 1 : 0;
      if (!Float.isFinite(v)) {
        throw new IllegalArgumentException("activation " + tensor + " holds " + v + " on the calibration data: "
            + "a range cannot be calibrated; check the model and the calibration inputs");
      }
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    long[] counts = new long[2 * BINS_PER_SIDE];
    double absMax = values.length == 0 ? 0 : Math.max(-min, max);
    int exponent = absMax == 0 ? NO_EXPONENT : Math.getExponent(absMax) + 1;
    if (exponent == NO_EXPONENT) {
      counts[BINS_PER_SIDE] = values.length;
    } else {
      double toBins = Math.scalb(1.0, LOG2_BINS - exponent);
      for (float v : values) {
        counts[BINS_PER_SIDE + (int) Math.floor(v * toBins)]++;
      }
    }
    return new ActivationHistogram(values.length, zeros, min, max, exponent, counts);
  }

  /** The histogram of both partials' values together (exact; commutative and associative). */
  public ActivationHistogram plus(ActivationHistogram other) {
    int target = Math.max(exponent, other.exponent);
    long[] sum = rebinned(target);
    long[] theirs = other.rebinned(target);
    for (int i = 0; i < sum.length; i++) {
      sum[i] += theirs[i];
    }
    return new ActivationHistogram(count + other.count, zeros + other.zeros, Math.min(min, other.min), Math.max(max, other.max), target,
        sum);
  }

  private long[] rebinned(int target) {
    if (target == exponent || exponent == NO_EXPONENT) {
      return counts.clone();
    }
    int shift = target - exponent;
    long[] out = new long[counts.length];
    for (int b = 0; b < counts.length; b++) {
      if (counts[b] != 0) {
        // floor((b - H) / 2^shift), exact for negative offsets too
        int offset = shift >= 31 ? ((b - BINS_PER_SIDE) < 0 ? -1 : 0) : (b - BINS_PER_SIDE) >> shift;
        out[BINS_PER_SIDE + offset] += counts[b];
      }
    }
    return out;
  }

  public long count() {
    return count;
  }

  /** How many values were exactly 0 (Relu outputs, padding): exact at any scale. */
  public long zeros() {
    return zeros;
  }

  /** The smallest value seen (+Infinity when empty). */
  public double min() {
    return min;
  }

  /** The largest value seen (-Infinity when empty). */
  public double max() {
    return max;
  }

  /** log2 of the histogram's half-range R, or {@link #NO_EXPONENT} when every value was 0. */
  public int exponent() {
    return exponent;
  }

  /** The width of one bin: R / {@link #BINS_PER_SIDE} (0 when every value was 0). */
  public double binWidth() {
    return exponent == NO_EXPONENT ? 0 : Math.scalb(1.0, exponent - LOG2_BINS);
  }

  /** Counts of bins [-R, -R + w), ..., [R - w, R); bin {@link #BINS_PER_SIDE} starts at 0. */
  public long[] counts() {
    return counts.clone();
  }

  /** Counts of |x| over [0, R) in {@link #BINS_PER_SIDE} bins (the negative side folded onto the positive). */
  public long[] absoluteCounts() {
    long[] out = new long[BINS_PER_SIDE];
    for (int i = 0; i < BINS_PER_SIDE; i++) {
      // |x| in [k w, (k + 1) w) comes from bin H + k (x >= 0) or from bin H - 1 - k (x < 0), up to x = -k w exactly,
      // which lands in H - k; the fold is exact but for values that are exact negative multiples of w.
      out[i] = counts[BINS_PER_SIDE + i] + counts[BINS_PER_SIDE - 1 - i];
    }
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ActivationHistogram h && count == h.count && zeros == h.zeros && Double.compare(min, h.min) == 0
        && Double.compare(max, h.max) == 0 && exponent == h.exponent && Arrays.equals(counts, h.counts);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(count) * 31 + Arrays.hashCode(counts);
  }

  @Override
  public String toString() {
    return "ActivationHistogram[count=" + count + ", min=" + min + ", max=" + max + ", R=2^" + exponent + "]";
  }
}
