package dev.bitsweep.eval.metrics;

import dev.bitsweep.eval.ModelRunner.Output;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Task {@code classification}: top-1 and top-5 accuracy of the package and of the original against class labels,
 * and top-1 agreement between them, on output {@code output} with class scores along {@code classAxis}. Ties rank
 * the lower class index first (like argmax). top-5 is null when the output has 5 classes or fewer (it would be 1).
 * A single-column output and labels outside the output's classes are errors.
 */
public record ClassificationMetric(String output, int classAxis) implements Metric<Counts> {
  public static final int TOP_K = 5;
  private static final int SAMPLES = 0;
  private static final int TOP1 = 1;
  private static final int TOP5 = 2;
  private static final int BASELINE_TOP1 = 3;
  private static final int BASELINE_TOP5 = 4;
  private static final int AGREEMENTS = 5;
  private static final int CLASSES = 6;

  @Override
  public Counts partial(MetricBatch batch) {
    Output[] pair = batch.pair(output);
    int classes = ClassScores.severalClasses("classification", output, pair[0], classAxis, "a single column: top-1 "
        + "is then always class 0 and accuracy only the share of label 0; use task binary (a score and a threshold) "
        + "for a one-score output, or name the output that holds one score per class");
    long[] labels = batch.requireLabels("classification").classes();
    if (labels == null) {
      throw new MetricException("task classification needs class-id labels (labels.npy, int [N])");
    }
    int n = (int) pair[0].shape()[0];
    long[] c = new long[7];
    for (int s = 0; s < n; s++) {
      long label = labels[s];
      if (label < 0 || label >= classes) {
        throw new MetricException("labels hold class " + label + " but output '" + output + "' has " + classes
            + " classes (0.." + (classes - 1) + ") along class_axis " + classAxis + ": labels must be 0-based class "
            + "indices of that output (check the output name, the class axis, or shift 1-based labels by -1)");
      }
      int packageRank = ClassScores.rank(pair[1].values(), s, classes, (int) label);
      int baselineRank = ClassScores.rank(pair[0].values(), s, classes, (int) label);
      c[SAMPLES]++;
      c[TOP1] += packageRank == 0 ? 1 : 0;
      c[TOP5] += packageRank < TOP_K ? 1 : 0;
      c[BASELINE_TOP1] += baselineRank == 0 ? 1 : 0;
      c[BASELINE_TOP5] += baselineRank < TOP_K ? 1 : 0;
      c[AGREEMENTS] += ClassScores.argmax(pair[0].values(), s, classes)
          == ClassScores.argmax(pair[1].values(), s, classes) ? 1 : 0;
    }
    c[CLASSES] = classes;
    return new Counts(c);
  }

  @Override
  public Counts combine(Counts a, Counts b) {
    Counts sum = a.plus(b);
    sum.values()[CLASSES] = Math.max(a.get(CLASSES), b.get(CLASSES));
    return sum;
  }

  @Override
  public Map<String, Double> finish(Counts c) {
    boolean topKMeans = c.get(CLASSES) > TOP_K;
    Map<String, Double> values = new LinkedHashMap<>();
    values.put("top1_accuracy", Counts.ratio(c.get(TOP1), c.get(SAMPLES)));
    values.put("top5_accuracy", topKMeans ? Counts.ratio(c.get(TOP5), c.get(SAMPLES)) : null);
    values.put("baseline_top1_accuracy", Counts.ratio(c.get(BASELINE_TOP1), c.get(SAMPLES)));
    values.put("baseline_top5_accuracy", topKMeans ? Counts.ratio(c.get(BASELINE_TOP5), c.get(SAMPLES)) : null);
    values.put("top1_agreement", Counts.ratio(c.get(AGREEMENTS), c.get(SAMPLES)));
    return values;
  }
}
