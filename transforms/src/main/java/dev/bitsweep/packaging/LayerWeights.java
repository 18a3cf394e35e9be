package dev.bitsweep.packaging;

import dev.bitsweep.compress.CompressedWeights;
import dev.bitsweep.layer.Layer;
import java.util.Objects;

/** One compressed layer to write into a package, with its weight SNR for the manifest. */
public record LayerWeights(Layer layer, CompressedWeights weights, double weightSnrDb) {
  public LayerWeights {
    Objects.requireNonNull(layer, "layer");
    Objects.requireNonNull(weights, "weights");
  }
}
