package dev.bitsweep.compress;

import java.util.Random;
import java.util.stream.IntStream;

/**
 * k-means on vectors of {@code dim} weights (vector palettization, cluster_dim > 1), with optional per-component
 * weights. The 1-D dynamic programme does not extend to vectors (the problem is NP-hard there), so this is Lloyd's
 * algorithm from a k-means++ start on a deterministic sample: a good local optimum, not a proven global one.
 * Assignment runs over fixed chunks whose partial sums are merged in chunk order, so results do not depend on the
 * number of threads.
 */
final class VectorKMeans {
  private static final int SAMPLE = 8192;
  private static final int MAX_STEPS = 30;
  private static final int CHUNK = 1 << 14;

  private VectorKMeans() {}

  /** Up to k centroids (k * dim values, fewer when there are fewer vectors) for {@code n} vectors in {@code data}. */
  static float[] centroids(float[] data, float[] weights, int n, int dim, int k, long seed) {
    if (n <= k) {
      return java.util.Arrays.copyOf(data, n * dim);
    }
    float[] centroids = initialise(data, weights, n, dim, k, new Random(seed));
    int[] assignment = new int[n];
    java.util.Arrays.fill(assignment, -1);
    for (int step = 0; step < MAX_STEPS; step++) {
      boolean changed = assign(data, weights, n, dim, centroids, k, assignment);
      if (!changed) {
        break;
      }
      update(data, weights, n, dim, k, assignment, centroids);
    }
    return centroids;
  }

  /** k-means++ seeding on an evenly strided sample of at most {@value #SAMPLE} vectors. */
  private static float[] initialise(float[] data, float[] weights, int n, int dim, int k, Random random) {
    int sampleSize = Math.min(n, SAMPLE);
    int[] sample = new int[sampleSize];
    for (int s = 0; s < sampleSize; s++) {
      sample[s] = (int) ((long) s * n / sampleSize);
    }
    float[] centroids = new float[k * dim];
    double[] nearest = new double[sampleSize];
    java.util.Arrays.fill(nearest, Double.POSITIVE_INFINITY);
    int chosen = sample[random.nextInt(sampleSize)];
    for (int c = 0; c < k; c++) {
      System.arraycopy(data, chosen * dim, centroids, c * dim, dim);
      double total = 0;
      for (int s = 0; s < sampleSize; s++) {
        nearest[s] = Math.min(nearest[s], distance(data, weights, sample[s], dim, centroids, c));
        total += nearest[s];
      }
      if (total == 0) {
        // fewer distinct vectors than clusters: the remaining entries repeat the last one
        for (int rest = c + 1; rest < k; rest++) {
          System.arraycopy(centroids, c * dim, centroids, rest * dim, dim);
        }
        break;
      }
      double target = random.nextDouble() * total;
      int s = 0;
      for (double cumulative = nearest[0]; cumulative <= target && s < sampleSize - 1; cumulative += nearest[++s]) {
        // walk to the sampled vector
      }
      chosen = sample[s];
    }
    return centroids;
  }

  static double distance(float[] data, float[] weights, int vector, int dim, float[] centroids, int c) {
    double sum = 0;
    for (int d = 0; d < dim; d++) {
      double diff = data[vector * dim + d] - centroids[c * dim + d];
      sum += (weights == null ? 1 : weights[vector * dim + d]) * diff * diff;
    }
    return sum;
  }

  static int nearest(float[] data, float[] weights, int vector, int dim, float[] centroids, int k) {
    int best = 0;
    double bestDistance = Double.POSITIVE_INFINITY;
    for (int c = 0; c < k; c++) {
      double distance = distance(data, weights, vector, dim, centroids, c);
      if (distance < bestDistance) {
        bestDistance = distance;
        best = c;
      }
    }
    return best;
  }

  private static boolean assign(float[] data, float[] weights, int n, int dim, float[] centroids, int k,
      int[] assignment) {
    int chunks = (n + CHUNK - 1) / CHUNK;
    boolean[] changed = new boolean[chunks];
    IntStream.range(0, chunks).parallel().forEach(chunk -> {
      for (int v = chunk * CHUNK; v < Math.min(n, (chunk + 1) * CHUNK); v++) {
        int best = nearest(data, weights, v, dim, centroids, k);
        changed[chunk] |= best != assignment[v];
        assignment[v] = best;
      }
    });
    for (boolean c : changed) {
      if (c) {
        return true;
      }
    }
    return false;
  }

  private static void update(float[] data, float[] weights, int n, int dim, int k, int[] assignment,
      float[] centroids) {
    double[] weightSum = new double[k * dim];
    double[] valueSum = new double[k * dim];
    for (int v = 0; v < n; v++) {
      int base = assignment[v] * dim;
      for (int d = 0; d < dim; d++) {
        double w = weights == null ? 1 : weights[v * dim + d];
        weightSum[base + d] += w;
        valueSum[base + d] += w * data[v * dim + d];
      }
    }
    for (int i = 0; i < k * dim; i++) {
      if (weightSum[i] > 0) {
        centroids[i] = (float) (valueSum[i] / weightSum[i]);
      }
    }
  }
}
