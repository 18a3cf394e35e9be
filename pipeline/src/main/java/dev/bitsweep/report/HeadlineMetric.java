package dev.bitsweep.report;

import java.util.List;
import java.util.Map;

/**
 * The metric a sweep's report plots against size: the task's own quality measure, chosen per task, or
 * {@code output_snr_db} (every task measures it) when the task is unknown or its column is empty.
 *
 * @param column the runs column
 * @param higherIsBetter false for losses such as perplexity
 * @param baselineColumn the runs column holding the original model's value, or null
 * @param baselineValue the original model's value when it is known by definition (agreement of a model with itself), or null
 */
public record HeadlineMetric(String column, boolean higherIsBetter, String baselineColumn, Double baselineValue) {
  static final HeadlineMetric OUTPUT_SNR = new HeadlineMetric("output_snr_db", true, null, null);

  /**
   * The choice per task: classification plots accuracy (baseline: the original's accuracy), agreement plots top-1
   * agreement with the original, embedding the mean cosine to the original's embeddings (both 1 for the original
   * itself), language_model perplexity (lower is better; baseline from {@code baseline_perplexity}).
   */
  private static final Map<String, HeadlineMetric> BY_TASK = Map.of(
      "classification", new HeadlineMetric("accuracy", true, "baseline_accuracy", null),
      "agreement", new HeadlineMetric("agreement", true, null, 1.0),
      "embedding", new HeadlineMetric("embedding_cosine", true, null, 1.0),
      "language_model", new HeadlineMetric("perplexity", false, "baseline_perplexity", null));

  /** The task's metric if some ok run has a value in its column; otherwise output_snr_db. */
  public static HeadlineMetric of(String task, List<Map<String, Object>> runs) {
    HeadlineMetric chosen = BY_TASK.get(task);
    if (chosen != null && runs.stream().anyMatch(r -> "ok".equals(r.get("status")) && SweepResults.number(r, chosen.column) != null)) {
      return chosen;
    }
    return OUTPUT_SNR;
  }

  /** The original model's value of this metric, or null when it is not known. */
  public Double baseline(List<Map<String, Object>> runs) {
    if (baselineValue != null) {
      return baselineValue;
    }
    if (baselineColumn == null) {
      return null;
    }
    return runs.stream().map(r -> SweepResults.number(r, baselineColumn)).filter(v -> v != null).findFirst().orElse(null);
  }

  /** Whether {@code a} is a strictly better value than {@code b}. */
  public boolean better(double a, double b) {
    return higherIsBetter ? a > b : a < b;
  }
}
