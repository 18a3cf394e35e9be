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
 * Sessions are kept in a small LRU because every package is a whole model.
 */
final class WorkerCache {
  private static final int MAX_SESSIONS = 4;
  private static final Map<String, SoftReference<OnnxModel>> MODELS = new ConcurrentHashMap<>();
  private static final Map<String, Dataset> DATASETS = new ConcurrentHashMap<>();
  private static final Map<String, ModelRunner> RUNNERS = new LinkedHashMap<>(16, 0.75f, true);
  private static final Map<String, SoftReference<ModelRunner.Output>> ORIGINAL_OUTPUTS = new ConcurrentHashMap<>();
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

  /** Runs a model on samples [from, to), holding the runner's lock (an ORT session is used by one caller at a time here). */
  static ModelRunner.Output run(String modelPath, List<ModelInput> inputs, Dataset data, int from, int to) {
    ModelRunner runner;
    synchronized (RUNNERS) {
      runner = RUNNERS.get(modelPath);
      if (runner == null) {
        runner = ModelRunner.open(Path.of(modelPath), inputs);
        RUNNERS.put(modelPath, runner);
        if (RUNNERS.size() > MAX_SESSIONS) {
          var eldest = RUNNERS.entrySet().iterator().next();
          RUNNERS.remove(eldest.getKey());
          ModelRunner closing = eldest.getValue();
          synchronized (closing) {
            closing.close();
          }
        }
      }
    }
    synchronized (runner) {
      return runner.run(data, from, to);
    }
  }

  static ModelRunner.Output originalOutput(String modelPath, List<ModelInput> inputs, Dataset data, int from, int to) {
    String key = modelPath + "|" + data.directory() + "|" + from + "|" + to;
    SoftReference<ModelRunner.Output> cached = ORIGINAL_OUTPUTS.get(key);
    ModelRunner.Output output = cached == null ? null : cached.get();
    if (output == null) {
      output = run(modelPath, inputs, data, from, to);
      ORIGINAL_OUTPUTS.put(key, new SoftReference<>(output));
    }
    return output;
  }

  /** Forgets a package's session (its file is being replaced). */
  static void forget(String modelPath) {
    synchronized (RUNNERS) {
      ModelRunner runner = RUNNERS.remove(modelPath);
      if (runner != null) {
        synchronized (runner) {
          runner.close();
        }
      }
    }
  }
}
