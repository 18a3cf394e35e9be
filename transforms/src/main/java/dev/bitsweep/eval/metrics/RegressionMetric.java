package dev.bitsweep.eval.metrics;

import dev.bitsweep.eval.ModelRunner.Output;
import java.io.Serializable;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Task {@code regression}: MSE and MAE of output {@code output} against float targets (one per output element), for
 * the package and the original, and the package's MSE to the original's output. Every element's term is a double
 * computed from the two floats and added exactly (BigDecimal), so the result does not depend on how samples were
 * split into batches or how partials were merged.
 */
public record RegressionMetric(String output) implements Metric<RegressionMetric.Partial> {

  /** Exact sums of squared and absolute errors, and the element count. */
  public record Partial(BigDecimal squared, BigDecimal absolute, BigDecimal baselineSquared,
      BigDecimal baselineAbsolute, BigDecimal squaredToOriginal, long elements) implements Serializable {}

  @Override
  public Partial partial(MetricBatch batch) {
    Output[] pair = batch.pair(output);
    float[] targets = batch.requireLabels("regression").targets();
    if (targets == null || targets.length != pair[0].values().length) {
      throw new MetricException("task regression: output '" + output + "' has shape "
          + Arrays.toString(pair[0].shape()) + " but the targets hold " + (targets == null ? "no floats"
          : batch.labels().targetWidth() + " values per sample") + "; save one float target per output element "
          + "as a .npy [N, ...]");
    }
    BigDecimal sq = BigDecimal.ZERO;
    BigDecimal abs = BigDecimal.ZERO;
    BigDecimal bsq = BigDecimal.ZERO;
    BigDecimal babs = BigDecimal.ZERO;
    BigDecimal toOriginal = BigDecimal.ZERO;
    for (int i = 0; i < targets.length; i++) {
      double e = (double) pair[1].values()[i] - targets[i];
      double be = (double) pair[0].values()[i] - targets[i];
      double d = (double) pair[1].values()[i] - pair[0].values()[i];
      sq = sq.add(new BigDecimal(e * e));
      abs = abs.add(new BigDecimal(Math.abs(e)));
      bsq = bsq.add(new BigDecimal(be * be));
      babs = babs.add(new BigDecimal(Math.abs(be)));
      toOriginal = toOriginal.add(new BigDecimal(d * d));
    }
    return new Partial(sq, abs, bsq, babs, toOriginal, targets.length);
  }

  @Override
  public Partial combine(Partial a, Partial b) {
    return new Partial(a.squared.add(b.squared), a.absolute.add(b.absolute), a.baselineSquared.add(b.baselineSquared),
        a.baselineAbsolute.add(b.baselineAbsolute), a.squaredToOriginal.add(b.squaredToOriginal),
        a.elements + b.elements);
  }

  @Override
  public Map<String, Double> finish(Partial p) {
    Map<String, Double> values = new LinkedHashMap<>();
    values.put("mse", mean(p.squared, p.elements));
    values.put("mae", mean(p.absolute, p.elements));
    values.put("baseline_mse", mean(p.baselineSquared, p.elements));
    values.put("baseline_mae", mean(p.baselineAbsolute, p.elements));
    values.put("mse_to_original", mean(p.squaredToOriginal, p.elements));
    return values;
  }

  private static Double mean(BigDecimal sum, long n) {
    return n == 0 ? null : sum.divide(BigDecimal.valueOf(n), MathContext.DECIMAL64).doubleValue();
  }
}
