package dev.bitsweep.onnx.encode;

import ai.onnxruntime.*;
import dev.bitsweep.compress.*;
import dev.bitsweep.compress.PalettizedWeights.TableType;
import dev.bitsweep.onnx.proto.Onnx;
import java.util.Map;

class ProfileMain {
  public static void main(String[] a) throws Exception {
    int n = 4096;
    int opset = Integer.parseInt(a[0]);
    long[] shape = {n, n};
    Onnx.ModelProto model = TestModels.identity(opset, "W", new long[] {1}, new float[1], 1).toBuilder().build();
    Onnx.ModelProto.Builder b = model.toBuilder();
    b.getGraphBuilder().clearInitializer().clearInput().addInitializer(Onnx.TensorProto.newBuilder().setName("W").setDataType(1).addDims(n).addDims(n));
    WeightEncoder.forModel(model).encode(b.getGraphBuilder(), "W", shape, 0, Forms.palettized(n, n, 4, n, 1, TableType.FLOAT16, false, 1));
    b.getGraphBuilder().clearOutput().addOutput(Onnx.ValueInfoProto.newBuilder().setName("W"));
    byte[] bytes = b.build().toByteArray();
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    for (var level : new OrtSession.SessionOptions.OptLevel[] {OrtSession.SessionOptions.OptLevel.NO_OPT, OrtSession.SessionOptions.OptLevel.BASIC_OPT, OrtSession.SessionOptions.OptLevel.ALL_OPT}) {
      try (var opts = new OrtSession.SessionOptions()) {
        opts.setOptimizationLevel(level);
        if (level == OrtSession.SessionOptions.OptLevel.NO_OPT) opts.enableProfiling("/tmp/encdbg/prof");
        long t0 = System.nanoTime();
        try (var s = env.createSession(bytes, opts)) {
          long t1 = System.nanoTime();
          try (var r = s.run(Map.of())) {
            long t2 = System.nanoTime();
            System.out.printf("%s create %.2f run %.2f%n", level, (t1 - t0) / 1e9, (t2 - t1) / 1e9);
          }
          if (level == OrtSession.SessionOptions.OptLevel.NO_OPT) System.out.println(s.endProfiling());
        }
      }
    }
  }
}
