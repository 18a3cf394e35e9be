package dev.bitsweep.calibrate;

import dev.bitsweep.compress.WeightMatrix;
import java.util.Random;

/** Random layers and calibration Hessians for the tests, all from fixed seeds. */
final class Layers {
  private Layers() {}

  static WeightMatrix gaussianWeights(int rows, int cols, long seed) {
    Random random = new Random(seed);
    float[] values = new float[rows * cols];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) random.nextGaussian();
    }
    return new WeightMatrix(values, rows, cols);
  }

  /** Tokens with correlated features: each token mixes its own noise with a few shared random directions. */
  static float[] correlatedTokens(int tokens, int dim, long seed) {
    Random random = new Random(seed);
    int factors = Math.max(1, dim / 8);
    double[] directions = new double[factors * dim];
    for (int i = 0; i < directions.length; i++) {
      directions[i] = random.nextGaussian();
    }
    float[] x = new float[tokens * dim];
    for (int t = 0; t < tokens; t++) {
      double[] weights = new double[factors];
      for (int f = 0; f < factors; f++) {
        weights[f] = random.nextGaussian();
      }
      for (int d = 0; d < dim; d++) {
        double value = random.nextGaussian() * 0.5;
        for (int f = 0; f < factors; f++) {
          value += weights[f] * directions[f * dim + d];
        }
        x[t * dim + d] = (float) value;
      }
    }
    return x;
  }

  /** H = XᵀX computed directly in float64. */
  static double[] hessian(float[] x, int tokens, int dim) {
    double[] h = new double[dim * dim];
    for (int t = 0; t < tokens; t++) {
      for (int i = 0; i < dim; i++) {
        double xi = x[t * dim + i];
        for (int j = 0; j < dim; j++) {
          h[i * dim + j] += xi * x[t * dim + j];
        }
      }
    }
    return h;
  }
}
