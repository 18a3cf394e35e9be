package dev.bitsweep.calibrate;

import dev.bitsweep.compress.WeightMatrix;

/**
 * Per-weight importance for sensitivity-weighted k-means palettization, from the layer's input Hessian.
 *
 * <p>The output error of perturbing one weight w_rc alone by δ is δ² · H_cc (the diagonal term of
 * tr(ΔW H ΔWᵀ)), so H_cc — the summed squared activation of input c over the calibration data — is the weight's
 * importance: the diagonal (OBS-without-correlations) approximation of the output error, as in SqueezeLLM.
 * Every weight of column c gets H_cc (broadcast over rows); grouped convs use their group's Hessian. Values are not
 * normalized: the k-means objective Σ importance · (w - centroid)² is invariant to a common scale. Dead inputs
 * (H_cc = 0) get importance 0: their weights never affect the output.
 */
public final class SensitivityWeights {
  private SensitivityWeights() {}

  /** Importance of each weight of a {@code rows x cols} matrix, row-major (see {@link Hessians} for groups). */
  public static float[] fromHessianDiagonal(double[] hessian, int rows, int cols) {
    WeightMatrix shape = new WeightMatrix(new float[rows * cols], rows, cols);
    int groups = Hessians.calibratedGroupCount("sensitivity weights", shape, hessian);
    int rowsPerGroup = rows / groups;
    float[] importance = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      int base = (r / rowsPerGroup) * cols * cols;
      for (int c = 0; c < cols; c++) {
        importance[r * cols + c] = (float) hessian[base + c * cols + c];
      }
    }
    return importance;
  }
}
