package dev.bitsweep.layer;

import dev.bitsweep.compress.WeightMatrix;

/**
 * Moves a tensor's output axis to the front and flattens the rest (the canonical weight matrix), and back.
 * For shape [d0, ..., dk] and output axis a, row r / column c of the matrix is the element whose index along a is r
 * and whose other indices, in their original order, flatten to c.
 */
public final class WeightLayout {
  private WeightLayout() {}

  public static WeightMatrix toMatrix(float[] tensor, long[] shape, int outputAxis) {
    int rows = (int) shape[outputAxis];
    int cols = tensor.length / rows;
    if (outputAxis == 0) {
      return new WeightMatrix(tensor, rows, cols);
    }
    int outer = product(shape, 0, outputAxis);
    int inner = product(shape, outputAxis + 1, shape.length);
    float[] matrix = new float[tensor.length];
    for (int o = 0; o < outer; o++) {
      for (int r = 0; r < rows; r++) {
        System.arraycopy(tensor, (o * rows + r) * inner, matrix, r * cols + o * inner, inner);
      }
    }
    return new WeightMatrix(matrix, rows, cols);
  }

  public static float[] toTensor(WeightMatrix matrix, long[] shape, int outputAxis) {
    if (outputAxis == 0) {
      return matrix.values().clone();
    }
    int rows = matrix.rows();
    int cols = matrix.cols();
    int outer = product(shape, 0, outputAxis);
    int inner = product(shape, outputAxis + 1, shape.length);
    float[] tensor = new float[matrix.size()];
    float[] values = matrix.values();
    for (int o = 0; o < outer; o++) {
      for (int r = 0; r < rows; r++) {
        System.arraycopy(values, r * cols + o * inner, tensor, (o * rows + r) * inner, inner);
      }
    }
    return tensor;
  }

  private static int product(long[] shape, int from, int to) {
    long p = 1;
    for (int i = from; i < to; i++) {
      p *= shape[i];
    }
    return Math.toIntExact(p);
  }
}
