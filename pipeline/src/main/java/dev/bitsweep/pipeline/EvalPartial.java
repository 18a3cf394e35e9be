package dev.bitsweep.pipeline;

import dev.bitsweep.eval.OutputComparison;
import java.io.Serializable;

/**
 * The comparison of one batch, with the seconds it took; or why the batch could not be evaluated
 * ({@code comparison == null}).
 */
public record EvalPartial(int batch, OutputComparison comparison, double seconds, String error)
    implements Serializable {

  public static EvalPartial of(int batch, OutputComparison comparison, double seconds) {
    return new EvalPartial(batch, comparison, seconds, null);
  }

  public static EvalPartial failed(int batch, String error, double seconds) {
    return new EvalPartial(batch, null, seconds, error);
  }
}
