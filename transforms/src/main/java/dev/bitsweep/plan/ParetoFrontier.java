package dev.bitsweep.plan;

/**
 * The size-versus-metric Pareto frontier: a point is on it when no other point is at most as large and at least as
 * good with one of the two strictly better. Equal points are all on it. Works for metrics where higher is better
 * (accuracy, cosine, SNR) and where lower is better (perplexity).
 */
public final class ParetoFrontier {
  private ParetoFrontier() {}

  public static boolean[] mark(double[] size, double[] metric, boolean higherIsBetter) {
    if (size.length != metric.length) {
      throw new IllegalArgumentException("frontier needs one metric per size: " + size.length + " vs " + metric.length);
    }
    int n = size.length;
    boolean[] on = new boolean[n];
    for (int i = 0; i < n; i++) {
      if (Double.isNaN(size[i]) || Double.isNaN(metric[i])) {
        continue; // unmeasured points are never on the frontier
      }
      double mine = higherIsBetter ? metric[i] : -metric[i];
      boolean dominated = false;
      for (int j = 0; j < n && !dominated; j++) {
        if (j == i || Double.isNaN(size[j]) || Double.isNaN(metric[j])) {
          continue;
        }
        double other = higherIsBetter ? metric[j] : -metric[j];
        dominated = size[j] <= size[i] && other >= mine && (size[j] < size[i] || other > mine);
      }
      on[i] = !dominated;
    }
    return on;
  }
}
