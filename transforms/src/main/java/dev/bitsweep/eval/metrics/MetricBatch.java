package dev.bitsweep.eval.metrics;

import dev.bitsweep.data.NpyArray;
import dev.bitsweep.eval.ModelRunner.Output;
import java.util.Arrays;
import java.util.Map;

/**
 * One batch of evaluation samples as a metric sees it.
 *
 * @param original the original model's outputs by name
 * @param packaged the package's (compressed model's) outputs by name
 * @param labels the batch's labels, or null when the data has none
 * @param inputs the batch's model inputs by input name, as both models were fed them (empty when the caller passes
 *     none: metrics that read no inputs)
 */
public record MetricBatch(Map<String, Output> original, Map<String, Output> packaged, Labels labels,
    Map<String, Input> inputs) {

  /** Samples [from, to) of one model input's data, read when a metric asks for them. */
  public record Input(NpyArray data, int from, int to) {
    /** The batch's shape: the data's, with the first axis the batch's sample count. */
    public long[] shape() {
      long[] shape = data.shape();
      if (shape.length > 0) {
        shape[0] = to - from;
      }
      return shape;
    }

    public String dtype() {
      return data.dtype();
    }

    public long[] longs() {
      return data.longs(from, to);
    }
  }

  public MetricBatch {
    inputs = inputs == null ? Map.of() : Map.copyOf(inputs);
  }

  /** A batch without its inputs, for metrics that read only outputs and labels. */
  public MetricBatch(Map<String, Output> original, Map<String, Output> packaged, Labels labels) {
    this(original, packaged, labels, Map.of());
  }

  /** Both models' values of {@code name}, checked to exist and to have equal shapes. */
  Output[] pair(String name) {
    Output a = original.get(name);
    Output b = packaged.get(name);
    if (a == null || b == null) {
      throw new MetricException("the metric reads output '" + name + "' but the batch holds "
          + (a == null ? original.keySet() : packaged.keySet()) + ": name an output of the model");
    }
    if (!Arrays.equals(a.shape(), b.shape())) {
      throw new MetricException("output '" + name + "' has shape " + Arrays.toString(a.shape())
          + " in the original but " + Arrays.toString(b.shape()) + " in the package");
    }
    return new Output[] {a, b};
  }

  /** The batch's values of model input {@code name}. */
  Input input(String name) {
    Input input = inputs.get(name);
    if (input == null) {
      throw new MetricException("the metric reads model input '" + name + "' but the batch holds "
          + (inputs.isEmpty() ? "no inputs" : "inputs " + inputs.keySet().stream().sorted().toList())
          + ": name an input of the model");
    }
    return input;
  }

  Labels requireLabels(String task) {
    if (labels == null) {
      throw new MetricException("task " + task + " needs labels, but the evaluation data has none");
    }
    return labels;
  }
}
