package dev.bitsweep.pipeline;

import dev.bitsweep.eval.OutputComparison;
import java.io.Serializable;

/**
 * The comparison of one batch, with the seconds it took; or why the batch could not be evaluated
 * ({@code comparison == null}). Of those seconds, {@code sessionSeconds} went into creating the package's ONNX
 * Runtime session (non-zero only for the task that opened it) and {@code runSeconds} into running it.
 */
public record EvalPartial(int batch, OutputComparison comparison, double seconds, String error,
    double sessionSeconds, double runSeconds) implements Serializable {

  public EvalPartial(int batch, OutputComparison comparison, double seconds, String error) {
    this(batch, comparison, seconds, error, 0, 0);
  }

  public static EvalPartial of(int batch, OutputComparison comparison, double seconds) {
    return new EvalPartial(batch, comparison, seconds, null);
  }

  public static EvalPartial failed(int batch, String error, double seconds) {
    return new EvalPartial(batch, null, seconds, error);
  }

  /** This partial with the package session's creation and run seconds. */
  public EvalPartial withSessionTimes(double sessionSeconds, double runSeconds) {
    return new EvalPartial(batch, comparison, seconds, error, sessionSeconds, runSeconds);
  }
}
