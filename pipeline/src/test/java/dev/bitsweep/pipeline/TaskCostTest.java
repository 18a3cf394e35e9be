package dev.bitsweep.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bitsweep.methods.Methods;
import dev.bitsweep.layer.Layer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TaskCostTest {
  private static final Layer WIDE = new Layer("fc1.weight", "fc1.weight", "Gemm", new long[] {2048, 2048}, 1, 0, "",
      Layer.Storage.INITIALIZER);

  private static double seconds(Map<String, Object> config) {
    return TaskCost.seconds(new LayerTask("c", WIDE, Methods.ALL.parse(config)));
  }

  private static Map<String, Object> kmeans(int nbits, int groupSize) {
    return Map.of("method", "palettize", "mode", "kmeans", "nbits", nbits, "granularity", "per_grouped_channel",
        "group_size", groupSize);
  }

  /** The formulas, at the cluster benchmark's heaviest task (measured there: 42-54 s single-threaded). */
  @Test
  void groupedKMeansCostsGroupsTimesKSquared() {
    double base = 2048 * 2048 * 1e-7;
    assertEquals(base + 1024 * 256.0 * 256 * 6e-7, seconds(kmeans(8, 2)), 1e-9);
    assertEquals(base + 1024 * 64.0 * 64 * 6e-7, seconds(kmeans(6, 2)), 1e-9);
    assertEquals(base + 128 * 16.0 * 16 * 6e-7, seconds(kmeans(4, 16)), 1e-9);
    assertEquals(base, seconds(Map.of("method", "linear_quantize", "mode", "linear_symmetric", "dtype", "int8",
        "granularity", "per_channel")), 1e-12);
    assertEquals(base + 2048.0 * 2048 * 16 * 1e-7, seconds(Map.of("method", "palettize", "mode", "kmeans", "nbits", 4,
        "granularity", "per_tensor", "cluster_dim", 2)), 1e-9);
    assertEquals(base + 2048.0 * 2048 * 2048 * 5e-11, seconds(Map.of("method", "gptq", "nbits", 4)), 1e-9);
  }

  /** The order the measurements (README, `bitsweep bench`) give on one layer. */
  @Test
  void heavierMethodsAreEstimatedHeavier() {
    List<Double> ascending = List.of(
        seconds(Map.of("method", "prune", "mode", "magnitude", "target_sparsity", 0.5)),
        seconds(kmeans(4, 32)),
        seconds(kmeans(6, 16)),
        seconds(kmeans(6, 2)),
        seconds(kmeans(8, 16)),
        seconds(kmeans(8, 2)));
    for (int i = 1; i < ascending.size(); i++) {
      assertTrue(ascending.get(i - 1) < ascending.get(i), ascending.toString());
    }
  }
}
