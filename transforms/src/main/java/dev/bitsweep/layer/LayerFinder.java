package dev.bitsweep.layer;

import dev.bitsweep.onnx.DataType;
import dev.bitsweep.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.Map;

/**
 * Lists a model's compressible weights: float tensors (initializers or Constant node values, in the main graph or in
 * If/Loop/Scan subgraphs) that are weight inputs of MatMul, Gemm, Conv, ConvTranspose, LSTM/GRU/RNN or Gather.
 * Everything else of size that is left alone is reported with a reason. As in coremltools, a tensor is compressed
 * only if it has more than {@code weight_threshold} elements.
 */
public final class LayerFinder {
  /** The default {@code weight_threshold}, as coremltools': tensors of at most 2048 elements stay as they are. */
  public static final long DEFAULT_WEIGHT_THRESHOLD = 2048;

  /** An op's weight input: which input, and the axis of output channels given the node's attributes. */
  private record WeightInput(int input, int outputAxis) {}

  /** Ops that consume already-quantized weights, and which input holds the quantized weight. */
  private static final Map<String, Integer> QUANTIZED_WEIGHT_INPUT = Map.of(
      "DequantizeLinear", 0, "MatMulInteger", 1, "ConvInteger", 1, "QLinearMatMul", 3, "QLinearConv", 3, "MatMulNBits", 1);

  private final long weightThreshold;
  private final List<Layer> layers = new ArrayList<>();
  private final Map<String, SkippedTensor> skipped = new LinkedHashMap<>();
  private final Set<String> seen = new HashSet<>();
  private final Set<String> layerNames = new HashSet<>();

  private LayerFinder(long weightThreshold) {
    this.weightThreshold = weightThreshold;
  }

  public static LayerInventory find(Onnx.ModelProto model, long weightThreshold) {
    if (weightThreshold < 0) {
      throw new IllegalArgumentException("weight_threshold must be >= 0, got " + weightThreshold);
    }
    LayerFinder finder = new LayerFinder(weightThreshold);
    finder.visit(model.getGraph(), "", List.of());
    finder.reportUnusedLargeFloats(model.getGraph(), "");
    return new LayerInventory(finder.layers, new ArrayList<>(finder.skipped.values()));
  }

  /** The tensors a graph defines itself: initializers and Constant node values. */
  private record Scope(String path, Map<String, Onnx.TensorProto> initializers, Map<String, Onnx.TensorProto> constants) {
    static Scope of(Onnx.GraphProto graph, String path) {
      Map<String, Onnx.TensorProto> initializers = new HashMap<>();
      graph.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
      Map<String, Onnx.TensorProto> constants = new HashMap<>();
      for (Onnx.NodeProto node : graph.getNodeList()) {
        if (node.getOpType().equals("Constant") && node.getDomain().isEmpty() && node.getOutputCount() == 1) {
          for (Onnx.AttributeProto attribute : node.getAttributeList()) {
            if (attribute.getName().equals("value") && attribute.hasT()) {
              constants.put(node.getOutput(0), attribute.getT());
            }
          }
        }
      }
      return new Scope(path, initializers, constants);
    }
  }

  private void visit(Onnx.GraphProto graph, String path, List<Scope> outer) {
    List<Scope> scopes = new ArrayList<>(outer);
    scopes.add(Scope.of(graph, path));
    for (int i = 0; i < graph.getNodeCount(); i++) {
      Onnx.NodeProto node = graph.getNode(i);
      for (Onnx.AttributeProto attribute : node.getAttributeList()) {
        if (attribute.hasG()) {
          visit(attribute.getG(), step(path, i + ":" + attribute.getName()), scopes);
        }
        for (int g = 0; g < attribute.getGraphsCount(); g++) {
          visit(attribute.getGraphs(g), step(path, i + ":" + attribute.getName() + ":" + g), scopes);
        }
      }
      if (!node.getDomain().isEmpty() && !node.getDomain().equals("ai.onnx")) {
        continue;
      }
      Integer quantizedInput = QUANTIZED_WEIGHT_INPUT.get(node.getOpType());
      if (quantizedInput != null) {
        Found found = quantizedInput < node.getInputCount() ? lookup(scopes, node.getInput(quantizedInput)) : null;
        if (found != null && !DataType.isCompressibleFloat(found.tensor.getDataType())) {
          skip(found, node.getOpType(), "already quantized (" + DataType.name(found.tensor.getDataType())
              + " weight of " + node.getOpType() + "): left as it is");
        }
        continue;
      }
      for (WeightInput weight : weightInputs(node)) {
        if (weight.input >= node.getInputCount() || node.getInput(weight.input).isEmpty()) {
          continue;
        }
        Found found = lookup(scopes, node.getInput(weight.input));
        if (found != null) {
          consider(found, node.getOpType(), weight.outputAxis);
        }
      }
    }
  }

