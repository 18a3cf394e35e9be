package dev.bitsweep.stats;

import dev.bitsweep.onnx.DataType;
import dev.bitsweep.onnx.GraphPath;
import dev.bitsweep.onnx.ModelException;
import dev.bitsweep.onnx.proto.Onnx;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Makes tensors inside If branches and Loop/Scan bodies fetchable: ONNX Runtime returns only main-graph values, so
 * each wanted tensor is threaded out, level by level, as extra outputs of its subgraph and of the node that holds
 * the subgraph, up to extra outputs of the main graph.
 *
 * <p>A tensor leaves its subgraph as two rank-1 outputs, its values flattened and its shape, so that every level has
 * the same output types whatever the tensor's rank: an If branch that does not hold it outputs an empty float and an
 * empty int64 tensor of the same rank (no instance: "did not run"); a Loop or Scan body adds them as scan outputs, stacked per
 * iteration. At the main graph the values are [iterations..., size] and the shapes [iterations..., rank]: one
 * instance per iteration of every enclosing loop, none for a branch that did not run. Per-iteration shapes must be
 * equal (a scan output is a stack), which ONNX Runtime checks when it runs.
 *
 * <p>Only nodes and outputs are appended (no node is inserted before another), so the node indexes of graph paths
 * stay valid while the taps are added.
 */
final class SubgraphTaps {
  /** Where one tapped tensor comes out of the main graph. */
  record Tap(String values, String shape) {}

  private final Onnx.GraphProto original;
  private final Onnx.GraphProto.Builder edited;
  private final Set<String> names = new HashSet<>();
  private final Map<String, Tap> taps = new LinkedHashMap<>();
  private int counter;

  /** Taps to be added to {@code edited}, a copy of {@code original}'s main graph. */
  SubgraphTaps(Onnx.GraphProto original, Onnx.GraphProto.Builder edited) {
    this.original = original;
    this.edited = edited;
    collectNames(original, names);
  }

  /** The main-graph outputs that carry tensor {@code tensor} of the subgraph at {@code path} (added once). */
  Tap tap(String path, String tensor) {
    if (path.isEmpty()) {
      throw new IllegalArgumentException("main-graph tensors are fetched directly");
    }
    String key = path + "|" + tensor;
    Tap existing = taps.get(key);
    if (existing != null) {
      return existing;
    }
    Onnx.GraphProto.Builder graph = GraphPath.resolve(original, edited, path);
    String values = fresh("values");
    String shape = fresh("shape");
    graph.addNode(node("Reshape", List.of(tensor, constant(graph, DataType.INT64, -1)),
        values));
    graph.addNode(node("Shape", List.of(tensor), shape));
    Tap tap = new Tap(values, shape);
    String level = path;
    int rank = 1;
    while (!level.isEmpty()) {
      Onnx.GraphProto.Builder subgraph = GraphPath.resolve(original, edited, level);
      subgraph.addOutput(output(tap.values(), DataType.FLOAT, rank));
      subgraph.addOutput(output(tap.shape(), DataType.INT64, rank));
      String parentPath = GraphPath.parent(level);
      GraphPath.Step step = GraphPath.last(level);
      Onnx.GraphProto.Builder parent = GraphPath.resolve(original, edited, parentPath);
      Onnx.NodeProto.Builder holder = parent.getNodeBuilder(step.node());
      switch (holder.getOpType()) {
        case "If" -> emptyInOtherBranch(holder, step.attribute(), rank);
        case "Loop" -> rank++;
        case "Scan" -> {
          appendZero(holder, "scan_output_axes");
          appendZero(holder, "scan_output_directions");
          rank++;
        }
        default -> throw new ModelException("cannot capture layer inputs inside a subgraph of " + holder.getOpType()
            + " node " + holder.getName() + " (" + level + "): only If branches and Loop/Scan bodies are supported");
      }
      tap = new Tap(fresh("values"), fresh("shape"));
      holder.addOutput(tap.values()).addOutput(tap.shape());
      level = parentPath;
    }
    edited.addOutput(Onnx.ValueInfoProto.newBuilder().setName(tap.values()));
    edited.addOutput(Onnx.ValueInfoProto.newBuilder().setName(tap.shape()));
    taps.put(key, tap);
    return tap;
  }

