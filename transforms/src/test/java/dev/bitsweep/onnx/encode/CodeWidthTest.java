package dev.bitsweep.onnx.encode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.calibrate.Gptq;
import dev.bitsweep.calibrate.GptqConfig;
import dev.bitsweep.calibrate.RoundToNearest;
import dev.bitsweep.calibrate.SparseGpt;
import dev.bitsweep.calibrate.SparseGptConfig;
import dev.bitsweep.compress.Float16;
import dev.bitsweep.compress.LinearQuantizeConfig;
import dev.bitsweep.compress.LinearQuantizer;
import dev.bitsweep.compress.QuantDtype;
import dev.bitsweep.compress.QuantizedWeights;
import dev.bitsweep.compress.ScaleDtype;
import dev.bitsweep.compress.SparseWeights;
import dev.bitsweep.compress.WeightMatrix;
import dev.bitsweep.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The codes of gptq / rtn / linear_quantize as the library computes them: stored at their grid's width with float16
 * scales where asked, decoded by ONNX Runtime bit-exactly at every opset, and costing the formula's bytes:
 * {@code rows * cols * bits / 8 + scales * (2 or 4) + zero points * bits / 8}, plus a fixed decode overhead.
 */
class CodeWidthTest {
  /**
   * Decode nodes and names, independent of the layer size: one plane as {@link EncodedSizeTest#FIXED_OVERHEAD};
   * up to three planes (7 bits = 4 + 2 + 1) and packed zero points each add a byte table and their unpacking
   * (shared with the model's other layers).
   */
  static final long FIXED_OVERHEAD = 2560;

