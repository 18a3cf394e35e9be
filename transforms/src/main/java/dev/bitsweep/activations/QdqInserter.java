package dev.bitsweep.activations;

import com.google.protobuf.ByteString;
import dev.bitsweep.onnx.DataType;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Inserts QuantizeLinear -> DequantizeLinear after each given activation tensor of the main graph and points every
 * consumer at the dequantized copy (graph outputs keep the float tensor). Per-tensor scalar scale and zero point,
 * valid from opset 10, the first with QuantizeLinear; the model's opset is never raised. Node order stays
 * topological: each pair follows the node that produces its tensor (pairs of graph inputs come first).
 */
public final class QdqInserter {
  public static final int MIN_OPSET = 10;

  private QdqInserter() {}

  public static Onnx.ModelProto insert(Onnx.ModelProto model, Map<String, QuantParams> params) {
    int opset = OnnxModel.defaultOpset(model);
    if (opset < MIN_OPSET) {
      throw new ModelException("activation quantization needs QuantizeLinear/DequantizeLinear, which exist from "
          + "opset " + MIN_OPSET + ", but the model imports opset " + opset + "; re-export the model at opset "
          + MIN_OPSET + " or newer (bitsweep does not raise a model's opset: that changes other ops' semantics)");
    }
    Onnx.GraphProto graph = model.getGraph();
    Set<String> used = allNames(graph);
    Map<String, String> dequantized = new LinkedHashMap<>();
    Map<String, List<Onnx.NodeProto>> pairs = new LinkedHashMap<>();
    List<Onnx.TensorProto> initializers = new ArrayList<>();
    for (Map.Entry<String, QuantParams> entry : params.entrySet()) {
      String tensor = entry.getKey();
      QuantParams p = entry.getValue();
      String scale = fresh(used, tensor + "_act_scale");
      String zeroPoint = fresh(used, tensor + "_act_zero_point");
      String quantized = fresh(used, tensor + "_act_quantized");
      String restored = fresh(used, tensor + "_act_dequantized");
      initializers.add(scalarFloat(scale, p.scale()));
      initializers.add(scalarCode(zeroPoint, p));
      pairs.put(tensor, List.of(
          node("QuantizeLinear", fresh(used, tensor + "_QuantizeLinear"), List.of(tensor, scale, zeroPoint), quantized),
          node("DequantizeLinear", fresh(used, tensor + "_DequantizeLinear"), List.of(quantized, scale, zeroPoint),
              restored)));
      dequantized.put(tensor, restored);
    }
    Set<String> produced = new HashSet<>();
    graph.getInputList().forEach(v -> produced.add(v.getName()));
    graph.getNodeList().forEach(n -> produced.addAll(n.getOutputList()));
    for (String tensor : params.keySet()) {
      if (!produced.contains(tensor)) {
        throw new ModelException("activation " + tensor + " is neither a graph input nor a node output of the main "
            + "graph; it cannot be quantized");
      }
    }
    Onnx.GraphProto.Builder out = graph.toBuilder().clearNode();
    Set<String> placed = new HashSet<>();
    for (Onnx.ValueInfoProto input : graph.getInputList()) {
      if (pairs.containsKey(input.getName()) && placed.add(input.getName())) {
        out.addAllNode(pairs.get(input.getName()));
      }
    }
    for (Onnx.NodeProto node : graph.getNodeList()) {
      Onnx.NodeProto.Builder rewired = node.toBuilder();
      for (int i = 0; i < node.getInputCount(); i++) {
        String restored = dequantized.get(node.getInput(i));
        if (restored != null) {
          rewired.setInput(i, restored);
        }
      }
      out.addNode(rewired);
      for (String output : node.getOutputList()) {
        if (pairs.containsKey(output) && placed.add(output)) {
          out.addAllNode(pairs.get(output));
        }
      }
    }
    out.addAllInitializer(initializers);
    if (model.getIrVersion() < 4) {
      for (Onnx.TensorProto t : initializers) {
        out.addInput(Onnx.ValueInfoProto.newBuilder().setName(t.getName()).setType(Onnx.TypeProto.newBuilder()
            .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(t.getDataType())
                .setShape(Onnx.TensorShapeProto.getDefaultInstance()))));
      }
    }
    return model.toBuilder().setGraph(out).build();
  }

  private static Onnx.NodeProto node(String op, String name, List<String> inputs, String output) {
    return Onnx.NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(inputs).addOutput(output).build();
  }

  private static Onnx.TensorProto scalarFloat(String name, float value) {
    ByteBuffer bytes = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value);
    return Onnx.TensorProto.newBuilder().setName(name).setDataType(DataType.FLOAT)
        .setRawData(ByteString.copyFrom(bytes.array())).build();
  }

  private static Onnx.TensorProto scalarCode(String name, QuantParams p) {
    return Onnx.TensorProto.newBuilder().setName(name).setDataType(p.dtype().onnxType())
        .setRawData(ByteString.copyFrom(new byte[] {(byte) p.zeroPoint()})).build();
  }

  private static Set<String> allNames(Onnx.GraphProto graph) {
    Set<String> names = new HashSet<>();
    graph.getInputList().forEach(v -> names.add(v.getName()));
    graph.getOutputList().forEach(v -> names.add(v.getName()));
    graph.getValueInfoList().forEach(v -> names.add(v.getName()));
    graph.getInitializerList().forEach(t -> names.add(t.getName()));
    for (Onnx.NodeProto node : graph.getNodeList()) {
      names.addAll(node.getInputList());
      names.addAll(node.getOutputList());
      names.add(node.getName());
    }
    return names;
  }

  private static String fresh(Set<String> used, String base) {
    String name = base;
    for (int i = 1; !used.add(name); i++) {
      name = base + "_" + i;
    }
    return name;
  }
}
