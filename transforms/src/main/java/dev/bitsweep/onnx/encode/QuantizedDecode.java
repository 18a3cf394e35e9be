package dev.bitsweep.onnx.encode;

import dev.bitsweep.compress.Float16;
import dev.bitsweep.compress.QuantizedWeights;
import dev.bitsweep.compress.QuantizedWeights.Granularity;
import java.util.ArrayList;
import java.util.List;

/**
 * Linearly quantized weights: DequantizeLinear where the opset has the needed form (per-tensor 10, per-axis 13,
 * INT4 and blocked 21), else the same formula {@code (float) (q - zp) * scale} from Cast, Sub and Mul.
 *
 * <p>Codes are stored at their grid's width ({@code codeBits}): 8-bit codes as int8/uint8, 4-bit codes as INT4/UINT4
 * from opset 21; every other width (and 4 bits below 21) as bit planes unpacked like palette indices
 * ({@link CodeStream}), cast to int8/uint8 where DequantizeLinear takes them. Zero points of packed codes are packed
 * at the same width when there are more than {@link #SMALL} of them. Scales that are all float16 values are stored
 * as float16 and cast to float before the dequantization, so the decode still computes in float.
 */
final class QuantizedDecode {
  private QuantizedDecode() {}

  /** Up to this many zero points are stored one per byte: packing them would cost more decode nodes than it saves. */
  static final int SMALL = 64;

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
    int min = q.minCode();
    int max = q.maxCode();
    String range = (q.codeBits() == q.dtype().bits() ? "" : q.codeBits() + "-bit codes in ") + q.dtype() + " [" + min
        + ", " + max + "]";
    for (int i = 0; i < q.codes().length; i++) {
      int code = q.code(i);
      if (code < min || code > max) {
        throw new IllegalArgumentException("layer " + weightName + ": code " + code + " at " + i + " is outside "
            + range);
      }
    }
    if (q.zeroPoints() != null) {
      for (int i = 0; i < q.zeroPoints().length; i++) {
        int zp = q.zeroPoints()[i];
        if (zp < min || zp > max) {
          throw new IllegalArgumentException("layer " + weightName + ": zero point " + zp + " at " + i + " is outside "
              + range);
        }
      }
    }
  }

  /** Every code stored: typed int8/uint8, or ONNX INT4/UINT4 at opset 21, or bit-packed at its width in uint8. */
  static String decodeAll(DecodeGraph g, QuantizedWeights q) {
    return decodeAll(g, q, new long[] {q.rows(), q.cols()});
  }

  /**
   * Whether the codes can be stored in the weight's own shape and dequantized by one DequantizeLinear, with no
   * Reshape after it: typed codes (8-bit, or 4-bit from opset 21), per tensor or per output channel on axis 0.
   */
  static boolean dequantizesInPlace(int opset, QuantizedWeights q, boolean rowsAreAxis0) {
    return typed(opset, q) && q.granularity() != Granularity.PER_BLOCK && dequantizeLinearAvailable(opset, q.granularity())
        && (rowsAreAxis0 || q.granularity() == Granularity.PER_TENSOR);
  }

  /** Whether the codes are stored as a typed ONNX tensor (int8/uint8, INT4/UINT4 from opset 21), not bit planes. */
  private static boolean typed(int opset, QuantizedWeights q) {
    return q.codeBits() == q.dtype().bits() && (q.codeBits() == 8 || opset >= 21);
  }

  /** {@link #decodeAll} with the codes stored as {@code dims}: [rows, cols], or the weight's shape when in place. */
  static String decodeAll(DecodeGraph g, QuantizedWeights q, long[] dims) {
    if (!typed(g.opset, q)) {
      return decodeCodes(g, q, CodeStream.all(i -> q.codes()[i], q.codes().length));
    }
    if (q.codeBits() == 8) {
      return dequantize(g, q, g.initializer(q.dtype().onnxType(), dims, q.codes()), q.dtype().onnxType());
    }
    g.use(EncodingCatalog.DQ_INT4);
    byte[] packed = BitPacking.packInt4(i -> q.codes()[i], q.codes().length);
    return dequantize(g, q, g.initializer(q.dtype().onnxType(), dims, packed), q.dtype().onnxType());
  }

  /** Codes from a code stream (packed, or kept codes of a sparse mask) as int32, then dequantized. */
  static String decodeCodes(DecodeGraph g, QuantizedWeights q, CodeStream codes) {
    String values = codes.decode(g, q.codeBits(), q.dtype().signed());
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
      List<String> inputs = new ArrayList<>(List.of(codes, scales(g, q, scaleDims)));
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
    return g.mul(value, expandBlocks(g, q, scales(g, q, broadcastDims)));
  }

  /** Float scales of {@code dims}: float16 cast to float when every scale is a float16 value, else float32. */
  private static String scales(DecodeGraph g, QuantizedWeights q, long[] dims) {
    if (!q.float16Scales()) {
      return g.floats(dims, q.scales());
    }
    g.use(EncodingCatalog.SCALE_FP16);
    short[] halves = new short[q.scales().length];
    for (int i = 0; i < halves.length; i++) {
      halves[i] = Float16.fromFloat(q.scales()[i]);
    }
    return g.cast(g.float16s(dims, halves), DecodeGraph.FLOAT);
  }

  /**
   * Zero points in the DequantizeLinear input type: packed INT4/UINT4, or for int8/uint8 one byte each, or (codes
   * narrower than 8 bits, many zero points) bit-packed at the code width and cast.
   */
  private static String zeroPointsTyped(DecodeGraph g, QuantizedWeights q, long[] dims, int type) {
    int[] zp = q.zeroPoints();
    if (type == DecodeGraph.INT4 || type == DecodeGraph.UINT4) {
      return g.initializer(type, dims, BitPacking.packInt4(i -> zp[i], zp.length));
    }
    if (q.codeBits() < 8 && zp.length > SMALL) {
      return g.cast(zeroPointsPacked(g, q, dims), type);
    }
    return g.initializer(type, dims, toBytes(zp));
  }

  /** Zero points at the codes' width (bytes for 8 bits), as an integer tensor of {@code dims}. */
  private static String zeroPointsPacked(DecodeGraph g, QuantizedWeights q, long[] dims) {
    int[] zp = q.zeroPoints();
    if (q.codeBits() == 8) {
      return g.initializer(q.dtype().onnxType(), dims, toBytes(zp));
    }
    String values = CodeStream.all(i -> zp[i], zp.length).decode(g, q.codeBits(), q.dtype().signed());
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
