package dev.bitsweep.onnx.encode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.compress.PalettizedWeights.TableType;
import dev.bitsweep.compress.QuantDtype;
import dev.bitsweep.compress.QuantizedWeights.Granularity;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.FloatBuffer;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Constant-node weights, weights inside If branches, IR 3 graph inputs, and a real consumer (MatMul). */
class GraphPlacementTest {

  @ParameterizedTest
  @ValueSource(ints = {7, 13, 17, 21})
  void constantNodeWeightIsReplaced(int opset) {
    long[] shape = {6, 10};
    CompressedWeights weights = Forms.palettized(6, 10, 3, 3, 1, TableType.FLOAT16, true, 1);
    Onnx.ModelProto model = TestModels.constant(opset, "W", shape, new float[60]);
    Onnx.ModelProto.Builder encoded = model.toBuilder();
    WeightEncoder.forModel(model).encode(encoded.getGraphBuilder(), "W", shape, 0, weights);

    assertEquals(1, encoded.getGraph().getNodeList().stream().filter(n -> n.getOutputList().contains("W")).count());
    assertFalse(encoded.getGraph().getNodeList().stream()
        .anyMatch(n -> n.getOpType().equals("Constant") && n.getOutput(0).equals("W")), "the Constant is replaced");
    WeightEncoderTest.assertBitsEqual(WeightEncoderTest.expectedDense(weights, new CanonicalLayout(shape, 0), DecodeGraph.FLOAT),
        OrtDecode.decodeWeight(encoded.build().toByteArray(), "Y"), "Constant weight at opset " + opset);
  }

  @ParameterizedTest
  @ValueSource(ints = {7, 13, 17, 21})
  void weightInsideAnIfBranchDecodesInThatBranch(int opset) throws Exception {
    long[] shape = {4, 12};
    CompressedWeights weights = Forms.sparse(
        Forms.quantized(4, 12, QuantDtype.INT4, Granularity.PER_BLOCK, 4, false, 2), 0.5, 3);
    Onnx.ModelProto model = TestModels.ifBranch(opset, "W", shape, new float[48]);
    Onnx.ModelProto.Builder encoded = model.toBuilder();
    Onnx.GraphProto.Builder thenBranch = encoded.getGraphBuilder().getNodeBuilder(0).getAttributeBuilder(0).getGBuilder();
    EncodedLayer layer = WeightEncoder.forModel(model).encodeInSubgraph(thenBranch, "W", shape, 0, weights);
    assertEquals(opset < 9, layer.encoding().equals("sparse-quantize/dense"), layer.encoding());
    assertEquals(opset < 9, !layer.notes().isEmpty(), "IR 3 below opset 9 stores subgraph weights dense, and says so");
    byte[] bytes = encoded.build().toByteArray();

    float[] expected = WeightEncoderTest.expectedDense(weights, new CanonicalLayout(shape, 0), DecodeGraph.FLOAT);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = OrtDecode.sessionOptions();
        OrtSession session = env.createSession(bytes, options);
        OnnxTensor condition = OnnxTensor.createTensor(env, true);
        OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(new float[48]), shape);
        OrtSession.Result result = session.run(Map.of("C", condition, "X", x))) {
      WeightEncoderTest.assertBitsEqual(expected, OrtDecode.toFloats((OnnxTensor) result.get(0)), "If branch at opset " + opset);
    }
    WeightEncoderTest.assertBitsEqual(expected, OrtDecode.decodeWeight(bytes, "W"), "OrtDecode in a subgraph");
  }

  @ParameterizedTest
  @ValueSource(ints = {7, 13, 17, 21})
  void matMulOutputEqualsTheDenseModelsBitForBit(int opset) throws Exception {
    long[] shape = {32, 24};
    CompressedWeights weights = Forms.palettized(24, 32, 4, 8, 1, TableType.FLOAT16, false, 4);
    float[] dense = WeightEncoderTest.expectedDense(weights, new CanonicalLayout(shape, 1), DecodeGraph.FLOAT);
    Onnx.ModelProto denseModel = TestModels.matMul(opset, "W", shape, dense, 3);
    Onnx.ModelProto.Builder encoded = denseModel.toBuilder();
    WeightEncoder.forModel(denseModel).encode(encoded.getGraphBuilder(), "W", shape, 1, weights);

    float[] x = Forms.dense(3, 32, 5).matrix().values();
    float[] expected = runMatMul(denseModel.toByteArray(), x);
    float[] actual = runMatMul(encoded.build().toByteArray(), x);
    WeightEncoderTest.assertBitsEqual(expected, actual, "MatMul output at opset " + opset);
  }

  private static float[] runMatMul(byte[] model, float[] x) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = OrtDecode.sessionOptions();
        OrtSession session = env.createSession(model, options);
        OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {3, 32});
        OrtSession.Result result = session.run(Map.of("X", input))) {
      return OrtDecode.toFloats((OnnxTensor) result.get(0));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {7, 13})
  void encodedTensorsAreInitializersAndIr3ListsThemAsInputs(int opset) {
    long[] shape = {8, 8};
    Onnx.ModelProto model = TestModels.identity(opset, "W", shape, new float[64], DecodeGraph.FLOAT);
    Onnx.ModelProto.Builder encoded = model.toBuilder();
    EncodedLayer layer = WeightEncoder.forModel(model).encode(encoded.getGraphBuilder(), "W", shape, 0,
        Forms.quantized(8, 8, QuantDtype.INT8, Granularity.PER_CHANNEL, 0, true, 6));
    Onnx.GraphProto graph = encoded.getGraph();
    Set<String> inputs = new HashSet<>();
    graph.getInputList().forEach(v -> inputs.add(v.getName()));
    assertFalse(inputs.contains("W"), "the decoded weight is no longer a graph input");
    assertTrue(graph.getInitializerCount() >= 2, "codes and scales");
    for (Onnx.TensorProto t : graph.getInitializerList()) {
      assertTrue(t.getName().startsWith("W~"), t.getName());
      assertEquals(opset < 9, inputs.contains(t.getName()), "IR 3 lists initializers as inputs; IR 4+ must not (constant folding)");
    }
    assertTrue(layer.storedBytes() > 64 + 8 * 4, "codes and scales are stored: " + layer.storedBytes());
  }
}
