package dev.bitsweep.compress;

import java.util.Objects;

/** Uncompressed fp32 weights; the kept values of plain pruning. */
public record DenseWeights(WeightMatrix matrix) implements CompressedWeights {
  public DenseWeights {
    Objects.requireNonNull(matrix, "matrix");
  }

  @Override
  public int rows() {
    return matrix.rows();
  }

  @Override
  public int cols() {
    return matrix.cols();
  }

  @Override
  public WeightMatrix decompress() {
    return new WeightMatrix(matrix.values().clone(), matrix.rows(), matrix.cols());
  }

  @Override
  public long payloadBytes() {
    return matrix.size() * 4L;
  }
}
