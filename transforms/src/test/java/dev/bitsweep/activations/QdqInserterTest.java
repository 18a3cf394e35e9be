package dev.bitsweep.activations;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import dev.bitsweep.eval.metrics.SessionSettings;
import dev.bitsweep.onnx.DataType;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * QDQ placement on a graph with a DequantizeLinear-encoded weight, a bias and a Concat; ONNX Runtime runs the edited
 * graph and must give exactly what quantize (round half to even) / dequantize computed here gives.
 */
class QdqInserterTest {
  // x [2, 4] -> Relu -> r; r @ DQ(Wq) -> m; m + bias -> a; Concat(r, a) -> c; c + shift -> y
  static Onnx.ModelProto model(int opset) {
    Onnx.GraphProto graph = Onnx.GraphProto.newBuilder().setName("g")
        .addInput(valueInfo("x", 2, 4))
        .addInitializer(int8("Wq", new long[] {4, 4}, new byte[] {1, 0, -1, 2, 0, 1, 1, -2, 2, -1, 0, 1, -1, 1, 2, 0}))
        .addInitializer(floats("Wscale", new long[] {}, 0.5f))
        .addInitializer(floats("bias", new long[] {4}, 0.25f, -0.5f, 0f, 1f))
        .addInitializer(floats("shift", new long[] {8}, 0, 0, 0, 0, 0, 0, 0, 0.125f))
        .addNode(node("DequantizeLinear", List.of("Wq", "Wscale"), "W"))
        .addNode(node("Relu", List.of("x"), "r"))
        .addNode(node("MatMul", List.of("r", "W"), "m"))
        .addNode(node("Add", List.of("m", "bias"), "a"))
        .addNode(node("Concat", List.of("r", "a"), "c").toBuilder().addAttribute(Onnx.AttributeProto.newBuilder()
            .setName("axis").setType(Onnx.AttributeProto.AttributeType.INT).setI(1)).build())
        .addNode(node("Add", List.of("c", "shift"), "y"))
        .addOutput(valueInfo("y", 2, 8))
        .build();
    return Onnx.ModelProto.newBuilder().setIrVersion(7).setGraph(graph)
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).build();
  }

  @Test
  void planPutsQdqOnActivationEdgesOnlyAndTiesTheConcatTogether() {
    QdqPlan plan = QdqPlan.of(model(13));
    assertEquals(List.of("x", "r", "m", "a", "c"), plan.tensors(), "no weight, decoded weight or bias");
    assertEquals(Map.of("x", "x", "r", "r", "m", "m", "a", "r", "c", "r"), plan.groups());
    Map<String, ActivationHistogram> h = new LinkedHashMap<>();
    h.put("x", ActivationHistogram.of("x", new float[] {-1, 2}));
    h.put("r", ActivationHistogram.of("r", new float[] {0, 2}));
    h.put("m", ActivationHistogram.of("m", new float[] {-3, 3}));
    h.put("a", ActivationHistogram.of("a", new float[] {-5, 1}));
    h.put("c", ActivationHistogram.of("c", new float[] {-5, 2}));
    Map<String, QuantParams> params = ActivationQuantizer.params(plan, h, ActivationQuantConfig.defaults());
    assertEquals(QuantParams.of(-5, 2, ActivationQuantConfig.defaults()), params.get("r"));
    assertEquals(params.get("r"), params.get("a"));
    assertEquals(params.get("r"), params.get("c"));
    assertEquals(QuantParams.of(-3, 3, ActivationQuantConfig.defaults()), params.get("m"));
  }

  @Test
  void onnxRuntimeComputesExactlyTheQuantizedGraphWithRoundHalfToEven() throws Exception {
    ActivationQuantConfig.Dtype int8 = ActivationQuantConfig.Dtype.INT8;
    Map<String, QuantParams> params = new LinkedHashMap<>();
    params.put("x", new QuantParams(0.5f, 0, int8));
    params.put("r", new QuantParams(0.25f, 0, int8));
    params.put("m", new QuantParams(0.5f, 3, int8));
    params.put("a", new QuantParams(0.25f, 0, int8));
    params.put("c", new QuantParams(0.25f, 0, int8));
    float[] x = {0.25f, 0.75f, -1.25f, 1.75f, 2.25f, -0.25f, 3.0f, 0.5f}; // x / 0.5 hits .5 ties
    Onnx.ModelProto quantized = QdqInserter.insert(model(13), params);
    float[] actual;
    try (OrtSession session = OrtEnvironment.getEnvironment().createSession(quantized.toByteArray(),
        SessionSettings.QDQ_DISABLED.options());
         OnnxTensor input = OnnxTensor.createTensor(OrtEnvironment.getEnvironment(), FloatBuffer.wrap(x),
             new long[] {2, 4});
         OrtSession.Result result = session.run(Map.of("x", input))) {
      FloatBuffer buffer = ((OnnxTensor) result.get(0)).getFloatBuffer();
      actual = new float[buffer.remaining()];
      buffer.get(actual);
    }
    float[] w = {1, 0, -1, 2, 0, 1, 1, -2, 2, -1, 0, 1, -1, 1, 2, 0};
    float[] bias = {0.25f, -0.5f, 0f, 1f};
    float[] expected = new float[16];
    for (int s = 0; s < 2; s++) {
      float[] r = new float[4];
      for (int i = 0; i < 4; i++) {
        r[i] = fake(params.get("r"), Math.max(0, fake(params.get("x"), x[s * 4 + i])));
      }
      for (int j = 0; j < 4; j++) {
        float m = 0;
        for (int i = 0; i < 4; i++) {
          m += r[i] * (w[i * 4 + j] * 0.5f);
        }
        float a = fake(params.get("a"), fake(params.get("m"), m) + bias[j]);
        expected[s * 8 + 4 + j] = fake(params.get("c"), a);
      }
      for (int i = 0; i < 4; i++) {
        expected[s * 8 + i] = fake(params.get("c"), r[i]);
      }
      expected[s * 8 + 7] += 0.125f;
    }
    assertArrayEquals(expected, actual);
    assertEquals(0, params.get("x").quantize(0.25f), "0.5 rounds to even 0");
    assertEquals(2, params.get("x").quantize(0.75f), "1.5 rounds to even 2");
  }

  private static float fake(QuantParams p, float v) {
    return p.dequantize(p.quantize(v));
  }

  @Test
  void opsetBelowTenIsAClearError() {
    ModelException e = assertThrows(ModelException.class, () -> QdqInserter.insert(model(9),
        Map.of("x", new QuantParams(1f, 0, ActivationQuantConfig.Dtype.INT8))));
    assertTrue(e.getMessage().contains("opset 9") && e.getMessage().contains("opset 10"), e.getMessage());
  }

  static Onnx.ValueInfoProto valueInfo(String name, long... dims) {
    Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
    for (long d : dims) {
      shape.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder()
        .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(DataType.FLOAT).setShape(shape))).build();
  }

  static Onnx.NodeProto node(String op, List<String> inputs, String output) {
    return Onnx.NodeProto.newBuilder().setOpType(op).setName(output + "_" + op).addAllInput(inputs).addOutput(output)
        .build();
  }

  static Onnx.TensorProto floats(String name, long[] dims, float... values) {
    ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name).setDataType(DataType.FLOAT)
        .setRawData(ByteString.copyFrom(b.array()));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }

  static Onnx.TensorProto int8(String name, long[] dims, byte[] values) {
    Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name).setDataType(DataType.INT8)
        .setRawData(ByteString.copyFrom(values));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }
}
