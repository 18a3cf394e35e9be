package dev.bitsweep.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class OptimalKMeans1DTest {

  /** The least weighted squared error over every split of the sorted distinct points into k contiguous runs. */
  private static double bruteForce(double[] x, double[] w, int k) {
    return bruteForce(x, w, 0, k);
  }

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

  /** Error of assigning each value to its nearest centroid. */
  private static double assignedCost(float[] values, float[] importance, double[] centroids) {
    double cost = 0;
    for (int i = 0; i < values.length; i++) {
      double best = Double.POSITIVE_INFINITY;
      for (double c : centroids) {
        best = Math.min(best, (values[i] - c) * (values[i] - c));
      }
      cost += (importance == null ? 1 : importance[i]) * best;
    }
    return cost;
  }

  @Test
  void equalsBruteForceOnSmallInputs() {
    Random random = new Random(11);
    for (int trial = 0; trial < 200; trial++) {
      int n = 3 + random.nextInt(12);
      float[] values = new float[n];
      for (int i = 0; i < n; i++) {
        // few distinct values so that duplicates (counts) matter
        values[i] = random.nextInt(9) * 0.25f - 1f + (random.nextBoolean() ? 0 : (float) random.nextGaussian());
      }
      float[] importance = null;
      if (trial % 2 == 1) {
        importance = new float[n];
        for (int i = 0; i < n; i++) {
          importance[i] = random.nextInt(4) == 0 ? 0f : random.nextFloat() * 3;
        }
      }
      OptimalKMeans1D.Points points = OptimalKMeans1D.sortedPoints(values, importance, n);
      for (int k = 1; k <= Math.min(5, points.size()); k++) {
        double[] weights = new double[points.size()];
        for (int i = 0; i < weights.length; i++) {
          weights[i] = points.weight(i);
        }
        double expected = bruteForce(points.value(), weights, k);
        double[] centroids = OptimalKMeans1D.centroids(values, n, importance, k);
        assertTrue(centroids.length <= k);
        assertEquals(expected, assignedCost(values, importance, centroids), 1e-9 * (1 + expected),
            "trial " + trial + " k " + k + " values " + Arrays.toString(values));
      }
    }
  }

  @Test
  void bruteForceOnHandExample() {
    // {0, 0, 1, 10, 11, 30} with k = 3: {0,0,1} {10,11} {30}
    float[] values = {10, 0, 30, 11, 0, 1};
    double[] centroids = OptimalKMeans1D.centroids(values, values.length, null, 3);
    assertArrayEquals(new double[] {1.0 / 3, 10.5, 30}, centroids, 1e-12);
  }

  @Test
  void fewerDistinctValuesThanClustersKeepsThemAll() {
    float[] values = {2, -1, 2, 2, -1};
    assertArrayEquals(new double[] {-1, 2}, OptimalKMeans1D.centroids(values, values.length, null, 16), 0);
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "heavy tails {0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
  void coarseDynamicProgrammeWithWindowedRefinementMatchesTheExactOptimum(boolean heavyTails) {
    Random random = new Random(3);
    float[] values = new float[40_000];
    for (int i = 0; i < values.length; i++) {
      // a product of two Gaussians has heavy tails and a sharp peak: the hard case for windows around boundaries
      values[i] = (float) (heavyTails ? random.nextGaussian() * random.nextGaussian() : random.nextGaussian());
    }
    OptimalKMeans1D.Points points = OptimalKMeans1D.sortedPoints(values, null, values.length);
    assertTrue(points.size() > OptimalKMeans1D.dpPointLimit(64), "the fast path must be exercised");
    for (int k : new int[] {2, 4, 16, 64}) {
      double exact = OptimalKMeans1D.cost(points, OptimalKMeans1D.optimalStarts(points, k));
      double fast = assignedCost(values, null, OptimalKMeans1D.centroids(points, k));
      assertEquals(exact, fast, exact * 1e-12, "k " + k);
    }
  }

  @Test
  void histogramPathOnLargeTensorsIsWithinAHundredthOfADecibelOfExact() {
    Random random = new Random(5);
    int n = OptimalKMeans1D.HISTOGRAM_THRESHOLD + 1;
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) random.nextGaussian();
    }
    OptimalKMeans1D.Points exactPoints = OptimalKMeans1D.sortedPoints(values, null, n);
    for (int k : new int[] {4, 16}) {
      double exact = OptimalKMeans1D.cost(exactPoints, OptimalKMeans1D.optimalStarts(exactPoints, k));
      double fast = assignedCost(values, null, OptimalKMeans1D.centroids(values, n, null, k));
      double lossDb = 10 * Math.log10(fast / exact);
      assertTrue(lossDb >= -1e-9 && lossDb <= 0.01, "k " + k + " loses " + lossDb + " dB");
    }
  }

  @Test
  void radixSortOrdersFloatsIncludingSignsZerosAndSubnormals() {
    float[] values = {3f, -0.0f, 0f, -1e-40f, 1e-40f, -7.5f, Float.MAX_VALUE, -Float.MAX_VALUE, 1f, -1f};
    int[] keys = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      keys[i] = FloatKeys.key(values[i]);
    }
    FloatKeys.sort(keys, null, keys.length);
    float[] sorted = new float[values.length];
    for (int i = 0; i < keys.length; i++) {
      sorted[i] = FloatKeys.value(keys[i]);
    }
    assertArrayEquals(new float[] {-Float.MAX_VALUE, -7.5f, -1f, -1e-40f, 0f, 0f, 1e-40f, 1f, 3f, Float.MAX_VALUE},
        sorted);
  }

  @Test
  void radixSortMatchesArraysSortWithSharedDigitsAndPayload() {
    Random random = new Random(13);
    for (int trial = 0; trial < 40; trial++) {
      int n = 1 + random.nextInt(5000);
      float[] values = new float[n];
      for (int i = 0; i < n; i++) {
        values[i] = switch (trial % 4) {
          case 0 -> (float) random.nextGaussian();
          case 1 -> 1f + random.nextInt(64) / 64f; // one sign and exponent: the top digit is shared and skipped
          case 2 -> Float.intBitsToFloat(0x3f800000 | random.nextInt(2048) << 11); // the lowest digit is shared
          default -> random.nextInt(3) - 1f; // few values, -0.0 among them
        };
        if (trial % 4 == 3 && random.nextBoolean()) {
          values[i] = values[i] == 0 ? -0.0f : values[i];
        }
      }
      float[] payload = new float[n];
      int[] keys = new int[n];
      long[] expected = new long[n];
      for (int i = 0; i < n; i++) {
        payload[i] = i;
        keys[i] = FloatKeys.key(values[i]);
        // key in the high half, original position in the low half: the stable order
        expected[i] = (long) keys[i] << 32 | i;
      }
      Arrays.sort(expected);
      FloatKeys.sort(keys, payload, n);
      int[] fused = new int[n];
      FloatKeys.sortedKeys(values, 0, n, fused, null, new int[n], null, FloatKeys.newCounts());
      for (int i = 0; i < n; i++) {
        assertEquals((int) (expected[i] >> 32), keys[i], "trial " + trial + " position " + i);
        assertEquals((float) (int) expected[i], payload[i], "payload follows its key (stable), trial " + trial);
        assertEquals(keys[i], fused[i], "trial " + trial);
      }
    }
  }

  @Test
  void reusedBuffersGiveTheSameTablesAsFreshOnesAcrossGroupSizes() throws Exception {
    Random random = new Random(17);
    float[] layer = new float[200_000];
    for (int i = 0; i < layer.length; i++) {
      layer[i] = (float) (random.nextGaussian() * (1 + i / 50_000));
    }
    // large, small, then large again on the same thread: stale entries of a longer earlier group must not leak
    int[][] ranges = {{0, 120_000}, {120_000, 121_000}, {121_000, 200_000}, {5, 600}};
    for (int[] range : ranges) {
      float[] copy = Arrays.copyOfRange(layer, range[0], range[1]);
      for (int k : new int[] {4, 16}) {
        // the expected table from a copy on a thread of its own: buffers never used before
        double[][] fresh = new double[1][];
        Thread thread = new Thread(() -> fresh[0] = OptimalKMeans1D.centroids(copy, 0, copy.length, null, k));
        thread.start();
        thread.join();
        assertArrayEquals(fresh[0], OptimalKMeans1D.centroids(layer, range[0], range[1], null, k), 0,
            "range " + Arrays.toString(range));
      }
    }
  }
}
