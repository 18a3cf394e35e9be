package dev.bitsweep.compress;

import java.util.Objects;

/**
 * Linearly quantized weights: {@code w = (float) (q - zeroPoint) * scale}, with one scale (and zero point) for the
 * whole tensor, per row (output channel), or per block of {@code blockSize} consecutive columns of a row.
 * Codes are held one per byte: signed types as two's complement, unsigned read with {@code & 0xff}.
 * {@code zeroPoints == null} means symmetric (all zero points 0). {@code codeBits} is the width of the grid (2..8),
 * at most the container {@code dtype}'s: a 3-bit grid has codes in INT4's range but is stored at 3 bits per code
 * (and 3 bits per zero point). Scales are stored as float16 when every one is a float16 value, else as float32.
 */
public record QuantizedWeights(
    int rows,
    int cols,
    QuantDtype dtype,
    Granularity granularity,
    int blockSize,
    byte[] codes,
    float[] scales,
    int[] zeroPoints,
    int codeBits)
    implements CompressedWeights {

  public enum Granularity { PER_TENSOR, PER_CHANNEL, PER_BLOCK }

  public QuantizedWeights {
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(granularity, "granularity");
    Objects.requireNonNull(codes, "codes");
    Objects.requireNonNull(scales, "scales");
    if (codeBits < 1 || codeBits > dtype.bits()) {
      throw new IllegalArgumentException("code width must be within 1.." + dtype.bits() + " for " + dtype + ", got "
          + codeBits);
    }
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

  /** Codes as wide as their container type (int8/uint8 8 bits, int4/uint4 4 bits). */
  public QuantizedWeights(int rows, int cols, QuantDtype dtype, Granularity granularity, int blockSize, byte[] codes,
      float[] scales, int[] zeroPoints) {
    this(rows, cols, dtype, granularity, blockSize, codes, scales, zeroPoints, dtype.bits());
  }

  /** The smallest code of the grid. */
  public int minCode() {
    return dtype.signed() ? -(1 << (codeBits - 1)) : 0;
  }

  /** The largest code of the grid. */
  public int maxCode() {
    return dtype.signed() ? (1 << (codeBits - 1)) - 1 : (1 << codeBits) - 1;
  }

  /** Whether the scales are stored as float16 (every scale is exactly a float16 value). */
  public boolean float16Scales() {
    return ScaleDtype.allFloat16(scales);
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
    long allCodeBits = (long) codes.length * codeBits;
    long scaleBytes = scales.length * (float16Scales() ? 2L : 4L);
    long zeroBytes = zeroPoints == null ? 0 : (zeroPoints.length * (long) codeBits + 7) / 8;
    return (allCodeBits + 7) / 8 + scaleBytes + zeroBytes;
  }
}
