package dev.bitsweep.onnx.encode;

import dev.bitsweep.compress.Float16;
import dev.bitsweep.compress.PalettizedWeights;
import java.util.List;

/**
 * Palettized weights: bit-packed indices, unpacked and offset by {@code group * 2^nbits} into one flat table of all
 * groups' entries (vectors of {@code clusterDim} for vector palettization), one Gather, then the per-channel scales.
 */
final class PalettizedDecode {
  private PalettizedDecode() {}

  /** Float [rows, cols] in canonical layout; {@code indices} yields the int32 index of every palette vector. */
  static String decode(DecodeGraph g, PalettizedWeights p, CodeStream indices, String weightName) {
    int rows = p.rows();
    int vectors = rows * (p.cols() / p.clusterDim());
    String index = indices.decode(g, p.nbits(), false);
    int groups = p.groupCount();
    if (groups > 1) {
      g.use(EncodingCatalog.LUT_GROUPS);
      String offsets = g.mul(g.reshape(g.iota(groups), groups, 1), g.int32Scalar(p.tableSize()));
      index = g.reshape(g.add(g.reshape(index, groups, vectors / groups), offsets), vectors);
    }
    String entries = g.gather(table(g, p, weightName), index, 0);
    String weights = g.reshape(entries, rows, p.cols());
    if (p.channelScales() != null) {
      g.use(EncodingCatalog.CHANNEL_SCALE);
      weights = g.mul(weights, scalesColumn(g, p.channelScales(), weightName));
    }
    return weights;
  }

  /**
   * One table for the whole tensor and indices of 1, 2, 4 or 8 bits, all stored: the palette is looked up for every
   * byte value first (a [256, 8/nbits] table of palette entries), so a single Gather over the packed bytes yields
   * the weights. Saves a full-size Gather and int32 index tensor in ONNX Runtime's constant folding.
   */
  static boolean fusable(PalettizedWeights p) {
    return p.groupCount() == 1 && BitPacking.planes(p.nbits()).length == 1;
  }

  static String decodeFused(DecodeGraph g, PalettizedWeights p, String weightName) {
    int vectors = p.rows() * (p.cols() / p.clusterDim());
    byte[] packed = BitPacking.packPlane(i -> p.indices()[i] & 0xff, vectors, 0, p.nbits());
    String byteEntries = g.gather(table(g, p, weightName), g.byteTable(p.nbits()), 0);
    String entries = g.gather(byteEntries, g.cast(g.uint8s(packed, packed.length), DecodeGraph.INT32), 0);
    long unpacked = (long) packed.length * (8 / p.nbits());
    String weights;
    if (unpacked == vectors) {
      weights = g.reshape(entries, p.rows(), p.cols());
    } else {
      String flat = g.reshape(entries, unpacked * p.clusterDim());
      weights = g.reshape(g.truncate(flat, unpacked * p.clusterDim(), (long) p.rows() * p.cols()), p.rows(), p.cols());
    }
    if (p.channelScales() != null) {
      g.use(EncodingCatalog.CHANNEL_SCALE);
      weights = g.mul(weights, scalesColumn(g, p.channelScales(), weightName));
    }
    return weights;
  }

  /** All groups' tables as float [groups * 2^nbits] (or [groups * 2^nbits, clusterDim]). */
  private static String table(DecodeGraph g, PalettizedWeights p, String weightName) {
    int entries = p.groupCount() * p.tableSize();
    long[] shape = p.clusterDim() == 1 ? new long[] {entries} : new long[] {entries, p.clusterDim()};
    float[] values = p.tables();
    switch (p.tableType()) {
      case FLOAT32 -> {
        g.use(EncodingCatalog.LUT_FP32);
        return g.floats(shape, values);
      }
      case FLOAT16 -> {
        g.use(EncodingCatalog.LUT_FP16);
        short[] halves = new short[values.length];
        for (int i = 0; i < values.length; i++) {
          halves[i] = Float16.fromFloat(values[i]);
          if (Float.floatToRawIntBits(Float16.toFloat(halves[i])) != Float.floatToRawIntBits(values[i])) {
            throw new IllegalArgumentException("layer " + weightName + ": palette value " + values[i] + " at " + i
                + " is not a float16 value although the table type is FLOAT16; round the table to float16 when palettizing");
          }
        }
        return g.cast(g.float16s(shape, halves), DecodeGraph.FLOAT);
      }
      default -> {
        return g.reshape(quantizedTable(g, p, weightName), shape);
      }
    }
  }

