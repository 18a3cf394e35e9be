package dev.bitsweep.plan;

import java.util.List;
import java.util.Objects;

/**
 * The options of one layer in a plan: each a candidate config with the layer's stored bytes under it and the
 * predicted metric loss of compressing that layer alone (positive = worse; 0 for leaving it original).
 */
public record LayerChoices(String layer, List<Option> options) {

  /** One way to store a layer: {@code candidate} names the config ({@code fp32} or the candidate's id). */
  public record Option(String candidate, long bytes, double loss) {
    public Option {
      Objects.requireNonNull(candidate, "candidate");
      if (bytes < 0) {
        throw new IllegalArgumentException("option " + candidate + ": bytes must be >= 0, got " + bytes);
      }
      if (!Double.isFinite(loss)) {
        throw new IllegalArgumentException("option " + candidate + ": the predicted loss must be finite, got " + loss);
      }
    }
  }

  public LayerChoices {
    Objects.requireNonNull(layer, "layer");
    options = List.copyOf(options);
    if (options.isEmpty()) {
      throw new IllegalArgumentException("layer " + layer + " has no options; give it at least its original storage");
    }
  }
}
