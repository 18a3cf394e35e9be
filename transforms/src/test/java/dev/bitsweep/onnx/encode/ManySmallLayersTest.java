package dev.bitsweep.onnx.encode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.CodedOutputStream;
import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.compress.PalettizedWeights.TableType;
import dev.bitsweep.compress.QuantDtype;
import dev.bitsweep.compress.QuantizedWeights.Granularity;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 15 section 5: a TensorFlow-style export (NHWC input transposed to NCHW, 40 Conv 16x16x3x3 layers with long
 * tf2onnx weight names) packaged with every layer compressed. Decode subgraphs share their constants and byte tables
 * and use short generated names, so the file grows by the payload plus a small bounded overhead per layer; the file
 * size equals the original without its weights plus the reported stored bytes, and ONNX Runtime decodes every layer
 * exactly and runs the package to the outputs of the decompressed weights.
 */
class ManySmallLayersTest {
  static final int LAYERS = 40;
  static final int CHANNELS = 16;
  static final long[] SHAPE = {CHANNELS, CHANNELS, 3, 3};

  @TempDir Path dir;

  static String weightName(int layer) {
    return "StatefulPartitionedCall/sequential/conv2d_" + layer + "/Conv2D/ReadVariableOp";
  }

  /** x [1, 8, 8, 16] NHWC -> Transpose -> 40 x (Conv 3x3 pad 1, Tanh: bounded whatever the random compressed weights) -> Transpose -> y, as tf2onnx writes it. */
  static Onnx.ModelProto model(int opset) {
    Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName("tf_many_small_layers")
        .addInput(TestModels.valueInfo("input_1", DecodeGraph.FLOAT, 1, 8, 8, CHANNELS))
        .addOutput(TestModels.valueInfo("Identity:0", DecodeGraph.FLOAT, 1, 8, 8, CHANNELS));
    g.addNode(TestModels.node("Transpose", new String[] {"input_1"}, "sequential/conv2d_0/Conv2D__6:0").toBuilder()
        .addAttribute(DecodeGraph.intsAttr("perm", 0, 3, 1, 2)));
    String x = "sequential/conv2d_0/Conv2D__6:0";
    Random random = new Random(5);
    for (int i = 0; i < LAYERS; i++) {
      float[] w = new float[CHANNELS * CHANNELS * 9];
      for (int j = 0; j < w.length; j++) {
        w[j] = (float) (random.nextGaussian() / 12);
      }
      g.addInitializer(TestModels.tensor(weightName(i), SHAPE, w, DecodeGraph.FLOAT));
      String conv = "StatefulPartitionedCall/sequential/conv2d_" + i + "/BiasAdd:0";
      String relu = "StatefulPartitionedCall/sequential/conv2d_" + i + "/Tanh:0";
      g.addNode(TestModels.node("Conv", new String[] {x, weightName(i)}, conv).toBuilder()
          .setName("StatefulPartitionedCall/sequential/conv2d_" + i + "/BiasAdd")
          .addAttribute(DecodeGraph.intsAttr("pads", 1, 1, 1, 1)).addAttribute(DecodeGraph.intsAttr("kernel_shape", 3, 3)));
      g.addNode(TestModels.node("Tanh", new String[] {conv}, relu));
      x = relu;
    }
    g.addNode(TestModels.node("Transpose", new String[] {x}, "Identity:0").toBuilder()
        .addAttribute(DecodeGraph.intsAttr("perm", 0, 2, 3, 1)));
    return TestModels.model(opset, g.build());
  }

  static CompressedWeights palettized6(int layer, int cols) {
    return Forms.palettized(CHANNELS, cols, 6, CHANNELS, 1, TableType.FLOAT16, false, 100 + layer);
  }

  static CompressedWeights int8PerChannel(int layer, int cols) {
    return Forms.quantized(CHANNELS, cols, QuantDtype.INT8, Granularity.PER_CHANNEL, 0, true, 200 + layer);
  }

  /** Bits per weight before issue 15 (opset 13): 34.34 for 6-bit palettes, 11.21 for int8 per channel. */
  @ParameterizedTest
  @ValueSource(ints = {11, 13, 21})
  void sixBitPalettesStayNearTheirPayload(int opset) throws Exception {
    check(opset, ManySmallLayersTest::palettized6, 7.65, 300);
  }

  @ParameterizedTest
  @ValueSource(ints = {11, 13, 21})
  void int8StaysNearItsPayload(int opset) throws Exception {
    check(opset, ManySmallLayersTest::int8PerChannel, opset < 13 ? 8.85 : 8.75, opset < 13 ? 150 : 90);
  }

