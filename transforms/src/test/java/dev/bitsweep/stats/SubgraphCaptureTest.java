package dev.bitsweep.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.TestModels;
import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.layer.Layer;
import dev.bitsweep.layer.LayerFinder;
import dev.bitsweep.layer.WeightReader;
import dev.bitsweep.onnx.DataType;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.proto.Onnx;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 section 2: layer inputs of nodes inside If branches and a Loop body (itself inside an If branch). The
 * Hessians are checked against Σ xᵀx of the inputs recomputed here in plain Java from the model's weights: a branch
 * counts only on the samples where its condition held, the Loop body once per iteration (3), its Conv through the
 * 3x3 zero-padded patches of its state.
 */
class SubgraphCaptureTest {
  private static final String MODEL = "subgraphs/subgraph_calibration_opset13.onnx";
  private static final int SAMPLES = 10;

  @TempDir Path dir;

  @Test
  void plansCaptureSitesInsideBranchesAndLoopBodies() {
    OnnxModel model = OnnxModel.read(TestModels.model(MODEL));
    List<Layer> layers = LayerFinder.find(model.proto(), 0).layers();
    CapturePlan plan = CapturePlan.of(model.proto(), layers);
    Map<String, String> sites = plan.sites().entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
        e -> e.getValue().stream().map(s -> s.graphPath() + " " + s.kind() + " " + s.activation())
            .collect(Collectors.joining(", "))));
    assertEquals(Map.of(
        "then.a", "2:then_branch MATMUL x",
        "then.b", "2:then_branch MATMUL a2",
        "main.else.weight", "2:else_branch MATMUL x",
        "loop.w", "5:then_branch/0:body MATMUL s_in",
        "loop.conv.weight", "5:then_branch/0:body CONV img_in"), sites);
    assertEquals(Map.of(), plan.unsupported());
  }

  @Test
  void weightsWithoutAHessianSayWhatUsesThem() {
    OnnxModel model = OnnxModel.read(TestModels.model("subgraphs/nested_subgraphs_opset13.onnx"));
    CapturePlan plan = CapturePlan.of(model.proto(), LayerFinder.find(model.proto(), 0).layers());
    assertEquals("no MatMul, Gemm or Conv node takes it as its weight input (it is used by LSTM in subgraph "
        + "2:then_branch/3:else_branch); input Hessians exist only for the weights of those three ops",
        plan.unsupported().get("lstm.W"));
    assertEquals(Map.of("lstm.W", plan.unsupported().get("lstm.W"), "lstm.R", plan.unsupported().get("lstm.R")),
        plan.unsupported());
    assertEquals("2:else_branch", plan.sites().get("main.shared.weight").get(0).graphPath(),
        "a main-graph weight used only inside a branch is captured there");
    assertEquals("2:then_branch/0:body", plan.sites().get("loop.conv.weight").get(0).graphPath());
  }

  @Test
  void hessiansInsideBranchesAndLoopBodiesAreTheSumsOfTheirInputOuterProducts() throws Exception {
    OnnxModel model = OnnxModel.read(TestModels.model(MODEL));
    List<Layer> layers = LayerFinder.find(model.proto(), 0).layers();
    Map<String, float[]> w = new LinkedHashMap<>();
    layers.forEach(l -> w.put(l.name(), floats(WeightReader.tensor(model.proto(), l))));
    float[] x = new float[SAMPLES * 16];
    Random random = new Random(15);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextGaussian() + (i / 16 % 3 == 0 ? 0.4 : -0.3));
    }
    Path data = dir.resolve("data");
    Files.createDirectories(data);
    ActivationCaptureTest.writeNpy(data.resolve("x.npy"), "<f4", new long[] {SAMPLES, 16}, x);

    Map<String, double[]> expected = new LinkedHashMap<>();
    Map<String, Long> rows = new LinkedHashMap<>();
    for (String name : List.of("then.a", "then.b", "main.else.weight", "loop.w")) {
      expected.put(name, new double[16 * 16]);
      rows.put(name, 0L);
    }
    expected.put("loop.conv.weight", new double[9 * 9]);
    rows.put("loop.conv.weight", 0L);
    int thenCount = 0;
    int loopCount = 0;
    for (int n = 0; n < SAMPLES; n++) {
      float[] sample = java.util.Arrays.copyOfRange(x, n * 16, n * 16 + 16);
      float total = 0;
      for (float v : sample) {
        total += v;
      }
      if (total > 0) {
        thenCount++;
        add(expected.get("then.a"), sample, rows, "then.a");
        float[] hidden = matMul(sample, w.get("then.a"), 16, 16);
        for (int i = 0; i < hidden.length; i++) {
          hidden[i] = Math.max(0, hidden[i]);
        }
        add(expected.get("then.b"), hidden, rows, "then.b");
      } else {
        add(expected.get("main.else.weight"), sample, rows, "main.else.weight");
      }
      if (total > -1.5f) {
        loopCount++;
        float[] state = sample;
        float[] image = sample;
        for (int t = 0; t < 3; t++) {
          add(expected.get("loop.w"), state, rows, "loop.w");
          state = tanh(matMul(state, w.get("loop.w"), 16, 16));
          float[] conv = new float[16];
          for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 4; c++) {
              float[] patch = new float[9];
              for (int kr = 0; kr < 3; kr++) {
                for (int kc = 0; kc < 3; kc++) {
                  int rr = r + kr - 1;
                  int cc = c + kc - 1;
                  patch[kr * 3 + kc] = rr < 0 || rr > 3 || cc < 0 || cc > 3 ? 0f : image[rr * 4 + cc];
                  conv[r * 4 + c] += patch[kr * 3 + kc] * w.get("loop.conv.weight")[kr * 3 + kc];
                }
              }
              add(expected.get("loop.conv.weight"), patch, rows, "loop.conv.weight");
            }
          }
          image = tanh(conv);
        }
      }
    }
    assertTrue(thenCount > 0 && thenCount < SAMPLES, "both branches run: " + thenCount);
    assertTrue(loopCount > 0 && loopCount < SAMPLES, "the loop runs on some samples only: " + loopCount);
    assertEquals(3L * loopCount * 16, rows.get("loop.conv.weight"));

    CapturePlan plan = CapturePlan.of(model.proto(), layers);
    Dataset dataset = Dataset.open(data, ModelInput.of(model.proto()), false);
    Map<String, LayerStatistics> statistics;
    try (ActivationCapture capture = ActivationCapture.open(model, layers, plan)) {
      statistics = capture.run(dataset, 0, dataset.samples());
    }
    for (Map.Entry<String, double[]> e : expected.entrySet()) {
      LayerStatistics actual = statistics.get(e.getKey());
      assertEquals(rows.get(e.getKey()), actual.rows(), e.getKey() + " rows");
      double[] want = e.getValue();
      for (int i = 0; i < want.length; i++) {
        assertEquals(want[i], actual.hessian()[i], 1e-4 * (1 + Math.abs(want[i])), e.getKey() + " H entry " + i);
      }
    }
  }

  /** A Scan over 3 steps of [16] with a MatMul in its body: H = Σ over samples and steps of x_t x_tᵀ. */
  @Test
  void scanBodyHessianSumsEveryStep() throws Exception {
    int steps = 3;
    Onnx.GraphProto body = Onnx.GraphProto.newBuilder().setName("scan_body")
        .addInput(ActivationCaptureTest.valueInfo("state_in", DataType.FLOAT, 8))
        .addInput(ActivationCaptureTest.valueInfo("x_t", DataType.FLOAT, 16))
        .addNode(ActivationCaptureTest.node("MatMul", List.of("x_t", "scan.w"), "step"))
        .addNode(ActivationCaptureTest.node("Add", List.of("state_in", "step"), "state_out"))
        .addNode(ActivationCaptureTest.node("Identity", List.of("step"), "step_out"))
        .addOutput(ActivationCaptureTest.valueInfo("state_out", DataType.FLOAT, 8))
        .addOutput(ActivationCaptureTest.valueInfo("step_out", DataType.FLOAT, 8))
        .build();
    Onnx.NodeProto scan = Onnx.NodeProto.newBuilder().setOpType("Scan").addInput("zeros").addInput("xs")
        .addOutput("total").addOutput("each")
        .addAttribute(Onnx.AttributeProto.newBuilder().setName("body").setType(Onnx.AttributeProto.AttributeType.GRAPH)
            .setG(body))
        .addAttribute(Onnx.AttributeProto.newBuilder().setName("num_scan_inputs")
            .setType(Onnx.AttributeProto.AttributeType.INT).setI(1))
        .addAttribute(Onnx.AttributeProto.newBuilder().setName("scan_output_axes")
            .setType(Onnx.AttributeProto.AttributeType.INTS).addInts(0))
        .build();
    Onnx.GraphProto graph = Onnx.GraphProto.newBuilder().setName("scan")
        .addInput(ActivationCaptureTest.valueInfo("x", DataType.FLOAT, 1, steps, 16))
        .addInitializer(ActivationCaptureTest.tensor("zeros", new long[] {8}, new float[8]))
        .addInitializer(ActivationCaptureTest.tensor("scan.w", new long[] {16, 8},
            ActivationCaptureTest.gaussian(128, 4)))
        .addInitializer(Onnx.TensorProto.newBuilder().setName("sequence_shape").setDataType(DataType.INT64)
            .addDims(2).addInt64Data(steps).addInt64Data(16))
        .addNode(ActivationCaptureTest.node("Reshape", List.of("x", "sequence_shape"), "xs"))
        .addNode(scan)
        .addOutput(ActivationCaptureTest.valueInfo("total", DataType.FLOAT, 8))
        .addOutput(ActivationCaptureTest.valueInfo("each", DataType.FLOAT, steps, 8))
        .build();
    Path file = dir.resolve("scan.onnx");
    Files.write(file, ActivationCaptureTest.model(graph).toByteArray());
    OnnxModel model = OnnxModel.read(file);
    List<Layer> layers = LayerFinder.find(model.proto(), 0).layers();
    CapturePlan plan = CapturePlan.of(model.proto(), layers);
    assertEquals("1:body", plan.sites().get("scan.w").get(0).graphPath());

    int samples = 4;
    float[] x = ActivationCaptureTest.gaussian(samples * steps * 16, 5);
    Path data = Files.createDirectories(dir.resolve("scan-data"));
    ActivationCaptureTest.writeNpy(data.resolve("x.npy"), "<f4", new long[] {samples, steps, 16}, x);
    double[] expected = new double[16 * 16];
    Map<String, Long> rows = new LinkedHashMap<>();
    for (int t = 0; t < samples * steps; t++) {
      add(expected, java.util.Arrays.copyOfRange(x, t * 16, t * 16 + 16), rows, "scan.w");
    }
    Dataset dataset = Dataset.open(data, ModelInput.of(model.proto()), false);
    LayerStatistics statistics;
    try (ActivationCapture capture = ActivationCapture.open(model, layers, plan)) {
      statistics = capture.run(dataset, 0, dataset.samples()).get("scan.w");
    }
    assertEquals(samples * steps, statistics.rows());
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], statistics.hessian()[i], 1e-9 * (1 + Math.abs(expected[i])), "H entry " + i);
    }
  }

  private static void add(double[] hessian, float[] row, Map<String, Long> rows, String layer) {
    int dim = row.length;
    for (int i = 0; i < dim; i++) {
      for (int j = 0; j < dim; j++) {
        hessian[i * dim + j] += (double) row[i] * row[j];
      }
    }
    rows.merge(layer, 1L, Long::sum);
  }

  /** x [in] times w [in, out] (row-major). */
  private static float[] matMul(float[] x, float[] w, int in, int out) {
    float[] y = new float[out];
    for (int o = 0; o < out; o++) {
      double sum = 0;
      for (int i = 0; i < in; i++) {
        sum += (double) x[i] * w[i * out + o];
      }
      y[o] = (float) sum;
    }
    return y;
  }

  private static float[] tanh(float[] x) {
    float[] y = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      y[i] = (float) Math.tanh(x[i]);
    }
    return y;
  }

  private static float[] floats(Onnx.TensorProto tensor) {
    float[] values = new float[tensor.getRawData().size() / 4];
    tensor.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
    return values;
  }
}
