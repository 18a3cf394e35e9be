package dev.bitsweep.activations;

import dev.bitsweep.onnx.proto.Onnx;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which activation tensors of a model's main graph get a QuantizeLinear/DequantizeLinear pair, placed as
 * coremltools places them: the data inputs of Conv, MatMul, Gemm, Add and pooling, the outputs of activation
 * functions, and every input and the output of a Concat, which share one range (one group). The input of an
 * activation function is quantized too: Core ML fuses conv + relu, ONNX Runtime fuses DequantizeLinear -> Conv ->
 * QuantizeLinear into QLinearConv only when the QuantizeLinear directly follows the Conv.
 *
 * <p>Only activation edges: a tensor computed from initializers and Constant nodes alone (a weight, a
 * DequantizeLinear-encoded weight, a palette decode subgraph, a bias) is never a candidate, so weight compression
 * of any kind combines with activation quantization without re-quantizing decoded weights. Non-float candidates are
 * dropped when their values are captured. Subgraphs (If/Loop/Scan bodies) are left alone.
 *
 * @param tensors the candidate tensors in graph order
 * @param groups for each candidate, the name of its group (itself unless a Concat ties it to others)
 */
public record QdqPlan(List<String> tensors, Map<String, String> groups) implements Serializable {
  /** Ops whose first input is quantized. */
  static final Set<String> POOLING = Set.of("MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool");
  /** Ops whose output is quantized. */
  static final Set<String> ACTIVATION_FUNCTIONS = Set.of("Relu", "LeakyRelu", "PRelu", "Sigmoid", "Tanh", "Clip",
      "HardSigmoid", "HardSwish", "Elu", "Selu", "Celu", "Softplus", "Softsign", "Gelu", "Mish", "ThresholdedRelu");

  public QdqPlan {
    tensors = List.copyOf(tensors);
    groups = new LinkedHashMap<>(groups);
  }

  public static QdqPlan of(Onnx.ModelProto model) {
    Onnx.GraphProto graph = model.getGraph();
    Set<String> constant = constantTensors(graph);
    Set<String> candidates = new LinkedHashSet<>();
    Map<String, String> parent = new HashMap<>();
    for (Onnx.NodeProto node : graph.getNodeList()) {
      if (!node.getDomain().isEmpty() && !node.getDomain().equals("ai.onnx")) {
        continue;
      }
      List<String> inputs = switch (node.getOpType()) {
        case "Conv" -> node.getInputList().subList(0, Math.min(1, node.getInputCount()));
        case "MatMul", "Gemm", "Add" -> node.getInputList().subList(0, Math.min(2, node.getInputCount()));
        case "Concat" -> node.getInputList();
        default -> POOLING.contains(node.getOpType()) ? node.getInputList().subList(0, 1) : List.of();
      };
      for (String input : inputs) {
        if (!input.isEmpty() && !constant.contains(input)) {
          candidates.add(input);
        }
      }
      if (ACTIVATION_FUNCTIONS.contains(node.getOpType()) && node.getOutputCount() > 0) {
        if (node.getInputCount() > 0 && !constant.contains(node.getInput(0))) {
          candidates.add(node.getInput(0));
        }
        candidates.add(node.getOutput(0));
      }
      if (node.getOpType().equals("Concat") && node.getOutputCount() > 0) {
        String output = node.getOutput(0);
        candidates.add(output);
        for (String input : node.getInputList()) {
          if (!input.isEmpty() && !constant.contains(input)) {
            union(parent, output, input);
          }
        }
      }
    }
    List<String> ordered = new ArrayList<>(candidates);
    Map<String, String> groups = new LinkedHashMap<>();
    Map<String, String> firstOfRoot = new HashMap<>();
    for (String tensor : ordered) {
      String root = find(parent, tensor);
      groups.put(tensor, firstOfRoot.computeIfAbsent(root, r -> tensor));
    }
    return new QdqPlan(ordered, groups);
  }

  /** Initializers, Constant outputs, and outputs of nodes whose inputs are all such (decode subgraphs). */
  static Set<String> constantTensors(Onnx.GraphProto graph) {
    Set<String> constant = new HashSet<>();
    graph.getInitializerList().forEach(t -> constant.add(t.getName()));
    graph.getSparseInitializerList().forEach(t -> constant.add(t.getValues().getName()));
    // An initializer that is also a graph input (IR < 4) can be overridden by a feed only in theory; bitsweep treats
    // it as the weight it is.
    for (Onnx.NodeProto node : graph.getNodeList()) {
      boolean allConstant = node.getOpType().equals("Constant")
          || node.getInputCount() > 0 && node.getInputList().stream().allMatch(i -> i.isEmpty() || constant.contains(i))
          && node.getAttributeList().stream().noneMatch(a -> a.hasG() || a.getGraphsCount() > 0);
      if (allConstant && !node.getOpType().startsWith("Random")) {
        constant.addAll(node.getOutputList());
      }
    }
    return constant;
  }

  private static String find(Map<String, String> parent, String x) {
    String root = x;
    while (parent.containsKey(root)) {
      root = parent.get(root);
    }
    return root;
  }

  private static void union(Map<String, String> parent, String a, String b) {
    String ra = find(parent, a);
    String rb = find(parent, b);
    if (!ra.equals(rb)) {
      parent.put(rb, ra);
    }
  }

  /** The members of each group, keyed by group name, in graph order. */
  public Map<String, List<String>> members() {
    Map<String, List<String>> members = new LinkedHashMap<>();
    for (String tensor : tensors) {
      members.computeIfAbsent(groups.get(tensor), g -> new ArrayList<>()).add(tensor);
    }
    return members;
  }
}
