package dev.bitsweep.activations;

import dev.bitsweep.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Makes a weight's DequantizeLinear feed its op directly, so that ONNX Runtime's QDQ fusion (QLinearConv, ...) can
 * see the weight: {@code DequantizeLinear(q [O, K]) -> Reshape([O, I, kh, kw])}, as a Conv weight's per-channel
 * encoding in canonical layout is written, becomes {@code DequantizeLinear(q [O, I, kh, kw])} on the same codes,
 * scales and zero points. Exact: a row-major reshape of the int8 initializer that keeps the quantization axis and
 * every axis before it. Applies only where the code initializer and the DequantizeLinear output have no other use
 * and the target shape is a constant with positive entries.
 */
public final class WeightDequantizeFolding {
  private WeightDequantizeFolding() {}

  public static Onnx.ModelProto fold(Onnx.ModelProto model) {
    Onnx.GraphProto graph = model.getGraph();
    Map<String, Integer> uses = new HashMap<>();
    for (Onnx.NodeProto node : graph.getNodeList()) {
      node.getInputList().forEach(i -> uses.merge(i, 1, Integer::sum));
    }
    graph.getOutputList().forEach(o -> uses.merge(o.getName(), 2, Integer::sum));
    Map<String, Integer> initializerIndex = new HashMap<>();
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      initializerIndex.put(graph.getInitializer(i).getName(), i);
    }
    Map<String, Onnx.NodeProto> consumerOf = new HashMap<>();
    for (Onnx.NodeProto node : graph.getNodeList()) {
      node.getInputList().forEach(i -> consumerOf.put(i, node));
    }
    Onnx.GraphProto.Builder out = graph.toBuilder();
    Set<Onnx.NodeProto> removed = new HashSet<>();
    Map<Onnx.NodeProto, Onnx.NodeProto> replaced = new HashMap<>();
    for (Onnx.NodeProto dq : graph.getNodeList()) {
      if (!dq.getOpType().equals("DequantizeLinear") || dq.getInputCount() < 2) {
        continue;
      }
      String codes = dq.getInput(0);
      Integer codeIndex = initializerIndex.get(codes);
      String output = dq.getOutput(0);
      Onnx.NodeProto reshape = consumerOf.get(output);
      if (codeIndex == null || uses.getOrDefault(codes, 0) != 1 || uses.getOrDefault(output, 0) != 1
          || reshape == null || !reshape.getOpType().equals("Reshape") || !reshape.getInput(0).equals(output)) {
        continue;
      }
      Integer shapeIndex = initializerIndex.get(reshape.getInput(1));
      if (shapeIndex == null) {
        continue;
      }
      long[] target = longs(graph.getInitializer(shapeIndex));
      Onnx.TensorProto code = graph.getInitializer(codeIndex);
      List<Long> dims = code.getDimsList();
      if (target == null || !keepsAxis(dims, target, axis(dq), isPerAxis(graph, initializerIndex, dq))) {
        continue;
      }
      Onnx.TensorProto.Builder reshaped = code.toBuilder().clearDims();
      for (long d : target) {
        reshaped.addDims(d);
      }
      out.setInitializer(codeIndex, reshaped);
      replaced.put(dq, dq.toBuilder().setOutput(0, reshape.getOutput(0)).build());
      removed.add(reshape);
    }
    if (replaced.isEmpty()) {
      return model;
    }
    out.clearNode();
    for (Onnx.NodeProto node : graph.getNodeList()) {
      if (!removed.contains(node)) {
        out.addNode(replaced.getOrDefault(node, node));
      }
    }
    return model.toBuilder().setGraph(out).build();
  }

  private static boolean isPerAxis(Onnx.GraphProto graph, Map<String, Integer> index, Onnx.NodeProto dq) {
    Integer scale = index.get(dq.getInput(1));
    return scale == null || graph.getInitializer(scale).getDimsCount() > 0;
  }

  private static int axis(Onnx.NodeProto dq) {
    for (Onnx.AttributeProto a : dq.getAttributeList()) {
      if (a.getName().equals("axis")) {
        return (int) a.getI();
      }
      if (a.getName().equals("block_size")) {
        return Integer.MIN_VALUE;
      }
    }
    return 1;
  }

  /** The reshape keeps the element count, and (per axis) every dimension up to and including the axis. */
  private static boolean keepsAxis(List<Long> dims, long[] target, int axis, boolean perAxis) {
    long before = 1;
    for (long d : dims) {
      before *= d;
    }
    long after = 1;
    for (long d : target) {
      if (d <= 0) {
        return false;
      }
      after *= d;
    }
    if (before != after) {
      return false;
    }
    if (!perAxis) {
      return true;
    }
    if (axis < 0 || axis >= dims.size() || axis >= target.length) {
      return false;
    }
    for (int i = 0; i <= axis; i++) {
      if (dims.get(i) != target[i]) {
        return false;
      }
    }
    return true;
  }

  private static long[] longs(Onnx.TensorProto t) {
    if (t.getDataType() != 7) {
      return null;
    }
    if (t.hasRawData()) {
      java.nio.ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN);
      long[] out = new long[b.remaining() / 8];
      for (int i = 0; i < out.length; i++) {
        out[i] = b.getLong();
      }
      return out;
    }
    List<Long> values = new ArrayList<>(t.getInt64DataList());
    return values.stream().mapToLong(Long::longValue).toArray();
  }
}
