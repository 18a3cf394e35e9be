package dev.bitsweep.pipeline;

import static dev.bitsweep.ResultTables.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.bitsweep.Fixtures;
import dev.bitsweep.cluster.Launch;
import dev.bitsweep.eval.metrics.SessionSettings;
import dev.bitsweep.spec.YamlNode;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ctc and binary example specs as they are (DirectRunner), read back with DuckDB: every row's baseline metrics
 * (the fp32 model through the sweep's metric) equal the values the fixture scripts computed independently with
 * NumPy/sklearn and wrote into the manifests, and the activation rows carry their fused and unfused figures.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TaskSweepTest {
  private static final Path DATA = Fixtures.repositoryRoot().resolve("calibration-data");

  @TempDir static Path work;
  private Map<String, Map<String, Object>> lines;
  private Map<String, Map<String, Object>> cancer;

  @BeforeAll
  void runTheExampleSpecs() throws Exception {
    lines = run(DATA.resolve("digit-lines/sweep.yaml"), work.resolve("lines"));
    cancer = run(DATA.resolve("breast-cancer/sweep.yaml"), work.resolve("cancer"));
  }

  private static Map<String, Map<String, Object>> run(Path spec, Path out) throws Exception {
    new SweepRunner(System.out).run(spec, Launch.embedded().withRunner("direct").withOut(out));
    Map<String, Map<String, Object>> rows = new HashMap<>();
    for (Map<String, Object> row : query("SELECT * FROM read_parquet('" + out.resolve("runs")
        + "/*/*.parquet', hive_partitioning = true)")) {
      rows.put((String) row.get("config_id"), row);
    }
    return rows;
  }

  private static Map<String, YamlNode> expected(String set) {
    return YamlNode.read(DATA.resolve(set).resolve("manifest.yaml")).map().get("task").map();
  }

  private static double number(Map<String, YamlNode> fields, String key) {
    return Double.parseDouble(fields.get(key).text());
  }

  @Test
  void ctcRowsHaveTheManifestsExactLinesAndCer() {
    Map<String, YamlNode> task = expected("digit-lines");
    assertEquals(6, lines.size(), lines.keySet().toString());
    for (Map<String, Object> row : lines.values()) {
      assertEquals("ok", row.get("status"), row.toString());
      assertEquals("ctc", row.get("task"));
      assertEquals(number(task, "expected_exact_accuracy"), (Double) row.get("baseline_sequence_accuracy"), 0.0);
      assertEquals(number(task, "expected_edits") / number(task, "expected_reference_chars"),
          (Double) row.get("baseline_cer"), 0.0);
      assertEquals(number(task, "expected_cer"), (Double) row.get("baseline_cer"), 1e-15);
      assertNotNull(row.get("sequence_accuracy"));
      assertNotNull(row.get("cer"));
      assertNotNull(row.get("agreement"), "sequence agreement with the original");
      assertEquals("sequence_accuracy", row.get("headline_metric"));
    }
    Map<String, Object> a8 = lines.get("activations-int8-minmax");
    assertEquals(SessionSettings.QDQ_FUSED.text(), a8.get("runtime_settings"));
    assertNotNull(a8.get("headline_metric_unfused"));
    assertNull(lines.get("linear_quantize-linear_symmetric-int8-per_channel").get("headline_metric_unfused"));
  }

  @Test
  void binaryRowsHaveTheManifestsRocAucAndAccuracy() {
    Map<String, YamlNode> task = expected("breast-cancer");
    assertEquals(6, cancer.size(), cancer.keySet().toString());
    for (Map<String, Object> row : cancer.values()) {
      assertEquals("ok", row.get("status"), row.toString());
      assertEquals(number(task, "expected_roc_auc"), (Double) row.get("baseline_roc_auc"), 0.0);
      assertEquals(number(task, "expected_correct") / 171.0, (Double) row.get("baseline_threshold_accuracy"), 0.0);
      assertEquals(number(task, "expected_accuracy"), (Double) row.get("baseline_accuracy"), 1e-15);
      assertNotNull(row.get("roc_auc"));
      assertNotNull(row.get("agreement"), "decision agreement with the original");
    }
    // measured: int8 weights keep the ranking of all 171 scores, so the AUC is fp32's exactly
    assertEquals(number(task, "expected_roc_auc"),
        (Double) cancer.get("linear_quantize-linear_symmetric-int8-per_channel").get("roc_auc"), 0.0);
    assertNotNull(cancer.get("activations-int8-entropy").get("headline_metric_unfused"));
  }
}
