package dev.bitsweep.onnx.encode;

import java.util.Collection;
import java.util.List;

/**
 * The building blocks of bitsweep's ONNX weight encodings. A layer's encoding is a family plus the components it
 * uses, e.g. {@code palettize/unpack-arith+lut-fp16}; its minimum opset and ONNX Runtime version are the maxima over
 * its components. {@link WeightEncoder} picks, for each layer, the preferred component the model's own opset allows.
 *
 * <table>
 *   <caption>Components</caption>
 *   <tr><th>component</th><th>ops</th><th>min opset</th><th>min ORT</th><th>what it decodes</th></tr>
 *   <tr><td>dense</td><td>(initializer)</td><td>1</td><td>1.0</td><td>plain weights in the tensor's own dtype</td></tr>
 *   <tr><td>unpack-arith</td><td>Cast Gather Reshape Add Mul (+ Div Sub on a 256-entry byte table)</td><td>7</td><td>1.0</td><td>n-bit codes
 *       from bit planes of packed uint8 (see {@link BitPacking}): one Gather per plane from a [256, 8/k] table of each
 *       byte's values, computed from an iota with x mod 2^k = x - (x / 2^k) * 2^k</td></tr>
 *   <tr><td>unpack-bitwise</td><td>the same, byte table from BitShift BitwiseAnd</td><td>18</td><td>1.14</td><td>n-bit codes from packed uint8</td></tr>
 *   <tr><td>lut-fp32 / lut-fp16</td><td>(Cast) Gather Reshape</td><td>7</td><td>1.0</td><td>palette lookup, vector entries for cluster_dim &gt; 1</td></tr>
 *   <tr><td>lut-groups</td><td>Range (iota from Mul/Add/Reshape below 11) Mul Add</td><td>7</td><td>1.0</td><td>per-grouped-channel tables: index + group * 2^n into one flat table</td></tr>
 *   <tr><td>lut-int8-dq</td><td>DequantizeLinear (per-axis)</td><td>13 (10 for one group)</td><td>1.6</td><td>int8/uint8 table with per-group scale and zero point</td></tr>
 *   <tr><td>lut-int8-arith</td><td>Cast Sub Mul</td><td>7</td><td>1.0</td><td>the same table below opset 13</td></tr>
 *   <tr><td>channel-scale</td><td>(Cast) Mul</td><td>7</td><td>1.0</td><td>per-output-channel scales of palettization</td></tr>
 *   <tr><td>scale-fp16</td><td>Cast</td><td>7</td><td>1.0</td><td>quantization scales stored as float16 (every
 *       scale a float16 value), widened exactly to float before the dequantization</td></tr>
 *   <tr><td>dq-tensor</td><td>DequantizeLinear</td><td>10</td><td>1.0</td><td>int8/uint8 codes, one scale</td></tr>
 *   <tr><td>dq-axis</td><td>DequantizeLinear axis=0</td><td>13</td><td>1.6</td><td>int8/uint8 codes, per-channel scales</td></tr>
 *   <tr><td>dq-int4</td><td>DequantizeLinear on INT4/UINT4 tensors</td><td>21</td><td>1.20</td><td>4-bit codes stored as ONNX INT4/UINT4</td></tr>
 *   <tr><td>dq-blocked</td><td>DequantizeLinear axis=1 block_size</td><td>21</td><td>1.20</td><td>per-block scales</td></tr>
 *   <tr><td>dequant-arith</td><td>Cast Sub Mul (Tile Reshape Slice for blocks)</td><td>7</td><td>1.0</td><td>(float) (q - zp) * scale where DequantizeLinear cannot</td></tr>
 *   <tr><td>sparse-cumsum</td><td>CumSum Gather</td><td>11</td><td>1.1</td><td>kept values to their positions: kept[CumSum(mask)] (kept[0] is a filler)</td></tr>
 *   <tr><td>sparse-matmul-prefix</td><td>MatMul Less Not Cast Tile Concat Gather</td><td>7</td><td>1.0</td><td>the same prefix sums as blocked triangular MatMuls (exact below 2^24 weights)</td></tr>
 *   <tr><td>sparse-vectors</td><td>MatMul Cast</td><td>7</td><td>1.0</td><td>kept palette vectors (cluster_dim &gt; 1): a vector is stored if any of its weights is kept</td></tr>
 *   <tr><td>mask-where</td><td>Where</td><td>9</td><td>1.0</td><td>pruned weights to exactly +0 (not used when a kept weight is -0.0:
 *       ONNX Runtime's Where returns +0.0 for a selected -0.0)</td></tr>
 *   <tr><td>mask-mul</td><td>Mul Sub Add</td><td>7</td><td>1.0</td><td>the same below opset 9 or with kept -0.0: w*m + (0-m)*0 keeps
 *       kept -0.0 and gives +0 elsewhere</td></tr>
 *   <tr><td>layout</td><td>Reshape Transpose</td><td>7</td><td>1.0</td><td>canonical [rows, cols] back to the tensor's shape and axis order</td></tr>
 *   <tr><td>cast-fp16 / cast-bf16</td><td>Cast</td><td>7 / 13</td><td>1.0 / 1.6</td><td>fp16/bf16 weights (decoded in fp32, rounded to nearest even)</td></tr>
 * </table>
 *
 * <p>Every component is verified bit-exactly with ONNX Runtime 1.29.0 at opsets 7, 13, 17 and 21 where it
 * applies; the older runtime versions are those whose release first supported the opset the component needs
 * (ONNX Runtime's published opset table), not re-run here.
 */
