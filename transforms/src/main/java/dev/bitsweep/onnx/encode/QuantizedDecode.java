package dev.bitsweep.onnx.encode;

import dev.bitsweep.compress.QuantizedWeights;
import dev.bitsweep.compress.QuantizedWeights.Granularity;
import java.util.ArrayList;
import java.util.List;

/**
 * Linearly quantized weights: DequantizeLinear where the opset has the needed form (per-tensor 10, per-axis 13,
 * INT4 and blocked 21), else the same formula {@code (float) (q - zp) * scale} from Cast, Sub and Mul.
 */
final class QuantizedDecode {
  private QuantizedDecode() {}

  /** Whether DequantizeLinear at this opset has the granularity's form. */
  static boolean dequantizeLinearAvailable(int opset, Granularity granularity) {
    return switch (granularity) {
      case PER_TENSOR -> opset >= 10;
      case PER_CHANNEL -> opset >= 13;
      case PER_BLOCK -> opset >= 21;
    };
  }

  /** Codes and zero points must fit the dtype, or their packed form would silently change them. */
  static void validate(QuantizedWeights q, String weightName) {
    int min = q.dtype().min();
    int max = q.dtype().max();
    for (int i = 0; i < q.codes().length; i++) {
      int code = q.code(i);
      if (code < min || code > max) {
        throw new IllegalArgumentException("layer " + weightName + ": code " + code + " at " + i + " is outside "
            + q.dtype() + " [" + min + ", " + max + "]");
      }
    }
    if (q.zeroPoints() != null) {
      for (int i = 0; i < q.zeroPoints().length; i++) {
        int zp = q.zeroPoints()[i];
        if (zp < min || zp > max) {
          throw new IllegalArgumentException("layer " + weightName + ": zero point " + zp + " at " + i + " is outside "
              + q.dtype() + " [" + min + ", " + max + "]");
        }
      }
    }
  }

  /** Every code stored: typed int8/uint8, or ONNX INT4/UINT4 at opset 21, or 4-bit packed in uint8 below. */
  static String decodeAll(DecodeGraph g, QuantizedWeights q) {
    return decodeAll(g, q, new long[] {q.rows(), q.cols()});
  }

  /**
   * Whether the codes can be stored in the weight's own shape and dequantized by one DequantizeLinear, with no
   * Reshape after it: typed codes (8-bit, or 4-bit from opset 21), per tensor or per output channel on axis 0.
   */
  static boolean dequantizesInPlace(int opset, QuantizedWeights q, boolean rowsAreAxis0) {
    boolean typed = q.dtype().bits() == 8 || opset >= 21;
    return typed && q.granularity() != Granularity.PER_BLOCK && dequantizeLinearAvailable(opset, q.granularity())
        && (rowsAreAxis0 || q.granularity() == Granularity.PER_TENSOR);
  }

  /** {@link #decodeAll} with the codes stored as {@code dims}: [rows, cols], or the weight's shape when in place. */
  static String decodeAll(DecodeGraph g, QuantizedWeights q, long[] dims) {
    int bits = q.dtype().bits();
    if (bits == 8) {
      return dequantize(g, q, g.initializer(q.dtype().onnxType(), dims, q.codes()), q.dtype().onnxType());
    }
    if (g.opset >= 21) {
      g.use(EncodingCatalog.DQ_INT4);
      byte[] packed = BitPacking.packInt4(i -> q.codes()[i], q.codes().length);
      return dequantize(g, q, g.initializer(q.dtype().onnxType(), dims, packed), q.dtype().onnxType());
    }
    return decodeCodes(g, q, CodeStream.all(i -> q.codes()[i], q.codes().length));
  }

  /** Codes from a code stream (packed, or kept codes of a sparse mask) as int32, then dequantized. */
  static String decodeCodes(DecodeGraph g, QuantizedWeights q, CodeStream codes) {
    String values = codes.decode(g, q.dtype().bits(), q.dtype().signed());
    return dequantize(g, q, g.reshape(values, q.rows(), q.cols()), DecodeGraph.INT32);
  }

