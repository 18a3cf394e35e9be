package dev.bitsweep.pipeline;

import static dev.bitsweep.ResultTables.query;
import static dev.bitsweep.ResultTables.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.bitsweep.Fixtures;
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
 * frames with the state carried through each sequence, for the original and each package separately. The reference
 * is an independent frame-by-frame ONNX Runtime loop written here.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamingGruSweepTest {
  private static final Path SET = Fixtures.repositoryRoot().resolve("calibration-data/streaming-gru");
  @TempDir static Path work;
  private SweepOutcome outcome;

  @BeforeAll
  void runTheExampleSpec() {
    outcome = new SweepRunner(System.out).run(SET.resolve("sweep.yaml"),
        Launch.embedded().withRunner("direct").withOut(work.resolve("out")));
  }

  @Test
  void agreementAndSnrEqualAFrameByFrameLoopWithCarriedState() throws Exception {
    List<Map<String, Object>> runs = query("SELECT * FROM " + table(outcome.out(), "runs") + " ORDER BY config_id");
    assertEquals(2, runs.size());
    float[][] original = outputs(SET.resolve("model.onnx"), true);
    for (Map<String, Object> run : runs) {
      assertEquals("ok", run.get("status"), run.toString());
      assertEquals(71, ((Number) run.get("eval_samples")).intValue());
      float[][] packaged = outputs(outcome.out().resolve("packages/" + run.get("config_id") + "/model.onnx"), true);
      assertEquals(agreement(original, packaged), (Double) run.get("agreement"), 0.0, run.toString());
      double snr = snr(original, packaged);
      assertEquals(snr, (Double) run.get("output_snr_db"), 1e-9, run.toString());
      float[][] zeroState = outputs(outcome.out().resolve("packages/" + run.get("config_id") + "/model.onnx"), false);
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
