package dev.bitsweep.onnx.encode;

import dev.bitsweep.compress.PalettizedWeights.TableType;
import dev.bitsweep.onnx.proto.Onnx;

class DebugMain {
  public static void main(String[] a) {
    int opset = Integer.parseInt(a[0]);
    var w = Forms.sparse(Forms.palettized(256, 384, 4, 256, 1, TableType.FLOAT16, false, 16), 0.5, 3);
    Onnx.ModelProto model = TestModels.identity(opset, "W", new long[] {256, 384}, new float[256 * 384], 1);
    Onnx.ModelProto.Builder b = model.toBuilder();
    EncodedLayer l = WeightEncoder.forModel(model).encode(b.getGraphBuilder(), "W", new long[] {256, 384}, 0, w);
    var g = b.getGraph();
    long nodeBytes = g.getNodeList().stream().mapToLong(n -> n.getSerializedSize()).sum();
    long inputBytes = g.getInputList().stream().mapToLong(n -> n.getSerializedSize()).sum();
    System.out.println(l);
    System.out.println("nodes " + g.getNodeCount() + " bytes " + nodeBytes + " inputs " + g.getInputCount() + " bytes " + inputBytes);
    for (var t : g.getInitializerList()) System.out.println(t.getName() + " " + t.getDataType() + " " + t.getDimsList() + " " + t.getSerializedSize());
  }
}