  private static String dequantize(DecodeGraph g, QuantizedWeights q, String codes, int codeType) {
    int rows = q.rows();
    int blocks = q.granularity() == Granularity.PER_BLOCK ? QuantizedWeights.blocksPerRow(q.cols(), q.blockSize()) : 1;
    long[] scaleDims = switch (q.granularity()) {
      case PER_TENSOR -> new long[0];
      case PER_CHANNEL -> new long[] {rows};
      case PER_BLOCK -> new long[] {rows, blocks};
    };
    if (dequantizeLinearAvailable(g.opset, q.granularity())) {
      int dqType = codeType;
      if (codeType == DecodeGraph.INT32) {
        dqType = q.dtype().signed() ? DecodeGraph.INT8 : DecodeGraph.UINT8;
        codes = g.cast(codes, dqType);
      }
      g.use(switch (q.granularity()) {
        case PER_TENSOR -> EncodingCatalog.DQ_TENSOR;
        case PER_CHANNEL -> EncodingCatalog.DQ_AXIS;
        case PER_BLOCK -> EncodingCatalog.DQ_BLOCKED;
      });
      List<String> inputs = new ArrayList<>(List.of(codes, g.floats(scaleDims, q.scales())));
      if (q.zeroPoints() != null) {
        inputs.add(zeroPointsTyped(g, q, scaleDims, dqType));
      }
      return switch (q.granularity()) {
        case PER_TENSOR -> g.node("DequantizeLinear", inputs);
        case PER_CHANNEL -> g.node("DequantizeLinear", inputs, DecodeGraph.intAttr("axis", 0));
        case PER_BLOCK -> g.node("DequantizeLinear", inputs, DecodeGraph.intAttr("axis", 1),
            DecodeGraph.intAttr("block_size", q.blockSize()));
      };
    }
    g.use(EncodingCatalog.DEQUANT_ARITH);
    long[] broadcastDims = switch (q.granularity()) {
      case PER_TENSOR -> new long[0];
      case PER_CHANNEL -> new long[] {rows, 1};
      case PER_BLOCK -> new long[] {rows, blocks};
    };
    String value = g.cast(codes, DecodeGraph.FLOAT);
    if (q.zeroPoints() != null) {
      String zero = g.cast(zeroPointsPacked(g, q, broadcastDims), DecodeGraph.FLOAT);
      value = g.sub(value, expandBlocks(g, q, zero));
    }
    return g.mul(value, expandBlocks(g, q, g.floats(broadcastDims, q.scales())));
  }

  /** Zero points in the DequantizeLinear input type (one byte each for 8-bit types, packed for INT4/UINT4). */
  private static String zeroPointsTyped(DecodeGraph g, QuantizedWeights q, long[] dims, int type) {
    int[] zp = q.zeroPoints();
    byte[] raw = type == DecodeGraph.INT4 || type == DecodeGraph.UINT4
        ? BitPacking.packInt4(i -> zp[i], zp.length)
        : toBytes(zp);
    return g.initializer(type, dims, raw);
  }

  /** Zero points at the dtype's own width (nibbles for 4-bit types), as an integer tensor of {@code dims}. */
  private static String zeroPointsPacked(DecodeGraph g, QuantizedWeights q, long[] dims) {
    int[] zp = q.zeroPoints();
    if (q.dtype().bits() == 8) {
      return g.initializer(q.dtype().onnxType(), dims, toBytes(zp));
    }
    String values = CodeStream.all(i -> zp[i], zp.length).decode(g, 4, q.dtype().signed());
    return g.reshape(values, dims);
  }

  private static byte[] toBytes(int[] values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) values[i];
    }
    return out;
  }

  /** A per-block [rows, blocks] tensor repeated to [rows, cols]; other granularities broadcast as they are. */
  private static String expandBlocks(DecodeGraph g, QuantizedWeights q, String perBlock) {
    if (q.granularity() != Granularity.PER_BLOCK) {
      return perBlock;
    }
    int rows = q.rows();
    int blocks = QuantizedWeights.blocksPerRow(q.cols(), q.blockSize());
    String repeated = g.tile(g.reshape(perBlock, rows, blocks, 1), 1, 1, q.blockSize());
    String flat = g.reshape(repeated, rows, (long) blocks * q.blockSize());
    return (long) blocks * q.blockSize() == q.cols() ? flat : g.slice(flat, 1, 0, q.cols());
  }
}
