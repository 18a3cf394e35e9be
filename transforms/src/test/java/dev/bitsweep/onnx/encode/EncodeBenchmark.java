package dev.bitsweep.onnx.encode;

import dev.bitsweep.compress.*;
import dev.bitsweep.compress.PalettizedWeights.TableType;
import dev.bitsweep.compress.QuantizedWeights.Granularity;
import dev.bitsweep.onnx.proto.Onnx;
import java.util.function.Supplier;

/**
 * Manual benchmark (not a test; no timing in tests): encodes one 4096x4096 layer per compressed form at the given
 * opset and prints the best of 3 encode times, stored vs payload bytes and the encoding; with a second argument it
 * also decodes each through ONNX Runtime (session creation folds the decode) and checks bit-exactness.
 * {@code java -cp ... dev.bitsweep.onnx.encode.EncodeBenchmark 13 [decode]}
 */
class EncodeBenchmark {
  public static void main(String[] a) {
    int n = 4096;
    int opset = Integer.parseInt(a[0]);
    boolean decode = a.length > 1;
    long[] shape = {n, n};
    Onnx.ModelProto model = TestModels.identity(opset, "W", shape, new float[1], DecodeGraph.FLOAT).toBuilder()
        .setGraph(TestModels.identity(opset, "W", new long[] {1}, new float[1], 1).getGraph().toBuilder().clearInitializer()
            .addInitializer(Onnx.TensorProto.newBuilder().setName("W").setDataType(1).addDims(n).addDims(n))).build();
    java.util.Map<String, Supplier<CompressedWeights>> forms = new java.util.LinkedHashMap<>();
    forms.put("pal4 per-tensor", () -> Forms.palettized(n, n, 4, n, 1, TableType.FLOAT16, false, 1));
    forms.put("pal4 g16", () -> Forms.palettized(n, n, 4, 16, 1, TableType.FLOAT16, true, 1));
    forms.put("pal6", () -> Forms.palettized(n, n, 6, n, 1, TableType.FLOAT16, false, 1));
    forms.put("int8 per-channel", () -> Forms.quantized(n, n, QuantDtype.INT8, Granularity.PER_CHANNEL, 0, true, 1));
    forms.put("int4 block32", () -> Forms.quantized(n, n, QuantDtype.INT4, Granularity.PER_BLOCK, 32, true, 1));
    forms.put("sparse 50% dense", () -> Forms.sparse(Forms.dense(n, n, 1), 0.5, 1));
    forms.put("sparse 50% int4", () -> Forms.sparse(Forms.quantized(n, n, QuantDtype.INT4, Granularity.PER_BLOCK, 32, true, 1), 0.5, 1));
    for (var e : forms.entrySet()) {
      CompressedWeights w = e.getValue().get();
      long best = Long.MAX_VALUE;
      EncodedLayer layer = null;
      byte[] bytes = null;
      for (int rep = 0; rep < 3; rep++) {
        Onnx.ModelProto.Builder b = model.toBuilder();
        long t0 = System.nanoTime();
        layer = WeightEncoder.forModel(model).encode(b.getGraphBuilder(), "W", shape, 0, w);
        best = Math.min(best, System.nanoTime() - t0);
        if (rep == 0) bytes = b.build().toByteArray();
      }
      String line = String.format("%-18s opset %d encode %.3f s stored %d payload %d %s", e.getKey(), opset, best / 1e9,
          layer.storedBytes(), layer.payloadBytes(), layer.encoding());
      if (decode) {
        long t0 = System.nanoTime();
        float[] got = OrtDecode.decodeWeight(bytes, "W");
        double secs = (System.nanoTime() - t0) / 1e9;
        float[] exp = w.decompress().values();
        boolean same = true;
        for (int i = 0; i < exp.length && same; i++) same = Float.floatToRawIntBits(exp[i]) == Float.floatToRawIntBits(got[i]);
        line += String.format(" | ORT decode %.2f s exact=%b", secs, same);
      }
      System.out.println(line);
    }
  }
}
