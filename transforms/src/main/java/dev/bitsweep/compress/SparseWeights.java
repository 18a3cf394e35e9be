package dev.bitsweep.compress;

import java.util.Objects;
import java.util.stream.IntStream;

/**
 * Sparse weights: a bit mask (1 = kept, row-major, least significant bit first) over an inner compressed form.
 * Only the inner form's values at kept positions are stored; the others decode to exactly 0.
 * The inner form is {@link DenseWeights} for plain pruning, or palettized/quantized for joint compression.
 */
public record SparseWeights(int rows, int cols, byte[] mask, CompressedWeights kept) implements CompressedWeights {

  public SparseWeights {
    Objects.requireNonNull(mask, "mask");
    Objects.requireNonNull(kept, "kept");
    if (mask.length != ((long) rows * cols + 7) / 8) {
      throw new IllegalArgumentException("expected " + ((long) rows * cols + 7) / 8 + " mask bytes, got " + mask.length);
    }
    if (kept.rows() != rows || kept.cols() != cols) {
      throw new IllegalArgumentException("the kept values' form must have the same shape as the mask");
    }
    if (kept instanceof SparseWeights) {
      throw new IllegalArgumentException("sparse weights cannot nest");
    }
  }

  /**
   * The mask of a pruning decision: bit i (least significant first) set when weight i is kept. The one packer for
   * every pruning method (magnitude, SparseGPT).
   */
  public static byte[] keptMask(boolean[] pruned) {
    byte[] mask = new byte[(pruned.length + 7) / 8];
    int chunk = 1 << 16;
    IntStream.range(0, (mask.length + chunk - 1) / chunk).parallel().forEach(c -> {
      for (int j = c * chunk; j < Math.min(mask.length, (c + 1) * chunk); j++) {
        int bits = 0;
        for (int b = 0; b < 8 && j * 8 + b < pruned.length; b++) {
          if (!pruned[j * 8 + b]) {
            bits |= 1 << b;
          }
        }
        mask[j] = (byte) bits;
      }
    });
    return mask;
  }

  public boolean isKept(int i) {
    return (mask[i >>> 3] >>> (i & 7) & 1) != 0;
  }

  public long keptCount() {
    long count = 0;
    for (byte b : mask) {
      count += Integer.bitCount(b & 0xff);
    }
    return count;
  }

  @Override
  public WeightMatrix decompress() {
    float[] values = kept.decompress().values();
    for (int i = 0; i < values.length; i++) {
      if (!isKept(i)) {
        values[i] = 0f;
      }
    }
    return new WeightMatrix(values, rows, cols);
  }

  /** Vectors of {@code clusterDim} consecutive weights with at least one kept weight. */
  public long keptVectorCount(int clusterDim) {
    long count = 0;
    for (int v = 0; v < rows * cols / clusterDim; v++) {
      for (int d = 0; d < clusterDim; d++) {
        if (isKept(v * clusterDim + d)) {
          count++;
          break;
        }
      }
    }
    return count;
  }

  /**
   * The mask, the per-weight data (values, codes, palette indices) of the kept weights only, and the kept form's
   * tables and scales in full: those serve every kept weight, so they do not shrink with the density.
   */
  @Override
  public long payloadBytes() {
    if (kept instanceof PalettizedWeights p) {
      long allIndexBytes = ((long) p.indices().length * p.nbits() + 7) / 8;
      long keptIndexBytes = (keptVectorCount(p.clusterDim()) * p.nbits() + 7) / 8;
      return mask.length + keptIndexBytes + p.payloadBytes() - allIndexBytes;
    }
    if (kept instanceof QuantizedWeights q) {
      long allCodeBytes = ((long) q.codes().length * q.codeBits() + 7) / 8;
      long keptCodeBytes = (keptCount() * q.codeBits() + 7) / 8;
      return mask.length + keptCodeBytes + q.payloadBytes() - allCodeBytes;
    }
    return mask.length + keptCount() * 4L;
  }
}
