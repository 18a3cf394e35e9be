package dev.bitsweep.onnx.encode;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bitsweep.compress.Float16;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Test helper: the dense weight ONNX Runtime computes for a tensor of a model (an encoded weight's decode output,
 * an initializer or a Constant output, in the main graph or any subgraph). The graph that holds the tensor is cut
 * down to the nodes it depends on and the tensor becomes the only output, so no model inputs are needed. Runs with
 * {@code session.disable_quant_qdq=1} like bitsweep's evaluation.
 */
public final class OrtDecode {
  private OrtDecode() {}

  /** The tensor's values in its own layout, as floats (float16/bfloat16 widened exactly). */
  public static float[] decodeWeight(byte[] model, String tensorName) {
    try {
      Onnx.ModelProto parsed = Onnx.ModelProto.parseFrom(model);
      Onnx.GraphProto holder = findGraph(parsed.getGraph(), tensorName)
          .orElseThrow(() -> new IllegalArgumentException("no tensor named " + tensorName + " in the model"));
      Onnx.ModelProto extracted = parsed.toBuilder().setGraph(extract(holder, tensorName)).build();
      return run(extracted.toByteArray(), tensorName);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("not an ONNX model: " + e.getMessage(), e);
    }
  }

  /**
   * {@link #decodeWeight(byte[], String)} for a model on disk that keeps its data externally: the cut-down graph is
   * written beside it (so its external-data locations still resolve) and ONNX Runtime reads the data by path.
   */
  public static float[] decodeWeight(java.nio.file.Path modelFile, String tensorName) {
    java.nio.file.Path cut = modelFile.resolveSibling(".decode-" + tensorName.replaceAll("[^A-Za-z0-9._-]", "_")
        + ".onnx");
    try {
      Onnx.ModelProto parsed = Onnx.ModelProto.parseFrom(java.nio.file.Files.readAllBytes(modelFile));
      Onnx.GraphProto holder = findGraph(parsed.getGraph(), tensorName)
          .orElseThrow(() -> new IllegalArgumentException("no tensor named " + tensorName + " in the model"));
      java.nio.file.Files.write(cut, parsed.toBuilder().setGraph(extract(holder, tensorName)).build().toByteArray());
      OrtEnvironment env = OrtEnvironment.getEnvironment();
      try (OrtSession.SessionOptions options = sessionOptions();
          OrtSession session = env.createSession(cut.toString(), options);
          OrtSession.Result result = session.run(Map.of())) {
        return toFloats((OnnxTensor) result.get(tensorName).orElseThrow());
      }
    } catch (java.io.IOException | OrtException e) {
      throw new IllegalStateException("cannot decode " + tensorName + " of " + modelFile + ": " + e.getMessage(), e);
    } finally {
      try {
        java.nio.file.Files.deleteIfExists(cut);
      } catch (java.io.IOException ignored) {
        // a temporary file in a test directory
      }
    }
  }

  /** A session options object with the settings bitsweep evaluates with. */
  public static OrtSession.SessionOptions sessionOptions() throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.addConfigEntry("session.disable_quant_qdq", "1");
    return options;
  }

  private static float[] run(byte[] model, String output) {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = sessionOptions();
        OrtSession session = env.createSession(model, options);
        OrtSession.Result result = session.run(Map.of())) {
      OnnxValue value = result.get(output).orElseThrow();
      return toFloats((OnnxTensor) value);
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime failed on " + output + ": " + e.getMessage(), e);
    }
  }

  /** A tensor's values as floats: float16/bfloat16 widened exactly; int8/uint8/int32/int64 for debugging decodes. */
  public static float[] toFloats(OnnxTensor tensor) {
    TensorInfo info = tensor.getInfo();
    ByteBuffer raw = tensor.getByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    int count = (int) info.getNumElements();
    float[] out = new float[count];
    switch (info.onnxType) {
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> raw.asFloatBuffer().get(out);
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> {
        for (int i = 0; i < count; i++) {
          out[i] = Float16.toFloat(raw.getShort(2 * i));
        }
      }
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16 -> {
        for (int i = 0; i < count; i++) {
          out[i] = Float16.bfloat16ToFloat(raw.getShort(2 * i));
        }
      }
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> {
        for (int i = 0; i < count; i++) {
          out[i] = raw.getInt(4 * i);
        }
      }
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> {
        for (int i = 0; i < count; i++) {
          out[i] = raw.getLong(8 * i);
        }
      }
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> {
        for (int i = 0; i < count; i++) {
          out[i] = raw.get(i);
        }
      }
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> {
        for (int i = 0; i < count; i++) {
          out[i] = raw.get(i) & 0xff;
        }
      }
      default -> throw new IllegalArgumentException("not a float or small integer tensor: " + info.onnxType);
    }
    return out;
  }

  private static Optional<Onnx.GraphProto> findGraph(Onnx.GraphProto graph, String name) {
    if (graph.getInitializerList().stream().anyMatch(t -> t.getName().equals(name))
        || graph.getNodeList().stream().anyMatch(n -> n.getOutputList().contains(name))) {
      return Optional.of(graph);
    }
    for (Onnx.NodeProto n : graph.getNodeList()) {
      for (Onnx.AttributeProto a : n.getAttributeList()) {
        Optional<Onnx.GraphProto> found = a.hasG() ? findGraph(a.getG(), name) : Optional.empty();
        if (found.isPresent()) {
          return found;
        }
        for (Onnx.GraphProto sub : a.getGraphsList()) {
          found = findGraph(sub, name);
          if (found.isPresent()) {
            return found;
          }
        }
      }
    }
    return Optional.empty();
  }

  /** The nodes and initializers {@code output} depends on, as a graph with no inputs and that one output. */
  private static Onnx.GraphProto extract(Onnx.GraphProto graph, String output) {
    Map<String, Onnx.NodeProto> producer = new HashMap<>();
    for (Onnx.NodeProto n : graph.getNodeList()) {
      n.getOutputList().forEach(o -> producer.put(o, n));
    }
    Set<String> neededTensors = new HashSet<>();
    Set<Onnx.NodeProto> neededNodes = new LinkedHashSet<>();
    Deque<String> work = new ArrayDeque<>();
    work.add(output);
    while (!work.isEmpty()) {
      String t = work.pop();
      if (!neededTensors.add(t)) {
        continue;
      }
      Onnx.NodeProto n = producer.get(t);
      if (n != null && neededNodes.add(n)) {
        n.getInputList().stream().filter(i -> !i.isEmpty()).forEach(work::push);
      }
    }
    Onnx.GraphProto.Builder out = Onnx.GraphProto.newBuilder().setName("extract");
    graph.getNodeList().stream().filter(neededNodes::contains).forEach(out::addNode);
    graph.getInitializerList().stream().filter(t -> neededTensors.contains(t.getName())).forEach(out::addInitializer);
    graph.getInputList().stream()
        .filter(v -> neededTensors.contains(v.getName())
            && graph.getInitializerList().stream().anyMatch(t -> t.getName().equals(v.getName())))
        .forEach(out::addInput);
    out.addOutput(Onnx.ValueInfoProto.newBuilder().setName(output));
    return out.build();
  }
}
