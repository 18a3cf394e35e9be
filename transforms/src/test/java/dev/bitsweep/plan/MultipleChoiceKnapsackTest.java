package dev.bitsweep.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MultipleChoiceKnapsackTest {

  /** Every combination, losses summed in layer order like the solver. */
  private static List<long[]> enumerate(List<LayerChoices> layers, List<double[]> losses) {
    List<long[]> plans = new ArrayList<>();
    int[] choice = new int[layers.size()];
    while (true) {
      long bytes = 0;
      double loss = 0;
      for (int i = 0; i < choice.length; i++) {
        LayerChoices.Option o = layers.get(i).options().get(choice[i]);
        bytes += o.bytes();
        loss += o.loss();
      }
      plans.add(new long[] {bytes});
      losses.add(new double[] {loss});
      int i = 0;
      while (i < choice.length && ++choice[i] == layers.get(i).options().size()) {
        choice[i++] = 0;
      }
      if (i == choice.length) {
        return plans;
      }
    }
  }

  private static List<LayerChoices> random(Random rnd) {
    int layerCount = 1 + rnd.nextInt(5);
    List<LayerChoices> layers = new ArrayList<>();
    for (int l = 0; l < layerCount; l++) {
      List<LayerChoices.Option> options = new ArrayList<>();
      int count = 1 + rnd.nextInt(4);
      for (int o = 0; o < count; o++) {
        // small integer sizes and coarse losses make ties on both axes frequent; some losses are negative
        options.add(new LayerChoices.Option("c" + o, rnd.nextInt(12), (rnd.nextInt(9) - 1) * 0.125 + rnd.nextInt(3) * 0.01));
      }
      layers.add(new LayerChoices("layer" + l, options));
    }
    return layers;
  }

  private static void checkConsistent(List<LayerChoices> layers, MultipleChoiceKnapsack.Solution s) {
    long bytes = 0;
    double loss = 0;
    for (LayerChoices.Option o : s.options(layers)) {
      bytes += o.bytes();
      loss += o.loss();
    }
    assertEquals(bytes, s.bytes());
    assertEquals(loss, s.loss(), 0.0);
  }

  @Test
  void smallestPlanWithinALossBudgetEqualsBruteForce() {
    Random rnd = new Random(11);
    for (int instance = 0; instance < 2000; instance++) {
      List<LayerChoices> layers = random(rnd);
      List<double[]> losses = new ArrayList<>();
      List<long[]> sizes = enumerate(layers, losses);
      MultipleChoiceKnapsack solver = MultipleChoiceKnapsack.of(layers);
      for (double budget : new double[] {-0.5, -0.125, 0, 0.1, 0.25, 0.5, 1, 3}) {
        long best = Long.MAX_VALUE;
        double bestLoss = Double.POSITIVE_INFINITY;
        for (int p = 0; p < sizes.size(); p++) {
          double loss = losses.get(p)[0];
          long bytes = sizes.get(p)[0];
          if (loss <= budget && (bytes < best || bytes == best && loss < bestLoss)) {
            best = bytes;
            bestLoss = loss;
          }
        }
        Optional<MultipleChoiceKnapsack.Solution> got = solver.smallestWithin(budget);
        if (best == Long.MAX_VALUE) {
          assertTrue(got.isEmpty(), "instance " + instance + " budget " + budget + ": infeasible, got " + got);
        } else {
          assertEquals(best, got.orElseThrow().bytes(), "instance " + instance + " budget " + budget);
          assertEquals(bestLoss, got.get().loss(), 0.0, "ties in size are broken by the lower loss");
          checkConsistent(layers, got.get());
        }
      }
    }
  }

  @Test
  void bestPlanUnderASizeCapEqualsBruteForce() {
    Random rnd = new Random(12);
    for (int instance = 0; instance < 2000; instance++) {
      List<LayerChoices> layers = random(rnd);
      List<double[]> losses = new ArrayList<>();
      List<long[]> sizes = enumerate(layers, losses);
      MultipleChoiceKnapsack solver = MultipleChoiceKnapsack.of(layers);
      for (long cap = -1; cap <= 45; cap += 3) {
        double best = Double.POSITIVE_INFINITY;
        for (int p = 0; p < sizes.size(); p++) {
          if (sizes.get(p)[0] <= cap) {
            best = Math.min(best, losses.get(p)[0]);
          }
        }
        Optional<MultipleChoiceKnapsack.Solution> got = solver.bestWithin(cap);
        if (best == Double.POSITIVE_INFINITY) {
          assertTrue(got.isEmpty(), "instance " + instance + " cap " + cap);
        } else {
          assertEquals(best, got.orElseThrow().loss(), 0.0, "instance " + instance + " cap " + cap);
          assertTrue(got.get().bytes() <= cap);
          checkConsistent(layers, got.get());
        }
      }
    }
  }

  @Test
  void frontierIsExactlyTheNonDominatedPlans() {
    Random rnd = new Random(13);
    for (int instance = 0; instance < 500; instance++) {
      List<LayerChoices> layers = random(rnd);
      List<double[]> losses = new ArrayList<>();
      List<long[]> sizes = enumerate(layers, losses);
      List<MultipleChoiceKnapsack.Solution> frontier = MultipleChoiceKnapsack.of(layers).frontier();
      // distinct non-dominated (bytes, loss) points by brute force
      java.util.TreeMap<Long, Double> expected = new java.util.TreeMap<>();
      for (int p = 0; p < sizes.size(); p++) {
        expected.merge(sizes.get(p)[0], losses.get(p)[0], Math::min);
      }
      List<long[]> keptBytes = new ArrayList<>();
      double best = Double.POSITIVE_INFINITY;
      List<Double> keptLoss = new ArrayList<>();
      for (var e : expected.entrySet()) {
        if (e.getValue() < best) {
          best = e.getValue();
          keptBytes.add(new long[] {e.getKey()});
          keptLoss.add(e.getValue());
        }
      }
      assertEquals(keptBytes.size(), frontier.size(), "instance " + instance);
      for (int i = 0; i < frontier.size(); i++) {
        assertEquals(keptBytes.get(i)[0], frontier.get(i).bytes());
        assertEquals(keptLoss.get(i), frontier.get(i).loss(), 0.0);
      }
    }
  }

  @Test
  void aHandInstance() {
    // layer a: fp32 100 B loss 0 | 4-bit 15 B loss 0.02 ; layer b: fp32 200 B | 4-bit 30 B loss 0.001 | 6-bit 45 B 0
    List<LayerChoices> layers = List.of(
        new LayerChoices("a", List.of(new LayerChoices.Option("fp32", 100, 0), new LayerChoices.Option("k4", 15, 0.02))),
        new LayerChoices("b", List.of(new LayerChoices.Option("fp32", 200, 0), new LayerChoices.Option("k4", 30, 0.001),
            new LayerChoices.Option("k6", 45, 0))));
    MultipleChoiceKnapsack solver = MultipleChoiceKnapsack.of(layers);
    assertEquals(45, solver.smallestWithin(0.021).orElseThrow().bytes());
    assertEquals(130, solver.smallestWithin(0.01).orElseThrow().bytes()); // a fp32 + b k4
    assertEquals(145, solver.smallestWithin(0).orElseThrow().bytes()); // a fp32 + b k6
    assertTrue(solver.smallestWithin(-0.001).isEmpty(), "no plan improves on the original");
    assertEquals(0.02, solver.bestWithin(60).orElseThrow().loss(), 0.0); // a k4 + b k6 = 60 B
    assertTrue(solver.bestWithin(44).isEmpty(), "even the smallest plan (45 B) is over the cap");
  }

  @Test
  void rejectsBadOptions() {
    assertThrows(IllegalArgumentException.class, () -> new LayerChoices("x", List.of()));
    assertThrows(IllegalArgumentException.class, () -> new LayerChoices.Option("c", -1, 0));
    assertThrows(IllegalArgumentException.class, () -> new LayerChoices.Option("c", 1, Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> MultipleChoiceKnapsack.of(List.of()));
  }
}
