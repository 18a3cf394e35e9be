package dev.bitsweep.eval.metrics;

import dev.bitsweep.eval.ModelRunner.Output;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Task {@code agreement}: the share of samples where the package's top-1 class equals the original's, on output
 * {@code output} along {@code classAxis}. An output with one element per sample is an error (agreement would be 1.0
 * whatever the package computes).
 */
public record AgreementMetric(String output, int classAxis) implements CountingMetric {
  @Override
  public Counts partial(MetricBatch batch) {
    Output[] pair = batch.pair(output);
    int classes = ClassScores.severalClasses("agreement", output, pair[0], classAxis, "one element per sample: its "
        + "top-1 is always the same, so agreement would be 1.0 whatever the package computes; use task binary "
        + "(decision at a threshold) or regression (MSE to targets and to the original) for a one-score output");
    int n = (int) pair[0].shape()[0];
    long agreements = 0;
    for (int s = 0; s < n; s++) {
      agreements += ClassScores.argmax(pair[0].values(), s, classes)
          == ClassScores.argmax(pair[1].values(), s, classes) ? 1 : 0;
    }
    return new Counts(new long[] {n, agreements});
  }

  @Override
  public Map<String, Double> finish(Counts c) {
    Map<String, Double> values = new LinkedHashMap<>();
    values.put("top1_agreement", Counts.ratio(c.get(1), c.get(0)));
    return values;
  }
}
