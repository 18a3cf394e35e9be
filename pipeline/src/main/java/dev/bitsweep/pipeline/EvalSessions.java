package dev.bitsweep.pipeline;

import dev.bitsweep.data.Dataset;
import dev.bitsweep.data.ModelInput;
import dev.bitsweep.eval.ModelRunner.Output;
import dev.bitsweep.eval.metrics.Labels;
import dev.bitsweep.eval.metrics.OutputRunner;
import dev.bitsweep.eval.metrics.SessionSettings;
import dev.bitsweep.spec.SweepSpec;
import java.lang.ref.SoftReference;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The evaluation's ONNX Runtime sessions in a worker JVM, one per (model file, session settings, output), in a
 * small LRU because every package is a whole model; the original model's outputs per batch and the labels are kept
 * while memory allows.
 */
final class EvalSessions {
  private static final int MAX_SESSIONS = 4;
  private static final Map<String, OutputRunner> RUNNERS = new LinkedHashMap<>(16, 0.75f, true);
  private static final Map<String, SoftReference<Map<String, Output>>> ORIGINAL = new ConcurrentHashMap<>();
  private static final Map<String, Labels> LABELS = new ConcurrentHashMap<>();

  private EvalSessions() {}

  /** {@code output} of {@code modelPath} on samples [from, to) under {@code settings}. */
  static Map<String, Output> run(String modelPath, SessionSettings settings, String output, List<ModelInput> inputs,
      Dataset data, int from, int to) {
    String key = modelPath + "|" + settings + "|" + output;
    OutputRunner runner;
    synchronized (RUNNERS) {
      runner = RUNNERS.get(key);
      if (runner == null) {
        runner = OutputRunner.open(Path.of(modelPath), inputs, Set.of(output), settings);
        RUNNERS.put(key, runner);
        if (RUNNERS.size() > MAX_SESSIONS) {
          var eldest = RUNNERS.entrySet().iterator().next();
          RUNNERS.remove(eldest.getKey());
          OutputRunner closing = eldest.getValue();
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

  /** The original model's {@code output} on samples [from, to), with the fusion disabled (it has no QDQ). */
  static Map<String, Output> original(String modelPath, String output, List<ModelInput> inputs, Dataset data, int from,
      int to) {
    String key = modelPath + "|" + output + "|" + data.directory() + "|" + from + "|" + to;
    SoftReference<Map<String, Output>> cached = ORIGINAL.get(key);
    Map<String, Output> outputs = cached == null ? null : cached.get();
    if (outputs == null) {
      outputs = run(modelPath, SessionSettings.QDQ_DISABLED, output, inputs, data, from, to);
      ORIGINAL.put(key, new SoftReference<>(outputs));
    }
    return outputs;
  }

  static Labels labels(SweepSpec.Task task, String path) {
    return LABELS.computeIfAbsent(task + "|" + path, k -> Evaluation.readLabels(task, Path.of(path)));
  }

  /** Forgets every session of a package file that is being replaced. */
  static void forget(String modelPath) {
    synchronized (RUNNERS) {
      var entries = RUNNERS.entrySet().iterator();
      while (entries.hasNext()) {
        var entry = entries.next();
        if (entry.getKey().startsWith(modelPath + "|")) {
          entries.remove();
          synchronized (entry.getValue()) {
            entry.getValue().close();
          }
        }
      }
    }
  }
}
