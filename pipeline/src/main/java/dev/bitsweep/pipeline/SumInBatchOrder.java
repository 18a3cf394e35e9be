package dev.bitsweep.pipeline;

import dev.bitsweep.eval.OutputComparison;
import dev.bitsweep.eval.metrics.Metric;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.transforms.Combine;

/**
 * Sums per-batch comparisons in batch order, so floating-point totals are identical whatever order the runner
 * delivered the batches in (the same results on every runner and parallelism). A retried batch replaces itself; the
 * first failed batch (in batch order) is the summary's error.
 */
public final class SumInBatchOrder extends Combine.CombineFn<EvalPartial, TreeMap<Integer, EvalPartial>, EvalSummary> {
  private final Metric<Serializable> metric;

  /** Output comparisons only. */
  public SumInBatchOrder() {
    this(null);
  }

  /** Also combines the task metric's partials (in batch order) and finishes them. */
  @SuppressWarnings("unchecked")
  public SumInBatchOrder(Metric<?> metric) {
    this.metric = (Metric<Serializable>) metric;
  }

  @Override
  @SuppressWarnings("unchecked")
  public Coder<TreeMap<Integer, EvalPartial>> getAccumulatorCoder(CoderRegistry registry, Coder<EvalPartial> inputCoder) {
    return SerializableCoder.of((Class<TreeMap<Integer, EvalPartial>>) (Class<?>) TreeMap.class);
  }

  @Override
  public Coder<EvalSummary> getDefaultOutputCoder(CoderRegistry registry, Coder<EvalPartial> inputCoder) {
    return SerializableCoder.of(EvalSummary.class);
  }

  @Override
  public TreeMap<Integer, EvalPartial> createAccumulator() {
    return new TreeMap<>();
  }

  @Override
  public TreeMap<Integer, EvalPartial> addInput(TreeMap<Integer, EvalPartial> accumulator, EvalPartial input) {
    accumulator.put(input.batch(), input);
    return accumulator;
  }

  @Override
  public TreeMap<Integer, EvalPartial> mergeAccumulators(Iterable<TreeMap<Integer, EvalPartial>> accumulators) {
    TreeMap<Integer, EvalPartial> merged = new TreeMap<>();
    accumulators.forEach(merged::putAll);
    return merged;
  }

  @Override
  public EvalSummary extractOutput(TreeMap<Integer, EvalPartial> accumulator) {
    OutputComparison total = OutputComparison.EMPTY;
    OutputComparison unfused = null;
    Serializable metricTotal = null;
    Serializable unfusedMetricTotal = null;
    double seconds = 0;
    double sessionSeconds = 0;
    double runSeconds = 0;
    String error = null;
    for (EvalPartial partial : accumulator.values()) {
      if (partial.error() != null) {
        error = error != null ? error : "evaluation of batch " + partial.batch() + " failed: " + partial.error();
      } else {
        total = total.plus(partial.comparison());
        if (partial.unfusedComparison() != null) {
          unfused = (unfused == null ? OutputComparison.EMPTY : unfused).plus(partial.unfusedComparison());
        }
        metricTotal = combine(metricTotal, partial.metric());
        unfusedMetricTotal = combine(unfusedMetricTotal, partial.unfusedMetric());
      }
      seconds += partial.seconds();
      sessionSeconds += partial.sessionSeconds();
      runSeconds += partial.runSeconds();
    }
    return new EvalSummary(total, accumulator.size(), seconds, error, finish(metricTotal), unfused,
        finish(unfusedMetricTotal), sessionSeconds, runSeconds);
  }

  private Serializable combine(Serializable total, Serializable partial) {
    if (metric == null || partial == null) {
      return total;
    }
    return total == null ? partial : metric.combine(total, partial);
  }

  private Map<String, Double> finish(Serializable total) {
    return metric == null || total == null ? null : new LinkedHashMap<>(metric.finish(total));
  }
}
