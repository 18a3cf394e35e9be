package dev.bitsweep.pipeline;

import dev.bitsweep.eval.OutputComparison;
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
    double seconds = 0;
    double sessionSeconds = 0;
    double runSeconds = 0;
    String error = null;
    for (EvalPartial partial : accumulator.values()) {
      if (partial.error() != null) {
        error = error != null ? error : "evaluation of batch " + partial.batch() + " failed: " + partial.error();
      } else {
        total = total.plus(partial.comparison());
      }
      seconds += partial.seconds();
      sessionSeconds += partial.sessionSeconds();
      runSeconds += partial.runSeconds();
    }
    return new EvalSummary(total, accumulator.size(), seconds, error, sessionSeconds, runSeconds);
  }
}
