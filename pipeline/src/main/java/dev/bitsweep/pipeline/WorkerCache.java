package dev.bitsweep.pipeline;

import dev.bitsweep.calibrate.LayerStatistics;
import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.metrics.Labels;
import dev.bitsweep.onnx.OnnxModel;
import dev.bitsweep.spec.SweepSpec;
import java.lang.ref.SoftReference;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a worker JVM reads once and shares between DoFn instances: parsed models, datasets, calibration statistics,
 * labels. ONNX Runtime sessions are {@link EvalSessions}.
 */
final class WorkerCache {
  private static final Map<String, SoftReference<OnnxModel>> MODELS = new ConcurrentHashMap<>();
  private static final Map<String, Dataset> DATASETS = new ConcurrentHashMap<>();
  private static final Map<String, Labels> LABELS = new ConcurrentHashMap<>();
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

  static Labels labels(SweepSpec.Task task, String path) {
    return LABELS.computeIfAbsent(task + "|" + path, k -> Evaluation.readLabels(task, Path.of(path)));
  }
}
