package dev.bitsweep.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ThreadBudgetTest {

  /** Threads a parallel stream of {@code tasks} elements ran on; each element waits until all have started or 50 ms. */
  private static Set<Thread> threadsOfParallelStream(int tasks) {
    Set<Thread> threads = ConcurrentHashMap.newKeySet();
    CountDownLatch started = new CountDownLatch(tasks);
    IntStream.range(0, tasks).parallel().forEach(i -> {
      threads.add(Thread.currentThread());
      started.countDown();
      try {
        started.await(50, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    return threads;
  }

  @Test
  void oneThreadRunsAParallelStreamOnOneThread() {
    Set<Thread> threads = ThreadBudget.call(1, () -> threadsOfParallelStream(8));
    assertEquals(1, threads.size());
    assertTrue(threads.stream().noneMatch(t -> t == Thread.currentThread()));
  }

  @Test
  void threeThreadsRunAParallelStreamOnAtMostThree() {
    Set<Thread> threads = ThreadBudget.call(3, () -> threadsOfParallelStream(8));
    assertTrue(threads.size() <= 3, "ran on " + threads.size() + " threads");
    assertTrue(threads.stream().noneMatch(t -> t.getName().startsWith("ForkJoinPool.commonPool")), threads.toString());
  }

  @Test
  void theResultAndTheTasksExceptionsComeBackUnchanged() {
    assertEquals(4950, ThreadBudget.call(2, () -> IntStream.range(0, 100).parallel().sum()));
    IllegalArgumentException thrown = new IllegalArgumentException("layer fc1: NaN weight");
    assertSame(thrown, assertThrows(IllegalArgumentException.class, () -> ThreadBudget.call(1, () -> {
      throw thrown;
    })));
  }

  @Test
  void aBudgetBelowOneIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ThreadBudget.call(0, () -> 1));
    assertEquals("threads must be >= 1, got 0", e.getMessage());
  }
}