  /**
   * @param maxBitsPerWeight stored bits per weight over all layers
   * @param maxOverhead bytes beyond the payload and the weight's own name for every layer but the first (which
   *     also pays for the shared values)
   */
  private void check(int opset, BiFunction<Integer, Integer, CompressedWeights> form, double maxBitsPerWeight,
      long maxOverhead) throws Exception {
    Onnx.ModelProto original = model(opset);
    List<Long> stored = new ArrayList<>();
    Onnx.ModelProto.Builder builder = original.toBuilder();
    WeightEncoder encoder = WeightEncoder.forModel(builder);
    List<CompressedWeights> weights = new ArrayList<>();
    for (int i = 0; i < LAYERS; i++) {
      CompressedWeights w = form.apply(i, 144);
      weights.add(w);
      stored.add(encoder.encode(builder.getGraphBuilder(), weightName(i), SHAPE, 0, w).storedBytes());
    }
    byte[] bytes = builder.build().toByteArray();
    long params = (long) LAYERS * CHANNELS * CHANNELS * 9;
    long storedTotal = stored.stream().mapToLong(Long::longValue).sum();
    double bitsPerWeight = 8.0 * storedTotal / params;
    assertTrue(bitsPerWeight <= maxBitsPerWeight, "stored " + bitsPerWeight + " bits/weight at opset " + opset);
    assertTrue(stored.get(0) - weights.get(0).payloadBytes() <= EncodedSizeTest.FIXED_OVERHEAD,
        "first layer: " + stored.get(0) + " bytes for a payload of " + weights.get(0).payloadBytes());
    for (int i = 1; i < LAYERS; i++) {
      long overhead = stored.get(i) - weights.get(i).payloadBytes() - weightName(i).length();
      assertTrue(overhead <= maxOverhead, "layer " + i + " at opset " + opset + ": " + overhead + " bytes of overhead");
    }

    // The file is the model without its weights plus exactly the reported stored bytes.
    Onnx.GraphProto.Builder withoutWeights = original.getGraph().toBuilder().clearInitializer();
    long graphBytes = withoutWeights.build().getSerializedSize() + storedTotal;
    assertEquals(graphBytes, builder.getGraph().getSerializedSize(), "graph size");
    Onnx.ModelProto stripped = original.toBuilder().setGraph(withoutWeights).build();
    long expectedFile = stripped.getSerializedSize()
        - CodedOutputStream.computeUInt64SizeNoTag(withoutWeights.build().getSerializedSize())
        + CodedOutputStream.computeUInt64SizeNoTag(graphBytes) + storedTotal;
    assertEquals(expectedFile, bytes.length, "file size");
    Path file = dir.resolve("package.onnx");
    Files.write(file, bytes);
    assertEquals(expectedFile, Files.size(file));

    boolean unpacks = weights.get(0) instanceof dev.bitsweep.compress.PalettizedWeights;
    assertEquals(unpacks ? 1 : 0, builder.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Range"))
        .count(), "one iota (for the byte tables) for the whole graph");
    Onnx.ModelProto.Builder reference = original.toBuilder();
    for (int i = 0; i < LAYERS; i++) {
      float[] expected = WeightEncoderTest.expectedDense(weights.get(i), new CanonicalLayout(SHAPE, 0), DecodeGraph.FLOAT);
      WeightEncoderTest.assertBitsEqual(expected, OrtDecode.decodeWeight(bytes, weightName(i)), "layer " + i);
      reference.getGraphBuilder().setInitializer(i, TestModels.tensor(weightName(i), SHAPE, expected, DecodeGraph.FLOAT));
    }
    float[] x = new float[8 * 8 * CHANNELS];
    Random random = new Random(9);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    float[] actual = run(bytes, x);
    float[] wanted = run(reference.build().toByteArray(), x);
    double energy = 0;
    for (int i = 0; i < wanted.length; i++) {
      assertEquals(wanted[i], actual[i], 1e-5f * (1 + Math.abs(wanted[i])), "output " + i);
      energy += wanted[i] * wanted[i];
    }
    assertTrue(energy > 0, "the network passes something through");
  }

  private static float[] run(byte[] model, float[] x) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = OrtDecode.sessionOptions();
        OrtSession session = env.createSession(model, options);
        OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {1, 8, 8, CHANNELS});
        OrtSession.Result result = session.run(Map.of("input_1", input))) {
      return OrtDecode.toFloats((OnnxTensor) result.get("Identity:0").orElseThrow());
    }
  }
}
