package dev.bitsweep.onnx.encode;

import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.compress.DenseWeights;
import dev.bitsweep.compress.Float16;
import dev.bitsweep.compress.PalettizedWeights;
import dev.bitsweep.compress.PalettizedWeights.TableType;
import dev.bitsweep.compress.QuantDtype;
import dev.bitsweep.compress.QuantizedWeights;
import dev.bitsweep.compress.QuantizedWeights.Granularity;
import dev.bitsweep.compress.SparseWeights;
import dev.bitsweep.compress.WeightMatrix;
import java.util.Random;

/** Random but valid compressed forms for encoding tests (fixed seeds). */
final class Forms {
  private Forms() {}

  static PalettizedWeights palettized(int rows, int cols, int nbits, int groupSize, int clusterDim, TableType type,
      boolean channelScales, long seed) {
    Random rnd = new Random(seed);
    int groups = rows / groupSize;
    int tableValues = groups * (1 << nbits) * clusterDim;
    float[] tables = new float[tableValues];
    byte[] codes = null;
    float[] tableScales = null;
    int[] zeroPoints = null;
    if (type == TableType.INT8 || type == TableType.UINT8) {
      boolean signed = type == TableType.INT8;
      codes = new byte[tableValues];
      tableScales = new float[groups];
      zeroPoints = new int[groups];
      int perGroup = tableValues / groups;
      for (int g = 0; g < groups; g++) {
        tableScales[g] = 0.001f + rnd.nextFloat() * 0.05f;
        zeroPoints[g] = signed ? rnd.nextInt(21) - 10 : 118 + rnd.nextInt(21);
        for (int e = 0; e < perGroup; e++) {
          int i = g * perGroup + e;
          int code = signed ? rnd.nextInt(256) - 128 : rnd.nextInt(256);
          codes[i] = (byte) code;
          tables[i] = (float) (code - zeroPoints[g]) * tableScales[g];
        }
      }
    } else {
      for (int i = 0; i < tableValues; i++) {
        float v = (float) rnd.nextGaussian();
        tables[i] = type == TableType.FLOAT16 ? Float16.round(v) : v;
      }
    }
    byte[] indices = new byte[rows * cols / clusterDim];
    for (int i = 0; i < indices.length; i++) {
      indices[i] = (byte) rnd.nextInt(1 << nbits);
    }
    float[] scales = null;
    if (channelScales) {
      scales = new float[rows];
      for (int r = 0; r < rows; r++) {
        scales[r] = Float16.round(0.1f + rnd.nextFloat() * 3f);
      }
    }
    return new PalettizedWeights(rows, cols, nbits, groupSize, clusterDim, type, tables, codes, tableScales, zeroPoints,
        indices, scales);
  }

  static QuantizedWeights quantized(int rows, int cols, QuantDtype dtype, Granularity granularity, int blockSize,
      boolean symmetric, long seed) {
    return quantized(rows, cols, dtype, dtype.bits(), granularity, blockSize, symmetric, false, seed);
  }

  /** Random codes of a {@code codeBits}-bit grid in a {@code dtype} container; float16 scales when asked. */
  static QuantizedWeights quantized(int rows, int cols, QuantDtype dtype, int codeBits, Granularity granularity,
      int blockSize, boolean symmetric, boolean float16Scales, long seed) {
    Random rnd = new Random(seed);
    int min = dtype.signed() ? -(1 << (codeBits - 1)) : 0;
    int max = dtype.signed() ? (1 << (codeBits - 1)) - 1 : (1 << codeBits) - 1;
    byte[] codes = new byte[rows * cols];
    for (int i = 0; i < codes.length; i++) {
      codes[i] = (byte) (min + rnd.nextInt(max - min + 1));
    }
    int count = switch (granularity) {
      case PER_TENSOR -> 1;
      case PER_CHANNEL -> rows;
      case PER_BLOCK -> rows * QuantizedWeights.blocksPerRow(cols, blockSize);
    };
    float[] scales = new float[count];
    int[] zeroPoints = symmetric ? null : new int[count];
    for (int i = 0; i < count; i++) {
      scales[i] = 0.0005f + rnd.nextFloat() * 0.2f;
      if (float16Scales) {
        scales[i] = Float16.round(scales[i]);
      }
      if (!symmetric) {
        zeroPoints[i] = min + rnd.nextInt(max - min + 1);
      }
    }
    return new QuantizedWeights(rows, cols, dtype, granularity, blockSize, codes, scales, zeroPoints, codeBits);
  }

  static DenseWeights dense(int rows, int cols, long seed) {
    Random rnd = new Random(seed);
    float[] values = new float[rows * cols];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) rnd.nextGaussian();
    }
    return new DenseWeights(new WeightMatrix(values, rows, cols));
  }

  /** Each weight kept with probability {@code density}. */
  static SparseWeights sparse(CompressedWeights kept, double density, long seed) {
    Random rnd = new Random(seed);
    int n = kept.rows() * kept.cols();
    byte[] mask = new byte[(n + 7) / 8];
    for (int i = 0; i < n; i++) {
      if (rnd.nextDouble() < density) {
        mask[i >>> 3] |= (byte) (1 << (i & 7));
      }
    }
    return new SparseWeights(kept.rows(), kept.cols(), mask, kept);
  }
}
