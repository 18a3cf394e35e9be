package dev.bitsweep.compress;

import java.util.Objects;

/**
 * Linearly quantized weights: {@code w = (float) (q - zeroPoint) * scale}, with one scale (and zero point) for the
 * whole tensor, per row (output channel), or per block of {@code blockSize} consecutive columns of a row.
 * Codes are stored one per byte: signed types as two's complement, unsigned read with {@code & 0xff}.
 * {@code zeroPoints == null} means symmetric (all zero points 0).
 */
public record QuantizedWeights(
    int rows,
    int cols,
    QuantDtype dtype,
    Granularity granularity,
    int blockSize,
    byte[] codes,
    float[] scales,
    int[] zeroPoints)
    implements CompressedWeights {

  public enum Granularity { PER_TENSOR, PER_CHANNEL, PER_BLOCK }

  public QuantizedWeights {
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(granularity, "granularity");
    Objects.requireNonNull(codes, "codes");
    Objects.requireNonNull(scales, "scales");
    if ((long) rows * cols != codes.length) {
      throw new IllegalArgumentException("expected " + (long) rows * cols + " codes, got " + codes.length);
    }
    if (granularity == Granularity.PER_BLOCK && (blockSize <= 0)) {
      throw new IllegalArgumentException("per-block quantization needs a positive block size, got " + blockSize);
    }
    int expectedScales = switch (granularity) {
      case PER_TENSOR -> 1;
      case PER_CHANNEL -> rows;
      case PER_BLOCK -> rows * blocksPerRow(cols, blockSize);
    };
    if (scales.length != expectedScales) {
      throw new IllegalArgumentException("expected " + expectedScales + " scales, got " + scales.length);
    }
    if (zeroPoints != null && zeroPoints.length != expectedScales) {
      throw new IllegalArgumentException("expected " + expectedScales + " zero points, got " + zeroPoints.length);
    }
  }

  public static int blocksPerRow(int cols, int blockSize) {
    return (cols + blockSize - 1) / blockSize;
  }

  public int code(int i) {
    return dtype.signed() ? codes[i] : codes[i] & 0xff;
  }

  /** Index into {@link #scales()} of the element at (row, col). */
  public int scaleIndex(int row, int col) {
    return switch (granularity) {
      case PER_TENSOR -> 0;
      case PER_CHANNEL -> row;
      case PER_BLOCK -> row * blocksPerRow(cols, blockSize) + col / blockSize;
    };
  }

  @Override
  public WeightMatrix decompress() {
    float[] out = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int s = scaleIndex(r, c);
        int zero = zeroPoints == null ? 0 : zeroPoints[s];
        out[r * cols + c] = (float) (code(r * cols + c) - zero) * scales[s];
      }
    }
    return new WeightMatrix(out, rows, cols);
  }

  @Override
  public long payloadBytes() {
    long codeBits = (long) codes.length * dtype.bits();
    long scaleBytes = scales.length * 4L;
    long zeroBytes = zeroPoints == null ? 0 : (zeroPoints.length * (long) dtype.bits() + 7) / 8;
    return (codeBits + 7) / 8 + scaleBytes + zeroBytes;
  }
}
