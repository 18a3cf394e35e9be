package dev.bitsweep.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.bitsweep.bench.CompressionBenchmark;
import dev.bitsweep.methods.Methods;
import dev.bitsweep.parallel.ThreadBudget;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A compressed layer does not depend on how many threads compressed it (a worker's slots decide that). */
class ThreadBudgetDeterminismTest {
  /** Large enough that every parallel loop splits into many chunks, and past the k-means histogram threshold. */
  private static final WeightMatrix WEIGHTS = CompressionBenchmark.gaussian(1024, 2304, 11L);

  static Object[][] configs() {
    return new Object[][] {
        {Map.of("method", "palettize", "mode", "kmeans", "nbits", 4, "granularity", "per_tensor")},
        {Map.of("method", "palettize", "mode", "kmeans", "nbits", 4, "granularity", "per_grouped_channel",
            "group_size", 16)},
        {Map.of("method", "palettize", "mode", "kmeans", "nbits", 2, "granularity", "per_tensor", "cluster_dim", 2)},
        {Map.of("method", "linear_quantize", "mode", "linear_symmetric", "dtype", "int4", "granularity", "per_block",
            "block_size", 32)},
        {Map.of("method", "prune", "mode", "magnitude", "target_sparsity", 0.5)},
        {Map.of("method", "prune", "mode", "magnitude", "n_m_ratio", java.util.List.of(2, 4))},
    };
  }

  @ParameterizedTest
  @MethodSource("configs")
  void oneThreadAndThreeThreadsGiveTheSameLayer(Map<String, Object> fields) {
    CompressionConfig config = Methods.ALL.parse(fields);
    float[] oneThread = ThreadBudget.call(1, () -> Methods.ALL.compress(config, WEIGHTS)).weights().decompress().values();
    float[] threeThreads = ThreadBudget.call(3, () -> Methods.ALL.compress(config, WEIGHTS)).weights().decompress().values();
    float[] commonPool = Methods.ALL.compress(config, WEIGHTS).weights().decompress().values();
    assertArrayEquals(oneThread, threeThreads);
    assertArrayEquals(oneThread, commonPool);
  }
}
