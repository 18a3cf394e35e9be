package dev.bitsweep.plan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Exact multiple-choice knapsack over the layers of a model: pick one option per layer so that the total bytes are
 * smallest while the summed predicted loss stays within a budget, or the summed loss is smallest while the bytes
 * stay within a cap.
 *
 * <p>Why this solver: sizes are exact integers (stored bytes), so the textbook exact method is dynamic programming
 * over integer sizes. Its dense table has one cell per total size, millions for a real model. This is the same DP kept
 * sparse: after each layer only the non-dominated (bytes, loss) states survive (no other state is both no larger and
 * no worse), sorted by bytes with strictly falling loss. Every optimal plan of either objective is on that frontier
 * (replacing a prefix of an optimal plan by a dominating one stays feasible and no worse), so both objectives are read
 * off it exactly, and the number of states is bounded by the number of distinct total sizes, i.e. never more than the
 * dense table. A Lagrangian relaxation would be faster but only provably near-exact (its gap is the loss of one
 * layer's step), and an exact fallback is needed anyway; on the tens of layers and handful of candidates here the
 * frontier stays small (thousands of states), so the exact method is the simpler one.
 *
 * <p>Losses are summed in layer order, the same order a brute-force enumeration uses, so both give bit-identical
 * totals.
 */
public final class MultipleChoiceKnapsack {
  /** Refuses to grow beyond this many states per layer (memory), naming the remedy. */
  static final int MAX_STATES = 5_000_000;

  /** A chosen plan: {@code choice[i]} indexes the options of layer i. */
  public record Solution(int[] choice, long bytes, double loss) {
    public Solution {
      choice = choice.clone();
    }

    @Override
    public int[] choice() {
      return choice.clone();
    }

    public List<LayerChoices.Option> options(List<LayerChoices> layers) {
      List<LayerChoices.Option> chosen = new ArrayList<>();
      for (int i = 0; i < choice.length; i++) {
        chosen.add(layers.get(i).options().get(choice[i]));
      }
      return chosen;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Solution s && Arrays.equals(choice, s.choice) && bytes == s.bytes
          && Double.compare(loss, s.loss) == 0;
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(choice) * 31 + Long.hashCode(bytes);
    }

    @Override
    public String toString() {
      return "Solution" + Arrays.toString(choice) + " bytes=" + bytes + " loss=" + loss;
    }
  }

  private final List<LayerChoices> layers;
  private final long[] bytes;
  private final double[] loss;
  /** Per layer, per surviving state: the state of the previous layer it extends and the option it picks. */
  private final List<int[]> parents = new ArrayList<>();
  private final List<int[]> picks = new ArrayList<>();

  private MultipleChoiceKnapsack(List<LayerChoices> layers) {
    this.layers = List.copyOf(layers);
    long[] stateBytes = {0};
    double[] stateLoss = {0};
    for (LayerChoices layer : this.layers) {
      int options = layer.options().size();
      int candidates = stateBytes.length * options;
      long[] candBytes = new long[candidates];
      double[] candLoss = new double[candidates];
      int[] candParent = new int[candidates];
      int[] candPick = new int[candidates];
      int n = 0;
      for (int s = 0; s < stateBytes.length; s++) {
        for (int o = 0; o < options; o++) {
          LayerChoices.Option option = layer.options().get(o);
          candBytes[n] = Math.addExact(stateBytes[s], option.bytes());
          candLoss[n] = stateLoss[s] + option.loss();
          candParent[n] = s;
          candPick[n] = o;
          n++;
        }
      }
      Integer[] order = new Integer[n];
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
      Arrays.sort(order, (a, b) -> candBytes[a] != candBytes[b] ? Long.compare(candBytes[a], candBytes[b])
          : Double.compare(candLoss[a], candLoss[b]));
      int kept = 0;
      int[] keep = new int[n];
      double bestLoss = Double.POSITIVE_INFINITY;
      for (int i : order) {
        if (candLoss[i] < bestLoss) {
          bestLoss = candLoss[i];
          keep[kept++] = i;
        }
      }
      if (kept > MAX_STATES) {
        throw new IllegalArgumentException("the plan search has " + kept + " non-dominated partial plans after layer "
            + layer.layer() + "; give fewer candidates per layer");
      }
      stateBytes = new long[kept];
      stateLoss = new double[kept];
      int[] parent = new int[kept];
      int[] pick = new int[kept];
      for (int k = 0; k < kept; k++) {
        int i = keep[k];
        stateBytes[k] = candBytes[i];
        stateLoss[k] = candLoss[i];
        parent[k] = candParent[i];
        pick[k] = candPick[i];
      }
      parents.add(parent);
      picks.add(pick);
    }
    this.bytes = stateBytes;
    this.loss = stateLoss;
  }

  public static MultipleChoiceKnapsack of(List<LayerChoices> layers) {
    if (layers.isEmpty()) {
      throw new IllegalArgumentException("a plan needs at least one layer");
    }
    return new MultipleChoiceKnapsack(layers);
  }

  /** The smallest plan whose predicted loss is at most {@code maxLoss}; empty when no plan is within it. */
  public Optional<Solution> smallestWithin(double maxLoss) {
    for (int k = 0; k < bytes.length; k++) {
      if (loss[k] <= maxLoss) {
        return Optional.of(solution(k));
      }
    }
    return Optional.empty();
  }

  /** The plan with the lowest predicted loss whose bytes are at most {@code maxBytes}; empty when none fits. */
  public Optional<Solution> bestWithin(long maxBytes) {
    for (int k = bytes.length - 1; k >= 0; k--) {
      if (bytes[k] <= maxBytes) {
        return Optional.of(solution(k));
      }
    }
    return Optional.empty();
  }

  /** Every non-dominated plan, smallest first (loss strictly falling). */
  public List<Solution> frontier() {
    List<Solution> all = new ArrayList<>();
    for (int k = 0; k < bytes.length; k++) {
      all.add(solution(k));
    }
    return all;
  }

  private Solution solution(int state) {
    int[] choice = new int[layers.size()];
    int s = state;
    for (int layer = layers.size() - 1; layer >= 0; layer--) {
      choice[layer] = picks.get(layer)[s];
      s = parents.get(layer)[s];
    }
    return new Solution(choice, bytes[state], loss[state]);
  }
}