  /** The int8/uint8 table codes dequantized per group: float [groups, 2^nbits * clusterDim]. */
  private static String quantizedTable(DecodeGraph g, PalettizedWeights p, String weightName) {
    int groups = p.groupCount();
    int perGroup = p.tableSize() * p.clusterDim();
    boolean signed = p.tableType() == PalettizedWeights.TableType.INT8;
    int codeType = signed ? DecodeGraph.INT8 : DecodeGraph.UINT8;
    byte[] zeroPoints = new byte[groups];
    for (int gi = 0; gi < groups; gi++) {
      int zp = p.tableZeroPoints()[gi];
      if (zp < (signed ? -128 : 0) || zp > (signed ? 127 : 255)) {
        throw new IllegalArgumentException("layer " + weightName + ": table zero point " + zp + " of group " + gi
            + " does not fit the " + p.tableType() + " table codes");
      }
      zeroPoints[gi] = (byte) zp;
      for (int e = 0; e < perGroup; e++) {
        int i = gi * perGroup + e;
        int code = signed ? p.tableCodes()[i] : p.tableCodes()[i] & 0xff;
        float expected = (float) (code - zp) * p.tableScales()[gi];
        if (Float.floatToRawIntBits(expected) != Float.floatToRawIntBits(p.tables()[i])) {
          throw new IllegalArgumentException("layer " + weightName + ": table value " + p.tables()[i] + " at " + i
              + " is not (code - zero point) * scale = " + expected + "; the quantized table is inconsistent");
        }
      }
    }
    String codes = g.initializer(codeType, new long[] {groups, perGroup}, p.tableCodes());
    if (groups == 1 ? g.opset >= 10 : g.opset >= 13) {
      g.use(groups == 1 ? EncodingCatalog.LUT_INT8_DQ_TENSOR : EncodingCatalog.LUT_INT8_DQ_AXIS);
      long[] perGroupDims = groups == 1 ? new long[0] : new long[] {groups};
      String scale = g.floats(perGroupDims, p.tableScales());
      String zero = g.initializer(codeType, perGroupDims, zeroPoints);
      return groups == 1
          ? g.node("DequantizeLinear", List.of(codes, scale, zero))
          : g.node("DequantizeLinear", List.of(codes, scale, zero), DecodeGraph.intAttr("axis", 0));
    }
    g.use(EncodingCatalog.LUT_INT8_ARITH);
    String scale = g.floats(new long[] {groups, 1}, p.tableScales());
    String zero = g.cast(g.initializer(codeType, new long[] {groups, 1}, zeroPoints), DecodeGraph.FLOAT);
    return g.mul(g.sub(g.cast(codes, DecodeGraph.FLOAT), zero), scale);
  }

  /** float [rows, 1]: stored as float16 when every scale is a float16 value (the payload's assumption), else float32. */
  static String scalesColumn(DecodeGraph g, float[] scales, String weightName) {
    short[] halves = new short[scales.length];
    boolean exact = true;
    for (int i = 0; i < scales.length && exact; i++) {
      halves[i] = Float16.fromFloat(scales[i]);
      exact = Float.floatToRawIntBits(Float16.toFloat(halves[i])) == Float.floatToRawIntBits(scales[i]);
    }
    long[] column = {scales.length, 1};
    if (exact) {
      return g.cast(g.float16s(column, halves), DecodeGraph.FLOAT);
    }
    g.note("channel scales of " + weightName + " are not all float16 values: stored as float32");
    return g.floats(column, scales);
  }
}
