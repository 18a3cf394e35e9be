package dev.bitsweep.search;

import static dev.bitsweep.ResultTables.query;
import static dev.bitsweep.ResultTables.table;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bitsweep.Fixtures;
import dev.bitsweep.cluster.Launch;
import dev.bitsweep.pipeline.SweepOutcome;
import dev.bitsweep.pipeline.SweepRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A search on the digits CNN (2 layers, 540 labelled images) on the DirectRunner: sensitivity measured once and
 * reused, the plan built, evaluated and rebuilt byte for byte from its own spec, and an unmeetable budget reported.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SearchRunnerTest {
  @TempDir static Path work;
  private Path out;
  private SearchOutcome first;
  private SearchOutcome rerun;

  static Path spec(Path dir, String name, String budget) throws Exception {
    Path digits = Fixtures.digits().toAbsolutePath();
    Path spec = dir.resolve(name + ".yaml");
    Files.writeString(spec, String.join("\n",
        "name: " + name,
        "model: " + digits.resolve("model.onnx"),
        "task: classification",
        "eval_data: " + digits.resolve("eval"),
        "batch_size: 60",
        "search:",
        "  candidates:",
        "    - {id: k2, method: palettize, mode: kmeans, nbits: 2, granularity: per_tensor}",
        "    - {id: k4, method: palettize, mode: kmeans, nbits: 4, granularity: per_tensor}",
        "  budget: " + budget,
        ""));
    return spec;
  }

  @BeforeAll
  void searchTwice() throws Exception {
    out = work.resolve("out");
    Launch launch = Launch.embedded().withRunner("direct").withOut(out);
    first = new SearchRunner(System.out).run(spec(work, "digits-mixed", "{metric: accuracy, max_drop: 0.004}"), launch);
    rerun = new SearchRunner(System.out).run(spec(work, "digits-mixed", "{metric: accuracy, max_drop: 0.004}"), launch);
  }

  @Test
  void sensitivityHasOneRowPerLayerAndCandidateWithMeasuredDeltas() throws Exception {
    List<Map<String, Object>> rows = query("SELECT * FROM " + table(out, "sensitivity") + " WHERE sweep_id = '"
        + first.searchId() + "' ORDER BY layer, candidate");
    assertEquals(4, rows.size());
    List<Map<String, Object>> runs = query("SELECT config_id, accuracy FROM " + table(out, "runs"));
    assertEquals(4, rows.stream().map(r -> r.get("config_id")).distinct().count());
    for (Map<String, Object> row : rows) {
      assertEquals("ok", row.get("status"));
      assertEquals("accuracy", row.get("metric_name"));
      assertEquals(532.0 / 540, (Double) row.get("baseline_metric"), 0.0);
      double metric = (Double) row.get("metric");
      assertEquals(metric - 532.0 / 540, (Double) row.get("delta"), 1e-15);
      assertEquals(-(Double) row.get("delta"), (Double) row.get("loss"), 1e-15);
      // the metric is the one-layer config's own run
      Object measured = runs.stream().filter(r -> r.get("config_id").equals(row.get("config_id"))).findFirst()
          .orElseThrow().get("accuracy");
      assertEquals(measured, row.get("metric"));
      // the layer's size is the one-layer config's stored encoding bytes in the layers table
      Map<String, Object> layerRow = query("SELECT compressed_bytes, weight_snr_db FROM " + table(out, "layers")
          + " WHERE config_id = '" + row.get("config_id") + "' AND layer = '" + row.get("layer") + "'").get(0);
      long bytes = ((Number) layerRow.get("compressed_bytes")).longValue();
      assertEquals(bytes, ((Number) row.get("compressed_bytes")).longValue());
      assertEquals(8.0 * bytes / ((Number) row.get("params")).longValue(), (Double) row.get("layer_bits"), 1e-12);
      assertEquals(layerRow.get("weight_snr_db"), row.get("weight_snr_db"));
      assertNotNull(row.get("weight_snr_db"));
    }
  }

  @Test
  void aRerunReusesEveryMeasurementAndFindsTheSamePlan() throws Exception {
    List<Map<String, Object>> cached = query("SELECT DISTINCT cached FROM " + table(out, "sensitivity")
        + " WHERE sweep_id = '" + rerun.searchId() + "'");
    assertEquals(List.of(Map.of("cached", true)), cached);
    assertEquals(first.searchId(), rerun.searchId());
    assertEquals(first.best().planId(), rerun.best().planId());
    assertEquals(first.best().measuredMetric(), rerun.best().measuredMetric());
  }

  @Test
  void theMeasuredPlanMeetsTheBudgetAndIsRecorded() throws Exception {
    assertTrue(first.met(), first.verdict());
    SearchOutcome.PlanRow best = first.best();
    assertTrue(532.0 / 540 - best.measuredMetric() <= 0.004, "measured accuracy within the 0.004 drop");
    List<Map<String, Object>> plans = query("SELECT * FROM " + table(out, "plans") + " WHERE sweep_id = '"
        + first.searchId() + "' ORDER BY iteration");
    Map<String, Object> last = plans.get(plans.size() - 1);
    assertEquals(best.planId(), last.get("plan_id"));
    assertEquals(true, last.get("meets_budget"));
    assertEquals("met", last.get("status"));
    assertEquals(plans.size(), ((Number) last.get("iterations")).intValue());
    assertEquals(best.measuredMetric(), (Double) last.get("measured_metric"), 0.0);
    // the plan's size as measured: its layers' stored bytes in its own sweep, layers left fp32 at their 4 bytes each
    Map<String, Object> measured = query("SELECT coalesce(sum(compressed_bytes), 0) AS bytes, count(*) AS n FROM "
        + table(out, "layers") + " WHERE config_id = '" + best.planId() + "'").get(0);
    List<Map<String, Object>> sizes = query("SELECT DISTINCT layer, original_bytes, params FROM "
        + table(out, "sensitivity") + " WHERE sweep_id = '" + first.searchId() + "'");
    Map<String, Integer> perCandidate = best.layersPerCandidate();
    assertEquals(2, perCandidate.values().stream().mapToInt(Integer::intValue).sum());
    long fp32 = perCandidate.getOrDefault("fp32", 0);
    assertEquals(2 - fp32, ((Number) measured.get("n")).longValue());
    long totalParams = sizes.stream().mapToLong(r -> ((Number) r.get("params")).longValue()).sum();
    if (fp32 == 0) {
      assertEquals(((Number) measured.get("bytes")).longValue(), best.layerBytes().longValue());
    }
    assertEquals(8.0 * best.layerBytes() / totalParams, best.bitsPerWeight(), 1e-12);
    assertEquals(best.bitsPerWeight(), (Double) last.get("bits_per_weight"), 0.0);
    assertTrue(Files.isRegularFile(out.resolve(best.packagePath())));
    assertTrue(Files.isRegularFile(out.resolve(best.specPath())));
    // every plan and uniform config is on the frontier or dominated
    List<Map<String, Object>> frontier = query("SELECT * FROM " + table(out, "frontier") + " WHERE sweep_id = '"
        + first.searchId() + "'");
    assertEquals(2, frontier.stream().filter(r -> r.get("kind").equals("uniform")).count());
    assertTrue(frontier.stream().anyMatch(r -> Boolean.TRUE.equals(r.get("on_frontier"))));
  }

  @Test
  void theHtmlReportPlotsEveryMeasuredPlanAndUniformConfigOfTheFrontierTable() throws Exception {
    String html = Files.readString(first.htmlReport());
    String open = "<script type=\"application/json\" id=\"report-data\">";
    int from = html.indexOf(open) + open.length();
    JsonNode page = new ObjectMapper().readTree(html.substring(from, html.indexOf("</script>", from)));
    List<Map<String, Object>> rows = query("SELECT kind, config_id, metric, bits_per_weight, on_frontier FROM "
        + table(out, "frontier") + " WHERE sweep_id = '" + first.searchId() + "' AND metric IS NOT NULL"
        + " AND bits_per_weight IS NOT NULL ORDER BY kind, config_id");
    assertTrue(rows.stream().anyMatch(r -> r.get("kind").equals("plan")), rows.toString());
    List<String> expected = new ArrayList<>();
    rows.forEach(r -> expected.add(r.get("kind") + " " + r.get("config_id") + " " + r.get("bits_per_weight") + " "
        + r.get("metric") + " " + r.get("on_frontier")));
    List<String> plotted = new ArrayList<>();
    page.get("points").forEach(p -> plotted.add(p.get("kind").asText() + " " + p.get("configId").asText() + " "
        + p.get("bitsPerWeight").asDouble() + " " + p.get("metric").asDouble() + " " + p.get("frontierBits").asBoolean()));
    plotted.sort(null);
    expected.sort(null);
    assertEquals(expected, plotted);
    assertEquals("accuracy", page.get("metric").get("column").asText());
    assertEquals(532.0 / 540, page.get("metric").get("baseline").asDouble(), 0.0);
  }

  @Test
  void aSweepOfThePlansSpecRebuildsItsPackageByteForByte() throws Exception {
    SearchOutcome.PlanRow best = first.best();
    Path again = work.resolve("again");
    SweepOutcome sweep = new SweepRunner(System.out).run(out.resolve(best.specPath()),
        Launch.embedded().withRunner("direct").withOut(again));
    List<Map<String, Object>> runs = query("SELECT package_path FROM " + table(again, "runs") + " WHERE config_id = '"
        + best.planId() + "'");
    assertEquals(1, runs.size());
    assertEquals(0, sweep.failedConfigs());
    Path rebuilt = again.resolve(runs.get(0).get("package_path").toString());
    assertArrayEquals(Files.readAllBytes(out.resolve(best.packagePath())), Files.readAllBytes(rebuilt));
  }

  @Test
  void anUnmeetableBudgetGivesAnExplicitResult() throws Exception {
    Path other = work.resolve("unmeetable");
    Files.createDirectories(other);
    SearchOutcome outcome = new SearchRunner(System.out).run(spec(other, "digits-unmeetable",
        "{metric: accuracy, min: 0.9999}"), Launch.embedded().withRunner("direct").withOut(out));
    assertFalse(outcome.met());
    assertNull(outcome.best());
    assertTrue(List.of("infeasible", "exhausted").contains(outcome.status()), outcome.status());
    assertTrue(outcome.verdict().contains("no measured plan meets the budget"), outcome.verdict());
    List<Map<String, Object>> plans = query("SELECT * FROM " + table(out, "plans") + " WHERE sweep_id = '"
        + outcome.searchId() + "'");
    assertFalse(plans.isEmpty());
    assertTrue(plans.stream().noneMatch(r -> Boolean.TRUE.equals(r.get("meets_budget"))));
    Map<String, Object> last = plans.get(plans.size() - 1);
    assertEquals(outcome.status(), last.get("status"));
    assertTrue(last.get("note").toString().contains("budget"), last.toString());
  }
}
