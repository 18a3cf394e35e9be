package dev.bitsweep.eval.metrics;

import dev.bitsweep.eval.ModelRunner.Output;
import java.io.Serializable;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Task {@code binary}: a score output ({@code output}, one value per sample, higher = class 1) against 0/1 labels:
 * ROC AUC (exact, ties by mid-rank) and accuracy of the decision {@code score >= threshold}, for the package and the
 * original, and the share of samples whose decision is the same in both.
 */
public record BinaryMetric(String output, double threshold) implements Metric<BinaryMetric.Partial> {

  /** Score counts of both models and decision counts [samples, correct, baseline correct, agreements]. */
  public record Partial(ScoreCounts packaged, ScoreCounts original, Counts decisions) implements Serializable {}

  @Override
  public Partial partial(MetricBatch batch) {
    Output[] pair = batch.pair(output);
    long[] shape = pair[0].shape();
    int n = (int) shape[0];
    if (pair[0].values().length != n) {
      throw new MetricException("task binary reads one score per sample, but output '" + output + "' has shape "
          + Arrays.toString(shape) + "; name a [N] or [N, 1] score output (for per-class scores use classification)");
    }
    long[] labels = batch.requireLabels("binary").classes();
    if (labels == null) {
      throw new MetricException("task binary needs 0/1 labels (labels.npy, int [N])");
    }
    ScoreCounts packaged = ScoreCounts.empty();
    ScoreCounts original = ScoreCounts.empty();
    long[] d = new long[4];
    for (int s = 0; s < n; s++) {
      if (labels[s] != 0 && labels[s] != 1) {
        throw new MetricException("task binary needs labels 0 or 1, but sample " + s + " of the batch has label "
            + labels[s] + " for output '" + output + "'; map the positive class to 1 and the rest to 0");
      }
      boolean positive = labels[s] == 1;
      float p = pair[1].values()[s];
      float o = pair[0].values()[s];
      packaged.add(p, positive);
      original.add(o, positive);
      boolean decision = p >= threshold;
      boolean baselineDecision = o >= threshold;
      d[0]++;
      d[1] += decision == positive ? 1 : 0;
      d[2] += baselineDecision == positive ? 1 : 0;
      d[3] += decision == baselineDecision ? 1 : 0;
    }
    return new Partial(packaged, original, new Counts(d));
  }

  @Override
  public Partial combine(Partial a, Partial b) {
    return new Partial(a.packaged.plus(b.packaged), a.original.plus(b.original), a.decisions.plus(b.decisions));
  }

  @Override
  public Map<String, Double> finish(Partial p) {
    Map<String, Double> values = new LinkedHashMap<>();
    values.put("roc_auc", p.packaged.auc());
    values.put("accuracy_at_threshold", Counts.ratio(p.decisions.get(1), p.decisions.get(0)));
    values.put("baseline_roc_auc", p.original.auc());
    values.put("baseline_accuracy_at_threshold", Counts.ratio(p.decisions.get(2), p.decisions.get(0)));
    values.put("decision_agreement", Counts.ratio(p.decisions.get(3), p.decisions.get(0)));
    return values;
  }
}