  private static List<WeightInput> weightInputs(Onnx.NodeProto node) {
    return switch (node.getOpType()) {
      case "MatMul" -> List.of(new WeightInput(1, -1));
      case "Gemm" -> List.of(new WeightInput(1, intAttribute(node, "transB", 0) == 1 ? 0 : 1));
      case "Conv" -> List.of(new WeightInput(1, 0));
      case "ConvTranspose" -> List.of(new WeightInput(1, 1));
      case "LSTM", "GRU", "RNN" -> List.of(new WeightInput(1, 1), new WeightInput(2, 1));
      case "Gather" -> List.of(new WeightInput(0, 0));
      default -> List.of();
    };
  }

  private static long intAttribute(Onnx.NodeProto node, String name, long defaultValue) {
    for (Onnx.AttributeProto attribute : node.getAttributeList()) {
      if (attribute.getName().equals(name)) {
        return attribute.getI();
      }
    }
    return defaultValue;
  }

  private record Found(Onnx.TensorProto tensor, Scope scope, Layer.Storage storage) {
    String name() {
      return tensor.getName().isEmpty() ? "" : tensor.getName();
    }
  }

  private static Found lookup(List<Scope> scopes, String name) {
    for (int s = scopes.size() - 1; s >= 0; s--) {
      Scope scope = scopes.get(s);
      Onnx.TensorProto tensor = scope.initializers.get(name);
      if (tensor != null) {
        return new Found(tensor, scope, Layer.Storage.INITIALIZER);
      }
      tensor = scope.constants.get(name);
      if (tensor != null) {
        return new Found(tensor.toBuilder().setName(name).build(), scope, Layer.Storage.CONSTANT_NODE);
      }
    }
    return null;
  }

  private void consider(Found found, String opType, int outputAxis) {
    String key = found.scope.path + "|" + found.name();
    if (!seen.add(key)) {
      return;
    }
    Onnx.TensorProto tensor = found.tensor;
    long[] shape = tensor.getDimsList().stream().mapToLong(Long::longValue).toArray();
    long params = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    int type = tensor.getDataType();
    if (!DataType.isCompressibleFloat(type)) {
      skipped.put(key, new SkippedTensor(found.name(), opType, shapeText(shape), params,
          "not a float tensor (" + DataType.name(type) + "): left as it is"));
      return;
    }
    if (shape.length == 0 || params == 0) {
      skipped.put(key, new SkippedTensor(found.name(), opType, shapeText(shape), params, "empty or scalar tensor"));
      return;
    }
    if (params <= weightThreshold) {
      skipped.put(key, new SkippedTensor(found.name(), opType, shapeText(shape), params, params < weightThreshold
          ? "below weight_threshold (" + params + " < " + weightThreshold + " elements)"
          : "at weight_threshold (" + params + " elements; only tensors with more are compressed)"));
      return;
    }
    int axis = outputAxis >= 0 ? outputAxis : shape.length - 1;
    if (shape.length == 1) {
      axis = 0;
    }
    String name = layerNames.contains(found.name()) ? found.name() + "@" + found.scope.path : found.name();
    layerNames.add(name);
    layers.add(new Layer(name, found.name(), opType, shape, type, axis, found.scope.path, found.storage));
  }

  private void skip(Found found, String opType, String reason) {
    String key = found.scope.path + "|" + found.name();
    if (seen.add(key)) {
      long[] shape = found.tensor.getDimsList().stream().mapToLong(Long::longValue).toArray();
      skipped.put(key, new SkippedTensor(found.name(), opType, shapeText(shape),
          Arrays.stream(shape).reduce(1, (a, b) -> a * b), reason));
    }
  }

  /** Large float initializers nobody uses as a weight (biases aside): fixed constants such as STFT bases. */
  private void reportUnusedLargeFloats(Onnx.GraphProto graph, String path) {
    for (Onnx.TensorProto tensor : graph.getInitializerList()) {
      long[] shape = tensor.getDimsList().stream().mapToLong(Long::longValue).toArray();
      long params = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
      String key = path + "|" + tensor.getName();
      if (DataType.isCompressibleFloat(tensor.getDataType()) && params > weightThreshold && !seen.contains(key)) {
        skipped.put(key, new SkippedTensor(tensor.getName(), "", shapeText(shape), params,
            "not a weight input of MatMul/Gemm/Conv/ConvTranspose/LSTM/GRU/RNN/Gather (a fixed constant?): left as it is"));
      }
    }
  }

  private static String step(String path, String step) {
    return path.isEmpty() ? step : path + "/" + step;
  }

  private static String shapeText(long[] shape) {
    return Arrays.toString(shape).replace(" ", "");
  }
}
