package dev.bitsweep.pipeline;

import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.ModelRunner;
import dev.bitsweep.onnx.OnnxModel;
import java.lang.ref.SoftReference;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a worker JVM reads once and shares between DoFn instances: parsed models, datasets, calibration statistics,
 * ONNX Runtime sessions.
 * Sessions are kept in a small LRU because every package is a whole model. A session is leased for each run: one
 * evicted (or forgotten) while other threads still run it is closed when the last of them releases it, never
 * under them.
 */
final class WorkerCache {
  private static final int MAX_SESSIONS = 4;
  private static final Map<String, SoftReference<OnnxModel>> MODELS = new ConcurrentHashMap<>();
  private static final Map<String, Dataset> DATASETS = new ConcurrentHashMap<>();
  /** Access-ordered (least recently used first); guarded by itself, as are the sessions' lease counts. */
  private static final Map<String, Session> RUNNERS = new LinkedHashMap<>(16, 0.75f, true);
  /** Sessions open, cached or evicted but still leased; guarded by RUNNERS. */
  private static int openSessions;
  private static final Map<String, SoftReference<LayerStatistics>> STATISTICS = new ConcurrentHashMap<>();

  private WorkerCache() {}

  static OnnxModel model(String path) {
    SoftReference<OnnxModel> cached = MODELS.get(path);
    OnnxModel model = cached == null ? null : cached.get();
    if (model == null) {
      synchronized (MODELS) {
        cached = MODELS.get(path);
        model = cached == null ? null : cached.get();
        if (model == null) {
          model = OnnxModel.read(Path.of(path));
          MODELS.put(path, new SoftReference<>(model));
        }
      }
    }
    return model;
  }

  /** A layer's calibration statistics from the statistics cache, read once per worker while memory allows. */
  static LayerStatistics statistics(String cacheDir, String layer) {
    String key = cacheDir + "|" + layer;
    SoftReference<LayerStatistics> cached = STATISTICS.get(key);
    LayerStatistics statistics = cached == null ? null : cached.get();
    if (statistics == null) {
      statistics = StatisticsCache.read(Path.of(cacheDir), layer);
      STATISTICS.put(key, new SoftReference<>(statistics));
    }
    return statistics;
  }

  static Dataset dataset(String path, List<ModelInput> inputs, boolean needLabels) {
    return DATASETS.computeIfAbsent(path + "|" + needLabels, k -> Dataset.open(Path.of(path), inputs, needLabels));
  }

  /** An open ONNX Runtime session with the number of callers using it; closed once evicted and unused. */
  private static final class Session {
    final ModelRunner runner;
    int users;
    boolean evicted;

    /** The thread that created the session, until its run charges the creation to its task; guarded by RUNNERS. */
    Thread opener = Thread.currentThread();

    Session(ModelRunner runner) {
      this.runner = runner;
    }

    /** True once, for the thread that created the session: its task is charged the creation. */
    boolean takeOpening() {
      synchronized (RUNNERS) {
        boolean mine = opener == Thread.currentThread();
        if (mine) {
          opener = null;
        }
        return mine;
      }
    }
  }

  /** Runs a model on samples [from, to) in a one-thread session (see {@link #timedRun}). */
  static ModelRunner.Output run(String modelPath, List<ModelInput> inputs, Dataset data, int from, int to) {
    return timedRun(modelPath, inputs, 1, data, from, to).output();
  }

  /** A run's output; the seconds spent creating its session (0 when it was open already) and running it. */
  record TimedOutput(ModelRunner.Output output, double sessionSeconds, double runSeconds) {}

  /**
   * Runs a model on samples [from, to), holding the session's lock (an ORT session is used by one caller at a time
   * here); a session this call opens gets {@code intraOpThreads} threads.
   */
  static TimedOutput timedRun(String modelPath, List<ModelInput> inputs, int intraOpThreads, Dataset data, int from,
      int to) {
    long start = System.nanoTime();
    Session session = acquire(modelPath, inputs, intraOpThreads);
    double sessionSeconds = session.runner.sessionSeconds();
    boolean opened = session.takeOpening();
    long run = System.nanoTime();
    try {
      synchronized (session) {
        ModelRunner.Output output = session.runner.run(data, from, to);
        // A session opened by another task is waited for, not created here: that wait counts as running.
        double runSeconds = (System.nanoTime() - (opened ? run : start)) / 1e9;
        return new TimedOutput(output, opened ? sessionSeconds : 0, runSeconds);
      }
    } finally {
      release(session);
    }
  }

  private static Session acquire(String modelPath, List<ModelInput> inputs, int intraOpThreads) {
    synchronized (RUNNERS) {
      Session session = RUNNERS.get(modelPath);
      if (session == null) {
        session = new Session(ModelRunner.open(Path.of(modelPath), inputs, intraOpThreads));
        openSessions++;
        RUNNERS.put(modelPath, session);
        evictBeyondLimit(session);
      }
      session.users++;
      return session;
    }
  }

  private static void release(Session session) {
    synchronized (RUNNERS) {
      session.users--;
      if (session.evicted && session.users == 0) {
        close(session);
      }
    }
  }

  /** Drops least recently used sessions above the limit, idle ones first; a busy one closes at its last release. */
  private static void evictBeyondLimit(Session keep) {
    while (RUNNERS.size() > MAX_SESSIONS) {
      String victim = null;
      for (Map.Entry<String, Session> entry : RUNNERS.entrySet()) {
        if (entry.getValue() != keep && (victim == null || entry.getValue().users == 0)) {
          victim = entry.getKey();
          if (entry.getValue().users == 0) {
            break;
          }
        }
      }
      retire(RUNNERS.remove(victim));
    }
  }

  /** Under the RUNNERS lock: closes the session now if unused, else when its last user releases it. */
  private static void retire(Session session) {
    session.evicted = true;
    if (session.users == 0) {
      close(session);
    }
  }

  private static void close(Session session) {
    openSessions--;
    session.runner.close();
  }

  /** How many sessions are open (in the cache, or evicted and still leased); for tests. */
  static int openSessions() {
    synchronized (RUNNERS) {
      return openSessions;
    }
  }

  /** The session limit a worker keeps to (exceeded only while evicted sessions finish their runs). */
  static int maxSessions() {
    return MAX_SESSIONS;
  }

  /** Forgets a package's session (its file is being replaced); a run still using it finishes first. */
  static void forget(String modelPath) {
    synchronized (RUNNERS) {
      Session session = RUNNERS.remove(modelPath);
      if (session != null) {
        retire(session);
      }
    }
  }
}
