package dev.bitsweep.search;

import static dev.bitsweep.ResultTables.query;
import static dev.bitsweep.ResultTables.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import dev.bitsweep.NextTokenReference;
import dev.bitsweep.cluster.Launch;
import dev.bitsweep.data.NpyArray;
import dev.bitsweep.spec.SweepSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A search under a perplexity budget on the trained fortunes-lm (DirectRunner; its 12 MLP weights of 65 536
 * elements, k-means 2- and 4-bit, 16 held-out sequences): the measured plan meets the budget, its perplexity is the
 * one an independent computation gives on its package's logits (ONNX Runtime Java, double log-softmax), the solver's
 * losses are ln(perplexity / baseline), and the plan is smaller than the cheapest uniform config that meets the
 * budget.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LanguageModelSearchTest {
  private static final Path LM = Fixtures.repositoryRoot().resolve("calibration-data/fortunes-lm");
  private static final double MAX_INCREASE = 0.1;
  private static final int SAMPLES = 16;

  @TempDir static Path work;
  private Path out;
  private SearchOutcome outcome;

  @BeforeAll
  void search() throws Exception {
    Path spec = work.resolve("lm-mixed.yaml");
    Files.writeString(spec, String.join("\n",
        "name: lm-mixed",
        "model: " + LM.resolve("model.onnx"),
        "task: {name: language_model, input: input_ids}",
        "eval_data: " + LM.resolve("eval"),
        "eval_samples: " + SAMPLES,
        "batch_size: 8",
        "weight_threshold: 40000",
        "search:",
        "  candidates:",
        "    - {id: k2, method: palettize, mode: kmeans, nbits: 2, granularity: per_tensor}",
        "    - {id: k4, method: palettize, mode: kmeans, nbits: 4, granularity: per_tensor}",
        "  budget: {metric: perplexity, max_increase: " + MAX_INCREASE + "}",
        ""));
    out = work.resolve("out");
    outcome = new SearchRunner(System.out).run(spec, Launch.embedded().withRunner("direct").withOut(out));
  }

  private static long[][] evalTokens() {
    NpyArray ids = NpyArray.read(LM.resolve("eval/input_ids.npy"), "int64");
    int t = ids.sampleSize();
    long[] flat = ids.longs(0, SAMPLES);
    long[][] tokens = new long[SAMPLES][t];
    for (int s = 0; s < SAMPLES; s++) {
      System.arraycopy(flat, s * t, tokens[s], 0, t);
    }
    return tokens;
  }

  @Test
  void theMeasuredPlanMeetsThePerplexityBudget() throws Exception {
    assertTrue(outcome.met(), outcome.verdict());
    SearchOutcome.PlanRow best = outcome.best();
    List<Map<String, Object>> plans = query("SELECT * FROM " + table(out, "plans") + " WHERE sweep_id = '"
        + outcome.searchId() + "' AND plan_id = '" + best.planId() + "'");
    Map<String, Object> plan = plans.get(0);
    assertEquals("perplexity", plan.get("metric_name"));
    assertEquals("perplexity max_increase " + MAX_INCREASE, plan.get("budget"));
    assertEquals(true, plan.get("meets_budget"));
    double baseline = (Double) plan.get("baseline_metric");
    double measured = (Double) plan.get("measured_metric");
    assertTrue(measured - baseline <= MAX_INCREASE, measured + " vs baseline " + baseline);
    assertTrue(measured > baseline, "k-means 2/4-bit raises the perplexity: " + measured);

    // the plan's own run row, and an independent computation on its package's logits
    Map<String, Object> run = query("SELECT * FROM " + table(out, "runs") + " WHERE config_id = '" + best.planId()
        + "'").get(0);
    assertEquals(measured, (Double) run.get("perplexity"), 0.0);
    assertEquals(baseline, (Double) run.get("baseline_perplexity"), 0.0);
    long[][] tokens = evalTokens();
    float[][][] original = NextTokenReference.logits(LM.resolve("model.onnx"), "input_ids", "logits", tokens, 8);
    float[][][] packaged = NextTokenReference.logits(out.resolve(best.packagePath()), "input_ids", "logits", tokens, 8);
    double[] expected = NextTokenReference.statistics(original, packaged, tokens);
    assertEquals(expected[0], measured, 1e-12 * measured);
    assertEquals(expected[1], baseline, 1e-12 * baseline);

    // the plan's spec keeps the task's fields, so a sweep of it measures the same thing
    SweepSpec planSpec = SweepSpec.read(out.resolve(best.specPath()));
    assertEquals(SweepSpec.Task.LANGUAGE_MODEL, planSpec.task());
    assertEquals("input_ids", planSpec.taskFields().get("input"));
  }

  @Test
  void sensitivityLossesAreTheLogOfThePerplexityRatio() throws Exception {
    List<Map<String, Object>> rows = query("SELECT * FROM " + table(out, "sensitivity") + " WHERE sweep_id = '"
        + outcome.searchId() + "'");
    assertEquals(24, rows.size());
    for (Map<String, Object> row : rows) {
      assertEquals("ok", row.get("status"), row.toString());
      double metric = (Double) row.get("metric");
      double baseline = (Double) row.get("baseline_metric");
      assertEquals(metric - baseline, (Double) row.get("delta"), 1e-15);
      assertEquals(Math.log(metric / baseline), (Double) row.get("loss"), 0.0);
      Object measured = query("SELECT perplexity FROM " + table(out, "runs") + " WHERE config_id = '"
          + row.get("config_id") + "'").get(0).get("perplexity");
      assertEquals(measured, row.get("metric"));
    }
  }

  @Test
  void thePlanIsSmallerThanTheCheapestUniformConfigMeetingTheBudget() {
    SearchOutcome.UniformRow cheapest = outcome.uniforms().stream().filter(SearchOutcome.UniformRow::meetsBudget)
        .min((a, b) -> Double.compare(a.bitsPerWeight(), b.bitsPerWeight())).orElseThrow();
    assertEquals("uniform-k4", cheapest.configId(), "uniform k-means 2-bit misses the budget");
    assertTrue(outcome.best().bitsPerWeight() < cheapest.bitsPerWeight(),
        outcome.best().bitsPerWeight() + " vs " + cheapest.bitsPerWeight());
  }
}
