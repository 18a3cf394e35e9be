package dev.bitsweep.pipeline;

import dev.bitsweep.eval.OutputComparison;
import java.io.Serializable;

/**
 * The comparison of one batch, with the seconds it took; or why the batch could not be evaluated
 * ({@code comparison == null}); with the task metric's partial, and for activation-quantized packages both
 * once more with ONNX Runtime's QDQ fusion disabled. Of its seconds, {@code sessionSeconds} went into creating the
 * package's ONNX Runtime sessions (non-zero only for the task that opened one) and {@code runSeconds} into running
 * them.
 */
public record EvalPartial(int batch, OutputComparison comparison, double seconds, String error,
    Serializable metric, OutputComparison unfusedComparison, Serializable unfusedMetric, double sessionSeconds,
    double runSeconds) implements Serializable {

  public EvalPartial(int batch, OutputComparison comparison, double seconds, String error) {
    this(batch, comparison, seconds, error, null, null, null, 0, 0);
  }

  public static EvalPartial of(int batch, OutputComparison comparison, double seconds) {
    return new EvalPartial(batch, comparison, seconds, null);
  }

  /**
   * @param metric the task metric's partial of this batch (null for task embedding)
   * @param unfusedComparison for an activation-quantized package, the comparison with the QDQ fusion disabled;
   *     else null
   * @param unfusedMetric likewise, the metric's partial
   */
  public static EvalPartial of(int batch, OutputComparison comparison, Serializable metric,
      OutputComparison unfusedComparison, Serializable unfusedMetric, double seconds) {
    return new EvalPartial(batch, comparison, seconds, null, metric, unfusedComparison, unfusedMetric, 0, 0);
  }

  public static EvalPartial failed(int batch, String error, double seconds) {
    return new EvalPartial(batch, null, seconds, error);
  }

  /** This partial with the package sessions' creation and run seconds. */
  public EvalPartial withSessionTimes(double sessionSeconds, double runSeconds) {
    return new EvalPartial(batch, comparison, seconds, error, metric, unfusedComparison, unfusedMetric,
        sessionSeconds, runSeconds);
  }
}
