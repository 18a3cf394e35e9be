package dev.bitsweep.compress;

import java.util.Arrays;

/**
 * Globally optimal 1-D (weighted) k-means.
 *
 * <p>In one dimension optimal clusters are contiguous runs of the sorted values, so the best split of the sorted
 * distinct values (each with its total weight W and weighted sum S) into k runs is found by dynamic programming.
 * Since Σ w·x² is the same for every split, minimising the squared error equals maximising Σ S²/W over the runs.
 * The cost matrix satisfies the quadrangle inequality, so each DP layer is solved by divide and conquer over
 * monotone split points: O(k · n log n).
 *
 * <p>Up to {@link #WINDOWED_THRESHOLD} values the DP runs on all sorted distinct values. Larger inputs (groups of
 * grouped palettization, whole tensors) go to {@link WindowedKMeans1D}, which reaches the same optimum without
 * sorting every value: it proves windows for the boundaries on histograms and sorts only the values inside them.
 */
final class OptimalKMeans1D {
  /** Inputs of more values than this go to {@link WindowedKMeans1D}. */
  static final int WINDOWED_THRESHOLD = 4096;
  /** Tensors at least this large are read in parallel chunks ({@link WindowedKMeans1D#PARALLEL_THRESHOLD}). */
  static final int HISTOGRAM_THRESHOLD = WindowedKMeans1D.PARALLEL_THRESHOLD;

  private OptimalKMeans1D() {}

  /**
   * Sorted points: a representative value each (the mean when its weight is > 0) and prefix sums of the weights and
   * weighted sums, so any run's weight W and sum S cost two subtractions.
   */
  record Points(int size, double[] value, double[] prefixWeight, double[] prefixSum) {
    double weight(int i) {
      return prefixWeight[i + 1] - prefixWeight[i];
    }

    /** S²/W of the run of points [from, to): the part of its squared error that depends on the split. */
    double gain(int from, int to) {
      double w = prefixWeight[to] - prefixWeight[from];
      double s = prefixSum[to] - prefixSum[from];
      return w > 0 ? s * s / w : 0;
    }
  }

  /** Up to k centroids in ascending order: the optimal k-means table of {@code values[0..n)}. */
  static double[] centroids(float[] values, int n, float[] importance, int k) {
    return centroids(values, 0, n, importance, k);
  }

  /**
   * Up to k centroids in ascending order for {@code values[from..to)} weighted by {@code importance[0..to-from)}
   * (null: all 1). Sorting buffers and point arrays are reused by the calling thread across calls.
   */
  static double[] centroids(float[] values, int from, int to, float[] importance, int k) {
    int n = to - from;
    if (n > WINDOWED_THRESHOLD) {
      return WindowedKMeans1D.centroids(values, from, to, importance, k);
    }
    return centroids(WORKSPACE.get().sortedPoints(values, from, to, importance), k);
  }

