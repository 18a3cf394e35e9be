package dev.bitsweep.packaging;

import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.layer.Layer;
import java.util.Objects;

/**
 * One compressed layer to write into a package, with its weight SNR and, when its config's fallback changed the
 * config to fit it, what was applied (else null), for the manifest.
 */
public record LayerWeights(Layer layer, CompressedWeights weights, double weightSnrDb, String fallback) {
  public LayerWeights {
    Objects.requireNonNull(layer, "layer");
    Objects.requireNonNull(weights, "weights");
  }

  public LayerWeights(Layer layer, CompressedWeights weights, double weightSnrDb) {
    this(layer, weights, weightSnrDb, null);
  }
}
