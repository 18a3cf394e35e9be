package dev.bitsweep.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class FrontierTest {

  /** The definition, point against point. */
  private static Set<Integer> bruteForce(double[] size, double[] metric, boolean higherIsBetter) {
    Set<Integer> frontier = new TreeSet<>();
    for (int p = 0; p < size.length; p++) {
      boolean dominated = false;
      for (int q = 0; q < size.length && !dominated; q++) {
        double qm = higherIsBetter ? metric[q] : -metric[q];
        double pm = higherIsBetter ? metric[p] : -metric[p];
        dominated = size[q] <= size[p] && qm >= pm && (size[q] < size[p] || qm > pm);
      }
      if (!dominated) {
        frontier.add(p);
      }
    }
    return frontier;
  }

  @Test
  void matchesTheDefinitionOnRandomPointsWithTies() {
    Random random = new Random(12);
    for (int trial = 0; trial < 2000; trial++) {
      int n = random.nextInt(25);
      double[] size = new double[n];
      double[] metric = new double[n];
      for (int i = 0; i < n; i++) {
        size[i] = random.nextInt(8);       // few distinct values: many ties in size and metric
        metric[i] = random.nextInt(6) / 5.0;
      }
      for (boolean higher : new boolean[] {true, false}) {
        List<Integer> frontier = Frontier.of(size, metric, higher);
        assertEquals(bruteForce(size, metric, higher), new TreeSet<>(frontier), "trial " + trial);
        for (int i = 1; i < frontier.size(); i++) {
          assertTrue(size[frontier.get(i - 1)] <= size[frontier.get(i)], "in order of size");
        }
      }
    }
  }

  @Test
  void aLossFlipsTheFrontier() {
    double[] size = {2, 4, 8};
    double[] perplexity = {30, 20, 25};
    assertEquals(List.of(0, 1), Frontier.of(size, perplexity, false));
    assertEquals(List.of(0), Frontier.of(size, perplexity, true), "as a score, 30 at the smallest size beats both");
  }

  @Test
  void headlineMetricPerTaskWithTheSnrFallback() {
    Map<String, Object> classified = Map.of("status", "ok", "accuracy", 0.9, "baseline_accuracy", 0.95, "output_snr_db", 20.0);
    HeadlineMetric accuracy = HeadlineMetric.of("classification", List.of(classified));
    assertEquals("accuracy", accuracy.column());
    assertEquals(0.95, accuracy.baseline(List.of(classified)));
    assertEquals(1.0, HeadlineMetric.of("agreement", List.of(Map.of("status", "ok", "agreement", 0.9))).baseline(List.of()));
    assertEquals("embedding_cosine", HeadlineMetric.of("embedding", List.of(Map.of("status", "ok", "embedding_cosine", 0.99))).column());
    HeadlineMetric perplexity = HeadlineMetric.of("language_model",
        List.of(Map.of("status", "ok", "perplexity", 12.0, "baseline_perplexity", 11.0)));
    assertEquals("perplexity", perplexity.column());
    assertFalse(perplexity.higherIsBetter());
    assertTrue(perplexity.better(11.5, 12.0));
    assertEquals(11.0, perplexity.baseline(List.of(Map.of("baseline_perplexity", 11.0))));
    // a language_model sweep written before a perplexity column existed, and a task added later: output SNR
    List<Map<String, Object>> snrOnly = new ArrayList<>(List.of(Map.of("status", "ok", "output_snr_db", 30.0)));
    assertEquals("output_snr_db", HeadlineMetric.of("language_model", snrOnly).column());
    HeadlineMetric later = HeadlineMetric.of("speech_to_text", snrOnly);
    assertEquals("output_snr_db", later.column());
    assertTrue(later.higherIsBetter());
    assertEquals(null, later.baseline(snrOnly));
  }
}
