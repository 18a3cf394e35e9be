package dev.bitsweep.eval.metrics;

import java.io.Serializable;
import java.util.Arrays;

/** A partial made of integer counts: combines by addition, exactly. */
public record Counts(long[] values) implements Serializable {
  public static Counts zeros(int n) {
    return new Counts(new long[n]);
  }

  public Counts plus(Counts other) {
    long[] sum = values.clone();
    for (int i = 0; i < sum.length; i++) {
      sum[i] += other.values[i];
    }
    return new Counts(sum);
  }

  public long get(int i) {
    return values[i];
  }

  static Double ratio(long numerator, long denominator) {
    return denominator == 0 ? null : (double) numerator / denominator;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Counts c && Arrays.equals(values, c.values);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(values);
  }
}
