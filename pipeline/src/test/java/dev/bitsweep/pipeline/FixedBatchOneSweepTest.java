package dev.bitsweep.pipeline;

import static dev.bitsweep.ResultTables.query;
import static dev.bitsweep.ResultTables.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.bitsweep.Fixtures;
import dev.bitsweep.cluster.Launch;
import dev.bitsweep.data.NpyArray;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.onnx.proto.Onnx;
import dev.bitsweep.spec.SpecException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 section 6: a model with a fixed batch of 1 (x [1, 12], tools/fixtures/make_input_layout_models.py).
 * Evaluation fans out batches of batch_size samples, each task running the session once per sample inside, not one
 * task per sample; the metrics equal a plain ONNX Runtime loop over single samples.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FixedBatchOneSweepTest {
  private static final Path SET = Fixtures.resource("input-layouts/batch1");
  private static final int SAMPLES = 20;
  @TempDir static Path work;
  private SweepOutcome outcome;
  private PlannedSweep planned;
  private String console;

  @BeforeAll
  void sweep() throws Exception {
    Path spec = spec(SET.resolve("model.onnx"), 8);
    planned = SweepPlanner.plan(spec, work.resolve("out"));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    outcome = new SweepRunner(new PrintStream(bytes, true, StandardCharsets.UTF_8)).run(spec,
        Launch.embedded().withRunner("direct").withOut(work.resolve("out")));
    console = bytes.toString(StandardCharsets.UTF_8);
  }

  private static Path spec(Path model, int batchSize) throws Exception {
    Path spec = Files.createTempFile(work, "spec", ".yaml");
    Files.writeString(spec, "name: batch1\nmodel: " + model + "\ntask: classification\neval_data: "
        + SET.resolve("eval") + "\nbatch_size: " + batchSize + "\nweight_threshold: 64\nconfigs:\n"
        + "  - {id: int8, method: linear_quantize, mode: linear_symmetric, dtype: int8, granularity: per_channel}\n"
        + "  - {id: k2, method: palettize, mode: kmeans, nbits: 2, granularity: per_tensor}\n");
    return spec;
  }

  @Test
  void evaluationTasksAreBatchesOfSamplesNotSingleSamples() {
    assertEquals(3, planned.plan().batchCount(), "20 samples in batches of 8, not 20 tasks of 1");
    assertEquals(List.of(0, 8, 8, 16, 16, 20), List.of(planned.plan().batchStart(0), planned.plan().batchEnd(0),
        planned.plan().batchStart(1), planned.plan().batchEnd(1), planned.plan().batchStart(2),
        planned.plan().batchEnd(2)));
    assertEquals(6, planned.totals().evaluateBatches(), "2 configs x 3 batches");
    assertTrue(console.contains("evaluated 6/6 batches"), console);
  }

  @Test
  void metricsEqualAPlainLoopOverSingleSamples() throws Exception {
    long[] labels = NpyArray.read(SET.resolve("eval/labels.npy")).longs(0, SAMPLES);
    float[][] original = logits(SET.resolve("model.onnx"));
    int baselineCorrect = 0;
    for (int s = 0; s < SAMPLES; s++) {
      baselineCorrect += argmax(original[s]) == labels[s] ? 1 : 0;
    }
    List<Map<String, Object>> runs = query("SELECT * FROM " + table(outcome.out(), "runs") + " ORDER BY config_id");
    assertEquals(2, runs.size());
    for (Map<String, Object> run : runs) {
      assertEquals("ok", run.get("status"), run.toString());
      assertEquals(SAMPLES, ((Number) run.get("eval_samples")).intValue());
      float[][] packaged = logits(outcome.out().resolve((String) run.get("package_path")));
      int correct = 0;
      int agree = 0;
      double signal = 0;
      double noise = 0;
      for (int s = 0; s < SAMPLES; s++) {
        correct += argmax(packaged[s]) == labels[s] ? 1 : 0;
        agree += argmax(packaged[s]) == argmax(original[s]) ? 1 : 0;
        for (int k = 0; k < 5; k++) {
          signal += (double) original[s][k] * original[s][k];
          double d = (double) original[s][k] - packaged[s][k];
          noise += d * d;
        }
      }
      assertEquals((double) baselineCorrect / SAMPLES, (Double) run.get("baseline_accuracy"), 0.0, run.toString());
      assertEquals((double) correct / SAMPLES, (Double) run.get("accuracy"), 0.0, run.toString());
      assertEquals((double) agree / SAMPLES, (Double) run.get("agreement"), 0.0, run.toString());
      assertEquals(10 * Math.log10(signal / noise), (Double) run.get("output_snr_db"), 1e-9, run.toString());
    }
  }

  @Test
  void aFixedBatchThatDoesNotDivideBatchSizeIsAnError() throws Exception {
    Onnx.ModelProto proto = OnnxModel.read(SET.resolve("model.onnx")).proto();
    Onnx.GraphProto.Builder graph = proto.getGraph().toBuilder();
    graph.getInputBuilder(0).getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(0).setDimValue(4);
    graph.getOutputBuilder(0).getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(0)
        .setDimValue(4);
    Path model = work.resolve("batch4.onnx");
    Files.write(model, proto.toBuilder().setGraph(graph).build().toByteArray());
    Path spec = spec(model, 6);
    SpecException e = assertThrows(SpecException.class, () -> SweepPlanner.plan(spec, work.resolve("out4")));
    assertEquals(spec + ": model input 'x' fixes its batch at 4 (axis 0), so every run takes exactly 4 samples: "
        + "batch_size (6) and eval_samples (20 used of " + SET.resolve("eval") + ") must be multiples of 4; change "
        + "them, or export the model with a symbolic batch", e.getMessage());
  }

  /** The logits of every eval sample, one run per sample as the model requires. */
  private static float[][] logits(Path model) throws Exception {
    float[] x = NpyArray.read(SET.resolve("eval/x.npy")).floats(0, SAMPLES);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    float[][] out = new float[SAMPLES][];
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    options.setIntraOpNumThreads(1);
    options.addConfigEntry("session.disable_quant_qdq", "1");
    try (OrtSession session = env.createSession(model.toString(), options)) {
      for (int s = 0; s < SAMPLES; s++) {
        float[] row = new float[12];
        System.arraycopy(x, s * 12, row, 0, 12);
        try (OnnxTensor xt = OnnxTensor.createTensor(env, FloatBuffer.wrap(row), new long[] {1, 12});
            OrtSession.Result result = session.run(Map.of("x", xt))) {
          out[s] = ((float[][]) result.get(0).getValue())[0];
        }
      }
    }
    return out;
  }

  private static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }
}
