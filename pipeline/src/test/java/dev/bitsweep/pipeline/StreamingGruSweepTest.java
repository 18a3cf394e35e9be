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
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example spec of the streaming GRU (calibration-data/streaming-gru/sweep.yaml) as it is: scored on ordered
 * frames with the state carried through each sequence, for the original and each package separately, and its GPTQ
 * config calibrated on calibration sequences with the state carried the same way. The reference is an independent
 * frame-by-frame ONNX Runtime loop written here.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamingGruSweepTest {
  private static final Path SET = Fixtures.repositoryRoot().resolve("calibration-data/streaming-gru");
  @TempDir static Path work;
  private SweepOutcome outcome;
  private PlannedSweep planned;
  private String console;

  @BeforeAll
  void runTheExampleSpec() {
    planned = SweepPlanner.plan(SET.resolve("sweep.yaml"), work.resolve("out"));
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    outcome = new SweepRunner(new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8))
        .run(SET.resolve("sweep.yaml"), Launch.embedded().withRunner("direct").withOut(work.resolve("out")));
    console = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
  }

  @Test
  void sequencesAreTheUnitOfFanOutInEvaluationAndCalibration() {
    assertEquals(List.of(0, 21, 21, 46, 46, 71), List.of(planned.plan().batchStart(0), planned.plan().batchEnd(0),
        planned.plan().batchStart(1), planned.plan().batchEnd(1), planned.plan().batchStart(2),
        planned.plan().batchEnd(2)), "6 sequences of 12, 9, 15, 10, 14, 11 frames, 2 per task");
    assertTrue(console.contains("evaluated 9/9 batches"), console);
    CalibrationPlan calibration = planned.calibration().orElseThrow();
    assertEquals(List.of(0, 23, 23, 43), List.of(calibration.batchStart(0), calibration.batchEnd(0),
        calibration.batchStart(1), calibration.batchEnd(1)), "4 sequences of 10, 13, 8, 12 frames, 2 per batch");
    assertEquals(2, outcome.calibrationBatches());
  }

  /** The head's input is the second GRU's state: its Hessian is only right with the state carried frame to frame. */
  @Test
  void headHessianIsCapturedWithTheStateCarried() throws Exception {
    double[] carried = headHessian(true);
    double[] fromZero = headHessian(false);
    LayerStatistics statistics = StatisticsCache.read(Path.of(planned.calibration().orElseThrow().cacheDir()),
        "head.weight");
    assertEquals(43, statistics.rows());
    double largest = 0;
    double apart = 0;
    for (int k = 0; k < carried.length; k++) {
      largest = Math.max(largest, Math.abs(carried[k]));
      apart = Math.max(apart, Math.abs(carried[k] - fromZero[k]));
    }
    for (int k = 0; k < carried.length; k++) {
      assertEquals(carried[k], statistics.hessian()[k], 1e-6 * largest, "H[" + k + "]");
    }
    assertTrue(apart > 1e-2 * largest, "zero state would give another Hessian: " + apart + " vs " + largest);
  }

  /** Σ h2 h2ᵀ over the calibration frames, h2 = the second GRU layer's output state (h_out[1]) of each frame. */
  private static double[] headHessian(boolean carry) throws Exception {
    NpyArray x = NpyArray.read(SET.resolve("calib/x.npy"));
    long[] ids = NpyArray.read(SET.resolve("calib/sequence_ids.npy")).longs(0, 43);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    double[] hessian = new double[32 * 32];
    OrtSession.SessionOptions options = new OrtSession.SessionOptions(); // what the capture session uses
    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.BASIC_OPT);
    options.setIntraOpNumThreads(1);
    try (OrtSession session = env.createSession(SET.resolve("model.onnx").toString(), options);
        OnnxTensor sr = OnnxTensor.createTensor(env, 16000L)) {
      float[] h = new float[2 * 32];
      for (int t = 0; t < 43; t++) {
        if (!carry || t == 0 || ids[t] != ids[t - 1]) {
          h = new float[2 * 32];
        }
        try (OnnxTensor frame = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.floats(t, t + 1)), new long[] {1, 16});
            OnnxTensor state = OnnxTensor.createTensor(env, FloatBuffer.wrap(h), new long[] {2, 1, 32});
            OrtSession.Result result = session.run(Map.of("x", frame, "h", state, "sr", sr))) {
          float[][][] next = (float[][][]) result.get("h_out").orElseThrow().getValue();
          h = new float[2 * 32];
          for (int layer = 0; layer < 2; layer++) {
            System.arraycopy(next[layer][0], 0, h, layer * 32, 32);
          }
          for (int i = 0; i < 32; i++) {
            for (int j = 0; j < 32; j++) {
              hessian[i * 32 + j] += (double) next[1][0][i] * next[1][0][j];
            }
          }
        }
      }
    }
    return hessian;
  }

  @Test
  void agreementAndSnrEqualAFrameByFrameLoopWithCarriedState() throws Exception {
    List<Map<String, Object>> runs = query("SELECT * FROM " + table(outcome.out(), "runs") + " ORDER BY config_id");
    assertEquals(3, runs.size());
    float[][] original = outputs(SET.resolve("model.onnx"), true);
    for (Map<String, Object> run : runs) {
      assertEquals("ok", run.get("status"), run.toString());
      assertEquals(71, ((Number) run.get("eval_samples")).intValue());
      float[][] packaged = outputs(outcome.out().resolve((String) run.get("package_path")), true);
      assertEquals(agreement(original, packaged), (Double) run.get("agreement"), 0.0, run.toString());
      double snr = snr(original, packaged);
      assertEquals(snr, (Double) run.get("output_snr_db"), 1e-9, run.toString());
      float[][] zeroState = outputs(outcome.out().resolve((String) run.get("package_path")), false);
      float[][] originalZero = outputs(SET.resolve("model.onnx"), false);
      assertTrue(Math.abs(snr(originalZero, zeroState) - snr) > 1e-3,
          "scoring every frame from zero state measures a different model: " + snr(originalZero, zeroState) + " vs " + snr);
    }
  }

  /** The y of every frame; with carry, h_out of frame t is h of frame t+1 within a sequence, zeros at its start. */
  private static float[][] outputs(Path model, boolean carry) throws Exception {
    NpyArray x = NpyArray.read(SET.resolve("eval/x.npy"));
    long[] ids = NpyArray.read(SET.resolve("eval/sequence_ids.npy")).longs(0, 71);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    float[][] ys = new float[71][];
    OrtSession.SessionOptions options = new OrtSession.SessionOptions(); // the settings the runs row records
    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    options.setIntraOpNumThreads(1);
    options.addConfigEntry("session.disable_quant_qdq", "1");
    try (OrtSession session = env.createSession(model.toString(), options);
        OnnxTensor sr = OnnxTensor.createTensor(env, 16000L)) {
      float[] h = new float[2 * 32];
      for (int t = 0; t < 71; t++) {
        if (!carry || t == 0 || ids[t] != ids[t - 1]) {
          h = new float[2 * 32];
        }
        try (OnnxTensor frame = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.floats(t, t + 1)), new long[] {1, 16});
            OnnxTensor state = OnnxTensor.createTensor(env, FloatBuffer.wrap(h), new long[] {2, 1, 32});
            OrtSession.Result result = session.run(Map.of("x", frame, "h", state, "sr", sr))) {
          ys[t] = ((float[][]) result.get("y").orElseThrow().getValue())[0];
          float[][][] next = (float[][][]) result.get("h_out").orElseThrow().getValue();
          h = new float[2 * 32];
          for (int layer = 0; layer < 2; layer++) {
            System.arraycopy(next[layer][0], 0, h, layer * 32, 32);
          }
        }
      }
    }
    return ys;
  }

  private static double agreement(float[][] a, float[][] b) {
    int same = 0;
    for (int t = 0; t < a.length; t++) {
      same += argmax(a[t]) == argmax(b[t]) ? 1 : 0;
    }
    return (double) same / a.length;
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

  private static double snr(float[][] a, float[][] b) {
    double signal = 0;
    double noise = 0;
    for (int t = 0; t < a.length; t++) {
      for (int i = 0; i < a[t].length; i++) {
        signal += (double) a[t][i] * a[t][i];
        double d = (double) a[t][i] - b[t][i];
        noise += d * d;
      }
    }
    return 10 * Math.log10(signal / noise);
  }
}
