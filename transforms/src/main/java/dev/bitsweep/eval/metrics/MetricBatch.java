package dev.bitsweep.eval.metrics;

import dev.bitsweep.eval.ModelRunner.Output;
import java.util.Map;

/**
 * One batch of evaluation samples as a metric sees it.
 *
 * @param original the original model's outputs by name
 * @param packaged the package's (compressed model's) outputs by name
 * @param labels the batch's labels, or null when the data has none
 */
public record MetricBatch(Map<String, Output> original, Map<String, Output> packaged, Labels labels) {

  /** Both models' values of {@code name}, checked to exist and to have equal shapes. */
  Output[] pair(String name) {
    Output a = original.get(name);
    Output b = packaged.get(name);
    if (a == null || b == null) {
      throw new MetricException("the metric reads output '" + name + "' but the batch holds "
          + (a == null ? original.keySet() : packaged.keySet()) + ": name an output of the model");
    }
    if (!java.util.Arrays.equals(a.shape(), b.shape())) {
      throw new MetricException("output '" + name + "' has shape " + java.util.Arrays.toString(a.shape())
          + " in the original but " + java.util.Arrays.toString(b.shape()) + " in the package");
    }
    return new Output[] {a, b};
  }

  Labels requireLabels(String task) {
    if (labels == null) {
      throw new MetricException("task " + task + " needs labels, but the evaluation data has none");
    }
    return labels;
  }
}
