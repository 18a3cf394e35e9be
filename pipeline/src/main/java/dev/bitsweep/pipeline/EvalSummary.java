package dev.bitsweep.pipeline;

import dev.bitsweep.eval.OutputComparison;
import java.io.Serializable;

/**
 * A config's combined evaluation over all batches; when a batch failed, {@code error} says which and why (the
 * comparison then covers only the batches that ran). {@code seconds} is the evaluation tasks' wall time, of which
 * {@code sessionSeconds} created the package's sessions and {@code runSeconds} ran them.
 */
public record EvalSummary(OutputComparison comparison, int batches, double seconds, String error,
    double sessionSeconds, double runSeconds) implements Serializable {

  public EvalSummary(OutputComparison comparison, int batches, double seconds, String error) {
    this(comparison, batches, seconds, error, 0, 0);
  }

  public boolean failed() {
    return error != null;
  }
}
