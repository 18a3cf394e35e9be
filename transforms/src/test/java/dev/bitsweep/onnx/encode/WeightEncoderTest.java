package dev.bitsweep.onnx.encode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.compress.Float16;
import dev.bitsweep.compress.PalettizedWeights.TableType;
import dev.bitsweep.compress.QuantDtype;
import dev.bitsweep.compress.QuantizedWeights.Granularity;
import dev.bitsweep.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every encoding, at opsets 7, 13, 17 and 21, decodes in ONNX Runtime bit-exactly to {@code decompress()}. */
class WeightEncoderTest {
  static final int[] OPSETS = {7, 13, 17, 21};

  record Case(String name, long[] shape, int axis, int dataType, Supplier<CompressedWeights> weights) {
    Case(String name, long[] shape, int axis, Supplier<CompressedWeights> weights) {
      this(name, shape, axis, DecodeGraph.FLOAT, weights);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  static long[] shape(long... dims) {
    return dims;
  }

  static List<Case> cases() {
    List<Case> cases = new ArrayList<>();
    for (int nbits : new int[] {1, 2, 3, 4, 5, 6, 8}) {
      cases.add(new Case("palettize " + nbits + "-bit per-tensor fp16", shape(13, 7), 0,
          () -> Forms.palettized(13, 7, nbits, 13, 1, TableType.FLOAT16, false, nbits)));
    }
    cases.add(new Case("palettize 3-bit grouped fp32 conv", shape(16, 4, 3, 3), 0,
        () -> Forms.palettized(16, 36, 3, 4, 1, TableType.FLOAT32, false, 11)));
    cases.add(new Case("palettize 4-bit vectors cd2 grouped fp16 channel scales", shape(8, 12), 0,
        () -> Forms.palettized(8, 12, 4, 2, 2, TableType.FLOAT16, true, 12)));
    cases.add(new Case("palettize 2-bit int8 table grouped", shape(8, 10), 0,
        () -> Forms.palettized(8, 10, 2, 2, 1, TableType.INT8, false, 13)));
    cases.add(new Case("palettize 4-bit uint8 table per-tensor channel scales", shape(6, 9), 0,
        () -> Forms.palettized(6, 9, 4, 6, 1, TableType.UINT8, true, 14)));
    cases.add(new Case("palettize 6-bit int8 table vectors cd3", shape(4, 9), 0,
        () -> Forms.palettized(4, 9, 6, 2, 3, TableType.INT8, false, 15)));
    cases.add(new Case("palettize 4-bit grouped matmul layout", shape(12, 20), 1,
        () -> Forms.palettized(20, 12, 4, 5, 1, TableType.FLOAT16, false, 16)));
    cases.add(new Case("palettize 2-bit conv-transpose layout", shape(3, 6, 2, 2), 1,
        () -> Forms.palettized(6, 12, 2, 6, 1, TableType.FLOAT16, false, 17)));
    cases.add(new Case("palettize 4-bit fp16 weight", shape(10, 6), 0, DecodeGraph.FLOAT16,
        () -> Forms.palettized(10, 6, 4, 10, 1, TableType.FLOAT32, false, 18)));

    cases.add(new Case("int8 per-channel symmetric", shape(16, 20), 0,
        () -> Forms.quantized(16, 20, QuantDtype.INT8, Granularity.PER_CHANNEL, 0, true, 21)));
    cases.add(new Case("uint8 per-tensor asymmetric", shape(7, 9), 0,
        () -> Forms.quantized(7, 9, QuantDtype.UINT8, Granularity.PER_TENSOR, 0, false, 22)));
    cases.add(new Case("int8 per-tensor symmetric", shape(7, 9), 0,
        () -> Forms.quantized(7, 9, QuantDtype.INT8, Granularity.PER_TENSOR, 0, true, 23)));
    cases.add(new Case("int8 per-block 8 asymmetric, ragged", shape(6, 20), 0,
        () -> Forms.quantized(6, 20, QuantDtype.INT8, Granularity.PER_BLOCK, 8, false, 24)));
    cases.add(new Case("int4 per-block 32 symmetric, ragged", shape(4, 80), 0,
        () -> Forms.quantized(4, 80, QuantDtype.INT4, Granularity.PER_BLOCK, 32, true, 25)));
    cases.add(new Case("int4 per-block 16 asymmetric", shape(4, 64), 0,
        () -> Forms.quantized(4, 64, QuantDtype.INT4, Granularity.PER_BLOCK, 16, false, 26)));
    cases.add(new Case("uint4 per-channel asymmetric, odd count", shape(9, 7), 0,
        () -> Forms.quantized(9, 7, QuantDtype.UINT4, Granularity.PER_CHANNEL, 0, false, 27)));
    cases.add(new Case("int4 per-tensor asymmetric", shape(5, 5), 0,
        () -> Forms.quantized(5, 5, QuantDtype.INT4, Granularity.PER_TENSOR, 0, false, 28)));
    cases.add(new Case("int4 per-channel symmetric matmul layout", shape(10, 6), 1,
        () -> Forms.quantized(6, 10, QuantDtype.INT4, Granularity.PER_CHANNEL, 0, true, 29)));
    cases.add(new Case("uint8 per-block 4 asymmetric conv layout", shape(12, 2, 2, 2), 0,
        () -> Forms.quantized(12, 8, QuantDtype.UINT8, Granularity.PER_BLOCK, 4, false, 30)));
    // n-bit grids (gptq / rtn) stored at their width, and float16 scales
    for (int bits : new int[] {2, 3, 5, 6, 7}) {
      QuantDtype signed = bits <= 4 ? QuantDtype.INT4 : QuantDtype.INT8;
      QuantDtype unsigned = bits <= 4 ? QuantDtype.UINT4 : QuantDtype.UINT8;
      cases.add(new Case(bits + "-bit per-channel symmetric", shape(9, 13), 0,
          () -> Forms.quantized(9, 13, signed, bits, Granularity.PER_CHANNEL, 0, true, false, 60 + bits)));
      cases.add(new Case(bits + "-bit per-block 8 asymmetric fp16 scales, ragged", shape(6, 20), 0,
          () -> Forms.quantized(6, 20, unsigned, bits, Granularity.PER_BLOCK, 8, false, true, 70 + bits)));
      cases.add(new Case(bits + "-bit per-block 4 asymmetric, many zero points, matmul layout", shape(40, 12), 1,
          () -> Forms.quantized(12, 40, unsigned, bits, Granularity.PER_BLOCK, 4, false, false, 80 + bits)));
    }
    cases.add(new Case("int4 per-block 32 fp16 scales", shape(4, 64), 0,
        () -> Forms.quantized(4, 64, QuantDtype.INT4, 4, Granularity.PER_BLOCK, 32, true, true, 90)));
    cases.add(new Case("int8 per-channel fp16 scales asymmetric", shape(8, 10), 0,
        () -> Forms.quantized(8, 10, QuantDtype.INT8, 8, Granularity.PER_CHANNEL, 0, false, true, 91)));
    cases.add(new Case("uint4 per-tensor fp16 scale", shape(5, 5), 0,
        () -> Forms.quantized(5, 5, QuantDtype.UINT4, 4, Granularity.PER_TENSOR, 0, false, true, 92)));
    cases.add(new Case("sparse 3-bit per-channel", shape(8, 16), 0,
        () -> Forms.sparse(Forms.quantized(8, 16, QuantDtype.INT4, 3, Granularity.PER_CHANNEL, 0, true, false, 93),
            0.5, 12)));

    cases.add(new Case("dense", shape(5, 6), 1, () -> Forms.dense(6, 5, 40)));
    cases.add(new Case("dense fp16 weight", shape(5, 6), 0, DecodeGraph.FLOAT16, () -> Forms.dense(5, 6, 41)));
    cases.add(new Case("sparse 50% dense", shape(16, 24), 0, () -> Forms.sparse(Forms.dense(16, 24, 42), 0.5, 1)));
    cases.add(new Case("sparse 30% kept matmul layout", shape(10, 14), 1,
        () -> Forms.sparse(Forms.dense(14, 10, 43), 0.3, 2)));
    cases.add(new Case("sparse nothing kept", shape(4, 5), 0, () -> Forms.sparse(Forms.dense(4, 5, 44), 0.0, 3)));
    cases.add(new Case("sparse everything kept", shape(4, 5), 0, () -> Forms.sparse(Forms.dense(4, 5, 45), 1.0, 4)));
    cases.add(new Case("sparse int8 per-channel", shape(12, 16), 0,
        () -> Forms.sparse(Forms.quantized(12, 16, QuantDtype.INT8, Granularity.PER_CHANNEL, 0, true, 46), 0.5, 5)));
    cases.add(new Case("sparse int4 per-block 16 asymmetric", shape(8, 40), 0,
        () -> Forms.sparse(Forms.quantized(8, 40, QuantDtype.INT4, Granularity.PER_BLOCK, 16, false, 47), 0.5, 6)));
    cases.add(new Case("sparse uint8 per-tensor asymmetric", shape(6, 7), 0,
        () -> Forms.sparse(Forms.quantized(6, 7, QuantDtype.UINT8, Granularity.PER_TENSOR, 0, false, 48), 0.5, 7)));
    cases.add(new Case("sparse palettize 2-bit grouped fp16", shape(8, 12), 0,
        () -> Forms.sparse(Forms.palettized(8, 12, 2, 2, 1, TableType.FLOAT16, true, 49), 0.5, 8)));
    cases.add(new Case("sparse palettize 4-bit vectors cd2", shape(6, 8), 0,
        () -> Forms.sparse(Forms.palettized(6, 8, 4, 6, 2, TableType.FLOAT16, false, 50), 0.4, 9)));
    cases.add(new Case("sparse palettize 3-bit int8 table", shape(8, 9), 1,
        () -> Forms.sparse(Forms.palettized(9, 8, 3, 3, 1, TableType.INT8, false, 51), 0.5, 10)));
    cases.add(new Case("sparse over 64 blocks (multi-level prefix)", shape(70, 80), 0,
        () -> Forms.sparse(Forms.dense(70, 80, 52), 0.5, 11)));
    return cases;
  }

  @TestFactory
  Stream<DynamicTest> everyEncodingDecodesExactlyAtEveryOpset() {
    List<DynamicTest> tests = new ArrayList<>();
    for (int opset : OPSETS) {
      for (Case c : cases()) {
        tests.add(DynamicTest.dynamicTest("opset " + opset + ": " + c, () -> roundTrip(opset, c)));
      }
    }
    return tests.stream();
  }

  static EncodedLayer roundTrip(int opset, Case c) {
    CompressedWeights weights = c.weights().get();
    CanonicalLayout layout = new CanonicalLayout(c.shape(), c.axis());
    float[] original = layout.fromCanonical(Forms.dense(layout.rows(), layout.cols(), 99).matrix().values());
    Onnx.ModelProto model = TestModels.identity(opset, "W", c.shape(), original, c.dataType());
    Onnx.ModelProto.Builder encoded = model.toBuilder();
    EncodedLayer layer = WeightEncoder.forModel(model).encode(encoded.getGraphBuilder(), "W", c.shape(), c.axis(), weights);
    byte[] bytes = encoded.build().toByteArray();

    assertEquals(model.getOpsetImportList(), encoded.getOpsetImportList(), "opset imports must not change");
    assertTrue(layer.minOpset() <= opset, layer.encoding() + " needs opset " + layer.minOpset());
    float[] expected = expectedDense(weights, layout, c.dataType());
    assertBitsEqual(expected, OrtDecode.decodeWeight(bytes, "Y"), c + " at opset " + opset + " via " + layer.encoding());
    return layer;
  }

  static float[] expectedDense(CompressedWeights weights, CanonicalLayout layout, int dataType) {
    float[] expected = layout.fromCanonical(weights.decompress().values());
    for (int i = 0; i < expected.length; i++) {
      if (dataType == DecodeGraph.FLOAT16) {
        expected[i] = Float16.round(expected[i]);
      } else if (dataType == DecodeGraph.BFLOAT16) {
        expected[i] = Float16.bfloat16ToFloat(WeightEncoder.toBfloat16(expected[i]));
      }
    }
    return expected;
  }

  static void assertBitsEqual(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what + ": element count");
    for (int i = 0; i < expected.length; i++) {
      if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
        fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i]);
      }
    }
  }
}
