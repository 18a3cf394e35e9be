package dev.bitsweep.eval.metrics;

import java.io.Serializable;
import java.util.Map;

/**
 * A task metric: each batch of evaluation samples gives a partial, partials combine (in any grouping and order, with
 * the same result), and the combined partial finishes into named values. A user's metric implements this interface
 * in a jar on the classpath and is named in the spec by class name ({@link Metrics#load}); it needs a public no-arg
 * constructor and gets the spec's options through {@link #configure}.
 *
 * @param <P> the partial: serializable, so it can travel between workers
 */
public interface Metric<P extends Serializable> extends Serializable {
  /** The partial of one batch: the original model's outputs, the package's outputs and the batch's labels. */
  P partial(MetricBatch batch);

  /** Both partials together; must be commutative and associative. */
  P combine(P a, P b);

  /** The metric values by column name; null where a value cannot mean anything for these samples. */
  Map<String, Double> finish(P partial);

  /** The spec's options for this metric (user metrics); the default accepts none. */
  default void configure(Map<String, Object> options) {
    if (!options.isEmpty()) {
      throw new MetricException(getClass().getName() + " takes no options, got " + options.keySet());
    }
  }
}
