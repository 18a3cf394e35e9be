package dev.bitsweep.compress;

/** Weight-space error metrics, accumulated in double. */
public final class WeightError {
  private WeightError() {}

  /** 10·log10(Σw² / Σ(w−ŵ)²) in dB; +Infinity when the reconstruction is exact. */
  public static double snrDb(WeightMatrix original, WeightMatrix reconstructed) {
    return snrDb(original.values(), reconstructed.values());
  }

  public static double snrDb(float[] original, float[] reconstructed) {
    if (original.length != reconstructed.length) {
      throw new IllegalArgumentException("original has " + original.length + " values, reconstruction "
          + reconstructed.length);
    }
    double signal = 0;
    double noise = 0;
    for (int i = 0; i < original.length; i++) {
      double w = original[i];
      double error = w - reconstructed[i];
      signal += w * w;
      noise += error * error;
    }
    if (noise == 0) {
      return Double.POSITIVE_INFINITY;
    }
    return 10 * Math.log10(signal / noise);
  }

  /** The fraction of weights that are exactly zero. */
  public static double sparsity(WeightMatrix weights) {
    long zeros = 0;
    for (float w : weights.values()) {
      if (w == 0f) {
        zeros++;
      }
    }
    return (double) zeros / weights.size();
  }

  /** Payload bits per weight of a compressed form. */
  public static double bitsPerWeight(CompressedWeights compressed) {
    return compressed.payloadBytes() * 8.0 / ((long) compressed.rows() * compressed.cols());
  }
}
