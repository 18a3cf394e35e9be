package dev.bitsweep.onnx.encode;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.compress.PalettizedWeights.TableType;
import dev.bitsweep.compress.QuantDtype;
import dev.bitsweep.compress.QuantizedWeights.Granularity;
import dev.bitsweep.onnx.encode.WeightEncoderTest.Case;
import dev.bitsweep.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** The file grows by the theoretical payload within 1% plus a small fixed overhead, and still decodes exactly. */
class EncodedSizeTest {
  /** Decode nodes, names and tensor headers: independent of the layer size. */
  static final long FIXED_OVERHEAD = 1536;
  /** Sparse below opset 11: the blocked MatMul prefix sums, and IR 3 lists every initializer as a graph input. */
  static final long FIXED_OVERHEAD_OLD_SPARSE = 4096;

  static List<Case> cases() {
    int rows = 256;
    int cols = 384;
    List<Case> cases = new ArrayList<>();
    long[] shape = {rows, cols};
    for (int nbits : new int[] {1, 2, 3, 4, 6, 8}) {
      cases.add(new Case("palettize " + nbits + "-bit per-tensor", shape, 0,
          () -> Forms.palettized(rows, cols, nbits, rows, 1, TableType.FLOAT16, false, nbits)));
    }
    cases.add(new Case("palettize 4-bit grouped g16 channel scales", shape, 0,
        () -> Forms.palettized(rows, cols, 4, 16, 1, TableType.FLOAT16, true, 7)));
    cases.add(new Case("palettize 2-bit int8 table g16", shape, 0,
        () -> Forms.palettized(rows, cols, 2, 16, 1, TableType.INT8, false, 8)));
    cases.add(new Case("palettize 4-bit vectors cd4", shape, 0,
        () -> Forms.palettized(rows, cols, 4, rows, 4, TableType.FLOAT16, false, 9)));
    cases.add(new Case("int8 per-channel", shape, 0,
        () -> Forms.quantized(rows, cols, QuantDtype.INT8, Granularity.PER_CHANNEL, 0, true, 10)));
    cases.add(new Case("uint8 per-channel asymmetric", shape, 0,
        () -> Forms.quantized(rows, cols, QuantDtype.UINT8, Granularity.PER_CHANNEL, 0, false, 11)));
    cases.add(new Case("int4 per-block 32", shape, 0,
        () -> Forms.quantized(rows, cols, QuantDtype.INT4, Granularity.PER_BLOCK, 32, true, 12)));
    cases.add(new Case("uint4 per-block 32 asymmetric", shape, 0,
        () -> Forms.quantized(rows, cols, QuantDtype.UINT4, Granularity.PER_BLOCK, 32, false, 13)));
    cases.add(new Case("sparse 50% dense", shape, 0, () -> Forms.sparse(Forms.dense(rows, cols, 14), 0.5, 1)));
    cases.add(new Case("sparse 50% int4 per-block 32", shape, 0,
        () -> Forms.sparse(Forms.quantized(rows, cols, QuantDtype.INT4, Granularity.PER_BLOCK, 32, true, 15), 0.5, 2)));
    cases.add(new Case("sparse 50% palettize 4-bit", shape, 0,
        () -> Forms.sparse(Forms.palettized(rows, cols, 4, rows, 1, TableType.FLOAT16, false, 16), 0.5, 3)));
    return cases;
  }

  @TestFactory
  Stream<DynamicTest> fileGrowthIsThePayload() {
    List<DynamicTest> tests = new ArrayList<>();
    for (int opset : WeightEncoderTest.OPSETS) {
      for (Case c : cases()) {
        tests.add(DynamicTest.dynamicTest("opset " + opset + ": " + c, () -> checkSize(opset, c)));
      }
    }
    return tests.stream();
  }

  static void checkSize(int opset, Case c) {
    CompressedWeights weights = c.weights().get();
    CanonicalLayout layout = new CanonicalLayout(c.shape(), c.axis());
    Onnx.ModelProto model = TestModels.identity(opset, "W", c.shape(), new float[layout.rows() * layout.cols()], DecodeGraph.FLOAT);
    long withoutWeight = model.toBuilder().setGraph(model.getGraph().toBuilder().clearInitializer()).build().getSerializedSize();
    Onnx.ModelProto.Builder encoded = model.toBuilder();
    EncodedLayer layer = WeightEncoder.forModel(model).encode(encoded.getGraphBuilder(), "W", c.shape(), c.axis(), weights);
    byte[] bytes = encoded.build().toByteArray();
    long growth = bytes.length - withoutWeight;
    long payload = weights.payloadBytes();
    String what = c + " at opset " + opset + " via " + layer.encoding() + ": file grew " + growth + " bytes, payload " + payload;
    long overhead = opset < 11 && c.name().startsWith("sparse") ? FIXED_OVERHEAD_OLD_SPARSE : FIXED_OVERHEAD;
    assertTrue(growth <= payload * 1.01 + overhead, what);
    assertTrue(layer.storedBytes() <= growth, what + ", reported " + layer.storedBytes());
    WeightEncoderTest.assertBitsEqual(WeightEncoderTest.expectedDense(weights, layout, DecodeGraph.FLOAT),
        OrtDecode.decodeWeight(bytes, "Y"), what);
  }

  @Test
  void halfSparseDenseWeightsShrinkTheFile() {
    int rows = 256;
    int cols = 384;
    long denseBytes = rows * cols * 4L;
    for (int opset : WeightEncoderTest.OPSETS) {
      Case c = new Case("sparse 50%", new long[] {rows, cols}, 0, () -> Forms.sparse(Forms.dense(rows, cols, 1), 0.5, 1));
      Onnx.ModelProto model = TestModels.identity(opset, "W", c.shape(), new float[rows * cols], DecodeGraph.FLOAT);
      Onnx.ModelProto.Builder encoded = model.toBuilder();
      WeightEncoder.forModel(model).encode(encoded.getGraphBuilder(), "W", c.shape(), 0, c.weights().get());
      long ratio100 = encoded.build().getSerializedSize() * 100L / model.getSerializedSize();
      assertTrue(ratio100 <= 57, "50% sparse fp32 must be about 1/2 + 1/32 of dense, got " + ratio100 + "% at opset " + opset
          + " (dense " + denseBytes + " bytes)");
    }
  }
}
