package dev.bitsweep.eval.metrics;

/** A metric that cannot mean anything for this model, output or labels; the message says why and what to do. */
public class MetricException extends IllegalArgumentException {
  public MetricException(String message) {
    super(message);
  }

  public MetricException(String message, Throwable cause) {
    super(message, cause);
  }
}
