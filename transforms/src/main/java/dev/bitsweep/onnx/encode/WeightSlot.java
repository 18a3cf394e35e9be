package dev.bitsweep.onnx.encode;

import dev.bitsweep.onnx.proto.Onnx;
import java.util.Arrays;

/** Where a weight lives in a graph: an initializer, or the output of a Constant node. */
final class WeightSlot {
  private final String name;
  private final Onnx.TensorProto tensor;
  private final boolean constantNode;
  private final int dataType;
  private final boolean graphInput;

  private WeightSlot(String name, Onnx.TensorProto tensor, boolean constantNode, int dataType, boolean graphInput) {
    this.name = name;
    this.tensor = tensor;
    this.constantNode = constantNode;
    this.dataType = dataType;
    this.graphInput = graphInput;
  }

  static WeightSlot find(Onnx.GraphProtoOrBuilder graph, String name) {
    boolean input = graph.getInputList().stream().anyMatch(v -> v.getName().equals(name));
    for (Onnx.TensorProto t : graph.getInitializerList()) {
      if (t.getName().equals(name)) {
        return new WeightSlot(name, t, false, t.getDataType(), input);
      }
    }
    for (Onnx.NodeProto n : graph.getNodeList()) {
      if (n.getOpType().equals("Constant") && n.getDomain().isEmpty() && n.getOutputCount() == 1
          && n.getOutput(0).equals(name)) {
        for (Onnx.AttributeProto a : n.getAttributeList()) {
          switch (a.getName()) {
            case "value" -> {
              return new WeightSlot(name, a.getT(), true, a.getT().getDataType(), input);
            }
            case "value_float", "value_floats" -> {
              return new WeightSlot(name, null, true, DecodeGraph.FLOAT, input);
            }
            default -> { }
          }
        }
        throw new IllegalArgumentException("weight " + name + " is a Constant node without a float tensor value");
      }
    }
    String where = graph.getName().isEmpty() ? "the given graph" : "graph '" + graph.getName() + "'";
    throw new IllegalArgumentException("weight " + name + " is neither an initializer nor a Constant output of " + where
        + "; pass the (sub)graph that holds it");
  }

  int dataType() {
    if (dataType != DecodeGraph.FLOAT && dataType != DecodeGraph.FLOAT16 && dataType != DecodeGraph.BFLOAT16) {
      throw new IllegalArgumentException("weight " + name + " has ONNX data type " + dataType
          + "; only float32, float16 and bfloat16 weights can be encoded");
    }
    return dataType;
  }

  boolean wasGraphInput() {
    return graphInput;
  }

  void checkShape(long[] shape) {
    if (tensor != null && !Arrays.equals(tensor.getDimsList().stream().mapToLong(Long::longValue).toArray(), shape)) {
      throw new IllegalArgumentException("weight " + name + " has shape " + tensor.getDimsList() + " in the model, not "
          + Arrays.toString(shape));
    }
  }

  /** Removes the weight's initializer or Constant node, and its graph input entry. */
  void remove(Onnx.GraphProto.Builder graph) {
    if (constantNode) {
      for (int i = 0; i < graph.getNodeCount(); i++) {
        Onnx.NodeProto n = graph.getNode(i);
        if (n.getOpType().equals("Constant") && n.getOutputCount() == 1 && n.getOutput(0).equals(name)) {
          graph.removeNode(i);
          break;
        }
      }
    } else {
      for (int i = 0; i < graph.getInitializerCount(); i++) {
        if (graph.getInitializer(i).getName().equals(name)) {
          graph.removeInitializer(i);
          break;
        }
      }
    }
    for (int i = graph.getInputCount() - 1; i >= 0; i--) {
      if (graph.getInput(i).getName().equals(name)) {
        graph.removeInput(i);
      }
    }
  }
}
