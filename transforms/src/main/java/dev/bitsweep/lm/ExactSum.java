package dev.bitsweep.lm;

import java.io.Serializable;
import java.math.BigDecimal;

/**
 * A sum of doubles without rounding (every double is an exact decimal), so partial sums combine to the same value
 * in any order and at any split into batches. Infinities and NaN are counted aside.
 */
final class ExactSum implements Serializable {
  private static final long serialVersionUID = 1L;
  static final ExactSum ZERO = new ExactSum(BigDecimal.ZERO, 0, 0, 0);

  private final BigDecimal finite;
  private final long positiveInfinities;
  private final long negativeInfinities;
  private final long nans;

  private ExactSum(BigDecimal finite, long positiveInfinities, long negativeInfinities, long nans) {
    this.finite = finite;
    this.positiveInfinities = positiveInfinities;
    this.negativeInfinities = negativeInfinities;
    this.nans = nans;
  }

  /** Mutable builder for summing one batch. */
  static final class Builder {
    private BigDecimal finite = BigDecimal.ZERO;
    private long positiveInfinities;
    private long negativeInfinities;
    private long nans;

    void add(double value) {
      if (Double.isNaN(value)) {
        nans++;
      } else if (value == Double.POSITIVE_INFINITY) {
        positiveInfinities++;
      } else if (value == Double.NEGATIVE_INFINITY) {
        negativeInfinities++;
      } else if (value != 0) {
        finite = finite.add(new BigDecimal(value));
      }
    }

    ExactSum build() {
      return new ExactSum(finite, positiveInfinities, negativeInfinities, nans);
    }
  }

  ExactSum plus(ExactSum other) {
    return new ExactSum(finite.add(other.finite), positiveInfinities + other.positiveInfinities,
        negativeInfinities + other.negativeInfinities, nans + other.nans);
  }

  /** The sum rounded once to the nearest double (NaN if NaN was added or both infinities were). */
  double value() {
    if (nans > 0 || (positiveInfinities > 0 && negativeInfinities > 0)) {
      return Double.NaN;
    }
    if (positiveInfinities > 0) {
      return Double.POSITIVE_INFINITY;
    }
    if (negativeInfinities > 0) {
      return Double.NEGATIVE_INFINITY;
    }
    return finite.doubleValue();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ExactSum s && finite.compareTo(s.finite) == 0 && positiveInfinities == s.positiveInfinities
        && negativeInfinities == s.negativeInfinities && nans == s.nans;
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(finite.stripTrailingZeros(), positiveInfinities, negativeInfinities, nans);
  }
}
