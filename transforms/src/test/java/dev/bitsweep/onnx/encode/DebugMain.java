package dev.bitsweep.onnx.encode;

import dev.bitsweep.compress.*;
import dev.bitsweep.onnx.proto.Onnx;

class DebugMain {
  public static void main(String[] a) {
    float[] values = {-0.0f, -1.5f, 2f, -3f, -0.0f, 4f, -5f, 6f};
    byte[] mask = {(byte) 0b1010_0101};
    SparseWeights sparse = new SparseWeights(2, 4, mask, new DenseWeights(new WeightMatrix(values, 2, 4)));
    for (int opset : new int[] {7, 9, 11, 13}) {
      Onnx.ModelProto model = TestModels.identity(opset, "W", new long[] {2, 4}, new float[8], DecodeGraph.FLOAT);
      Onnx.ModelProto.Builder encoded = model.toBuilder();
      WeightEncoder.forModel(model).encode(encoded.getGraphBuilder(), "W", new long[] {2, 4}, 0, sparse);
      byte[] bytes = encoded.build().toByteArray();
      System.out.println(opset + " " + java.util.Arrays.toString(OrtDecode.decodeWeight(bytes, "Y")));
      for (var n : encoded.getGraph().getNodeList()) {
        if (n.getOpType().equals("Gather") || n.getOpType().equals("Reshape")) {
          System.out.println("  " + n.getOpType() + " " + n.getOutput(0) + " " + java.util.Arrays.toString(OrtDecode.decodeWeight(bytes, n.getOutput(0))));
        }
      }
    }
  }
}
