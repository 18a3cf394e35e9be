package dev.bitsweep.pipeline;

import static dev.bitsweep.ResultTables.query;
import static dev.bitsweep.ResultTables.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.bitsweep.Fixtures;
import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.cluster.Launch;
import dev.bitsweep.data.NpyArray;
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
 * A scalar input given as a {@code value} and an input with its batch on model axis 1 ({@code batch_axis}), through
 * every path that runs the model: the evaluation check, calibration capture (GPTQ statistics) and evaluation. The
 * model (tools/fixtures/make_input_layout_models.py) is y = (x * sr / 16000 + c[0] + c[1]) @ W with x [batch, 4],
 * c [2, batch, 4] and sr int64 []; the references here are numpy files read by hand and a plain ONNX Runtime loop
 * that transposes c itself.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InputLayoutSweepTest {
  private static final Path SET = Fixtures.resource("input-layouts/layout");
  private static final long SR = 8000;
  @TempDir static Path work;
  private SweepOutcome outcome;
  private PlannedSweep planned;
  private String console;

  @BeforeAll
  void sweep() throws Exception {
    Path spec = spec(SR);
    planned = SweepPlanner.plan(spec, work.resolve("out"));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    outcome = new SweepRunner(new PrintStream(bytes, true, StandardCharsets.UTF_8)).run(spec,
        Launch.embedded().withRunner("direct").withOut(work.resolve("out")));
    console = bytes.toString(StandardCharsets.UTF_8);
  }

  private static Path spec(long sr) throws Exception {
    Path spec = work.resolve("spec-" + sr + ".yaml");
    Files.writeString(spec, "name: layout\nmodel: " + SET.resolve("model.onnx") + "\ntask: agreement\neval_data: "
        + SET.resolve("eval") + "\ncalibration_data: " + SET.resolve("calib") + "\nbatch_size: 4\n"
        + "weight_threshold: 16\ninputs:\n  sr: {value: " + sr + "}\n  c: {batch_axis: 1}\nconfigs:\n"
        + "  - {id: gptq4, method: gptq, nbits: 4}\n"
        + "  - {id: int8, method: linear_quantize, mode: linear_symmetric, dtype: int8, granularity: per_channel}\n");
    return spec;
  }

  @Test
  void calibrationStatisticsAreTheInputsAsLaidOut() {
    CalibrationPlan calibration = planned.calibration().orElseThrow();
    assertEquals(3, calibration.batchCount(), "12 calibration samples in batches of 4");
    assertEquals(3, outcome.calibrationBatches());
    assertStatistics(calibration, SR);
  }

  /**
   * Another value changes the activations and outputs: a sweep with sr 16000 into the same output directory gets
   * its own statistics and original outputs, not the ones cached by the sr 8000 sweep.
   */
  @Test
  void anotherValueIsAnotherSweepWithItsOwnCaches() throws Exception {
    Path spec = spec(16000);
    PlannedSweep other = SweepPlanner.plan(spec, work.resolve("out"));
    SweepOutcome second = new SweepRunner(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))
        .run(spec, Launch.embedded().withRunner("direct").withOut(work.resolve("out")));
    assertTrue(!other.sweepId().equals(planned.sweepId()), other.sweepId());
    assertTrue(!other.calibration().orElseThrow().cacheDir().equals(planned.calibration().orElseThrow().cacheDir()));
    assertEquals(3, second.calibrationBatches(), "statistics computed, not read from the sr 8000 cache");
    assertStatistics(other.calibration().orElseThrow(), 16000);
    assertSnrs(second, 16000);
  }

  private static void assertStatistics(CalibrationPlan calibration, long sr) {
    float[] x = NpyArray.read(SET.resolve("calib/x.npy")).floats(0, 12);
    float[] c = NpyArray.read(SET.resolve("calib/c.npy")).floats(0, 12);
    float scale = (float) sr / 16000f;
    double[] expected = new double[16];
    for (int s = 0; s < 12; s++) {
      float[] a = new float[4];
      for (int i = 0; i < 4; i++) {
        // c.npy is [N, 2, 4]: sample s's c[0] and c[1] (the model's axis 0) are its two rows
        a[i] = x[s * 4 + i] * scale + (c[(s * 2) * 4 + i] + c[(s * 2 + 1) * 4 + i]);
      }
      for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) {
          expected[i * 4 + j] += (double) a[i] * a[j];
        }
      }
    }
    LayerStatistics statistics = StatisticsCache.read(Path.of(calibration.cacheDir()), "proj.weight");
    assertEquals(12, statistics.rows());
    for (int k = 0; k < 16; k++) {
      assertEquals(expected[k], statistics.hessian()[k], 1e-12 * Math.abs(expected[k]) + 1e-15, "H[" + k + "]");
    }
  }

  @Test
  void evaluationEqualsAPlainLoopThatTransposesTheInputItself() throws Exception {
    assertEquals(3, planned.plan().batchCount(), "10 samples in batches of 4");
    assertTrue(console.contains("evaluated 6/6 batches"), console);
    assertSnrs(outcome, SR);
  }

  private static void assertSnrs(SweepOutcome outcome, long sr) throws Exception {
    List<Map<String, Object>> runs = query("SELECT * FROM " + table(outcome.out(), "runs") + " WHERE sweep_id = '"
        + outcome.sweepId() + "' ORDER BY config_id");
    assertEquals(2, runs.size());
    float[] original = outputs(SET.resolve("model.onnx"), sr);
    for (Map<String, Object> run : runs) {
      assertEquals("ok", run.get("status"), run.toString());
      assertEquals(10, ((Number) run.get("eval_samples")).intValue());
      float[] packaged = outputs(outcome.out().resolve((String) run.get("package_path")), sr);
      double signal = 0;
      double noise = 0;
      for (int i = 0; i < original.length; i++) {
        signal += (double) original[i] * original[i];
        noise += ((double) original[i] - packaged[i]) * ((double) original[i] - packaged[i]);
      }
      assertEquals(10 * Math.log10(signal / noise), (Double) run.get("output_snr_db"), 1e-9, run.toString());
    }
  }

  /** y of the 10 eval samples, run in the sweep's batches of 4: c transposed from [N, 2, 4] to [2, n, 4] here. */
  private static float[] outputs(Path model, long srValue) throws Exception {
    float[] x = NpyArray.read(SET.resolve("eval/x.npy")).floats(0, 10);
    float[] c = NpyArray.read(SET.resolve("eval/c.npy")).floats(0, 10);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    float[] y = new float[10 * 8];
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    options.setIntraOpNumThreads(1);
    options.addConfigEntry("session.disable_quant_qdq", "1");
    try (OrtSession session = env.createSession(model.toString(), options);
        OnnxTensor sr = OnnxTensor.createTensor(env, srValue)) {
      for (int from = 0; from < 10; from += 4) {
        int n = Math.min(10, from + 4) - from;
        float[] xs = new float[n * 4];
        System.arraycopy(x, from * 4, xs, 0, n * 4);
        float[] cs = new float[2 * n * 4];
        for (int s = 0; s < n; s++) {
          for (int row = 0; row < 2; row++) {
            System.arraycopy(c, ((from + s) * 2 + row) * 4, cs, (row * n + s) * 4, 4);
          }
        }
        try (OnnxTensor xt = OnnxTensor.createTensor(env, FloatBuffer.wrap(xs), new long[] {n, 4});
            OnnxTensor ct = OnnxTensor.createTensor(env, FloatBuffer.wrap(cs), new long[] {2, n, 4});
            OrtSession.Result result = session.run(Map.of("x", xt, "c", ct, "sr", sr))) {
          FloatBuffer out = ((OnnxTensor) result.get("y").orElseThrow()).getFloatBuffer();
          out.get(y, from * 8, n * 8);
        }
      }
    }
    return y;
  }
}
