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

  public static Onnx.GraphProto.Builder resolve(Onnx.GraphProto.Builder root, String path) {
    Onnx.GraphProto.Builder graph = root;
    for (Step step : steps(path)) {
      Onnx.NodeProto.Builder node = graph.getNodeBuilder(step.node);
      int index = attributeIndex(node.build(), step.attribute, path);
      Onnx.AttributeProto.Builder attribute = node.getAttributeBuilder(index);
      graph = step.graphIndex < 0 ? attribute.getGBuilder() : attribute.getGraphsBuilder(step.graphIndex);
    }
    return graph;
  }

  private record Step(int node, String attribute, int graphIndex) {}

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
        + " has no attribute " + name);
  }
}
