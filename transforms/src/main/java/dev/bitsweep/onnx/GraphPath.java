package dev.bitsweep.onnx;

import dev.bitsweep.onnx.proto.Onnx;

/**
 * Addresses a (sub)graph of a model: "" is the main graph; otherwise steps "nodeIndex:attribute[:graphIndex]"
 * joined by "/", each descending into a graph-valued attribute of a node (If branches, Loop/Scan bodies).
 */
public final class GraphPath {
  private GraphPath() {}

  public static Onnx.GraphProto resolve(Onnx.GraphProto root, String path) {
    Onnx.GraphProto graph = root;
    for (Step step : steps(path)) {
      Onnx.AttributeProto attribute = attribute(graph.getNode(step.node), step.attribute, path);
      graph = step.graphIndex < 0 ? attribute.getG() : attribute.getGraphs(step.graphIndex);
    }
    return graph;
  }

  /**
   * The (sub)graph at {@code path} in {@code edited}, a copy of {@code original} that is being edited: decode and
   * cast nodes inserted into (or Constant nodes removed from) a graph shift the node indexes of the path, which
   * always refer to {@code original}. Each step is therefore anchored on the original node's first output name,
   * which those edits never change, and found by that name in the edited graph, whatever order edits come in.
   */
  public static Onnx.GraphProto.Builder resolve(Onnx.GraphProto original, Onnx.GraphProto.Builder edited,
      String path) {
    Onnx.GraphProto before = original;
    Onnx.GraphProto.Builder graph = edited;
    for (Step step : steps(path)) {
      if (step.node >= before.getNodeCount()) {
        throw new ModelException("graph path '" + path + "' does not match the model: its graph has "
            + before.getNodeCount() + " nodes, so no node " + step.node);
      }
      Onnx.NodeProto anchor = before.getNode(step.node);
      Onnx.AttributeProto originalAttribute = attribute(anchor, step.attribute, path);
      Onnx.NodeProto.Builder node = graph.getNodeBuilder(find(graph, anchor, path));
      Onnx.AttributeProto.Builder attribute = node.getAttributeBuilder(attributeIndex(node.build(), step.attribute,
          path));
      before = step.graphIndex < 0 ? originalAttribute.getG() : originalAttribute.getGraphs(step.graphIndex);
      graph = step.graphIndex < 0 ? attribute.getGBuilder() : attribute.getGraphsBuilder(step.graphIndex);
    }
    return graph;
  }

  /** The index in {@code graph} of the node that produces {@code anchor}'s first named output. */
  private static int find(Onnx.GraphProto.Builder graph, Onnx.NodeProto anchor, String path) {
    String output = anchor.getOutputList().stream().filter(o -> !o.isEmpty()).findFirst().orElse(null);
    for (int i = 0; i < graph.getNodeCount(); i++) {
      Onnx.NodeProtoOrBuilder candidate = graph.getNodeOrBuilder(i);
      if (output == null ? graph.getNode(i).equals(anchor) : candidate.getOutputList().contains(output)) {
        if (!candidate.getOpType().equals(anchor.getOpType())) {
          break;
        }
        return i;
      }
    }
    throw new ModelException("graph path '" + path + "' does not match the model being edited: no "
        + anchor.getOpType() + " node " + (output == null ? anchor.getName() : "with output " + output)
        + " (was the graph changed other than by inserting decode nodes?)");
  }

  /** One step of a path: into graph attribute {@code attribute} (element {@code graphIndex}, or -1) of node {@code node}. */
  public record Step(int node, String attribute, int graphIndex) {}

  /** The path of the graph that holds the node of the last step ("" for a one-step path). */
  public static String parent(String path) {
    int slash = path.lastIndexOf('/');
    return slash < 0 ? "" : path.substring(0, slash);
  }

  /** The last step of a non-empty path. */
  public static Step last(String path) {
    Step[] steps = steps(path);
    if (steps.length == 0) {
      throw new IllegalArgumentException("the main graph's path has no steps");
    }
    return steps[steps.length - 1];
  }

  private static Step[] steps(String path) {
    if (path.isEmpty()) {
      return new Step[0];
    }
    String[] parts = path.split("/");
    Step[] steps = new Step[parts.length];
    for (int i = 0; i < parts.length; i++) {
      String[] fields = parts[i].split(":");
      steps[i] = new Step(Integer.parseInt(fields[0]), fields[1], fields.length > 2 ? Integer.parseInt(fields[2]) : -1);
    }
    return steps;
  }

  private static Onnx.AttributeProto attribute(Onnx.NodeProto node, String name, String path) {
    return node.getAttribute(attributeIndex(node, name, path));
  }

  private static int attributeIndex(Onnx.NodeProto node, String name, String path) {
    for (int i = 0; i < node.getAttributeCount(); i++) {
      if (node.getAttribute(i).getName().equals(name)) {
        return i;
      }
    }
    throw new ModelException("graph path '" + path + "' does not match the model: node " + node.getName()
        + " (" + node.getOpType() + ") has no attribute " + name);
  }
}
