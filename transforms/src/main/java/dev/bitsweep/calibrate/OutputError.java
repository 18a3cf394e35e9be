package dev.bitsweep.calibrate;

import static org.bytedeco.openblas.global.openblas.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.cblas_dgemm;

import dev.bitsweep.compress.WeightMatrix;
import org.bytedeco.javacpp.DoublePointer;

/**
 * A layer's Hessian-weighted output error tr(ΔW H ΔWᵀ) = Σ_rows Δw H Δwᵀ with ΔW = W - Ŵ: the summed squared change
 * of the layer's outputs over the calibration inputs (H = Σ xᵀx). Computed in float64 for every method, round to
 * nearest included, so calibrated and uncalibrated methods compare on the same scale.
 */
public final class OutputError {
  private static final int ROW_CHUNK = 512;

  private OutputError() {}

  /** See {@link Hessians} for grouped (conv) Hessians. */
  public static double of(WeightMatrix original, WeightMatrix compressed, double[] hessian) {
    dev.bitsweep.nativemath.NativeMathCheck.ensure();
    if (original.rows() != compressed.rows() || original.cols() != compressed.cols()) {
      throw new IllegalArgumentException("original " + original.rows() + "x" + original.cols()
          + " and compressed " + compressed.rows() + "x" + compressed.cols() + " weights differ in shape");
    }
    int groups = Hessians.groupCount("output error", original, hessian);
    int rows = original.rows();
    int cols = original.cols();
    int rowsPerGroup = rows / groups;
    double total = 0;
    for (int g = 0; g < groups; g++) {
      try (DoublePointer h = new DoublePointer(Hessians.group(hessian, g, cols))) {
        for (int r0 = g * rowsPerGroup, end = (g + 1) * rowsPerGroup; r0 < end; r0 += ROW_CHUNK) {
          total += chunk(original, compressed, h, r0, Math.min(end, r0 + ROW_CHUNK));
        }
      }
    }
    return total;
  }

  private static double chunk(WeightMatrix original, WeightMatrix compressed, DoublePointer h, int r0, int r1) {
    int cols = original.cols();
    int count = r1 - r0;
    double[] delta = new double[count * cols];
    for (int i = 0, at = r0 * cols; i < delta.length; i++, at++) {
      delta[i] = (double) original.values()[at] - compressed.values()[at];
    }
    double[] deltaTimesH = new double[delta.length];
    try (DoublePointer d = new DoublePointer(delta); DoublePointer dh = new DoublePointer((long) delta.length)) {
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, count, cols, cols, 1, d, cols, h, cols, 0, dh, cols);
      dh.get(deltaTimesH);
    }
    double sum = 0;
    for (int i = 0; i < delta.length; i++) {
      sum += delta[i] * deltaTimesH[i];
    }
    return sum;
  }
}
