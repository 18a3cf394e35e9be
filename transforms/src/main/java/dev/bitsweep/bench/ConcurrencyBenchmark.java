package dev.bitsweep.bench;

import dev.bitsweep.compress.CompressionConfig;
import dev.bitsweep.compress.WeightMatrix;
import dev.bitsweep.methods.Methods;
import dev.bitsweep.parallel.ThreadBudget;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * What this machine gives independent single-threaded compression tasks run side by side: the ceiling of any
 * worker-level speed-up (two slots cannot beat two cores, and vCPUs that share a physical core or a cache give less
 * than twice one). Times one task alone and {@code copies} identical tasks at once, each on one thread, in
 * alternating rounds, and prints the throughput ratio copies x alone / together.
 */
public final class ConcurrencyBenchmark {
  /** 6-bit k-means per 2-channel group: one of the heavy tasks of the cluster benchmark's sweep, at 1/4 the size. */
  static final Map<String, Object> TASK =
      Map.of("method", "palettize", "mode", "kmeans", "nbits", 6, "granularity", "per_grouped_channel", "group_size", 2);

  private ConcurrencyBenchmark() {}

  public record Result(int copies, double aloneSeconds, double togetherSeconds) {
    public double throughputRatio() {
      return copies * aloneSeconds / togetherSeconds;
    }
  }

  /** Medians over {@code rounds} rounds of (one task alone, {@code copies} tasks together). */
  public static Result run(int rows, int cols, int copies, int rounds) throws Exception {
    if (copies < 2 || rounds < 1) {
      throw new IllegalArgumentException("copies must be >= 2 and rounds >= 1");
    }
    WeightMatrix weights = CompressionBenchmark.gaussian(rows, cols, 5L);
    CompressionConfig config = Methods.ALL.parse(TASK);
    Runnable task = () -> ThreadBudget.call(1, () -> Methods.ALL.compress(config, weights).weights());
    task.run(); // warm-up
    double[] alone = new double[rounds];
    double[] together = new double[rounds];
    ExecutorService executor = Executors.newFixedThreadPool(copies);
    try {
      for (int round = 0; round < rounds; round++) {
        long start = System.nanoTime();
        task.run();
        alone[round] = (System.nanoTime() - start) / 1e9;
        start = System.nanoTime();
        List<Future<?>> running = new ArrayList<>();
        for (int i = 0; i < copies; i++) {
          running.add(executor.submit(task));
        }
        for (Future<?> future : running) {
          future.get();
        }
        together[round] = (System.nanoTime() - start) / 1e9;
      }
    } finally {
      executor.shutdownNow();
    }
    Arrays.sort(alone);
    Arrays.sort(together);
    return new Result(copies, alone[rounds / 2], together[rounds / 2]);
  }

  public static String format(Result r) {
    return String.format(Locale.ROOT, "%s, one thread per task: 1 task alone %.2f s, %d at once %.2f s:"
        + " throughput x%.2f of %d", TASK, r.aloneSeconds(), r.copies(), r.togetherSeconds(), r.throughputRatio(),
        r.copies());
  }
}
