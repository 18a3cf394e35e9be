package dev.bitsweep.compress;

import java.util.Objects;

/**
 * Palettized weights: every weight (or every vector of {@code clusterDim} consecutive weights along a row) is
 * replaced by an n-bit index into a lookup table. Rows are split into groups of {@code groupSize} consecutive rows
 * that share one table ({@code groupSize == rows} is one table for the whole tensor).
 *
 * <p>Decoding, in float arithmetic exactly as ONNX Runtime does it:
 * {@code w[r][c] = table[group(r)][index(r, c / clusterDim)][c % clusterDim] * channelScale[r]}
 * (the multiplication only when channel scales are present). {@code tables} holds the decoded table values; when
 * the table is stored quantized ({@link TableType#INT8}/{@link TableType#UINT8}), {@code tableCodes},
 * {@code tableScales} and {@code tableZeroPoints} hold its stored form and
 * {@code tables[i] == (float) (tableCodes[i] - zeroPoint(group)) * tableScale(group)}.
 */
public record PalettizedWeights(
    int rows,
    int cols,
    int nbits,
    int groupSize,
    int clusterDim,
    TableType tableType,
    float[] tables,
    byte[] tableCodes,
    float[] tableScales,
    int[] tableZeroPoints,
    byte[] indices,
    float[] channelScales)
    implements CompressedWeights {

  public enum TableType { FLOAT16, FLOAT32, INT8, UINT8 }

  public PalettizedWeights {
    Objects.requireNonNull(tableType, "tableType");
    Objects.requireNonNull(tables, "tables");
    Objects.requireNonNull(indices, "indices");
    if (nbits < 1 || nbits > 8) {
      throw new IllegalArgumentException("nbits must be in 1..8, got " + nbits);
    }
    if (groupSize <= 0 || rows % groupSize != 0) {
      throw new IllegalArgumentException("groupSize " + groupSize + " must divide the row count " + rows);
    }
    if (clusterDim <= 0 || cols % clusterDim != 0) {
      throw new IllegalArgumentException("clusterDim " + clusterDim + " must divide the column count " + cols);
    }
    // Fields are not assigned yet in a compact constructor: compute from the parameters, not groupCount()/tableSize().
    int groups = rows / groupSize;
    if (tables.length != groups * (1 << nbits) * clusterDim) {
      throw new IllegalArgumentException("expected " + groups * (1 << nbits) * clusterDim + " table values, got " + tables.length);
    }
    if ((long) indices.length * clusterDim != (long) rows * cols) {
      throw new IllegalArgumentException("expected " + (long) rows * cols / clusterDim + " indices, got " + indices.length);
    }
    boolean quantizedTable = tableType == TableType.INT8 || tableType == TableType.UINT8;
    if (quantizedTable != (tableCodes != null)) {
      throw new IllegalArgumentException("table codes are required exactly when the table type is INT8 or UINT8");
    }
    if (quantizedTable && (tableScales == null || tableScales.length != groups
        || tableZeroPoints == null || tableZeroPoints.length != groups || tableCodes.length != tables.length)) {
      throw new IllegalArgumentException("a quantized table needs one scale and one zero point per group and one code per table value");
    }
    if (channelScales != null && channelScales.length != rows) {
      throw new IllegalArgumentException("expected " + rows + " channel scales, got " + channelScales.length);
    }
  }

  public int tableSize() {
    return 1 << nbits;
  }

  public int groupCount() {
    return rows / groupSize;
  }

  public int index(int row, int vector) {
    return indices[row * (cols / clusterDim) + vector] & 0xff;
  }

  @Override
  public WeightMatrix decompress() {
    float[] out = new float[rows * cols];
    int vectorsPerRow = cols / clusterDim;
    int entry = tableSize() * clusterDim;
    for (int r = 0; r < rows; r++) {
      int tableBase = (r / groupSize) * entry;
      float scale = channelScales == null ? 1f : channelScales[r];
      for (int v = 0; v < vectorsPerRow; v++) {
        int base = tableBase + (indices[r * vectorsPerRow + v] & 0xff) * clusterDim;
        for (int d = 0; d < clusterDim; d++) {
          float value = tables[base + d];
          out[r * cols + v * clusterDim + d] = channelScales == null ? value : value * scale;
        }
      }
    }
    return new WeightMatrix(out, rows, cols);
  }

  @Override
  public long payloadBytes() {
    long indexBits = (long) indices.length * nbits;
    int tableValueBytes = switch (tableType) {
      case FLOAT16 -> 2;
      case FLOAT32 -> 4;
      case INT8, UINT8 -> 1;
    };
    long tableBytes = (long) tables.length * tableValueBytes;
    if (tableCodes != null) {
      tableBytes += groupCount() * 5L;
    }
    long scaleBytes = channelScales == null ? 0 : channelScales.length * 2L;
    return (indexBits + 7) / 8 + tableBytes + scaleBytes;
  }
}
