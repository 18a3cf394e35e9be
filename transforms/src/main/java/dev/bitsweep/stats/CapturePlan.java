package dev.bitsweep.stats;

import dev.bitsweep.calibrate.Im2col;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.onnx.GraphPath;
import dev.bitsweep.onnx.proto.Onnx;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where each layer's input activation is: the MatMul, Gemm and Conv nodes that consume the layer's weight, in the
 * graph that holds it or in any If branch or Loop/Scan body below that sees it. A weight used by several such nodes
 * (or by one node on every iteration of a Loop) gets the sum of their Hessians (the output error summed over its
 * uses). Layers with no such use — Gather tables, ConvTranspose, recurrent weights, MatMul weights of rank above 2,
 * 3-D convs — have no input Hessian and are listed with the reason.
 */
public record CapturePlan(Map<String, List<CaptureSite>> sites, Map<String, String> unsupported)
    implements Serializable {

  public CapturePlan {
    sites = new LinkedHashMap<>(sites);
    unsupported = new LinkedHashMap<>(unsupported);
  }

  public static CapturePlan of(Onnx.ModelProto model, List<Layer> layers) {
    Map<String, List<CaptureSite>> sites = new LinkedHashMap<>();
    Map<String, String> unsupported = new LinkedHashMap<>();
    for (Layer layer : layers) {
      Uses uses = new Uses(layer);
      uses.visit(GraphPath.resolve(model.getGraph(), layer.graphPath()), layer.graphPath());
      if (!uses.found.isEmpty()) {
        sites.put(layer.name(), uses.found);
      } else if (!uses.problems.isEmpty()) {
        unsupported.put(layer.name(), String.join("; ", uses.problems));
      } else {
        unsupported.put(layer.name(), "no MatMul, Gemm or Conv node takes it as its weight input (it is "
            + (uses.consumers.isEmpty() ? "used by no node" : "used by " + String.join(", ", uses.consumers))
            + "); input Hessians exist only for the weights of those three ops");
      }
    }
    return new CapturePlan(sites, unsupported);
  }

  /**
   * The nodes that take one layer's weight as their weight input: in the graph that defines it and in every subgraph
   * below that sees it (one that defines a tensor of the same name itself hides it).
   */
  private static final class Uses {
    private final Layer layer;
    private final List<CaptureSite> found = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    private final Set<String> consumers = new LinkedHashSet<>();

    Uses(Layer layer) {
      this.layer = layer;
    }

    void visit(Onnx.GraphProto graph, String path) {
      String weight = layer.tensorName();
      for (int i = 0; i < graph.getNodeCount(); i++) {
        Onnx.NodeProto node = graph.getNode(i);
        for (Onnx.AttributeProto attribute : node.getAttributeList()) {
          if (attribute.hasG() && !defines(attribute.getG(), weight)) {
            visit(attribute.getG(), step(path, i + ":" + attribute.getName()));
          }
          for (int g = 0; g < attribute.getGraphsCount(); g++) {
            if (!defines(attribute.getGraphs(g), weight)) {
              visit(attribute.getGraphs(g), step(path, i + ":" + attribute.getName() + ":" + g));
            }
          }
        }
        if (node.getInputList().contains(weight)) {
          consumers.add(node.getOpType() + (path.isEmpty() ? "" : " in subgraph " + path));
        }
        boolean defaultDomain = node.getDomain().isEmpty() || node.getDomain().equals("ai.onnx");
        if (!defaultDomain || node.getInputCount() < 2 || !node.getInput(1).equals(weight)) {
          continue;
        }
        switch (node.getOpType()) {
          case "MatMul" -> {
            if (layer.shape().length == 2) {
              found.add(CaptureSite.matMul(node.getInput(0), path));
            } else {
              problems.add("MatMul weight of rank " + layer.shape().length + " (only 2-D weights have one Hessian)");
            }
          }
          case "Gemm" -> found.add(CaptureSite.gemm(node.getInput(0), intAttribute(node, "transA", 0) == 1, path));
          case "Conv" -> {
            if (layer.shape().length == 4 || layer.shape().length == 3) {
              found.add(conv(node, layer.shape(), path));
            } else {
              problems.add("Conv with a " + (layer.shape().length - 2) + "-D kernel (only 1-D and 2-D convs)");
            }
          }
          default -> { }
        }
      }
    }

    private static String step(String path, String step) {
      return path.isEmpty() ? step : path + "/" + step;
    }

    /** Whether a subgraph defines {@code name} itself (input, initializer or node output), hiding the outer one. */
    private static boolean defines(Onnx.GraphProto graph, String name) {
      return graph.getInputList().stream().anyMatch(v -> v.getName().equals(name))
          || graph.getInitializerList().stream().anyMatch(t -> t.getName().equals(name))
          || graph.getNodeList().stream().anyMatch(n -> n.getOutputList().contains(name));
    }
  }

  /**
   * Which layers share one input Hessian: those whose weights are read from the same tensors in the same way (the q,
   * k and v projections of one hidden state), so the same rows go into the same matrix. For every layer of
   * {@code layers} with capture sites, the first layer in {@code layers} order with the same sites and input
   * dimension (itself when none comes before it); layers without sites are left out. Given every layer of the model,
   * the answer does not depend on which layers a sweep compresses.
   */
  public Map<String, String> hessianOwners(List<Layer> layers) {
    Map<String, String> ownerOfKey = new LinkedHashMap<>();
    Map<String, String> owners = new LinkedHashMap<>();
    for (Layer layer : layers) {
      List<CaptureSite> found = sites.get(layer.name());
      if (found == null) {
        continue;
      }
      StringBuilder key = new StringBuilder().append(layer.cols());
      for (CaptureSite site : found) {
        key.append('\n').append(site.activation()).append('|').append(site.kind()).append('|')
            .append(site.transposed()).append('|').append(java.util.Arrays.toString(site.convGeometry())).append('|')
            .append(site.autoPad()).append('|').append(site.oneDimensional()).append('|').append(site.graphPath());
      }
      owners.put(layer.name(), ownerOfKey.computeIfAbsent(key.toString(), k -> layer.name()));
    }
    return owners;
  }

  /** The Hessian group count of a layer: a Conv's {@code group}, else 1. */
  public int groups(String layer) {
    CaptureSite first = sites.get(layer).get(0);
    return first.kind() == CaptureSite.Kind.CONV ? first.conv().groups() : 1;
  }

  private static CaptureSite conv(Onnx.NodeProto node, long[] weightShape, String path) {
    boolean oneD = weightShape.length == 3;
    int kh = oneD ? 1 : (int) weightShape[2];
    int kw = (int) weightShape[weightShape.length - 1];
    List<Long> strides = ints(node, "strides");
    List<Long> dilations = ints(node, "dilations");
    List<Long> pads = ints(node, "pads");
    int spatial = oneD ? 1 : 2;
    long[] s = fill(strides, spatial);
    long[] d = fill(dilations, spatial);
    long[] p = pads.isEmpty() ? new long[2 * spatial] : pads.stream().mapToLong(Long::longValue).toArray();
    String autoPad = stringAttribute(node, "auto_pad", "NOTSET");
    if (autoPad.equals("VALID")) {
      p = new long[2 * spatial];
    }
    int groups = (int) intAttribute(node, "group", 1);
    Im2col.Geometry geometry = oneD
        ? new Im2col.Geometry(1, kw, 1, (int) s[0], 0, (int) p[0], 0, (int) p[1], 1, (int) d[0], groups)
        : new Im2col.Geometry(kh, kw, (int) s[0], (int) s[1], (int) p[0], (int) p[1], (int) p[2], (int) p[3],
            (int) d[0], (int) d[1], groups);
    return CaptureSite.conv(node.getInput(0), geometry, autoPad, oneD, path);
  }

  private static long[] fill(List<Long> values, int count) {
    long[] out = new long[count];
    for (int i = 0; i < count; i++) {
      out[i] = values.isEmpty() ? 1 : values.get(i);
    }
    return out;
  }

  private static long intAttribute(Onnx.NodeProto node, String name, long defaultValue) {
    for (Onnx.AttributeProto attribute : node.getAttributeList()) {
      if (attribute.getName().equals(name)) {
        return attribute.getI();
      }
    }
    return defaultValue;
  }

  private static List<Long> ints(Onnx.NodeProto node, String name) {
    for (Onnx.AttributeProto attribute : node.getAttributeList()) {
      if (attribute.getName().equals(name)) {
        return attribute.getIntsList();
      }
    }
    return List.of();
  }

  private static String stringAttribute(Onnx.NodeProto node, String name, String defaultValue) {
    for (Onnx.AttributeProto attribute : node.getAttributeList()) {
      if (attribute.getName().equals(name)) {
        return attribute.getS().toStringUtf8();
      }
    }
    return defaultValue;
  }
}
