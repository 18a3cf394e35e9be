package dev.bitsweep.eval.metrics;

/** A metric whose partial is {@link Counts}: partials combine by adding them up. */
public interface CountingMetric extends Metric<Counts> {
  @Override
  default Counts combine(Counts a, Counts b) {
    return a.plus(b);
  }
}
