package dev.bitsweep.eval.metrics;

import dev.bitsweep.eval.ModelRunner.Output;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The example of a user metric (documented in the README): the largest absolute change of any element of an output,
 * and how many samples changed at all. A user ships a class like this in a jar on the classpath and names it in the
 * spec: {@code task: user, class: com.example.LargestChangeMetric, options: {output: y}}.
 */
public final class LargestChangeMetric implements Metric<LargestChangeMetric.Partial> {
  private String output;

  /** The partial: the largest change so far and the count of changed samples. */
  public record Partial(double largest, long changed) implements java.io.Serializable {}

  @Override
  public void configure(Map<String, Object> options) {
    if (!(options.get("output") instanceof String name)) {
      throw new MetricException("LargestChangeMetric needs options: {output: <output name>}");
    }
    output = name;
  }

  @Override
  public Partial partial(MetricBatch batch) {
    Output original = batch.original().get(output);
    Output packaged = batch.packaged().get(output);
    int n = (int) original.shape()[0];
    int per = original.values().length / n;
    double largest = 0;
    long changed = 0;
    for (int s = 0; s < n; s++) {
      boolean any = false;
      for (int i = s * per; i < (s + 1) * per; i++) {
        double d = Math.abs(original.values()[i] - packaged.values()[i]);
        largest = Math.max(largest, d);
        any |= d != 0;
      }
      changed += any ? 1 : 0;
    }
    return new Partial(largest, changed);
  }

  @Override
  public Partial combine(Partial a, Partial b) {
    return new Partial(Math.max(a.largest(), b.largest()), a.changed() + b.changed());
  }

  @Override
  public Map<String, Double> finish(Partial p) {
    Map<String, Double> values = new LinkedHashMap<>();
    values.put("largest_change", p.largest());
    values.put("changed_samples", (double) p.changed());
    return values;
  }
}