public enum EncodingCatalog {
  DENSE("dense", 1, "1.0", "initializer"),
  UNPACK_ARITH("unpack-arith", 7, "1.0", "Cast", "Gather", "Reshape", "Add", "Mul", "Div", "Sub"),
  UNPACK_BITWISE("unpack-bitwise", 18, "1.14", "Cast", "Gather", "Reshape", "Add", "Mul", "BitShift", "BitwiseAnd"),
  LUT_FP32("lut-fp32", 7, "1.0", "Gather", "Reshape"),
  LUT_FP16("lut-fp16", 7, "1.0", "Cast", "Gather", "Reshape"),
  LUT_GROUPS("lut-groups", 7, "1.0", "Range", "Mul", "Add", "Reshape"),
  LUT_INT8_DQ_TENSOR("lut-int8-dq", 10, "1.0", "DequantizeLinear"),
  LUT_INT8_DQ_AXIS("lut-int8-dq-axis", 13, "1.6", "DequantizeLinear"),
  LUT_INT8_ARITH("lut-int8-arith", 7, "1.0", "Cast", "Sub", "Mul"),
  CHANNEL_SCALE("channel-scale", 7, "1.0", "Cast", "Mul"),
  SCALE_FP16("scale-fp16", 7, "1.0", "Cast"),
  DQ_TENSOR("dq-tensor", 10, "1.0", "DequantizeLinear"),
  DQ_AXIS("dq-axis", 13, "1.6", "DequantizeLinear"),
  DQ_INT4("dq-int4", 21, "1.20", "DequantizeLinear"),
  DQ_BLOCKED("dq-blocked", 21, "1.20", "DequantizeLinear"),
  DEQUANT_ARITH("dequant-arith", 7, "1.0", "Cast", "Sub", "Mul", "Tile", "Reshape", "Slice"),
  SPARSE_CUMSUM("sparse-cumsum", 11, "1.1", "CumSum", "Gather"),
  SPARSE_MATMUL_PREFIX("sparse-matmul-prefix", 7, "1.0", "MatMul", "Less", "Not", "Cast", "Tile", "Concat", "Gather"),
  SPARSE_VECTORS("sparse-vectors", 7, "1.0", "MatMul", "Cast"),
  MASK_WHERE("mask-where", 9, "1.0", "Where", "Cast"),
  MASK_MUL("mask-mul", 7, "1.0", "Mul", "Sub", "Add"),
  LAYOUT("layout", 7, "1.0", "Reshape", "Transpose"),
  CAST_FP16("cast-fp16", 7, "1.0", "Cast"),
  CAST_BF16("cast-bf16", 13, "1.6", "Cast");

  private final String id;
  private final int minOpset;
  private final String minOrtVersion;
  private final List<String> ops;

  EncodingCatalog(String id, int minOpset, String minOrtVersion, String... ops) {
    this.id = id;
    this.minOpset = minOpset;
    this.minOrtVersion = minOrtVersion;
    this.ops = List.of(ops);
  }

  public String id() {
    return id;
  }

  public int minOpset() {
    return minOpset;
  }

  public String minOrtVersion() {
    return minOrtVersion;
  }

  public List<String> ops() {
    return ops;
  }

  /** The newest of the given runtime versions ("1.14" &gt; "1.6"). */
  static String newestOrt(Collection<EncodingCatalog> components) {
    String newest = "1.0";
    for (EncodingCatalog c : components) {
      if (compareVersions(c.minOrtVersion, newest) > 0) {
        newest = c.minOrtVersion;
      }
    }
    return newest;
  }

  static int compareVersions(String a, String b) {
    String[] x = a.split("\\.");
    String[] y = b.split("\\.");
    for (int i = 0; i < Math.max(x.length, y.length); i++) {
      int u = i < x.length ? Integer.parseInt(x[i]) : 0;
      int v = i < y.length ? Integer.parseInt(y[i]) : 0;
      if (u != v) {
        return Integer.compare(u, v);
      }
    }
    return 0;
  }
}