  private static WeightMatrix weights(int rows, int cols, long seed) {
    Random rnd = new Random(seed);
    float[] values = new float[rows * cols];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (rnd.nextGaussian() * 0.05);
    }
    return new WeightMatrix(values, rows, cols);
  }

  /** The payload formula, independent of {@link QuantizedWeights#payloadBytes()}. */
  private static long formulaBytes(int rows, int cols, int bits, int scaleCount, int scaleBytes, boolean zeroPoints) {
    long codes = ((long) rows * cols * bits + 7) / 8;
    long zeros = zeroPoints ? ((long) scaleCount * bits + 7) / 8 : 0;
    return codes + (long) scaleCount * scaleBytes + zeros;
  }

  /** Encodes {@code q} as weight W of an identity model, checks the decode and the size, returns the stored bytes. */
  private static long encodeAndCheck(int opset, QuantizedWeights q, long formula, String what) {
    long[] shape = {q.rows(), q.cols()};
    Onnx.ModelProto model = TestModels.identity(opset, "W", shape, new float[q.rows() * q.cols()], DecodeGraph.FLOAT);
    long withoutWeight = model.toBuilder().setGraph(model.getGraph().toBuilder().clearInitializer()).build()
        .getSerializedSize();
    Onnx.ModelProto.Builder encoded = model.toBuilder();
    EncodedLayer layer = WeightEncoder.forModel(model).encode(encoded.getGraphBuilder(), "W", shape, 0, q);
    byte[] bytes = encoded.build().toByteArray();
    String where = what + " at opset " + opset + " via " + layer.encoding();
    WeightEncoderTest.assertBitsEqual(q.decompress().values(), OrtDecode.decodeWeight(bytes, "Y"), where);

    assertEquals(formula, q.payloadBytes(), where + ": payload");
    long growth = bytes.length - withoutWeight;
    long stored = layer.storedBytes();
    assertTrue(stored >= formula && stored <= formula + FIXED_OVERHEAD,
        where + ": stored " + stored + " bytes, formula " + formula);
    assertTrue(growth >= stored && growth <= formula + FIXED_OVERHEAD,
        where + ": file grew " + growth + " bytes, formula " + formula);
    long bulk = 0;
    for (Onnx.TensorProto t : encoded.getGraph().getInitializerList()) {
      if (t.getRawData().size() > QuantizedDecode.SMALL) {
        bulk += t.getRawData().size();
      }
    }
    assertTrue(bulk <= formula, where + ": the large initializers hold " + bulk + " bytes, more than the formula's "
        + formula);
    return stored;
  }

  @TestFactory
  Stream<DynamicTest> everyWidthIsStoredAtItsWidth() {
    int rows = 48;
    int cols = 160;
    WeightMatrix w = weights(rows, cols, 1);
    List<DynamicTest> tests = new ArrayList<>();
    for (int opset : WeightEncoderTest.OPSETS) {
      for (int bits = 2; bits <= 8; bits++) {
        for (boolean symmetric : new boolean[] {true, false}) {
          for (ScaleDtype scaleDtype : ScaleDtype.values()) {
            int nbits = bits;
            int group = symmetric ? 0 : 32;
            String what = "rtn " + bits + "-bit " + (group == 0 ? "per-channel" : "g" + group)
                + (symmetric ? "" : " asym") + " " + scaleDtype;
            tests.add(DynamicTest.dynamicTest("opset " + opset + ": " + what, () -> {
              QuantizedWeights q = RoundToNearest.quantize(w, nbits, group, symmetric, scaleDtype);
              assertEquals(nbits, q.codeBits(), what);
              assertEquals(scaleDtype == ScaleDtype.FLOAT16, q.float16Scales(), what + ": float16 scales");
              int scaleCount = group == 0 ? rows : rows * (cols / group);
              encodeAndCheck(opset, q, formulaBytes(rows, cols, nbits, scaleCount,
                  scaleDtype == ScaleDtype.FLOAT16 ? 2 : 4, !symmetric), what);
            }));
          }
        }
      }
    }
    return tests.stream();
  }

  @Test
  void threeBitPerChannelIsThreeBitsPlusScales() {
    int n = 1024;
    QuantizedWeights q = RoundToNearest.quantize(weights(n, n, 2), 3, 0, true);
    long formula = formulaBytes(n, n, 3, n, 4, false);
    assertEquals(n * n * 3 / 8 + n * 4, formula);
    for (int opset : WeightEncoderTest.OPSETS) {
      long stored = encodeAndCheck(opset, q, formula, "rtn 3-bit per-channel 1024x1024");
      double bitsPerWeight = 8.0 * stored / (n * n);
      double expected = 3 + 32.0 / n;
      assertTrue(bitsPerWeight >= expected && bitsPerWeight < expected + 0.012,
          "3-bit per-channel at opset " + opset + ": " + bitsPerWeight + " bits/weight, expected 3 + 32/1024");
      System.out.printf("3-bit per-channel 1024x1024 opset %d: %.5f bits/weight%n", opset, bitsPerWeight);
    }
  }

  @Test
  void int4BlockThirtyTwoIsFourAndAHalfBitsWithFloat16Scales() {
    int n = 1024;
    WeightMatrix w = weights(n, n, 3);
    for (ScaleDtype scaleDtype : ScaleDtype.values()) {
      LinearQuantizeConfig config = LinearQuantizeConfig.builder().dtype(QuantDtype.INT4).perBlock(32)
          .scaleDtype(scaleDtype).build();
      QuantizedWeights q = LinearQuantizer.quantize(config, w);
      int scaleBytes = scaleDtype == ScaleDtype.FLOAT16 ? 2 : 4;
      long formula = formulaBytes(n, n, 4, n * n / 32, scaleBytes, false);
      for (int opset : WeightEncoderTest.OPSETS) {
        long stored = encodeAndCheck(opset, q, formula, "int4 b32 " + scaleDtype);
        double bitsPerWeight = 8.0 * stored / (n * n);
        double expected = 4 + scaleBytes * 8 / 32.0;
        assertTrue(bitsPerWeight >= expected && bitsPerWeight < expected + 0.012,
            "int4 b32 " + scaleDtype + " at opset " + opset + ": " + bitsPerWeight + " bits/weight, expected " + expected);
        System.out.printf("int4 b32 %s 1024x1024 opset %d: %.5f bits/weight%n", scaleDtype, opset, bitsPerWeight);
      }
    }
  }

  private static double[] hessian(int cols, long seed) {
    Random rnd = new Random(seed);
    int samples = 512;
    double[] x = new double[samples * cols];
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextGaussian();
    }
    double[] hessian = new double[cols * cols];
    for (int s = 0; s < samples; s++) {
      for (int i = 0; i < cols; i++) {
        for (int j = 0; j < cols; j++) {
          hessian[i * cols + j] += x[s * cols + i] * x[s * cols + j] / samples;
        }
      }
    }
    return hessian;
  }

  @Test
  void sparseGptJointThreeBitCodesWithFloat16ScalesDecodeExactly() {
    int rows = 32;
    int cols = 128;
    SparseGptConfig config = SparseGptConfig.unstructured(0.5).withQuantization(3, false)
        .withScaleDtype(ScaleDtype.FLOAT16);
    SparseWeights s = new SparseGpt(config).prune(weights(rows, cols, 6), hessian(cols, 7)).weights();
    QuantizedWeights kept = (QuantizedWeights) s.kept();
    assertEquals(3, kept.codeBits());
    assertTrue(kept.float16Scales(), "every sparsegpt scale is a float16 value");
    long keptCount = s.keptCount();
    // mask bits + kept 3-bit codes + 2-byte scales + 3-bit zero points per row
    long formula = ((long) rows * cols + 7) / 8 + (keptCount * 3 + 7) / 8 + rows * 2L + (rows * 3L + 7) / 8;
    assertEquals(formula, s.payloadBytes());
    for (int opset : WeightEncoderTest.OPSETS) {
      long[] shape = {rows, cols};
      Onnx.ModelProto model = TestModels.identity(opset, "W", shape, new float[rows * cols], DecodeGraph.FLOAT);
      Onnx.ModelProto.Builder encoded = model.toBuilder();
      EncodedLayer layer = WeightEncoder.forModel(model).encode(encoded.getGraphBuilder(), "W", shape, 0, s);
      WeightEncoderTest.assertBitsEqual(s.decompress().values(),
          OrtDecode.decodeWeight(encoded.build().toByteArray(), "Y"), "sparsegpt 3-bit at opset " + opset
              + " via " + layer.encoding());
    }
  }

  @Test
  void gptqThreeBitGroupsWithFloat16ScalesDecodeExactly() {
    int rows = 64;
    int cols = 256;
    WeightMatrix w = weights(rows, cols, 4);
    double[] hessian = hessian(cols, 5);
    GptqConfig config = new GptqConfig(3, 128, false, GptqConfig.DEFAULT_LAZY_BATCH_SIZE, GptqConfig.DEFAULT_PERCDAMP,
        false, ScaleDtype.FLOAT16);
    QuantizedWeights q = new Gptq(config).quantize(w, hessian).weights();
    assertEquals(3, q.codeBits());
    for (float scale : q.scales()) {
      assertEquals(Float.floatToRawIntBits(scale), Float.floatToRawIntBits(Float16.round(scale)),
          "every gptq scale is a float16 value");
    }
    long formula = formulaBytes(rows, cols, 3, rows * 2, 2, true);
    for (int opset : WeightEncoderTest.OPSETS) {
      encodeAndCheck(opset, q, formula, "gptq 3-bit g128 asym float16 scales");
    }
  }
}
