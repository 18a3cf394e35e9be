package dev.bitsweep.pipeline;

import dev.bitsweep.eval.OutputComparison;
import java.io.Serializable;

/**
 * A config's combined evaluation over all batches; when a batch failed, {@code error} says which and why (the
 * comparison then covers only the batches that ran).
 */
public record EvalSummary(OutputComparison comparison, int batches, double seconds, String error)
    implements Serializable {

  public boolean failed() {
    return error != null;
  }
}
