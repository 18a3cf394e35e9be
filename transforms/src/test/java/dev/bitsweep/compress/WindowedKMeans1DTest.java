package dev.bitsweep.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WindowedKMeans1DTest {

  /** The least weighted squared error over every split of the sorted distinct points into k contiguous runs. */
  private static double bruteForce(double[] x, double[] w, int from, int k) {
    if (k == 1) {
      return runCost(x, w, from, x.length);
    }
    double best = Double.POSITIVE_INFINITY;
    for (int end = from + 1; end <= x.length - (k - 1); end++) {
      best = Math.min(best, runCost(x, w, from, end) + bruteForce(x, w, end, k - 1));
    }
    return best;
  }

  private static double runCost(double[] x, double[] w, int from, int to) {
    double weight = 0;
    double sum = 0;
    for (int i = from; i < to; i++) {
      weight += w[i];
      sum += w[i] * x[i];
    }
    double mean = weight > 0 ? sum / weight : 0;
    double cost = 0;
    for (int i = from; i < to; i++) {
      cost += w[i] * (x[i] - mean) * (x[i] - mean);
    }
    return cost;
  }

  /** Weighted squared error of the sorted points, each assigned to its nearest centroid. */
  private static double assignedCost(OptimalKMeans1D.Points points, double[] centroids) {
    double cost = 0;
    for (int i = 0; i < points.size(); i++) {
      double best = Double.POSITIVE_INFINITY;
      for (double c : centroids) {
        double d = points.value()[i] - c;
        best = Math.min(best, d * d);
      }
      cost += points.weight(i) * best;
    }
    return cost;
  }

  private static float draw(Random random, int kind) {
    double g = random.nextGaussian();
    return switch (kind) {
      case 0 -> (float) g;
      case 1 -> (float) (g * random.nextGaussian()); // heavy tails, sharp peak
      case 2 -> random.nextFloat();
      case 3 -> (float) ((random.nextBoolean() ? -2 : 2) + 0.3 * g); // two modes
      case 4 -> Float16.round((float) g); // few distinct values, many repeats
      default -> random.nextInt(7) * 0.5f - 1.5f; // ties only
    };
  }

  @Test
  void equalsBruteForceOnSmallInputsThroughEveryLevel() {
    Random random = new Random(21);
    for (int trial = 0; trial < 600; trial++) {
      int n = 2 + random.nextInt(13);
      int kind = trial % 6;
      float[] values = new float[n];
      for (int i = 0; i < n; i++) {
        values[i] = draw(random, kind);
      }
      float[] weights = null;
      if (trial % 3 == 1) {
        weights = new float[n];
        for (int i = 0; i < n; i++) {
          weights[i] = random.nextInt(4) == 0 ? 0f : random.nextFloat() * 3;
        }
      }
      OptimalKMeans1D.Points points = positive(OptimalKMeans1D.sortedPoints(values, weights, n));
      if (points.size() == 0) {
        continue;
      }
      double[] x = Arrays.copyOf(points.value(), points.size());
      double[] w = new double[points.size()];
      for (int i = 0; i < w.length; i++) {
        w[i] = points.weight(i);
      }
      // 2 to 8 cells and 1 final value: several levels of windows even for a dozen values
      int cells = 2 << random.nextInt(3);
      for (int k = 1; k <= 6; k++) {
        double expected = k >= x.length ? 0 : bruteForce(x, w, 0, k);
        double[] centroids = WindowedKMeans1D.centroids(values, 0, n, weights, k, cells, 1);
        String what = "trial " + trial + " k " + k + " values " + Arrays.toString(values) + " weights "
            + Arrays.toString(weights);
        assertTrue(centroids.length == Math.min(k, x.length), what + " gives " + Arrays.toString(centroids));
        for (int c = 1; c < centroids.length; c++) {
          assertTrue(centroids[c - 1] < centroids[c], what);
        }
        assertEquals(expected, assignedCost(points, centroids), 1e-9 * (1 + expected), what);
      }
    }
  }

  /** The points of positive weight only (the windowed kernel leaves weight 0 out). */
  private static OptimalKMeans1D.Points positive(OptimalKMeans1D.Points points) {
    int size = 0;
    double[] value = new double[points.size()];
    double[] prefixWeight = new double[points.size() + 1];
    double[] prefixSum = new double[points.size() + 1];
    for (int i = 0; i < points.size(); i++) {
      double weight = points.weight(i);
      if (weight > 0) {
        value[size] = points.value()[i];
        prefixWeight[size + 1] = prefixWeight[size] + weight;
        prefixSum[size + 1] = prefixSum[size] + weight * points.value()[i];
        size++;
      }
    }
    return new OptimalKMeans1D.Points(size, value, prefixWeight, prefixSum);
  }

  @Test
  void matchesTheExactDynamicProgrammeOnLargeInputs() {
    Random random = new Random(22);
    for (int trial = 0; trial < 30; trial++) {
      int n = 5000 + random.nextInt(70_000);
      int kind = trial % 6;
      float[] values = new float[n];
      for (int i = 0; i < n; i++) {
        values[i] = draw(random, kind);
      }
      float[] weights = null;
      if (trial % 4 == 3) {
        weights = new float[n];
        for (int i = 0; i < n; i++) {
          weights[i] = random.nextInt(5) == 0 ? 0f : random.nextFloat() * 3;
        }
      }
      OptimalKMeans1D.Points points = positive(OptimalKMeans1D.sortedPoints(values, weights, n));
      for (int k : new int[] {2, 4, 16, 64}) {
        if (k >= points.size()) {
          continue;
        }
        double exact = OptimalKMeans1D.cost(points, OptimalKMeans1D.optimalStarts(points, k));
        double windowed = assignedCost(points, WindowedKMeans1D.centroids(values, 0, n, weights, k));
        assertEquals(exact, windowed, 1e-12 * exact, "trial " + trial + " kind " + kind + " n " + n + " k " + k);
      }
    }
  }

  @Test
  void largeTensorsReadInParallelChunksGiveTheExactOptimum() {
    Random random = new Random(23);
    int n = WindowedKMeans1D.PARALLEL_THRESHOLD + 3;
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) (random.nextGaussian() * (i % 3 == 0 ? random.nextGaussian() : 1));
    }
    OptimalKMeans1D.Points points = OptimalKMeans1D.sortedPoints(values, null, n);
    double exact = OptimalKMeans1D.cost(points, OptimalKMeans1D.optimalStarts(points, 4));
    double[] centroids = OptimalKMeans1D.centroids(values, n, null, 4);
    assertEquals(exact, assignedCost(points, centroids), 1e-12 * exact);
  }

  @Test
  void degenerateInputs() {
    assertArrayEquals(new double[] {2.5}, WindowedKMeans1D.centroids(new float[] {2.5f, 2.5f, 2.5f}, 0, 3, null, 4),
        0);
    assertArrayEquals(new double[0], WindowedKMeans1D.centroids(new float[] {1, 2}, 0, 2, new float[] {0, 0}, 2), 0);
    // fewer distinct values than clusters: each its own centroid
    float[] values = new float[5000];
    for (int i = 0; i < values.length; i++) {
      values[i] = i % 3 - 1;
    }
    assertArrayEquals(new double[] {-1, 0, 1}, WindowedKMeans1D.centroids(values, 0, values.length, null, 16), 0);
    // a sub-range of a larger array, as grouped palettization reads it
    float[] padded = new float[values.length + 10];
    Arrays.fill(padded, 100f);
    System.arraycopy(values, 0, padded, 5, values.length);
    assertArrayEquals(new double[] {-1, 0, 1},
        WindowedKMeans1D.centroids(padded, 5, 5 + values.length, null, 16), 0);
  }
}
