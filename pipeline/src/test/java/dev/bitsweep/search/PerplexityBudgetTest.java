package dev.bitsweep.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.Fixtures;
import dev.bitsweep.spec.SpecException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Perplexity budgets (issue 11): the default metric of a language_model search, a maximum increase over the
 * original's or a maximum, whose loss is ln(perplexity / baseline); refused for other tasks and in the wrong
 * direction, naming the line.
 */
class PerplexityBudgetTest {
  @TempDir Path dir;

  private Path spec(String task, String budget) throws Exception {
    Path lm = Fixtures.repositoryRoot().resolve("calibration-data/fortunes-lm");
    Path spec = dir.resolve("search.yaml");
    Files.writeString(spec, "name: s\nmodel: " + lm.resolve("model.onnx") + "\ntask: " + task + "\neval_data: "
        + lm.resolve("eval") + "\nsearch:\n  candidates:\n    - {id: k4, method: palettize, mode: kmeans, nbits: 4,"
        + " granularity: per_tensor}\n  budget: " + budget + "\n");
    return spec;
  }

  @Test
  void aLanguageModelSearchBudgetsPerplexity() throws Exception {
    Budget budget = SearchSpec.read(spec("language_model", "{max_increase: 0.5}")).budget();
    assertEquals(new Budget(Budget.Metric.PERPLEXITY, Budget.Kind.MAX_INCREASE, 0.5), budget);
    assertEquals(Math.log(10.5 / 10), budget.maxLoss(10), 0.0);
    assertTrue(budget.isMetBy(10, 10.5));
    assertFalse(budget.isMetBy(10, Math.nextUp(10.5)));
    assertEquals("perplexity max_increase 0.5", budget.describe());
    Budget max = SearchSpec.read(spec("language_model", "{metric: perplexity, max: 11.2}")).budget();
    assertEquals(Math.log(11.2 / 10), max.maxLoss(10), 0.0);
    // losses add where perplexity ratios multiply
    double a = Budget.loss(Budget.Metric.PERPLEXITY, 10, 11);
    double b = Budget.loss(Budget.Metric.PERPLEXITY, 10, 12);
    assertEquals(10 * (11.0 / 10) * (12.0 / 10), Budget.metricOf(Budget.Metric.PERPLEXITY, 10, a + b), 1e-12);
    assertEquals(0.0, Budget.loss(Budget.Metric.PERPLEXITY, 10, 10), 0.0);
  }

  @Test
  void perplexityBudgetsThatCannotWorkAreRefused() throws Exception {
    SpecException drop = assertThrows(SpecException.class,
        () -> SearchSpec.read(spec("language_model", "{metric: perplexity, max_drop: 0.5}")));
    assertTrue(drop.getMessage().contains("perplexity is better when lower: use max_increase"), drop.getMessage());
    assertTrue(drop.getMessage().contains("search.yaml:8"), drop.getMessage());
    SpecException other = assertThrows(SpecException.class,
        () -> SearchSpec.read(spec("agreement", "{metric: perplexity, max_increase: 0.5}")));
    assertTrue(other.getMessage().contains("sweep does not measure perplexity"), other.getMessage());
  }
}
