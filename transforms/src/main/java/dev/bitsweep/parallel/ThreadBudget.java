package dev.bitsweep.parallel;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;

/**
 * Runs a piece of work so that its parallel streams use at most a given number of threads.
 *
 * <p>The compressors split their loops with parallel streams. A parallel stream forks its subtasks into the
 * ForkJoinPool its caller runs in (see {@link java.util.concurrent.ForkJoinTask#fork}), and into the common pool,
 * which spans every core, when the caller is an ordinary thread. Work started inside a pool of n threads therefore
 * stays on those n threads. A pipeline worker gives each task its share of the cores this way, so that tasks in
 * neighbouring slots do not compete for the same cores.
 */
public final class ThreadBudget {
  private ThreadBudget() {}

  /** {@code work}'s result, computed with at most {@code threads} threads (a pool of its own, closed afterwards). */
  public static <T> T call(int threads, Supplier<T> work) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    ForkJoinPool pool = new ForkJoinPool(threads);
    try {
      return CompletableFuture.supplyAsync(work, pool).join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw e;
    } finally {
      pool.shutdownNow();
    }
  }
}
