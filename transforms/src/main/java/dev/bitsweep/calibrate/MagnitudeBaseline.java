package dev.bitsweep.calibrate;

import dev.bitsweep.compress.WeightMatrix;

/**
 * The uncalibrated pruning baseline SparseGPT is compared against: drop the smallest-magnitude weights, keep the rest
 * unchanged. Unstructured: the layer's round(s · size) smallest |w| (ties: first index); n:m: the n smallest |w| of
 * every m consecutive columns of a row.
 */
public final class MagnitudeBaseline {
  private MagnitudeBaseline() {}

  public static WeightMatrix prune(WeightMatrix w, double sparsity) {
    float[] values = w.values().clone();
    int count = (int) Math.round(sparsity * values.length);
    if (count == 0) {
      return new WeightMatrix(values, w.rows(), w.cols());
    }
    float[] magnitudes = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      magnitudes[i] = Math.abs(values[i]);
    }
    float threshold = Selection.kthSmallest(magnitudes.clone(), count - 1);
    int taken = 0;
    for (int i = 0; i < values.length; i++) {
      if (magnitudes[i] < threshold) {
        values[i] = 0;
        taken++;
      }
    }
    for (int i = 0; i < values.length && taken < count; i++) {
      if (magnitudes[i] == threshold) {
        values[i] = 0;
        taken++;
      }
    }
    return new WeightMatrix(values, w.rows(), w.cols());
  }

  public static WeightMatrix pruneNOfM(WeightMatrix w, int n, int m) {
    float[] values = w.values().clone();
    int cols = w.cols();
    boolean[] pruned = new boolean[m];
    for (int r = 0; r < w.rows(); r++) {
      for (int start = 0; start < cols; start += m) {
        int length = Math.min(m, cols - start);
        java.util.Arrays.fill(pruned, false);
        for (int taken = 0; taken < n * length / m; taken++) {
          int lowest = -1;
          for (int k = 0; k < length; k++) {
            if (!pruned[k] && (lowest < 0
                || Math.abs(values[r * cols + start + k]) < Math.abs(values[r * cols + start + lowest]))) {
              lowest = k;
            }
          }
          pruned[lowest] = true;
        }
        for (int k = 0; k < length; k++) {
          if (pruned[k]) {
            values[r * cols + start + k] = 0;
          }
        }
      }
    }
    return new WeightMatrix(values, w.rows(), w.cols());
  }
}
