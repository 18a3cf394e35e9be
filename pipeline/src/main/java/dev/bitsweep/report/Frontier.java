package dev.bitsweep.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The Pareto frontier of (size, metric) points: the points no other point dominates, where q dominates p when q is no
 * larger and no worse, and strictly smaller or strictly better. Equal points do not dominate each other.
 */
public final class Frontier {
  private Frontier() {}

  /**
   * The indices of the non-dominated points, in order of increasing size. Sorted by size, then best metric first,
   * a point is on the frontier when its metric beats every strictly smaller point's, and it is no worse than the
   * best point of its own size.
   */
  public static List<Integer> of(double[] size, double[] metric, boolean higherIsBetter) {
    if (size.length != metric.length) {
      throw new IllegalArgumentException(size.length + " sizes but " + metric.length + " metric values");
    }
    double sign = higherIsBetter ? 1 : -1;
    Integer[] order = new Integer[size.length];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> size[i]).thenComparingDouble(i -> -sign * metric[i]));
    List<Integer> frontier = new ArrayList<>();
    double bestSmaller = Double.NEGATIVE_INFINITY; // best signed metric of all strictly smaller points
    int i = 0;
    while (i < order.length) {
      int j = i;
      double groupBest = sign * metric[order[i]];
      while (j < order.length && size[order[j]] == size[order[i]]) {
        j++;
      }
      for (int k = i; k < j; k++) {
        double value = sign * metric[order[k]];
        if (value == groupBest && value > bestSmaller) {
          frontier.add(order[k]);
        }
      }
      bestSmaller = Math.max(bestSmaller, groupBest);
      i = j;
    }
    return frontier;
  }
}