  /**
   * The optimal table of sorted points: the DP over all of them, or the windowed kernel for many (their weights
   * as floats: exact for counts).
   */
  static double[] centroids(Points points, int k) {
    if (points.size() <= k) {
      return Arrays.copyOf(points.value(), points.size());
    }
    if (points.size() <= dpPointLimit(k)) {
      return means(points, optimalStarts(points, k));
    }
    float[] values = new float[points.size()];
    float[] weights = new float[points.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) points.value()[i];
      weights[i] = (float) points.weight(i);
    }
    return WindowedKMeans1D.centroids(values, 0, values.length, weights, k);
  }

  /** Above this many sorted points {@link #centroids(Points, int)} hands them to the windowed kernel. */
  static int dpPointLimit(int k) {
    return Math.min(8192, Math.max(WINDOWED_THRESHOLD, 32 * k));
  }

  /** The distinct values of {@code values[0..n)} with their counts (or summed importance). */
  static Points sortedPoints(float[] values, float[] importance, int n) {
    Points reused = new Workspace().sortedPoints(values, 0, n, importance);
    int size = reused.size();
    return new Points(size, Arrays.copyOf(reused.value(), size), Arrays.copyOf(reused.prefixWeight(), size + 1),
        Arrays.copyOf(reused.prefixSum(), size + 1));
  }

  private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

  /** Buffers for sorting one group and holding its points; grown on demand, kept per thread up to a size. */
  private static final class Workspace {
    int[] keys = new int[0];
    int[] keysScratch = new int[0];
    float[] weights = new float[0];
    float[] weightsScratch = new float[0];
    double[] value = new double[0];
    double[] prefixWeight = new double[1];
    double[] prefixSum = new double[1];
    final int[][] counts = FloatKeys.newCounts();
    /** The sorted distinct values; the arrays may be longer than the point count and are overwritten next call. */
    Points sortedPoints(float[] values, int from, int to, float[] importance) {
      int n = to - from;
      if (keys.length < n) {
        keys = new int[n];
        keysScratch = new int[n];
        value = new double[n];
        prefixWeight = new double[n + 1];
        prefixSum = new double[n + 1];
      }
      float[] payload = null;
      if (importance != null) {
        if (weights.length < n) {
          weights = new float[n];
          weightsScratch = new float[n];
        }
        System.arraycopy(importance, 0, weights, 0, n);
        payload = weights;
      }
      FloatKeys.sortedKeys(values, from, to, keys, payload, keysScratch, weightsScratch, counts);
      int p = -1;
      double runWeight = 0;
      int previousKey = 0;
      for (int i = 0; i < n; i++) {
        int key = keys[i];
        if (i == 0 || key != previousKey) {
          if (p >= 0) {
            prefixWeight[p + 1] = prefixWeight[p] + runWeight;
            prefixSum[p + 1] = prefixSum[p] + runWeight * value[p];
          }
          p++;
          value[p] = FloatKeys.value(key);
          runWeight = 0;
          previousKey = key;
        }
        runWeight += payload == null ? 1 : payload[i];
      }
      prefixWeight[0] = 0;
      prefixSum[0] = 0;
      if (p >= 0) {
        prefixWeight[p + 1] = prefixWeight[p] + runWeight;
        prefixSum[p + 1] = prefixSum[p] + runWeight * value[p];
      }
      return new Points(p + 1, value, prefixWeight, prefixSum);
    }
  }

  /** The start index of each of the k runs of the optimal split (k < points.size()). */
  static int[] optimalStarts(Points points, int k) {
    int n = points.size();
    double[] previous = new double[n + 1];
    for (int i = 1; i <= n; i++) {
      previous[i] = points.gain(0, i);
    }
    int[][] splitOf = new int[k][];
    for (int clusters = 2; clusters <= k; clusters++) {
      double[] current = new double[n + 1];
      int[] split = new int[n + 1];
      Layer layer = new Layer(points, previous, current, split);
      if (clusters == k) {
        layer.solve(n, n, clusters - 1, n - 1);
      } else {
        layer.solve(clusters, n, clusters - 1, n - 1);
      }
      splitOf[clusters - 1] = split;
      previous = current;
    }
    int[] starts = new int[k];
    int end = n;
    for (int j = k - 1; j >= 1; j--) {
      starts[j] = splitOf[j][end];
      end = starts[j];
    }
    return starts;
  }

  static double[] means(Points points, int[] starts) {
    double[] centroid = new double[starts.length];
    for (int j = 0; j < starts.length; j++) {
      int from = starts[j];
      int to = j + 1 < starts.length ? starts[j + 1] : points.size();
      double weight = points.prefixWeight()[to] - points.prefixWeight()[from];
      centroid[j] = weight > 0 ? (points.prefixSum()[to] - points.prefixSum()[from]) / weight
          : (points.value()[from] + points.value()[to - 1]) / 2;
    }
    return centroid;
  }

  /** Weighted squared error of assigning every point to the mean of its run (for tests and diagnostics). */
  static double cost(Points points, int[] starts) {
    double[] centroid = means(points, starts);
    double cost = 0;
    int j = 0;
    for (int i = 0; i < points.size(); i++) {
      while (j + 1 < starts.length && i >= starts[j + 1]) {
        j++;
      }
      double d = points.value()[i] - centroid[j];
      cost += points.weight(i) * d * d;
    }
    return cost;
  }

  /** One DP layer: best[i] = max over t of previous[t] + gain(t, i), solved by divide and conquer. */
  private record Layer(Points points, double[] previous, double[] best, int[] split) {
    void solve(int low, int high, int splitLow, int splitHigh) {
      if (low > high) {
        return;
      }
      int mid = (low + high) >>> 1;
      double bestValue = Double.NEGATIVE_INFINITY;
      int bestSplit = splitLow;
      int last = Math.min(mid - 1, splitHigh);
      for (int t = splitLow; t <= last; t++) {
        double value = previous[t] + points.gain(t, mid);
        if (value > bestValue) {
          bestValue = value;
          bestSplit = t;
        }
      }
      best[mid] = bestValue;
      split[mid] = bestSplit;
      solve(low, mid - 1, splitLow, bestSplit);
      solve(mid + 1, high, bestSplit, splitHigh);
    }
  }
}
