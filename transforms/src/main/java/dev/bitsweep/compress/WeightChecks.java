package dev.bitsweep.compress;

/** Input checks shared by the compressors: never compress NaN/Inf weights or mismatched importance silently. */
final class WeightChecks {
  private WeightChecks() {}

  static void requireFinite(WeightMatrix weights) {
    float[] values = weights.values();
    for (int i = 0; i < values.length; i++) {
      if (!Float.isFinite(values[i])) {
        throw new IllegalArgumentException("weight " + values[i] + " at index " + i + " (row " + i / weights.cols()
            + ", column " + i % weights.cols() + ") is not finite; fix or skip this layer");
      }
    }
  }

  static void requireImportance(float[] importance, WeightMatrix weights) {
    if (importance == null) {
      return;
    }
    if (importance.length != weights.size()) {
      throw new IllegalArgumentException("importance has " + importance.length + " values but the layer has "
          + weights.size() + " weights");
    }
    for (int i = 0; i < importance.length; i++) {
      if (!(importance[i] >= 0) || importance[i] == Float.POSITIVE_INFINITY) {
        throw new IllegalArgumentException("importance " + importance[i] + " at index " + i
            + " must be finite and >= 0");
      }
    }
  }
}
