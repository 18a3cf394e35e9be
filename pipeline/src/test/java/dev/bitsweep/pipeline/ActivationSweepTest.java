package dev.bitsweep.pipeline;

import static dev.bitsweep.ResultTables.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import dev.bitsweep.cluster.Launch;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.eval.ModelRunner.Output;
import dev.bitsweep.eval.metrics.SessionSettings;
import dev.bitsweep.onnx.OnnxModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * W8A8 on fashion-mnist through the whole sweep (DirectRunner), read back with DuckDB: weight-only int8 beside
 * int8 weights + int8 activations (minmax) and activations alone. Activation rows are measured with ORT's QDQ fusion
 * and report the unfused accuracy too; the accuracy stays within 1 point of fp32; and running a package with ONNX
 * Runtime outside the sweep gives the row's accuracy exactly.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ActivationSweepTest {
  private static final Path DATA = Fixtures.repositoryRoot().resolve("calibration-data/fashion-mnist");
  private static final String WEIGHTS = "linear_quantize-linear_symmetric-int8-per_channel";
  private static final String W8A8 = WEIGHTS + "+activations-int8-minmax";
  private static final String A8 = "activations-int8-minmax";

  @TempDir static Path work;
  private SweepOutcome outcome;
  private Map<String, Map<String, Object>> rows;

  @BeforeAll
  void runTheSweep() throws Exception {
    Path spec = work.resolve("w8a8.yaml");
    Files.writeString(spec, String.join("\n",
        "name: fashion-w8a8-test",
        "model: " + DATA.resolve("model.onnx"),
        "task: {name: classification, output: logits}",
        "eval_data: " + DATA.resolve("eval"),
        "calibration_data: " + DATA.resolve("calibration"),
        "batch_size: 250",
        "weight_threshold: 0",
        "configs:",
        "  - {method: linear_quantize, mode: linear_symmetric, dtype: int8, granularity: per_channel}",
        "  - {method: linear_quantize, mode: linear_symmetric, dtype: int8, granularity: per_channel,",
        "     activations: {dtype: int8, calibration: minmax}}",
        "  - {activations: {calibration: minmax}}",
        ""));
    outcome = new SweepRunner(System.out).run(spec, Launch.embedded().withRunner("direct").withOut(work.resolve("out")));
    rows = new HashMap<>();
    for (Map<String, Object> row : query("SELECT * FROM read_parquet('" + work.resolve("out/runs")
        + "/*/*.parquet', hive_partitioning = true)")) {
      rows.put((String) row.get("config_id"), row);
    }
  }

  @Test
  void everyConfigHasARowWithTheSessionSettingsItWasMeasuredWith() {
    assertEquals(Set.of(WEIGHTS, W8A8, A8), rows.keySet());
    rows.values().forEach(row -> assertEquals("ok", row.get("status"), row.toString()));
    assertEquals(SessionSettings.QDQ_DISABLED.text(), rows.get(WEIGHTS).get("runtime_settings"));
    assertTrue(((String) rows.get(WEIGHTS).get("runtime_settings")).contains("session.disable_quant_qdq=1"));
    assertEquals(SessionSettings.QDQ_FUSED.text(), rows.get(W8A8).get("runtime_settings"));
    assertEquals(SessionSettings.QDQ_FUSED.text(), rows.get(A8).get("runtime_settings"));
    assertNull(rows.get(WEIGHTS).get("headline_metric_unfused"), "weight-only rows run one way only");
    assertNotNull(rows.get(W8A8).get("headline_metric_unfused"));
    assertEquals("accuracy", rows.get(W8A8).get("headline_metric"));
    assertEquals("activations", rows.get(A8).get("method"));
    assertEquals(0, rows.get(A8).get("layers_compressed"));
    assertTrue(((String) rows.get(W8A8).get("config_json")).contains("\"activations\":{\"dtype\":\"int8\","
        + "\"calibration\":\"minmax\""), (String) rows.get(W8A8).get("config_json"));
    assertEquals(2, outcome.calibrationBatches(), "256 calibration images in batches of 250");
  }

  @Test
  void w8a8StaysWithinOnePointOfFp32() {
    double fp32 = (Double) rows.get(W8A8).get("baseline_accuracy");
    assertEquals(913 / 1000.0, fp32, 1e-12, "fp32 top-1 of the fixture (calibration-data/README.md)");
    for (String config : List.of(WEIGHTS, W8A8, A8)) {
      double accuracy = (Double) rows.get(config).get("accuracy");
      assertTrue(Math.abs(accuracy - fp32) <= 0.01, config + ": " + accuracy + " vs fp32 " + fp32);
      assertNotNull(rows.get(config).get("top5_accuracy"), config);
    }
  }

  @Test
  void thePackageRunWithOrtReproducesTheRow() throws Exception {
    for (String config : List.of(W8A8, A8)) {
      Map<String, Object> row = rows.get(config);
      Path packageFile = work.resolve("out").resolve((String) row.get("package_path"));
      assertEquals(row.get("accuracy"), accuracy(packageFile, SessionSettings.QDQ_FUSED), config);
      assertEquals(row.get("headline_metric_unfused"), accuracy(packageFile, SessionSettings.QDQ_DISABLED), config);
    }
    Path weightOnly = work.resolve("out").resolve((String) rows.get(WEIGHTS).get("package_path"));
    assertEquals(rows.get(WEIGHTS).get("accuracy"), accuracy(weightOnly, SessionSettings.QDQ_DISABLED));
  }

  /** Top-1 accuracy of a model file over the eval set, computed here from ORT's logits and labels.npy. */
  private static double accuracy(Path modelFile, SessionSettings settings) {
    List<ModelInput> inputs = ModelInput.of(OnnxModel.read(DATA.resolve("model.onnx")).proto());
    Dataset eval = Dataset.open(DATA.resolve("eval"), inputs, true);
    long[] labels = eval.labels().orElseThrow().longs(0, eval.samples());
    Output logits;
    try (ModelRunner runner = ModelRunner.open(modelFile, inputs, Set.of("logits"), settings, 1)) {
      logits = runner.runAll(eval, 0, eval.samples()).get("logits");
    }
    int classes = (int) logits.shape()[1];
    int correct = 0;
    for (int s = 0; s < eval.samples(); s++) {
      int best = 0;
      for (int c = 1; c < classes; c++) {
        if (logits.values()[s * classes + c] > logits.values()[s * classes + best]) {
          best = c;
        }
      }
      correct += best == labels[s] ? 1 : 0;
    }
    return (double) correct / eval.samples();
  }
}
