package dev.bitsweep.search;

import java.util.Locale;

/**
 * What a plan must achieve on the task's metric: a maximum drop (or, for lower-is-better metrics, increase) from the
 * original model, or an absolute minimum (maximum). Internally a budget on the <em>loss</em>, the metric's distance
 * from the original in its bad direction, which the per-layer losses add up to.
 */
public record Budget(Metric metric, Kind kind, double value) {

  public enum Kind { MAX_DROP, MAX_INCREASE, MIN, MAX }

  /** The measured metrics a budget may name, with the direction they improve in. */
  public enum Metric {
    ACCURACY(true), AGREEMENT(true), EMBEDDING_COSINE(true), OUTPUT_SNR_DB(true), PERPLEXITY(false);

    final boolean higherIsBetter;

    Metric(boolean higherIsBetter) {
      this.higherIsBetter = higherIsBetter;
    }

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    public boolean higherIsBetter() {
      return higherIsBetter;
    }
  }

  /**
   * A metric value's loss relative to the original. Output SNR is turned into the relative noise power 10^(-snr/10),
   * which (for independent per-layer errors) adds up across layers the way an additive prediction needs; perplexity
   * into ln(perplexity / baseline), the increase of the mean next-token NLL, which the layers' increases add up to
   * (their perplexity ratios multiply).
   */
  public static double loss(Metric metric, double baseline, double value) {
    if (metric == Metric.OUTPUT_SNR_DB) {
      return Math.pow(10, -value / 10);
    }
    if (metric == Metric.PERPLEXITY) {
      return Math.log(value / baseline);
    }
    return metric.higherIsBetter ? baseline - value : value - baseline;
  }

  /** The metric value a total loss corresponds to (the inverse of {@link #loss}). */
  public static double metricOf(Metric metric, double baseline, double loss) {
    if (metric == Metric.OUTPUT_SNR_DB) {
      return loss <= 0 ? Double.POSITIVE_INFINITY : -10 * Math.log10(loss);
    }
    if (metric == Metric.PERPLEXITY) {
      return baseline * Math.exp(loss);
    }
    return metric.higherIsBetter ? baseline - loss : baseline + loss;
  }

  /** The largest total loss that still meets this budget. */
  public double maxLoss(double baseline) {
    return switch (kind) {
      case MAX_DROP, MAX_INCREASE -> metric == Metric.PERPLEXITY ? loss(metric, baseline, baseline + value) : value;
      case MIN, MAX -> loss(metric, baseline, value);
    };
  }

  public boolean isMetBy(double baseline, double measured) {
    return switch (kind) {
      case MAX_DROP -> baseline - measured <= value;
      case MAX_INCREASE -> measured - baseline <= value;
      case MIN -> measured >= value;
      case MAX -> measured <= value;
    };
  }

  public String describe() {
    return metric.label() + " " + switch (kind) {
      case MAX_DROP -> "max_drop " + value;
      case MAX_INCREASE -> "max_increase " + value;
      case MIN -> "min " + value;
      case MAX -> "max " + value;
    };
  }
}
