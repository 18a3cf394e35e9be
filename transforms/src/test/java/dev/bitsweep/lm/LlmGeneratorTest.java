package dev.bitsweep.lm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.data.NpyArray;
import dev.bitsweep.onnx.DataType;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.external.Forked;
import dev.bitsweep.onnx.external.Ort;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LlmGeneratorTest {
  private static final LlmShape SMALL = new LlmShape(32, 2, 50);

  @Test
  void smallModelRunsInOnnxRuntimeAndMatchesAReferenceForwardPass(@TempDir Path dir) throws Exception {
    LlmGenerator.Written written = LlmGenerator.writeModel(SMALL, 42, dir);
    long[] tokens = {3, 17, 49, 0, 25, 8, 8, 41, 12, 30};
    float[] logits = Ort.runLongs(written.modelFile(), LlmGenerator.INPUT, tokens, 2, 5);
    assertEquals(2 * 5 * 50, logits.length);
    LlmReference reference = new LlmReference(written.modelFile(), SMALL);
    double maxAbs = 0;
    for (int s = 0; s < 2; s++) {
      long[] sequence = java.util.Arrays.copyOfRange(tokens, 5 * s, 5 * s + 5);
      double[][] expected = reference.logits(sequence);
      for (int t = 0; t < 5; t++) {
        for (int v = 0; v < 50; v++) {
          double e = expected[t][v];
          float actual = logits[(s * 5 + t) * 50 + v];
          maxAbs = Math.max(maxAbs, Math.abs(e));
          assertEquals(e, actual, 1e-4 * (1 + Math.abs(e)), "logit [" + s + "," + t + "," + v + "]");
        }
      }
    }
    assertTrue(maxAbs > 0.5, "logits are not trivially small: " + maxAbs);
  }

  @Test
  void weightsInTheDataFileAreTheSeededValues(@TempDir Path dir) {
    LlmGenerator.Written written = LlmGenerator.writeModel(SMALL, 42, dir);
    LlmReference reference = new LlmReference(written.modelFile(), SMALL);
    LlmGenerator.Model model = LlmGenerator.build(SMALL, 42);
    model.weights().forEach((name, weights) ->
        org.junit.jupiter.api.Assertions.assertArrayEquals(weights.values(), reference.weight(name), 0f, name));
    float[] q = reference.weight("blocks.0.attn_q.weight");
    float bound = (float) Math.sqrt(3.0 / 32);
    double sum = 0;
    for (float v : q) {
      assertTrue(Math.abs(v) <= bound);
      sum += v;
    }
    assertTrue(Math.abs(sum / q.length) < 0.05 * bound, "roughly zero mean");
    assertTrue(!java.util.Arrays.equals(q, reference.weight("blocks.1.attn_q.weight")), "tensors differ");
    assertTrue(!java.util.Arrays.equals(q, LlmGenerator.build(SMALL, 43).weights().get("blocks.0.attn_q.weight").values()),
        "another seed gives other weights");
  }

  @Test
  void sizesAndOffsetsAreAsComputed(@TempDir Path dir) throws Exception {
    LlmShape shape = new LlmShape(48, 3, 100);
    LlmGenerator.Written written = LlmGenerator.writeModel(shape, 1, dir);
    long d = 48;
    long expectedParams = 2 * 100 * d + 3 * (2 * d * d + 8 * d * d) + (2 * 3 + 1) * 2 * d;
    assertEquals(expectedParams, shape.params());
    Onnx.ModelProto proto = OnnxModel.read(written.modelFile()).proto();
    assertEquals(17, OnnxModel.defaultOpset(proto));
    long expectedOffset = 0;
    long params = 0;
    List<String> names = new ArrayList<>();
    for (Onnx.TensorProto tensor : proto.getGraph().getInitializerList()) {
      names.add(tensor.getName());
      Map<String, String> ext = new HashMap<>();
      tensor.getExternalDataList().forEach(e -> ext.put(e.getKey(), e.getValue()));
      assertEquals(Onnx.TensorProto.DataLocation.EXTERNAL, tensor.getDataLocation(), tensor.getName());
      assertEquals("model.onnx.data", ext.get("location"));
      long elements = tensor.getDimsList().stream().reduce(1L, (a, b) -> a * b);
      params += elements;
      long offset = Long.parseLong(ext.get("offset"));
      expectedOffset = (expectedOffset + 4095) / 4096 * 4096;
      assertEquals(0, offset % 4096, tensor.getName());
      assertEquals(expectedOffset, offset, tensor.getName());
      assertEquals(4 * elements, Long.parseLong(ext.get("length")), tensor.getName());
      assertTrue(!tensor.hasRawData());
      expectedOffset = offset + 4 * elements;
    }
    assertEquals(expectedParams, params);
    assertEquals(2 + 3 * 8 + 2, names.size());
    assertEquals(expectedOffset, Files.size(written.dataFile()));
    assertEquals(expectedOffset, written.dataBytes());
    assertEquals(Files.size(written.modelFile()), written.modelBytes());
    assertTrue(written.modelBytes() < 16384, "the .onnx holds the graph only: " + written.modelBytes());
    assertEquals(written.modelBytes() + written.dataBytes(),
        dev.bitsweep.onnx.external.ModelSize.totalBytes(written.modelFile()));
  }

  @Test
  void parameterCountsChooseTheIssueShapes() {
    assertEquals(new LlmShape(768, 13, 32000), LlmShape.forParams(LlmShape.parseParams("125M"), 32000));
    assertEquals(new LlmShape(1024, 27, 32000), LlmShape.forParams(LlmShape.parseParams("350M"), 32000));
    assertEquals(new LlmShape(2048, 28, 32000), LlmShape.forParams(LlmShape.parseParams("1.3B"), 32000));
    assertEquals(149_456_896L, new LlmShape(1024, 8, 32000).params()); // the issue's "149 M parameters (598 MB)"
    for (String p : new String[] {"50M", "125M", "350M", "1.3B", "7B"}) {
      long target = LlmShape.parseParams(p);
      long got = LlmShape.forParams(target, 32000).params();
      assertTrue(Math.abs(got - target) < 0.06 * target, p + " -> " + got);
    }
  }

  @Test
  void tokenFilesFollowTheDataLayout(@TempDir Path dir) {
    LlmGenerator.writeTokens(dir.resolve("eval"), 3, 7, 50, 9);
    NpyArray ids = NpyArray.read(dir.resolve("eval/input_ids.npy"));
    assertEquals("int64", ids.dtype());
    org.junit.jupiter.api.Assertions.assertArrayEquals(new long[] {3, 7}, ids.shape());
    long[] values = ids.longs(0, 3);
    org.junit.jupiter.api.Assertions.assertArrayEquals(LlmGenerator.tokens(3, 7, 50, 9), values);
    for (long v : values) {
      assertTrue(v >= 0 && v < 50);
    }
  }

  @Test
  void heapStaysBoundedWhileWritingAModelFiveTimesTheHeap(@TempDir Path dir) throws Exception {
    // 1024 x 6 blocks x vocab 8000: 79.5 M parameters, 318 MB of weights, written by a JVM with a 64 MB heap
    LlmShape shape = new LlmShape(1024, 6, 8000);
    Forked.Outcome outcome = Forked.run("64m", GenerateForked.class, dir.toString(), "1024", "6", "8000");
    assertEquals(0, outcome.exitCode(), outcome.output());
    long dataBytes = Long.parseLong(outcome.values().get("data_bytes"));
    assertTrue(dataBytes >= 4 * shape.params() && dataBytes < 4 * shape.params() + 4096L * 64, "" + dataBytes);
    assertTrue(dataBytes > 4 * Long.parseLong(outcome.values().get("max_heap_bytes")), outcome.output());
    assertEquals(dataBytes, Files.size(dir.resolve("model.onnx.data")));
    System.out.println("generator (forked, -Xmx64m): " + outcome.output().replace('\n', ' '));
    // the streamed bytes are the seeded values: check one block's weights and the last tensor
    Onnx.ModelProto proto = OnnxModel.read(dir.resolve("model.onnx")).proto();
    LlmGenerator.Model model = LlmGenerator.build(shape, 7);
    for (String name : new String[] {"blocks.5.mlp_down.weight", "lm_head.weight", "ln_f.bias"}) {
      Onnx.TensorProto tensor = proto.getGraph().getInitializerList().stream().filter(t -> t.getName().equals(name))
          .findFirst().orElseThrow();
      assertEquals(DataType.FLOAT, tensor.getDataType());
      org.junit.jupiter.api.Assertions.assertArrayEquals(model.weights().get(name).values(),
          dev.bitsweep.onnx.TensorValues.floats(tensor, dir.resolve("model.onnx"), dir), 0f, name);
    }
  }
}
