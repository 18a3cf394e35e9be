package dev.bitsweep.stats;

import dev.bitsweep.calibrate.HessianAccumulator;
import dev.bitsweep.layer.Layer;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits the Hessians of a calibration pass into capture groups that fit a memory budget: each group is captured by
 * its own runs of the model, holding only its own accumulators, so no step needs every Hessian in memory at once.
 * A group costs its accumulators ({@link HessianAccumulator#bytes}) plus the largest transient of one rank update
 * ({@link HessianAccumulator#updateBytes}); groups are filled greedily in model order. A Hessian bigger than the
 * budget alone gets a group of its own (it cannot be split). The activations of one ONNX Runtime run are not counted:
 * they scale with {@code batch_size}, not with the layer count.
 */
public final class CaptureGroups {
  private CaptureGroups() {}

  /**
   * The default budget of one capture task: half the heap, shared by the {@code parallelism} tasks that may run at
   * once in one JVM (embedded Flink and the DirectRunner run them all in the launching JVM).
   */
  public static long budgetFromHeap(long maxHeapBytes, int parallelism) {
    return maxHeapBytes / 2 / Math.max(1, parallelism);
  }

  public static List<List<Layer>> partition(List<Layer> hessians, CapturePlan plan, long budgetBytes) {
    List<List<Layer>> groups = new ArrayList<>();
    List<Layer> current = new ArrayList<>();
    for (Layer layer : hessians) {
      List<Layer> extended = new ArrayList<>(current);
      extended.add(layer);
      if (!current.isEmpty() && bytes(extended, plan) > budgetBytes) {
        groups.add(current);
        current = new ArrayList<>();
      }
      current.add(layer);
    }
    if (!current.isEmpty()) {
      groups.add(current);
    }
    return groups;
  }

  /** The memory one capture task of {@code group} needs for its Hessians. */
  public static long bytes(List<Layer> group, CapturePlan plan) {
    long accumulators = 0;
    long update = 0;
    for (Layer layer : group) {
      accumulators += HessianAccumulator.bytes(layer.cols(), plan.groups(layer.name()));
      update = Math.max(update, HessianAccumulator.updateBytes(layer.cols()));
    }
    return accumulators + update;
  }
}