  /** The other branch outputs empty tensors of the tap's rank there (0 along every axis: no instance). */
  private void emptyInOtherBranch(Onnx.NodeProto.Builder holder, String branch, int rank) {
    String other = branch.equals("then_branch") ? "else_branch" : "then_branch";
    for (Onnx.AttributeProto.Builder attribute : holder.getAttributeBuilderList()) {
      if (attribute.getName().equals(other)) {
        Onnx.GraphProto.Builder graph = attribute.getGBuilder();
        String values = fresh("none");
        String shape = fresh("none");
        graph.addNode(emptyConstant(values, DataType.FLOAT, rank));
        graph.addNode(emptyConstant(shape, DataType.INT64, rank));
        graph.addOutput(output(values, DataType.FLOAT, rank));
        graph.addOutput(output(shape, DataType.INT64, rank));
        return;
      }
    }
    throw new ModelException("If node " + holder.getName() + " has no " + other);
  }

  /** One 0 (axis 0, forward) per added scan output, where the Scan lists them explicitly. */
  private static void appendZero(Onnx.NodeProto.Builder holder, String name) {
    for (Onnx.AttributeProto.Builder attribute : holder.getAttributeBuilderList()) {
      if (attribute.getName().equals(name)) {
        attribute.addInts(0).addInts(0);
      }
    }
  }

  /** A one-element int64 [value] from a Constant node appended to {@code graph}. */
  private String constant(Onnx.GraphProto.Builder graph, int dataType, long value) {
    String name = fresh("minus_one");
    Onnx.TensorProto tensor = Onnx.TensorProto.newBuilder().setDataType(dataType).addDims(1).addInt64Data(value)
        .build();
    graph.addNode(Onnx.NodeProto.newBuilder().setOpType("Constant").setName(name).addOutput(name)
        .addAttribute(Onnx.AttributeProto.newBuilder().setName("value").setType(Onnx.AttributeProto.AttributeType.TENSOR)
            .setT(tensor)));
    return name;
  }

  /** A Constant node with an empty tensor of {@code rank} axes. */
  private static Onnx.NodeProto emptyConstant(String name, int dataType, int rank) {
    Onnx.TensorProto.Builder empty = Onnx.TensorProto.newBuilder().setDataType(dataType);
    for (int i = 0; i < rank; i++) {
      empty.addDims(0);
    }
    return Onnx.NodeProto.newBuilder().setOpType("Constant").setName(name).addOutput(name)
        .addAttribute(Onnx.AttributeProto.newBuilder().setName("value").setType(Onnx.AttributeProto.AttributeType.TENSOR)
            .setT(empty)).build();
  }

  private static Onnx.NodeProto node(String op, List<String> inputs, String output) {
    return Onnx.NodeProto.newBuilder().setOpType(op).setName(output).addAllInput(inputs).addOutput(output).build();
  }

  private static Onnx.ValueInfoProto output(String name, int elemType, int rank) {
    Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
    for (int i = 0; i < rank; i++) {
      shape.addDim(Onnx.TensorShapeProto.Dimension.getDefaultInstance());
    }
    return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder().setTensorType(
        Onnx.TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape))).build();
  }

  private String fresh(String what) {
    while (true) {
      String name = "bitsweep.capture." + what + "." + counter++;
      if (names.add(name)) {
        return name;
      }
    }
  }

  private static void collectNames(Onnx.GraphProto graph, Set<String> names) {
    graph.getInitializerList().forEach(t -> names.add(t.getName()));
    graph.getInputList().forEach(v -> names.add(v.getName()));
    graph.getOutputList().forEach(v -> names.add(v.getName()));
    for (Onnx.NodeProto node : graph.getNodeList()) {
      names.addAll(node.getOutputList());
      names.add(node.getName());
      for (Onnx.AttributeProto attribute : node.getAttributeList()) {
        if (attribute.hasG()) {
          collectNames(attribute.getG(), names);
        }
        attribute.getGraphsList().forEach(g -> collectNames(g, names));
      }
    }
  }
}
