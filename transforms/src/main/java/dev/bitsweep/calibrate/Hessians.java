package dev.bitsweep.calibrate;

import dev.bitsweep.compress.WeightMatrix;
import java.util.Arrays;

/**
 * How a layer's Hessian array lines up with its weight matrix. The array holds one cols x cols row-major Hessian per
 * convolution group, back to back ({@code groups * cols * cols} values): output channels (rows) are split evenly
 * into the groups in order, as ONNX Conv does, so rows {@code [g * rows/groups, (g+1) * rows/groups)} see only the
 * input patches of group g. MatMul/Gemm and ungrouped convs have a single Hessian shared by all rows.
 */
final class Hessians {
  private Hessians() {}

  /** The number of groups {@code hessian} holds for {@code w}; rejects arrays that do not fit. */
  static int groupCount(String layer, WeightMatrix w, double[] hessian) {
    long perGroup = (long) w.cols() * w.cols();
    if (hessian.length == 0 || hessian.length % perGroup != 0) {
      throw new IllegalArgumentException(layer + ": a Hessian for a " + w.rows() + "x" + w.cols()
          + " weight matrix needs " + perGroup + " values per group (input dimension " + w.cols() + " squared), got "
          + hessian.length + "; were the statistics collected for this layer?");
    }
    int groups = (int) (hessian.length / perGroup);
    if (w.rows() % groups != 0) {
      throw new IllegalArgumentException(layer + ": " + groups + " Hessian groups do not divide the " + w.rows()
          + " output channels");
    }
    for (double v : hessian) {
      if (!Double.isFinite(v)) {
        throw new IllegalArgumentException(layer + ": the Hessian contains NaN or infinite values; recollect the "
            + "calibration statistics");
      }
    }
    return groups;
  }

  /**
   * {@link #groupCount} for methods that act on the Hessian. A single dead input (or dead depthwise channel) is
   * legitimate; a layer no calibration row ever reached is not: every weight would be treated as irrelevant.
   */
  static int calibratedGroupCount(String layer, WeightMatrix w, double[] hessian) {
    int groups = groupCount(layer, w, hessian);
    boolean anyInputSeen = false;
    int cols = w.cols();
    for (int g = 0; g < groups && !anyInputSeen; g++) {
      for (int i = 0; i < cols && !anyInputSeen; i++) {
        anyInputSeen = hessian[g * cols * cols + i * cols + i] != 0;
      }
    }
    if (!anyInputSeen) {
      throw new IllegalArgumentException(layer + ": the Hessian is all zero, so no calibration data reached this "
          + "layer's inputs; check that the calibration set feeds this layer (or compress it without calibration)");
    }
    return groups;
  }

  static double[] group(double[] hessian, int group, int cols) {
    int size = cols * cols;
    return Arrays.copyOfRange(hessian, group * size, (group + 1) * size);
  }

  /** Rows {@code [from, to)} of {@code w} as their own matrix. */
  static float[] rows(WeightMatrix w, int from, int to) {
    return Arrays.copyOfRange(w.values(), from * w.cols(), to * w.cols());
  }
}
