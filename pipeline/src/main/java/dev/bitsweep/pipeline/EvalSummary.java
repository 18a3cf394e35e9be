package dev.bitsweep.pipeline;

import dev.bitsweep.eval.OutputComparison;
import java.io.Serializable;
import java.util.Map;

/**
 * A config's combined evaluation over all batches; when a batch failed, {@code error} says which and why (the
 * comparison then covers only the batches that ran). {@code metrics} are the task metric's finished values (null
 * for task embedding); the unfused fields are set for activation-quantized packages: the same, measured with
 * ONNX Runtime's QDQ fusion disabled. Of {@code seconds}, the evaluation tasks' wall time, {@code sessionSeconds}
 * created the package's sessions and {@code runSeconds} ran them.
 */
public record EvalSummary(OutputComparison comparison, int batches, double seconds, String error,
    Map<String, Double> metrics, OutputComparison unfusedComparison, Map<String, Double> unfusedMetrics,
    double sessionSeconds, double runSeconds) implements Serializable {

  public EvalSummary(OutputComparison comparison, int batches, double seconds, String error) {
    this(comparison, batches, seconds, error, null, null, null, 0, 0);
  }

  public EvalSummary(OutputComparison comparison, int batches, double seconds, String error,
      Map<String, Double> metrics, OutputComparison unfusedComparison, Map<String, Double> unfusedMetrics) {
    this(comparison, batches, seconds, error, metrics, unfusedComparison, unfusedMetrics, 0, 0);
  }

  public boolean failed() {
    return error != null;
  }
}
