package dev.bitsweep.compress;

import java.util.Objects;

/**
 * A layer's weights in canonical layout: one row per output channel, the remaining axes flattened into columns
 * in their original order. Every compression method reads and writes this layout; the ONNX encoders map it back to
 * the tensor's own layout.
 */
public record WeightMatrix(float[] values, int rows, int cols) implements java.io.Serializable {
  public WeightMatrix {
    Objects.requireNonNull(values, "values");
    if (rows <= 0 || cols <= 0) {
      throw new IllegalArgumentException("a weight matrix needs at least one row and one column, got " + rows + "x" + cols);
    }
    if ((long) rows * cols != values.length) {
      throw new IllegalArgumentException(
          "a " + rows + "x" + cols + " weight matrix needs " + (long) rows * cols + " values, got " + values.length);
    }
  }

  public int size() {
    return values.length;
  }

  public float get(int row, int col) {
    return values[row * cols + col];
  }
}
