package dev.bitsweep.pipeline;

import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.eval.ModelRunner.Output;
import dev.bitsweep.eval.metrics.SessionSettings;
import dev.bitsweep.onnx.ModelException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The evaluation's ONNX Runtime sessions in a worker JVM: the one place that opens, leases and closes them. A
 * session is one (model file, {@link SessionSettings}, intra-op threads, outputs). Every package is a whole model,
 * so the sessions a worker keeps open are limited by a native memory budget ({@link EvalMemory}): a session is
 * charged its estimated native bytes when it opens; idle sessions are closed, least recently used first, to make
 * room; a task whose session does not fit yet waits for others to finish. A session that could never fit, or that
 * the machine has no memory left for, is a {@link EvalMemoryException} (its config's error), never an attempt that
 * could kill the JVM. Sessions are created one at a time per JVM (creation is a session's peak of native memory).
 *
 * <p>A session is leased for each run: one evicted (or forgotten) while other threads still run it is closed when
 * the last of them releases it, never under them. {@link #batchDone} closes a model's sessions as soon as all of
 * its batches have run in this JVM.
 */
final class EvalSessions {
  private static final Object LOCK = new Object();
  private static final Object CREATING = new Object();
  /** Access-ordered (least recently used first); guarded by LOCK, as are the sessions' leases and the counters. */
  private static final Map<String, Session> SESSIONS = new LinkedHashMap<>(16, 0.75f, true);
  private static int openSessions;
  private static long usedBytes;
  private static int peakSessions;
  private static final Map<String, Integer> BATCHES_DONE = new ConcurrentHashMap<>();

  private EvalSessions() {}

  /** What a run needs: the session to run in and the worker's memory budget. */
  record Request(String modelPath, SessionSettings settings, Set<String> outputs, int intraOpThreads,
      List<ModelInput> inputs, LongSupplier nativeBytes, long budgetBytes) {}

  /** A run's outputs; the seconds spent creating its session (0 when it was open already) and the rest. */
  record Timed(Map<String, Output> outputs, double sessionSeconds, double runSeconds) {}

  /** The outputs of samples [from, to) of {@code data}, in a leased session. */
  static Timed run(Request request, Dataset data, int from, int to) {
    long start = System.nanoTime();
    Session session = acquire(request);
    try {
      boolean opened;
      Map<String, Output> outputs;
      synchronized (session) {
        opened = session.runner == null;
        if (opened) {
          synchronized (CREATING) {
            session.runner = ModelRunner.open(Path.of(request.modelPath()), request.inputs(), request.outputs(),
                request.settings(), request.intraOpThreads());
          }
        }
        outputs = session.runner.runAll(data, from, to);
      }
      double sessionSeconds = opened ? session.runner.sessionSeconds() : 0;
      return new Timed(outputs, sessionSeconds, Math.max(0, (System.nanoTime() - start) / 1e9 - sessionSeconds));
    } catch (RuntimeException e) {
      synchronized (LOCK) {
        if (session.runner == null && SESSIONS.get(session.key) == session) {
          SESSIONS.remove(session.key); // never opened: the next task tries again
          session.evicted = true;
        }
      }
      throw e;
    } finally {
      release(session);
    }
  }

  /** One-thread run of the first output of a weight-only model, within {@code budgetBytes}. */
  static Output run(String modelPath, List<ModelInput> inputs, Dataset data, int from, int to, long nativeBytes,
      long budgetBytes) {
    Request request = new Request(modelPath, SessionSettings.QDQ_DISABLED, Set.of(), 1, inputs, () -> nativeBytes,
        budgetBytes);
    return run(request, data, from, to).outputs().values().iterator().next();
  }

  private static Session acquire(Request request) {
    String key = request.modelPath() + "|" + request.settings() + "|" + request.intraOpThreads() + "|"
        + String.join(",", request.outputs().stream().sorted().toList());
    synchronized (LOCK) {
      Session session = SESSIONS.get(key);
      if (session == null) {
        long need = request.nativeBytes().getAsLong();
        long budget = request.budgetBytes();
        if (need > budget) {
          throw new EvalMemoryException(String.format(Locale.ROOT, "evaluating %s needs about %s of native memory"
              + " for its ONNX Runtime session (the decoded weights and the file), more than the evaluation memory"
              + " budget of %s per worker; raise --eval-memory (default: %s) or give the worker more memory",
              request.modelPath(), EvalMemory.format(need), EvalMemory.format(budget), EvalMemory.describeDefault()));
        }
        while (usedBytes + need > budget) {
          if (!closeIdle()) {
            waitForRelease();
          }
        }
        long available = EvalMemory.availableBytes();
        while (need > available && closeIdle()) {
          available = EvalMemory.availableBytes();
        }
        if (need > available) {
          throw new EvalMemoryException(String.format(Locale.ROOT, "evaluating %s needs about %s of native memory"
              + " for its ONNX Runtime session but the machine has only %s available (%d evaluation sessions open in"
              + " this worker); lower --parallelism or --eval-memory, or free memory", request.modelPath(),
              EvalMemory.format(need), EvalMemory.format(available), openSessions));
        }
        session = new Session(key, request.modelPath(), need);
        SESSIONS.put(key, session);
        openSessions++;
        peakSessions = Math.max(peakSessions, openSessions);
        usedBytes += need;
      }
      session.users++;
      return session;
    }
  }

  private static void waitForRelease() {
    try {
      LOCK.wait();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for evaluation memory", e);
    }
  }

  private static void release(Session session) {
    synchronized (LOCK) {
      session.users--;
      if (session.evicted && session.users == 0) {
        close(session);
      }
      LOCK.notifyAll();
    }
  }

  /** Under LOCK: closes the least recently used idle session; false when every session is in use. */
  private static boolean closeIdle() {
    for (Map.Entry<String, Session> entry : SESSIONS.entrySet()) {
      if (entry.getValue().users == 0) {
        SESSIONS.remove(entry.getKey());
        retire(entry.getValue());
        return true;
      }
    }
    return false;
  }

  /** Under LOCK: closes the session now if unused, else when its last user releases it. */
  private static void retire(Session session) {
    session.evicted = true;
    if (session.users == 0) {
      close(session);
    }
  }

  private static void close(Session session) {
    if (session.closed) {
      return;
    }
    session.closed = true;
    openSessions--;
    usedBytes -= session.bytes;
    if (session.runner != null) {
      session.runner.close();
    }
    LOCK.notifyAll();
  }

  /** Forgets every session of a model file (it is being replaced); a run still using one finishes first. */
  static void forget(String modelPath) {
    synchronized (LOCK) {
      List<String> keys = new ArrayList<>();
      SESSIONS.forEach((key, session) -> {
        if (session.modelPath.equals(modelPath)) {
          keys.add(key);
        }
      });
      keys.forEach(key -> retire(SESSIONS.remove(key)));
    }
  }

  /**
   * Counts one finished batch of {@code modelPath} in sweep {@code sweep}; once all {@code batches} have run in this
   * JVM the model's sessions are closed (a later retry opens one again).
   */
  static void batchDone(String sweep, String modelPath, int batches) {
    int done = BATCHES_DONE.merge(sweep + "|" + modelPath, 1, Integer::sum);
    if (done >= batches) {
      BATCHES_DONE.remove(sweep + "|" + modelPath);
      forget(modelPath);
    }
  }

  /** Closes every idle session (as a worker does before a big model); for tests. */
  static void closeIdleSessions() {
    synchronized (LOCK) {
      while (closeIdle()) {
        // one by one, least recently used first
      }
    }
  }

  /** Sessions open (cached, or evicted and still leased); for tests. */
  static int openSessions() {
    synchronized (LOCK) {
      return openSessions;
    }
  }

  /** Native bytes charged to open sessions; for tests. */
  static long usedBytes() {
    synchronized (LOCK) {
      return usedBytes;
    }
  }

  /** The most sessions open at once since the last {@link #resetPeak}; for tests. */
  static int peakSessions() {
    synchronized (LOCK) {
      return peakSessions;
    }
  }

  static void resetPeak() {
    synchronized (LOCK) {
      peakSessions = openSessions;
    }
  }

  /** An open (or opening) session with the number of callers using it. */
  private static final class Session {
    final String key;
    final String modelPath;
    final long bytes;
    ModelRunner runner;
    int users;
    boolean evicted;
    boolean closed;

    Session(String key, String modelPath, long bytes) {
      this.key = key;
      this.modelPath = modelPath;
      this.bytes = bytes;
    }
  }

  /** An evaluation that does not fit the worker's memory: its config's error, with what to change. */
  static final class EvalMemoryException extends ModelException {
    EvalMemoryException(String message) {
      super(message);
    }
  }
}
